"""MobileNet (Howard et al. 2017) and MobileNetV2 (Sandler et al. 2018).

MobileNet, Table 1 of the paper: a 3x3 convolution with 32 maps and stride 2,
then 13 depthwise-separable units (:func:`cnnlabs.models.separable.depthwise_separable_block`)
with pointwise widths 64, 128, 128, 256, 256, 512 (x6), 1024, 1024 and stride 2
in units 2, 4, 6 and 12, global average pooling and a 1000-way classifier. At
224x224 it has 4,210,088 weights and biases besides BN (the paper's 4.2 M) and
568,740,352 multiply-adds (the paper's 569 M, Table 8); ``count_params()`` adds
BN's 43,776 parameters: 4,253,864, equal to ``keras.applications.MobileNet``
layer by layer (its classifier is a 1x1 convolution on the pooled features,
ours a ``Dense`` layer with the same weights). ``alpha`` is the width multiplier.
The paper uses ReLU; TF-slim's release and keras.applications use ReLU6
(``activation="relu6"``).

MobileNetV2, Table 2 of its paper (``t, c, n, s``): a 3x3 stride-2 convolution
with 32 maps, 17 inverted residual blocks
(:func:`cnnlabs.models.separable.inverted_residual_block`), a 1x1 convolution
with 1280 maps, pooling and the classifier: 3,538,984 parameters, equal to
``keras.applications.MobileNetV2`` layer by layer (same layer names), and
300,774,272 multiply-adds at 224x224 (the paper's 300 M).

Reference: A. G. Howard et al., "MobileNets: efficient convolutional neural
networks for mobile vision applications", arXiv:1704.04861, 2017; M. Sandler,
A. Howard, M. Zhu, A. Zhmoginov, L.-C. Chen, "MobileNetV2: inverted residuals
and linear bottlenecks", CVPR 2018.

Used in: lab 07 (efficient convolutions and transfer learning).
"""

from __future__ import annotations

import keras
from keras import layers

from cnnlabs.models._common import check_input_shape, check_num_classes
from cnnlabs.models.registry import register
from cnnlabs.models.separable import (
    depthwise_separable_block,
    inverted_residual_block,
    make_divisible,
)

