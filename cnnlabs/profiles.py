"""Run profiles: one switch between CI-sized, grading-sized and lab-sized budgets.

Every lab and helper reads the budget from one place. The profile comes from the
``CNNLABS_PROFILE`` environment variable:

- ``smoke``: tiny budgets, for CI and nbval on a 2-core CPU (a lab runs in about
  two minutes on real offline data, and its accuracy targets are checked).
- ``grade``: the smallest budget that still executes every cell, set by the
  autograder inside its sandbox. It takes the smoke profile's choices (datasets,
  models, depths) and `cnnlabs.training` caps every training run to
  `GRADE_EPOCHS` epoch on at most `GRADE_EXAMPLES` examples (`GRADE_EVAL_EXAMPLES`
  for validation and test data) and one seed, run eagerly (a few steps cost less
  than tracing them). No graded
  answer depends on a training result, so the grade is the same and a submission
  is graded in seconds. Accuracies in this profile mean nothing: labs pass
  ``grade=0.0`` for their accuracy targets.
- ``full``: the real lab budget, meant for a Colab GPU (the default).
- ``dryrun``: the full profile's choices (datasets, image sizes, models, depths,
  seeds, batch sizes, plots: `pick` returns the full value) on a CPU, with every
  training run capped by `cnnlabs.training` to `DRYRUN_EPOCHS` epochs of
  `DRYRUN_STEPS` steps and its validation, test and `evaluate` data to
  `DRYRUN_EVAL_BATCHES` batches, run eagerly. (The epochs are capped too: measured,
  lab 02's 30 epochs of two AlexNet steps cost 59% of its dry run.)
  It finds what the full profile would break (shapes, plots over several seeds,
  memory) without a GPU; accuracy targets are not enforced (labs pass ``grade=0.0``
  for them, which `pick` gives the dry run too, and `enforces_targets` is False). Meant for the
  synthetic datasets of `cnnlabs.datasets.synthetic` (`cnnlabs data synth DIR`).

Example:

>>> from cnnlabs.profiles import get_profile
>>> profile = get_profile("smoke")
>>> profile.pick(smoke=1, full=30)
1
>>> profile.is_smoke
True
>>> grade = get_profile("grade")
>>> grade.pick(smoke=0.8, full=0.98, grade=0.0), grade.pick(smoke="fashion_mnist", full="cifar10")
(0.0, 'fashion_mnist')
>>> grade.cap_epochs(20), grade.cap_examples(8_000), grade.cap_seeds((0, 1, 2))
(1, 256, [0])
>>> dry = get_profile("dryrun")
>>> dry.pick(smoke="fashion_mnist", full="cifar10"), dry.pick(smoke=0.8, full=0.98, grade=0.0)
('cifar10', 0.0)
>>> dry.pick(smoke=(8, 14), full=(20, 56), grade=(8,))  # grade-only budgets: full in the dry run
(20, 56)
>>> dry.is_smoke, dry.enforces_targets, dry.cap_epochs(20), dry.cap_seeds((0, 1, 2))
(False, False, 2, [0, 1, 2])
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

PROFILE_ENV = "CNNLABS_PROFILE"
PROFILES = ("smoke", "grade", "full", "dryrun")
DEFAULT_PROFILE = "full"

# The grade profile's caps on every training run (see `cnnlabs.training.train`).
GRADE_EPOCHS = 1
GRADE_EXAMPLES = 256
GRADE_EVAL_EXAMPLES = 64  # validation and test data
GRADE_SEEDS = 1

# The dryrun profile's caps (see `cnnlabs.training.train`): this many epochs, each on
# this many batches; validation, test and `evaluate` data on this many batches.
DRYRUN_EPOCHS = 2
DRYRUN_STEPS = 2
DRYRUN_EVAL_BATCHES = 2

_SMOKE = object()  # pick's default for `grade`: the smoke value


@dataclass(frozen=True)
class Profile:
    """A named budget. Use `pick` to choose a value per profile.

    Attributes:
        name: `"smoke"`, `"grade"`, `"full"` or `"dryrun"`.
    """

    name: str

    @property
    def is_smoke(self) -> bool:
        """True in the CPU-sized profiles (smoke and grade): offline data, small models."""
        return self.name in ("smoke", "grade")

    @property
    def is_grade(self) -> bool:
        """True in the grading profile, whose training runs are capped (see the module doc)."""
        return self.name == "grade"

    @property
    def is_dryrun(self) -> bool:
        """True in the dry run of the full profile (full choices, training capped to a few steps)."""
        return self.name == "dryrun"

    @property
    def enforces_targets(self) -> bool:
        """False where training is capped (grade, dryrun): accuracies there mean nothing."""
        return self.name in ("smoke", "full")

    def pick(self, *, smoke: Any, full: Any, grade: Any = _SMOKE, dryrun: Any = _SMOKE) -> Any:
        """Returns the value for this profile.

        Args:
            smoke: the smoke profile's value.
            full: the full profile's value.
            grade: the grade profile's value; defaults to `smoke` (training budgets
                are capped by `cnnlabs.training`, so only what is not a training budget,
                such as an accuracy target or a smaller model, needs one).
            dryrun: the dryrun profile's value; defaults to `full`, except that a
                `grade` of 0 (how labs switch an accuracy target off:
                `pick(smoke=0.8, full=0.98, grade=0.0)`) switches it off in the dry run
                too. Any other `grade` value (lab 05's `DEPTHS`, `grade=(8,)`) is the
                grade profile's alone: the dry run keeps the full profile's choice.
        """
        if self.name == "dryrun":
            if dryrun is not _SMOKE:
                return dryrun
            target_off = type(grade) in (int, float) and grade == 0
            return grade if target_off else full
        if self.name == "grade" and grade is not _SMOKE:
            return grade
        return full if self.name == "full" else smoke

    def cap_epochs(self, epochs: int) -> int:
        """`epochs`, capped to `GRADE_EPOCHS` in the grade profile, `DRYRUN_EPOCHS` in dryrun."""
        if self.is_dryrun:
            return min(epochs, DRYRUN_EPOCHS)
        return min(epochs, GRADE_EPOCHS) if self.is_grade else epochs

    def cap_examples(self, count: int | None) -> int | None:
        """A number of examples (None: all), capped to `GRADE_EXAMPLES` in the grade profile."""
        if not self.is_grade:
            return count
        return GRADE_EXAMPLES if count is None else min(count, GRADE_EXAMPLES)

    def cap_seeds(self, seeds: Sequence[int]) -> list[int]:
        """`seeds` as a list, its first `GRADE_SEEDS` only in the grade profile."""
        seeds = list(seeds)
        return seeds[:GRADE_SEEDS] if self.is_grade else seeds

    def __str__(self) -> str:
        return self.name


def get_profile(name: str | None = None) -> Profile:
    """Returns the active profile.

    Args:
        name: `"smoke"`, `"grade"`, `"full"` or `"dryrun"`; defaults to `$CNNLABS_PROFILE`,
            else `"full"`.

    Returns:
        A `Profile`.

    Raises:
        ValueError: if the name is not a known profile.
    """
    source = "argument name"
    if name is None:
        name = os.environ.get(PROFILE_ENV, "").strip() or DEFAULT_PROFILE
        source = f"environment variable {PROFILE_ENV}"
    key = name.strip().lower()
    if key not in PROFILES:
        raise ValueError(
            f"Unknown profile {name!r} (from the {source}). "
            f"Expected one of {', '.join(repr(p) for p in PROFILES)}. "
            f"Set {PROFILE_ENV}=smoke for quick CI-sized runs, {PROFILE_ENV}=grade for the "
            f"autograder's budget, {PROFILE_ENV}=full for the lab budget or "
            f"{PROFILE_ENV}=dryrun for the full profile's choices capped to a few steps."
        )
    return Profile(key)
