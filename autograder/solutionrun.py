"""Running a lab's solution notebook and judging its answers: `cnnlabs assign --execute`.

`execute(lab)` runs the generated solution notebook in a Jupyter kernel in the
smoke profile (set in the kernel's environment only: this process's
`os.environ` is never changed), judges every public and hidden case on the
solution's answers in that kernel (`autograder.validate.kernel_code`), and stores
the outputs of the `NBVAL_CHECK_OUTPUT` cells only when everything passed.
"""

from __future__ import annotations

import copy
import json
import os
import time

import nbformat

from autograder.labfiles import Lab
from autograder.notebooks import dumps, generate, keep_check_outputs
from autograder.validate import (
    KERNEL_MARK,
    CaseResult,
    Problem,
    case_problems,
    kernel_code,
    read_source,
)
from cnnlabs.errors import UserError

__all__ = ["execute"]


def _source_line(lab: Lab, cell_source: str) -> str:
    """`labs/source/NN_name.py:LINE` of a generated cell (its first non-blank line)."""
    first = next((line for line in cell_source.splitlines() if line.strip()), "")
    lines = lab.source.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, start=1):
        if first and line.strip() == first.strip():
            return f"{lab.rel(lab.source)}:{number}"
    return lab.rel(lab.source)


def execute(lab: Lab, timeout: int = 600) -> tuple[float, list[Problem]]:
    """Runs the solution notebook in the smoke profile and judges its answers.

    After the last cell, the same kernel runs every public and hidden case on the
    solution's answers (`autograder.validate.kernel_outcomes`). The outputs of the
    `NBVAL_CHECK_OUTPUT` cells are stored only when the notebook ran without an
    exception and every case passed.

    Returns:
        The wall-clock seconds the run took and the problems found (empty on success).
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    path = lab.notebook("solution")
    nb = nbformat.reads(generate(lab)["solution"], as_version=4)
    profile = os.environ.get("CNNLABS_PROFILE", "smoke")
    if profile != "smoke":
        raise UserError(
            f"--execute stores outputs from the smoke profile, but CNNLABS_PROFILE="
            f"{profile!r}. Unset it or set CNNLABS_PROFILE=smoke."
        )
    # The kernel gets the smoke profile in its own environment; this process's is untouched.
    kernel_env = {**os.environ, "CNNLABS_PROFILE": "smoke"}
    start = time.perf_counter()
    executed = copy.deepcopy(nb)
    client = NotebookClient(
        executed,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    problems: list[Problem] = []
    with client.setup_kernel(env=kernel_env):
        for index, cell in enumerate(executed.cells):
            try:
                client.execute_cell(cell, index)
            except CellExecutionError as exc:
                error = f"{exc.ename}: {exc.evalue}" if exc.ename else "an error"
                problems.append(
                    Problem(
                        _source_line(lab, cell.source),
                        f"this cell of the solution notebook raised {error}. The solution "
                        "must run top to bottom in the smoke profile; fix the cell.",
                    )
                )
                break
        if not problems:
            judge_cell = nbformat.v4.new_code_cell(kernel_code(lab))
            executed.cells.append(judge_cell)
            try:
                client.execute_cell(judge_cell, len(executed.cells) - 1)
            except CellExecutionError as exc:
                problems.append(
                    Problem(
                        lab.rel(lab.source),
                        f"judging the solution's answers in its kernel failed: {exc.ename}: "
                        f"{exc.evalue}. Is `autograder` importable there (pip install -e .)?",
                    )
                )
            else:
                problems += _kernel_problems(lab, judge_cell)
    seconds = time.perf_counter() - start
    if not problems:
        keep_check_outputs(nb, executed)
        path.write_text(dumps(nb), encoding="utf-8")
    return seconds, problems


def _kernel_problems(lab: Lab, cell: nbformat.NotebookNode) -> list[Problem]:
    text = "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")
    payload = next((line for line in text.splitlines() if line.startswith(KERNEL_MARK)), None)
    if payload is None:
        return [Problem(lab.rel(lab.source), f"judging the solution's answers failed: {text}")]
    data = json.loads(payload[len(KERNEL_MARK) :])
    results = [CaseResult(**r) for r in data["results"]]
    source_text = lab.source.read_text(encoding="utf-8")
    problems = [
        Problem(
            lab.rel(lab.source),
            f"after running the solution notebook, `{name}` is not defined: the question "
            "that names it cannot be graded. Define it, or fix answer= in the question.",
        )
        for name in data["missing"]
    ]
    return problems + case_problems(lab, read_source(lab, source_text), results)
