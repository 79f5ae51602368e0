"""Handlers of `cnnlabs grade` and `cnnlabs bundle` (the parser is in cnnlabs/cli.py)."""

from __future__ import annotations

import os
from pathlib import Path

from cnnlabs.cli import UserError


def _questions_override():
    # Courses with their own labs (and the test fixtures) point at a questions file.
    return os.environ.get("CNNLABS_QUESTIONS_FILE") or None


def grade(args) -> int:
    """`cnnlabs grade LAB SUBMISSION... --out DIR [--workers N] [--timeout S] [--hidden DIR]`."""
    from autograder.batch import BatchInputError, grade_batch
    from autograder.grade import load_lab
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
    try:
        spec = load_lab(args.lab, hidden_dir=args.hidden, questions_path=_questions_override())
    except (ValueError, FileNotFoundError) as exc:
        raise UserError(str(exc)) from None
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
        )
    except BatchInputError as exc:
        raise UserError(str(exc)) from None
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
    print(f"results: {Path(args.out) / 'grades.csv'}, {Path(args.out) / 'summary.json'}")
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
