"""Written answers to TAs: one page per question across the class, and the merge of their points.

``collect`` writes ``OUT/manual/<id>.html`` (one self-contained page per
question across the class, with the model answer, for TAs only; everything that
comes from a student is HTML-escaped, images are data URIs of PNGs that Pillow
encoded again, and a Content-Security-Policy forbids scripts and remote loads)
and ``OUT/manual/scores.csv`` to fill in. ``merge`` validates a filled
``scores.csv`` (every problem names its line; nothing is written when one is
found) and writes the points into each student's ``grade.json``,
``results.json`` and ``feedback.md`` and the class's ``grades.csv`` and
``summary.json``. Reading the answers themselves is ``autograder.answers``.
"""

from __future__ import annotations

import csv
import html
import io
import math
from dataclasses import dataclass, field
from pathlib import Path

from autograder.answers import (
    ANSWERS_FILE,
    ManualResult,
    Reference,
    did_you_mean,
    extract,
    read_json,
    references,
)
from cnnlabs.checks.manual import ManualQuestion
from cnnlabs.errors import UserError

MANUAL_DIR = "manual"
SCORES_FILE = "scores.csv"
COLUMNS = ("student", "question", "max_points", "points", "comment", "answer")


class ManualError(UserError):
    """A scores CSV that cannot be merged; the message lists every problem."""


