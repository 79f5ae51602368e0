"""`cnnlabs assign`: one source per lab, two generated notebooks.

Each lab is written once, as `labs/source/NN_name.py` in jupytext percent format,
with its solutions inside markers::

    def conv2d_by_hand(x, w):
        \"\"\"The prompt the student reads.\"\"\"
        ### BEGIN SOLUTION
        ...the solution...
        ### END SOLUTION

    conv1_output_shape = ...  # (height, width, channels)
    ### BEGIN SOLUTION
    conv1_output_shape = (55, 55, 96)
    ### END SOLUTION

From it this module generates

- `solutions/NN_name.ipynb`, the instructor's version: marker lines removed,
  solutions in, cells tagged `student` left out;
- `labs/NN_name.ipynb`, the student's version: each block replaced by one line
  `...  # YOUR CODE HERE` at the block's indentation (a top-level block right
  after a stub line such as `answer = ...` is simply removed, leaving the stub),
  cells tagged `solution` left out.

Both get an "Open in Colab" badge and a Colab install cell (the repository is
named once, in `cnnlabs._meta`), a fixed kernelspec, no execution counts, and
`metadata.cnnlabs = {"lab", "version", "source_sha256"}`.

Outputs. Generated notebooks carry no outputs, with one exception: the outputs
of solution cells marked `# NBVAL_CHECK_OUTPUT` (shapes, parameter counts, MAC
tables), which nbval compares in CI. `cnnlabs assign --execute` (or
`python -m autograder.assign --execute`) runs each solution notebook in the
smoke profile, judges every answer on every public and hidden case in its kernel
and, when all pass, stores exactly those outputs; a plain `cnnlabs assign` keeps
the stored output of every such cell whose source did not change. `--check`
compares everything except outputs (deterministic) and also reports
`NBVAL_CHECK_OUTPUT` cells with no stored output.

Validation. `cnnlabs assign` and `--check` also validate each lab as a unit
(`autograder.validate`: questions, check cells, stubs, hidden tests, the
solution's answers on every case, leaks) and exit 1 naming each problem's file
and line. Lab discovery lives in `autograder.labfiles`, markers in
`autograder.markers`.

See docs/authoring.md for the instructor's guide.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import sys
import time
from pathlib import Path

import nbformat

from autograder.labfiles import Lab, UnknownLabError, available_labs, find_root, resolve_labs
from autograder.markers import (
    BEGIN,
    END,
    SOLUTION_TAG,
    STUDENT_STUB,
    STUDENT_TAG,
    MarkerError,
    split_solution,
)
from autograder.validate import (
    KERNEL_MARK,
    CaseResult,
    Problem,
    Report,
    case_problems,
    kernel_code,
    read_source,
    validate,
)
from cnnlabs import _meta
from cnnlabs.errors import UserError

# Discovery and markers live in their own modules; re-exported for existing callers.
__all__ = [
    "BEGIN",
    "END",
    "STUDENT_STUB",
    "Lab",
    "MarkerError",
    "UnknownLabError",
    "available_labs",
    "build_notebooks",
    "find_root",
    "generate",
    "resolve_labs",
    "run",
    "split_solution",
    "stale",
]

NBVAL_CHECK = "# NBVAL_CHECK_OUTPUT"
VERSIONS = ("student", "solution")

KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}


# --------------------------------------------------------------------------- notebooks


def _badge_cell(lab: Lab, version: str) -> nbformat.NotebookNode:
    url = _meta.colab_url(lab.relative(version))
    badge = "https://colab.research.google.com/assets/colab-badge.svg"
    return nbformat.v4.new_markdown_cell(f"[![Open In Colab]({badge})]({url})")


def _install_cell() -> nbformat.NotebookNode:
    requirement = _meta.pip_requirement()
    return nbformat.v4.new_code_cell(
        "# In Google Colab, install cnnlabs first (elsewhere it is already installed).\n"
        "import sys\n"
        "\n"
        'if "google.colab" in sys.modules:\n'
        "    import importlib\n"
        "    import subprocess\n"
        "\n"
        "    subprocess.run(\n"
        f'        [sys.executable, "-m", "pip", "install", "-q", "{requirement}"], check=True\n'
        "    )\n"
        "    importlib.invalidate_caches()"
    )


def _clean_cell(cell: nbformat.NotebookNode) -> nbformat.NotebookNode:
    tags = list(cell.metadata.get("tags", []))
    source = cell.source.rstrip()
    if cell.cell_type == "markdown":
        new = nbformat.v4.new_markdown_cell(source)
    else:
        new = nbformat.v4.new_code_cell(source)
    if tags:
        new.metadata["tags"] = tags
    return new


def _read_cells(text: str, drop_tag: str) -> list[nbformat.NotebookNode]:
    import jupytext

    parsed = jupytext.reads(text, fmt="py:percent")
    cells = []
    for cell in parsed.cells:
        if cell.cell_type not in ("code", "markdown"):
            continue
        if drop_tag in cell.metadata.get("tags", []):
            continue
        if not cell.source.strip():
            continue
        cells.append(_clean_cell(cell))
    return cells


def source_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build_notebooks(lab: Lab) -> dict[str, nbformat.NotebookNode]:
    """Generates both notebooks of a lab in memory (no outputs).

    Returns:
        `{"student": notebook, "solution": notebook}`.

    Raises:
        MarkerError: when the source's markers are unbalanced.
    """
    text = lab.source.read_text(encoding="utf-8")
    rel = lab.source.relative_to(lab.root).as_posix()
    solution_text, student_text = split_solution(text, rel)
    digest = source_sha256(lab.source)
    notebooks = {}
    for version, version_text, drop in (
        ("student", student_text, SOLUTION_TAG),
        ("solution", solution_text, STUDENT_TAG),
    ):
        cells = _read_cells(version_text, drop)
        if not cells or cells[0].cell_type != "markdown":
            raise MarkerError(
                f"{rel}:1: a lab must open with a markdown cell (the title and learning "
                "objectives); the Colab badge and install cell are inserted after it."
            )
        cells = [cells[0], _badge_cell(lab, version), _install_cell(), *cells[1:]]
        for index, cell in enumerate(cells):
            cell["id"] = f"{lab.name[:2]}-{index:03d}"
        nb = nbformat.v4.new_notebook(cells=cells)
        nb.metadata = {
            "accelerator": "GPU",
            "cnnlabs": {"lab": lab.name, "version": version, "source_sha256": digest},
            "colab": {"gpuType": "T4", "provenance": []},
            "kernelspec": dict(KERNELSPEC),
            "language_info": {"name": "python"},
        }
        nb.nbformat, nb.nbformat_minor = 4, 5
        notebooks[version] = nb
    return notebooks


def dumps(nb: nbformat.NotebookNode) -> str:
    """Stable JSON: sorted keys, one-space indent, trailing newline."""
    text = nbformat.writes(nb, version=4)
    return text if text.endswith("\n") else text + "\n"


def _check_cells(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [c for c in nb.cells if c.cell_type == "code" and NBVAL_CHECK in c.source]


def strip_outputs(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return nb


def _keep_check_outputs(nb: nbformat.NotebookNode, executed: nbformat.NotebookNode) -> None:
    """Copies the outputs of NBVAL_CHECK_OUTPUT cells from `executed` (matched by source)."""
    outputs = {c.source: c.get("outputs", []) for c in _check_cells(executed)}
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    for cell in _check_cells(nb):
        # nbval refuses stored outputs without an execution count ("Unrun reference cell
        # has outputs"); the cell's position among the code cells keeps it deterministic.
        count = code_cells.index(cell) + 1
        kept = []
        for output in copy.deepcopy(outputs.get(cell.source, [])):
            if "execution_count" in output:
                output["execution_count"] = count
            kept.append(output)
        cell.outputs = kept
        cell.execution_count = count if kept else None


def _read_existing(path: Path) -> nbformat.NotebookNode | None:
    if not path.exists():
        return None
    try:
        return nbformat.reads(path.read_text(encoding="utf-8"), as_version=4)
    except Exception:  # noqa: BLE001 - a corrupt notebook is simply regenerated
        return None


# --------------------------------------------------------------------------- labs


def generate(lab: Lab) -> dict[str, str]:
    """The JSON text both notebooks of `lab` should have, keeping stored check outputs."""
    notebooks = build_notebooks(lab)
    existing = _read_existing(lab.notebook("solution"))
    if existing is not None:
        _keep_check_outputs(notebooks["solution"], existing)
    return {version: dumps(nb) for version, nb in notebooks.items()}


def stale(lab: Lab) -> list[str]:
    """Why the generated notebooks of `lab` are out of date (empty when up to date)."""
    problems = []
    for version, nb in build_notebooks(lab).items():
        path = lab.notebook(version)
        existing = _read_existing(path)
        rel = lab.relative(version)
        if existing is None:
            problems.append(f"{rel} is missing")
        elif dumps(strip_outputs(existing)) != dumps(nb):
            problems.append(f"{rel} does not match {lab.source.relative_to(lab.root).as_posix()}")
        elif version == "solution":
            empty = [c.id for c in _check_cells(existing) if not c.get("outputs")]
            if empty:
                problems.append(
                    f"{rel} has {NBVAL_CHECK} cells without stored outputs ({', '.join(empty)}); "
                    f"run `cnnlabs assign {lab.name} --execute`"
                )
    return problems


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
    os.environ.setdefault("CNNLABS_PROFILE", "smoke")
    if os.environ["CNNLABS_PROFILE"] != "smoke":
        raise UserError(
            f"--execute stores outputs from the smoke profile, but CNNLABS_PROFILE="
            f"{os.environ['CNNLABS_PROFILE']!r}. Unset it or set CNNLABS_PROFILE=smoke."
        )
    start = time.perf_counter()
    executed = copy.deepcopy(nb)
    client = NotebookClient(
        executed,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    problems: list[Problem] = []
    with client.setup_kernel():
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
        _keep_check_outputs(nb, executed)
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


def _print_problems(reports: list[Report], out) -> int:
    """Prints each lab's problems; returns how many there were."""
    count = 0
    for report in reports:
        if report.problems:
            print(f"lab {report.lab}: {len(report.problems)} problem(s):", file=out)
            for problem in report.problems:
                print(f"  - {problem}", file=out)
            count += len(report.problems)
    return count


