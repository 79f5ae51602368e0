"""Test modules live in folders without ``__init__.py``, so pytest imports them by basename.

Two test files with one basename break collection of the whole suite ("import file
mismatch"); this test names the clash before CI meets it.
"""

from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent


def test_test_module_basenames_are_unique():
    seen = defaultdict(list)
    for path in ROOT.rglob("test_*.py"):
        seen[path.name].append(str(path.relative_to(ROOT)))
    clashes = {name: paths for name, paths in seen.items() if len(paths) > 1}
    assert not clashes, (
        f"test files share a basename, which stops pytest collecting the suite: {clashes}. "
        "Rename one of each pair (e.g. tests/analysis/test_summary_cli.py)."
    )
