"""Xception against Chollet (2017) and keras.applications.Xception."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from cnnlabs.analysis import layer_table
from cnnlabs.models import build_model
from cnnlabs.models.xception import xception


def signature(model):
    """Sorted (layer type, weight shapes) of every layer with weights: the layers, order aside."""
    return sorted(
        (type(layer).__name__, [tuple(w.shape) for w in layer.weights])
        for layer in model.layers
        if layer.weights
    )


@pytest.mark.slow
def test_xception_equals_keras_applications_layer_by_layer():
    model = build_model("xception")
    reference = keras.applications.Xception(weights=None)
    assert signature(model) == signature(reference)
    ours = {layer.name: layer.count_params() for layer in model.layers}
    theirs = {layer.name: layer.count_params() for layer in reference.layers}
    shared = set(ours) & set(theirs)
    assert all(ours[n] == theirs[n] for n in shared)  # same names, same counts
    # keras.applications leaves the shortcut convolutions, their BN and the additions unnamed.
    assert sorted(set(ours) - shared) == sorted(
        ["input"]
        + [f"block{b}_add" for b in range(2, 14)]
        + [f"block{b}_shortcut{s}" for b in (2, 3, 4, 13) for s in ("", "_bn")]
    )
    assert model.count_params() == reference.count_params() == 22_910_480
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert trainable == 22_855_952  # Table 3 of the paper: 22,855,952
    assert layer_table(model).total_macs == layer_table(reference).total_macs == 8_357_403_496


def test_xception_middle_flow_is_configurable_and_checked():
    model = xception(input_shape=(71, 71, 3), num_classes=10, middle_blocks=1)
    assert [layer.name for layer in model.layers if layer.name.endswith("_add")] == [
        "block2_add", "block3_add", "block4_add", "block5_add", "block6_add",
    ]  # fmt: skip
    with pytest.raises(ValueError) as info:
        xception(middle_blocks=-1)
    assert str(info.value) == (
        "xception: middle_blocks=-1 is not valid; expected a non-negative int. "
        "Use middle_blocks=8 as in the paper."
    )


def test_xception_needs_71_pixels():
    with pytest.raises(ValueError) as info:
        xception(input_shape=(64, 64, 3))
    assert str(info.value) == (
        "xception: input_shape=(64, 64, 3) is too small; expected height and width of at "
        "least 71 for this architecture. Use e.g. input_shape=(299, 299, 3) or the model's "
        "small variant."
    )
