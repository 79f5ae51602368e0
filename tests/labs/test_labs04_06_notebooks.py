"""Labs 04-06 end to end (smoke profile): run the notebooks, grade them.

- every untouched student notebook runs top to bottom without an exception and its
  check cells say "not attempted yet" (the rest of the lab runs on references);
- through the autograder's `grade_submission`, each solution notebook gets full
  marks and each untouched student notebook zero.

Marked `notebooks`: each notebook takes one to two minutes on a 2-core CPU. Run with
`CNNLABS_PROFILE=smoke pytest -m notebooks tests/labs/test_labs04_06_notebooks.py`.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest

from autograder.assign import Lab

ROOT = Path(__file__).resolve().parents[2]
LABS = ("04_inception", "05_resnet", "06_batchnorm")

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


def _stdout(nb) -> str:
    return "".join(
        output.get("text", "")
        for cell in nb.cells if cell.cell_type == "code"
        for output in cell.outputs if output.get("output_type") == "stream"
    )


@pytest.mark.parametrize("lab", LABS)
def test_untouched_student_notebook_runs_top_to_bottom(lab, tmp_path):
    from nbclient import NotebookClient

    nb = nbformat.read(Lab(lab, ROOT).notebook("student"), as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    out = _stdout(nb)
    assert "not attempted yet" in out
    assert "using the reference implementation so the rest of the lab runs" in out
    assert "public tests passed" not in out


def _grade(lab: str, version: str, out_dir: Path):
    from autograder.grade import grade_submission

    result = grade_submission(lab, Lab(lab, ROOT).notebook(version), out_dir,
                              hidden_dir=ROOT / "labs" / "hidden")
    summary = "\n".join(f"{q.id}: {q.score}/{q.max_score} {q.status} {q.reason}"
                        for q in result.questions)
    return result, summary + f"\nsandbox: {result.sandbox}; error: {result.error}"


@pytest.mark.parametrize("lab", LABS)
def test_solution_gets_full_marks(lab, tmp_path):
    result, summary = _grade(lab, "solution", tmp_path)
    assert result.max_score > 0
    assert result.score == result.max_score, summary


@pytest.mark.parametrize("lab", LABS)
def test_untouched_student_notebook_gets_zero(lab, tmp_path):
    result, summary = _grade(lab, "student", tmp_path)
    assert result.max_score > 0
    assert result.score == 0, summary
    assert all(q.status == "not_attempted" for q in result.questions), summary
