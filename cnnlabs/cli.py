"""The `cnnlabs` command line: the parser, the dispatch and the exit codes.

`main` builds one `argparse` parser from a list of `Command`s, imports the handler
of the command given (lazily, so `cnnlabs --help` answers without loading
TensorFlow), runs it and turns the problems a user can fix into a message and
exit code 2: `cnnlabs.errors.UserError` (also importable as
`cnnlabs.cli.UserError`) and the dataset errors listed in `_user_errors`.

Where the commands come from:

- the student library's own commands (`doctor`, `data info`, `data synth`, `train`,
  `summary`) are listed in `COMMANDS` below;
- any installed package may add commands through the entry-point group
  `cnnlabs.commands`: each entry point is named after its command and points to
  a `Command`. The grader registers `assign`, `grade`, `bundle`, `expected` and
  `release` this way (`[project.entry-points."cnnlabs.commands"]` in
  pyproject.toml, the objects in `autograder/cli.py`), so `cnnlabs` never
  imports `autograder`. `python -m autograder` runs the same command line with
  the grader's commands passed in directly, for a checkout that is not
  installed.

An entry point whose package is missing (the student release, where the
installed metadata names the grader but the package is absent) is listed as
unavailable: running it says so and exits with 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from cnnlabs.errors import UserError

__all__ = ["COMMANDS", "ENTRY_POINT_GROUP", "Command", "UserError", "build_parser", "main"]

ENTRY_POINT_GROUP = "cnnlabs.commands"


@dataclass(frozen=True)
class Command:
    """One subcommand of `cnnlabs`.

    Args:
        name: the word typed after `cnnlabs`.
        help: the one-line help shown by `cnnlabs --help`.
        handler: `"module:function"`, imported only when the command runs; the
            function takes the parsed `argparse.Namespace` and returns an exit code.
        arguments: adds the command's arguments to its subparser (none if omitted).
    """

    name: str
    help: str
    handler: str
    arguments: Callable[[argparse.ArgumentParser], None] | None = None

    def run(self, args: argparse.Namespace) -> int:
        module_name, func_name = self.handler.split(":")
        handler = getattr(importlib.import_module(module_name), func_name)
        return int(handler(args) or 0)


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


def _data_arguments(data: argparse.ArgumentParser) -> None:
    data_sub = data.add_subparsers(dest="data_command", metavar="DATA_COMMAND")
    data_sub.required = True
    info = data_sub.add_parser("info", help="where a dataset was found, or why not")
    info.add_argument(
        "name", nargs="?", help="mnist, fashion_mnist, cifar10, cifar100 (all if omitted)"
    )
    info.add_argument("--data-dir", help="look here first (default: $CNNLABS_DATA_DIR)")
    synth = data_sub.add_parser(
        "synth", help="write SYNTHETIC stand-ins in the real formats (for CNNLABS_PROFILE=dryrun)"
    )
    synth.add_argument("directory", help="folder to write to (then set CNNLABS_DATA_DIR to it)")
    synth.add_argument("names", nargs="*", help="datasets (default: mnist cifar10)")
    synth.add_argument("--seed", type=int, default=0)


def _train_arguments(train: argparse.ArgumentParser) -> None:
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


def _summary_arguments(summary: argparse.ArgumentParser) -> None:
    summary.add_argument("model", help="registered model name, e.g. lenet5")
    summary.add_argument("--input-shape", type=_shape, default=None, metavar="H,W,C")
    summary.add_argument("--num-classes", type=int, default=None)
    summary.add_argument("--json", dest="json_path", help="write the table as JSON here")


# The student library's own commands; installed packages add theirs (see the module docstring).
COMMANDS = (
    Command(
        "doctor",
        "versions, devices, profile and where each dataset is found",
        "cnnlabs.doctor:main",
    ),
    Command("data", "dataset commands", "cnnlabs.datasets.cli:main", _data_arguments),
    Command(
        "train", "train a registered model on a dataset", "cnnlabs.train_cli:main", _train_arguments
    ),
    Command(
        "summary",
        "per-layer shapes, parameters, MACs, receptive fields",
        "cnnlabs.analysis.cli:summary",
        _summary_arguments,
    ),
)


def discover() -> tuple[list[Command], dict[str, str]]:
    """The commands registered under the entry-point group `cnnlabs.commands`.

    Returns:
        `(commands, unavailable)`: the `Command`s that loaded, and for each entry
        point whose package is not installed, its name and that package's name.

    Raises:
        TypeError: when an entry point does not point to a `Command` of its own name.
    """
    from importlib.metadata import entry_points

    commands: list[Command] = []
    unavailable: dict[str, str] = {}
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        package = entry.value.split(":")[0].split(".")[0]
        try:
            command = entry.load()
        except ModuleNotFoundError as exc:
            if (exc.name or "").split(".")[0] != package:
                raise  # the provider is there but broken: show the traceback
            unavailable[entry.name] = package
            continue
        if not isinstance(command, Command) or command.name != entry.name:
            raise TypeError(
                f"entry point {entry.name} = {entry.value!r} of group {ENTRY_POINT_GROUP!r} "
                f"must point to a cnnlabs.cli.Command named {entry.name!r}, got {command!r}."
            )
        commands.append(command)
    return commands, unavailable


def _all_commands(extra: Iterable[Command] | None) -> tuple[dict[str, Command], dict[str, str]]:
    found, unavailable = discover()
    commands: dict[str, Command] = {c.name: c for c in COMMANDS}
    for command in [*found, *(extra or ())]:
        commands.setdefault(command.name, command)
        unavailable.pop(command.name, None)
    return commands, unavailable


def build_parser(
    commands: Iterable[Command] | None = None, unavailable: Iterable[str] = ()
) -> argparse.ArgumentParser:
    """The `cnnlabs` parser over `commands` (default: the library's and the installed ones)."""
    if commands is None:
        found, missing = _all_commands(None)
        commands, unavailable = found.values(), missing
    parser = argparse.ArgumentParser(
        prog="cnnlabs",
        description="Course labs for convolutional networks: data, training, analysis, grading.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for command in commands:
        subparser = sub.add_parser(command.name, help=command.help)
        if command.arguments is not None:
            command.arguments(subparser)
    for name in unavailable:
        sub.add_parser(name, help="(not installed in this copy)")
    return parser


def _user_errors() -> tuple[type[BaseException], ...]:
    from cnnlabs.datasets import errors as dataset_errors

    return (
        UserError,
        dataset_errors.DatasetNotFoundError,
        dataset_errors.DatasetCorruptError,
        dataset_errors.SplitUnavailableError,
    )


def main(argv: list[str] | None = None, extra: Iterable[Command] | None = None) -> int:
    """Runs `cnnlabs ARGV...`; `extra` adds commands to those found (`python -m autograder`)."""
    commands, unavailable = _all_commands(extra)
    parser = build_parser(commands.values(), unavailable)
    args, rest = parser.parse_known_args(argv)
    key = args.command if args.command != "data" else f"data {args.data_command}"
    if args.command in unavailable:
        print(
            f"cnnlabs {key}: error: this copy of cnnlabs is the student release, without the "
            f"grader; run `cnnlabs {key}` in the instructor's repository.",
            file=sys.stderr,
        )
        return 2
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    try:
        return commands[args.command].run(args)
    except _user_errors() as exc:
        print(f"cnnlabs {key}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
