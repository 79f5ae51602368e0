"""Written answers to TAs: collect (pages + CSV) -> fill in -> merge, on really graded notebooks.

The fixture lab `97_written` (fixtures/lab97_written.py, fixtures/source/97_written.py)
has one autograded question and two manual ones; its student notebook is generated
from the source by `cnnlabs assign`'s own code. The figures are PNG outputs stored in
the submitted notebooks, as a student's own run leaves them.
"""

from __future__ import annotations

import base64
import contextlib
import csv
import io
import json
import re
import shutil
import zlib
from pathlib import Path

import nbfactory as f
import nbformat
import numpy as np
import pytest
from PIL import Image

from autograder import answers, manual
from autograder.assign import build_notebooks
from autograder.grade import load_lab
from autograder.labfiles import Lab, available_labs, find_root
from cnnlabs.cli import main

QUESTIONS = f.FIXTURES / "lab97_written.py"
SOURCE = f.FIXTURES / "source" / "97_written.py"
LAB = "97_written"
MODEL_MARKS = ("MODEL-ANSWER-CURVE", "MODEL-ANSWER-BIAS")
HOSTILE = '<script>alert("x")</script> & <img src=x onerror=alert(1)>'


def _png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def _student_notebook(root: Path) -> nbformat.NotebookNode:
    """The fixture lab's student notebook, generated as `cnnlabs assign` does."""
    (root / "labs" / "source").mkdir(parents=True, exist_ok=True)
    shutil.copy(SOURCE, root / "labs" / "source" / SOURCE.name)
    return build_notebooks(Lab(LAB, root))["student"]


def _cell(nb, tag: str):
    return next(c for c in nb.cells if tag in c.metadata.get("tags", []))


def _submission(root: Path, *, fan_in=None, curve=None, bias=None, outputs=()):
    nb = _student_notebook(root)
    if fan_in is not None:
        stub = next(c for c in nb.cells if c.source.startswith("fan_in = ..."))
        stub.source = f"fan_in = {fan_in}"
    if curve is not None:
        _cell(nb, "answer:curve_shape").source = curve
    if bias is not None:
        _cell(nb, "answer:bias_count").source = bias
    _cell(nb, "figure:curve_shape").outputs = [nbformat.from_dict(o) for o in outputs]
    return nb


def _run(argv) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """A class of four graded into one folder: answered, hostile, untouched, not a notebook."""
    f.strong_sandbox_or_skip()
    root = tmp_path_factory.mktemp("manual")
    subs = root / "subs"
    subs.mkdir()
    png = base64.b64encode(_png(1200, 300)).decode()
    figure = {"output_type": "display_data", "metadata": {}}
    alice = _submission(
        root / "a",
        fan_in=144,
        curve="It grows by one each step: a straight line (\u2248 lin\u00e9aire).",
        bias="One bias per output unit.",
        outputs=[{**figure, "data": {"image/png": png, "text/plain": "<Figure>"}}],
    )
    bob = _submission(
        root / "b",
        fan_in=144,
        curve=HOSTILE,
        outputs=[
            {**figure, "data": {"image/png": base64.b64encode(b"<svg onload=alert(1)>").decode()}},
            {**figure, "data": {"image/svg+xml": "<svg><script>alert(2)</script></svg>"}},
            {**figure, "data": {"text/html": "<script>alert(3)</script>"}},
            {**figure, "data": {"image/png": '"><script>alert(4)</script>'}},
        ],
    )
    carol = _student_notebook(root / "c")
    for name, nb in (("alice", alice), ("bob", bob), ("carol", carol)):
        (subs / f"{name}.ipynb").write_text(nbformat.writes(nb))
    (subs / "dave.ipynb").write_text("this is not a notebook")
    out = root / "out"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CNNLABS_QUESTIONS_FILE", str(QUESTIONS))
        code, stdout, stderr = _run(["grade", LAB, str(subs), "--out", str(out), "--workers", "2"])
    assert code == 0, stderr
    return {"root": root, "subs": subs, "out": out, "stdout": stdout}


@pytest.fixture
def folder(graded, tmp_path, monkeypatch):
    """A private copy of the graded folder (merges change it)."""
    monkeypatch.setenv("CNNLABS_QUESTIONS_FILE", str(QUESTIONS))
    copy = tmp_path / "out"
    shutil.copytree(graded["out"], copy)
    return copy


