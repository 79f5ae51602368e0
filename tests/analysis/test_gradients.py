"""Vanishing gradients: deep sigmoid networks versus ReLU + BN and residual connections."""

from __future__ import annotations

import io

import keras
import numpy as np
import pytest

from cnnlabs.analysis import gradient_norms
from cnnlabs.plotting import plot_gradient_norms

L = keras.layers
DEPTH = 15


def deep_net(kind: str, seed: int) -> keras.Model:
    keras.utils.set_random_seed(seed)
    inp = keras.Input((8, 8, 1))
    x = L.Flatten()(inp)
    for i in range(DEPTH):
        if kind == "sigmoid":
            x = L.Dense(32, activation="sigmoid", name=f"dense{i}")(x)
        elif kind == "relu_bn":
            x = L.Dense(32, name=f"dense{i}")(x)
            x = L.ReLU()(L.BatchNormalization()(x))
        else:  # residual sigmoid: the same activations, plus identity shortcuts
            y = L.Dense(32, activation="sigmoid", name=f"dense{i}")(x)
            x = y if i == 0 else L.Add()([x, y])
    return keras.Model(inp, L.Dense(10, name="logits")(x), name=kind)


def batch(seed: int):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(64, 8, 8, 1)).astype("float32"), rng.integers(0, 10, 64)


@pytest.mark.parametrize("seed", [0, 1])
def test_sigmoid_gradients_vanish_but_not_with_bn_or_shortcuts(seed):
    x, y = batch(seed)
    ratios = {}
    for kind in ("sigmoid", "relu_bn", "residual"):
        norms = gradient_norms(deep_net(kind, seed), x, y)
        assert list(norms) == [f"dense{i}" for i in range(DEPTH)] + ["logits"]
        assert all(np.isfinite(v) and v >= 0 for v in norms.values())
        ratios[kind] = norms["dense0"] / norms[f"dense{DEPTH - 1}"]
    # measured (seed 0): 8e-10, 19, 0.13
    assert ratios["sigmoid"] < 1e-5
    assert ratios["relu_bn"] > 0.1
    assert ratios["residual"] > 1e-2
    assert ratios["residual"] > 1e4 * ratios["sigmoid"]


def test_norms_match_a_direct_gradient():
    import tensorflow as tf

    model = deep_net("relu_bn", 0)
    x, y = batch(0)
    norms = gradient_norms(model, x, y, loss="sparse_categorical_crossentropy")
    loss = keras.losses.SparseCategoricalCrossentropy()
    with tf.GradientTape() as tape:
        value = loss(y, model(x, training=True))
    kernel = model.get_layer("dense3").kernel
    (grad,) = tape.gradient(value, [kernel.value])
    # loss given by name uses probabilities (from_logits=False): same as the object above
    assert norms["dense3"] == pytest.approx(float(tf.norm(grad)), rel=1e-5)


def test_plot_is_log_scale_with_labels():
    x, y = batch(0)
    fig = plot_gradient_norms({kind: gradient_norms(deep_net(kind, 0), x, y)
                               for kind in ("sigmoid", "residual")})
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
    assert len(ax.get_lines()) == 2
    fig.savefig(io.BytesIO(), format="png")


def test_mismatched_targets_are_explained():
    model = deep_net("sigmoid", 0)
    with pytest.raises(ValueError) as info:
        gradient_norms(model, np.zeros((2, 8, 8, 1)), np.zeros((2, 3)))
    assert str(info.value) == (
        "y has shape (2, 3) and dtype float64, which does not match the model's output "
        "(None, 10); expected integer class labels (batch,) or targets of the output's "
        "shape. Pass loss=... explicitly, e.g. loss=\"mse\"."
    )


def test_model_without_kernels_is_explained():
    model = keras.Sequential([keras.Input((4,)), L.Activation("relu")], name="nokernel")
    with pytest.raises(ValueError) as info:
        gradient_norms(model, np.zeros((1, 4)), np.zeros((1, 4)))
    assert str(info.value) == (
        "model 'nokernel' has no layer with a trainable kernel; expected Conv or Dense layers. "
        "Check that the layers are trainable (layer.trainable = True)."
    )
