"""LocalResponseNormalization against the paper's formula and tf.nn.local_response_normalization."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from cnnlabs.layers import LocalResponseNormalization


def paper_lrn(a, n, k, alpha, beta):
    """Section 3.3 of Krizhevsky et al. (2012), written as loops over channels."""
    channels = a.shape[-1]
    b = np.empty_like(a, dtype="float64")
    for i in range(channels):
        lo, hi = max(0, i - n // 2), min(channels - 1, i + n // 2)
        energy = (a[..., lo : hi + 1].astype("float64") ** 2).sum(axis=-1)
        b[..., i] = a[..., i] / (k + alpha * energy) ** beta
    return b


@pytest.fixture(scope="module")
def activations():
    # Large activations (as after ReLU in an untrained net) so the normalization matters.
    return np.random.default_rng(0).normal(scale=30.0, size=(2, 3, 3, 11)).astype("float32")


@pytest.mark.parametrize(
    ("size", "k", "alpha", "beta"),
    [(5, 2.0, 1e-4, 0.75), (3, 1.0, 1e-2, 0.5), (1, 0.5, 0.1, 1.0), (7, 2.0, 5e-3, 0.75)],
)
def test_matches_the_paper_formula_and_tensorflow(activations, size, k, alpha, beta):
    layer = LocalResponseNormalization(size=size, k=k, alpha=alpha, beta=beta)
    ours = np.asarray(layer(activations))
    expected = paper_lrn(activations, size, k, alpha, beta)
    np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-6)
    assert not np.allclose(ours, activations / k**beta, rtol=1e-3)  # neighbours matter
    # TF: depth_radius = (n - 1) // 2, bias = k, same alpha (no division by n).
    tf_out = tf.nn.local_response_normalization(
        activations, depth_radius=(size - 1) // 2, bias=k, alpha=alpha, beta=beta
    ).numpy()
    np.testing.assert_allclose(ours, tf_out, rtol=1e-5, atol=1e-6)
    assert layer.depth_radius == (size - 1) // 2
    assert layer.tf_alpha == alpha


def test_caffe_convention_divides_alpha_by_size(activations):
    """Caffe/PyTorch: k + (alpha / n) * sum; equal to the paper's formula with alpha / n."""
    caffe = LocalResponseNormalization(size=5, k=1.0, alpha=0.05, beta=0.75, alpha_is_mean=True)
    ours = np.asarray(caffe(activations))
    np.testing.assert_allclose(
        ours, paper_lrn(activations, 5, 1.0, 0.05 / 5, 0.75), rtol=1e-5, atol=1e-6
    )
    tf_out = tf.nn.local_response_normalization(
        activations, depth_radius=2, bias=1.0, alpha=0.05 / 5, beta=0.75
    ).numpy()
    np.testing.assert_allclose(ours, tf_out, rtol=1e-5, atol=1e-6)
    paper = LocalResponseNormalization(size=5, k=1.0, alpha=0.05, beta=0.75)
    assert not np.allclose(ours, np.asarray(paper(activations)), rtol=1e-3)
    assert caffe.tf_alpha == pytest.approx(0.01)


def test_round_trips_through_config_and_json(activations):
    layer = LocalResponseNormalization(size=3, k=1.5, alpha=1e-3, beta=0.6, alpha_is_mean=True)
    inputs = keras.Input((3, 3, 11))
    model = keras.Model(inputs, layer(inputs))
    rebuilt = keras.models.model_from_json(model.to_json())
    assert rebuilt.layers[-1].get_config() == layer.get_config()
    np.testing.assert_allclose(rebuilt(activations), model(activations), rtol=1e-6)


def test_has_no_weights_and_keeps_shape(activations):
    layer = LocalResponseNormalization()
    assert layer(activations).shape == activations.shape
    assert layer.count_params() == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"size": 4},
            "size=4 is not valid: expected a positive odd int (a window centred on each "
            "channel). Use size=5 as in AlexNet.",
        ),
        (
            {"alpha": -1.0},
            "alpha=-1.0 is not valid: expected a non-negative number. "
            "Use AlexNet's k=2.0, alpha=1e-4, beta=0.75.",
        ),
    ],
)
def test_bad_arguments_raise_full_messages(kwargs, message):
    with pytest.raises(ValueError) as info:
        LocalResponseNormalization(**kwargs)
    assert str(info.value) == message
