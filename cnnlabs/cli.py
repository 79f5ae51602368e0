"""The `cnnlabs` command line.

This module only parses arguments. Each subcommand's handler lives with the code
it drives and is imported lazily, so `cnnlabs --help` answers without loading
TensorFlow.

Handlers take the parsed `argparse.Namespace` and return an exit code. A handler
that meets a problem the user can fix raises `cnnlabs.cli.UserError` (or one of the
library's own `ValueError`/`FileNotFoundError` subclasses listed in `_USER_ERRORS`);
the message is printed without a traceback and the exit code is 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys


class UserError(Exception):
    """A problem the user can fix; printed without a traceback."""


# "module:function" for each subcommand, imported only when it runs.
_HANDLERS = {
    "doctor": "cnnlabs.doctor:main",
    "data info": "cnnlabs.datasets.cli:info",
    "train": "cnnlabs.train_cli:main",
    "summary": "cnnlabs.analysis.cli:summary",
    "assign": "autograder.assign:main",
    "grade": "autograder.cli:grade",
    "bundle": "autograder.cli:bundle",
    "expected": "autograder.references:main",
    "release": "autograder.release:main",
}


def _shape(text: str) -> tuple[int, ...]:
    try:
        dims = tuple(int(part) for part in text.split(","))
    except ValueError:
        dims = ()
    if not dims or any(d <= 0 for d in dims):
        raise argparse.ArgumentTypeError(
            f"expected a shape like 32,32,1 (positive integers separated by commas), got {text!r}"
        )
    return dims


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cnnlabs",
        description="Course labs for convolutional networks: data, training, analysis, grading.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    sub.add_parser("doctor", help="versions, devices, profile and where each dataset is found")

    data = sub.add_parser("data", help="dataset commands")
    data_sub = data.add_subparsers(dest="data_command", metavar="DATA_COMMAND")
    data_sub.required = True
    info = data_sub.add_parser("info", help="where a dataset was found, or why not")
    info.add_argument("name", nargs="?", help="mnist, fashion_mnist, cifar10, cifar100 (all if omitted)")
    info.add_argument("--data-dir", help="look here first (default: $CNNLABS_DATA_DIR)")

    train = sub.add_parser("train", help="train a registered model on a dataset")
    train.add_argument("model", help="registered model name, e.g. lenet5")
    train.add_argument("--dataset", required=True, help="mnist, fashion_mnist, cifar10, cifar100")
    train.add_argument("--epochs", type=int, default=None, help="default: from the profile")
    train.add_argument("--batch-size", type=int, default=128)
    train.add_argument("--learning-rate", type=float, default=1e-3)
    train.add_argument("--subset", type=int, default=None, help="train on the first N examples")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--data-dir", help="look for the dataset here first")
    train.add_argument(
        "--train-from-test",
        type=int,
        default=None,
        metavar="N",
        help="explicitly train on the first N test images and test on the rest "
        "(for machines that only have the test split, e.g. offline MNIST)",
    )
    train.add_argument("--json", dest="json_path", help="write the result as JSON here")

    summary = sub.add_parser("summary", help="per-layer shapes, parameters, MACs, receptive fields")
    summary.add_argument("model", help="registered model name, e.g. lenet5")
    summary.add_argument("--input-shape", type=_shape, default=None, metavar="H,W,C")
    summary.add_argument("--num-classes", type=int, default=None)
    summary.add_argument("--json", dest="json_path", help="write the table as JSON here")

    assign = sub.add_parser("assign", help="generate student and solution notebooks from lab sources")
    assign.add_argument("labs", nargs="*", help="lab names or numbers (default: all)")
    assign.add_argument("--check", action="store_true", help="exit 1 if a generated notebook is stale")
    assign.add_argument("--root", default=None, help="repository root (default: auto-detect)")
    assign.add_argument("--execute", action="store_true",
                        help="run each solution notebook (smoke profile) and store the outputs "
                        "of its NBVAL_CHECK_OUTPUT cells")

    grade = sub.add_parser("grade", help="grade submissions of a lab safely")
    grade.add_argument("lab", help="lab notebook stem (01_lenet5) or its number (1)")
    grade.add_argument("submissions", nargs="+", metavar="SUBMISSION",
                       help="notebooks, folders of notebooks, or zips of them")
    grade.add_argument("--out", required=True, help="output folder")
    grade.add_argument("--workers", type=int, default=1)
    grade.add_argument("--timeout", type=float, default=None,
                       help="wall-clock seconds per submission")
    grade.add_argument("--hidden", default=None,
                       help="folder of hidden tests (default: labs/hidden of this checkout)")
    grade.add_argument("--seed", type=int, default=None,
                       help="seed of the hidden cases' inputs, the same for every submission "
                            "(default: the one stored in OUT/run.json, created on the first run)")
    grade.add_argument("--allow-weak-sandbox", action="store_true",
                       help="for trying your own notebooks as a non-root user: grade with "
                            "rlimits only (never runs a kernel as root; see docs/grading.md)")

    bundle = sub.add_parser("bundle", help="package a lab's grader as a Gradescope autograder zip")
    bundle.add_argument("lab", help="lab notebook stem or number")
    bundle.add_argument("--out", required=True, help="zip file to write")
    bundle.add_argument("--hidden", default=None, help="folder of hidden tests")

    expected = sub.add_parser(
        "expected", help="regenerate the public cases' expected outputs from the references"
    )
    expected.add_argument("labs", nargs="*", help="lab names or numbers (default: all)")
    expected.add_argument("--check", action="store_true", help="exit 1 if the data is stale")

    release = sub.add_parser(
        "release", help="write the student-facing repository (no solutions, references, hidden tests)"
    )
    release.add_argument("out_dir", help="folder to write (must be empty or absent)")
    release.add_argument("--root", default=None, help="repository root (default: auto-detect)")
    return parser


def _user_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [UserError]
    try:
        from cnnlabs.datasets import errors as dataset_errors

        errors += [
            dataset_errors.DatasetNotFoundError,
            dataset_errors.DatasetCorruptError,
            dataset_errors.SplitUnavailableError,
        ]
    except ImportError:  # pragma: no cover - partial checkouts
        pass
    return tuple(errors)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    key = args.command if args.command != "data" else f"data {args.data_command}"
    module_name, func_name = _HANDLERS[key].split(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if not (exc.name or "").startswith("autograder"):
            raise
        print(
            f"cnnlabs {key}: error: this copy of cnnlabs is the student release, without the "
            f"grader; run `cnnlabs {key}` in the instructor's repository.",
            file=sys.stderr,
        )
        return 2
    handler = getattr(module, func_name)
    try:
        return int(handler(args) or 0)
    except _user_errors() as exc:
        print(f"cnnlabs {key}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
