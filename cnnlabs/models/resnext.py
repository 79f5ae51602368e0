"""ResNeXt (Xie et al. 2017): residual bottlenecks whose 3x3 convolution is grouped.

A ResNeXt block aggregates ``C`` ("cardinality") paths of width ``d``; Figure
3(c) of the paper writes it as one block: 1x1 conv to ``C * d`` maps, a 3x3
convolution with ``C`` groups (:func:`cnnlabs.models.separable.grouped_conv`),
1x1 conv to the output width, BN after each and ReLU after the first two and
after the addition with the shortcut.

ImageNet, Table 1: ResNet-50's layout (7x7/2 conv with 64 maps, 3x3/2 max
pooling, 3-4-6-3 blocks with outputs 256, 512, 1024, 2048, pooling,
classifier) with bottleneck widths 128, 256, 512, 1024 in 32 groups
(ResNeXt-50 32x4d). The stride sits on the 3x3 convolution and projection
shortcuts (1x1 conv + BN) only where the shape changes, as in the paper's
fb.resnet.torch code; convolutions have no bias. 25,028,904 trainable
parameters (the paper's 25.0 M, torchvision's ``resnext50_32x4d``) and
4,230,479,872 multiply-adds at 224x224 (the paper's 4.2 G);
``count_params()`` adds BN's moving statistics: 25,097,128.

CIFAR, Section 5.3: a 3x3 convolution with 64 maps, three stages of ``(depth -
2) / 9`` blocks with outputs 256, 512, 1024 and bottleneck width ``C * d``
doubling per stage; ResNeXt-29 8x64d has 34,426,698 trainable parameters (the
paper's 34.4 M, Table 7). ``resnext_cifar`` is a small member of the family
for smoke runs.

Reference: S. Xie, R. Girshick, P. Dollar, Z. Tu, K. He, "Aggregated residual
transformations for deep neural networks", CVPR 2017.

Used in: lab 07 (efficient convolutions and transfer learning).
"""

from __future__ import annotations

import keras
from keras import layers

from cnnlabs.models._common import check_input_shape, check_num_classes
from cnnlabs.models.registry import register
from cnnlabs.models.separable import grouped_conv

BN_EPSILON = 1.001e-5
RESNEXT_STAGES = {50: (3, 4, 6, 3), 101: (3, 4, 23, 3)}


def conv_bn(x, filters, kernel, stride, name, relu=True):
    """Conv2D ("same", no bias, He init) ``{name}_conv``, BN ``{name}_bn``, ReLU ``{name}_relu``."""
    x = layers.Conv2D(
        filters,
        kernel,
        strides=stride,
        padding="same",
        use_bias=False,
        kernel_initializer="he_normal",
        name=name + "_conv",
    )(x)
    x = layers.BatchNormalization(epsilon=BN_EPSILON, name=name + "_bn")(x)
    return layers.Activation("relu", name=name + "_relu")(x) if relu else x


def resnext_block(x, filters, cardinality=32, width=4, stride=1, name="conv2_block1"):
    """A ResNeXt bottleneck (Figure 3(c)): 1x1, grouped 3x3, 1x1 with BN, plus a shortcut.

    The bottleneck has ``cardinality * width`` maps; the 3x3 convolution has
    ``cardinality`` groups and ``stride``. The shortcut is the identity, or a
    1x1 convolution with ``stride`` and BN when the shape changes.

    Args:
        x: tensor ``(batch, height, width, channels)``.
        filters: int, output maps.
        cardinality: int, ``C``, groups of the 3x3 convolution (default 32).
        width: int, ``d``, maps per group (default 4).
        stride: int (default 1).
        name: str, the block prefix (``conv2_block1_1_conv``, ``conv2_block1_2_conv``...).

    Returns:
        Tensor ``(batch, ceil(height / stride), ceil(width / stride), filters)``.

    Example:

    >>> import keras
    >>> x = keras.Input((56, 56, 256))
    >>> block = keras.Model(x, resnext_block(x, 256, cardinality=32, width=4))
    >>> block.get_layer("conv2_block1_2_conv").count_params()  # 9 * (128 / 32) * 128
    4608

    Reference: Xie et al., CVPR 2017, Figure 3(c) and Table 1.

    Used in: lab 07.
    """
    shortcut = x
    if stride != 1 or x.shape[-1] != filters:
        shortcut = conv_bn(x, filters, 1, stride, name + "_0", relu=False)
    y = conv_bn(x, cardinality * width, 1, 1, name + "_1")
    y = grouped_conv(y, cardinality * width, 3, cardinality, stride, name=name + "_2_conv")
    y = layers.BatchNormalization(epsilon=BN_EPSILON, name=name + "_2_bn")(y)
    y = layers.Activation("relu", name=name + "_2_relu")(y)
    y = conv_bn(y, filters, 1, 1, name + "_3", relu=False)
    y = layers.Add(name=name + "_add")([shortcut, y])
    return layers.Activation("relu", name=name + "_out")(y)


def imagenet_stem(inputs, filters=64):
    """ResNet's stem: 7x7/2 conv (no bias), BN, ReLU, 3x3/2 max pooling; 224 -> 56."""
    x = conv_bn(inputs, filters, 7, 2, "conv1")
    x = layers.ZeroPadding2D(1, name="pool1_pad")(x)
    return layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)


def _head(x, num_classes, classifier_activation):
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    return layers.Dense(num_classes, activation=classifier_activation, name="predictions")(x)


