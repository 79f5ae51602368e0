"""Check cells: run a question's public cases on the student's answer and explain.

In a notebook::

    from cnnlabs.checks import checker, or_reference
    check = checker("01_lenet5")
    ...
    check("conv_by_hand", conv2d_by_hand)

``check`` never raises: an untouched stub prints "not attempted yet", an
exception inside the student's code prints a trimmed traceback and the hint, so
"Run all" always reaches the end of the notebook. The verdict comes from
``judge``, the same function the autograder applies to the same public inputs
(seeded from lab, question and case), so the grade matches what the student saw.
"""

from __future__ import annotations

import copy
import dis
import json
import os
import sys
import tempfile
import traceback
from dataclasses import dataclass
from pathlib import Path

from cnnlabs.checks.plain import PlainDataError, compare, describe, to_plain
from cnnlabs.checks.spec import Case, Question, case_seed, load_questions, make_inputs, resolve_lab

PASSED, FAILED, ERROR, NOT_ATTEMPTED = "passed", "failed", "error", "not_attempted"
_HERE = str(Path(__file__).resolve().parent)
MAX_TRACEBACK_LINES = 12


@dataclass
class CaseOutcome:
    """The verdict on one case: ``status`` in passed/failed/error/not_attempted."""

    name: str
    status: str
    message: str = ""
    hint: str = ""

    @property
    def passed(self) -> bool:
        return self.status == PASSED


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


def or_reference(value, reference_factory, what: str, *, probe: dict | None = None):
    """Returns ``value`` when the exercise is done, else the reference implementation.

    Lab cells that build on an exercise call this so the rest of the lab runs
    even before the exercise is solved.

    Args:
        value: the student's answer (a value, a function or a model).
        reference_factory: callable with no arguments returning the reference.
        what: str, the exercise's name in the message.
        probe: optional keyword arguments; when ``value`` is a function, it is
            called with them, and a result of ``None``/``...`` or an exception means
            "not done yet".

    Returns:
        ``value``, or ``reference_factory()`` after printing one line.
    """
    done = not is_unattempted(value)
    if done and probe is not None and callable(value):
        try:
            done = not is_unattempted(value(**copy.deepcopy(probe)))
        except Exception:
            done = False
    if done:
        return value
    print(
        f"Exercise {what!r} is not done yet: using the reference implementation "
        "so the rest of the lab runs."
    )
    return reference_factory()


# ---------------------------------------------------------------- models


def _safe_custom_objects() -> dict:
    """Custom layers a rebuilt model may use: the registered cnnlabs layers only."""
    import keras

    import cnnlabs.layers  # noqa: F401  (registers them)

    registered = keras.saving.get_custom_objects()
    return {name: obj for name, obj in registered.items() if name.startswith("cnnlabs>")}


def export_model(model, folder: str | os.PathLike, stem: str) -> tuple[Path, Path]:
    """Writes ``model`` as ``stem.json`` (config) and ``stem.weights.h5``."""
    import keras

    if not isinstance(model, keras.Model):
        raise PlainDataError(
            f"expected a keras.Model (or a function returning one), got {type(model).__name__}."
        )
    folder = Path(folder)
    config_path, weights_path = folder / f"{stem}.json", folder / f"{stem}.weights.h5"
    config_path.write_text(model.to_json())
    model.save_weights(weights_path)
    return config_path, weights_path


def rebuild_model(config_text: str, weights_path: str | os.PathLike):
    """Rebuilds a model from its JSON config and weights with ``safe_mode=True``.

    Only Keras built-ins and registered ``cnnlabs`` layers are allowed; lambdas and
    arbitrary classes are refused.
    """
    import keras
    from keras.src.saving import serialization_lib

    config = json.loads(config_text)
    if not isinstance(config, dict):
        raise ValueError("the model config is not a JSON object.")
    model = serialization_lib.deserialize_keras_object(
        config, custom_objects=_safe_custom_objects(), safe_mode=True
    )
    if not isinstance(model, keras.Model):
        raise ValueError(f"the config does not describe a keras.Model but {type(model).__name__}.")
    model.load_weights(weights_path)
    return model


# ---------------------------------------------------------------- judging


def expected_value(case: Case, inputs: dict):
    """The reference answer of a case, as plain data (``None`` for check-only cases)."""
    if case.expected is None:
        return None
    return to_plain(case.expected(**copy.deepcopy(inputs)), "expected")


def judge(question: Question, case: Case, expected, received) -> CaseOutcome:
    """The verdict on one case, given plain ``expected`` and ``received``.

    ``received`` is plain data (or, for kind ``"model"``, the rebuilt model). This
    is the single decision shared by the check cells and the grader.
    """
    if (
        question.kind != "model"
        and (received is None or received is Ellipsis)
        and (expected is not None)
    ):
        return CaseOutcome(case.name, NOT_ATTEMPTED, "not attempted yet (got None).", case.hint)
    try:
        if case.check is not None:
            message = case.check(expected, received)
            if message is not None and not isinstance(message, str):
                message = str(message)
        else:
            message = compare(expected, received, case.rtol, case.atol)
    except Exception as exc:  # a check that trips over a malformed answer
        message = f"the answer could not be checked: {type(exc).__name__}: {exc}"
    if message:
        return CaseOutcome(case.name, FAILED, message, case.hint)
    return CaseOutcome(case.name, PASSED)


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
    expected = expected_value(case, inputs)
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
        print(format_outcomes(label, outcomes))
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
