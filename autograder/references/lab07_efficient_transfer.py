"""Reference answers of lab 07 (efficient convolutions, transfer learning): grading side only.

The cost formulas of the count questions, the parameter counts and arguments that
the block checks compare with, and reference blocks (used by the tests). Never
shipped to students.

References: A. G. Howard et al., "MobileNets", arXiv:1704.04861, 2017 (Section 3.1);
S. Xie et al., "Aggregated residual transformations for deep neural networks", CVPR
2017 (Figure 3, Equation 4); J. Hu, L. Shen, G. Sun, "Squeeze-and-excitation
networks", CVPR 2018 (Section 3); G. Huang et al., "Densely connected convolutional
networks", CVPR 2017 (Section 3).
"""

from __future__ import annotations

from cnnlabs.checks.counts import count_expected
from cnnlabs.checks.lab07_efficient_transfer import (
    DENSE_CHANNELS_MISTAKES,
    DENSE_PARAMS_MISTAKES,
    RATIO_MISTAKES,
    RESNEXT_MISTAKES,
    SE_MISTAKES,
    SEPARABLE_MACS_MISTAKES,
    SEPARABLE_PARAMS_MISTAKES,
    STANDARD_MACS_MISTAKES,
    STANDARD_PARAMS_MISTAKES,
    sequence_expected,
)

BN_NUMBERS = 4  # gamma, beta, moving mean, moving variance: what count_params() counts

# ---------------------------------------------------------------- Howard et al., Section 3.1


def standard_params(k, m, n):
    """D_K * D_K * M * N weights (no bias: batch normalization follows)."""
    return k * k * m * n


def standard_macs(k, m, n, size):
    """D_K * D_K * M * N * D_F * D_F multiply-adds."""
    return k * k * m * n * size * size


def separable_params(k, m, n):
    """Depthwise D_K * D_K * M plus pointwise M * N weights."""
    return k * k * m + m * n


def separable_macs(k, m, n, size):
    """D_K * D_K * M * D_F * D_F + M * N * D_F * D_F multiply-adds."""
    return (k * k * m + m * n) * size * size


def cost_ratio(k, n):
    """Separable / standard multiply-adds: 1 / N + 1 / D_K^2."""
    return 1.0 / n + 1.0 / (k * k)


# ---------------------------------------------------------------- Xie, Hu, Huang


def resnext_params(channels, cardinality, width):
    """Equation 4 of Xie et al.: C * (c * d + 3 * 3 * d * d + d * c), weights only."""
    return cardinality * (channels * width + 9 * width * width + width * channels)


def se_params(channels, ratio):
    """Two fully connected layers with biases: C -> C / r -> C."""
    hidden = channels // ratio
    return channels * hidden + hidden + hidden * channels + channels


def dense_channels(in_channels, growth_rate, num_layers):
    """Channels after each layer of a dense block: k_0 + l * k."""
    return [in_channels + layer * growth_rate for layer in range(1, num_layers + 1)]


def dense_layer_params(in_channels, growth_rate, num_layers):
    """BN (4 numbers per input channel) plus a 3x3 convolution without bias, per layer."""
    counts = []
    for layer in range(num_layers):
        c = in_channels + layer * growth_rate
        counts.append(BN_NUMBERS * c + 9 * c * growth_rate)
    return counts


# ---------------------------------------------------------------- the blocks' expected data


def separable_block_params(input_shape, filters, strides=1):
    c = input_shape[-1]
    return 9 * c + BN_NUMBERS * c + c * filters + BN_NUMBERS * filters


def resnext_block_params(input_shape, cardinality, width):
    c, inner = input_shape[-1], cardinality * width
    return resnext_params(c, cardinality, width) + BN_NUMBERS * (2 * inner + c)


def dense_block_params(input_shape, num_layers, growth_rate):
    return sum(dense_layer_params(input_shape[-1], growth_rate, num_layers))


def transition_params(input_shape, compression):
    c = input_shape[-1]
    return BN_NUMBERS * c + c * int(c * compression)


def separable_expected(input_shape, filters, strides=1):
    """What the separable block check compares with: the arguments and the parameter count."""
    return {
        "input_shape": input_shape,
        "filters": filters,
        "strides": strides,
        "params": separable_block_params(input_shape, filters, strides),
    }


def resnext_expected(input_shape, cardinality, width):
    return {
        "input_shape": input_shape,
        "cardinality": cardinality,
        "width": width,
        "params": resnext_block_params(input_shape, cardinality, width),
    }


def se_expected(input_shape, ratio):
    return {
        "input_shape": input_shape,
        "ratio": ratio,
        "params": se_params(input_shape[-1], ratio),
    }


