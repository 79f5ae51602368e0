"""The verdict on one case: the single decision shared by the check cells and the grader.

``judge(question, case, expected, received)`` compares plain data (or a rebuilt
model) with a case's ``check`` or the default ``compare``. It holds no expected
value of its own: the check cell passes the stored data of a public case
(``cnnlabs.checks.stored``), the grader also the reference output of a hidden one
(``autograder.judging``).
"""

from __future__ import annotations

from dataclasses import dataclass

from cnnlabs.checks.plain import compare
from cnnlabs.checks.spec import Case, Question

PASSED, FAILED, ERROR, NOT_ATTEMPTED = "passed", "failed", "error", "not_attempted"


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
