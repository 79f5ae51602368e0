"""Written answers to TAs: collect them per question, merge the points TAs give.

A lab's manual questions are declared in its questions file
(``MANUAL = (ManualQuestion(...), ...)``, ``cnnlabs.checks.manual``) and marked
in its source with cell tags: ``answer:<id>`` on the student's answer cell and
on the model answer (a ``solution`` cell), ``figure:<id>`` on the code cell
whose figure the question refers to.

- ``attach`` (called by ``grade_submission``) reads a submission's answers as
  plain data: the text of its ``answer:<id>`` cells and the PNG outputs of its
  ``figure:<id>`` cells, as the student's own run left them. Nothing is
  executed; a figure is decoded and re-encoded by Pillow (PNG only, size and
  pixel caps) or dropped. They are saved as ``answers.json`` beside
  ``grade.json``, and points already merged for the same answer are kept.
- ``collect`` writes ``OUT/manual/<id>.html`` (one self-contained page per
  question across the class, with the model answer, for TAs only; everything
  that comes from a student is HTML-escaped, images are data URIs, and a
  Content-Security-Policy forbids scripts and remote loads) and
  ``OUT/manual/scores.csv`` to fill in.
- ``merge`` validates a filled ``scores.csv`` (every problem names its line;
  nothing is written when one is found) and writes the points into each
  student's ``grade.json``, ``results.json`` and ``feedback.md`` and the
  class's ``grades.csv`` and ``summary.json``.
"""

from __future__ import annotations

import base64
import binascii
import csv
import difflib
import hashlib
import html
import importlib
import io
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from cnnlabs.checks.manual import ANSWER_TAG, FIGURE_TAG, ManualQuestion, validate_manual
from cnnlabs.cli import UserError

MANUAL_DIR = "manual"
ANSWERS_FILE = "answers.json"
SCORES_FILE = "scores.csv"
COLUMNS = ("student", "question", "max_points", "points", "comment", "answer")
MAX_ANSWER_CHARS = 20_000  # of one answer's text; the rest is cut, and the page says so
MAX_FIGURES = 4  # per question and student
MAX_PNG_BYTES = 8 * 2**20  # decoded, per image
MAX_PIXELS = 4096 * 4096
FIGURE_WIDTH = 1000  # wider figures are scaled down
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class ManualError(UserError):
    """A scores CSV that cannot be merged; the message lists every problem."""


# ---------------------------------------------------------------- the lab's side


def load_manual(stem: str, questions, questions_path=None) -> tuple[ManualQuestion, ...]:
    """The ``MANUAL`` questions of a lab (``()`` when it declares none)."""
    from cnnlabs.checks.spec import _checks_modules, load_module_from_path

    if questions_path is not None:
        module = load_module_from_path(
            questions_path, f"cnnlabs_manual_{Path(questions_path).stem}"
        )
        where = str(questions_path)
    else:
        module = importlib.import_module(_checks_modules()[stem])
        where = module.__name__
    return validate_manual(getattr(module, "MANUAL", ()), [q.id for q in questions], where)


def lab_source(spec) -> Path | None:
    """The lab's source: ``labs/source/<lab>.py``, or ``source/<lab>.py`` beside a questions file."""
    if spec.questions_path is not None:
        candidates = [Path(spec.questions_path).parent / "source" / f"{spec.lab}.py"]
    else:
        here = Path(__file__).resolve().parents[1]
        candidates = [root / "labs" / "source" / f"{spec.lab}.py" for root in (here, Path.cwd())]
    return next((p for p in candidates if p.is_file()), None)


@dataclass
class Reference:
    """What the TA's page shows above the answers (from the trusted lab source)."""

    prompt: str = ""  # the markdown cell before the student's answer cell
    model: str = ""  # the model answer (solution notebook only)
    placeholder: str = ""  # the answer cell as the student receives it


def _tags(cell) -> list[str]:
    metadata = cell.get("metadata") if isinstance(cell, dict) else None
    tags = metadata.get("tags") if isinstance(metadata, dict) else None
    return [t for t in tags if isinstance(t, str)] if isinstance(tags, list) else []


def _text(value) -> str:
    if isinstance(value, list):
        return "".join(v for v in value if isinstance(v, str))
    return value if isinstance(value, str) else ""


