"""Reports: Gradescope ``results.json`` and ``feedback.md`` per submission; CSV and summary per batch.

Hidden tests are reported by name and outcome only: never their inputs, expected
values or the comparison message (which would quote them).
"""

from __future__ import annotations

import csv
import io
import json
import os
import secrets
import statistics
from pathlib import Path

WORDS = {
    "passed": "passed",
    "failed": "wrong answer",
    "error": "error",
    "not_attempted": "not attempted",
    "timeout": "timed out",
    "oom": "out of memory",
    "kernel_died": "kernel died",
    "tampering": "tampering detected",
    "invalid": "invalid submission",
    "grader_error": "grader error (tell your instructor)",
    "forbidden_api": "uses a function this exercise does not allow",
}


def atomic_write(path: Path, text: str) -> None:
    """Writes ``text`` to ``path`` through a new temporary file and ``os.replace``.

    The one way the grader writes its files: a reader never sees a half-written
    file, and a symlink planted at ``path`` is replaced, never followed.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())  # on disk before it replaces the old file (power loss)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _verdict(word: str, reason: str) -> str:
    """``"Wrong answer: none of the 3 tests passed."``, never ``"Timed out: timed out."``."""
    if not reason or reason.lower() == word:
        return word.capitalize() + "."
    if word in reason.lower():
        return reason[0].upper() + reason[1:] + "."
    return f"{word.capitalize()}: {reason}."


def _manual_ids(results) -> list[str]:
    """The manual questions' ids, in the order the results list them."""
    ids: list[str] = []
    for r in results:
        ids += [m.id for m in getattr(r, "manual", []) if m.id not in ids]
    return ids


def total_score(result) -> float:
    """Autograded points plus the manual points merged so far."""
    manual = sum(m.score for m in getattr(result, "manual", []) if m.score is not None)
    return round(result.score + manual, 6)


def total_max(result) -> float:
    """The most a submission can score: autograded and manual questions."""
    return round(result.max_score + sum(m.max_score for m in getattr(result, "manual", [])), 6)


def _manual_output(m) -> str:
    if m.score is None:
        return "Written answer: graded by a TA; the points are added when the TAs are done."
    return f"Written answer, graded by a TA: {m.score:g} / {m.max_score:g}." + (
        f"\nComment: {m.comment}" if m.comment else ""
    )


def _test_output(test) -> str:
    word = WORDS.get(test.status, test.status)
    if not test.public:
        return f"Hidden test: {word}."
    text = f"Public test: {word}."
    if test.message and test.status != "passed":
        text += "\n" + test.message
    if test.hint and test.status != "passed":
        text += f"\nHint: {test.hint}"
    return text


def gradescope(result) -> dict:
    """The Gradescope results.json of one submission."""
    tests = []
    for q in result.questions:
        for t in q.tests:
            tests.append(
                {
                    "name": f"{q.id}: {t.name}" + ("" if t.public else " (hidden)"),
                    "score": t.score,
                    "max_score": t.max_score,
                    "output": _test_output(t),
                    "visibility": "visible" if t.public else "after_published",
                }
            )
        if not q.tests:
            tests.append(
                {
                    "name": q.id,
                    "score": q.score,
                    "max_score": q.max_score,
                    "output": q.reason,
                    "visibility": "visible",
                }
            )
    for m in getattr(result, "manual", []):
        tests.append(
            {
                "name": f"{m.id}: written answer" + (f" ({m.title})" if m.title else ""),
                "score": m.score if m.score is not None else 0.0,
                "max_score": m.max_score,
                "output": _manual_output(m),
                "visibility": "visible",
            }
        )
    output = f"Graded in sandbox: {result.sandbox}."
    if result.error:
        output = f"This submission could not be graded: {result.error}"
    return {
        "score": total_score(result),
        "max_score": total_max(result),
        "output": output,
        "tests": tests,
        "extra_data": {"hidden_seed": result.hidden_seed, "grader_key": result.key},
    }


