"""The public side of grading: question specs, plain data, and check cells.

This package runs in the student's kernel and holds no secrets. The trusted
grading side lives in the separate ``autograder`` package.

- ``Case``, ``Question``: what a lab asks (``cnnlabs/checks/labNN_name.py``).
- ``to_plain``, ``compare``: the only data an answer may be, and the one comparison.
- ``checker(lab)``: ``check(question_id, answer)`` for check cells.
- ``or_reference(value, reference_factory, what)``: fall back to the reference.
"""

from cnnlabs.checks.checker import (
    CaseOutcome,
    Checker,
    checker,
    is_unattempted,
    judge,
    or_reference,
)
from cnnlabs.checks.plain import PlainDataError, compare, describe, to_plain
from cnnlabs.checks.spec import Case, Question, case_seed, load_questions, resolve_lab

__all__ = [
    "Case",
    "CaseOutcome",
    "Checker",
    "PlainDataError",
    "Question",
    "case_seed",
    "checker",
    "compare",
    "describe",
    "is_unattempted",
    "judge",
    "load_questions",
    "or_reference",
    "resolve_lab",
    "to_plain",
]
