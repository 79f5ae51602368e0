"""Depthwise-separable and grouped convolution blocks (MobileNet, MobileNetV2, ResNeXt).

A standard ``k x k`` convolution from ``M`` to ``N`` maps costs
``D_F^2 * k^2 * M * N`` multiply-adds on a ``D_F x D_F`` output. A
depthwise-separable convolution factors it into a ``k x k`` depthwise convolution
(one filter per input map: ``D_F^2 * k^2 * M``) and a ``1 x 1`` pointwise
convolution (``D_F^2 * M * N``), so it costs ``1/N + 1/k^2`` of the standard one
(Howard et al. 2017, Eq. 5). A grouped convolution with ``g`` groups connects
each output map to ``M / g`` input maps only and costs ``1/g`` of the standard
one; ResNeXt's "cardinality" is ``g`` (Xie et al. 2017). ``depthwise`` is the
grouped case ``g = M = N``.

The cost formulas live in :mod:`cnnlabs.arithmetic` (``conv2d_macs(..., groups=g)``,
``depthwise_conv2d_macs``, ``separable_conv2d_macs``).

Reference: A. G. Howard et al., "MobileNets: efficient convolutional neural
networks for mobile vision applications", arXiv:1704.04861, 2017; M. Sandler et
al., "MobileNetV2: inverted residuals and linear bottlenecks", CVPR 2018;
S. Xie et al., "Aggregated residual transformations for deep neural networks",
CVPR 2017.

Used in: lab 07 (efficient convolutions and transfer learning).
"""

from __future__ import annotations

from keras import layers

__all__ = [
    "depthwise_separable_block",
    "grouped_conv",
    "inverted_residual_block",
    "make_divisible",
]


def make_divisible(value, divisor=8, min_value=None) -> int:
    """Round a channel count to the nearest multiple of ``divisor``, losing at most 10%.

    MobileNetV2 scales every width by ``alpha`` and rounds it this way
    (``max(min_value, int(value + divisor / 2) // divisor * divisor)``, plus one
    ``divisor`` if that lost more than 10%).

    Example:

    >>> make_divisible(32 * 0.35), make_divisible(16 * 0.35), make_divisible(96 * 0.75)
    (16, 8, 72)
    """
    min_value = divisor if min_value is None else min_value
    rounded = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * value:
        rounded += divisor
    return int(rounded)


def _bn(name, epsilon=1e-3, momentum=0.99):
    return layers.BatchNormalization(epsilon=epsilon, momentum=momentum, name=name)


def depthwise_separable_block(x, filters, stride=1, activation="relu", name="conv_dw_1"):
    """MobileNet's unit: 3x3 depthwise conv, BN, ReLU, then 1x1 pointwise conv, BN, ReLU.

    Figure 3 (right) of Howard et al. Neither convolution has a bias (BN's beta
    replaces it). Parameters: ``9 * M`` (depthwise) ``+ M * N`` (pointwise) ``+ 4 * (M + N)``
    (two BN layers, moving statistics included); multiply-adds
    ``H_out * W_out * (9 * M + M * N)``.

    Args:
        x: tensor ``(batch, height, width, M)``.
        filters: int, ``N``, maps of the pointwise convolution.
        stride: int, stride of the depthwise convolution (default 1).
        activation: str, ``"relu"`` (the paper) or ``"relu6"`` (TF-slim's release).
        name: str, the depthwise layers are ``{name}``, ``{name}_bn``, ``{name}_relu``;
            the pointwise ones replace ``dw`` by ``pw`` (``conv_pw_1``...), as in
            ``keras.applications.MobileNet``.

    Returns:
        Tensor ``(batch, ceil(height / stride), ceil(width / stride), filters)``.

    Example:

    >>> import keras
    >>> x = keras.Input((16, 16, 32))
    >>> keras.Model(x, depthwise_separable_block(x, 64, stride=2)).count_params()
    2720

    Reference: Howard et al. 2017, Section 3.1 and Figure 3.

    Used in: lab 07.
    """
    pw = name.replace("dw", "pw") if "dw" in name else name + "_pw"
    x = layers.DepthwiseConv2D(3, strides=stride, padding="same", use_bias=False, name=name)(x)
    x = _bn(name + "_bn")(x)
    x = layers.Activation(activation, name=name + "_relu")(x)
    x = layers.Conv2D(filters, 1, use_bias=False, name=pw)(x)
    x = _bn(pw + "_bn")(x)
    return layers.Activation(activation, name=pw + "_relu")(x)


