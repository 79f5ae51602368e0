"""Check cells: run a question's public cases on the student's answer and explain.

In a notebook::

    from cnnlabs.checks import checker, or_reference
    check = checker("01_lenet5")
    ...
    check("conv_by_hand", conv2d_by_hand)

``check`` never raises: an untouched stub prints "not attempted yet", an
exception inside the student's code prints a trimmed traceback and the hint, so
"Run all" always reaches the end of the notebook. The verdict comes from
``judge`` (``cnnlabs.checks.verdict``), the same function the autograder applies
to the same public inputs (seeded from lab, question and case), so the grade
matches what the student saw.

This module runs in the student's kernel and holds no reference solution: a
public case's expected output is stored data (``cnnlabs.checks.stored``). What
only the grader runs (expected values of hidden cases from the references,
judging exported answers) lives in ``autograder/judging.py`` and
``autograder/references/``; the model round trip shared by both sides is
``cnnlabs.checks.modelio``.
"""

from __future__ import annotations

import copy
import dis
import os
import sys
import tempfile
import traceback
from pathlib import Path

from cnnlabs.checks.apirules import check_cell_note
from cnnlabs.checks.modelio import export_model, rebuild_model
from cnnlabs.checks.plain import PlainDataError, describe, to_plain
from cnnlabs.checks.spec import Case, Question, case_seed, load_questions, make_inputs, resolve_lab
from cnnlabs.checks.verdict import ERROR, FAILED, NOT_ATTEMPTED, PASSED, CaseOutcome, judge

__all__ = [
    "ERROR",
    "FAILED",
    "NOT_ATTEMPTED",
    "PASSED",
    "CaseOutcome",
    "Checker",
    "checker",
    "export_model",
    "format_outcomes",
    "is_unattempted",
    "judge",
    "or_reference",
    "produce",
    "public_expected",
    "run_public_case",
    "student_traceback",
]
_HERE = str(Path(__file__).resolve().parent)
MAX_TRACEBACK_LINES = 12


# ---------------------------------------------------------------- stubs


def _is_stub_function(func) -> bool:
    """True for a function whose body only returns None or ``...`` (an untouched stub)."""
    code = getattr(func, "__code__", None)
    if code is None:
        return False
    ops = [
        (ins.opname, ins.argval)
        for ins in dis.get_instructions(code)
        if ins.opname not in ("RESUME", "NOP", "CACHE", "EXTENDED_ARG")
    ]
    if len(ops) == 1 and ops[0][0] == "RETURN_CONST":
        return ops[0][1] is None or ops[0][1] is Ellipsis
    if len(ops) == 2 and ops[0][0] == "LOAD_CONST" and ops[1][0] == "RETURN_VALUE":
        return ops[0][1] is None or ops[0][1] is Ellipsis
    return False


def is_unattempted(answer) -> bool:
    """True for ``...``, ``None`` and functions whose body is only a stub."""
    if answer is Ellipsis or answer is None:
        return True
    return callable(answer) and _is_stub_function(answer)


def or_reference(
    value, reference_factory, what: str, *, probe: dict | None = None, accept=None
):
    """Returns ``value`` when the exercise is done, else the reference implementation.

    Lab cells that build on an exercise call this so the rest of the lab runs
    even before the exercise is solved, or when the student's answer raises or
    returns something the cell cannot use.

    Args:
        value: the student's answer (a value, a function or a model).
        reference_factory: callable with no arguments returning the reference.
        what: str, the exercise's name in the message.
        probe: optional keyword arguments; when ``value`` is a function, it is
            called with them, and a result of ``None``/``...`` or an exception means
            "not done yet".
        accept: optional ``accept(result) -> bool``, where ``result`` is the probe's
            result (or ``value`` itself without a probe); ``False`` or an exception
            means the answer cannot be used, and the reference is used instead.

    Returns:
        ``value``, or ``reference_factory()`` after printing one line. The factory
        returns a stand-in (``cnnlabs.checks.fallbacks``, Keras or library code),
        never a reference solution.
    """
    done = not is_unattempted(value)
    problem = ""
    if done and probe is not None and callable(value):
        try:
            result = value(**copy.deepcopy(probe))
            done = not is_unattempted(result)
        except Exception as exc:
            done, problem = False, f"raised {type(exc).__name__}: {exc}"
    else:
        result = value
    if done and accept is not None:
        try:
            done = bool(accept(result))
        except Exception:
            done = False
        if not done:
            problem = f"returned {type(result).__name__}, which the next cells cannot use"
    if done:
        return value
    if problem:
        print(
            f"{what[0].upper()}{what[1:]} {problem.splitlines()[0][:200]}: using the reference "
            "implementation so the rest of the lab runs (the check cell above says what to fix)."
        )
        return reference_factory()
    print(
        f"Exercise {what!r} is not done yet: using the reference implementation "
        "so the rest of the lab runs."
    )
    return reference_factory()


# ---------------------------------------------------------------- running a public case


def public_expected(case: Case, inputs: dict):
    """A public case's expected output (stored data), as plain data; ``None`` if check-only."""
    if case.expected is None:
        return None
    return to_plain(case.expected(**copy.deepcopy(inputs)), "expected")


def student_traceback(exc: BaseException, limit: int = MAX_TRACEBACK_LINES) -> str:
    """The traceback of ``exc`` without the frames of cnnlabs.checks, trimmed."""
    frames = [
        f for f in traceback.extract_tb(exc.__traceback__) if not f.filename.startswith(_HERE)
    ]
    lines = traceback.format_list(frames[-4:])
    lines += traceback.format_exception_only(type(exc), exc)
    text = "".join(lines).rstrip().splitlines()
    if len(text) > limit:
        text = ["..."] + text[-limit:]
    return "\n".join(text)


