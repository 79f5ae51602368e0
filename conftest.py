"""Repository-wide pytest hooks.

nbval collects solution notebooks when pytest is run with `--nbval-lax solutions/`.
Their cells are marked `notebooks` so the default run (`-m "not notebooks"`, see
pyproject.toml) never executes them by accident and `pytest -m notebooks` selects them.
"""

import pytest


def pytest_collection_modifyitems(config, items):
    for item in items:
        if str(item.fspath).endswith(".ipynb"):
            item.add_marker(pytest.mark.notebooks)
