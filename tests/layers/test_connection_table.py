"""PartialConv2D equals a dense convolution whose unconnected kernel slices are zero."""

import keras
import numpy as np
import pytest

from cnnlabs.layers import PartialConv2D

CONNECTIONS = [[0], [1, 2], [0, 2], [0, 1, 2]]


def test_equals_a_masked_dense_convolution():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 7, 7, 3)).astype("float32")
    partial = PartialConv2D(
        4, 3, connections=CONNECTIONS, activation="tanh", bias_initializer="ones"
    )
    y = np.asarray(partial(x))
    assert partial.count_params() == 3 * 3 * 8 + 4

    dense = keras.layers.Conv2D(4, 3, activation="tanh")
    dense.build(x.shape)
    kernel = np.asarray(partial.dense_kernel())
    mask = np.zeros((3, 4), bool)
    for j, row in enumerate(CONNECTIONS):
        mask[row, j] = True
    assert np.all(kernel[:, :, ~mask] == 0)
    assert np.all(kernel[:, :, mask] != 0)
    dense.set_weights([kernel, np.ones(4, "float32")])
    np.testing.assert_allclose(y, np.asarray(dense(x)), rtol=1e-5, atol=1e-6)


def test_gradients_reach_only_the_stored_weights():
    layer = PartialConv2D(4, 3, connections=CONNECTIONS)
    inputs = keras.Input((5, 5, 3))
    model = keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(layer(inputs)))
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    before = layer.kernel.numpy().copy()
    x = np.random.default_rng(2).normal(size=(4, 5, 5, 3)).astype("float32")
    model.train_on_batch(x, np.ones((4, 4), "float32"))
    assert not np.allclose(before, layer.kernel.numpy())
    assert layer.kernel.shape == (3, 3, 8)


def test_round_trips_through_json():
    inputs = keras.Input((6, 6, 3))
    model = keras.Model(inputs, PartialConv2D(4, 3, connections=CONNECTIONS, strides=2)(inputs))
    rebuilt = keras.models.model_from_json(model.to_json())
    rebuilt.set_weights(model.get_weights())
    x = np.random.default_rng(3).normal(size=(1, 6, 6, 3)).astype("float32")
    np.testing.assert_allclose(rebuilt(x), model(x), rtol=1e-6)
    assert rebuilt.output_shape == model.output_shape == (None, 2, 2, 4)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"filters": 3, "connections": CONNECTIONS},
            "filters=3 but connections lists 4 output maps; expected one list of input "
            "channels per filter. Use filters=4 or add rows to connections.",
        ),
        (
            {"filters": 2, "connections": [[0], []]},
            "connections=[[0], []] is not valid: every output map needs at least one input "
            "channel. Give one non-empty list of input channels per filter.",
        ),
        (
            {"filters": 2, "connections": [[0], [1, 1]]},
            "connections[1]=[1, 1] is not valid: expected distinct, non-negative input "
            "channel indices. Remove the duplicates or negative entries.",
        ),
    ],
)
def test_bad_connections_raise_full_messages(kwargs, message):
    with pytest.raises(ValueError) as info:
        PartialConv2D(kernel_size=3, **kwargs)
    assert str(info.value) == message


def test_channel_out_of_range_raises_at_build():
    layer = PartialConv2D(1, 3, connections=[[5]])
    with pytest.raises(ValueError) as info:
        layer(np.zeros((1, 4, 4, 3), "float32"))
    assert str(info.value) == (
        "connections refers to input channel 5, but the input has 3 channels "
        "(shape (1, 4, 4, 3)). Use channel indices between 0 and in_channels - 1."
    )