def _answers(out: Path) -> dict:
    return {
        name: json.loads((out / "submissions" / name / "answers.json").read_text())["answers"]
        for name in ("alice", "bob", "carol", "dave")
    }


def _snapshot(folder: Path) -> dict:
    return {p: p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _write_csv(path: Path, rows) -> Path:
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(manual.COLUMNS)
        writer.writerows(rows)
    return path


def test_grade_collects_one_page_per_question_and_a_csv(graded):
    out = graded["out"]
    assert (
        "lab 97_written: 1 questions, 1 points, 0 hidden cases (0 with the random ones drawn "
        "several times); 2 written answers for TAs, 3.5 points"
    ) in graded["stdout"].splitlines()
    assert graded["stdout"].splitlines()[-1] == (
        f"written answers: 2 page(s) in {out / 'manual'}; fill in {out / 'manual' / 'scores.csv'}, "
        f"then `cnnlabs grade {LAB} --out {out} --manual {out / 'manual' / 'scores.csv'}`"
    )
    saved = _answers(out)
    assert {
        n: (a["curve_shape"]["status"], a["bias_count"]["status"]) for n, a in saved.items()
    } == {
        "alice": ("answered", "answered"),
        "bob": ("answered", "unanswered"),
        "carol": ("unanswered", "unanswered"),
        "dave": ("unreadable", "unreadable"),
    }
    digest = {(n, q): a[q]["answer"] for n, a in saved.items() for q in a}
    rows = (out / "manual" / "scores.csv").read_text().splitlines()
    assert rows == [
        "student,question,max_points,points,comment,answer",
        f"alice,curve_shape,2,,,{digest['alice', 'curve_shape']}",
        f"bob,curve_shape,2,,,{digest['bob', 'curve_shape']}",
        f"carol,curve_shape,2,0,no answer,{digest['carol', 'curve_shape']}",
        f"dave,curve_shape,2,0,no answer,{digest['dave', 'curve_shape']}",
        f"alice,bias_count,1.5,,,{digest['alice', 'bias_count']}",
        f"bob,bias_count,1.5,0,no answer,{digest['bob', 'bias_count']}",
        f"carol,bias_count,1.5,0,no answer,{digest['carol', 'bias_count']}",
        f"dave,bias_count,1.5,0,no answer,{digest['dave', 'bias_count']}",
    ]
    page = (out / "manual" / "curve_shape.html").read_text()
    assert "MODEL-ANSWER-CURVE" in page and "MODEL-ANSWER-BIAS" not in page  # TAs see it
    assert "Describe the curve above. Why does it grow linearly?" in page
    assert "It grows by one each step: a straight line (&#8776; lin&#233;aire)." in page
    assert "no answer: the answer cell still holds the placeholder" in page  # carol
    assert (
        "no readable notebook: the file is not JSON, so not a Jupyter notebook; submit the "
        ".ipynb file (File &gt; Download &gt; Download .ipynb)." in page
    )  # dave


def test_hostile_answers_and_figures_are_escaped_or_dropped(graded):
    page = (graded["out"] / "manual" / "curve_shape.html").read_text()
    assert (
        '<meta http-equiv="Content-Security-Policy" content="default-src '
        "'none'; img-src data:; style-src 'unsafe-inline'\">" in page
    )
    assert "<script" not in page.lower() and "<svg" not in page.lower()
    assert (
        '<div class="answer">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; '
        "&lt;img src=x onerror=alert(1)&gt;</div>" in page
    )
    images = re.findall(r"<img [^>]*>", page)
    assert len(images) == 1  # alice's figure; none of bob's four outputs
    found = re.fullmatch(
        r'<img alt="figure of alice" src="data:image/png;base64,([A-Za-z0-9+/=]+)">', images[0]
    )
    with Image.open(io.BytesIO(base64.b64decode(found.group(1)))) as image:
        assert (image.format, image.size) == ("PNG", (1000, 250))  # scaled to the page
    assert '<p class="note">an output declared as PNG is not a PNG image; left out</p>' in page
    assert '<p class="note">an output declared as PNG is not valid base64; left out</p>' in page


def test_round_trip_collect_fill_merge(graded, folder):
    saved = _answers(folder)
    digest = {(n, q): a[q]["answer"] for n, a in saved.items() for q in a}
    scores = folder / "manual" / "scores.csv"
    with open(scores, newline="") as handle:
        rows = list(csv.DictReader(handle))
    filled = {
        ("alice", "curve_shape"): ("1.5", "clear, but say why the step is constant"),
        ("bob", "curve_shape"): ("0.5", "<b>see me</b>"),
        ("alice", "bias_count"): ("1.5", ""),
        ("carol", "bias_count"): ("", ""),  # left blank: not graded yet
    }
    for row in rows:
        if (row["student"], row["question"]) in filled:
            row["points"], row["comment"] = filled[row["student"], row["question"]]
    _write_csv(scores, [[r[c] for c in manual.COLUMNS] for r in rows])
    code, stdout, stderr = _run(["grade", LAB, "--out", str(folder), "--manual", str(scores)])
    assert (code, stderr) == (0, "")
    assert stdout == (
        f"merged 7 manual score(s) for 4 submission(s) (1 row(s) left blank: not graded yet); "
        f"updated {folder / 'grades.csv'}, {folder / 'summary.json'} and each student's "
        "results.json and feedback.md\n"
    )
    assert (folder / "grades.csv").read_text().splitlines() == [
        "submission,fan_in,curve_shape,bias_count,total,max_score,status",
        "alice,1,1.5,1.5,4,4.5,graded",
        "bob,1,0.5,0,1.5,4.5,graded",
        "carol,0,0,,0,4.5,graded",
        "dave,0,0,0,0,4.5,invalid",
    ]
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["manual"] == {
        "curve_shape": {"max_score": 2.0, "graded": 4, "pending": 0, "mean": 0.5},
        "bias_count": {"max_score": 1.5, "graded": 3, "pending": 1, "mean": 0.5},
    }
    assert summary["total"]["max_score"] == 4.5 and summary["total"]["mean"] == 5.5 / 4
    alice = json.loads((folder / "submissions" / "alice" / "results.json").read_text())
    assert (alice["score"], alice["max_score"]) == (4.0, 4.5)
    assert alice["tests"][-2:] == [
        {
            "name": "curve_shape: written answer (The curve's shape)",
            "score": 1.5,
            "max_score": 2.0,
            "output": "Written answer, graded by a TA: 1.5 / 2.\n"
            "Comment: clear, but say why the step is constant",
            "visibility": "visible",
        },
        {
            "name": "bias_count: written answer (Counting biases)",
            "score": 1.5,
            "max_score": 1.5,
            "output": "Written answer, graded by a TA: 1.5 / 1.5.",
            "visibility": "visible",
        },
    ]
    carol = json.loads((folder / "submissions" / "carol" / "results.json").read_text())
    assert carol["tests"][-1]["output"] == (
        "Written answer: graded by a TA; the points are added when the TAs are done."
    )
    feedback = (folder / "submissions" / "alice" / "feedback.md").read_text().splitlines()
    assert feedback[0] == "# Lab 97_written: 4 / 4.5"
    assert feedback[-5:] == [
        "## curve_shape - The curve's shape: 1.5 / 2",
        "Written answer, graded by a TA. Comment: clear, but say why the step is constant",
        "",
        "## bias_count - Counting biases: 1.5 / 1.5",
        "Written answer, graded by a TA.",
    ]
    # The pages show what was merged; a fresh CSV starts from it.
    assert (
        "merged: 1.5 / 2 (clear, but say why the step is constant)"
        in (folder / "manual" / "curve_shape.html").read_text()
    )
    assert "<b>see me</b>" not in (folder / "manual" / "curve_shape.html").read_text()
    (folder / "manual" / "scores.csv").unlink()
    manual.collect(load_lab(LAB, questions_path=QUESTIONS), folder)
    fresh = (folder / "manual" / "scores.csv").read_text().splitlines()
    assert fresh[1] == (
        'alice,curve_shape,2,1.5,"clear, but say why the step is constant",'
        f"{digest['alice', 'curve_shape']}"
    )
    assert fresh[7] == f"carol,bias_count,1.5,0,no answer,{digest['carol', 'bias_count']}"
    # Grading the same notebooks again keeps the TAs' points (nothing changed).
    code, _, stderr = _run(["grade", LAB, str(graded["subs"]), "--out", str(folder)])
    assert code == 0, stderr
    assert (folder / "grades.csv").read_text().splitlines()[1] == "alice,1,1.5,1.5,4,4.5,graded"


def test_the_model_answer_reaches_no_student_facing_file(graded, folder, tmp_path):
    scores = folder / "manual" / "scores.csv"
    rows = scores.read_text().replace("alice,curve_shape,2,,", "alice,curve_shape,2,2,")
    scores.write_text(rows)
    assert _run(["grade", LAB, "--out", str(folder), "--manual", str(scores)])[0] == 0
    student = nbformat.writes(_student_notebook(tmp_path))
    facing = {"student notebook": student}
    for path in (folder / "submissions").rglob("*"):
        if path.is_file():
            facing[str(path.relative_to(folder))] = path.read_text()
    assert len(facing) == 1 + 4 * 4  # results.json, feedback.md, grade.json, answers.json each
    for name, text in facing.items():
        for mark in MODEL_MARKS:
            assert mark not in text, f"{name} holds the model answer ({mark})"


def test_bad_csv_rows_are_named_and_nothing_is_written(graded, folder):
    saved = _answers(folder)
    before = _snapshot(folder)
    bad = _write_csv(
        folder.parent / "scores.csv",
        [
            ["alicia", "curve_shape", "2", "1", "", ""],
            ["alice", "curve_shap", "2", "1", "", ""],
            ["alice", "curve_shape", "2", "3", "", saved["alice"]["curve_shape"]["answer"]],
            ["bob", "curve_shape", "2", "one", "", saved["bob"]["curve_shape"]["answer"]],
            ["bob", "bias_count", "1.5", "-1", "", saved["bob"]["bias_count"]["answer"]],
            ["carol", "curve_shape", "2", "nan", "", saved["carol"]["curve_shape"]["answer"]],
            ["carol", "bias_count", "1.5", "1", "", saved["carol"]["bias_count"]["answer"]],
            ["carol", "bias_count", "1.5", "0", "", saved["carol"]["bias_count"]["answer"]],
            ["alice", "bias_count", "1.5", "1", "", "000000000000"],
        ],
    )
    code, stdout, stderr = _run(["grade", LAB, "--out", str(folder), "--manual", str(bad)])
    assert (code, stdout) == (2, "")
    assert stderr == (
        f"cnnlabs grade: error: {bad}: 8 problem(s), nothing was merged:\n"
        f"  scores.csv:2: student 'alicia' was not graded in {folder}. Did you mean 'alice'?\n"
        "  scores.csv:3: question 'curve_shap' is not a manual question of lab 97_written; its "
        "manual questions are curve_shape, bias_count. Did you mean 'curve_shape'?\n"
        "  scores.csv:4: points 3 for alice, curve_shape are out of range; curve_shape is worth "
        "0 to 2 points.\n"
        "  scores.csv:5: points 'one' for bob, curve_shape is not a number; write a number from "
        "0 to 2 (with a decimal point, e.g. 1.5).\n"
        "  scores.csv:6: points -1 for bob, bias_count are out of range; bias_count is worth "
        "0 to 1.5 points.\n"
        "  scores.csv:7: points 'nan' for carol, curve_shape is not a number; write a number "
        "from 0 to 2 (with a decimal point, e.g. 1.5).\n"
        "  scores.csv:9: carol, bias_count is graded twice (also on line 8); keep one row.\n"
        "  scores.csv:10: the answer of alice to bias_count changed since this CSV was written "
        "(the notebook was graded again); grade it again on manual/bias_count.html and use the "
        "new manual/scores.csv.\n"
    )
    assert _snapshot(folder) == before
    header = folder.parent / "header.csv"
    header.write_text("name,question,score\nalice,curve_shape,1\n")
    code, _, stderr = _run(["grade", LAB, "--out", str(folder), "--manual", str(header)])
    assert (code, stderr) == (
        2,
        f"cnnlabs grade: error: {header}:1: the header has no column student, points; expected "
        "the columns student, question, max_points, points, comment, answer (as in "
        "manual/scores.csv).\n",
    )
    assert _snapshot(folder) == before


def test_grade_needs_submissions_or_manual(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNLABS_QUESTIONS_FILE", str(QUESTIONS))
    message = (
        "cnnlabs grade: error: give either submissions to grade or --manual SCORES_CSV to merge "
        f"the TAs' points, e.g. `cnnlabs grade {LAB} submissions/ --out {tmp_path}`.\n"
    )
    assert _run(["grade", LAB, "--out", str(tmp_path)])[::2] == (2, message)
    both = ["grade", LAB, "x.ipynb", "--out", str(tmp_path), "--manual", "s.csv"]
    assert _run(both)[::2] == (2, message)


# ---------------------------------------------------------------- without the sandbox


def test_png_outputs_are_decoded_and_encoded_again():
    png, why = answers.sanitize_png(_png(40, 30) + b"<script>trailing</script>")
    assert why == "" and b"script" not in png
    with Image.open(io.BytesIO(png)) as image:
        assert (image.format, image.size) == ("PNG", (40, 30))
    with Image.open(io.BytesIO(answers.sanitize_png(_png(500, 4000))[0])) as tall:
        assert tall.size == (188, 1500)  # fits 1000 x 1500, the aspect ratio kept
    noise = io.BytesIO()
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (900, 1000, 3), dtype=np.uint8)).save(noise, "PNG")
    png, why = answers.sanitize_png(noise.getvalue())  # noise does not compress: ~3 MiB
    assert png is None and re.fullmatch(
        r"an image of 1000x900 pixels takes (\d\.\d) MiB as PNG \(more than 1\.5 MiB\); left out",
        why,
    ), why
    gif = io.BytesIO()
    Image.new("RGB", (4, 4)).save(gif, format="GIF")
    assert answers.sanitize_png(gif.getvalue()) == (
        None,
        "an output declared as PNG is not a PNG image; left out",
    )
    small = _png(8, 8)  # IHDR (bytes 8-33) claims 5000x5000, with a valid CRC
    ihdr = (5000).to_bytes(4, "big") * 2 + small[24:29]
    crc = zlib.crc32(b"IHDR" + ihdr).to_bytes(4, "big")
    assert answers.sanitize_png(small[:16] + ihdr + crc + small[33:]) == (
        None,
        "an image of 5000x5000 pixels was left out (too large)",
    )
    assert answers.sanitize_png(_png(8, 8)[:40]) == (
        None,
        "an image could not be decoded as PNG (UnidentifiedImageError); left out",
    )


