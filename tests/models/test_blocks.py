"""DenseNet-BC blocks and squeeze-and-excitation: widths, counts and behaviour."""

import keras
import numpy as np
import pytest

from cnnlabs.models.blocks import dense_block, se_block, transition_block


def test_dense_block_grows_by_k_per_layer_with_the_hand_count():
    x = keras.Input((8, 8, 24))
    model = keras.Model(x, dense_block(x, num_layers=3, growth_rate=12))
    assert model.output_shape == (None, 8, 8, 24 + 3 * 12)
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    expected = 0
    for layer in range(3):
        cin = 24 + layer * 12
        expected += 2 * cin + cin * 48  # BN + 1x1 conv to 4k
        expected += 2 * 48 + 9 * 48 * 12  # BN + 3x3 conv to k
    assert trainable == expected


def test_transition_halves_maps_and_resolution():
    x = keras.Input((8, 8, 60))
    assert transition_block(x, 0.5).shape == (None, 4, 4, 30)
    with pytest.raises(ValueError) as info:
        transition_block(x, 0.0)
    assert str(info.value) == (
        "transition_block: compression=0.0 is not valid; expected a number in (0, 1]. "
        "Use compression=0.5 as in DenseNet-BC."
    )


def test_se_block_gates_each_channel_and_round_trips():
    x = keras.Input((4, 4, 32))
    model = keras.Model(x, se_block(x, ratio=8))
    assert model.count_params() == 32 * 4 + 4 + 4 * 32 + 32
    data = np.random.default_rng(0).normal(size=(2, 4, 4, 32)).astype("float32")
    y = np.asarray(model(data))
    gate = y / data  # a per-sample, per-channel factor in (0, 1)
    assert np.allclose(gate, gate[:, :1, :1, :], atol=1e-4)
    assert np.all((gate > 0) & (gate < 1))
    rebuilt = keras.models.model_from_json(model.to_json())
    rebuilt.set_weights(model.get_weights())
    np.testing.assert_allclose(np.asarray(rebuilt(data)), y, rtol=1e-6)


def test_se_ratio_too_large_raises():
    with pytest.raises(ValueError) as info:
        se_block(keras.Input((4, 4, 8)), ratio=16)
    assert str(info.value) == (
        "se_block: ratio=16 is not valid for 8 channels; expected an int between 1 and the "
        "number of channels. Use ratio=16 as in the paper, or smaller for narrow layers."
    )
