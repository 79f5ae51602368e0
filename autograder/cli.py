"""The grader's commands of `cnnlabs`, and the handlers of `grade` and `bundle`.

`cnnlabs` never imports the grader: this package registers its commands
(`assign`, `grade`, `bundle`, `expected`, `release`) through the entry-point group
`cnnlabs.commands` (pyproject.toml), each entry point naming one of the
`Command`s below; `cnnlabs.cli` discovers them. `python -m autograder` passes them
in directly, for a checkout that is not installed. Each command's work lives in
its own module (`HANDLER` strings below); this module holds only their arguments
and the two thin handlers of `grade` and `bundle`.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from cnnlabs.cli import Command
from cnnlabs.errors import UserError


def _assign_arguments(assign: argparse.ArgumentParser) -> None:
    assign.add_argument("labs", nargs="*", help="lab names or numbers (default: all)")
    assign.add_argument(
        "--check", action="store_true", help="exit 1 if a generated notebook is stale"
    )
    assign.add_argument("--root", default=None, help="repository root (default: auto-detect)")
    assign.add_argument(
        "--execute",
        action="store_true",
        help="run each solution notebook (smoke profile) and store the outputs "
        "of its NBVAL_CHECK_OUTPUT cells",
    )


def _grade_arguments(grade: argparse.ArgumentParser) -> None:
    grade.add_argument("lab", help="lab notebook stem (01_lenet5) or its number (1)")
    grade.add_argument(
        "submissions",
        nargs="*",
        metavar="SUBMISSION",
        help="notebooks, folders of notebooks, or zips of them",
    )
    grade.add_argument("--out", required=True, help="output folder")
    grade.add_argument(
        "--manual",
        default=None,
        metavar="SCORES_CSV",
        help="instead of grading: merge the TAs' points for the written answers "
        "(OUT/manual/scores.csv, filled in) into OUT",
    )
    grade.add_argument("--workers", type=int, default=1)
    grade.add_argument(
        "--timeout", type=float, default=None, help="wall-clock seconds per submission"
    )
    grade.add_argument(
        "--hidden",
        default=None,
        help="folder of hidden tests (default: labs/hidden of this checkout)",
    )
    grade.add_argument(
        "--seed",
        type=int,
        default=None,
        help="seed of the hidden cases' inputs, the same for every submission "
        "(default: the one stored in OUT/run.json, created on the first run)",
    )
    grade.add_argument(
        "--regrade",
        action="store_true",
        help="grade every submission again, even those already graded and unchanged "
        "(by default a run skips them, so an interrupted run resumes where it stopped)",
    )
    grade.add_argument(
        "--allow-weak-sandbox",
        action="store_true",
        help="for trying your own notebooks as a non-root user: grade with "
        "rlimits only (never runs a kernel as root; see docs/grading.md)",
    )


def _bundle_arguments(bundle: argparse.ArgumentParser) -> None:
    bundle.add_argument("lab", help="lab notebook stem or number")
    bundle.add_argument("--out", required=True, help="zip file to write")
    bundle.add_argument("--hidden", default=None, help="folder of hidden tests")


def _expected_arguments(expected: argparse.ArgumentParser) -> None:
    expected.add_argument("labs", nargs="*", help="lab names or numbers (default: all)")
    expected.add_argument("--check", action="store_true", help="exit 1 if the data is stale")


def _release_arguments(release: argparse.ArgumentParser) -> None:
    release.add_argument("out_dir", help="folder to write (must be empty or absent)")
    release.add_argument("--root", default=None, help="repository root (default: auto-detect)")


ASSIGN = Command(
    "assign",
    "generate student and solution notebooks from lab sources",
    "autograder.assign:main",
    _assign_arguments,
)
GRADE = Command(
    "grade", "grade submissions of a lab safely", "autograder.cli:grade", _grade_arguments
)
BUNDLE = Command(
    "bundle",
    "package a lab's grader as a Gradescope autograder zip",
    "autograder.cli:bundle",
    _bundle_arguments,
)
EXPECTED = Command(
    "expected",
    "regenerate the public cases' expected outputs from the references",
    "autograder.references:main",
    _expected_arguments,
)
RELEASE = Command(
    "release",
    "write the student-facing repository (no solutions, references, hidden tests)",
    "autograder.release:main",
    _release_arguments,
)

# In the order `cnnlabs --help` lists them (pyproject.toml declares the same ones).
COMMANDS = (ASSIGN, GRADE, BUNDLE, EXPECTED, RELEASE)


def _questions_override():
    # Courses with their own labs (and the test fixtures) point at a questions file.
    return os.environ.get("CNNLABS_QUESTIONS_FILE") or None


def grade(args) -> int:
    """`cnnlabs grade LAB SUBMISSION... --out DIR [--workers N] [--timeout S] [--hidden DIR]`."""
    from autograder.batch import BatchInputError, BatchInterrupted, grade_batch
    from autograder.labspec import load_lab
    from autograder.machine import ALLOW_WEAK_ENV
    from autograder.sandbox import SandboxUnavailable, detect, preflight

    if args.workers < 1:
        raise UserError(f"--workers={args.workers} must be at least 1.")
    if args.timeout is not None and args.timeout <= 0:
        raise UserError(f"--timeout={args.timeout} must be a positive number of seconds.")
    if getattr(args, "seed", None) is not None and args.seed < 0:
        raise UserError(f"--seed={args.seed} must be a non-negative integer.")
    if args.hidden is not None and not Path(args.hidden).is_dir():
        raise UserError(f"--hidden={args.hidden!r} is not a folder of hidden tests.")
    manual_csv = getattr(args, "manual", None)
    if bool(manual_csv) == bool(args.submissions):
        raise UserError(
            "give either submissions to grade or --manual SCORES_CSV to merge the TAs' points, "
            f"e.g. `cnnlabs grade {args.lab} submissions/ --out {args.out}`."
        )
    try:
        spec = load_lab(args.lab, hidden_dir=args.hidden, questions_path=_questions_override())
    except (ValueError, FileNotFoundError) as exc:
        raise UserError(str(exc)) from None
    if manual_csv:
        return _merge_manual(spec, args.out, manual_csv)
    if getattr(args, "allow_weak_sandbox", False):
        os.environ[ALLOW_WEAK_ENV] = "1"
    try:  # fails closed, before anyone is graded: a machine fault is nobody's 0
        described = preflight()
    except SandboxUnavailable as exc:
        raise UserError(str(exc)) from None
    print(f"sandbox: {described}")
    if detect().level != "strong":
        print(
            "warning: weak sandbox (--allow-weak-sandbox): fine for your own notebooks, "
            "not for a class; see docs/grading.md."
        )
    draws = sum(len(v) for v in spec.hidden.values())
    hidden = round(
        sum(1 / spec.draws.get(q, {}).get(c.name, 1) for q, v in spec.hidden.items() for c in v)
    )
    print(
        f"lab {spec.lab}: {len(spec.questions)} questions, {spec.max_score:g} points, "
        f"{hidden} hidden cases ({draws} with the random ones drawn several times)"
        + (
            f"; {len(spec.manual)} written answers for TAs, "
            f"{sum(m.points for m in spec.manual):g} points"
            if spec.manual
            else ""
        )
    )
    try:
        batch = grade_batch(
            spec.lab,
            args.submissions,
            args.out,
            workers=args.workers,
            timeout=args.timeout,
            spec=spec,
            seed=getattr(args, "seed", None),
            regrade=getattr(args, "regrade", False),
        )
    except BatchInputError as exc:
        raise UserError(str(exc)) from None
    except BatchInterrupted as exc:  # what was graded is saved, and in grades.csv
        print(f"cnnlabs grade: {exc}", flush=True)
        if exc.abandoned:  # their threads would finish them first: stop now, as a crash would
            os._exit(130)
        return 130
    total = batch.summary["total"]
    print(
        f"{len(batch.results)} submissions: graded {batch.graded}, skipped {batch.skipped} "
        f"unchanged; hidden cases drawn with seed {batch.seed}; mean {total['mean']:.2f} / "
        f"{total['max_score']:g}"
    )
    for qid, q in batch.summary["questions"].items():
        print(
            f"  {qid:<24} mean {q['mean']:.2f} / {q['max_score']:g}  pass rate {q['pass_rate']:.0%}"
        )
    earlier = batch.gradebook - len(batch.results)
    print(
        f"results: {Path(args.out) / 'grades.csv'} ({batch.gradebook} submissions"
        + (f", {earlier} from earlier runs" if earlier else "")
        + f"), {Path(args.out) / 'summary.json'}, {Path(args.out) / 'summary.html'}"
    )
    from autograder.manual import collect

    written = collect(spec, args.out)  # the written answers, one page per question, for TAs
    if written:
        print(
            f"written answers: {len(written) - 1} page(s) in {Path(args.out) / 'manual'}; "
            f"fill in {written[-1]}, then `cnnlabs grade {spec.lab} --out {args.out} "
            f"--manual {written[-1]}`"
        )
    return 0


def _merge_manual(spec, out, csv_path) -> int:
    """`cnnlabs grade LAB --out OUT --manual scores.csv`: the TAs' points into OUT's reports."""
    from autograder.manual import ManualError, collect, merge

    try:
        merged = merge(spec, out, csv_path)
    except ManualError as exc:
        raise UserError(str(exc)) from None
    collect(spec, out)  # the pages show the merged points
    print(
        f"merged {len(merged.points)} manual score(s) for {merged.students} submission(s) "
        f"({merged.blank} row(s) left blank: not graded yet); updated "
        f"{Path(out) / 'grades.csv'}, {Path(out) / 'summary.json'} and each student's "
        "results.json and feedback.md"
    )
    return 0


def bundle(args) -> int:
    """`cnnlabs bundle LAB --out x.zip [--hidden DIR]`."""
    from autograder.bundle import build_bundle

    try:
        path = build_bundle(
            args.lab, args.out, hidden_dir=args.hidden, questions_path=_questions_override()
        )
    except (ValueError, FileNotFoundError) as exc:
        raise UserError(str(exc)) from None
    print(f"wrote {path}: upload it as the Gradescope autograder of lab {args.lab}.")
    return 0
