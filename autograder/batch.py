"""Grade a whole class: collect submissions (notebooks, folders, LMS zips), run workers, report.

Zips are read safely: only ``.ipynb`` members, no absolute paths or ``..``
(zip-slip), at most ``MAX_MEMBERS`` members and ``MAX_ZIP_BYTES`` uncompressed
(zip bombs, counted both from the declared sizes and from the bytes actually
read), each member read with a size cap. A zip that cannot be used at all is one
``invalid`` row; a member that cannot be read (encrypted, bad CRC, unknown
compression method, a lying size field) is an ``invalid`` row of its own; the
other students are graded as usual.

Names: a submission whose file name is already safe (``[A-Za-z0-9_.-]``, as
``_safe_name`` leaves it) keeps it exactly; any other name is made safe and,
when that collides with another name, gets a suffix derived from its original
path (``bob-3f2a9c``), never a name another submission has. The same inputs
always give the same names.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import re
import secrets
import signal
import threading
import zipfile
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from autograder import modeljudge, report
from autograder.grade import (
    LabSpec,
    SubmissionResult,
    grade_submission,
    load_lab,
    submission_key,
    whole_failure,
)
from autograder.progress import GradingProgress
from autograder.sandbox import Limits, SandboxUnavailable

MAX_MEMBERS = 5000
MAX_ZIP_BYTES = 2 * 2**30
MAX_MEMBER_BYTES = 64 * 2**20
RUN_FILE = "run.json"  # the seed of the hidden cases, fixed for every run into one folder
_READABLE_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA)


class BatchInputError(ValueError):
    """A submissions argument that does not exist."""


class BatchInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped a grading run; every submission graded until then is saved.

    Attributes:
        graded: int, submissions graded (and saved) by this run.
        not_started: int, submissions left for the next run.
        abandoned: int, submissions being graded when a second Ctrl-C came: not
            saved, graded by the next run (their kernels die with the grader).
    """

    def __init__(self, graded: int, not_started: int, abandoned: int = 0):
        self.graded, self.not_started, self.abandoned = graded, not_started, abandoned
        left = not_started + abandoned
        super().__init__(
            f"interrupted: {_count(graded)} graded and saved by this run, {left} left; "
            "run the same command again to grade only those."
        )


@dataclass
class Submission:
    name: str
    path: Path | None
    problem: str = ""  # a reason when the entry itself is unusable
    source: str = ""  # where it came from (file path, or zip::member); names are derived from it


@dataclass
class BatchResult:
    results: list[SubmissionResult]
    summary: dict
    out_dir: Path
    graded: int = 0  # graded in this run
    skipped: int = 0  # unchanged since the last run into the same folder: saved grade reused
    seed: int = 0  # the seed of the hidden cases
    gradebook: int = 0  # rows of grades.csv: this run's and earlier runs' submissions


def _count(n: int) -> str:
    return "1 submission" if n == 1 else f"{n} submissions"


def _size(n: int) -> str:
    if n < 2**20:
        return f"{n} bytes"
    return f"{n / 2**30:g} GiB" if n >= 2**30 else f"{n / 2**20:g} MiB"