def source_cells(path: Path) -> tuple[list, list]:
    """``(student_cells, solution_cells)`` of a lab source, as jupytext reads them."""
    import jupytext

    from autograder.markers import SOLUTION_TAG, STUDENT_TAG, split_solution

    solution, student = split_solution(path.read_text(encoding="utf-8"), str(path))
    out = []
    for text, drop in ((student, SOLUTION_TAG), (solution, STUDENT_TAG)):
        cells = jupytext.reads(text, fmt="py:percent").cells
        out.append([c for c in cells if drop not in _tags(c) and c.source.strip()])
    return out[0], out[1]


def references(spec) -> dict[str, Reference]:
    """Prompt, model answer and placeholder of each manual question, from the lab source."""
    path = lab_source(spec)
    refs = {m.id: Reference() for m in spec.manual}
    if path is None:
        return refs
    student, solution = source_cells(path)
    for index, cell in enumerate(student):
        for tag in _tags(cell):
            qid = tag[len(ANSWER_TAG) :] if tag.startswith(ANSWER_TAG) else None
            if qid in refs:
                refs[qid].placeholder = cell.source.strip()
                before = [c for c in student[:index] if c.cell_type == "markdown"]
                refs[qid].prompt = before[-1].source.strip() if before else ""
    for cell in solution:
        for tag in _tags(cell):
            qid = tag[len(ANSWER_TAG) :] if tag.startswith(ANSWER_TAG) else None
            if qid in refs and "solution" in _tags(cell):
                refs[qid].model = (refs[qid].model + "\n\n" + cell.source.strip()).strip()
    return refs


# ---------------------------------------------------------------- a submission's answers


def sanitize_png(raw: bytes) -> tuple[bytes | None, str]:
    """Decodes an untrusted PNG and encodes it again; ``(png, "")`` or ``(None, why)``."""
    from PIL import Image

    if len(raw) > MAX_PNG_BYTES:
        return None, f"an image of {len(raw) / 2**20:.1f} MiB (more than 8 MiB) was left out"
    if not raw.startswith(PNG_SIGNATURE):
        return None, "an output declared as PNG is not a PNG image; left out"
    try:
        with Image.open(io.BytesIO(raw), formats=["PNG"]) as image:
            width, height = image.size
            if width * height > MAX_PIXELS or width < 1 or height < 1:
                return None, f"an image of {width}x{height} pixels was left out (too large)"
            image.load()
            image = image.convert("RGBA")
        if image.width > FIGURE_WIDTH:
            image = image.resize(
                (FIGURE_WIDTH, max(1, round(image.height * FIGURE_WIDTH / image.width)))
            )
        out = io.BytesIO()
        image.save(out, format="PNG", optimize=True)
        return out.getvalue(), ""
    except Exception as exc:  # truncated, corrupt, a decompression bomb, ...
        return None, f"an image could not be decoded as PNG ({type(exc).__name__}); left out"


def _figures(cells: list[dict]) -> tuple[list[str], list[str]]:
    figures, notes = [], []
    for cell in cells:
        outputs = cell.get("outputs") if cell.get("cell_type") == "code" else None
        for output in outputs if isinstance(outputs, list) else []:
            data = output.get("data") if isinstance(output, dict) else None
            if not isinstance(data, dict) or "image/png" not in data:
                continue
            if len(figures) >= MAX_FIGURES:
                notes.append(f"more than {MAX_FIGURES} figures: the first {MAX_FIGURES} are shown")
                return figures, notes
            encoded = "".join(_text(data["image/png"]).split())
            if len(encoded) > MAX_PNG_BYTES * 4 // 3 + 4:
                notes.append("an image of more than 8 MiB was left out")
                continue
            try:
                raw = base64.b64decode(encoded, validate=True)
            except (binascii.Error, ValueError):
                notes.append("an output declared as PNG is not valid base64; left out")
                continue
            png, why = sanitize_png(raw)
            if png is None:
                notes.append(why)
            else:
                figures.append(base64.b64encode(png).decode("ascii"))
    return figures, notes


