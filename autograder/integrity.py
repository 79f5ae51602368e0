"""Judge the submitted source against each question's API rule (trusted side, no code runs).

After the kernel's answers are judged, ``apply_api_rules`` reads the notebook's
code cells with ``cnnlabs.checks.apirules`` (pure ``ast``) and

- scores 0 every question whose answer's code uses a forbidden name, with status
  ``forbidden_api`` and a reason naming the call, the cell and the line;
- lists in ``result.needs_review`` the indirection (``exec``, ``getattr`` with a
  computed name, ``importlib``, ``sys.modules``, ``%run`` ...) found in an
  answer's code or anywhere at the notebook's top level: the grader cannot say
  what it does, so an instructor decides. The score is left as computed.
"""

from __future__ import annotations

import importlib.util
import sys

from cnnlabs.checks.apirules import analyse, notebook_indirection

FORBIDDEN_API = "forbidden_api"


def is_installed(module: str) -> bool:
    """True for a module the grader's interpreter can import (stdlib or installed).

    A module a notebook wrote itself (``open("m.py", "w")``, ``%%writefile``) is not:
    the analysis cannot read its code.
    """
    if module in sys.stdlib_module_names or module in sys.builtin_module_names:
        return True
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def cell_label(index: int) -> str:
    """How a finding names its cell: ``"code cell 3"`` (non-empty code cells, from 1)."""
    return f"code cell {index + 1}"


def apply_api_rules(result, questions, sources) -> None:
    """Applies every question's ``api`` rule to ``result`` (a SubmissionResult), in place."""
    by_id = {q.id: q for q in questions}
    review: list[str] = []
    for outcome in result.questions:
        question = by_id.get(outcome.id)
        if question is None:
            continue
        try:
            analysis = analyse(sources, question.answer, question.api)
        except (RecursionError, MemoryError) as exc:  # hostile nesting: a person reads it
            review.append(
                f"{question.id}: the code could not be analysed ({type(exc).__name__}); "
                "read it before trusting the score"
            )
            continue
        if analysis.forbidden:
            outcome.score = 0.0
            outcome.status = FORBIDDEN_API
            shown = "; ".join(f.describe(cell_label) for f in analysis.forbidden[:3])
            outcome.reason = (
                f"{FORBIDDEN_API}: {shown}; this exercise may use {question.api.describe()}"
            )
            for test in outcome.tests:
                test.score = 0.0
                test.status = FORBIDDEN_API
                test.message = outcome.reason if test.public else ""
        for finding in analysis.indirection:
            review.append(f"{question.id}: {finding.describe(cell_label)}")
    try:
        found = notebook_indirection(sources, is_installed=is_installed)
    except (RecursionError, MemoryError) as exc:
        found = [(0, 0, f"code the analysis could not read ({type(exc).__name__})")]
    for cell, line, what in found:
        review.append(f"notebook: {cell_label(cell)}, line {line} uses {what}")
    result.needs_review = list(dict.fromkeys(review))
    result.score = round(sum(q.score for q in result.questions), 6)
