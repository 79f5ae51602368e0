"""Run profiles: one switch between CI-sized and lab-sized budgets.

Every lab and helper reads the budget from one place. The profile comes from the
``CNNLABS_PROFILE`` environment variable:

- ``smoke``: tiny budgets, for CI, nbval and grading on a 2-core CPU (a lab runs in
  about two minutes on real offline data).
- ``full``: the real lab budget, meant for a Colab GPU (the default).

Example:

>>> from cnnlabs.profiles import get_profile
>>> profile = get_profile("smoke")
>>> profile.pick(smoke=1, full=30)
1
>>> profile.is_smoke
True
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

PROFILE_ENV = "CNNLABS_PROFILE"
PROFILES = ("smoke", "full")
DEFAULT_PROFILE = "full"


@dataclass(frozen=True)
class Profile:
    """A named budget. Use `pick` to choose a value per profile.

    Attributes:
        name: `"smoke"` or `"full"`.
    """

    name: str

    @property
    def is_smoke(self) -> bool:
        return self.name == "smoke"

    def pick(self, *, smoke: Any, full: Any) -> Any:
        """Returns `smoke` in the smoke profile and `full` in the full profile."""
        return smoke if self.is_smoke else full

    def __str__(self) -> str:
        return self.name


def get_profile(name: str | None = None) -> Profile:
    """Returns the active profile.

    Args:
        name: `"smoke"` or `"full"`; defaults to `$CNNLABS_PROFILE`, else `"full"`.

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
            f"Set {PROFILE_ENV}=smoke for quick CI-sized runs or {PROFILE_ENV}=full for the lab budget."
        )
    return Profile(key)
