"""Hidden cases are fair and reproducible: one seed per grading run, recorded in every result."""

from __future__ import annotations

import json

import nbfactory as f

from autograder.batch import grade_batch
from autograder.grade import default_seed, grade_submission
from autograder.labspec import HIDDEN_DRAWS, load_lab

# conv_output_size with true division: right whenever the stride divides evenly
TRUE_DIVISION = [
    *f.SOLUTION[:2],
    "def conv_output_size(size, kernel, stride=1, padding=0):\n"
    "    return (size + 2 * padding - kernel) / stride + 1\n",
    f.SOLUTION[3],
]


def _grade(subs, out, **kwargs):
    return grade_batch(
        f.LAB,
        [subs],
        out,
        hidden_dir=f.HIDDEN,
        questions_path=f.QUESTIONS,
        progress=False,
        **kwargs,
    )


def _tests(out, name):
    data = json.loads((out / "submissions" / name / "grade.json").read_text())
    return data["hidden_seed"], [
        (q["id"], t["name"], t["status"], t["score"], t["max_score"])
        for q in data["questions"]
        for t in q["tests"]
    ]


def test_two_gradings_of_the_same_batch_give_identical_grades(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    f.write(subs / "alice.ipynb", f.SOLUTION)
    f.write(subs / "bob.ipynb", TRUE_DIVISION)
    first = _grade(subs, tmp_path / "a")
    seed = json.loads((tmp_path / "a" / "run.json").read_text())["seed"]
    assert first.seed == seed and (first.graded, first.skipped) == (2, 0)
    again = _grade(subs, tmp_path / "a")  # a rerun into the same folder keeps its seed
    assert (again.seed, again.graded, again.skipped) == (seed, 0, 2)
    regrade = _grade(subs, tmp_path / "b", seed=seed)  # a regrade elsewhere, same seed
    assert (regrade.graded, regrade.skipped) == (2, 0)
    for name in ("alice", "bob"):
        assert _tests(tmp_path / "a", name) == _tests(tmp_path / "b", name)
        assert _tests(tmp_path / "a", name)[0] == seed
    assert (tmp_path / "a" / "grades.csv").read_text() == (
        tmp_path / "b" / "grades.csv"
    ).read_text()
    _, bob = _tests(tmp_path / "a", "bob")
    draws = [t for t in bob if t[0] == "conv_size" and "(draw " in t[1]]
    assert [t[1] for t in draws] == [
        f"hidden sizes (draw {i}/{HIDDEN_DRAWS})" for i in range(1, HIDDEN_DRAWS + 1)
    ]
    assert {t[4] for t in draws} == {2 / 3 / HIDDEN_DRAWS}  # one case's share, split by draws


def test_without_a_run_seed_every_submission_of_a_lab_gets_the_same_inputs(tmp_path):
    spec = load_lab(f.LAB, hidden_dir=f.HIDDEN, questions_path=f.QUESTIONS)
    path = f.write(tmp_path / "nb.ipynb", TRUE_DIVISION)
    one = grade_submission(f.LAB, path, tmp_path / "one", spec=spec)
    two = grade_submission(f.LAB, path, tmp_path / "two", spec=spec)
    assert one.hidden_seed == two.hidden_seed == default_seed(spec)
    results = json.loads((tmp_path / "one" / "results.json").read_text())
    assert results["extra_data"]["hidden_seed"] == default_seed(spec)
    assert one.questions == two.questions
