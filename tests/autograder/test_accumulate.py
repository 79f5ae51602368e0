"""Nothing graded is ever lost: results accumulate in one folder, and a stopped run resumes.

Grading a second batch into the same ``--out`` keeps the first batch's rows; a
student graded again replaces their own row; a run killed (SIGKILL: a crash, a
killed machine) or interrupted (Ctrl-C) mid-batch, then run again, loses nothing
that was graded and grades nothing twice.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbfactory as f
import pytest

from autograder import cgroups
from autograder.batch import grade_batch
from autograder.progress import GradingProgress, clock

REPO = Path(__file__).resolve().parents[2]
HEADER = "submission,out_shape,conv_size,relu,total,max_score,status"
SLEEPY = [*f.SOLUTION, "import time\ntime.sleep(5)"]  # full marks, graded in >= 5 s


def _batch(folder, out, **kw):
    kw.setdefault("seed", 7)
    return grade_batch(
        f.LAB, [folder], out, hidden_dir=f.HIDDEN, questions_path=f.QUESTIONS, progress=False, **kw
    )


def _saved(out: Path) -> dict[str, tuple[int, bytes]]:
    """Each saved grade.json: (mtime_ns, bytes), by submission."""
    return {
        p.parent.name: (p.stat().st_mtime_ns, p.read_bytes())
        for p in sorted((out / "submissions").glob("*/grade.json"))
    }


def test_two_batches_accumulate_and_a_regraded_student_replaces_their_row(tmp_path):
    first, second, out = tmp_path / "first", tmp_path / "second", tmp_path / "out"
    first.mkdir()
    second.mkdir()
    f.write(first / "alice.ipynb", f.SOLUTION)
    f.write(first / "bob.ipynb", f.STUDENT)
    f.write(second / "bob.ipynb", f.SOLUTION)  # bob resubmits, corrected
    f.write(second / "carol.ipynb", f.SOLUTION[:2])  # out_shape only
    one = _batch(first, out)
    assert (one.graded, one.skipped, one.gradebook) == (2, 0, 2)
    two = _batch(second, out)
    assert (two.graded, two.skipped, two.gradebook) == (2, 0, 3)
    assert (out / "grades.csv").read_text().splitlines() == [
        HEADER,
        "alice,1,2,2,5,5,graded",
        "bob,1,2,2,5,5,graded",
        "carol,1,0,0,1,5,graded",
    ]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["submissions"] == 3 and summary["statuses"] == {"graded": 3}
    assert summary["questions"]["relu"]["pass_rate"] == pytest.approx(2 / 3)
    assert summary["total"]["distribution"] == {"1": 1, "5": 2}
    assert two.summary == summary
    assert (out / "summary.html").is_file()

    before = _saved(out)
    again = _batch(second, out)  # unchanged: skipped, nothing rewritten
    assert (again.graded, again.skipped, again.gradebook) == (0, 2, 3)
    assert all(r.reused for r in again.results) and _saved(out) == before
    forced = _batch(second, out, regrade=True)
    assert (forced.graded, forced.skipped) == (2, 0)
    after = _saved(out)
    assert after["alice"] == before["alice"]
    assert after["bob"][0] > before["bob"][0] and after["carol"][0] > before["carol"][0]
    assert (out / "grades.csv").read_text().splitlines()[1:] == [
        "alice,1,2,2,5,5,graded",
        "bob,1,2,2,5,5,graded",
        "carol,1,0,0,1,5,graded",
    ]


def test_an_unreadable_saved_result_is_named_and_left_out(tmp_path, capsys):
    subs, out = tmp_path / "subs", tmp_path / "out"
    subs.mkdir()
    f.write(subs / "alice.ipynb", f.SOLUTION[:2])
    (out / "submissions" / "ghost").mkdir(parents=True)
    (out / "submissions" / "ghost" / "grade.json").write_text("{not json")
    batch = grade_batch(f.LAB, [subs], out, hidden_dir=f.HIDDEN, questions_path=f.QUESTIONS, seed=7)
    assert batch.gradebook == 1
    lines = capsys.readouterr().out.splitlines()
    assert (
        lines[0]
        == "not in grades.csv: submissions/ghost: grade.json cannot be read (JSONDecodeError)"
    )
    assert lines[1].startswith("[1/1] alice: 1/5 graded in ")
    assert (out / "grades.csv").read_text().splitlines() == [HEADER, "alice,1,0,0,1,5,graded"]


def test_progress_prints_a_line_per_submission_with_an_eta_when_not_a_terminal():
    from autograder.grade import SubmissionResult

    stream = io.StringIO()  # not a terminal: plain lines, no bar
    shown = GradingProgress("99_fixture", 2, stream=stream)

    def result(name, seconds):
        return SubmissionResult(name, f.LAB, 3.0, 5.0, [], "strong", "k", seconds=seconds)

    shown.skipped(result("ann", 0))
    shown.start = time.monotonic() - 20  # 20 s into the run when the first one finishes
    shown.graded(result("ben", 19.96), "graded")
    shown.graded(result("cid", 1.2), "needs_review")
    shown.close()
    assert stream.getvalue().splitlines() == [
        "ann: skipped, graded before and unchanged (3/5; --regrade grades it again)",
        "[1/2] ben: 3/5 graded in 20.0 s (eta 0:20)",
        "[2/2] cid: 3/5 needs_review in 1.2 s (eta 0:00)",
    ]
    assert [clock(37), clock(725), clock(7380)] == ["0:37", "12:05", "2:03:00"]


def test_on_a_terminal_progress_is_a_rich_bar_with_an_eta():
    from autograder.grade import SubmissionResult

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    stream = Terminal()
    shown = GradingProgress("99_fixture", 3, stream=stream)
    assert shown._bar is not None
    shown.start = time.monotonic() - 30
    shown.graded(SubmissionResult("ben", f.LAB, 5, 5, [], "s", "k", seconds=30), "graded")
    shown.close()
    text = stream.getvalue()
    assert "[1/3] ben: 5/5 graded in 30.0 s (eta 1:00)" in text
    assert "grading 99_fixture" in text and "1/3" in text and "eta 1:00" in text


# ---------------------------------------------------------------- a stopped run


def _grade_cli(subs: Path, out: Path, tmp: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "CNNLABS_QUESTIONS_FILE": str(f.QUESTIONS),
        "TMPDIR": str(tmp),  # the sandboxes' folders: a killed run's are found and removed
        "PYTHONFAULTHANDLER": "1",
        "PYTHONUNBUFFERED": "1",
    }
    cmd = [sys.executable, "-m", "cnnlabs", "grade", f.LAB, str(subs), "--out", str(out)]
    cmd += ["--workers", "1", "--hidden", str(f.HIDDEN), "--seed", "7"]
    return subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )


def _wait_for(path: Path, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"grading ended before {path} was written:\n{out}\n{err}")
        assert time.monotonic() < deadline, f"{path} not written in {timeout} s"
        time.sleep(0.1)


def _remove_killed_sandboxes(tmp: Path) -> None:
    """The cgroups of a killed run's sandboxes: no process left in them, then removed."""
    layout = cgroups.detect()
    for log in tmp.glob("cnnlabs-grade-*/logs/kernel-*.log"):
        name = f"cnnlabs-{log.stem.removeprefix('kernel-')}"
        for controller in cgroups.CONTROLLERS:
            base = getattr(layout, controller, None)
            if base is None or not (base / name).is_dir():
                continue
            deadline = time.monotonic() + 10
            while (procs := (base / name / "cgroup.procs").read_text().split()) and (
                time.monotonic() < deadline
            ):
                time.sleep(0.1)
            assert procs == [], f"processes of a killed grading survived in {base / name}"
            (base / name).rmdir()


