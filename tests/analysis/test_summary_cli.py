"""`cnnlabs summary` in-process, through cnnlabs.cli.main."""

from __future__ import annotations

import json

import pytest

from cnnlabs.cli import main
from cnnlabs.models import list_models

# Small models run in the default suite; ImageNet-sized and deep ones take seconds each
# to build on a CPU and run with -m slow.
QUICK = {"lenet5", "lenet5_paper_c3", "alexnet_small", "vgg11_small", "vgg16_small",
         "googlenet_small", "resnet20", "plain20", "preact_resnet20"}


@pytest.mark.parametrize(
    "name", [n if n in QUICK else pytest.param(n, marks=pytest.mark.slow) for n in list_models()]
)
def test_summary_works_for_every_registered_model(name, tmp_path, capsys, documented_params):
    path = tmp_path / f"{name}.json"
    assert main(["summary", name, "--json", str(path)]) == 0
    report = json.loads(path.read_text())
    assert report["model"] == name
    assert report["total_params"] == documented_params[name]
    assert report["total_macs"] > 0 and report["layers"]
    assert name in capsys.readouterr().out



def test_summary_lenet5_json(tmp_path, capsys):
    path = tmp_path / "out" / "lenet5.json"
    assert main(["summary", "lenet5", "--json", str(path)]) == 0
    printed = capsys.readouterr().out
    assert "61,706" in printed and "C3" in printed
    data = json.loads(path.read_text())
    assert {"model", "input_shape", "total_params", "total_macs", "receptive_field",
            "layers"} <= set(data)
    assert data["model"] == "lenet5"
    assert data["input_shape"] == [32, 32, 1]
    assert data["total_params"] == 61_706
    assert data["total_macs"] == 416_520
    assert data["receptive_field"] == 32
    for layer in data["layers"]:
        assert {"name", "type", "output_shape", "params", "macs", "rf", "jump"} <= set(layer)
    assert sum(layer["params"] for layer in data["layers"]) == 61_706
    c1 = next(layer for layer in data["layers"] if layer["name"] == "C1")
    assert (c1["output_shape"], c1["params"], c1["macs"], c1["rf"], c1["jump"]) == (
        [None, 28, 28, 6], 156, 117_600, 5, 1)


def test_summary_passes_input_shape_and_classes(tmp_path):
    path = tmp_path / "lenet5.json"
    assert main(["summary", "lenet5", "--input-shape", "36,36,1", "--num-classes", "7",
                 "--json", str(path)]) == 0
    data = json.loads(path.read_text())
    assert data["input_shape"] == [36, 36, 1]
    assert data["layers"][-1]["output_shape"] == [None, 7]


def test_unknown_model_exits_2_with_suggestions(capsys):
    assert main(["summary", "lenet55"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("cnnlabs summary: error: ")
    assert "'lenet5'" in err and "Traceback" not in err


def test_an_input_the_model_cannot_take_exits_2(capsys):
    # 28x28 leaves 4x4 maps before C5: the builder's ValueError is shown as a clean message
    assert main(["summary", "lenet5", "--input-shape", "28,28,1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("cnnlabs summary: error: lenet5: input_shape=(28, 28, 1)")
    assert "Traceback" not in err
