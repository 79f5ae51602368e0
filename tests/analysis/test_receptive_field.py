"""Measured receptive fields equal the analytic ones (clipped to the image)."""

from __future__ import annotations

import io

import keras
import numpy as np
import pytest

from cnnlabs.analysis import (
    effective_receptive_field,
    empirical_receptive_field,
    layer_table,
)
from cnnlabs.plotting import plot_effective_receptive_field

L = keras.layers


def stacked():
    return keras.Sequential([keras.Input((24, 24, 2))] + [
        L.Conv2D(3, 3, activation="relu", name=f"conv{i}") for i in range(4)], name="stacked")


def strided_pooled():
    return keras.Sequential([
        keras.Input((48, 48, 3)),
        L.Conv2D(4, 5, strides=2, padding="same", activation="sigmoid", name="c1"),
        L.BatchNormalization(name="bn"),
        L.MaxPooling2D(3, strides=2, name="pool"),
        L.Conv2D(4, 3, padding="same", activation="tanh", name="c2"),
        L.Dropout(0.5, name="drop"),
        L.AveragePooling2D(2, name="avg"),
    ], name="strided_pooled")


def dilated():
    return keras.Sequential([
        keras.Input((40, 40, 1)),
        L.Conv2D(2, 3, dilation_rate=2, activation="relu", name="d2"),
        L.Conv2D(2, 3, dilation_rate=4, padding="same", activation="relu", name="d4"),
    ], name="dilated")


def branching():
    inp = keras.Input((40, 40, 3))
    x = L.ZeroPadding2D(3, name="pad")(inp)
    x = L.Conv2D(8, 7, strides=2, activation="relu", name="stem")(x)
    b1 = L.Conv2D(4, 1, activation="relu", name="b1")(x)
    b3 = L.Conv2D(4, 3, padding="same", activation="relu", name="b3")(x)
    b5 = L.Conv2D(4, 5, padding="same", activation="relu", name="b5")(x)
    x = L.Concatenate(name="cat")([b1, b3, b5])
    y = L.Conv2D(12, 3, padding="same", activation="relu", name="res")(x)
    x = L.Add(name="add")([x, y])
    x = L.Activation("relu", name="out")(x)
    return keras.Model(inp, x, name="branching")


CASES = [
    (stacked, "conv3", None), (stacked, "conv1", (0, 0)), (stacked, "conv3", (15, 15)),
    (strided_pooled, "pool", None), (strided_pooled, "avg", None),
    (strided_pooled, "avg", (0, 4)),  # "same" padding at the border: the field is clipped
    (dilated, "d2", None), (dilated, "d4", None), (dilated, "d4", (35, 0)),
    (branching, "cat", None), (branching, "out", None), (branching, "out", (0, 0)),
]


@pytest.mark.parametrize("build,layer,unit", CASES)
def test_empirical_equals_analytic(build, layer, unit):
    model = build()
    measured = empirical_receptive_field(model, layer, unit)
    assert measured.box == measured.analytic_box
    # a dilated kernel skips pixels: d2 sees offsets {0, 2, 4}, d4 after it only even
    # offsets {0, 2, ..., 12}; the bounding box is still the analytic field
    assert measured.dense == (build is not dilated)
    # away from the border the box is the full analytic receptive field
    row = layer_table(model).row(layer)
    hw = measured.gradient.shape
    (top, bottom), (left, right) = row.span
    jump = row.jump
    i, j = measured.unit
    inside = top + i * jump >= 0 and left + j * jump >= 0 and bottom + i * jump < hw[0] and (
        right + j * jump < hw[1])
    if inside:
        assert measured.size == (row.rf, row.rf)


def test_centre_units_see_the_analytic_size():
    assert empirical_receptive_field(stacked(), "conv3").size == (9, 9)
    assert empirical_receptive_field(dilated(), "d4").size == (13, 13)
    assert empirical_receptive_field(branching(), "cat").size == (15, 15)  # 7 + 4*2 (the 5x5 path)
    assert empirical_receptive_field(branching(), "out").size == (19, 19)


def test_a_strided_1x1_convolution_leaves_holes():
    # kernel 1 < stride 2: the unit depends on every other pixel only. The bounding box
    # still matches the analytic span, but the support is not dense.
    model = keras.Sequential([keras.Input((16, 16, 1)), L.Conv2D(2, 1, strides=2, name="skip"),
                              L.Conv2D(2, 3, name="c")])
    measured = empirical_receptive_field(model, "c")
    assert measured.box == measured.analytic_box
    assert measured.size == (5, 5)
    assert not measured.dense
    assert np.count_nonzero(measured.gradient) == 9


def test_relu_and_max_pooling_would_hide_pixels_without_linearization():
    # the reason for the linearized copy: with real weights, ReLU zeros and max-pooling
    # arg-maxes make some gradients exactly zero inside the receptive field
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((16, 16, 1)),
                              L.Conv2D(1, 3, activation="relu", name="c1"),
                              L.MaxPooling2D(2, name="pool")])
    erf = effective_receptive_field(model, "pool", samples=1)
    measured = empirical_receptive_field(model, "pool")
    top, left, bottom, right = measured.box
    assert measured.dense and measured.size == (4, 4)
    assert np.count_nonzero(erf.map[top:bottom + 1, left:right + 1]) < 16


def test_effective_receptive_field_is_inside_and_concentrated():
    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((40, 40, 1))] + [
        L.Conv2D(8, 3, padding="same", activation="relu", name=f"c{i}") for i in range(6)])
    erf = effective_receptive_field(model, "c5", samples=4, seed=0)
    top, left, bottom, right = erf.theoretical_box
    assert (bottom - top + 1, right - left + 1) == (13, 13)
    outside = erf.map.copy()
    outside[top:bottom + 1, left:right + 1] = 0
    assert not outside.any()  # nothing outside the theoretical field
    assert erf.map.max() == 1.0
    # the central 5x5 holds far more than its 25/169 = 15% share of the 13x13 area
    assert erf.mass_fraction_inside(2) > 0.3
    fig = plot_effective_receptive_field(erf)
    ax = fig.axes[0]
    assert ax.get_title() and "pixels" in ax.get_xlabel() and "pixels" in ax.get_ylabel()
    fig.savefig(io.BytesIO(), format="png")


def test_errors():
    model = stacked()
    with pytest.raises(ValueError) as info:
        empirical_receptive_field(model, "conv9")
    assert str(info.value) == (
        "layer_name='conv9' is not a layer of model 'stacked'; expected one of its 4 layer "
        "names. Did you mean 'conv3' or 'conv2' or 'conv1'?"
    )
    with pytest.raises(ValueError) as info:
        empirical_receptive_field(model, "conv3", unit=(16, 0))
    assert str(info.value) == (
        "unit=(16, 0) is outside the layer's 16x16 feature map; expected 0 <= row < 16 and "
        "0 <= column < 16. Use unit=None for the centre unit (8, 8)."
    )


@pytest.mark.slow
def test_resnet50_measured_field_at_a_deep_layer():
    model = keras.applications.ResNet50(weights=None, input_shape=(224, 224, 3),
                                        include_top=False)
    measured = empirical_receptive_field(model, "conv3_block4_out")
    assert measured.box == measured.analytic_box
