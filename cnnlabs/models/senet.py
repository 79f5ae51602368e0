"""Squeeze-and-excitation ResNets (Hu et al. 2018): channel attention in every block.

An SE block (:func:`cnnlabs.models.blocks.se_block`) pools each map of the
residual branch to one number ("squeeze"), passes the vector through
``FC(C / r)``-ReLU-``FC(C)``-sigmoid ("excitation") and multiplies each map by
its gate, before the addition with the shortcut (Figure 3 of the paper,
``r = 16``).

``se_resnet50``: ResNet-50 (Table 1 of He et al.: 3-4-6-3 bottlenecks, stride
on the first 1x1 convolution as in the paper's Caffe models, projection
shortcuts where the shape changes, no convolution biases) with an SE block in
every bottleneck. 28,088,024 trainable parameters (the paper's 28.1 M),
2,530,992 more than ResNet-50 (the paper's "~2.5 million"), and
3,860,488,192 multiply-adds of convolutions and dense layers at 224x224; the
paper's 3.87 GFLOPs also count the SE gate's multiplication of each output
value (5,519,360 more). ``count_params()`` adds BN's moving statistics:
28,141,144.

``se_resnet_cifar``: the CIFAR ResNet-20 (He et al., Section 4.2, option A
shortcuts) with an SE block in every basic block.

Reference: J. Hu, L. Shen, G. Sun, "Squeeze-and-excitation networks", CVPR 2018.

Used in: lab 07 (efficient convolutions and transfer learning).
"""

from __future__ import annotations

import keras
from keras import layers

from cnnlabs.layers.shortcut import ZeroPadShortcut
from cnnlabs.models._common import check_input_shape, check_num_classes
from cnnlabs.models.blocks import se_block
from cnnlabs.models.registry import register
from cnnlabs.models.resnext import conv_bn, imagenet_stem

SE_RESNET_STAGES = {50: (3, 4, 6, 3), 101: (3, 4, 23, 3)}


def se_bottleneck_block(x, filters, stride=1, ratio=16, name="conv2_block1"):
    """ResNet bottleneck (1x1 reduce, 3x3, 1x1 expand to ``4 * filters``) with SE before the add.

    Args:
        x: tensor ``(batch, height, width, channels)``.
        filters: int, bottleneck width; the output has ``4 * filters`` maps.
        stride: int, stride of the first 1x1 convolution and of the projection.
        ratio: int, the SE reduction ratio ``r`` (default 16).
        name: str, the block prefix (``conv2_block1_se_reduce``...).

    Returns:
        Tensor ``(batch, ceil(height / stride), ceil(width / stride), 4 * filters)``.

    Example:

    >>> import keras
    >>> x = keras.Input((8, 8, 256))
    >>> block = keras.Model(x, se_bottleneck_block(x, 64))
    >>> block.get_layer("conv2_block1_se_reduce").count_params()  # 256 * 16 + 16
    4112

    Reference: Hu et al., CVPR 2018, Figure 3.

    Used in: lab 07.
    """
    out_filters = 4 * filters
    shortcut = x
    if stride != 1 or x.shape[-1] != out_filters:
        shortcut = conv_bn(x, out_filters, 1, stride, name + "_0", relu=False)
    y = conv_bn(x, filters, 1, stride, name + "_1")
    y = conv_bn(y, filters, 3, 1, name + "_2")
    y = conv_bn(y, out_filters, 1, 1, name + "_3", relu=False)
    y = se_block(y, ratio, name=name + "_se")
    y = layers.Add(name=name + "_add")([shortcut, y])
    return layers.Activation("relu", name=name + "_out")(y)


def se_basic_block(x, filters, stride=1, ratio=16, name="conv2_block1"):
    """CIFAR ResNet basic block (two 3x3 convs, option A shortcut) with SE before the add.

    Arguments as :func:`se_bottleneck_block`; the output has ``filters`` maps.
    """
    shortcut = x
    if stride != 1 or x.shape[-1] != filters:
        shortcut = ZeroPadShortcut(filters, stride, name=name + "_0_pad")(x)
    y = conv_bn(x, filters, 3, stride, name + "_1")
    y = conv_bn(y, filters, 3, 1, name + "_2", relu=False)
    y = se_block(y, ratio, name=name + "_se")
    y = layers.Add(name=name + "_add")([shortcut, y])
    return layers.Activation("relu", name=name + "_out")(y)