@pytest.fixture
def short_tmp():
    """A fresh folder under /tmp for the sandboxes (a Unix socket path is at most 107 bytes)."""
    path = Path(tempfile.mkdtemp(prefix="cnnlabs-t-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _corpus(subs: Path) -> None:
    subs.mkdir()
    f.write(subs / "a1.ipynb", f.SOLUTION)
    f.write(subs / "a2.ipynb", f.STUDENT)
    f.write(subs / "a3.ipynb", SLEEPY)  # being graded when the signal comes
    f.write(subs / "a4.ipynb", f.SOLUTION[:2])


EXPECTED_ROWS = [
    HEADER,
    "a1,1,2,2,5,5,graded",
    "a2,0,0,0,0,5,graded",
    "a3,1,2,2,5,5,graded",
    "a4,1,0,0,1,5,graded",
]


@pytest.mark.slow
def test_a_killed_grading_resumes_losing_nothing_and_grading_nothing_twice(tmp_path, short_tmp):
    f.strong_sandbox_or_skip()
    subs, out, tmp = tmp_path / "subs", tmp_path / "out", short_tmp
    _corpus(subs)
    try:
        proc = _grade_cli(subs, out, tmp)
        _wait_for(out / "submissions" / "a2" / "grade.json", proc)
        time.sleep(1.0)  # a3's kernel is running its 5 s cell
        proc.kill()  # SIGKILL: no clean-up, as a crash or a killed machine
        proc.communicate(timeout=60)
        _remove_killed_sandboxes(tmp)
        before = _saved(out)
        assert sorted(before) == ["a1", "a2"]  # a3 was being graded: nothing of it saved
        assert (out / "grades.csv").read_text().splitlines() == EXPECTED_ROWS[:3]

        again = _grade_cli(subs, out, tmp)
        stdout, stderr = again.communicate(timeout=300)
    finally:
        _remove_killed_sandboxes(tmp)
    assert again.returncode == 0, stderr
    lines = stdout.splitlines()
    assert "a1: skipped, graded before and unchanged (5/5; --regrade grades it again)" in lines
    assert "a2: skipped, graded before and unchanged (0/5; --regrade grades it again)" in lines
    graded = [line.split(" in ")[0] for line in lines if line.startswith("[")]
    assert graded == ["[1/2] a3: 5/5 graded", "[2/2] a4: 1/5 graded"]
    assert "4 submissions: graded 2, skipped 2 unchanged;" in stdout
    after = _saved(out)
    assert {k: after[k] for k in before} == before  # not graded twice, not rewritten
    assert (out / "grades.csv").read_text().splitlines() == EXPECTED_ROWS


@pytest.mark.slow
def test_ctrl_c_saves_the_running_submission_starts_no_other_and_resumes(tmp_path, short_tmp):
    f.strong_sandbox_or_skip()
    subs, out, tmp = tmp_path / "subs", tmp_path / "out", short_tmp
    _corpus(subs)
    try:
        proc = _grade_cli(subs, out, tmp)
        _wait_for(out / "submissions" / "a2" / "grade.json", proc)
        time.sleep(1.0)
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C: the terminal signals the whole job
        stdout, stderr = proc.communicate(timeout=120)
        assert proc.returncode == 130, stderr
        assert (
            "interrupted: saving the 1 submission being graded, 1 not started; Ctrl-C again "
            "to stop now (the one being graded is then graded next time)."
        ) in stdout
        assert (
            "cnnlabs grade: interrupted: 3 submissions graded and saved by this run, 1 left; "
            "run the same command again to grade only those."
        ) in stdout
        before = _saved(out)
        assert sorted(before) == ["a1", "a2", "a3"]
        assert (out / "grades.csv").read_text().splitlines() == EXPECTED_ROWS[:4]
        again = _grade_cli(subs, out, tmp)
        stdout, stderr = again.communicate(timeout=300)
    finally:
        _remove_killed_sandboxes(tmp)
    assert again.returncode == 0, stderr
    assert [line.split(" in ")[0] for line in stdout.splitlines() if line.startswith("[")] == [
        "[1/1] a4: 1/5 graded"
    ]
    after = _saved(out)
    assert {k: after[k] for k in before} == before
    assert (out / "grades.csv").read_text().splitlines() == EXPECTED_ROWS


@pytest.mark.slow
def test_ctrl_c_twice_stops_at_once_and_leaves_the_running_one_for_next_time(tmp_path, short_tmp):
    f.strong_sandbox_or_skip()
    subs, out, tmp = tmp_path / "subs", tmp_path / "out", short_tmp
    subs.mkdir()
    f.write(subs / "a1.ipynb", f.SOLUTION)
    f.write(subs / "a2.ipynb", [*f.SOLUTION, "import time\ntime.sleep(60)"])
    f.write(subs / "a3.ipynb", f.SOLUTION[:2])
    try:
        proc = _grade_cli(subs, out, tmp)
        _wait_for(out / "submissions" / "a1" / "grade.json", proc)
        time.sleep(1.0)
        os.killpg(proc.pid, signal.SIGINT)
        time.sleep(1.0)
        os.killpg(proc.pid, signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=30)  # a2 would take 60 s more
        assert proc.returncode == 130, stderr
        assert stdout.splitlines()[-1] == (
            "cnnlabs grade: interrupted: 1 submission graded and saved by this run, 2 left; "
            "run the same command again to grade only those."
        )
    finally:
        _remove_killed_sandboxes(tmp)  # asserts that no process of a2's sandbox survived
    assert sorted(_saved(out)) == ["a1"]
    assert (out / "grades.csv").read_text().splitlines() == [HEADER, "a1,1,2,2,5,5,graded"]
