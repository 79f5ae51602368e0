"""Solution markers in a lab source, and where each line of the source ends up.

A lab source (`labs/source/NN_name.py`, jupytext percent format) marks its
solutions with `### BEGIN SOLUTION` / `### END SOLUTION` lines; cells tagged
`solution` or `student` go to one notebook only. `split_solution` makes the two
texts; `line_layout` says, line by line, which notebook sees a line, so that
`autograder.validate` can name the source line of whatever it finds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cnnlabs.errors import UserError

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
STUDENT_STUB = "...  # YOUR CODE HERE"
SOLUTION_TAG = "solution"
STUDENT_TAG = "student"

_BEGIN_RE = re.compile(r"^(?P<indent>[ \t]*)### BEGIN SOLUTION[ \t]*$")
_END_RE = re.compile(r"^[ \t]*### END SOLUTION[ \t]*$")
_CELL_RE = re.compile(r"^# %%")
_TAGS_RE = re.compile(r"tags=\[(?P<tags>[^\]]*)\]")
# Near misses such as `## BEGIN SOLUTION` or `### END SOLUTION here`.
_NEAR_MARKER_RE = re.compile(r"^[ \t]*#+[ \t]*(BEGIN|END)[ \t]+SOLUTION\b", re.IGNORECASE)
# A stub line: `name = ...` or `a, b = ...`, optionally followed by a comment.
_STUB_RE = re.compile(r"^[A-Za-z_][\w, ]*=\s*\.\.\.\s*(#.*)?$")


class MarkerError(UserError):
    """A lab source has unbalanced or misplaced solution markers."""


def split_solution(text: str, path: str = "<source>") -> tuple[str, str]:
    """Splits a marked-up lab source into its solution and student texts.

    Args:
        text: the source (jupytext percent format) with `### BEGIN SOLUTION` /
            `### END SOLUTION` marker lines.
        path: the file name used in error messages.

    Returns:
        `(solution_text, student_text)`: the solution keeps the code between the
        markers and drops the marker lines; the student version replaces each block
        by `...  # YOUR CODE HERE` at the block's indentation, or removes it when it
        is a top-level block right after a stub line (`answer = ...`).

    Raises:
        MarkerError: naming the file and line of an unbalanced or misplaced marker.
    """
    solution: list[str] = []
    student: list[str] = []
    open_line = 0  # line number of the open BEGIN marker, 0 when none is open
    indent = ""
    for number, line in enumerate(text.splitlines(), start=1):
        begin = _BEGIN_RE.match(line)
        if begin:
            if open_line:
                raise MarkerError(
                    f"{path}:{number}: found '{BEGIN}' inside the block opened at line "
                    f"{open_line}. Blocks cannot be nested: close the first one with "
                    f"'{END}' before line {number}."
                )
            open_line, indent = number, begin.group("indent")
            previous = student[-1] if student else ""
            if not (indent == "" and _STUB_RE.match(previous)):
                student.append(indent + STUDENT_STUB)
            continue
        if _END_RE.match(line):
            if not open_line:
                raise MarkerError(
                    f"{path}:{number}: found '{END}' without a '{BEGIN}' before it. "
                    f"Add the missing '{BEGIN}' or delete this line."
                )
            open_line = 0
            continue
        if open_line and _CELL_RE.match(line):
            raise MarkerError(
                f"{path}:{number}: a new cell ('# %%') starts inside the solution block "
                f"opened at line {open_line}. Close the block with '{END}' in the same cell."
            )
        if _NEAR_MARKER_RE.match(line):
            raise MarkerError(
                f"{path}:{number}: {line.strip()!r} looks like a solution marker but is "
                f"not one. Write exactly '{BEGIN}' or '{END}' alone on its line."
            )
        solution.append(line)
        if not open_line:
            student.append(line)
    if open_line:
        raise MarkerError(
            f"{path}:{open_line}: '{BEGIN}' is never closed. Add '{END}' at the end of "
            "the solution, in the same cell."
        )
    return "\n".join(solution) + "\n", "\n".join(student) + "\n"


@dataclass(frozen=True)
class Line:
    """Where one line of a lab source goes."""

    number: int  # 1-based
    marker: bool  # a BEGIN/END marker line (in neither notebook)
    in_block: bool  # inside a solution block (solution notebook only)
    tags: tuple[str, ...]  # the tags of the cell the line belongs to

    @property
    def student(self) -> bool:
        """The line is in the student notebook."""
        return not (self.marker or self.in_block or SOLUTION_TAG in self.tags)

    @property
    def solution(self) -> bool:
        """The line is in the solution notebook."""
        return not (self.marker or STUDENT_TAG in self.tags)


def line_layout(text: str) -> dict[int, Line]:
    """Maps each line number of a (well-marked) source to a `Line`.

    Run `split_solution` first: it raises on bad markers; this assumes them right.
    """
    layout = {}
    in_block, tags = False, ()
    for number, line in enumerate(text.splitlines(), start=1):
        if _CELL_RE.match(line):
            found = _TAGS_RE.search(line)
            tags = tuple(re.findall(r"[\"']([^\"']+)[\"']", found.group("tags"))) if found else ()
        begin, end = bool(_BEGIN_RE.match(line)), bool(_END_RE.match(line))
        layout[number] = Line(number, begin or end, in_block and not end, tags)
        if begin:
            in_block = True
        elif end:
            in_block = False
    return layout
