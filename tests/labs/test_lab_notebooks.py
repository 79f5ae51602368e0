"""The six generated labs end to end: run them, grade them.

Every notebook here runs in the grade profile (`CNNLABS_PROFILE=grade`: smoke's
choices, every training capped to one epoch on 256 examples and one seed), so each
run costs seconds; nbval on `solutions/` (CI's notebooks step) is what runs the
solutions at the smoke budget and checks their accuracy targets. Each notebook is
executed once per purpose:

- through the autograder (`grade_batch`, the real sandbox, the grade profile it
  sets), each solution notebook gets full marks and each untouched student notebook
  zero, hidden cases included, and neither run records an event (no cell raised,
  timed out or died: both run top to bottom);
- what a student reads after Run All on the untouched notebook, which the grader
  discards: its check cells say "not attempted yet" and the reference fallbacks
  keep the lab going (one nbclient run, the grader keeps no outputs).

Marked `notebooks`. Run with `pytest -m notebooks tests/labs/test_lab_notebooks.py`.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import nbformat
import pytest
from labrun import run_all

from autograder.assign import Lab, available_labs

ROOT = Path(__file__).resolve().parents[2]
LABS = available_labs(ROOT)

pytestmark = pytest.mark.notebooks


@pytest.fixture(autouse=True)
def grade_profile(monkeypatch):
    monkeypatch.setenv("CNNLABS_PROFILE", "grade")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    if not os.environ.get("CNNLABS_DATA_DIR"):
        shared = ROOT.parent / "shared" / "datasets"
        if shared.is_dir():
            monkeypatch.setenv("CNNLABS_DATA_DIR", str(shared))


@pytest.mark.parametrize("lab", LABS)
def test_untouched_student_notebook_gives_its_feedback_on_run_all(lab, tmp_path):
    nb = nbformat.read(Lab(lab, ROOT).notebook("student"), as_version=4)
    out = run_all(nb, tmp_path)  # raises if a cell raises
    assert "not attempted yet" in out
    assert "using the reference implementation so the rest of the lab runs" in out
    assert "public tests passed" not in out


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Grades each lab's solution and untouched student notebook once, in the sandbox."""
    from autograder.batch import grade_batch

    results = {}

    def grade(lab: str):
        if lab not in results:
            root = tmp_path_factory.mktemp(f"grade_{lab}")
            subs = root / "subs"
            subs.mkdir()
            for version in ("solution", "student"):
                shutil.copy(Lab(lab, ROOT).notebook(version), subs / f"{version}.ipynb")
            batch = grade_batch(
                lab,
                [subs],
                root / "out",
                workers=1,
                hidden_dir=ROOT / "labs" / "hidden",
                progress=False,
            )
            results[lab] = {r.submission: r for r in batch.results}
        return results[lab]

    return grade


def _summary(result) -> str:
    return (
        "\n".join(
            f"{q.id}: {q.score}/{q.max_score} {q.status} {q.reason}" for q in result.questions
        )
        + f"\nsandbox: {result.sandbox}; error: {result.error}; events: {result.events}"
    )


@pytest.mark.parametrize("lab", LABS)
def test_solution_gets_full_marks(lab, graded):
    result = graded(lab)["solution"]
    assert result.max_score > 0
    assert result.score == result.max_score, _summary(result)
    assert all(q.status == "passed" for q in result.questions), _summary(result)
    assert result.events == [], _summary(result)  # ran top to bottom in the sandbox


@pytest.mark.parametrize("lab", LABS)
def test_untouched_student_notebook_gets_zero(lab, graded):
    result = graded(lab)["student"]
    assert result.max_score > 0
    assert result.score == 0, _summary(result)
    assert all(q.status == "not_attempted" for q in result.questions), _summary(result)
    assert result.events == [], _summary(result)  # the `...` stubs keep Run All going