def feedback(result) -> str:
    """Markdown feedback for the student."""
    lines = [f"# Lab {result.lab}: {total_score(result):g} / {total_max(result):g}", ""]
    if result.error:
        lines += [f"**This submission could not be graded:** {result.error}", ""]
    for q in result.questions:
        lines.append(f"## {q.id} {q.title and '- ' + q.title}: {q.score:g} / {q.max_score:g}")
        lines.append(_verdict(WORDS.get(q.status, q.status), q.reason))
        for t in q.tests:
            mark = "x" if t.status == "passed" else " "
            where = "public" if t.public else "hidden"
            lines.append(f"- [{mark}] {t.name} ({where}): {WORDS.get(t.status, t.status)}")
            if t.public and t.status != "passed":
                for line in (t.message or "").splitlines():
                    lines.append(f"    {line}")
                if t.hint:
                    lines.append(f"    Hint: {t.hint}")
        lines.append("")
    for m in getattr(result, "manual", []):  # written answers, graded by a TA
        done = "not graded yet" if m.score is None else f"{m.score:g}"
        lines.append(f"## {m.id} {m.title and '- ' + m.title}: {done} / {m.max_score:g}")
        comment = f" Comment: {m.comment}" if m.comment else ""
        lines.append(f"Written answer, graded by a TA.{comment}")
        lines.append("")
    return "\n".join(lines)


def write_submission(result, out_dir: Path) -> None:
    """Writes results.json, feedback.md and grade.json atomically, grade.json last.

    ``grade.json`` is the commit: a run stopped before it is written leaves the
    submission ungraded (or with its earlier grade), to be graded by the next run.
    """
    out_dir = Path(out_dir)
    atomic_write(out_dir / "results.json", json.dumps(gradescope(result), indent=1))
    atomic_write(out_dir / "feedback.md", feedback(result))
    atomic_write(out_dir / "grade.json", json.dumps(result.to_dict(), indent=1))


def row_status(result) -> str:
    """``graded``, ``needs_review``, or why nothing was graded (``SubmissionResult.status``)."""
    return result.status


def grades_csv(results, question_ids) -> str:
    """One row per submission, one column per question, and the total."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    manual_ids = _manual_ids(results)  # a column per written answer, blank until merged
    writer.writerow(["submission", *question_ids, *manual_ids, "total", "max_score", "status"])
    for r in results:
        scores = {q.id: q.score for q in r.questions}
        manual = {m.id: "" if m.score is None else f"{m.score:g}" for m in r.manual}
        writer.writerow(
            [
                r.submission,
                *(f"{scores.get(i, 0.0):g}" for i in question_ids),
                *(manual.get(i, "") for i in manual_ids),
                f"{total_score(r):g}",
                f"{total_max(r):g}",
                row_status(r),
            ]
        )
    return buffer.getvalue()


def summary(results, questions) -> dict:
    """Per-question mean, pass rate and score distribution."""
    out = {"submissions": len(results), "questions": {}}
    for q in questions:
        scores = [next((x.score for x in r.questions if x.id == q.id), 0.0) for r in results]
        statuses = [next((x.status for x in r.questions if x.id == q.id), "") for r in results]
        out["questions"][q.id] = {
            "max_score": float(q.points),
            "mean": statistics.fmean(scores) if scores else 0.0,
            "pass_rate": (sum(s == "passed" for s in statuses) / len(statuses))
            if statuses
            else 0.0,
            "distribution": {f"{k:g}": scores.count(k) for k in sorted(set(scores))},
            "statuses": {s: statuses.count(s) for s in sorted(set(statuses))},
        }
    manual_max = {}
    for r in results:  # written answers: the points merged so far (autograder/manual.py)
        for m in r.manual:
            manual_max.setdefault(m.id, m.max_score)
    out["manual"] = {}
    for qid, most in manual_max.items():
        given = [m.score for r in results for m in r.manual if m.id == qid and m.score is not None]
        out["manual"][qid] = {
            "max_score": float(most),
            "graded": len(given),
            "pending": sum(1 for r in results for m in r.manual if m.id == qid) - len(given),
            "mean": statistics.fmean(given) if given else None,
        }
    out["needs_review"] = {r.submission: r.needs_review for r in results if r.needs_review}
    rows = [row_status(r) for r in results]
    out["statuses"] = {s: rows.count(s) for s in sorted(set(rows))}
    totals = [total_score(r) for r in results]
    out["total"] = {
        "max_score": float(sum(q.points for q in questions) + sum(manual_max.values())),
        "mean": statistics.fmean(totals) if totals else 0.0,
        "distribution": {f"{k:g}": totals.count(k) for k in sorted(set(totals))},
    }
    return out


def write_batch(results, questions, out_dir: Path, *, html: bool = True) -> dict:
    """Writes grades.csv, summary.json and (``html``) summary.html for ``results``."""
    ids = [q.id for q in questions]
    atomic_write(Path(out_dir) / "grades.csv", grades_csv(results, ids))
    data = summary(results, questions)
    atomic_write(Path(out_dir) / "summary.json", json.dumps(data, indent=1))
    if html:
        from autograder.classreport import summary_html

        atomic_write(Path(out_dir) / "summary.html", summary_html(results, questions, data))
    return data
