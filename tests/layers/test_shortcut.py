"""ZeroPadShortcut: option A of He et al. (2016) equals a strided identity 1x1 conv + zeros."""

import keras
import numpy as np
import pytest

from cnnlabs.layers import ZeroPadShortcut


def test_equals_a_strided_identity_convolution_with_zero_maps():
    x = np.random.default_rng(0).normal(size=(2, 8, 8, 16)).astype("float32")
    y = np.asarray(ZeroPadShortcut(filters=32, strides=2)(x))
    conv = keras.layers.Conv2D(32, 1, strides=2, use_bias=False)
    conv.build(x.shape)
    conv.set_weights([np.eye(16, 32, dtype="float32").reshape(1, 1, 16, 32)])
    np.testing.assert_allclose(y, np.asarray(conv(x)), rtol=1e-6)
    assert y.shape == (2, 4, 4, 32) and np.all(y[..., 16:] == 0)


def test_odd_sizes_and_json_round_trip():
    inputs = keras.Input((7, 7, 4))
    model = keras.Model(inputs, ZeroPadShortcut(8, 2)(inputs))
    assert model.output_shape == (None, 4, 4, 8)
    rebuilt = keras.models.model_from_json(model.to_json())
    x = np.random.default_rng(1).normal(size=(1, 7, 7, 4)).astype("float32")
    np.testing.assert_array_equal(np.asarray(rebuilt(x)), np.asarray(model(x)))
    assert model.count_params() == 0


def test_fewer_filters_than_channels_raises():
    with pytest.raises(ValueError) as info:
        ZeroPadShortcut(4)(np.zeros((1, 2, 2, 8), "float32"))
    assert str(info.value) == (
        "ZeroPadShortcut got an input with 8 channels but filters=4; expected filters >= input "
        "channels (option A only adds zero maps). Use a projection shortcut (option B) to "
        "reduce channels."
    )


def test_bad_stride_raises():
    with pytest.raises(ValueError) as info:
        ZeroPadShortcut(4, strides=0)
    assert str(info.value) == (
        "strides=0 is not valid: expected a positive int. "
        "Use e.g. ZeroPadShortcut(filters=32, strides=2)."
    )
