"""Later building blocks: DenseNet-BC dense/transition blocks and squeeze-and-excitation.

* Dense block (Huang et al. 2017): layer ``l`` sees the concatenation of the block
  input and all earlier layers' outputs and adds ``growth_rate`` maps. In the
  "B" (bottleneck) form each layer is BN-ReLU-Conv1x1(4k)-BN-ReLU-Conv3x3(k); the
  "C" (compression) transition is BN-ReLU-Conv1x1(theta * maps)-AvgPool 2x2.
* Squeeze-and-excitation (Hu et al. 2018): ``y = x * sigmoid(W2 relu(W1 gap(x)))``
  with a reduction ``ratio`` (16 in the paper), built from Keras layers (no Lambda).

Reference: G. Huang, Z. Liu, L. van der Maaten, K. Q. Weinberger, "Densely
connected convolutional networks", CVPR 2017; J. Hu, L. Shen, G. Sun,
"Squeeze-and-excitation networks", CVPR 2018.

Used in: lab 05 (ResNet and shortcuts, extensions).
"""

from __future__ import annotations

from keras import layers


def _bn_relu_conv(x, filters, kernel, name):
    x = layers.BatchNormalization(epsilon=1.001e-5, name=name + "_bn")(x)
    x = layers.Activation("relu", name=name + "_relu")(x)
    return layers.Conv2D(filters, kernel, padding="same", use_bias=False, name=name + "_conv")(x)


def dense_block(x, num_layers, growth_rate, bottleneck=True, name="dense1"):
    """A DenseNet(-B) block: output maps = input maps + ``num_layers * growth_rate``.

    Example:

    >>> import keras
    >>> dense_block(keras.Input((8, 8, 24)), 3, 12).shape
    (None, 8, 8, 60)
    """
    for index in range(1, num_layers + 1):
        prefix = f"{name}_layer{index}"
        y = x
        if bottleneck:
            y = _bn_relu_conv(y, 4 * growth_rate, 1, prefix + "_1")
        y = _bn_relu_conv(y, growth_rate, 3, prefix + "_2")
        x = layers.Concatenate(axis=-1, name=prefix + "_concat")([x, y])
    return x


def transition_block(x, compression=0.5, name="transition1"):
    """DenseNet-C transition: BN-ReLU-1x1 conv to ``floor(compression * maps)``, 2x2 avg pool.

    Example:

    >>> import keras
    >>> transition_block(keras.Input((8, 8, 60))).shape
    (None, 4, 4, 30)
    """
    if not 0.0 < compression <= 1.0:
        raise ValueError(
            f"transition_block: compression={compression!r} is not valid; expected a number "
            "in (0, 1]. Use compression=0.5 as in DenseNet-BC."
        )
    filters = int(x.shape[-1] * compression)
    x = _bn_relu_conv(x, filters, 1, name)
    return layers.AveragePooling2D(2, strides=2, name=name + "_pool")(x)


def se_block(x, ratio=16, name="se"):
    """Squeeze-and-excitation: rescale each channel by a gate computed from all channels.

    Parameters: ``C * (C // ratio) + C // ratio`` (squeeze FC) ``+ (C // ratio) * C + C``
    (excitation FC).

    Example:

    >>> import keras
    >>> x = keras.Input((8, 8, 64))
    >>> keras.Model(x, se_block(x, ratio=16)).count_params()  # 64*4 + 4 + 4*64 + 64
    580
    """
    channels = x.shape[-1]
    if not isinstance(ratio, int) or ratio < 1 or channels // ratio < 1:
        raise ValueError(
            f"se_block: ratio={ratio!r} is not valid for {channels} channels; expected an "
            "int between 1 and the number of channels. Use ratio=16 as in the paper, or "
            "smaller for narrow layers."
        )
    s = layers.GlobalAveragePooling2D(keepdims=True, name=name + "_squeeze")(x)
    s = layers.Dense(channels // ratio, activation="relu", name=name + "_reduce")(s)
    s = layers.Dense(channels, activation="sigmoid", name=name + "_expand")(s)
    return layers.Multiply(name=name + "_excite")([x, s])
