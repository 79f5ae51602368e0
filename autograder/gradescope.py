"""Gradescope entry point (``run_autograder`` calls ``python -m autograder.gradescope``).

Grades the notebook in ``$ROOT/submission`` and writes ``$ROOT/results/results.json``,
where ``$ROOT`` is ``/autograder`` or ``$CNNLABS_GRADESCOPE_ROOT`` (tests).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from autograder import report
from autograder.grade import grade_submission, load_lab, whole_failure
from autograder.machine import SandboxUnavailable


def run(lab: str, root: Path, *, hidden_dir=None, questions_path=None, timeout=None) -> dict:
    """Grades ``root/submission/*.ipynb``; always writes ``root/results/results.json``."""
    results_dir = root / "results"
    results_dir.mkdir(parents=True, exist_ok=True)
    spec = load_lab(lab, hidden_dir=hidden_dir, questions_path=questions_path)
    notebooks = sorted((root / "submission").rglob("*.ipynb"))
    notebooks = [p for p in notebooks if ".ipynb_checkpoints" not in p.parts]
    work = Path(tempfile.mkdtemp(prefix="cnnlabs-gs-"))
    try:
        if not notebooks:
            result = whole_failure(
                spec,
                "submission",
                "",
                "invalid",
                "no .ipynb file was submitted; upload your lab notebook.",
            )
        else:
            if len(notebooks) > 1:  # prefer the notebook named after the lab
                named = [p for p in notebooks if p.stem.startswith(spec.lab)]
                notebooks = named or notebooks
            try:
                result = grade_submission(
                    spec.lab, notebooks[0], work / "out", timeout=timeout, spec=spec
                )
            except SandboxUnavailable:
                raise  # the machine's fault: refuse, as the sandbox requires (see main)
            except Exception as exc:  # a grader bug still gives the student a results.json
                result = whole_failure(
                    spec,
                    "submission",
                    "",
                    "grader_error",
                    f"internal grader error: {type(exc).__name__}: {exc}",
                )
        data = report.gradescope(result)
        report.atomic_write(results_dir / "results.json", json.dumps(data, indent=1))
        return data
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.gradescope")
    parser.add_argument("--lab", required=True)
    parser.add_argument("--hidden", default=None)
    parser.add_argument("--questions", default=None)
    parser.add_argument("--timeout", type=float, default=None)
    args = parser.parse_args(argv)
    root = Path(os.environ.get("CNNLABS_GRADESCOPE_ROOT", "/autograder"))
    questions = args.questions
    bundled = root / "source" / "questions" / f"lab{args.lab}.py"
    if questions is None and bundled.is_file():
        questions = bundled
    try:
        data = run(
            args.lab, root, hidden_dir=args.hidden, questions_path=questions, timeout=args.timeout
        )
    except SandboxUnavailable as exc:  # no results.json: Gradescope shows an autograder failure
        print(f"cnnlabs: {exc}", file=sys.stderr)
        return 2
    import cnnlabs

    # Where the grader's code came from (the installed bundle), for the autograder's log.
    print(f"grader: {Path(__file__).resolve().parent}, {Path(cnnlabs.__file__).resolve().parent}")
    print(f"score {data['score']:g} / {data['max_score']:g}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
