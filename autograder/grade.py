"""Grade submissions: run each in a sandbox, export answers, judge them on the trusted side.

Public API (see docs/grading.md):

- ``grade_submission(lab, notebook_path, out_dir, *, hidden_dir=None, timeout=None,
  questions_path=None, limits=None) -> SubmissionResult``
- ``grade_batch(lab, submissions, out_dir, *, workers=1, ...) -> BatchResult``
  (in ``autograder.batch``)

Every question of the lab appears in every result with a score and a reason.
Nothing the kernel prints is parsed; nothing it writes is trusted: answers are
read as plain data (``autograder.plainio``) and judged here with
``cnnlabs.checks.judge``, the same function as the check cells.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import tempfile
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat

from autograder import plainio
from autograder.answers import ManualResult
from autograder.integrity import apply_api_rules
from autograder.judging import expected_value
from autograder.labspec import LabSpec, default_hidden_dir, load_lab
from autograder.sandbox import USER_PREFIX, Limits, Sandbox, preflight
from cnnlabs.checks.plain import describe
from cnnlabs.checks.spec import Question, case_seed, make_inputs
from cnnlabs.checks.verdict import (
    ERROR,
    FAILED,
    NOT_ATTEMPTED,
    PASSED,
    CaseOutcome,
    judge,
)

GRADER_VERSION = "2"  # 2: integers exact, hidden draws, models judged in a worker
MAX_NOTEBOOK_BYTES = 64 * 2**20
EXPORT_TIMEOUT = 60.0
GRADER_ERROR = "grader_error"
TIMEOUT, OOM, DIED, TAMPERING, INVALID = "timeout", "oom", "kernel_died", "tampering", "invalid"


class SubmissionError(ValueError):
    """A submission that cannot be graded at all (not JSON, not a notebook, wrong lab)."""


# ---------------------------------------------------------------- results


@dataclass
class TestResult:
    name: str
    public: bool
    status: str
    score: float
    max_score: float
    message: str = ""  # shown to the student for public cases only
    hint: str = ""


@dataclass
class QuestionResult:
    id: str
    title: str
    max_score: float
    score: float
    status: str  # passed / partial / failed / not_attempted / error / timeout / oom / ...
    reason: str
    tests: list[TestResult] = field(default_factory=list)


@dataclass
class SubmissionResult:
    submission: str
    lab: str
    score: float
    max_score: float
    questions: list[QuestionResult]
    sandbox: str
    key: str
    seconds: float = 0.0
    events: list[dict] = field(default_factory=list)
    error: str = ""
    sandbox_user: str = ""  # the unprivileged user the kernel ran as
    sandbox_id: str = ""  # names its cgroups (cnnlabs-<id>) and scratch folder
    needs_review: list[str] = field(default_factory=list)  # indirection an instructor should read
    hidden_seed: int | None = None  # the seed the hidden cases' inputs were drawn from
    manual: list[ManualResult] = field(default_factory=list)  # written answers, for TAs
    reused: bool = field(default=False, compare=False)  # a saved grade, not graded again
    # Where the seconds went: kernel start, the notebook's cells, the export of the
    # answers (hidden cases run in the kernel), judging (model workers included).
    phases: dict[str, float] = field(default_factory=dict, compare=False)

    def to_dict(self) -> dict:
        data = asdict(self)
        del data["reused"]
        return data

    @classmethod
    def from_dict(cls, data: dict) -> SubmissionResult:
        questions = [
            QuestionResult(**{**q, "tests": [TestResult(**t) for t in q["tests"]]})
            for q in data["questions"]
        ]
        manual = [ManualResult(**m) for m in data.get("manual", [])]
        return cls(**{**data, "questions": questions, "manual": manual})

    @property
    def status(self) -> str:
        """``graded``, ``needs_review``, or why nothing was graded (``invalid``, ``grader_error``)."""
        if self.error:  # a whole failure: every question has the same status
            return self.questions[0].status if self.questions else "invalid"
        return "needs_review" if self.needs_review else "graded"


# (the lab spec, `LabSpec` and `load_lab`, lives in autograder/labspec.py)


# ---------------------------------------------------------------- notebook


def read_notebook(data: bytes, lab: str):
    """Parses a submission; raises SubmissionError with a clear reason."""
    if len(data) > MAX_NOTEBOOK_BYTES:
        raise SubmissionError(
            f"the file is {len(data) / 2**20:.0f} MiB, more than {MAX_NOTEBOOK_BYTES // 2**20} MiB; "
            "clear the outputs (Edit > Clear all outputs) and submit again."
        )
    try:
        raw = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise SubmissionError(
            "the file is not JSON, so not a Jupyter notebook; submit the .ipynb file "
            "(File > Download > Download .ipynb)."
        ) from None
    if (
        not isinstance(raw, dict)
        or "nbformat" not in raw
        or not ("cells" in raw or "worksheets" in raw)
    ):
        raise SubmissionError("the file is JSON but not a Jupyter notebook (no nbformat/cells).")
    try:
        nb = nbformat.reads(json.dumps(raw), as_version=4)
    except Exception as exc:
        raise SubmissionError(
            f"the notebook (nbformat {raw.get('nbformat')}) cannot be read: {exc}"
        ) from None
    tag = nb.metadata.get("cnnlabs") if isinstance(nb.metadata, dict) else None
    if tag is not None and not isinstance(tag, dict):
        raise SubmissionError(
            f"the notebook's metadata 'cnnlabs' is a {type(tag).__name__}, expected a dict "
            'such as {"lab": ...}; submit the lab notebook you were given, without '
            "editing its metadata."
        )
    found = (tag or {}).get("lab")
    if found is not None and found != lab:
        raise SubmissionError(
            f"this notebook is lab {found!r}, but it was submitted for lab {lab!r}; "
            "submit the notebook of this lab."
        )
    sources = []
    for cell in nb.cells:
        if cell.get("cell_type") == "code":
            source = cell.get("source", "")
            if isinstance(source, list):
                source = "".join(source)
            if isinstance(source, str) and source.strip():
                sources.append(source)
    return sources


# ---------------------------------------------------------------- grading


def submission_key(data: bytes, spec: LabSpec, seed: int | None = None) -> str:
    digest = hashlib.sha256(data)
    digest.update(spec.digest.encode())
    digest.update(GRADER_VERSION.encode())
    digest.update(f"seed={seed}".encode())
    return digest.hexdigest()


def default_seed(spec: LabSpec) -> int:
    """The hidden cases' seed when none is given: fixed by the lab's questions and hidden tests.

    So every submission of one version of a lab (each in its own Gradescope
    container) is judged on the same hidden inputs.
    """
    return int(spec.digest[:15], 16)


def _all_cases(spec: LabSpec, question: Question):
    for case in question.public:
        yield case, True
    for case in spec.hidden.get(question.id, ()):
        yield case, False


def case_points(spec: LabSpec, question: Question) -> list[float]:
    """Points of each case of a question, in ``_all_cases`` order.

    A question's points are split equally between its cases (public and hidden);
    a random hidden case drawn n times gives each draw 1/n of its share.
    """
    draws = spec.draws.get(question.id, {})
    cases = [case for case, _ in _all_cases(spec, question)]
    n_cases = sum(1 / draws.get(case.name, 1) for case in cases)
    share = float(question.points) / max(round(n_cases), 1)
    return [share / draws.get(case.name, 1) for case in cases]


def whole_failure(spec, name, key, status, reason, sandbox="not run") -> SubmissionResult:
    """A result where every case of every question has `status` (0 points) for `reason`:
    a submission that could not be read, run or judged at all."""
    questions = []
    for q in spec.questions:
        points = case_points(spec, q)
        tests = [
            TestResult(c.name, pub, status, 0.0, w)
            for (c, pub), w in zip(_all_cases(spec, q), points)
        ]
        questions.append(QuestionResult(q.id, q.title, float(q.points), 0.0, status, reason, tests))
    manual = [ManualResult(m.id, m.title, float(m.points)) for m in spec.manual]
    return SubmissionResult(
        name, spec.lab, 0.0, spec.max_score, questions, sandbox, key, error=reason, manual=manual
    )


def _judge_questions(spec, plans, scratch: Path, nonce: str, exported: dict, slot: int) -> dict:
    """Reads the kernel's records and judges every case; returns ``{question id: (tests, tamper)}``.

    Plain answers are judged here; model answers (kind ``"model"``), of every
    question at once, are rebuilt and judged in a worker process under limits
    (``autograder.modeljudge``). A reference that raises makes that case
    ``grader_error``, never a wrong answer.
    """
    from autograder import modeljudge

    judged, items, where = {}, [], []
    for question in spec.questions:
        tests, tamper, models = _judge_plain(
            spec, question, plans[question.id], scratch, nonce, exported.get(question.id)
        )
        judged[question.id] = (tests, tamper)
        points = case_points(spec, question)
        for k, case, record in models:
            public, inputs = plans[question.id][k][1], plans[question.id][k][2]
            if not record.get("model"):
                tests[k] = TestResult(
                    case.name, public, FAILED, 0.0, points[k], "no model was exported", case.hint
                )
                continue
            try:
                expected = expected_value(case, inputs)
            except Exception:
                tests[k] = _reference_failed(case, public, points[k])
                continue
            stem = f"{nonce}_out_{question.id}_{k}"
            items.append(
                (
                    question,
                    case,
                    expected,
                    scratch / f"{stem}_model.json",
                    scratch / f"{stem}_model.weights.h5",
                )
            )
            where.append((question, k, public, points[k]))
    verdicts = modeljudge.judge_models(spec, items, slot) if items else {}
    for question, k, public, points in where:
        case = plans[question.id][k][0]
        status, message = verdicts.get(
            (question.id, case.name), (FAILED, "the model could not be judged.")
        )
        score = points if status == PASSED else 0.0
        hint = case.hint if status != PASSED else ""
        judged[question.id][0][k] = TestResult(
            case.name, public, status, score, points, message, hint
        )
    return {
        qid: ([t for t in tests if t is not None], tamper)
        for qid, (tests, tamper) in judged.items()
    }


def _judge_plain(spec, question, plans, scratch: Path, nonce: str, export_event):
    """One question's plain cases judged; returns (tests with None for models, tamper, models)."""
    points = case_points(spec, question)
    tests: list[TestResult | None] = []
    models = []  # (index, case, record)
    tamper = ""
    for k, (case, public, inputs) in enumerate(plans):
        stem = f"{nonce}_out_{question.id}_{k}"
        outcome = None
        try:
            record = plainio.read(scratch, stem)
        except FileNotFoundError:
            outcome = CaseOutcome(
                case.name,
                export_event or ERROR,
                "no answer was produced" if not export_event else "",
            )
        except plainio.TamperError as exc:
            tamper = str(exc)
            outcome = CaseOutcome(case.name, TAMPERING, str(exc))
        if outcome is None:
            outcome = _judge_record(question, case, public, inputs, record)
        if outcome is None:  # a model answer: judged with the others, in a worker
            models.append((k, case, record))
            tests.append(None)
            continue
        score = points[k] if outcome.status == PASSED else 0.0
        tests.append(
            TestResult(
                case.name, public, outcome.status, score, points[k], outcome.message, outcome.hint
            )
        )
    return tests, tamper, models


