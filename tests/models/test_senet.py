"""SE-ResNets against Hu et al. (2018): counts, MACs and the profiler."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from cnnlabs.analysis import layer_table
from cnnlabs.analysis.profiler import mac_flops, profiler_flops
from cnnlabs.models import build_model


def trainable(model):
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


@pytest.mark.slow
def test_se_resnet50_has_the_papers_counts():
    model = build_model("se_resnet50")
    resnet50 = build_model("resnet50", conv_bias=False)  # same layout without SE blocks
    table = layer_table(model)
    assert (model.count_params(), trainable(model)) == (28_141_144, 28_088_024)
    assert round(trainable(model) / 1e6, 1) == 28.1  # the paper: 28.1 M
    assert trainable(model) - trainable(resnet50) == 2_530_992  # "~2.5 million additional"
    # Multiply-adds of convolutions and dense layers: ResNet-50's plus the SE layers'.
    se_fc = sum(row.macs for row in table.rows if row.name.endswith(("_se_reduce", "_se_expand")))
    assert table.total_macs == layer_table(resnet50).total_macs + se_fc == 3_860_488_192
    # The paper's 3.87 GFLOPs also count the gate's multiplication of every output value.
    gates = sum(
        int(np.prod(row.output_shape[1:])) for row in table.rows if row.name.endswith("_se_excite")
    )
    assert gates == 5_519_360
    assert (
        round(table.total_macs / 1e9, 2) == 3.86
        and round((table.total_macs + gates) / 1e9, 2) == 3.87
    )


def test_se_resnet_cifar_macs_equal_the_profiler_and_it_trains():
    keras.utils.set_random_seed(0)
    model = build_model("se_resnet_cifar")
    assert (model.count_params(), trainable(model)) == (273_471, 272_095)
    macs = layer_table(model).total_macs
    assert macs == 40_553_056
    assert mac_flops(profiler_flops(model)) == 2 * macs
    # Eager steps: tracing the training graph costs more than three steps of this size.
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss="sparse_categorical_crossentropy",
        run_eagerly=True,
    )
    x = np.random.default_rng(0).normal(size=(8, 32, 32, 3)).astype("float32")
    y = np.arange(8) % 10
    losses = [float(model.train_on_batch(x, y)) for _ in range(3)]
    assert np.all(np.isfinite(losses)) and losses[-1] < losses[0], losses


def test_se_resnet_cifar_rejects_a_bad_depth():
    with pytest.raises(ValueError) as info:
        build_model("se_resnet_cifar", depth=21)
    assert str(info.value) == (
        "se_resnet_cifar: depth=21 is not valid; expected 6n+2 weighted layers with n >= 1 "
        "(20, 32, 44, 56, 110, ...). Use depth=20."
    )
