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

From it `cnnlabs assign` generates `solutions/NN_name.ipynb` (the instructor's
version, solutions in) and `labs/NN_name.ipynb` (the student's, each block
replaced by `...  # YOUR CODE HERE`, or removed after a stub line such as
`answer = ...`).

Outputs. Generated notebooks carry no outputs, with one exception: the outputs
of solution cells marked `# NBVAL_CHECK_OUTPUT` (shapes, parameter counts, MAC
tables), which nbval compares in CI. `cnnlabs assign --execute` (or
`python -m autograder.assign --execute`, the same command line) runs each solution notebook in the
smoke profile, judges every answer on every public and hidden case in its kernel
and, when all pass, stores exactly those outputs; a plain `cnnlabs assign` keeps
the stored output of every such cell whose source did not change. `--check`
compares everything except outputs (deterministic) and also reports
`NBVAL_CHECK_OUTPUT` cells with no stored output.

Validation. `cnnlabs assign` and `--check` also validate each lab as a unit
(`autograder.validate`: questions, check cells, stubs, hidden tests, the
solution's answers on every case, leaks) and exit 1 naming each problem's file
and line.

Where the work lives: this module is the body of the command (which labs, what
to write, what to print, the exit code); lab discovery is `autograder.labfiles`,
markers `autograder.markers`, building the notebooks `autograder.notebooks`,
running a solution `autograder.solutionrun`, validation `autograder.validate`,
and the arguments are declared once, in `autograder.cli.ASSIGN`.

See docs/authoring.md for the instructor's guide.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from autograder.labfiles import Lab, UnknownLabError, available_labs, find_root, resolve_labs
from autograder.markers import BEGIN, END, STUDENT_STUB, MarkerError, split_solution
from autograder.notebooks import NBVAL_CHECK, build_notebooks, generate, stale
from autograder.solutionrun import execute
from autograder.validate import Report, validate

# Discovery, markers and notebook building live in their own modules; re-exported for
# existing callers.
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


if (
    __name__ == "__main__"
):  # pragma: no cover - `python -m autograder.assign ARGS` = `cnnlabs assign ARGS`
    from autograder.cli import COMMANDS
    from cnnlabs.cli import main as cnnlabs_main

    sys.exit(cnnlabs_main(["assign", *sys.argv[1:]], extra=COMMANDS))