def _reference_failed(case, public: bool, points: float) -> TestResult:
    return TestResult(
        case.name,
        public,
        GRADER_ERROR,
        0.0,
        points,
        "the reference answer failed (a bug in the lab's tests, not in your code): "
        + traceback.format_exc(limit=2).strip().splitlines()[-1],
    )


def _judge_record(question, case, public: bool, inputs, record) -> CaseOutcome | None:
    """The verdict on one plain record; None for a model answer (judged in a worker)."""
    status = record["status"]
    if status == "not_attempted":
        return CaseOutcome(case.name, NOT_ATTEMPTED, "not attempted", case.hint)
    if status == "error":
        text = record.get("traceback")
        return CaseOutcome(case.name, ERROR, text if isinstance(text, str) else "", case.hint)
    if status == "invalid":
        text = record.get("message")
        return CaseOutcome(case.name, FAILED, text if isinstance(text, str) else "", case.hint)
    if question.kind == "model":
        return None
    if "value" not in record:
        return CaseOutcome(case.name, TAMPERING, "result record without a value")
    try:
        expected = expected_value(case, inputs)
    except Exception:
        failed = _reference_failed(case, public, 0.0)
        return CaseOutcome(case.name, GRADER_ERROR, failed.message)
    received = record["value"]
    outcome = judge(question, case, expected, received)
    if outcome.status == FAILED and case.check is None and public:
        outcome.message += (
            f"\n    expected: {describe(expected)}\n    received: {describe(received)}"
        )
    return outcome


