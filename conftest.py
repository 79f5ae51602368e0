"""Repository-wide pytest hooks.

nbval collects solution notebooks when pytest is run with `--nbval-lax solutions/`.
Their cells are marked `notebooks` so the default run (`-m "not notebooks"`, see
pyproject.toml) never executes them by accident and `pytest -m notebooks` selects them.

Every test is also put in an `xdist_group` for `pytest -n 2 --dist loadgroup` (CI's
notebooks step): one group per file, so a notebook's nbval cells share one kernel and a
module's fixtures are built once, as with `--dist loadfile`; a module that sets
`XDIST_GROUP_BY_LAB = True` (its per-lab fixtures cache by lab) is split further, one
group per `lab` parameter, so two workers share its labs.
"""

import pytest


def _group(item) -> str:
    path = str(item.fspath)
    lab = getattr(getattr(item, "callspec", None), "params", {}).get("lab")
    if lab is not None and getattr(getattr(item, "module", None), "XDIST_GROUP_BY_LAB", False):
        return f"{path}[{lab}]"
    return path


def pytest_collection_modifyitems(config, items):
    for item in items:
        if str(item.fspath).endswith(".ipynb"):
            item.add_marker(pytest.mark.notebooks)
        if not any(mark.name == "xdist_group" for mark in item.iter_markers()):
            item.add_marker(pytest.mark.xdist_group(_group(item)))
