"""`python -m autograder COMMAND ...`: the `cnnlabs` command line with the grader's commands.

The same as the `cnnlabs` console script, for a checkout that is not installed
(where the entry points of `cnnlabs.commands` are not registered): the grader's
commands are passed to `cnnlabs.cli.main` directly.
"""

from __future__ import annotations

import sys

from autograder.cli import COMMANDS
from cnnlabs.cli import main

if __name__ == "__main__":
    sys.exit(main(extra=COMMANDS))