def extract(data: bytes | None, spec, refs: dict[str, Reference] | None = None) -> dict:
    """A submission's written answers, as plain data: ``{id: {status, text, figures, ...}}``.

    ``status`` is ``answered``, ``unanswered`` (the placeholder is still there),
    ``missing`` (no cell tagged ``answer:<id>``) or ``unreadable`` (not a notebook).
    """
    refs = refs if refs is not None else references(spec)
    cells = None
    if data is not None:
        try:
            raw = json.loads(data)
            cells = raw.get("cells") if isinstance(raw, dict) else None
        except (ValueError, UnicodeDecodeError, RecursionError):
            cells = None
    cells = [c for c in cells if isinstance(c, dict)] if isinstance(cells, list) else None
    out = {}
    for m in spec.manual:
        entry = {"status": "unreadable", "text": "", "figures": [], "notes": []}
        if cells is not None:
            answer = [c for c in cells if ANSWER_TAG + m.id in _tags(c)]
            text = "\n\n".join(_text(c.get("source")).strip() for c in answer).strip()
            if len(text) > MAX_ANSWER_CHARS:
                entry["notes"].append(f"the answer was cut at {MAX_ANSWER_CHARS:,} characters")
                text = text[:MAX_ANSWER_CHARS]
            placeholder = refs[m.id].placeholder if m.id in refs else ""
            if not answer:
                entry["status"] = "missing"
            elif not text or (placeholder and text == placeholder):
                entry["status"] = "unanswered"
            else:
                entry["status"] = "answered"
            entry["text"] = text
            figure_cells = [c for c in cells if FIGURE_TAG + m.id in _tags(c)]
            entry["figures"], notes = _figures(figure_cells)
            entry["notes"] += notes
        entry["answer"] = answer_digest(entry)
        out[m.id] = entry
    return out


def answer_digest(entry: dict) -> str:
    """A short digest of what the TA grades (status, text and figures)."""
    digest = hashlib.sha256(entry["status"].encode())
    for part in (entry["text"], *entry["figures"]):
        digest.update(b"\0" + part.encode())
    return digest.hexdigest()[:12]


def _read_json(path: Path):
    try:
        if path.is_symlink() or not path.is_file():
            return None
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def attach(result, spec, out_dir: Path, data: bytes | None) -> None:
    """Sets ``result.manual`` and writes ``out_dir/answers.json`` (when the lab has manual questions).

    Points already merged into ``out_dir/grade.json`` stay when the answer they
    were given to is unchanged (a regrade after a new hidden test, say).
    """
    from autograder.grade import ManualResult
    from autograder.report import atomic_write

    if not spec.manual:
        return
    answers = extract(data, spec)
    atomic_write(out_dir / ANSWERS_FILE, json.dumps({"lab": spec.lab, "answers": answers}))
    old = _read_json(out_dir / "grade.json")
    kept = {}
    for item in (old or {}).get("manual", []) if isinstance(old, dict) else []:
        if isinstance(item, dict) and item.get("score") is not None:
            kept[item.get("id")] = item
    result.manual = []
    for m in spec.manual:
        entry = ManualResult(m.id, m.title, float(m.points), answer=answers[m.id]["answer"])
        previous = kept.get(m.id)
        if previous and previous.get("answer") == entry.answer:
            entry.score, entry.comment = float(previous["score"]), str(previous.get("comment", ""))
        result.manual.append(entry)


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
        data = _read_json(sub / "grade.json")
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
        saved = _read_json(out_dir / "submissions" / name / ANSWERS_FILE)
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


