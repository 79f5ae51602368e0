"""Question specs: what a lab asks, and the cases that check each answer.

A lab declares its questions once, in ``cnnlabs/checks/labNN_name.py``::

    QUESTIONS = (
        Question(id="conv_by_hand", points=2, answer="conv2d_by_hand", kind="function",
                 title="Convolution by hand", public=(Case(...), ...)),
    )

The same spec drives the check cells of the notebook (public cases, in the
student's kernel) and the autograder (public and hidden cases, on the trusted
side). Hidden cases live in ``labs/hidden/NN_name.py`` as
``HIDDEN: dict[str, tuple[Case, ...]]`` and are never imported by a notebook.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import pkgutil
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cnnlabs.checks.apirules import ApiRule
from cnnlabs.checks.labnames import match_lab

KINDS = ("value", "function", "model")
_ID_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Case:
    """One test of an answer.

    Args:
        name: str, shown to the student (public cases) or in the grade report.
        inputs: None, or ``inputs(rng) -> dict`` of keyword arguments. ``rng`` is a
            ``numpy.random.Generator`` seeded from (lab, question, case) for public
            cases and at random per grading run for hidden ones. For kind
            ``"function"`` the answer is called with these inputs; for kind
            ``"model"`` a builder answer is called with them (a model answer is
            used as is).
        expected: ``expected(**inputs) -> value``; the reference answer. Runs on the
            trusted side for hidden cases; never shown for them.
        rtol, atol: float, tolerances of the numeric comparison (see ``compare``).
        hint: str, one sentence shown when the case fails.
        check: None, or ``check(expected, received) -> None | str``; replaces the
            default comparison (``None`` = right, a string = what is wrong). For
            kind ``"model"`` ``received`` is the rebuilt Keras model.
    """

    name: str
    inputs: Callable[[Any], dict] | None = None
    expected: Callable[..., Any] | None = None
    rtol: float = 1e-5
    atol: float = 1e-8
    hint: str = ""
    check: Callable[[Any, Any], str | None] | None = None

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"Case name must be a non-empty string, got {self.name!r}.")
        if self.expected is None and self.check is None:
            raise ValueError(
                f"Case {self.name!r} has neither expected= nor check=. "
                "Give expected=lambda **inputs: reference(...) or a check(expected, received)."
            )
        if self.rtol < 0 or self.atol < 0:
            raise ValueError(
                f"Case {self.name!r}: rtol={self.rtol} and atol={self.atol} must be >= 0."
            )


@dataclass(frozen=True)
class Question:
    """One graded exercise of a lab.

    Args:
        id: str, the identifier used in ``check(id, answer)`` and in grade reports.
        points: float, the question's weight; split equally between its cases.
        answer: str, the name of the notebook variable (or function) holding the
            answer; the grader looks it up by this name after running the notebook.
        kind: ``"value"``, ``"function"`` or ``"model"``.
        title: str, a human title.
        public: tuple of ``Case``, the cases the student's check cell runs.
        api: ``ApiRule``, what the code defining the answer may use
            (``cnnlabs.checks.apirules``): the grader scores a forbidden use 0 and
            the check cell says so. Default ``ApiRule()``: the references and the
            grader are forbidden, everything else is allowed.
    """

    id: str
    points: float
    answer: str
    kind: str = "value"
    title: str = ""
    public: tuple[Case, ...] = field(default_factory=tuple)
    api: ApiRule = field(default_factory=ApiRule)

    def __post_init__(self):
        if not isinstance(self.id, str) or not _ID_RE.match(self.id):
            raise ValueError(f"Question id must be a Python identifier, got {self.id!r}.")
        if not isinstance(self.answer, str) or not _ID_RE.match(self.answer):
            raise ValueError(
                f"Question {self.id!r}: answer must name a notebook variable, got {self.answer!r}."
            )
        if self.kind not in KINDS:
            raise ValueError(
                f"Question {self.id!r}: kind={self.kind!r} is not one of {', '.join(KINDS)}."
            )
        if not self.points > 0:
            raise ValueError(f"Question {self.id!r}: points={self.points!r} must be > 0.")
        if not isinstance(self.api, ApiRule):
            raise TypeError(
                f"Question {self.id!r}: api must be a cnnlabs.checks.apirules.ApiRule, "
                f"got {type(self.api).__name__}."
            )
        object.__setattr__(self, "public", tuple(self.public))
        names = [case.name for case in self.public]
        if len(set(names)) != len(names):
            raise ValueError(f"Question {self.id!r}: public case names must be unique: {names}.")


def case_seed(lab: str, question_id: str, case_name: str, salt: str = "public") -> int:
    """The fixed seed of a public case: the same in the check cell and in grading.

    Example:
        >>> case_seed("01_lenet5", "q", "c") == case_seed("01_lenet5", "q", "c")
        True
    """
    text = f"cnnlabs/{salt}/{lab}/{question_id}/{case_name}"
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")


def make_inputs(case: Case, seed: int) -> dict:
    """Runs ``case.inputs`` with a generator seeded by ``seed``; ``{}`` when it has none."""
    if case.inputs is None:
        return {}
    import numpy as np

    inputs = case.inputs(np.random.default_rng(seed))
    if not isinstance(inputs, dict) or not all(isinstance(k, str) for k in inputs):
        raise TypeError(
            f"Case {case.name!r}: inputs(rng) must return a dict of keyword arguments, "
            f"got {type(inputs).__name__}."
        )
    return inputs


# ---------------------------------------------------------------- lab lookup


def checks_modules() -> dict[str, str]:
    """Maps lab stems (``01_lenet5``) to modules (``cnnlabs.checks.lab01_lenet5``)."""
    found = {}
    for info in pkgutil.iter_modules([str(Path(__file__).parent)]):
        match = re.match(r"^lab(\d{2}_\w+)$", info.name)
        if match:
            found[match.group(1)] = f"cnnlabs.checks.{info.name}"
    return found


def resolve_lab(lab: str | int) -> str:
    """Returns the lab stem (``01_lenet5``) for ``"01_lenet5"``, ``"01"``, ``"1"``, ``1`` or ``"lenet5"``.

    The naming rule is `cnnlabs.checks.labnames.match_lab` (the one lab resolver),
    over the labs that have a questions module.

    Raises:
        ValueError: when no lab matches; the message lists the known labs.
    """
    labs = checks_modules()
    stem = match_lab(lab, labs)
    if stem is not None:
        return stem
    known = ", ".join(sorted(labs)) or "none"
    raise ValueError(
        f"lab={lab!r} does not name a lab with questions. Known labs: {known}. "
        "Use the notebook stem (01_lenet5) or its number (1)."
    )


def _validate_questions(questions, where: str) -> tuple[Question, ...]:
    if not isinstance(questions, (tuple, list)) or not all(
        isinstance(q, Question) for q in questions
    ):
        raise TypeError(f"{where}: QUESTIONS must be a tuple of cnnlabs.checks.Question.")
    ids = [q.id for q in questions]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{where}: question ids must be unique, got {ids}.")
    return tuple(questions)


def load_module_from_path(path: str | Path, name: str):
    """Imports a Python file as a module (used for fixture labs and hidden tests)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist.")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_questions(lab: str | int, *, path: str | Path | None = None) -> tuple[Question, ...]:
    """The questions of a lab.

    Args:
        lab: the lab stem (``"01_lenet5"``) or number (``"1"``, ``"01"``).
        path: optional path of a questions file to load instead of
            ``cnnlabs/checks/labNN_name.py`` (fixture labs, courses' own labs).

    Returns:
        tuple of ``Question``.
    """
    if path is not None:
        module = load_module_from_path(path, f"cnnlabs_questions_{Path(path).stem}")
        return _validate_questions(getattr(module, "QUESTIONS", None), str(path))
    stem = resolve_lab(lab)
    module = importlib.import_module(checks_modules()[stem])
    return _validate_questions(getattr(module, "QUESTIONS", None), module.__name__)


def load_hidden(
    lab: str, hidden_dir: str | Path | None, questions: tuple[Question, ...]
) -> dict[str, tuple[Case, ...]]:
    """Loads ``<hidden_dir>/<lab>.py`` (``HIDDEN``); ``{}`` when there is no such file.

    Raises:
        ValueError: when HIDDEN names a question the lab does not have.
    """
    if hidden_dir is None:
        return {}
    path = Path(hidden_dir) / f"{lab}.py"
    if not path.is_file():
        return {}
    module = load_module_from_path(path, f"cnnlabs_hidden_{lab}")
    hidden = getattr(module, "HIDDEN", {})
    if not isinstance(hidden, dict):
        raise TypeError(f"{path}: HIDDEN must be a dict of question id -> tuple of Case.")
    ids = {q.id for q in questions}
    for qid, cases in hidden.items():
        if qid not in ids:
            raise ValueError(f"{path}: HIDDEN has cases for {qid!r}, which lab {lab} does not ask.")
        if not all(isinstance(c, Case) for c in cases):
            raise TypeError(f"{path}: HIDDEN[{qid!r}] must be a tuple of cnnlabs.checks.Case.")
    return {qid: tuple(cases) for qid, cases in hidden.items()}