def run(
    names: list[str],
    *,
    root: Path | None = None,
    check: bool = False,
    execute_notebooks: bool = False,
    solutions: bool = True,
    out=sys.stdout,
) -> int:
    """The body of `cnnlabs assign`; returns the exit code.

    Every lab touched is validated as a unit (`autograder.validate`); with
    `solutions` (the default) that includes running the solution's answers on every
    public and hidden case.
    """
    root = Path(root).resolve() if root else find_root()
    labs = resolve_labs(list(names), root)
    if check:
        by_lab = {lab.name: stale(lab) for lab in labs}
        problems = [problem for found in by_lab.values() for problem in found]
        reports = [validate(lab, solutions=solutions) for lab in labs]
        if problems:
            print(f"{len(problems)} generated notebook(s) are stale:", file=out)
            for problem in problems:
                print(f"  - {problem}", file=out)
            outdated = [
                name for name, found in by_lab.items() if any("--execute" not in p for p in found)
            ]
            if outdated:
                print(f"Regenerate them with: cnnlabs assign {' '.join(outdated)}", file=out)
        invalid = _print_problems(reports, out)
        if problems or invalid:
            return 1
        print(f"{len(labs) * 2} generated notebooks are up to date.", file=out)
        _print_validated(reports, solutions, out)
        return 0
    status = 0
    for lab in labs:
        texts = generate(lab)
        for version, text in texts.items():
            path = lab.notebook(version)
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                path.write_text(text, encoding="utf-8")
                print(f"wrote {lab.relative(version)}", file=out)
        report = validate(lab, solutions=solutions and not execute_notebooks)
        if _print_problems([report], out):
            status = 1
            continue
        if execute_notebooks:
            seconds, report.problems = execute(lab)
            if _print_problems([report], out):
                print(
                    f"ran {lab.relative('solution')} (smoke profile) in {seconds:.0f} s; its "
                    "stored outputs were left unchanged.",
                    file=out,
                )
                status = 1
                continue
            report.notes = []
            print(
                f"executed {lab.relative('solution')} (smoke profile) in {seconds:.0f} s; every "
                f"public and hidden case passes; stored the outputs of its {NBVAL_CHECK} cells",
                file=out,
            )
        _print_validated([report], solutions or execute_notebooks, out)
    return status


