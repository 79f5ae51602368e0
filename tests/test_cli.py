"""The `cnnlabs` command: help without TensorFlow, doctor, train (real offline MNIST)."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from autograder.cli import BUNDLE
from cnnlabs.cli import ENTRY_POINT_GROUP, discover, main


def test_help_does_not_import_tensorflow():
    code = (
        "import sys\n"
        "from cnnlabs.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print('TF' if 'tensorflow' in sys.modules else 'NO-TF')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip().splitlines()[-1] == "NO-TF"
    # The command list itself (the description line names "data" and "grading" too).
    listed = re.findall(r"^    (\w+) {2,}(\S.*)$", out.stdout, re.M)
    assert [name for name, _ in listed] == [
        "doctor",
        "data",
        "train",
        "summary",  # the library's own
        "assign",
        "bundle",
        "expected",
        "grade",
        "release",  # the grader's, by entry point
    ]
    assert dict(listed)["grade"] == "grade submissions of a lab safely"
    assert dict(listed)["train"] == "train a registered model on a dataset"


def test_the_grader_registers_its_commands_by_entry_point():
    from importlib.metadata import entry_points

    from autograder.cli import COMMANDS

    registered = {e.name: e.load() for e in entry_points(group=ENTRY_POINT_GROUP)}
    assert registered == {c.name: c for c in COMMANDS}
    found, unavailable = discover()
    assert sorted(c.name for c in found) == sorted(registered) and unavailable == {}


def test_python_m_autograder_offers_the_grader_commands_without_entry_points(tmp_path):
    # A checkout that is not installed: no metadata, so no entry points; the grader passes
    # its commands in itself.
    code = (
        "import importlib.metadata as md, runpy, sys\n"
        "md.entry_points = lambda **kw: []\n"
        "sys.argv = ['autograder', 'expected', '--help']\n"
        "runpy.run_module('autograder', run_name='__main__')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("usage: cnnlabs expected [-h] [--check] [labs ...]")


def test_an_entry_point_that_is_not_a_command_is_refused(monkeypatch):
    import importlib.metadata as md

    bogus = md.EntryPoint(name="grade", value="autograder.cli:BUNDLE", group=ENTRY_POINT_GROUP)
    monkeypatch.setattr(md, "entry_points", lambda **kw: [bogus])
    with pytest.raises(TypeError) as info:
        discover()
    assert str(info.value) == (
        "entry point grade = 'autograder.cli:BUNDLE' of group 'cnnlabs.commands' must point "
        f"to a cnnlabs.cli.Command named 'grade', got {BUNDLE!r}."
    )


def test_the_user_error_is_one_class():
    import cnnlabs.cli
    import cnnlabs.errors

    assert cnnlabs.cli.UserError is cnnlabs.errors.UserError


def test_bad_input_shape_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["summary", "lenet5", "--input-shape", "32,x,1"])
    assert exit_info.value.code == 2
    assert (
        "expected a shape like 32,32,1 (positive integers separated by commas), got '32,x,1'"
        in (capsys.readouterr().err)
    )


def test_doctor_reports_versions_devices_profile_and_data(capsys, mnist_test_set):
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    import keras
    import tensorflow as tf

    from cnnlabs.env import detect_device

    assert f"TensorFlow {tf.__version__}, Keras {keras.__version__}" in out
    assert f"Running on {detect_device().kind.upper()} (" in out  # CPU here, GPU on a GPU machine
    assert "Profile: " in out
    for name in ("mnist", "fashion_mnist", "cifar10", "cifar100"):
        assert name in out


def test_train_without_a_train_split_explains_and_exits_2(
    capsys, mnist_test_set, tmp_path, monkeypatch
):
    # Offline only the MNIST test split exists: no silent substitution, a clear message.
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    code = main(["train", "lenet5", "--dataset", "mnist", "--epochs", "1"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("cnnlabs train: error: ")
    assert "Traceback" not in err
    assert err.rstrip().endswith("On the command line: add --train-from-test 8000.")


def test_train_from_test_split_writes_json(capsys, mnist_test_set, tmp_path):
    path = tmp_path / "out" / "result.json"
    code = main(
        [
            "train",
            "lenet5",
            "--dataset",
            "mnist",
            "--train-from-test",
            "8000",
            "--subset",
            "2000",
            "--epochs",
            "1",
            "--json",
            str(path),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    result = json.loads(path.read_text())
    assert set(result) >= {
        "model",
        "dataset",
        "epochs",
        "test_accuracy",
        "test_loss",
        "examples_per_sec",
        "seconds",
        "params",
    }
    assert result["model"] == "lenet5" and result["dataset"] == "mnist"
    assert result["params"] == 61_706
    # LeNet-5's multiply-accumulates per example: C1, C3, C5, F6, output.
    c1, c3, c5 = 28 * 28 * 6 * (5 * 5 * 1), 10 * 10 * 16 * (5 * 5 * 6), 120 * (5 * 5 * 16)
    assert result["macs"] == c1 + c3 + c5 + 120 * 84 + 84 * 10 == 416_520
    assert "Model: lenet5, 61,706 parameters, 0.42M multiply-accumulates per example." in out
    assert result["train_examples"] == 2000 and result["test_examples"] == 2000
    assert result["test_accuracy"] > 0.5  # 2,000 images, one epoch: far above 10% chance
    assert "Test accuracy of lenet5 on mnist" in out


def test_train_unknown_model_suggests(capsys, mnist_test_set):
    code = main(["train", "lenet", "--dataset", "mnist", "--train-from-test", "8000"])
    err = capsys.readouterr().err
    assert code == 2
    assert err == (
        "cnnlabs train: error: Unknown model name 'lenet'. Did you mean 'lenet5' or "
        "'lenet5_paper_c3'? Call cnnlabs.models.list_models() to see every registered name.\n"
    )


def test_the_design_map_names_every_command_and_its_real_handler():
    """docs/design.md's "where things live" table: one row per command, handlers that exist."""
    import ast
    from pathlib import Path

    from cnnlabs.cli import COMMANDS

    root = Path(__file__).resolve().parents[1]
    text = (root / "docs" / "design.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `cnnlabs ([a-z ]+)`[^|]* \| `([\w/]+\.py):(\w+)` \|", text, re.M)
    found, _ = discover()
    commands = {c.name: c for c in (*COMMANDS, *found)}
    assert sorted(name.split()[0] for name, _, _ in rows) == sorted(commands)
    for name, path, func in rows:
        module = path.removesuffix(".py").replace("/", ".").removesuffix(".__init__")
        assert commands[name.split()[0]].handler == f"{module}:{func}", name
        tree = ast.parse((root / path).read_text(encoding="utf-8"))
        assert func in {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}, path
