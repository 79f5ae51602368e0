"""DenseNet-BC against Huang et al. (2017) and keras.applications.DenseNet121/169/201."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from cnnlabs.analysis import layer_table
from cnnlabs.models import build_model
from cnnlabs.models.densenet import densenet_bc_cifar


def signature(model):
    """Sorted (layer type, weight shapes) of every layer with weights: the layers, order aside."""
    return sorted(
        (type(layer).__name__, [tuple(w.shape) for w in layer.weights])
        for layer in model.layers
        if layer.weights
    )


def trainable(model):
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


# name: (count_params(), trainable, the paper's Table 1 count in millions, MACs at 224x224)
IMAGENET = {
    "densenet121": (8_062_504, 7_978_856, 8.0, 2_834_161_664),
    "densenet169": (14_307_880, 14_149_480, 14.1, 3_359_843_328),
    "densenet201": (20_242_984, 20_013_928, 20.0, 4_291_365_888),
}
KERAS = {"densenet121": "DenseNet121", "densenet169": "DenseNet169", "densenet201": "DenseNet201"}


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(n, marks=pytest.mark.slow)
        for n in ("densenet121", "densenet169", "densenet201")
    ],
)
def test_densenet_equals_keras_applications_layer_by_layer(name):
    model = build_model(name)
    reference = getattr(keras.applications, KERAS[name])(weights=None)
    assert signature(model) == signature(reference)
    # Stem, transitions and head have keras.applications' names.
    for layer in ("conv1_conv", "pool2_conv", "pool3_conv", "pool4_conv", "bn", "predictions"):
        assert model.get_layer(layer).count_params() == reference.get_layer(layer).count_params()
    total, weights, paper, macs = IMAGENET[name]
    assert (model.count_params(), trainable(model)) == (reference.count_params(), weights) == (
        total, weights,
    )  # fmt: skip
    assert round(weights / 1e6, 1) == paper
    assert layer_table(model).total_macs == layer_table(reference).total_macs == macs


@pytest.mark.slow
def test_densenet_bc_100_has_the_papers_count():
    # Table 2: DenseNet-BC (L=100, k=12) has 0.8 M parameters.
    model = densenet_bc_cifar(100, 12)
    assert trainable(model) == 769_162
    assert round(trainable(model) / 1e6, 1) == 0.8
    assert model.get_layer("conv4_layer16_concat").output.shape == (None, 8, 8, 342)


def test_densenet_bc_cifar_rejects_a_depth_that_is_not_6n_plus_4():
    with pytest.raises(ValueError) as info:
        densenet_bc_cifar(41)
    assert str(info.value) == (
        "densenet_bc41: depth=41 is not valid; expected 6n+4 weighted layers with n >= 1 "
        "(40, 100, 250, ...). Use depth=100."
    )


def test_densenet_cifar_is_small_and_trains():
    keras.utils.set_random_seed(0)
    model = build_model("densenet_cifar")
    assert (model.count_params(), trainable(model)) == (181_210, 176_122)
    assert layer_table(model).total_macs == 72_365_352
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
