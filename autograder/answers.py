"""Written answers: what a lab declares, and what a submission answers (read as plain data).

A lab's manual questions are declared in its questions file
(``MANUAL = (ManualQuestion(...), ...)``, ``cnnlabs.checks.manual``) and marked
in its source with cell tags: ``answer:<id>`` on the student's answer cell and
on the model answer (a ``solution`` cell), ``figure:<id>`` on the code cell
whose figure the question refers to. ``manual_problems`` checks that marking
(``autograder.validate`` reports it).

``attach`` (called by ``grade_submission``) reads a submission's answers as plain
data: the text of its ``answer:<id>`` cells and the PNG outputs of its
``figure:<id>`` cells, as the student's own run left them. Nothing is executed; a
figure is decoded and encoded again by Pillow (PNG only, size and pixel caps) or
dropped. They are saved as ``answers.json`` beside ``grade.json``, and points
already merged for the same answer are kept. The TAs' pages and the merge of
their points are ``autograder.manual``.
"""

from __future__ import annotations

import base64
import binascii
import difflib
import hashlib
import importlib
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path

from cnnlabs.checks.manual import ANSWER_TAG, FIGURE_TAG, ManualQuestion, validate_manual

ANSWERS_FILE = "answers.json"
MAX_ANSWER_CHARS = 20_000  # of one answer's text; the rest is cut, and the page says so
MAX_FIGURES = 4  # per question and student
MAX_PNG_BYTES = 8 * 2**20  # decoded, per image
MAX_PIXELS = 4096 * 4096
FIGURE_BOX = (1000, 1500)  # larger figures are scaled down to fit (width, height)
MAX_FIGURE_BYTES = 3 * 2**19  # 1.5 MiB per figure once encoded again: the TAs' page stays light
MAX_ANSWER_FIGURE_BYTES = 3 * 2**20  # all the figures of one answer
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass
class ManualResult:
    """A written answer graded by a TA; ``score`` is None until merged (``autograder.manual``)."""

    id: str
    title: str
    max_score: float
    score: float | None = None
    comment: str = ""  # the TA's, shown to the student
    answer: str = ""  # digest of the answer the points were given to


# ---------------------------------------------------------------- the lab's side


def load_manual(stem: str, questions, questions_path=None) -> tuple[ManualQuestion, ...]:
    """The ``MANUAL`` questions of a lab (``()`` when it declares none)."""
    from cnnlabs.checks.spec import checks_modules, load_module_from_path

    if questions_path is not None:
        module = load_module_from_path(
            questions_path, f"cnnlabs_manual_{Path(questions_path).stem}"
        )
        where = str(questions_path)
    else:
        module = importlib.import_module(checks_modules()[stem])
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
        image.thumbnail(FIGURE_BOX)  # keeps the aspect ratio; never enlarges
        out = io.BytesIO()
        image.save(out, format="PNG")
        if out.tell() > MAX_FIGURE_BYTES:
            return None, (
                f"an image of {image.width}x{image.height} pixels takes {out.tell() / 2**20:.1f} "
                "MiB as PNG (more than 1.5 MiB); left out"
            )
        return out.getvalue(), ""
    except Exception as exc:  # truncated, corrupt, a decompression bomb, ...
        return None, f"an image could not be decoded as PNG ({type(exc).__name__}); left out"


def _figures(cells: list[dict]) -> tuple[list[str], list[str]]:
    figures, notes, budget = [], [], MAX_ANSWER_FIGURE_BYTES
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
            if png is not None and len(png) > budget:
                png, why = None, "the figures take more than 3 MiB: the later ones are left out"
            if png is None:
                notes.append(why)
            else:
                budget -= len(png)
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


def read_json(path: Path):
    """The JSON in a regular file at `path`, or None (missing, a link, unreadable, not JSON)."""
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
    from autograder.report import atomic_write

    if not spec.manual:
        return
    answers = extract(data, spec)
    atomic_write(out_dir / ANSWERS_FILE, json.dumps({"lab": spec.lab, "answers": answers}))
    old = read_json(out_dir / "grade.json")
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


# ---------------------------------------------------------------- validating a lab


def did_you_mean(choices, word) -> str:
    """`" Did you mean 'x'?"` for the closest of `choices` to `word`, else `""`."""
    close = difflib.get_close_matches(word, choices, n=1)
    return f" Did you mean {close[0]!r}?" if close else ""


def _header_line(lines: list[str], tag: str) -> int | None:
    """The source line of the cell header carrying ``tag``."""
    for number, line in enumerate(lines, start=1):
        if line.startswith("# %%") and (f'"{tag}"' in line or f"'{tag}'" in line):
            return number
    return None


def manual_problems(lab) -> list[tuple[str, str]]:
    """What is wrong with a lab's manual questions, as ``(where, what)``.

    ``autograder.validate`` reports them. Every ``ManualQuestion`` has one answer
    cell in the student notebook and one model answer in the solution notebook;
    every ``answer:``/``figure:`` tag names one of them; a figure tag sits on a
    code cell; no sentence of a model answer can be read in the student notebook.
    """
    from cnnlabs.checks.spec import load_questions

    try:
        questions = load_questions(lab.name, path=lab.questions)
        manual = load_manual(lab.name, questions, lab.questions)
    except Exception as exc:  # reported by the questions check already, or here
        return [(lab.rel(lab.questions), f"MANUAL cannot be loaded: {exc}")]
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
                        (
                            where(tag),
                            f"tag {tag!r} names no manual question of the lab (its MANUAL "
                            f"questions are {known}).{did_you_mean(ids, qid)} Declare it in "
                            f"{lab.rel(lab.questions)} or fix the tag.",
                        )
                    )
            if tag.startswith(FIGURE_TAG) and cell.cell_type != "code":
                problems.append(
                    (
                        where(tag),
                        f"tag {tag!r} is on a markdown cell; put it on the "
                        "code cell that draws the figure.",
                    )
                )
            if tag.startswith(ANSWER_TAG) and not {"student", "solution"} & set(_tags(cell)):
                problems.append(
                    (
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
                (
                    where(tag),
                    f"manual question {m.id!r} needs one answer cell for the student, found "
                    f'{len(answers)}: add `# %% [markdown] tags=["student", "{tag}"]` with '
                    "'*Your answer:* YOUR ANSWER HERE' after its prompt.",
                )
            )
        if len(models) != 1:
            problems.append(
                (
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
                        (
                            where(tag),
                            f"the model answer of {m.id!r} can be read in the student "
                            f"notebook: {text[:80]!r}; keep it in the solution cell only.",
                        )
                    )
                    break
    return list(dict.fromkeys(problems))  # a cell in both notebooks is read twice
