"""Malformed submissions, zips, the CLI and the Gradescope bundle."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import nbfactory as f
import nbformat
import pytest

from autograder.batch import BatchInputError, collect
from autograder.bundle import build_bundle
from autograder.grade import grade_submission

REPO = Path(__file__).resolve().parents[2]


def _grade(path, out):
    return grade_submission(f.LAB, path, out, hidden_dir=f.HIDDEN, questions_path=f.QUESTIONS)


def _only_reason(result):
    reasons = {(q.status, q.reason) for q in result.questions}
    assert len(reasons) == 1 and result.score == 0.0
    assert [q.id for q in result.questions] == ["out_shape", "conv_size", "relu"]
    return reasons.pop()


@pytest.mark.parametrize(
    "content, reason",
    [
        (
            b"\x89PNG not a notebook",
            "the file is not JSON, so not a Jupyter notebook; submit the "
            ".ipynb file (File > Download > Download .ipynb).",
        ),
        (b'{"hello": 1}', "the file is JSON but not a Jupyter notebook (no nbformat/cells)."),
        (
            json.dumps(
                {
                    "nbformat": 4,
                    "nbformat_minor": 5,
                    "metadata": {"cnnlabs": {"lab": "01_lenet5"}},
                    "cells": [],
                }
            ).encode(),
            "this notebook is lab '01_lenet5', but it was submitted for lab '99_fixture'; submit "
            "the notebook of this lab.",
        ),
        (json.dumps({"nbformat": 4, "cells": "nope", "metadata": {}}).encode(), None),
    ],
)
def test_malformed_submission_gets_a_clear_reason_for_every_question(tmp_path, content, reason):
    path = tmp_path / "bad.ipynb"
    path.write_bytes(content)
    result = _grade(path, tmp_path / "out")
    status, text = _only_reason(result)
    assert status == "invalid"
    if reason:
        assert text == reason
    else:
        assert text.startswith("the notebook (nbformat 4) cannot be read:")
    gradescope = json.loads((tmp_path / "out" / "results.json").read_text())
    assert gradescope["score"] == 0 and gradescope["max_score"] == f.MAX_SCORE
    assert len(gradescope["tests"]) == 14  # 4 public; 2 random hidden cases drawn 5 times


def test_huge_file_is_refused_before_parsing(tmp_path):
    path = tmp_path / "huge.ipynb"
    with open(path, "wb") as handle:
        handle.truncate(65 * 2**20)
    status, text = _only_reason(_grade(path, tmp_path / "out"))
    assert text == (
        "the file is 65 MiB, more than 64 MiB; clear the outputs (Edit > Clear all "
        "outputs) and submit again."
    )


def test_nbformat_v3_is_upgraded_and_graded(tmp_path):
    v3 = nbformat.v3.new_notebook()
    v3.worksheets = [
        nbformat.v3.new_worksheet(
            cells=[nbformat.v3.new_code_cell(input=source) for source in f.SOLUTION]
        )
    ]
    path = tmp_path / "old.ipynb"
    path.write_text(nbformat.v3.writes_json(v3))
    assert _grade(path, tmp_path / "out").score == f.MAX_SCORE


def test_empty_notebook_is_not_attempted(tmp_path):
    path = f.write(tmp_path / "empty.ipynb", [])
    result = _grade(path, tmp_path / "out")
    assert {q.status for q in result.questions} == {"not_attempted"}


def test_zip_slip_and_bombs_are_refused(tmp_path, monkeypatch):
    import autograder.batch

    good = nbformat.writes(f.notebook(f.SOLUTION))
    archive = tmp_path / "lms.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("alice/lab.ipynb", good)
        z.writestr("../../evil.ipynb", good)
        z.writestr("notes.txt", "ignored")
    subs = collect([archive], tmp_path / "work")
    assert [(s.name, s.problem) for s in subs] == [
        ("lms_alice_lab", ""),
        ("lms_.._.._evil", "unsafe path in zip: '../../evil.ipynb'"),
    ]
    assert not (tmp_path.parent / "evil.ipynb").exists()
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        for i in range(3):
            z.writestr(f"n{i}.ipynb", b"0" * 2**20)
    monkeypatch.setattr(autograder.batch, "MAX_ZIP_BYTES", 2 * 2**20)
    assert [(s.name, s.path, s.problem) for s in collect([bomb], tmp_path / "work")] == [
        ("bomb", None, "bomb.zip expands to more than 2 MiB; refused (zip bomb?).")
    ]
    with pytest.raises(BatchInputError) as info:
        collect([tmp_path / "missing"], tmp_path / "work")
    assert str(info.value) == f"{tmp_path / 'missing'}: no such file or folder."


def test_cli_grade_prints_sandbox_level_and_writes_csv(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    f.write(subs / "alice.ipynb", f.SOLUTION)
    f.write(subs / "bob.ipynb", f.STUDENT)
    env = {**os.environ, "CNNLABS_QUESTIONS_FILE": str(f.QUESTIONS)}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "cnnlabs",
            "grade",
            f.LAB,
            str(subs),
            "--out",
            str(tmp_path / "out"),
            "--workers",
            "2",
            "--hidden",
            str(f.HIDDEN),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("sandbox: ")
    assert (
        "lab 99_fixture: 3 questions, 5 points, 2 hidden cases (10 with the random ones "
        "drawn several times)\n"
    ) in proc.stdout
    seed = json.loads((tmp_path / "out" / "run.json").read_text())["seed"]
    assert (
        f"2 submissions: graded 2, skipped 0 unchanged; hidden cases drawn with seed {seed};"
        in (proc.stdout)
    )
    csv_text = (tmp_path / "out" / "grades.csv").read_text().splitlines()
    assert csv_text == [
        "submission,out_shape,conv_size,relu,total,max_score,status",
        "alice,1,2,2,5,5,graded",
        "bob,0,0,0,0,5,graded",
    ]
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["questions"]["relu"]["pass_rate"] == 0.5
    f.write(subs / "carol.ipynb", f.SOLUTION[:2])
    again = subprocess.run(
        proc.args, capture_output=True, text=True, env=env, timeout=300, cwd=REPO
    )
    assert again.returncode == 0, again.stderr
    assert (
        f"3 submissions: graded 1, skipped 2 unchanged; hidden cases drawn with seed {seed};"
        in (again.stdout)
    )


def test_cli_grade_bad_arguments(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "cnnlabs", "grade", "77", str(tmp_path), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert proc.returncode == 2
    from cnnlabs.checks.spec import checks_modules

    assert proc.stderr == (
        f"cnnlabs grade: error: lab='77' does not name a lab with questions. Known labs: "
        f"{', '.join(sorted(checks_modules()))}. Use the notebook stem (01_lenet5) or its "
        "number (1).\n"
    )


def test_bundle_structure_and_run_autograder_logic(tmp_path):
    out = build_bundle(f.LAB, tmp_path / "ag.zip", hidden_dir=f.HIDDEN, questions_path=f.QUESTIONS)
    with zipfile.ZipFile(out) as z:
        names = set(z.namelist())
        assert {
            "setup.sh",
            "run_autograder",
            "LAB",
            "hidden/99_fixture.py",
            "questions/lab99_fixture.py",
            "cnnlabs-src/pyproject.toml",
            "cnnlabs-src/autograder/grade.py",
            "cnnlabs-src/cnnlabs/checks/plain.py",
            "cnnlabs-src/cnnlabs/checks/expected/06_batchnorm.json",
            "cnnlabs-src/autograder/references/lab06_batchnorm.py",
        } <= names
        assert (z.getinfo("run_autograder").external_attr >> 16) & 0o111
        assert z.read("LAB").decode() == f.LAB
        z.extractall(tmp_path / "autograder" / "source")
    root = tmp_path / "autograder"
    (root / "submission").mkdir()
    f.write(root / "submission" / "lab.ipynb", f.SOLUTION[:3])
    env = {**os.environ, "CNNLABS_GRADESCOPE_ROOT": str(root)}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "autograder.gradescope",
            "--lab",
            f.LAB,
            "--hidden",
            str(root / "source" / "hidden"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    assert results["score"] == 3.0 and results["max_score"] == f.MAX_SCORE
    hidden = [t for t in results["tests"] if t["name"].endswith("(hidden)")]
    assert [t["visibility"] for t in hidden] == ["after_published"] * 10  # 2 cases, 5 draws
    assert all(t["output"].startswith("Hidden test: ") for t in hidden)