def _safe_name(text: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("._") or "submission"
    return name[:120]


def _member_problem(info: zipfile.ZipInfo) -> str:
    """Why a member cannot be read, judged from its header alone ('' when it can)."""
    if info.flag_bits & 0x1:
        return f"{info.filename} is encrypted (password-protected); submit it without a password."
    if info.compress_type not in _READABLE_METHODS:
        method = zipfile.compressor_names.get(info.compress_type, "unknown")
        return (
            f"{info.filename} uses compression method {info.compress_type} ({method}), "
            "which cannot be read; zip it again with the standard (deflate) method."
        )
    if info.file_size > MAX_MEMBER_BYTES:
        return f"{info.filename} is larger than {_size(MAX_MEMBER_BYTES)}."
    return ""


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple[bytes | None, str]:
    """The bytes of one member (capped), or None and the reason it cannot be read."""
    try:
        with archive.open(info) as handle:
            data = handle.read(MAX_MEMBER_BYTES + 1)
    except (zipfile.BadZipFile, zipfile.LargeZipFile) as exc:  # bad CRC, lying header
        return None, f"{info.filename} is damaged in the zip ({exc}); zip it again."
    except Exception as exc:  # zlib/bz2/lzma errors, EOF, unsupported features
        return None, (
            f"{info.filename} cannot be read from the zip ({type(exc).__name__}: {exc}); "
            "zip it again."
        )
    if len(data) > MAX_MEMBER_BYTES:
        return None, f"{info.filename} is larger than {_size(MAX_MEMBER_BYTES)}."
    return data, ""


def _extract_zip(path: Path, dest: Path) -> list[Submission]:
    whole = path.name

    def unusable(reason: str) -> list[Submission]:
        return [Submission(path.stem, None, reason, source=whole)]

    try:
        archive = zipfile.ZipFile(path)
    except Exception as exc:  # BadZipFile, OSError, a lying central directory, ...
        return unusable(f"{path.name} is not a valid zip: {exc}")
    out = []
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_MEMBERS:
            return unusable(f"{path.name} has {len(infos)} files, more than {MAX_MEMBERS}.")
        if sum(i.file_size for i in infos) > MAX_ZIP_BYTES:
            return unusable(
                f"{path.name} expands to more than {_size(MAX_ZIP_BYTES)}; refused (zip bomb?)."
            )
        budget = MAX_ZIP_BYTES  # bytes actually read: size fields can lie
        for info in infos:
            member = PurePosixPath(info.filename)
            if info.is_dir() or member.suffix != ".ipynb" or "__MACOSX" in member.parts:
                continue
            source = f"{path.name}::{info.filename}"
            text = f"{path.stem}_{'_'.join(member.with_suffix('').parts)}"
            if member.is_absolute() or ".." in member.parts:
                out.append(Submission(text, None, f"unsafe path in zip: {info.filename!r}", source))
                continue
            problem = _member_problem(info)
            data = None
            if not problem:
                data, problem = _read_member(archive, info)
            if not problem and len(data) > budget:
                problem = (
                    f"{info.filename}: {path.name} expands to more than "
                    f"{_size(MAX_ZIP_BYTES)}; refused (zip bomb?)."
                )
            if problem:
                out.append(Submission(text, None, problem, source))
                continue
            budget -= len(data)
            digest = hashlib.sha256(f"{path.resolve()}::{info.filename}".encode())
            digest.update(data)
            target = dest / f"{digest.hexdigest()[:24]}.ipynb"
            target.write_bytes(data)
            out.append(Submission(text, target, source=source))
    return out


def _assign_names(subs: list[Submission]) -> None:
    """Gives every submission a unique, stable, safe name (see the module docstring)."""
    reserved: set[str] = set()
    later = []
    for sub in subs:  # names already safe first: they are kept exactly
        if _safe_name(sub.name) == sub.name:
            if sub.name in reserved:
                later.append(sub)
            else:
                reserved.add(sub.name)
    for sub in subs:  # then names made safe, when still free
        safe = _safe_name(sub.name)
        if safe != sub.name:
            if safe in reserved:
                later.append(sub)
            else:
                sub.name = safe
                reserved.add(safe)
    for sub in later:  # collisions: a suffix from the source, never a name already taken
        base = _safe_name(sub.name)[:100]
        attempt = 0
        while True:
            digest = hashlib.sha256(f"{sub.source}#{attempt}".encode()).hexdigest()[:6]
            name = f"{base}-{digest}"
            if name not in reserved:
                break
            attempt += 1
        sub.name = name
        reserved.add(name)


def collect(paths, work_dir: Path) -> list[Submission]:
    """Expands notebooks, folders (recursively) and zips into a list of submissions.

    Raises:
        BatchInputError: when an argument does not exist (nothing else: an unusable
            zip or file is an ``invalid`` submission of its own).
    """
    work_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(work_dir, 0o700)
    subs: list[Submission] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists() and not path.is_symlink():
            raise BatchInputError(f"{raw}: no such file or folder.")
        if path.is_dir():
            for item in sorted(path.rglob("*")):
                if item.is_symlink() or not item.is_file():
                    continue
                if item.suffix == ".ipynb":
                    rel = item.relative_to(path).with_suffix("")
                    subs.append(Submission(str(rel), item, source=f"{path.name}/{rel}"))
                elif item.suffix == ".zip":
                    subs += _extract_zip(item, work_dir)
        elif path.suffix == ".zip":
            subs += _extract_zip(path, work_dir)
        else:
            subs.append(Submission(path.stem, path, source=path.name))
    _assign_names(subs)
    return subs


def run_seed(out_dir: Path, seed: int | None = None) -> int:
    """The seed of the hidden cases for a grading run into ``out_dir``.

    ``seed`` when given (``cnnlabs grade --seed N``), else the one stored in
    ``out_dir/run.json``, else a new random seed, stored there so that later runs
    into the same folder (regrades) draw the same hidden inputs.
    """
    path = Path(out_dir) / RUN_FILE
    stored = None
    if path.is_file() and not path.is_symlink():
        try:
            stored = json.loads(path.read_text()).get("seed")
        except (ValueError, AttributeError, OSError):
            stored = None
    if seed is None:
        seed = stored if type(stored) is int and stored >= 0 else secrets.randbits(63)
    if seed != stored:
        report.atomic_write(path, json.dumps({"seed": seed}, indent=1) + "\n")
    return seed


def load_saved(out_dir: Path, lab: str) -> tuple[dict[str, SubmissionResult], list[str]]:
    """The results saved by earlier runs into ``out_dir``, by submission name.

    Reads ``out_dir/submissions/<name>/grade.json`` (written last and atomically
    for each submission, so it is there only once the submission is fully graded).

    Returns:
        ``({name: result}, problems)``: results of ``lab`` only; ``problems`` says
        which folders hold no usable result (unreadable, another lab's).
    """
    found: dict[str, SubmissionResult] = {}
    problems: list[str] = []
    folder = Path(out_dir) / "submissions"
    if not folder.is_dir():
        return found, problems
    for path in sorted(folder.glob("*/grade.json")):
        if path.is_symlink() or not path.is_file():
            continue
        try:
            result = SubmissionResult.from_dict(json.loads(path.read_text()))
        except (ValueError, TypeError, KeyError, AttributeError, OSError) as exc:
            problems.append(f"{path.parent.name}: grade.json cannot be read ({type(exc).__name__})")
            continue
        if result.lab != lab:
            problems.append(f"{path.parent.name}: graded for lab {result.lab!r}, not {lab!r}")
            continue
        found[path.parent.name] = result
    return found, problems


def _unchanged(sub: Submission, spec: LabSpec, seed: int, saved: dict) -> SubmissionResult | None:
    """The saved result of ``sub`` when its notebook, the lab and the seed are unchanged."""
    old = saved.get(sub.name)
    if old is None or sub.path is None or not old.key:
        return None
    try:
        data = sub.path.read_bytes()
    except OSError:
        return None
    if old.key != submission_key(data, spec, seed):
        return None
    old.reused = True
    return old


def grade_batch(
    lab: str,
    submissions,
    out_dir: str | os.PathLike,
    *,
    workers: int = 1,
    hidden_dir=None,
    timeout: float | None = None,
    questions_path=None,
    limits: Limits | None = None,
    progress: bool = True,
    spec: LabSpec | None = None,
    seed: int | None = None,
    regrade: bool = False,
) -> BatchResult:
    """Grades many submissions with ``workers`` parallel sandboxes; results accumulate.

    Writes ``<out>/submissions/<name>/{results.json,feedback.md,grade.json}`` as each
    submission finishes (atomically; ``grade.json`` last), and after each one
    ``<out>/grades.csv`` and ``<out>/summary.json`` rebuilt from every result saved
    in ``<out>``: earlier runs' students keep their rows, a student graded again
    replaces their own row. At the end, ``<out>/summary.html`` (the class at a
    glance). Every submission is judged on the same hidden inputs, drawn from
    ``seed`` (default: the seed stored in ``<out>/run.json``, created on the first
    run). A submission already graded, unchanged (its notebook, the lab's question
    and hidden-test files, the seed and the grader version: ``submission_key``) is
    skipped, and said so, unless ``regrade``. So a run that was stopped (Ctrl-C, a
    crash, a killed machine) resumes where it stopped when run again: what was
    graded is kept, and nothing is graded twice.

    Args:
        progress: show progress (a rich bar with an ETA on a terminal, else a plain
            line per submission: ``autograder.progress``).
        regrade: grade every submission again, even unchanged ones.

    Raises:
        BatchInputError: when a submissions argument does not exist.
        BatchInterrupted: on Ctrl-C, after the submissions being graded are saved
            (a second Ctrl-C abandons them); the gradebook is written first.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(out_dir, 0o700)
    spec = spec or load_lab(lab, hidden_dir=hidden_dir, questions_path=questions_path)
    subs = collect(submissions, out_dir / "_extracted")
    seed = run_seed(out_dir, seed)
    saved, problems = load_saved(out_dir, spec.lab)
    slots: queue.Queue[int] = queue.Queue()
    for slot in range(max(1, workers)):
        slots.put(slot)

    def one(sub: Submission) -> SubmissionResult:
        target = out_dir / "submissions" / sub.name
        target.mkdir(parents=True, exist_ok=True)
        if sub.path is None:
            result = whole_failure(spec, sub.name, "", "invalid", sub.problem)
            result.hidden_seed = seed
            report.write_submission(result, target)
            return result
        slot = slots.get()
        try:
            return grade_submission(
                spec.lab,
                sub.path,
                target,
                timeout=timeout,
                limits=limits,
                slot=slot,
                name=sub.name,
                spec=spec,
                hidden_seed=seed,
                reuse=False,  # decided above, before waiting for a slot
            )
        except SandboxUnavailable:
            raise  # the machine's fault, not this student's: stop (see sandbox.preflight)
        except Exception as exc:  # a grader bug must not stop the class's grading
            result = whole_failure(
                spec,
                sub.name,
                "",
                "grader_error",
                f"internal grader error: {type(exc).__name__}: {exc}",
            )
            result.hidden_seed = seed
            report.write_submission(result, target)
            return result
        finally:
            slots.put(slot)

    results: list[SubmissionResult | None] = [None] * len(subs)
    todo = []
    for i, sub in enumerate(subs):
        old = None if regrade else _unchanged(sub, spec, seed, saved)
        if old is None:
            todo.append(i)
        else:
            results[i] = old
    shown = GradingProgress(spec.lab, len(todo), enabled=progress)
    for problem in problems:
        shown.line(f"not in grades.csv: submissions/{problem}")
    for result in results:
        if result is not None:
            shown.skipped(result)

    graded_here = 0

    def record(i: int, result: SubmissionResult) -> None:
        nonlocal graded_here
        results[i] = saved[subs[i].name] = result
        graded_here += 1
        shown.graded(result, report.row_status(result))
        report.write_batch(_rows(saved), spec.questions, out_dir, html=False)

    pool = ThreadPoolExecutor(max_workers=max(1, workers))
    futures = {pool.submit(one, subs[i]): i for i in todo}
    stops = _Interrupts()
    abandon = False
    try:
        pending = set(futures)
        not_started, announced = 0, False
        while pending:
            done, pending = wait(pending, timeout=0.25, return_when=FIRST_COMPLETED)
            for future in sorted(done, key=futures.get):
                record(futures[future], future.result())
            if stops.count and not announced:  # Ctrl-C: finish what runs, start nothing
                announced = True
                not_started = sum(future.cancel() for future in pending)
                pending = {f for f in pending if not f.cancelled()}
                them = (
                    "the 1 submission" if len(pending) == 1 else f"the {len(pending)} submissions"
                )
                rest = "one being graded is" if len(pending) == 1 else "ones being graded are"
                shown.line(
                    f"interrupted: saving {them} being graded, {not_started} not "
                    f"started; Ctrl-C again to stop now (the {rest} then graded next time)."
                )
            if stops.count >= 2:  # Ctrl-C again: leave the running ones to the next run
                abandon = True
                break
        if stops.count:
            left = len(pending) if abandon else 0
            raise BatchInterrupted(graded_here, not_started, left)
    finally:
        stops.restore()
        shown.close()
        pool.shutdown(wait=not abandon, cancel_futures=True)
        modeljudge.close_workers()  # the slots' model workers end with the batch
        summary = report.write_batch(_rows(saved), spec.questions, out_dir, html=not abandon)
    final = [r for r in results if r is not None]
    skipped = sum(r.reused for r in final)
    return BatchResult(final, summary, out_dir, len(final) - skipped, skipped, seed, len(saved))


class _Interrupts:
    """Counts Ctrl-C (SIGINT) during a run instead of raising KeyboardInterrupt.

    A KeyboardInterrupt raised inside a finalizer (a ZeroMQ context collected in the
    main thread) is printed and ignored by Python, so the grading loop polls this
    count instead. Installed only in the main thread (where signals arrive).
    """

    def __init__(self):
        self.count = 0
        self._previous = None
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._hit)

    def _hit(self, signum, frame) -> None:
        self.count += 1

    def restore(self) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None


def _rows(saved: dict[str, SubmissionResult]) -> list[SubmissionResult]:
    """The gradebook's rows: every saved result, by submission name."""
    return [saved[name] for name in sorted(saved)]