def dense_expected(input_shape, num_layers, growth_rate):
    return {
        "input_shape": input_shape,
        "num_layers": num_layers,
        "growth_rate": growth_rate,
        "params": dense_block_params(input_shape, num_layers, growth_rate),
    }


def transition_expected(input_shape, compression):
    return {
        "input_shape": input_shape,
        "compression": compression,
        "params": transition_params(input_shape, compression),
    }


def transfer_expected(input_shape, num_classes, trainable_top):
    """The transfer check judges the model's own layers; it needs only the arguments."""
    return {"input_shape": input_shape, "num_classes": num_classes, "trainable_top": trainable_top}


def ratio_expected(k, n):
    """What the ratio check compares with: the ratio and the recognised wrong ratios."""
    return {"ratio": cost_ratio(k, n), "mistakes": [[f(k, n), m] for f, m in RATIO_MISTAKES]}


# ---------------------------------------------------------------- reference blocks (tests)


def reference_separable_block(x, filters, strides=1):
    """Depthwise 3x3 - BN - ReLU - pointwise 1x1 - BN - ReLU (Howard et al., Figure 3)."""
    from keras import layers

    x = layers.DepthwiseConv2D(3, strides=strides, padding="same", use_bias=False)(x)
    x = layers.ReLU()(layers.BatchNormalization()(x))
    x = layers.Conv2D(filters, 1, use_bias=False)(x)
    return layers.ReLU()(layers.BatchNormalization()(x))


def reference_resnext_block(x, cardinality, width):
    """The ResNeXt block of Figure 3(c) with an identity shortcut."""
    from keras import layers

    inner, channels = cardinality * width, x.shape[-1]
    y = layers.ReLU()(layers.BatchNormalization()(layers.Conv2D(inner, 1, use_bias=False)(x)))
    y = layers.Conv2D(inner, 3, padding="same", groups=cardinality, use_bias=False)(y)
    y = layers.ReLU()(layers.BatchNormalization()(y))
    y = layers.BatchNormalization()(layers.Conv2D(channels, 1, use_bias=False)(y))
    return layers.ReLU()(layers.Add()([x, y]))


def reference_se_block(x, ratio):
    """Squeeze (global average pooling), excitation (FC-ReLU-FC-sigmoid), scale."""
    from keras import layers

    channels = x.shape[-1]
    s = layers.GlobalAveragePooling2D(keepdims=True)(x)
    s = layers.Dense(channels // ratio, activation="relu")(s)
    s = layers.Dense(channels, activation="sigmoid")(s)
    return layers.Multiply()([x, s])


def reference_dense_block(x, num_layers, growth_rate):
    """num_layers times x = concat(x, conv3x3(ReLU(BN(x))))."""
    from keras import layers

    for _ in range(num_layers):
        y = layers.ReLU()(layers.BatchNormalization()(x))
        y = layers.Conv2D(growth_rate, 3, padding="same", use_bias=False)(y)
        x = layers.Concatenate()([x, y])
    return x


def reference_transition(x, compression):
    """BN - ReLU - 1x1 convolution to floor(compression * channels) - 2x2 average pooling."""
    from keras import layers

    y = layers.ReLU()(layers.BatchNormalization()(x))
    y = layers.Conv2D(int(x.shape[-1] * compression), 1, use_bias=False)(y)
    return layers.AveragePooling2D(2)(y)


def reference_model(block, input_shape, **kwargs):
    """One of the blocks above wrapped in a model."""
    import keras

    inputs = keras.Input(input_shape)
    return keras.Model(inputs, block(inputs, **kwargs))


# question id -> expected(**inputs) of its public cases
EXPECTED = {
    "standard_params": count_expected(standard_params, STANDARD_PARAMS_MISTAKES),
    "standard_macs": count_expected(standard_macs, STANDARD_MACS_MISTAKES),
    "separable_params": count_expected(separable_params, SEPARABLE_PARAMS_MISTAKES),
    "separable_macs": count_expected(separable_macs, SEPARABLE_MACS_MISTAKES),
    "cost_ratio": ratio_expected,
    "separable_block": separable_expected,
    "resnext_block": resnext_expected,
    "resnext_params": count_expected(resnext_params, RESNEXT_MISTAKES),
    "se_block": se_expected,
    "se_params": count_expected(se_params, SE_MISTAKES),
    "dense_block": dense_expected,
    "transition_layer": transition_expected,
    "dense_channels": sequence_expected(dense_channels, DENSE_CHANNELS_MISTAKES),
    "dense_layer_params": sequence_expected(dense_layer_params, DENSE_PARAMS_MISTAKES),
    "transfer_model": transfer_expected,
}
