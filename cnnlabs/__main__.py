from cnnlabs.cli import main

raise SystemExit(main())