def _check_cardinality(cardinality, width, name):
    for label, value in (("cardinality", cardinality), ("width", width)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(
                f"{name}: {label}={value!r} is not valid; expected a positive int. "
                "Use cardinality=32, width=4 (ResNeXt-50 32x4d)."
            )


def resnext(
    depth=50,
    cardinality=32,
    width=4,
    input_shape=(224, 224, 3),
    num_classes=1000,
    classifier_activation="softmax",
    name=None,
):
    """An ImageNet ResNeXt of Table 1 (``depth`` 50 or 101, ``cardinality x width``d).

    Args:
        depth: int, 50 (default) or 101.
        cardinality: int, ``C`` (default 32).
        width: int, ``d``, maps per group in the first stage (default 4; doubles per stage).
        input_shape: tuple ``(height, width, channels)``, default ``(224, 224, 3)``.
        num_classes: int, default 1000.
        classifier_activation: activation of ``predictions``, default ``"softmax"``.
        name: str, default ``f"resnext{depth}_{cardinality}x{width}d"``.

    Returns:
        A functional ``keras.Model``, output ``(batch, num_classes)``.

    Raises:
        ValueError: for an unknown depth, bad cardinality/width, shape or class count.

    Example:

    >>> resnext(50, input_shape=(64, 64, 3)).get_layer("conv5_block3_out").output.shape
    (None, 2, 2, 2048)

    Reference: Xie et al., CVPR 2017, Table 1.

    Used in: lab 07.
    """
    name = name or f"resnext{depth}_{cardinality}x{width}d"
    if depth not in RESNEXT_STAGES:
        raise ValueError(
            f"{name}: depth={depth!r} is not an ImageNet ResNeXt of the paper; expected 50 or "
            "101. Use cifar_resnext(depth) for the CIFAR networks."
        )
    _check_cardinality(cardinality, width, name)
    check_num_classes(num_classes, model=name)
    shape = check_input_shape(input_shape, model=name, min_size=32, example="(224, 224, 3)")
    inputs = keras.Input(shape=shape, name="input")
    x = imagenet_stem(inputs)
    for stage, blocks in enumerate(RESNEXT_STAGES[depth], start=2):
        scale = 2 ** (stage - 2)
        for index in range(1, blocks + 1):
            x = resnext_block(
                x,
                256 * scale,
                cardinality,
                width * scale,
                stride=2 if (index == 1 and stage > 2) else 1,
                name=f"conv{stage}_block{index}",
            )
    return keras.Model(inputs, _head(x, num_classes, classifier_activation), name=name)


@register("resnext50_32x4d")
def resnext50_32x4d(input_shape=(224, 224, 3), num_classes=1000, **kwargs):
    """ResNeXt-50 (32x4d) for 224x224 ImageNet images; arguments as :func:`resnext`."""
    kwargs.setdefault("name", "resnext50_32x4d")
    return resnext(50, 32, 4, input_shape=input_shape, num_classes=num_classes, **kwargs)


def cifar_resnext(
    depth=29,
    cardinality=8,
    width=64,
    stage_filters=(256, 512, 1024),
    stem_filters=64,
    input_shape=(32, 32, 3),
    num_classes=10,
    classifier_activation="softmax",
    name=None,
):
    """A CIFAR ResNeXt (Section 5.3): ``(depth - 2) / 9`` blocks in each of three stages.

    Args:
        depth: int, ``9n + 2`` (default 29).
        cardinality: int, ``C`` (default 8).
        width: int, ``d`` in the first stage, doubled in each later stage (default 64).
        stage_filters: three ints, output maps of the stages (default 256, 512, 1024).
        stem_filters: int, maps of the first 3x3 convolution (default 64).
        input_shape: tuple ``(height, width, channels)``, default ``(32, 32, 3)``.
        num_classes: int, default 10.
        classifier_activation: activation of ``predictions``, default ``"softmax"``.
        name: str, default ``f"resnext{depth}_{cardinality}x{width}d"``.

    Returns:
        A functional ``keras.Model``.

    Raises:
        ValueError: if ``depth`` is not ``9n + 2``, or for bad widths, shape or class count.

    Example:

    >>> cifar_resnext(11, 4, 4, (32, 64, 128), 16).get_layer("conv4_block1_out").output.shape
    (None, 8, 8, 128)

    Reference: Xie et al., CVPR 2017, Section 5.3 and Table 7.

    Used in: lab 07.
    """
    name = name or f"resnext{depth}_{cardinality}x{width}d"
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 11 or (depth - 2) % 9:
        raise ValueError(
            f"{name}: depth={depth!r} is not valid; expected 9n+2 weighted layers with n >= 1 "
            "(11, 20, 29, ...). Use depth=29."
        )
    _check_cardinality(cardinality, width, name)
    check_num_classes(num_classes, model=name)
    shape = check_input_shape(input_shape, model=name, min_size=4, example="(32, 32, 3)")
    inputs = keras.Input(shape=shape, name="input")
    x = conv_bn(inputs, stem_filters, 3, 1, "conv1")
    for stage, filters in enumerate(stage_filters, start=2):
        for index in range(1, (depth - 2) // 9 + 1):
            x = resnext_block(
                x,
                filters,
                cardinality,
                width * 2 ** (stage - 2),
                stride=2 if (index == 1 and stage > 2) else 1,
                name=f"conv{stage}_block{index}",
            )
    return keras.Model(inputs, _head(x, num_classes, classifier_activation), name=name)


@register("resnext_cifar")
def resnext_cifar(input_shape=(32, 32, 3), num_classes=10, **kwargs):
    """A small CIFAR ResNeXt-20 (8x4d, outputs 64, 128, 256) for smoke runs.

    Arguments as :func:`cifar_resnext`.

    Used in: lab 07 (smoke profile).
    """
    kwargs.setdefault("name", "resnext_cifar")
    return cifar_resnext(
        20, 8, 4, (64, 128, 256), 32, input_shape=input_shape, num_classes=num_classes, **kwargs
    )