def _summarize(question: Question, tests: list[TestResult], events_text: str):
    score = round(sum(t.score for t in tests), 6)
    statuses = {t.status for t in tests}
    if not tests:
        return score, "passed", "no tests"
    if statuses == {PASSED}:
        return score, "passed", f"all {len(tests)} tests passed"
    n_pass = sum(t.status == PASSED for t in tests)
    passed = f"; {n_pass} of {len(tests)} tests passed" if n_pass else ""
    for special, reason in (
        (TAMPERING, "tampering detected; the answer was ignored"),
        (GRADER_ERROR, "the lab's reference answer failed on a test"),
        (OOM, "out of memory"),
        (TIMEOUT, "timed out"),
        (DIED, "the kernel died"),
    ):
        if special in statuses:
            return score, special, reason + passed + events_text
    if statuses == {NOT_ATTEMPTED}:
        return score, "not_attempted", "the answer is still `...` or None" + events_text
    if ERROR in statuses and n_pass == 0:
        return score, "error", "your code raised an error" + events_text
    if n_pass:
        return score, "partial", f"{n_pass} of {len(tests)} tests passed"
    return score, "failed", f"none of the {len(tests)} tests passed"


def grade_submission(
    lab: str,
    notebook_path: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    hidden_dir: str | os.PathLike | None = None,
    timeout: float | None = None,
    questions_path: str | os.PathLike | None = None,
    limits: Limits | None = None,
    slot: int = 0,
    name: str | None = None,
    spec: LabSpec | None = None,
    hidden_seed: int | None = None,
    reuse: bool = True,
) -> SubmissionResult:
    """Grades one notebook in a sandbox and writes ``results.json``, ``feedback.md``, ``grade.json``.

    Args:
        lab: lab stem or number (``"01_lenet5"``, ``"1"``).
        notebook_path: the submitted ``.ipynb``.
        out_dir: folder for this submission's results (created, mode 0700).
        hidden_dir: folder with ``<lab>.py`` hidden tests (default: ``labs/hidden``).
        timeout: wall-clock seconds for the whole submission (default: Limits).
        questions_path: a questions file instead of ``cnnlabs/checks/labNN_*.py``.
        limits: resource limits (``autograder.sandbox.Limits``).
        slot: worker slot (selects the sandbox user).
        hidden_seed: seed of the hidden cases' inputs, recorded in the result
            (default: ``default_seed(spec)``, fixed by the lab's question and hidden
            files, so every submission of a lab is judged on the same inputs).
        reuse: when ``out_dir`` holds this submission's result for the same
            notebook, lab spec and seed, return it instead of grading again.

    Returns:
        SubmissionResult (also saved as ``grade.json``, written last). Re-grading an
        unchanged submission with an unchanged lab spec and seed returns the saved
        result (``reused=True``) unless ``reuse=False``.
    """
    from autograder import answers, report

    start = time.monotonic()
    spec = spec or load_lab(lab, hidden_dir=hidden_dir, questions_path=questions_path)
    limits = limits or Limits()
    if timeout is not None:
        limits = Limits(**{**asdict(limits), "submission_timeout": float(timeout)})
    hidden_seed = default_seed(spec) if hidden_seed is None else int(hidden_seed)
    notebook_path = Path(notebook_path)
    name = name or notebook_path.stem
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(out_dir, 0o700)
    try:
        data = notebook_path.read_bytes()
    except OSError as exc:
        result = whole_failure(spec, name, "", INVALID, f"cannot read the file: {exc.strerror}")
        result.hidden_seed = hidden_seed
        report.write_submission(result, out_dir)
        return result
    key = submission_key(data, spec, hidden_seed)
    saved = out_dir / "grade.json"
    if reuse and saved.exists():
        try:
            old = SubmissionResult.from_dict(json.loads(saved.read_text()))
            if old.key == key:
                old.reused = True
                return old
        except (ValueError, TypeError, KeyError):
            pass
    try:
        sources = read_notebook(data, spec.lab)
    except SubmissionError as exc:
        result = whole_failure(spec, name, key, INVALID, str(exc))
        result.hidden_seed = hidden_seed
        answers.attach(result, spec, out_dir, None)
        report.write_submission(result, out_dir)
        return result
    result = _grade_sources(spec, sources, name, key, limits, slot, hidden_seed, out_dir)
    result.hidden_seed = hidden_seed
    if not result.error:
        apply_api_rules(result, spec.questions, sources)
    result.seconds = round(time.monotonic() - start, 3)
    answers.attach(result, spec, out_dir, data)  # written answers, read as plain data
    report.write_submission(result, out_dir)
    return result