def _mean(choices, word) -> str:
    close = difflib.get_close_matches(word, choices, n=1)
    return f" Did you mean {close[0]!r}?" if close else ""


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
        saved = _read_json(out_dir / "submissions" / name / ANSWERS_FILE)
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
                + _mean(sorted(grades), student)
            )
            continue
        if qid not in questions:
            problems.append(
                f"{where}: question {qid!r} is not a manual question of lab {spec.lab}; its "
                f"manual questions are {', '.join(questions)}." + _mean(list(questions), qid)
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
            from autograder.grade import ManualResult

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


def pending(spec) -> list:
    """A ``ManualResult`` per manual question, not graded yet."""
    from autograder.grade import ManualResult

    return [ManualResult(m.id, m.title, float(m.points)) for m in spec.manual]


__all__ = [
    "ManualError",
    "Merged",
    "Reference",
    "attach",
    "collect",
    "extract",
    "load_manual",
    "merge",
    "pending",
    "question_page",
    "references",
    "sanitize_png",
]


# ---------------------------------------------------------------- validating a lab


def _header_line(lines: list[str], tag: str) -> int | None:
    """The source line of the cell header carrying ``tag``."""
    for number, line in enumerate(lines, start=1):
        if line.startswith("# %%") and (f'"{tag}"' in line or f"'{tag}'" in line):
            return number
    return None


def manual_problems(lab) -> list:
    """What is wrong with a lab's manual questions (``autograder.validate`` runs it).

    Every ``ManualQuestion`` has one answer cell in the student notebook and one
    model answer in the solution notebook; every ``answer:``/``figure:`` tag names
    one of them; a figure tag sits on a code cell; no line of a model answer can
    be read in the student notebook.
    """
    from autograder.validate import Problem, load_lab_questions

    try:
        questions = load_lab_questions(lab)
        manual = load_manual(lab.name, questions, lab.questions)
    except Exception as exc:  # reported by the questions check already, or here
        return [Problem(lab.rel(lab.questions), f"MANUAL cannot be loaded: {exc}")]
    ids = [m.id for m in manual]
    rel = lab.rel(lab.source)
    lines = lab.source.read_text(encoding="utf-8").splitlines()
    student, solution = source_cells(lab.source)
    problems = []

    def where(tag: str) -> str:
        line = _header_line(lines, tag)
        return f"{rel}:{line}" if line else rel

    for cell in [*student, *solution]:
        for tag in _tags(cell):
            for prefix in (ANSWER_TAG, FIGURE_TAG):
                qid = tag[len(prefix) :] if tag.startswith(prefix) else None
                if qid is not None and qid not in ids:
                    known = ", ".join(ids) or "none"
                    problems.append(
                        Problem(
                            where(tag),
                            f"tag {tag!r} names no manual question of the lab (its MANUAL "
                            f"questions are {known}).{_mean(ids, qid)} Declare it in "
                            f"{lab.rel(lab.questions)} or fix the tag.",
                        )
                    )
            if tag.startswith(FIGURE_TAG) and cell.cell_type != "code":
                problems.append(
                    Problem(
                        where(tag),
                        f"tag {tag!r} is on a markdown cell; put it on the "
                        "code cell that draws the figure.",
                    )
                )
            if tag.startswith(ANSWER_TAG) and not {"student", "solution"} & set(_tags(cell)):
                problems.append(
                    Problem(
                        where(tag),
                        f"the cell tagged {tag!r} is in both notebooks; tag the student's "
                        'answer cell "student" and the model answer "solution".',
                    )
                )
    student_text = " ".join(" ".join(c.source for c in student).replace("*", "").split())
    for m in manual:
        tag = ANSWER_TAG + m.id
        answers = [c for c in student if tag in _tags(c) and "student" in _tags(c)]
        models = [c for c in solution if tag in _tags(c) and "solution" in _tags(c)]
        if len(answers) != 1:
            problems.append(
                Problem(
                    where(tag),
                    f"manual question {m.id!r} needs one answer cell for the student, found "
                    f'{len(answers)}: add `# %% [markdown] tags=["student", "{tag}"]` with '
                    "'*Your answer:* YOUR ANSWER HERE' after its prompt.",
                )
            )
        if len(models) != 1:
            problems.append(
                Problem(
                    where(tag),
                    f"manual question {m.id!r} needs one model answer, found {len(models)}: "
                    f'add `# %% [markdown] tags=["solution", "{tag}"]` after its answer cell.',
                )
            )
        for model in models:
            flat = " ".join(model.source.replace("*", "").split())
            for text in re.split(r"(?<=[.:;!?])\s+", flat):
                if len(text) >= 30 and text in student_text:
                    problems.append(
                        Problem(
                            where(tag),
                            f"the model answer of {m.id!r} can be read in the student "
                            f"notebook: {text[:80]!r}; keep it in the solution cell only.",
                        )
                    )
                    break
    unique = {str(p): p for p in problems}  # a cell in both notebooks is read twice
    return list(unique.values())