def _head(x, num_classes, classifier_activation):
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    return layers.Dense(num_classes, activation=classifier_activation, name="predictions")(x)


@register("se_resnet50")
def se_resnet50(
    input_shape=(224, 224, 3),
    num_classes=1000,
    ratio=16,
    classifier_activation="softmax",
    name="se_resnet50",
):
    """SE-ResNet-50 (Hu et al. 2018, Table 1).

    Args:
        input_shape: tuple ``(height, width, channels)``, default ``(224, 224, 3)``.
        num_classes: int, default 1000.
        ratio: int, the SE reduction ratio ``r`` (default 16).
        classifier_activation: activation of ``predictions``, default ``"softmax"``.
        name: str, the model name.

    Returns:
        A functional ``keras.Model``, output ``(batch, num_classes)``.

    Raises:
        ValueError: for a bad shape, class count or ratio.

    Example:

    >>> se_resnet50(input_shape=(64, 64, 3)).get_layer("conv5_block3_se_excite").output.shape
    (None, 2, 2, 2048)

    Reference: Hu et al., CVPR 2018.

    Used in: lab 07.
    """
    check_num_classes(num_classes, model=name)
    shape = check_input_shape(input_shape, model=name, min_size=32, example="(224, 224, 3)")
    inputs = keras.Input(shape=shape, name="input")
    x = imagenet_stem(inputs)
    for stage, blocks in enumerate(SE_RESNET_STAGES[50], start=2):
        for index in range(1, blocks + 1):
            x = se_bottleneck_block(
                x,
                64 * 2 ** (stage - 2),
                stride=2 if (index == 1 and stage > 2) else 1,
                ratio=ratio,
                name=f"conv{stage}_block{index}",
            )
    return keras.Model(inputs, _head(x, num_classes, classifier_activation), name=name)


@register("se_resnet_cifar")
def se_resnet_cifar(
    input_shape=(32, 32, 3),
    num_classes=10,
    depth=20,
    ratio=16,
    classifier_activation="softmax",
    name="se_resnet_cifar",
):
    """SE-ResNet-20 for 32x32 images: the CIFAR ResNet (16-32-64 maps) with SE blocks.

    Args:
        input_shape: tuple ``(height, width, channels)``, default ``(32, 32, 3)``.
        num_classes: int, default 10.
        depth: int, ``6n + 2`` (default 20).
        ratio: int, the SE reduction ratio ``r`` (default 16, as in the paper's CIFAR runs).
        classifier_activation: activation of ``predictions``, default ``"softmax"``.
        name: str, the model name.

    Returns:
        A functional ``keras.Model``.

    Raises:
        ValueError: if ``depth`` is not ``6n + 2``, or for a bad shape, class count or ratio.

    Used in: lab 07 (smoke profile).
    """
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 8 or (depth - 2) % 6:
        raise ValueError(
            f"{name}: depth={depth!r} is not valid; expected 6n+2 weighted layers with n >= 1 "
            "(20, 32, 44, 56, 110, ...). Use depth=20."
        )
    check_num_classes(num_classes, model=name)
    shape = check_input_shape(input_shape, model=name, min_size=4, example="(32, 32, 3)")
    inputs = keras.Input(shape=shape, name="input")
    x = conv_bn(inputs, 16, 3, 1, "conv1")
    for stage in (2, 3, 4):
        for index in range(1, (depth - 2) // 6 + 1):
            x = se_basic_block(
                x,
                16 * 2 ** (stage - 2),
                stride=2 if (index == 1 and stage > 2) else 1,
                ratio=ratio,
                name=f"conv{stage}_block{index}",
            )
    return keras.Model(inputs, _head(x, num_classes, classifier_activation), name=name)
