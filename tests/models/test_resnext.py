"""ResNeXt against Xie et al. (2017): counts, grouped-convolution MACs and the profiler."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from cnnlabs.analysis import layer_table
from cnnlabs.analysis.profiler import mac_flops, profiler_flops
from cnnlabs.models import build_model
from cnnlabs.models.resnext import cifar_resnext, resnext


def trainable(model):
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


@pytest.fixture(scope="module")
def resnext50():
    return build_model("resnext50_32x4d")


def test_resnext50_32x4d_has_the_papers_counts(resnext50):
    # Table 1: 25.0 M parameters, 4.2 G FLOPs (multiply-adds); torchvision: 25,028,904.
    table = layer_table(resnext50)
    assert (resnext50.count_params(), trainable(resnext50)) == (25_097_128, 25_028_904)
    assert round(trainable(resnext50) / 1e6, 1) == 25.0
    assert table.total_macs == 4_230_479_872
    assert round(table.total_macs / 1e9, 1) == 4.2


def test_resnext50_grouped_convolution_is_one_thirty_second_of_the_dense_one(resnext50):
    table = layer_table(resnext50)
    row = table.row("conv3_block2_2_conv")  # 28x28, 256 -> 256 maps in 32 groups
    assert row.trainable_params == 3 * 3 * (256 // 32) * 256
    assert row.macs == 28 * 28 * 256 * 3 * 3 * 256 // 32
    # The stride sits on the 3x3 convolution, as in the paper's code.
    assert resnext50.get_layer("conv3_block1_1_conv").strides == (1, 1)
    assert resnext50.get_layer("conv3_block1_2_conv").strides == (2, 2)


def test_resnext29_8x64d_has_the_papers_count():
    model = cifar_resnext(29, 8, 64)  # Table 7: 34.4 M
    assert trainable(model) == 34_426_698
    assert round(trainable(model) / 1e6, 1) == 34.4


def test_resnext_cifar_macs_equal_the_profiler():
    model = build_model("resnext_cifar")
    assert (model.count_params(), trainable(model)) == (254_442, 249_898)
    macs = layer_table(model).total_macs
    assert macs == 42_568_192
    assert mac_flops(profiler_flops(model)) == 2 * macs


@pytest.mark.slow
def test_resnext_cifar_trains():
    # Slow on CPU: Keras compiles every grouped convolution with XLA (once per call when
    # eager, once per trace in a graph), 74 s for two steps on a loaded 2-core machine.
    keras.utils.set_random_seed(0)
    model = build_model("resnext_cifar")
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss="sparse_categorical_crossentropy",
        run_eagerly=True,
    )
    x = np.random.default_rng(0).normal(size=(8, 32, 32, 3)).astype("float32")
    y = np.arange(8) % 10
    losses = [float(model.train_on_batch(x, y)) for _ in range(2)]
    assert np.all(np.isfinite(losses)) and losses[1] < losses[0], losses


def test_resnext_rejects_an_unknown_depth_and_a_bad_cardinality():
    with pytest.raises(ValueError) as info:
        resnext(34)
    assert str(info.value) == (
        "resnext34_32x4d: depth=34 is not an ImageNet ResNeXt of the paper; expected 50 or "
        "101. Use cifar_resnext(depth) for the CIFAR networks."
    )
    with pytest.raises(ValueError) as info:
        cifar_resnext(29, cardinality=0)
    assert str(info.value) == (
        "resnext29_0x64d: cardinality=0 is not valid; expected a positive int. "
        "Use cardinality=32, width=4 (ResNeXt-50 32x4d)."
    )
    with pytest.raises(ValueError) as info:
        cifar_resnext(30)
    assert str(info.value) == (
        "resnext30_8x64d: depth=30 is not valid; expected 9n+2 weighted layers with n >= 1 "
        "(11, 20, 29, ...). Use depth=29."
    )