def inverted_residual_block(x, filters, stride=1, expansion=6, name="block_1"):
    """MobileNetV2's inverted residual with a linear bottleneck (Sandler et al., Table 1).

    ``1x1`` expansion to ``expansion * M`` maps (BN, ReLU6; left out when
    ``expansion == 1``), ``3x3`` depthwise convolution with ``stride`` (BN, ReLU6),
    ``1x1`` linear projection to ``filters`` maps (BN, no activation), and an
    identity shortcut when ``stride == 1`` and ``M == filters``. Layer names
    follow ``keras.applications.MobileNetV2`` (``block_1_expand``,
    ``block_1_depthwise``, ``block_1_project``, ``block_1_add``).

    Args:
        x: tensor ``(batch, height, width, M)``.
        filters: int, output maps.
        stride: int, 1 or 2.
        expansion: int, the expansion factor ``t`` (default 6).
        name: str, the block prefix.

    Returns:
        Tensor ``(batch, ceil(height / stride), ceil(width / stride), filters)``.

    Example:

    >>> import keras
    >>> x = keras.Input((8, 8, 16))
    >>> y = inverted_residual_block(x, 16)
    >>> y.shape, keras.Model(x, y).get_layer("block_1_add").name
    ((None, 8, 8, 16), 'block_1_add')

    Reference: Sandler et al., CVPR 2018, Table 1 and Figure 4.

    Used in: lab 07.
    """
    in_channels = x.shape[-1]
    inputs = x
    if expansion != 1:
        x = layers.Conv2D(expansion * in_channels, 1, use_bias=False, name=name + "_expand")(x)
        x = _bn(name + "_expand_BN", momentum=0.999)(x)
        x = layers.ReLU(6.0, name=name + "_expand_relu")(x)
    x = layers.DepthwiseConv2D(
        3, strides=stride, padding="same", use_bias=False, name=name + "_depthwise"
    )(x)
    x = _bn(name + "_depthwise_BN", momentum=0.999)(x)
    x = layers.ReLU(6.0, name=name + "_depthwise_relu")(x)
    x = layers.Conv2D(filters, 1, use_bias=False, name=name + "_project")(x)
    x = _bn(name + "_project_BN", momentum=0.999)(x)
    if stride == 1 and in_channels == filters:
        x = layers.Add(name=name + "_add")([inputs, x])
    return x


def grouped_conv(x, filters, kernel_size, groups, stride=1, name="grouped_conv"):
    """A ``Conv2D`` with ``groups`` channel groups, no bias, "same" padding.

    Each output map sees ``C_in / groups`` input maps: parameters
    ``k^2 * (C_in / groups) * filters``, ``1/groups`` of the dense convolution.

    Args:
        x: tensor ``(batch, height, width, C_in)``.
        filters: int, output maps (divisible by ``groups``).
        kernel_size: int.
        groups: int, the cardinality; must divide ``C_in`` and ``filters``.
        stride: int (default 1).
        name: str, the layer name.

    Returns:
        Tensor ``(batch, ceil(height / stride), ceil(width / stride), filters)``.

    Raises:
        ValueError: if ``groups`` does not divide both channel counts.

    Example:

    >>> import keras
    >>> x = keras.Input((8, 8, 128))
    >>> keras.Model(x, grouped_conv(x, 128, 3, groups=32)).count_params()  # 9 * 4 * 128
    4608

    Used in: lab 07.
    """
    in_channels = x.shape[-1]
    if (
        isinstance(groups, bool)
        or not isinstance(groups, int)
        or groups < 1
        or in_channels % groups
        or filters % groups
    ):
        raise ValueError(
            f"{name}: groups={groups!r} does not divide in_channels={in_channels} and "
            f"filters={filters}; expected a positive int dividing both. Use e.g. groups=32 "
            "with 128 maps (ResNeXt-50 32x4d)."
        )
    return layers.Conv2D(
        filters,
        kernel_size,
        strides=stride,
        padding="same",
        groups=groups,
        use_bias=False,
        kernel_initializer="he_normal",
        name=name,
    )(x)
