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
    output = f"Graded in sandbox: {result.sandbox}."
    if result.error:
        output = f"This submission could not be graded: {result.error}"
    return {
        "score": result.score,
        "max_score": result.max_score,
        "output": output,
        "tests": tests,
        "extra_data": {"hidden_seed": result.hidden_seed, "grader_key": result.key},
    }


def feedback(result) -> str:
    """Markdown feedback for the student."""
    lines = [f"# Lab {result.lab}: {result.score:g} / {result.max_score:g}", ""]
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
    return "\n".join(lines)


def write_submission(result, out_dir: Path) -> None:
    """Writes results.json, feedback.md and grade.json atomically."""
    out_dir = Path(out_dir)
    atomic_write(out_dir / "results.json", json.dumps(gradescope(result), indent=1))
    atomic_write(out_dir / "feedback.md", feedback(result))
    atomic_write(out_dir / "grade.json", json.dumps(result.to_dict(), indent=1))


def _row_status(result) -> str:
    """``graded``, ``needs_review``, or why nothing was graded (``invalid``, ``grader_error``)."""
    if result.error:  # a whole failure: every question has the same status
        return result.questions[0].status if result.questions else "invalid"
    return "needs_review" if result.needs_review else "graded"


def grades_csv(results, question_ids) -> str:
    """One row per submission, one column per question, and the total."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["submission", *question_ids, "total", "max_score", "status"])
    for r in results:
        scores = {q.id: q.score for q in r.questions}
        writer.writerow(
            [
                r.submission,
                *(f"{scores.get(i, 0.0):g}" for i in question_ids),
                f"{r.score:g}",
                f"{r.max_score:g}",
                _row_status(r),
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
    out["needs_review"] = {r.submission: r.needs_review for r in results if r.needs_review}
    totals = [r.score for r in results]
    out["total"] = {
        "max_score": float(sum(q.points for q in questions)),
        "mean": statistics.fmean(totals) if totals else 0.0,
        "distribution": {f"{k:g}": totals.count(k) for k in sorted(set(totals))},
    }
    return out


def write_batch(results, questions, out_dir: Path) -> dict:
    ids = [q.id for q in questions]
    atomic_write(Path(out_dir) / "grades.csv", grades_csv(results, ids))
    data = summary(results, questions)
    atomic_write(Path(out_dir) / "summary.json", json.dumps(data, indent=1))
    return data