def _grade_sources(spec, sources, name, key, limits, slot, hidden_seed, out_dir):
    from autograder.execute import KernelSession, load_kernel_side, run_cells

    deadline = time.monotonic() + limits.submission_timeout  # cells, restarts and export
    # A questions file given by path (fixtures, a course's own labs) is read by the
    # notebook's check cells: the sandbox shows it, and nothing else of its folder.
    hidden_dirs = [str(p.resolve()) for p in (spec.hidden_dir, default_hidden_dir()) if p]
    questions_files = tuple(
        sorted(
            {
                Path(code.co_filename)
                for q in spec.questions
                for case in q.public
                for fn in (case.inputs, case.expected, case.check)
                if (code := getattr(fn, "__code__", None)) and os.path.isfile(code.co_filename)
                if not any(code.co_filename.startswith(h + os.sep) for h in hidden_dirs)
            }
        )
    )
    described = preflight(limits, expose=questions_files)  # raises SandboxUnavailable
    base = Path(tempfile.mkdtemp(prefix="cnnlabs-grade-"))
    os.chmod(base, 0o711)  # the fallback's sandbox user reaches its scratch folder
    hide = [p for p in (spec.hidden_dir, default_hidden_dir(), out_dir) if p is not None]
    try:
        sandbox = Sandbox(slot, base, limits, hide=tuple(hide), expose=questions_files)
    except BaseException:
        shutil.rmtree(base, ignore_errors=True)
        raise
    events = []
    exported: dict[str, str] = {}
    phases: dict[str, float] = {}
    nonce = secrets.token_hex(8)
    rng_seed = hidden_seed  # resolved by grade_submission (a run's seed or default_seed)
    session = None
    try:
        plans = {}
        manifest = {"nonce": nonce, "questions": {}}
        for question in spec.questions:
            plans[question.id] = []
            cases = []
            for k, (case, public) in enumerate(_all_cases(spec, question)):
                seed = (
                    case_seed(spec.lab, question.id, case.name)
                    if public
                    else case_seed(spec.lab, question.id, case.name, salt=f"hidden{rng_seed}")
                )
                inputs = make_inputs(case, seed)
                plans[question.id].append((case, public, inputs))
                stem = None
                if case.inputs is not None:
                    stem = f"{nonce}_in_{question.id}_{k}"
                    plainio.write(sandbox.scratch, stem, inputs)
                cases.append({"inputs": stem})
            manifest["questions"][question.id] = {
                "answer": question.answer,
                "kind": question.kind,
                "cases": cases,
            }
        manifest_path = sandbox.scratch / f"{nonce}_manifest.json"
        manifest_path.write_text(json.dumps(manifest))
        os.chmod(manifest_path, 0o644)
        try:
            clock = time.monotonic()
            session = KernelSession(sandbox, deadline=deadline)
            phases["kernel start"] = time.monotonic() - clock
        except Exception as exc:
            return whole_failure(
                spec, name, key, DIED, f"the kernel did not start: {exc}", described
            )
        clock = time.monotonic()
        run = run_cells(session, sources, limits.cell_timeout, deadline)
        phases["cells"], clock = time.monotonic() - clock, time.monotonic()
        events = [asdict(e) for e in run.events]
        status, detail = load_kernel_side(session)
        if status != "ok":
            events.append(
                {
                    "where": "export",
                    "kind": TAMPERING,
                    "detail": f"the export code could not be defined ({status} {detail})",
                }
            )
        for question in spec.questions:
            status, detail = session.run(
                f"_cnnlabs_export({str(manifest_path)!r}, {question.id!r})",
                min(EXPORT_TIMEOUT, limits.cell_timeout),
            )
            if status == "died":
                exported[question.id] = OOM if sandbox.oom_killed() else DIED
                session.restart()
                if session.kc is not None:
                    load_kernel_side(session)
            elif status == "timeout":
                exported[question.id] = TIMEOUT
            elif status == "error":
                exported[question.id] = ERROR
                events.append({"where": f"export {question.id}", "kind": "error", "detail": detail})
        session.close()  # nothing runs while the trusted side reads the files
        phases["export"], clock = time.monotonic() - clock, time.monotonic()
        session = None
        planted = sorted(
            p.name for p in sandbox.scratch.glob("*_out_*") if not p.name.startswith(nonce)
        )
        if planted:
            events.append(
                {
                    "where": "scratch",
                    "kind": TAMPERING,
                    "detail": f"{len(planted)} pre-planted result files ignored",
                }
            )
        events_text = _events_text(events)
        questions = []
        judged = _judge_questions(spec, plans, sandbox.scratch, nonce, exported, slot)
        phases["judging"] = time.monotonic() - clock
        for question in spec.questions:
            tests, tamper = judged[question.id]
            score, status, reason = _summarize(question, tests, events_text)
            if tamper:
                reason = f"tampering detected: {tamper}"
            questions.append(
                QuestionResult(
                    question.id,
                    question.title,
                    float(question.points),
                    score,
                    status,
                    reason,
                    tests,
                )
            )
        total = round(sum(q.score for q in questions), 6)
        user = f"{USER_PREFIX}{sandbox.slot}" if sandbox.uid is not None else ""
        return SubmissionResult(
            name,
            spec.lab,
            total,
            spec.max_score,
            questions,
            described,
            key,
            events=events,
            sandbox_user=user,
            sandbox_id=sandbox.id,
            phases={name: round(seconds, 3) for name, seconds in phases.items()},
        )
    finally:
        if session is not None:
            session.close()
        sandbox.close()
        shutil.rmtree(base, ignore_errors=True)


def _events_text(events) -> str:
    notes = [e for e in events if e["kind"] in ("timeout", "died", "oom", "submission_timeout")]
    if not notes:
        return ""
    words = {
        "timeout": "timed out",
        "died": "killed the kernel",
        "oom": "ran out of memory",
        "submission_timeout": "was not reached before the time limit",
    }
    parts = [f"{e['where']} {words[e['kind']]}" for e in notes[:3]]
    return " (" + "; ".join(parts) + ")"
