"""`cnnlabs data info [NAME] [--data-dir DIR]`: where each dataset is found, or why not.

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
