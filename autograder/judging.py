"""Expected values on the trusted side: what only the grader computes.

A public case's expected output is stored data (``cnnlabs.checks.stored``); a
hidden case's comes from the grading-side references (``autograder.references``,
imported by ``labs/hidden/NN_name.py``), which never reach the student's kernel.
``expected_value`` runs either, in the grader's process, and the shared
``cnnlabs.checks.verdict.judge`` compares it with what the kernel exported.
"""

from __future__ import annotations

import copy

from cnnlabs.checks.modelio import rebuild_model
from cnnlabs.checks.plain import to_plain
from cnnlabs.checks.spec import Case
from cnnlabs.checks.verdict import judge

__all__ = ["expected_value", "judge", "rebuild_model"]


def expected_value(case: Case, inputs: dict):
    """The reference answer of a case, as plain data (``None`` for check-only cases)."""
    if case.expected is None:
        return None
    return to_plain(case.expected(**copy.deepcopy(inputs)), "expected")
