"""conftest.py's xdist groups: what CI's `--dist loadgroup` steps keep together.

A notebook's nbval cells must run in one kernel (one worker), a module's fixtures are
built once, and the per-lab modules (`XDIST_GROUP_BY_LAB = True`) split by lab.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PLUGIN = """
def pytest_collection_finish(session):
    for item in session.items:
        (mark,) = list(item.iter_markers("xdist_group"))
        name = mark.kwargs.get("name") or mark.args[0]
        print("GROUP", item.nodeid, "->", name.replace(str(session.config.rootpath) + "/", ""))
"""


def test_notebook_cells_share_a_group_and_per_lab_modules_split_by_lab(tmp_path):
    (tmp_path / "showgroups.py").write_text(PLUGIN)
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "showgroups",
            "--collect-only",
            "-m",
            "notebooks or dryrun",
            "--nbval-lax",
            "solutions/06_batchnorm.ipynb",
            "tests/labs/test_lab_notebooks.py",
            "tests/labs/test_lab_mistakes_04_06.py",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    groups = dict(
        line.removeprefix("GROUP ").split(" -> ")
        for line in out.stdout.splitlines()
        if line.startswith("GROUP ")
    )
    cells = {node: g for node, g in groups.items() if node.startswith("solutions/")}
    assert len(cells) > 10 and set(cells.values()) == {"solutions/06_batchnorm.ipynb"}
    by_lab = {g for node, g in groups.items() if "test_lab_notebooks.py" in node}
    assert "tests/labs/test_lab_notebooks.py[06_batchnorm]" in by_lab and len(by_lab) >= 7
    assert (
        groups["tests/labs/test_lab_notebooks.py::test_solution_gets_full_marks[05_resnet]"]
        == groups[
            "tests/labs/test_lab_notebooks.py::test_untouched_student_notebook_gets_zero[05_resnet]"
        ]
    )
    mistakes = {g for node, g in groups.items() if "test_lab_mistakes_04_06.py" in node}
    assert mistakes == {"tests/labs/test_lab_mistakes_04_06.py"}  # one file, one group
