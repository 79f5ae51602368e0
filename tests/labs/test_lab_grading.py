"""The generated labs end to end (smoke profile): run them, grade them.

- every untouched student notebook runs top to bottom without an exception (the
  `...` stubs and `or_reference` keep Run All going) and its check cells say
  "not attempted yet";
- through the autograder's `grade_submission`, each solution notebook gets full
  marks and each untouched student notebook zero.

Marked `notebooks`: each notebook takes about a minute on a 2-core CPU. Run with
`CNNLABS_PROFILE=smoke pytest -m notebooks tests/labs`.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest

from autograder.assign import Lab, available_labs

ROOT = Path(__file__).resolve().parents[2]
MY_LABS = ("01_lenet5", "02_alexnet", "03_vgg_receptive_fields")
LABS = [lab for lab in available_labs(ROOT) if lab in MY_LABS]

pytestmark = pytest.mark.notebooks


@pytest.fixture(autouse=True)
def smoke_profile(monkeypatch):
    monkeypatch.setenv("CNNLABS_PROFILE", "smoke")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    if not os.environ.get("CNNLABS_DATA_DIR"):
        shared = ROOT.parent / "shared" / "datasets"
        if shared.is_dir():
            monkeypatch.setenv("CNNLABS_DATA_DIR", str(shared))


def _run(path: Path, tmp_path: Path) -> nbformat.NotebookNode:
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    return nb


def _stdout(nb) -> str:
    return "".join(
        output.get("text", "")
        for cell in nb.cells if cell.cell_type == "code"
        for output in cell.outputs if output.get("output_type") == "stream"
    )


@pytest.mark.parametrize("lab", LABS)
def test_untouched_student_notebook_runs_top_to_bottom(lab, tmp_path):
    nb = _run(Lab(lab, ROOT).notebook("student"), tmp_path)
    out = _stdout(nb)
    assert "not attempted yet" in out
    assert "using the reference implementation so the rest of the lab runs" in out
    assert "public tests passed" not in out


def _grade(path: Path, lab: str):
    grade = pytest.importorskip("autograder.grade", reason="autograder.grade has not landed")
    return grade.grade_submission(path, lab=lab, hidden_dir=ROOT / "labs" / "hidden")


@pytest.mark.parametrize("lab", LABS)
def test_solution_gets_full_marks(lab):
    report = _grade(Lab(lab, ROOT).notebook("solution"), lab)
    assert report.score == report.max_score > 0, report


@pytest.mark.parametrize("lab", LABS)
def test_untouched_student_notebook_gets_zero(lab):
    report = _grade(Lab(lab, ROOT).notebook("student"), lab)
    assert report.score == 0 and report.max_score > 0, report