def produce(question: Question, answer, inputs: dict, workdir: str | None = None):
    """Computes the student's received value for one case (in the student's kernel).

    Returns plain data, ``None`` when not attempted, or the rebuilt model for kind
    ``"model"``. Exceptions from the student's code propagate.
    """
    if question.kind == "value":
        return None if is_unattempted(answer) else to_plain(answer)
    if question.kind == "function":
        if is_unattempted(answer):
            return None
        if not callable(answer):
            raise PlainDataError(
                f"{question.answer} should be a function, got {type(answer).__name__}."
            )
        result = answer(**copy.deepcopy(inputs))
        return None if result is Ellipsis else to_plain(result)
    # kind == "model": export and rebuild, exactly as the grader does.
    if is_unattempted(answer):
        return None
    import keras

    model = answer if isinstance(answer, keras.Model) else answer(**copy.deepcopy(inputs))
    if is_unattempted(model):
        return None
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        config_path, weights_path = export_model(model, tmp, "model")
        return rebuild_model(config_path.read_text(), weights_path)


def run_public_case(lab: str, question: Question, case: Case, answer) -> CaseOutcome:
    """Runs one public case in-process: seeded inputs, the student's answer, ``judge``."""
    inputs = make_inputs(case, case_seed(lab, question.id, case.name))
    try:
        received = produce(question, answer, inputs)
    except PlainDataError as exc:
        return CaseOutcome(case.name, FAILED, str(exc), case.hint)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # SystemExit too: Run All must go on
        return CaseOutcome(case.name, ERROR, student_traceback(exc), case.hint)
    if received is None:
        return CaseOutcome(case.name, NOT_ATTEMPTED, "not attempted yet.", case.hint)
    expected = public_expected(case, inputs)
    outcome = judge(question, case, expected, received)
    if outcome.status == FAILED and case.check is None:
        outcome.message += (
            f"\n    expected: {describe(expected)}\n    received: {describe(received)}"
        )
    return outcome


# ---------------------------------------------------------------- the check cell


class Checker:
    """``check(question_id, answer)`` for one lab; see ``checker``."""

    def __init__(self, lab: str, questions: tuple[Question, ...]):
        self.lab = lab
        self.questions = {q.id: q for q in questions}

    def __repr__(self) -> str:
        return f"<cnnlabs checker for lab {self.lab}: {', '.join(self.questions)}>"

    def results(self, question_id: str, answer) -> list[CaseOutcome]:
        """Runs the public cases and returns their outcomes (prints nothing)."""
        question = self.questions[question_id]
        if is_unattempted(answer):
            return [
                CaseOutcome(c.name, NOT_ATTEMPTED, "not attempted yet.") for c in question.public
            ]
        outcomes = []
        for case in question.public:
            outcome = run_public_case(self.lab, question, case, answer)
            outcomes.append(outcome)
            if outcome.status == NOT_ATTEMPTED:  # a stub: no need to call it again
                outcomes += [
                    CaseOutcome(c.name, NOT_ATTEMPTED, "not attempted yet.")
                    for c in question.public[len(outcomes) :]
                ]
                break
        return outcomes

    def __call__(self, question_id: str, answer) -> None:
        if question_id not in self.questions:
            print(
                f"check: no question {question_id!r} in lab {self.lab}. "
                f"Questions: {', '.join(self.questions)}."
            )
            return None
        question = self.questions[question_id]
        label = f"[{question.id}] {question.title or question.id}"
        try:
            outcomes = self.results(question_id, answer)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # never crash Run All
            print(f"{label}: the check itself failed: {type(exc).__name__}: {exc}")
            return None
        report = format_outcomes(label, outcomes)
        try:
            note = check_cell_note(question, answer)
        except Exception:  # the rule is the grader's to apply; never crash Run All
            note = ""
        print(report + ("\n" + note if note else ""))
        sys.stdout.flush()
        return None


def format_outcomes(label: str, outcomes: list[CaseOutcome]) -> str:
    """The check cell's report: one line per case, then one hint."""
    if not outcomes:
        return f"{label}: this question has no public tests; it is graded by hidden tests."
    if all(o.status == NOT_ATTEMPTED for o in outcomes):
        return f"{label}: not attempted yet. Replace the `...` with your answer, then re-run."
    n_pass = sum(o.passed for o in outcomes)
    lines = [f"{label}: {n_pass}/{len(outcomes)} public tests passed"]
    hint = ""
    for outcome in outcomes:
        mark = "PASS" if outcome.passed else outcome.status.upper().replace("_", " ")
        lines.append(f"  {mark}  {outcome.name}")
        if not outcome.passed:
            lines += ["    " + line for line in outcome.message.splitlines()]
            hint = hint or outcome.hint
    if hint:
        lines.append(f"  Hint: {hint}")
    if n_pass == len(outcomes):
        lines.append("  All public tests pass. Hidden tests check more cases when graded.")
    return "\n".join(lines)


def checker(lab: str | int, *, questions_path: str | os.PathLike | None = None) -> Checker:
    """Returns ``check(question_id, answer)`` for a lab's check cells.

    Args:
        lab: the lab stem (``"01_lenet5"``) or number (``"1"``).
        questions_path: optional questions file to use instead of
            ``cnnlabs/checks/labNN_name.py``.

    Example:
        >>> check = checker("01_lenet5")  # doctest: +SKIP
        >>> check("conv_by_hand", conv2d_by_hand)  # doctest: +SKIP
    """
    if questions_path is not None:
        stem = Path(str(lab)).stem
        return Checker(stem, load_questions(stem, path=questions_path))
    stem = resolve_lab(lab)
    return Checker(stem, load_questions(stem))
