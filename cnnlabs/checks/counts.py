"""Count questions: checks that name a recognised mistake and never print the answer.

A count (parameters, MACs, sizes) is asked as a small function of the layer's
configuration (``conv_params(k, c_in, c_out)``), so that the grader can judge it
on hidden random configurations and a table of memorised numbers fails. The check
says what the student's number is and, when it matches a known mistake (biases
left out, one channel instead of all), which one; it never prints the count.
"""

from __future__ import annotations

from collections.abc import Callable

from cnnlabs.checks.spec import Case

Mistake = tuple[Callable[..., float], str]


def check_count(expected, received):
    """``expected``: ``{"count", "mistakes": [[wrong, message], ...]}``; None when right."""
    if isinstance(received, bool) or not isinstance(received, (int, float)):
        return f"Expected a number, got {type(received).__name__} {received!r}."
    if received == expected["count"]:
        return None
    shown = f"{received:,}" if float(received).is_integer() else f"{received:g}"
    for wrong, message in expected["mistakes"]:
        if received == wrong:
            return f"You returned {shown}: {message}"
    return (
        f"You returned {shown}, which is not the count for these arguments. "
        "Write the formula term by term, using every argument."
    )


def count_expected(formula: Callable[..., float], mistakes: tuple[Mistake, ...] = ()):
    """``expected(**inputs)`` of a count case: the count and the recognised wrong counts.

    Used on the grading side (``autograder/references``, the hidden cases) to compute
    what a public case stores and what a hidden case is judged against.
    """

    def expected(**kw):
        return {
            "count": formula(**kw),
            "mistakes": [[wrong(**kw), message] for wrong, message in mistakes],
        }

    return expected


def count_case(
    name: str,
    inputs: dict | Callable,
    formula: Callable[..., float] | None = None,
    mistakes: tuple[Mistake, ...] = (),
    hint: str = "",
) -> Case:
    """A case of a count function: fixed ``inputs`` (a dict) or ``inputs(rng)``.

    With ``formula=None`` (public cases in a check module) the expected count is
    stored data (``STORED``, see ``cnnlabs.checks.stored``), so the student's
    package holds no formula; hidden cases pass the reference ``formula``.
    """
    from cnnlabs.checks.stored import STORED

    make = inputs if callable(inputs) else (lambda rng, fixed=dict(inputs): dict(fixed))
    expected = STORED if formula is None else count_expected(formula, mistakes)
    return Case(name=name, inputs=make, expected=expected, check=check_count, hint=hint)


def value_case(
    name: str,
    lab: str,
    question_id: str,
    mistakes: tuple[tuple[Callable[[float], bool], str], ...] = (),
    hint: str = "",
    decimals: int | None = None,
) -> Case:
    """A fixed value, checked as labs 04 and 05 do: stored as a salted digest, never shown.

    Args:
        name, hint: as for ``Case``.
        lab, question_id: salt the digest (``cnnlabs.checks.stored.answer_digest``).
        mistakes: ``(predicate(received) -> bool, message)``: recognised mistakes
            told without the value ("that is a percentage").
        decimals: compare ``round(received, decimals)`` (the stored value is rounded
            the same way on the grading side); ``None`` compares exactly.
    """
    from cnnlabs.checks.stored import STORED_DIGEST, answer_digest

    def check(expected, received):
        if isinstance(received, bool) or not isinstance(received, (int, float)):
            return f"Expected a number, got {type(received).__name__} {received!r}."
        value = round(float(received), decimals) if decimals is not None else received
        if answer_digest(lab, question_id, value) == expected:
            return None
        shown = f"{received:,}" if float(received).is_integer() else f"{received:.4g}"
        for predicate, message in mistakes:
            if predicate(received):
                return f"You wrote {shown}: {message}"
        return f"You wrote {shown}; that is not it. Work it out step by step."

    return Case(name=name, expected=STORED_DIGEST, check=check, hint=hint)