def _print_validated(reports: list[Report], solutions: bool, out) -> None:
    public = sum(r.public_cases for r in reports)
    hidden = sum(r.hidden_cases for r in reports)
    labs = ", ".join(r.lab for r in reports) if len(reports) == 1 else f"{len(reports)} labs"
    judged = (
        f"; the solutions pass their {public} public and {hidden} hidden cases"
        if solutions
        else f" ({public} public and {hidden} hidden cases; solutions not run)"
    )
    print(
        f"Validated {labs}: questions, check cells, stubs and hidden tests agree{judged}.", file=out
    )
    for report in reports:
        for note in report.notes:
            print(f"note: {note}", file=out)


def main(args: argparse.Namespace) -> int:
    """Handler of `cnnlabs assign [LABS...] [--check] [--root DIR] [--execute]`."""
    return run(
        args.labs,
        root=args.root,
        check=args.check,
        execute_notebooks=getattr(args, "execute", False),
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m autograder.assign",
        description="Generate student and solution notebooks from lab sources.",
    )
    parser.add_argument("labs", nargs="*", help="lab names or numbers (default: all)")
    parser.add_argument(
        "--check",
        action="store_true",
        help="exit 1 if a generated notebook is stale or a lab is invalid (see docs/authoring.md)",
    )
    parser.add_argument("--root", default=None, help="repository root (default: auto-detect)")
    parser.add_argument(
        "--execute",
        action="store_true",
        help="run the solutions (smoke profile), judge every case in their kernel and store "
        "their NBVAL_CHECK_OUTPUT outputs",
    )
    return parser


if __name__ == "__main__":  # pragma: no cover
    _args = _parser().parse_args()
    try:
        sys.exit(main(_args))
    except UserError as exc:
        print(f"cnnlabs assign: error: {exc}", file=sys.stderr)
        sys.exit(2)