def test_malformed_notebooks_give_no_answer_and_no_error():
    spec = load_lab(LAB, questions_path=QUESTIONS)
    cases = {
        b"[]": "unreadable",
        b'{"cells": "nope"}': "unreadable",
        b'{"cells": [1, null, {"metadata": {"tags": "answer:curve_shape"}}]}': "missing",
        b'{"cells": [{"metadata": {"tags": ["answer:curve_shape", 3]}, "source": ["a", 1]}]}': (
            "answered"
        ),
        b'{"cells": [{"metadata": {"tags": ["answer:curve_shape"]}, "source": 7}]}': "unanswered",
    }
    for data, status in cases.items():
        assert answers.extract(data, spec)["curve_shape"]["status"] == status, data
    weird = {
        "cells": [
            {"cell_type": "code", "metadata": {"tags": ["figure:curve_shape"]}, "outputs": 5},
            {
                "cell_type": "code",
                "metadata": {"tags": ["figure:curve_shape"]},
                "outputs": [
                    None,
                    {"data": []},
                    {"data": {"image/png": ["iVBO", 3]}},
                    {"data": {"image/png": "@@@@"}},
                ],
            },
        ]
    }
    entry = answers.extract(json.dumps(weird).encode(), spec)["curve_shape"]
    assert (entry["figures"], entry["notes"]) == (
        [],
        [
            "an output declared as PNG is not a PNG image; left out",
            "an output declared as PNG is not valid base64; left out",
        ],
    )


