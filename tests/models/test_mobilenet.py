"""MobileNet and MobileNetV2 against Howard et al. (2017), Sandler et al. (2018) and keras.applications."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from cnnlabs.analysis import layer_table
from cnnlabs.models import build_model, mobilenet_v1, mobilenet_v2


def weights_by_layer(model):
    """``{layer name: [weight shapes]}`` of every layer that has weights."""
    return {
        layer.name: [tuple(w.shape) for w in layer.weights]
        for layer in model.layers
        if layer.weights
    }


def trainable(model):
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


@pytest.fixture(scope="module")
def v1():
    return mobilenet_v1()


@pytest.fixture(scope="module")
def v1_table(v1):
    return layer_table(v1)


def test_mobilenet_v1_equals_keras_applications_layer_by_layer(v1):
    reference = keras.applications.MobileNet(weights=None)
    ours, theirs = weights_by_layer(v1), weights_by_layer(reference)
    # keras.applications classifies with a 1x1 convolution on the pooled features.
    theirs["predictions"] = [(1024, 1000), (1000,)]
    assert theirs.pop("conv_preds") == [(1, 1, 1024, 1000), (1000,)]
    assert ours == theirs
    assert v1.count_params() == reference.count_params() == 4_253_864


def test_mobilenet_v1_counts_round_to_table_8(v1, v1_table):
    # 4.2 M parameters without BN (gamma, beta, moving mean and variance), 569 M mult-adds.
    bn = sum(layer.count_params() for layer in v1.layers if "_bn" in layer.name)
    assert (v1.count_params() - bn, bn) == (4_210_088, 43_776)
    assert round((v1.count_params() - bn) / 1e6, 1) == 4.2
    assert v1_table.total_macs == 568_740_352
    assert round(v1_table.total_macs / 1e6) == 569


def test_mobilenet_v1_separable_units_cost_one_over_n_plus_one_over_nine(v1_table):
    # conv_dw_7 + conv_pw_7: 14x14x512 -> 14x14x512, Eq. 5 of the paper.
    dw, pw = v1_table.row("conv_dw_7").macs, v1_table.row("conv_pw_7").macs
    standard = 14 * 14 * 3 * 3 * 512 * 512
    assert (dw, pw) == (14 * 14 * 9 * 512, 14 * 14 * 512 * 512)
    assert (dw + pw) / standard == pytest.approx(1 / 512 + 1 / 9, rel=1e-12)


def test_mobilenet_v1_width_multiplier_scales_every_layer():
    model = mobilenet_v1(input_shape=(128, 128, 3), alpha=0.5, num_classes=10)
    assert model.get_layer("conv1").output.shape == (None, 64, 64, 16)
    assert model.get_layer("conv_pw_13").output.shape == (None, 4, 4, 512)


def test_mobilenet_v1_rejects_a_bad_alpha():
    with pytest.raises(ValueError) as info:
        mobilenet_v1(alpha=0)
    assert str(info.value) == (
        "mobilenet_v1: alpha=0 is not valid; expected a positive width multiplier. "
        "Use alpha=1.0 (the paper's baseline) or 0.75, 0.5, 0.25."
    )


def test_mobilenet_v2_equals_keras_applications_layer_by_layer():
    model = mobilenet_v2()
    reference = keras.applications.MobileNetV2(weights=None)
    assert weights_by_layer(model) == weights_by_layer(reference)
    assert model.count_params() == reference.count_params() == 3_538_984
    assert trainable(model) == 3_504_872  # the paper's 3.4 M (Table 4), with BN's gamma, beta
    macs = layer_table(model).total_macs
    assert macs == layer_table(reference).total_macs == 300_774_272  # the paper's 300 M


def test_mobilenet_v2_small_width_equals_keras_applications():
    model = mobilenet_v2(input_shape=(96, 96, 3), alpha=0.35, num_classes=10)
    reference = keras.applications.MobileNetV2(
        weights=None, input_shape=(96, 96, 3), alpha=0.35, classes=10
    )
    assert weights_by_layer(model) == weights_by_layer(reference)
    assert layer_table(model).total_macs == layer_table(reference).total_macs


def test_mobilenet_cifar_is_small_and_trains():
    keras.utils.set_random_seed(0)
    model = build_model("mobilenet_cifar")
    assert model.count_params() == 834_666
    assert model.get_layer("conv_pw_13").output.shape == (None, 2, 2, 512)
    assert layer_table(model).total_macs == 12_167_168
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