# ---------------------------------------------------------------- the TAs' pages

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; }
.ref { background: #f4f7fb; border-left: 4px solid #3465a4; padding: .5rem 1rem; }
.model { background: #fdf6e3; border-left: 4px solid #c4a000; padding: .5rem 1rem; }
.student { border-top: 1px solid #ccc; padding: 1rem 0; }
.answer { white-space: pre-wrap; overflow-wrap: anywhere; background: #fafafa;
          border: 1px solid #ddd; padding: .5rem; font-family: inherit; }
.note { color: #a40000; }
.status { color: #555; font-size: .9em; }
img { max-width: 100%; border: 1px solid #ddd; margin-top: .5rem; }
"""
_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
_STATUS = {
    "answered": "",
    "unanswered": "no answer: the answer cell still holds the placeholder",
    "missing": "no answer cell (no cell tagged answer:{id}; was it deleted?)",
    "unreadable": "no readable notebook",
}


def _markdown(text: str) -> str:
    """Trusted markdown (the lab's own prompt and model answer) as HTML, raw HTML escaped."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False}).render(text)


def _esc(value) -> str:
    return html.escape(str(value), quote=True)


def question_page(spec, m: ManualQuestion, ref: Reference, students: list[dict]) -> str:
    """One self-contained HTML page: the question, the model answer, every student's answer."""
    title = f"Lab {spec.lab}, {m.id}" + (f": {m.title}" if m.title else "")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
        f"<title>{_esc(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{_esc(title)}</h1>",
        f"<p>{_esc(f'{m.points:g}')} points. {len(students)} submissions. Fill in "
        f"<code>scores.csv</code> (rows with question <code>{_esc(m.id)}</code>), then run "
        f"<code>cnnlabs grade {_esc(spec.lab)} --out OUT --manual scores.csv</code>.</p>",
        '<h2>Question</h2><div class="ref">',
        _markdown(ref.prompt) if ref.prompt else "<p>(no prompt found in the lab source)</p>",
        "</div>",
        '<h2>Model answer (for TAs only)</h2><div class="model">',
        _markdown(ref.model) if ref.model else "<p>(no model answer in the lab source)</p>",
        "</div>",
        "<h2>Answers</h2>",
    ]
    for s in students:
        entry = s["entry"]
        parts.append(f'<section class="student" id="{_esc(s["student"])}">')
        parts.append(f"<h3>{_esc(s['student'])}</h3>")
        status = _STATUS.get(entry["status"], entry["status"]).format(id=m.id)
        if entry["status"] == "unreadable" and s.get("error"):
            status += f": {s['error']}"
        if status:
            parts.append(f'<p class="status">{_esc(status)}</p>')
        if entry["text"]:
            parts.append(f'<div class="answer">{_esc(entry["text"])}</div>')
        for figure in entry["figures"]:
            # re-encoded by sanitize_png: base64 of a PNG only, no other character
            parts.append(
                f'<img alt="figure of {_esc(s["student"])}" '
                f'src="data:image/png;base64,{_esc(figure)}">'
            )
        for note in entry["notes"]:
            parts.append(f'<p class="note">{_esc(note)}</p>')
        if s.get("score") is not None:
            merged = f"merged: {s['score']:g} / {m.points:g}"
            merged += f" ({s['comment']})" if s.get("comment") else ""
            parts.append(f'<p class="status">{_esc(merged)}</p>')
        parts.append("</section>")
    parts.append("</body></html>")
    page = "\n".join(parts) + "\n"
    return page.encode("ascii", "xmlcharrefreplace").decode("ascii")  # the same in any locale


def _students(out_dir: Path) -> dict[str, dict]:
    """Every submission graded into ``out_dir``: name -> its grade.json (as a dict)."""
    found = {}
    folder = Path(out_dir) / "submissions"
    for sub in sorted(folder.iterdir()) if folder.is_dir() else []:
        data = read_json(sub / "grade.json")
        if isinstance(data, dict) and not sub.is_symlink():
            found[sub.name] = data
    return found


def _read_scores(path: Path) -> tuple[list[str], list[tuple[int, dict]]]:
    """``(header, [(line, row), ...])`` of a scores CSV (Excel's BOM accepted)."""
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        header = list(reader.fieldnames or [])
        rows = [(reader.line_num, row) for row in reader]
    return header, rows


def collect(spec, out_dir) -> list[Path]:
    """Writes ``OUT/manual/<id>.html`` per manual question and ``OUT/manual/scores.csv``.

    Rows already filled in an existing ``scores.csv`` (or merged before) are kept
    when the answer they grade is unchanged, so a later batch never erases a TA's
    work. Returns the paths written (``[]`` when the lab has no manual question).
    """
    from autograder.report import atomic_write

    if not spec.manual:
        return []
    out_dir = Path(out_dir)
    folder = out_dir / MANUAL_DIR
    folder.mkdir(parents=True, exist_ok=True)
    refs = references(spec)
    grades = _students(out_dir)
    answers = {}
    for name in grades:
        saved = read_json(out_dir / "submissions" / name / ANSWERS_FILE)
        found = saved.get("answers") if isinstance(saved, dict) else None
        answers[name] = found if isinstance(found, dict) else extract(None, spec, refs)
    filled = {}
    scores_path = folder / SCORES_FILE
    if scores_path.is_file() and not scores_path.is_symlink():
        try:
            for _, row in _read_scores(scores_path)[1]:
                if (row.get("points") or "").strip() or (row.get("comment") or "").strip():
                    filled[(row.get("student"), row.get("question"))] = row
        except (OSError, csv.Error, UnicodeDecodeError):
            filled = {}
    written = []
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for m in spec.manual:
        students = []
        for name, grade in grades.items():
            entry = answers[name].get(m.id) or extract(None, spec, refs)[m.id]
            merged = next(
                (x for x in grade.get("manual", []) if isinstance(x, dict) and x.get("id") == m.id),
                {},
            )
            students.append(
                {
                    "student": name,
                    "entry": entry,
                    "error": grade.get("error", ""),
                    "score": merged.get("score")
                    if merged.get("answer") == entry["answer"]
                    else None,
                    "comment": merged.get("comment", ""),
                }
            )
            points, comment = "", ""
            row = filled.get((name, m.id))
            if row and row.get("answer") == entry["answer"]:
                points, comment = row.get("points") or "", row.get("comment") or ""
            elif students[-1]["score"] is not None:
                points, comment = f"{students[-1]['score']:g}", students[-1]["comment"]
            elif entry["status"] != "answered":
                points, comment = "0", "no answer"
            writer.writerow([name, m.id, f"{m.points:g}", points, comment, entry["answer"]])
        page = folder / f"{m.id}.html"
        atomic_write(page, question_page(spec, m, refs[m.id], students))
        written.append(page)
    atomic_write(scores_path, buffer.getvalue())
    return [*written, scores_path]


# ---------------------------------------------------------------- merging the points


@dataclass
class Merged:
    """What ``merge`` wrote: points per (student, question), and rows left blank."""

    points: dict = field(default_factory=dict)
    blank: int = 0
    students: int = 0


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def merge(spec, out_dir, csv_path) -> Merged:
    """Merges a filled scores CSV into a graded folder.

    A blank ``points`` cell leaves that answer as it is (not graded yet, or the
    points merged before). Every row is checked first; on any problem nothing is
    written.

    Raises:
        ManualError: listing each problem as ``scores.csv:LINE: what is wrong``.
    """
    from autograder import report
    from autograder.grade import SubmissionResult

    out_dir, csv_path = Path(out_dir), Path(csv_path)
    if not spec.manual:
        raise ManualError(f"lab {spec.lab} has no manual questions; there is nothing to merge.")
    if not csv_path.is_file():
        raise ManualError(f"--manual {csv_path}: no such file.")
    grades = _students(out_dir)
    if not grades:
        raise ManualError(
            f"{out_dir} holds no graded submission; run `cnnlabs grade {spec.lab} SUBMISSION... "
            f"--out {out_dir}` first."
        )
    try:
        header, rows = _read_scores(csv_path)
    except (csv.Error, UnicodeDecodeError) as exc:
        raise ManualError(f"{csv_path}: not a readable CSV file ({exc}).") from None
    missing = [c for c in ("student", "question", "points") if c not in header]
    if missing:
        raise ManualError(
            f"{csv_path}:1: the header has no column {', '.join(missing)}; expected the "
            f"columns {', '.join(COLUMNS)} (as in {MANUAL_DIR}/{SCORES_FILE})."
        )
    questions = {m.id: m for m in spec.manual}
    answers = {}
    for name in grades:
        saved = read_json(out_dir / "submissions" / name / ANSWERS_FILE)
        answers[name] = saved.get("answers", {}) if isinstance(saved, dict) else {}
    problems, seen, points, blank = [], {}, {}, 0
    for line, row in rows:
        student = (row.get("student") or "").strip()
        qid = (row.get("question") or "").strip()
        text = (row.get("points") or "").strip()
        where = f"{csv_path.name}:{line}"
        if not student and not qid and not text:
            continue  # an empty line
        if student not in grades:
            problems.append(
                f"{where}: student {student!r} was not graded in {out_dir}."
                + did_you_mean(sorted(grades), student)
            )
            continue
        if qid not in questions:
            problems.append(
                f"{where}: question {qid!r} is not a manual question of lab {spec.lab}; its "
                f"manual questions are {', '.join(questions)}." + did_you_mean(list(questions), qid)
            )
            continue
        if (student, qid) in seen:
            problems.append(
                f"{where}: {student}, {qid} is graded twice (also on line {seen[(student, qid)]}); "
                "keep one row."
            )
            continue
        seen[(student, qid)] = line
        if not text:
            blank += 1
            continue
        value, most = _number(text), questions[qid].points
        if value is None:
            problems.append(
                f"{where}: points {text!r} for {student}, {qid} is not a number; write a number "
                f"from 0 to {most:g} (with a decimal point, e.g. 1.5)."
            )
            continue
        if not 0 <= value <= most:
            problems.append(
                f"{where}: points {text} for {student}, {qid} are out of range; {qid} is worth "
                f"0 to {most:g} points."
            )
            continue
        current = (answers[student].get(qid) or {}).get("answer")
        stated = (row.get("answer") or "").strip()
        if "answer" in header and current and stated != current:
            problems.append(
                f"{where}: the answer of {student} to {qid} changed since this CSV was written "
                f"(the notebook was graded again); grade it again on {MANUAL_DIR}/{qid}.html "
                f"and use the new {MANUAL_DIR}/{SCORES_FILE}."
            )
            continue
        points[(student, qid)] = (value, (row.get("comment") or "").strip(), current or "")
    if problems:
        shown = "\n  ".join(problems[:50])
        more = f"\n  ... and {len(problems) - 50} more" if len(problems) > 50 else ""
        raise ManualError(
            f"{csv_path}: {len(problems)} problem(s), nothing was merged:\n  {shown}{more}"
        )
    results = {}
    for name, data in grades.items():
        try:
            results[name] = SubmissionResult.from_dict(data)
        except (TypeError, KeyError, ValueError) as exc:
            raise ManualError(
                f"{out_dir / 'submissions' / name / 'grade.json'} cannot be read "
                f"({type(exc).__name__}: {exc}); grade {name} again first."
            ) from None
    changed = set()
    for (student, qid), (value, comment, digest) in points.items():
        result = results[student]
        entries = {e.id: e for e in result.manual}
        if qid not in entries:  # graded before the lab had this manual question
            m = questions[qid]
            entries[qid] = ManualResult(m.id, m.title, float(m.points))
            result.manual = [*result.manual, entries[qid]]
        entry = entries[qid]
        entry.score, entry.comment, entry.answer = value, comment, digest or entry.answer
        changed.add(student)
    for student in sorted(changed):
        report.write_submission(results[student], out_dir / "submissions" / student)
    report.write_batch(list(results.values()), spec.questions, out_dir)
    return Merged(points={k: v[0] for k, v in points.items()}, blank=blank, students=len(changed))