def _tmp_lab(root: Path, source: str) -> Lab:
    (root / "labs" / "source").mkdir(parents=True)
    (root / "cnnlabs" / "checks").mkdir(parents=True)
    shutil.copy(QUESTIONS, root / "cnnlabs" / "checks" / QUESTIONS.name)
    (root / "labs" / "source" / SOURCE.name).write_text(source)
    return Lab(LAB, root)


def test_validation_names_each_mistake_with_its_line(tmp_path):
    assert answers.manual_problems(_tmp_lab(tmp_path / "good", SOURCE.read_text())) == []
    text = SOURCE.read_text()
    text = text.replace('tags=["solution", "answer:bias_count"]', 'tags=["solution"]')
    text = text.replace('tags=["figure:curve_shape"]', 'tags=["figure:curve_shap"]')
    text = text.replace(
        "# **Question 2.** Why is the bias counted once per output unit?",
        "# **Question 2.** Recall: a cumulative sum of ones adds the same step each time.",
    )
    lab = _tmp_lab(tmp_path / "bad", text)
    assert [f"{where}: {what}" for where, what in answers.manual_problems(lab)] == [
        "labs/source/97_written.py:15: tag 'figure:curve_shap' names no manual question of the "
        "lab (its MANUAL questions are curve_shape, bias_count). Did you mean 'curve_shape'? "
        "Declare it in cnnlabs/checks/lab97_written.py or fix the tag.",
        "labs/source/97_written.py:22: the model answer of 'curve_shape' can be read in the "
        "student notebook: 'a cumulative sum of ones adds the same step each time.'; keep it in "
        "the solution cell only.",
        "labs/source/97_written.py:31: manual question 'bias_count' needs one model answer, "
        'found 0: add `# %% [markdown] tags=["solution", "answer:bias_count"]` after its '
        "answer cell.",
    ]


