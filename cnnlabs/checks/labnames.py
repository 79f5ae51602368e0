"""How a lab is named on the command line and in code: the one lab resolver.

A lab is named by its stem, `NN_name` (`01_lenet5`). Everywhere a user names a
lab (`check = checker("1")`, `cnnlabs assign 01`, `cnnlabs grade lenet5 ...`) the
same rule applies, here: the stem itself (also with `.py` or `.ipynb`), its
number (`1`, `01`, or the int `1`), `N_name` with a one-digit number
(`1_lenet5`), or its name alone (`lenet5`). Callers say what the candidates are
(the lab sources of a checkout, the labs with questions) and phrase their own
error; the rule is not repeated anywhere else.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from pathlib import Path

__all__ = ["LAB_RE", "close_labs", "match_lab"]

LAB_RE = re.compile(r"^(?P<number>\d{2})_(?P<name>\w+)$")
_SHORT_RE = re.compile(r"^(?P<number>\d{1,2})(?:_(?P<name>\w+))?$")


def _key(name: str | int) -> str:
    text = str(name).strip()
    return Path(text).stem if text.endswith((".py", ".ipynb")) else text


def match_lab(name: str | int, stems: Iterable[str]) -> str | None:
    """The one stem of `stems` that `name` names, or None when none or several do.

    Example:
        >>> stems = ["01_lenet5", "02_alexnet"]
        >>> [match_lab(n, stems) for n in ("1", 2, "01_lenet5.ipynb", "alexnet", "3")]
        ['01_lenet5', '02_alexnet', '01_lenet5', '02_alexnet', None]
    """
    stems = [s for s in stems if LAB_RE.match(s)]
    key = _key(name)
    if key in stems:
        return key
    short = _SHORT_RE.match(key)
    if short:
        number = f"{int(short.group('number')):02d}"
        wanted = f"{number}_{short.group('name')}" if short.group("name") else None
        matches = [s for s in stems if s[:2] == number and (wanted is None or s == wanted)]
    else:
        matches = [s for s in stems if LAB_RE.match(s).group("name") == key]
    return matches[0] if len(matches) == 1 else None


def close_labs(name: str | int, stems: Iterable[str]) -> list[str]:
    """Up to three stems that look like `name` (for a "Did you mean" hint)."""
    return difflib.get_close_matches(_key(name), list(stems), n=3, cutoff=0.5)
