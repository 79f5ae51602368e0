"""Reference answers of lab 04 (Inception): grading side only.

The reference modules, their parameter counts (the expected data of the module
checks) and the values of the cost questions. Never shipped to students.

Reference: Szegedy et al., "Going deeper with convolutions", CVPR 2015 (Figure 2,
Table 1, Section 4).
"""

from __future__ import annotations


def reference_naive_block(x, filters_1x1, filters_3x3, filters_5x5):
    """The naive module (Figure 2(a)) on a Keras tensor."""
    from keras import layers

    branches = [
        layers.Conv2D(filters_1x1, 1, padding="same", activation="relu")(x),
        layers.Conv2D(filters_3x3, 3, padding="same", activation="relu")(x),
        layers.Conv2D(filters_5x5, 5, padding="same", activation="relu")(x),
        layers.MaxPooling2D(3, strides=1, padding="same")(x),
    ]
    return layers.Concatenate()(branches)


def reference_bottleneck_block(
    x, filters_1x1, reduce_3x3, filters_3x3, reduce_5x5, filters_5x5, pool_proj
):
    """The module with dimension reductions (Figure 2(b)) on a Keras tensor."""
    from keras import layers

    def conv(x, filters, size):
        return layers.Conv2D(filters, size, padding="same", activation="relu")(x)

    branches = [
        conv(x, filters_1x1, 1),
        conv(conv(x, reduce_3x3, 1), filters_3x3, 3),
        conv(conv(x, reduce_5x5, 1), filters_5x5, 5),
        conv(layers.MaxPooling2D(3, strides=1, padding="same")(x), pool_proj, 1),
    ]
    return layers.Concatenate()(branches)


def reference_naive_module(input_shape, filters_1x1, filters_3x3, filters_5x5):
    """The naive module wrapped in a model."""
    import keras

    inputs = keras.Input(input_shape)
    outputs = reference_naive_block(inputs, filters_1x1, filters_3x3, filters_5x5)
    return keras.Model(inputs, outputs, name="naive_module")


def reference_bottleneck_module(
    input_shape, filters_1x1, reduce_3x3, filters_3x3, reduce_5x5, filters_5x5, pool_proj
):
    """The module with dimension reductions wrapped in a model."""
    import keras

    inputs = keras.Input(input_shape)
    outputs = reference_bottleneck_block(
        inputs, filters_1x1, reduce_3x3, filters_3x3, reduce_5x5, filters_5x5, pool_proj
    )
    return keras.Model(inputs, outputs, name="bottleneck_module")


def naive_params(input_shape, filters_1x1, filters_3x3, filters_5x5):
    c = input_shape[-1]
    return sum(
        (k * k * c + 1) * f for k, f in ((1, filters_1x1), (3, filters_3x3), (5, filters_5x5))
    )


def bottleneck_params(
    input_shape, filters_1x1, reduce_3x3, filters_3x3, reduce_5x5, filters_5x5, pool_proj
):
    c = input_shape[-1]
    return (
        (c + 1) * filters_1x1
        + (c + 1) * reduce_3x3
        + (9 * reduce_3x3 + 1) * filters_3x3
        + (c + 1) * reduce_5x5
        + (25 * reduce_5x5 + 1) * filters_5x5
        + (c + 1) * pool_proj
    )


def naive_expected(**inputs):
    """What the naive module check compares with: the arguments and the parameter count."""
    return {**inputs, "params": naive_params(**inputs)}


def bottleneck_expected(**inputs):
    """What the bottleneck module check compares with."""
    return {**inputs, "params": bottleneck_params(**inputs)}


VALUES = {
    "naive_5x5_params": 5 * 5 * 64 * 64 + 64,
    "naive_5x5_macs_per_pixel": 5 * 5 * 64 * 64,
    "bottleneck_5x5_params": (64 + 1) * 32 + (5 * 5 * 32 + 1) * 64,
    "bottleneck_5x5_macs_per_pixel": 64 * 32 + 5 * 5 * 32 * 64,
    "naive_macs_28x28": 28 * 28 * 5 * 5 * 192 * 32,
    "bottleneck_macs_28x28": 28 * 28 * (192 * 16 + 5 * 5 * 16 * 32),
}

# question id -> expected(**inputs) of its public cases
EXPECTED = {
    "inception_naive": naive_expected,
    "inception_bottleneck": bottleneck_expected,
    **{qid: (lambda value=value: value) for qid, value in VALUES.items()},
}