# ---------------------------------------------------------------- the real labs


def _labs_with_manual():
    root = find_root(Path(__file__))
    for name in available_labs(root):
        spec = load_lab(name)
        if spec.manual:
            yield root, name, spec


def test_every_lab_declares_its_written_questions():
    found = {name: [m.id for m in spec.manual] for _, name, spec in _labs_with_manual()}
    assert set(found) >= {
        "01_lenet5",
        "02_alexnet",
        "03_vgg_receptive_fields",
        "04_inception",
        "05_resnet",
        "06_batchnorm",
    }, found


@pytest.mark.parametrize("lab", [name for _, name, _ in _labs_with_manual()])
def test_real_model_answers_are_for_tas_only(lab):
    from autograder.release import normalize, solution_lines

    root = find_root(Path(__file__))
    spec = load_lab(lab)
    refs = answers.references(spec)
    student = (root / "labs" / f"{lab}.ipynb").read_text()
    refused = solution_lines(root)  # what `cnnlabs release` refuses to ship
    for m in spec.manual:
        ref = refs[m.id]
        assert ref.prompt and ref.model and ref.placeholder, m.id
        lines = [line for line in ref.model.splitlines() if len(line.strip()) > 40]
        assert lines, m.id
        for line in lines:
            assert json.dumps(line.strip())[1:-1] not in student, (m.id, line)
            assert normalize("# " + line) in refused or normalize(line) in refused, (m.id, line)


