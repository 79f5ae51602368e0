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


def _sandboxes(tmp: Path) -> list[Path]:
    """The kernel logs of the sandboxes running (or left by a killed run) under ``tmp``."""
    return sorted(tmp.glob("cnnlabs-grade-*/logs/kernel-*.log"))


def _remove_killed_sandboxes(tmp: Path) -> None:
    """A killed run's sandboxes: no process left in their cgroups, then removed."""
    layout = cgroups.detect()
    for log in _sandboxes(tmp):
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
        shutil.rmtree(log.parents[1])


@pytest.fixture
def short_tmp():
    """A fresh folder under /tmp for the sandboxes (a Unix socket path is at most 107 bytes)."""
    path = Path(tempfile.mkdtemp(prefix="cnnlabs-t-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _corpus(subs: Path) -> None:
    subs.mkdir()
    f.write(subs / "a1.ipynb", f.SOLUTION)
    f.write(subs / "a2.ipynb", SLEEPY)  # being graded at the first Ctrl-C
    f.write(subs / "a3.ipynb", SLEEPY)  # being graded at the double Ctrl-C, then at SIGKILL
    f.write(subs / "a4.ipynb", f.SOLUTION[:2])


def _graded_lines(stdout: str) -> list[str]:
    return [line.split(" in ")[0] for line in stdout.splitlines() if line.startswith("[")]


def _stop(subs, out, tmp, saved: list[str], signals) -> tuple[subprocess.Popen, str]:
    """Starts a grading; once ``saved`` are and the next submission's sandbox runs, signals."""
    proc = _grade_cli(subs, out, tmp)
    for name in saved:
        _wait_for(out / "submissions" / name / "grade.json", proc)
    deadline = time.monotonic() + 120
    while not _sandboxes(tmp):  # the next submission's kernel is starting
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.1)
    time.sleep(1.0)  # within its 5 s cell (or still starting): in any case not saved yet
    for i, signum in enumerate(signals):
        if i:
            time.sleep(0.5)
        if signum == signal.SIGKILL:
            proc.kill()  # the grader only, no clean-up: a crash or a killed machine
        else:
            os.killpg(proc.pid, signum)  # Ctrl-C: the terminal signals the whole job
    stdout, stderr = proc.communicate(timeout=60)
    return proc, stdout + stderr


@pytest.mark.slow
def test_a_stopped_grading_resumes_losing_nothing_and_grading_nothing_twice(tmp_path, short_tmp):
    """Ctrl-C, Ctrl-C twice, SIGKILL, then a run to the end, all into one folder."""
    f.strong_sandbox_or_skip()
    subs, out, tmp = tmp_path / "subs", tmp_path / "out", short_tmp
    _corpus(subs)
    rows = [
        HEADER,
        "a1,1,2,2,5,5,graded",
        "a2,1,2,2,5,5,graded",
        "a3,1,2,2,5,5,graded",
        "a4,1,0,0,1,5,graded",
    ]
    try:
        # Ctrl-C while a2 is graded: a2 is finished and saved, a3 and a4 are not started.
        proc, output = _stop(subs, out, tmp, ["a1"], [signal.SIGINT])
        assert proc.returncode == 130, output
        lines = output.splitlines()
        assert (
            "interrupted: saving the 1 submission being graded, 2 not started; Ctrl-C again "
            "to stop now (the one being graded is then graded next time)."
        ) in lines
        assert lines[-1] == (
            "cnnlabs grade: interrupted: 2 submissions graded and saved by this run, 2 left; "
            "run the same command again to grade only those."
        )
        assert _graded_lines(output) == ["[1/4] a1: 5/5 graded", "[2/4] a2: 5/5 graded"]
        first = _saved(out)
        assert sorted(first) == ["a1", "a2"]
        assert (out / "grades.csv").read_text().splitlines() == rows[:3]

        # Ctrl-C twice while a3 is graded: it stops at once (a3 sleeps 5 s), a3 not saved.
        proc, output = _stop(subs, out, tmp, ["a1", "a2"], [signal.SIGINT, signal.SIGINT])
        assert proc.returncode == 130, output
        assert output.splitlines()[-1] == (
            "cnnlabs grade: interrupted: 0 submissions graded and saved by this run, 2 left; "
            "run the same command again to grade only those."
        )
        assert "a1: skipped, graded before and unchanged (5/5; --regrade grades it again)" in output
        assert _saved(out) == first
        _remove_killed_sandboxes(tmp)  # asserts that no process of a3's sandbox survived

        # SIGKILL while a3 is graded: a3 not saved, nothing else touched.
        proc, output = _stop(subs, out, tmp, ["a1", "a2"], [signal.SIGKILL])
        assert proc.returncode == -signal.SIGKILL
        assert _saved(out) == first and _graded_lines(output) == []
        _remove_killed_sandboxes(tmp)

        # Run to the end: only a3 and a4 are graded; a1 and a2 are neither lost nor rewritten.
        again = _grade_cli(subs, out, tmp)
        stdout, stderr = again.communicate(timeout=300)
    finally:
        _remove_killed_sandboxes(tmp)
    assert again.returncode == 0, stderr
    assert _graded_lines(stdout) == ["[1/2] a3: 5/5 graded", "[2/2] a4: 1/5 graded"]
    assert "a2: skipped, graded before and unchanged (5/5; --regrade grades it again)" in stdout
    assert "4 submissions: graded 2, skipped 2 unchanged;" in stdout
    after = _saved(out)
    assert {k: after[k] for k in first} == first
    assert (out / "grades.csv").read_text().splitlines() == rows
