"""Depthwise-separable, inverted-residual and grouped blocks: counts, MACs, the profiler."""

from __future__ import annotations

import json

import keras
import pytest

from cnnlabs import arithmetic
from cnnlabs.analysis import layer_table
from cnnlabs.analysis.profiler import mac_flops, profiler_flops
from cnnlabs.models import build_model
from cnnlabs.models.separable import (
    depthwise_separable_block,
    grouped_conv,
    inverted_residual_block,
    make_divisible,
)

L = keras.layers


def conv_kinds_model():
    """One of each: depthwise-separable unit, SeparableConv2D, grouped and dense convs."""
    inputs = keras.Input((15, 15, 16))
    x = depthwise_separable_block(inputs, 24, stride=2, name="conv_dw_1")
    x = L.SeparableConv2D(32, 3, depth_multiplier=2, padding="same", name="sep")(x)
    x = grouped_conv(x, 64, 3, groups=8, stride=2, name="grouped")
    x = L.Conv2D(8, 1, name="pointwise")(x)
    return keras.Model(
        inputs, L.Dense(5, name="dense")(L.GlobalAveragePooling2D()(x)), name="kinds"
    )


def test_table_macs_are_the_arithmetic_formulas_and_equal_the_profiler():
    model = conv_kinds_model()
    table = layer_table(model)
    macs = {row.name: row.macs for row in table.rows if row.macs}
    assert macs == {
        "conv_dw_1": arithmetic.depthwise_conv2d_macs(8, 16, 3),
        "conv_pw_1": arithmetic.conv2d_macs(8, 16, 24, 1),
        "sep": arithmetic.separable_conv2d_macs(8, 24, 32, 3, depth_multiplier=2),
        "grouped": arithmetic.conv2d_macs(4, 32, 64, 3, groups=8),
        "pointwise": arithmetic.conv2d_macs(4, 64, 8, 1),
        "dense": arithmetic.dense_macs(8, 5),
    }
    assert macs["sep"] == 8 * 8 * (9 * 24 * 2 + 48 * 32) == 125_952
    assert macs["grouped"] == 4 * 4 * 64 * 9 * 4 == 36_864
    assert mac_flops(profiler_flops(model)) == 2 * table.total_macs


def test_parameters_are_the_arithmetic_formulas():
    model = conv_kinds_model()
    assert (
        model.get_layer("sep").count_params()
        == arithmetic.separable_conv2d_params(3, 24, 32, depth_multiplier=2)
        == 9 * 48 + 48 * 32 + 32
    )
    assert model.get_layer("grouped").count_params() == arithmetic.conv2d_params(
        3, 32, 64, groups=8, use_bias=False
    )


def test_mobilenet_cifar_depthwise_macs_equal_the_profiler():
    model = build_model("mobilenet_cifar")
    assert mac_flops(profiler_flops(model)) == 2 * layer_table(model).total_macs == 24_334_336


@pytest.mark.slow
def test_densenet_cifar_macs_equal_the_profiler():
    model = build_model("densenet_cifar")
    assert mac_flops(profiler_flops(model)) == 2 * layer_table(model).total_macs == 144_730_704


def test_inverted_residual_adds_only_when_the_shape_is_kept():
    x = keras.Input((8, 8, 16))
    kept = keras.Model(x, inverted_residual_block(x, 16, name="block_1"))
    changed = keras.Model(x, inverted_residual_block(x, 24, stride=2, name="block_2"))
    assert "block_1_add" in [layer.name for layer in kept.layers]
    assert not any(layer.name.endswith("_add") for layer in changed.layers)
    assert changed.output.shape == (None, 4, 4, 24)
    # expand 16 -> 96, depthwise 3x3, project 96 -> 24, three BN layers (4 per channel)
    assert changed.count_params() == 16 * 96 + 9 * 96 + 96 * 24 + 4 * (96 + 96 + 24)


def test_make_divisible_rounds_like_mobilenet_v2():
    assert [make_divisible(c * 0.35) for c in (32, 16, 24, 64, 96, 160, 320)] == [
        16, 8, 8, 24, 32, 56, 112,
    ]  # fmt: skip
    assert make_divisible(1280 * 1.4) == 1792


def test_grouped_conv_rejects_groups_that_do_not_divide():
    x = keras.Input((8, 8, 48))
    with pytest.raises(ValueError) as info:
        grouped_conv(x, 64, 3, groups=32)
    assert str(info.value) == (
        "grouped_conv: groups=32 does not divide in_channels=48 and filters=64; expected a "
        "positive int dividing both. Use e.g. groups=32 with 128 maps (ResNeXt-50 32x4d)."
    )


@pytest.mark.parametrize(("name", "macs"), [("resnext_cifar", 42_568_192)])
def test_cnnlabs_summary_counts_grouped_convolutions_exactly(name, macs, tmp_path, capsys):
    from cnnlabs.cli import main

    path = tmp_path / f"{name}.json"
    assert main(["summary", name, "--json", str(path)]) == 0
    report = json.loads(path.read_text())
    grouped = [row for row in report["layers"] if row["name"] == "conv4_block1_2_conv"]
    # 8x8 output, 128 maps, 3x3 kernels over 128 / 8 = 16 maps each
    assert [row["macs"] for row in grouped] == [8 * 8 * 128 * 3 * 3 * 16]
    assert report["total_macs"] == macs
    assert "MACs per example: 42,568,192 (42.57M)" in capsys.readouterr().out