def test_merged_points_stay_with_an_unchanged_answer_when_regraded(tmp_path):
    from autograder import report
    from autograder.grade import whole_failure

    spec = load_lab(LAB, questions_path=QUESTIONS)
    nb = _submission(tmp_path / "lab", curve="A straight line.", bias="One per output.")
    data = nbformat.writes(nb).encode()
    first = whole_failure(spec, "alice", "k1", "invalid", "stand-in for a graded result")
    answers.attach(first, spec, tmp_path, data)
    first.manual[0].score, first.manual[0].comment = 1.5, "good"
    report.write_submission(first, tmp_path)  # as a merge leaves it
    again = whole_failure(spec, "alice", "k2", "invalid", "graded again: a new hidden test")
    answers.attach(again, spec, tmp_path, data)
    assert [(m.id, m.score, m.comment) for m in again.manual] == [
        ("curve_shape", 1.5, "good"),
        ("bias_count", None, ""),
    ]
    _cell(nb, "answer:curve_shape").source = "A different answer."
    changed = whole_failure(spec, "alice", "k3", "invalid", "resubmitted")
    answers.attach(changed, spec, tmp_path, nbformat.writes(nb).encode())
    assert [(m.id, m.score) for m in changed.manual] == [
        ("curve_shape", None),
        ("bias_count", None),
    ]
