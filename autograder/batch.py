"""Grade a whole class: collect submissions (notebooks, folders, LMS zips), run workers, report.

Zips are read safely: only ``.ipynb`` members, no absolute paths or ``..``
(zip-slip), at most ``MAX_MEMBERS`` members and ``MAX_ZIP_BYTES`` uncompressed
(zip bombs), each member read with a size cap.
"""

from __future__ import annotations

import hashlib
import os
import queue
import re
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from autograder import report
from autograder.grade import LabSpec, SubmissionResult, _whole_failure, grade_submission, load_lab
from autograder.sandbox import Limits

MAX_MEMBERS = 5000
MAX_ZIP_BYTES = 2 * 2**30
MAX_MEMBER_BYTES = 64 * 2**20


class BatchInputError(ValueError):
    """A submissions argument that cannot be used (missing path, bad zip)."""


@dataclass
class Submission:
    name: str
    path: Path | None
    problem: str = ""  # a reason when the entry itself is unusable


@dataclass
class BatchResult:
    results: list[SubmissionResult]
    summary: dict
    out_dir: Path


def _size(n: int) -> str:
    return f"{n / 2**30:g} GiB" if n >= 2**30 else f"{n / 2**20:g} MiB"


def _safe_name(text: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("._") or "submission"
    return name[:120]


def _extract_zip(path: Path, dest: Path) -> list[Submission]:
    out = []
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        return [Submission(_safe_name(path.stem), None, f"{path.name} is not a valid zip: {exc}")]
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_MEMBERS:
            raise BatchInputError(f"{path}: {len(infos)} files, more than {MAX_MEMBERS}.")
        if sum(i.file_size for i in infos) > MAX_ZIP_BYTES:
            raise BatchInputError(
                f"{path}: expands to more than {_size(MAX_ZIP_BYTES)}; refusing (zip bomb?)."
            )
        for info in infos:
            member = PurePosixPath(info.filename)
            if info.is_dir() or member.suffix != ".ipynb" or "__MACOSX" in member.parts:
                continue
            name = _safe_name(f"{path.stem}_{'_'.join(member.with_suffix('').parts)}")
            if member.is_absolute() or ".." in member.parts:
                out.append(Submission(name, None, f"unsafe path in zip: {info.filename!r}"))
                continue
            if info.file_size > MAX_MEMBER_BYTES:
                out.append(
                    Submission(
                        name,
                        None,
                        f"{info.filename} is larger than {MAX_MEMBER_BYTES // 2**20} MiB",
                    )
                )
                continue
            with archive.open(info) as handle:
                data = handle.read(MAX_MEMBER_BYTES + 1)
            if len(data) > MAX_MEMBER_BYTES:
                out.append(Submission(name, None, f"{info.filename} is too large"))
                continue
            target = dest / f"{name}-{hashlib.sha256(data).hexdigest()[:8]}.ipynb"
            target.write_bytes(data)
            out.append(Submission(name, target))
    return out


def collect(paths, work_dir: Path) -> list[Submission]:
    """Expands notebooks, folders (recursively) and zips into a list of submissions."""
    work_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(work_dir, 0o700)
    subs: list[Submission] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise BatchInputError(f"{raw}: no such file or folder.")
        if path.is_dir():
            for item in sorted(path.rglob("*")):
                if item.is_file() and not item.is_symlink() and item.suffix == ".ipynb":
                    subs.append(
                        Submission(_safe_name(str(item.relative_to(path).with_suffix(""))), item)
                    )
                elif item.is_file() and item.suffix == ".zip":
                    subs += _extract_zip(item, work_dir)
        elif path.suffix == ".zip":
            subs += _extract_zip(path, work_dir)
        else:
            subs.append(Submission(_safe_name(path.stem), path))
    seen: dict[str, int] = {}
    for sub in subs:  # unique names
        count = seen.get(sub.name, 0)
        seen[sub.name] = count + 1
        if count:
            sub.name = f"{sub.name}-{count + 1}"
    return subs


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
) -> BatchResult:
    """Grades many submissions with ``workers`` parallel sandboxes.

    Writes ``<out>/<submission>/{results.json,feedback.md,grade.json}``,
    ``<out>/grades.csv`` and ``<out>/summary.json``. Unchanged submissions already
    graded are skipped (content hash).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(out_dir, 0o700)
    spec = spec or load_lab(lab, hidden_dir=hidden_dir, questions_path=questions_path)
    subs = collect(submissions, out_dir / "_extracted")
    slots: queue.Queue[int] = queue.Queue()
    for slot in range(max(1, workers)):
        slots.put(slot)

    def one(sub: Submission) -> SubmissionResult:
        target = out_dir / "submissions" / sub.name
        target.mkdir(parents=True, exist_ok=True)
        if sub.path is None:
            result = _whole_failure(spec, sub.name, "", "invalid", sub.problem)
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
            )
        except Exception as exc:  # a grader bug must not stop the class's grading
            result = _whole_failure(
                spec,
                sub.name,
                "",
                "grader_error",
                f"internal grader error: {type(exc).__name__}: {exc}",
            )
            report.write_submission(result, target)
            return result
        finally:
            slots.put(slot)

    results: list[SubmissionResult | None] = [None] * len(subs)
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = {pool.submit(one, sub): i for i, sub in enumerate(subs)}
        if progress:
            from rich.progress import Progress

            with Progress(transient=False) as bar:
                task = bar.add_task(f"grading {spec.lab}", total=len(subs))
                for future in _as_completed(futures):
                    results[futures[future]] = future.result()
                    bar.advance(task)
        else:
            for future in _as_completed(futures):
                results[futures[future]] = future.result()
    final = [r for r in results if r is not None]
    summary = report.write_batch(final, spec.questions, out_dir)
    return BatchResult(final, summary, out_dir)


def _as_completed(futures):
    from concurrent.futures import as_completed

    return as_completed(futures)