# (pointwise filters, depthwise stride) of the 13 separable units, Table 1.
MOBILENET_UNITS = (
    (64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
    (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1),
)  # fmt: skip
# (expansion t, output channels c, repeats n, first stride s), Table 2 of MobileNetV2.
MOBILENET_V2_STAGES = (
    (1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
    (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1),
)  # fmt: skip


def _check_alpha(alpha, name):
    if isinstance(alpha, bool) or not isinstance(alpha, int | float) or alpha <= 0:
        raise ValueError(
            f"{name}: alpha={alpha!r} is not valid; expected a positive width multiplier. "
            "Use alpha=1.0 (the paper's baseline) or 0.75, 0.5, 0.25."
        )


def _head(x, num_classes, classifier_activation):
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    return layers.Dense(num_classes, activation=classifier_activation, name="predictions")(x)


@register("mobilenet_v1")
def mobilenet_v1(
    input_shape=(224, 224, 3),
    num_classes=1000,
    alpha=1.0,
    first_stride=2,
    activation="relu",
    classifier_activation="softmax",
    name="mobilenet_v1",
):
    """MobileNet (v1) of Table 1 of Howard et al. (2017).

    Args:
        input_shape: tuple ``(height, width, channels)``, default ``(224, 224, 3)``.
        num_classes: int, default 1000.
        alpha: float, width multiplier: every layer has ``int(alpha * maps)`` maps.
        first_stride: int, stride of ``conv1``: 2 (default, the paper) or 1 for
            small images (the CIFAR variant).
        activation: ``"relu"`` (default, the paper) or ``"relu6"``.
        classifier_activation: activation of ``predictions``, default ``"softmax"``.
        name: str, the model name.

    Returns:
        A functional ``keras.Model``, output ``(batch, num_classes)``.

    Raises:
        ValueError: for a bad shape, class count or ``alpha``.

    Example:

    >>> mobilenet_v1(input_shape=(64, 64, 3), num_classes=10).get_layer("conv_pw_13").output.shape
    (None, 2, 2, 1024)

    Reference: Howard et al. 2017, Table 1 and Table 8.

    Used in: lab 07.
    """
    check_num_classes(num_classes, model=name)
    _check_alpha(alpha, name)
    shape = check_input_shape(input_shape, model=name, min_size=32, example="(224, 224, 3)")
    inputs = keras.Input(shape=shape, name="input")
    x = layers.Conv2D(
        int(32 * alpha), 3, strides=first_stride, padding="same", use_bias=False, name="conv1"
    )(inputs)
    x = layers.BatchNormalization(name="conv1_bn")(x)
    x = layers.Activation(activation, name="conv1_relu")(x)
    for index, (filters, stride) in enumerate(MOBILENET_UNITS, start=1):
        x = depthwise_separable_block(
            x, int(filters * alpha), stride, activation, name=f"conv_dw_{index}"
        )
    return keras.Model(inputs, _head(x, num_classes, classifier_activation), name=name)


@register("mobilenet_v2")
def mobilenet_v2(
    input_shape=(224, 224, 3),
    num_classes=1000,
    alpha=1.0,
    classifier_activation="softmax",
    name="mobilenet_v2",
):
    """MobileNetV2 of Table 2 of Sandler et al. (2018), as ``keras.applications.MobileNetV2``.

    Widths are ``make_divisible(alpha * c, 8)``; the last 1x1 convolution keeps
    1280 maps unless ``alpha > 1``.

    Args:
        input_shape: tuple ``(height, width, channels)``, default ``(224, 224, 3)``.
        num_classes: int, default 1000.
        alpha: float, width multiplier (default 1.0).
        classifier_activation: activation of ``predictions``, default ``"softmax"``.
        name: str, the model name.

    Returns:
        A functional ``keras.Model``, output ``(batch, num_classes)``.

    Raises:
        ValueError: for a bad shape, class count or ``alpha``.

    Example:

    >>> mobilenet_v2(input_shape=(64, 64, 3)).get_layer("block_16_project").output.shape
    (None, 2, 2, 320)

    Reference: Sandler et al., CVPR 2018, Table 2.

    Used in: lab 07.
    """
    check_num_classes(num_classes, model=name)
    _check_alpha(alpha, name)
    shape = check_input_shape(input_shape, model=name, min_size=32, example="(224, 224, 3)")
    inputs = keras.Input(shape=shape, name="input")
    x = layers.Conv2D(
        make_divisible(32 * alpha), 3, strides=2, padding="same", use_bias=False, name="Conv1"
    )(inputs)
    x = layers.BatchNormalization(epsilon=1e-3, momentum=0.999, name="bn_Conv1")(x)
    x = layers.ReLU(6.0, name="Conv1_relu")(x)
    block = 0
    for expansion, channels, repeats, first_stride in MOBILENET_V2_STAGES:
        for repeat in range(repeats):
            x = inverted_residual_block(
                x,
                make_divisible(channels * alpha),
                stride=first_stride if repeat == 0 else 1,
                expansion=expansion,
                name=f"block_{block}" if block else "expanded_conv",
            )
            block += 1
    last = make_divisible(1280 * alpha) if alpha > 1.0 else 1280
    x = layers.Conv2D(last, 1, use_bias=False, name="Conv_1")(x)
    x = layers.BatchNormalization(epsilon=1e-3, momentum=0.999, name="Conv_1_bn")(x)
    x = layers.ReLU(6.0, name="out_relu")(x)
    return keras.Model(inputs, _head(x, num_classes, classifier_activation), name=name)


@register("mobilenet_cifar")
def mobilenet_cifar(input_shape=(32, 32, 3), num_classes=10, alpha=0.5, **kwargs):
    """MobileNet for 32x32 images: ``conv1`` at stride 1, half width (``alpha=0.5``).

    The 13 units of Table 1 take the 32x32 maps down to 2x2. Arguments as
    :func:`mobilenet_v1`.

    Example:

    >>> mobilenet_cifar().get_layer("conv_pw_13").output.shape
    (None, 2, 2, 512)

    Used in: lab 07 (smoke profile).
    """
    kwargs.setdefault("name", "mobilenet_cifar")
    return mobilenet_v1(
        input_shape=input_shape, num_classes=num_classes, alpha=alpha, first_stride=1, **kwargs
    )
