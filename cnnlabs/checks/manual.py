"""Manual questions: the written answers a TA grades ("explain...", "what do you observe").

A lab declares them beside its autograded questions, in
``cnnlabs/checks/labNN_name.py``::

    MANUAL = (
        ManualQuestion(id="sigmoid_slow", points=2,
                       title="Why the sigmoid variant starts slowly"),
    )

The lab source marks the cells with tags (jupytext: ``# %% [markdown] tags=[...]``):
``answer:<id>`` on the student's answer cell (tagged ``student`` too) and on the
model answer (tagged ``solution``, so only the solution notebook and the TAs see
it), ``figure:<id>`` on the code cell whose figure the question refers to. This
module holds no model answer: it ships to students. The grader
(``autograder/manual.py``) collects the answers and merges the TAs' points.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ANSWER_TAG = "answer:"
FIGURE_TAG = "figure:"
PLACEHOLDER = "YOUR ANSWER HERE"
_ID_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class ManualQuestion:
    """One written answer, graded by a TA.

    Args:
        id: str, a Python identifier, unique among the lab's questions (autograded
            and manual): it names the tags ``answer:<id>`` and ``figure:<id>`` in the
            lab source, the column in ``grades.csv`` and ``OUT/manual/<id>.html``.
        points: float > 0, the most a TA can give.
        title: str, a short title for the TA's page and the student's feedback.

    Example:
        >>> ManualQuestion(id="sigmoid_slow", points=2, title="Why sigmoid starts slowly").points
        2
    """

    id: str
    points: float
    title: str = ""

    def __post_init__(self):
        if not isinstance(self.id, str) or not _ID_RE.match(self.id):
            raise ValueError(
                f"ManualQuestion id must be a Python identifier, got {self.id!r}. "
                "Use letters, digits and underscores, e.g. 'sigmoid_slow'."
            )
        if isinstance(self.points, bool) or not isinstance(self.points, (int, float)):
            raise TypeError(
                f"ManualQuestion {self.id!r}: points must be a number, got {self.points!r}."
            )
        if not self.points > 0:
            raise ValueError(f"ManualQuestion {self.id!r}: points={self.points!r} must be > 0.")


def validate_manual(manual, question_ids, where: str) -> tuple[ManualQuestion, ...]:
    """Checks a lab's ``MANUAL`` tuple; returns it as a tuple.

    Raises:
        TypeError: when it is not a tuple of ``ManualQuestion``.
        ValueError: when an id repeats or is also an autograded question's id.
    """
    if not isinstance(manual, (tuple, list)) or not all(
        isinstance(m, ManualQuestion) for m in manual
    ):
        raise TypeError(f"{where}: MANUAL must be a tuple of cnnlabs.checks.manual.ManualQuestion.")
    ids = [m.id for m in manual]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{where}: manual question ids must be unique, got {ids}.")
    clash = sorted(set(ids) & set(question_ids))
    if clash:
        raise ValueError(
            f"{where}: {', '.join(clash)} is both an autograded and a manual question; "
            "rename the manual one."
        )
    return tuple(manual)
