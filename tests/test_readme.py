"""README's lab table and lab count follow labs/source/: a new lab is one row, never stale."""

from __future__ import annotations

import re
from pathlib import Path

from autograder.labfiles import available_labs

ROOT = Path(__file__).resolve().parents[1]
NUMBERS = "zero one two three four five six seven eight nine ten eleven twelve".split()


def _section(text: str, title: str) -> str:
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def table_labs(readme: str) -> list[str]:
    """The labs the rows of README's "The labs" table link to, in order."""
    rows = [line for line in _section(readme, "The labs").splitlines() if line.startswith("| [")]
    return [re.search(r"\]\(labs/(\w+)\.ipynb\)", row).group(1) for row in rows]


def test_the_lab_table_has_one_row_per_lab_source():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    labs = available_labs(ROOT)
    listed = table_labs(readme)
    missing = sorted(set(labs) - set(listed))
    unknown = sorted(set(listed) - set(labs))
    assert (missing, unknown) == ([], []), (
        f"README.md's lab table lacks a row for {missing} and has rows for {unknown}, which "
        "labs/source/ does not have. Add (or remove) a row `| [NN Title](labs/NN_name.ipynb) "
        "| topic | paper | smoke time | full time |` (docs/authoring.md, new-lab checklist)."
    )
    assert listed == labs, "README.md's lab table should list the labs in their order"
    for lab in labs:
        assert (ROOT / "labs" / f"{lab}.ipynb").is_file(), f"README links labs/{lab}.ipynb"


def stated_counts(readme: str) -> list[int]:
    """How many labs the text says there are ("six Colab notebooks", "7 labs")."""
    pattern = rf"\b({'|'.join(NUMBERS)}|\d+) (?:Colab notebooks|labs|lab notebooks)\b"
    found = re.findall(pattern, readme, re.I)
    return [int(c) if c.isdigit() else NUMBERS.index(c.lower()) for c in found]


def test_the_count_of_labs_in_the_readme_is_right():
    """Where README says how many labs there are, the number is right."""
    counts = stated_counts((ROOT / "README.md").read_text(encoding="utf-8"))
    n = len(available_labs(ROOT))
    assert counts == [n] * len(counts), f"README.md says {counts} labs; labs/source/ has {n}"


def test_table_labs_reads_the_rows():
    readme = (
        "# x\n\n## The labs\n\n| lab | topic |\n| --- | --- |\n"
        "| [01 A](labs/01_a.ipynb) | a |\n| [02 B](labs/02_b.ipynb) | b |\n\n## Next\n"
        "| [03 C](labs/03_c.ipynb) | not in the table |\n"
    )
    assert table_labs(readme) == ["01_a", "02_b"]


def test_stated_counts_reads_numbers_and_words():
    text = "Six Colab notebooks ... the 7 labs ... two lab notebooks; 3 models"
    assert stated_counts(text) == [6, 7, 2]
