"""`cnnlabs data info|synth`: where each dataset is found; synthetic stand-ins for a dry run.

`cnnlabs data synth DIR [NAME ...]` writes synthetic MNIST and CIFAR-10 (or the
datasets named) in their genuine formats and real sizes under DIR, marked as
synthetic (`cnnlabs.datasets.synthetic`), for `CNNLABS_DATA_DIR=DIR
CNNLABS_PROFILE=dryrun`. Exit code 0.

`cnnlabs data info [NAME] [--data-dir DIR]`: where each dataset is found, or why not.

Prints `Location.describe()` for the named dataset (all four when NAME is omitted):
the files found and whether their checksums were verified, or every place looked
at with the reason it failed (missing, or the damaged file named). Nothing is
downloaded. Exit code 0 when every requested dataset was found (at least one
split, no damaged file), 1 otherwise; an unknown NAME exits with 2.
"""

from __future__ import annotations


def info(args) -> int:
    """Handler of `cnnlabs data info` (the parser lives in `cnnlabs/cli.py`)."""
    from cnnlabs.datasets.catalog import DATASETS, get_spec
    from cnnlabs.datasets.sources import locate
    from cnnlabs.errors import UserError

    name = getattr(args, "name", None)
    data_dir = getattr(args, "data_dir", None)
    if name is None:
        names = list(DATASETS)
    else:
        try:
            names = [get_spec(name).name]
        except ValueError as exc:
            raise UserError(str(exc)) from None
    status = 0
    for i, dataset in enumerate(names):
        location = locate(dataset, data_dir=data_dir)
        if i:
            print()
        print(location.describe(), end="")
        if not location.found or location.problem is not None:
            status = 1
    return status


def synth(args) -> int:
    """Handler of `cnnlabs data synth DIR [NAME ...]`."""
    from cnnlabs.datasets.synthetic import DEFAULT_DATASETS, write_synthetic
    from cnnlabs.errors import UserError

    try:
        written = write_synthetic(args.directory, args.names or DEFAULT_DATASETS, seed=args.seed)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    for name, folder in written.items():
        print(f"{name}: SYNTHETIC data written to {folder}")
    print(f"Use it with: CNNLABS_DATA_DIR={args.directory} CNNLABS_PROFILE=dryrun")
    return 0


def main(args) -> int:
    """Handler of `cnnlabs data`: dispatches to its subcommand."""
    return synth(args) if args.data_command == "synth" else info(args)
