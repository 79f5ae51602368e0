"""Reference answers of lab 05 (ResNet): grading side only.

The reference blocks, their parameter counts (the expected data of the block
checks) and the shortcut options' extra parameters. Never shipped to students.

Reference: He, Zhang, Ren & Sun, "Deep Residual Learning for Image Recognition",
CVPR 2016 (Figure 2, Section 3.3, Section 4.2).
"""

from __future__ import annotations

BN_NUMBERS = 4  # gamma, beta, moving mean, moving variance: what count_params() counts

# ResNet-20 for CIFAR-10 (Section 4.2): stages of 16, 32, 64 channels, 3 blocks each.
STAGES = ((16, 3), (32, 3), (64, 3))


def reference_identity_block(x, filters):
    """conv3x3-BN-ReLU-conv3x3-BN, + x, ReLU (He et al. 2016, Figure 2) on a Keras tensor."""
    from keras import layers

    y = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
    y = layers.ReLU()(layers.BatchNormalization()(y))
    y = layers.BatchNormalization()(layers.Conv2D(filters, 3, padding="same", use_bias=False)(y))
    return layers.ReLU()(layers.Add()([y, x]))


def reference_projection_block(x, filters, strides=2):
    """The block with a 1x1 projection shortcut (option B) on a Keras tensor."""
    from keras import layers

    y = layers.Conv2D(filters, 3, strides=strides, padding="same", use_bias=False)(x)
    y = layers.ReLU()(layers.BatchNormalization()(y))
    y = layers.BatchNormalization()(layers.Conv2D(filters, 3, padding="same", use_bias=False)(y))
    shortcut = layers.Conv2D(filters, 1, strides=strides, padding="same", use_bias=False)(x)
    shortcut = layers.BatchNormalization()(shortcut)
    return layers.ReLU()(layers.Add()([y, shortcut]))


def reference_identity_block_model(input_shape, filters):
    """The identity block wrapped in a model."""
    import keras

    inputs = keras.Input(input_shape)
    return keras.Model(inputs, reference_identity_block(inputs, filters), name="identity_block")


def reference_projection_block_model(input_shape, filters, strides=2):
    """The projection block wrapped in a model."""
    import keras

    inputs = keras.Input(input_shape)
    outputs = reference_projection_block(inputs, filters, strides)
    return keras.Model(inputs, outputs, name="projection_block")


def identity_params(input_shape, filters):
    return 2 * 9 * filters * filters + 2 * BN_NUMBERS * filters


def projection_params(input_shape, filters, strides=2):
    c = input_shape[-1]
    return 9 * c * filters + 9 * filters * filters + c * filters + 3 * BN_NUMBERS * filters


def identity_expected(input_shape, filters):
    """What the identity block check compares with: the arguments and the parameter count."""
    return {
        "input_shape": input_shape,
        "filters": filters,
        "params": identity_params(input_shape, filters),
    }


def projection_expected(input_shape, filters, strides):
    """What the projection block check compares with."""
    return {
        "input_shape": input_shape,
        "filters": filters,
        "strides": strides,
        "params": projection_params(input_shape, filters, strides),
    }


def bottleneck_params(input_shape, filters):
    """conv1x1 (C -> f), conv3x3 (f -> f), conv1x1 (f -> 4f), no biases, three BNs."""
    c = input_shape[-1]
    return (
        c * filters
        + 9 * filters * filters
        + filters * 4 * filters
        + BN_NUMBERS * (2 * filters + 4 * filters)
    )


def bottleneck_expected(input_shape, filters):
    """What the bottleneck block check compares with."""
    return {
        "input_shape": input_shape,
        "filters": filters,
        "params": bottleneck_params(input_shape, filters),
    }


def projection_cost(c_in, c_out):
    """A 1x1 projection without bias plus its BN, as count_params() counts them."""
    return c_in * c_out + BN_NUMBERS * c_out


def shortcut_extra_params(option, stages=STAGES, stem=16):
    """Parameters that option B or C adds to option A (parameter-free shortcuts)."""
    extra, c_in = 0, stem
    for filters, blocks in stages:
        for _ in range(blocks):
            if option == "C" or (option == "B" and c_in != filters):
                extra += projection_cost(c_in, filters)
            c_in = filters
    return extra


# question id -> expected(**inputs) of its public cases
EXPECTED = {
    "identity_block": identity_expected,
    "projection_block": projection_expected,
    "bottleneck_block": bottleneck_expected,
    "bottleneck_256_weights": lambda: 256 * 64 + 9 * 64 * 64 + 64 * 256,
    "option_b_extra_params": lambda: shortcut_extra_params("B"),
    "option_c_extra_params": lambda: shortcut_extra_params("C"),
}
