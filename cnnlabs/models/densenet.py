"""DenseNet-BC (Huang et al. 2017): every layer sees the maps of all earlier layers.

ImageNet, Table 1 of the paper: a 7x7/2 convolution with ``2k = 64`` maps, a
3x3/2 max pooling, four dense blocks of bottleneck layers (BN-ReLU-1x1 conv with
``4k`` maps, BN-ReLU-3x3 conv with ``k = 32`` maps, concatenated to the block's
input) joined by transition layers (BN-ReLU-1x1 conv halving the maps, 2x2
average pooling), a final BN-ReLU, global average pooling and the classifier.
Blocks of 6-12-24-16 (DenseNet-121), 6-12-32-32 (169) and 6-12-48-32 (201)
layers: 8,062,504 / 14,307,880 / 20,242,984 parameters with ``count_params()``,
equal to ``keras.applications.DenseNet121/169/201`` layer by layer (7,978,856 /
14,149,480 / 20,013,928 trainable: the paper's 8.0 M / 14.1 M / 20.0 M).
The blocks are :func:`cnnlabs.models.blocks.dense_block` and
:func:`cnnlabs.models.blocks.transition_block`.

CIFAR, Section 3 of the paper: a 3x3 convolution with ``2k`` maps, three dense
blocks of ``(depth - 4) / 6`` bottleneck layers at 32x32, 16x16 and 8x8 with
two transitions, BN-ReLU, pooling, classifier (:func:`densenet_bc_cifar`).
DenseNet-BC with depth 100 and ``k = 12`` has 769,162 trainable parameters (the
paper's 0.8 M, Table 2); ``densenet_cifar`` is depth 40, ``k = 12``.

Reference: G. Huang, Z. Liu, L. van der Maaten, K. Q. Weinberger, "Densely
connected convolutional networks", CVPR 2017.

Used in: lab 07 (efficient convolutions and transfer learning).
"""

from __future__ import annotations

import keras
from keras import layers

from cnnlabs.models._common import check_input_shape, check_num_classes
from cnnlabs.models.blocks import dense_block, transition_block
from cnnlabs.models.registry import register

BN_EPSILON = 1.001e-5
# Bottleneck layers per dense block, Table 1.
DENSENET_BLOCKS = {121: (6, 12, 24, 16), 169: (6, 12, 32, 32), 201: (6, 12, 48, 32)}


def _classifier(x, num_classes, classifier_activation):
    x = layers.BatchNormalization(epsilon=BN_EPSILON, name="bn")(x)
    x = layers.Activation("relu", name="relu")(x)
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    return layers.Dense(num_classes, activation=classifier_activation, name="predictions")(x)


def densenet(
    depth=121,
    input_shape=(224, 224, 3),
    num_classes=1000,
    growth_rate=32,
    classifier_activation="softmax",
    name=None,
):
    """An ImageNet DenseNet-BC of Table 1 (121, 169 or 201 layers).

    Args:
        depth: int, 121 (default), 169 or 201.
        input_shape: tuple ``(height, width, channels)``, default ``(224, 224, 3)``.
        num_classes: int, default 1000.
        growth_rate: int, ``k``, maps added by each layer (default 32).
        classifier_activation: activation of ``predictions``, default ``"softmax"``.
        name: str, default ``f"densenet{depth}"``.

    Returns:
        A functional ``keras.Model``, output ``(batch, num_classes)``.

    Raises:
        ValueError: for an unknown depth, a bad shape or class count.

    Example:

    >>> densenet(121, input_shape=(64, 64, 3)).get_layer("pool2_pool").output.shape
    (None, 8, 8, 128)

    Reference: Huang et al., CVPR 2017, Table 1.

    Used in: lab 07.
    """
    name = name or f"densenet{depth}"
    if depth not in DENSENET_BLOCKS:
        raise ValueError(
            f"{name}: depth={depth!r} is not an ImageNet DenseNet of Table 1; expected one of "
            "121, 169, 201. Use densenet_bc_cifar(depth) for the CIFAR networks."
        )
    check_num_classes(num_classes, model=name)
    shape = check_input_shape(input_shape, model=name, min_size=32, example="(224, 224, 3)")
    inputs = keras.Input(shape=shape, name="input")
    x = layers.ZeroPadding2D(3, name="conv1_pad")(inputs)
    x = layers.Conv2D(2 * growth_rate, 7, strides=2, use_bias=False, name="conv1_conv")(x)
    x = layers.BatchNormalization(epsilon=BN_EPSILON, name="conv1_bn")(x)
    x = layers.Activation("relu", name="conv1_relu")(x)
    x = layers.ZeroPadding2D(1, name="pool1_pad")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1")(x)
    blocks = DENSENET_BLOCKS[depth]
    for stage, num_layers in enumerate(blocks, start=2):
        x = dense_block(x, num_layers, growth_rate, name=f"conv{stage}")
        if stage < len(blocks) + 1:
            x = transition_block(x, 0.5, name=f"pool{stage}")
    return keras.Model(inputs, _classifier(x, num_classes, classifier_activation), name=name)


def _register_imagenet(depth):
    def builder(input_shape=(224, 224, 3), num_classes=1000, **kwargs):
        return densenet(depth, input_shape=input_shape, num_classes=num_classes, **kwargs)

    builder.__name__ = builder.__qualname__ = f"densenet{depth}"
    builder.__doc__ = (
        f"DenseNet-{depth} for 224x224 ImageNet images; arguments as :func:`densenet`."
    )
    return register(f"densenet{depth}")(builder)


densenet121 = _register_imagenet(121)
densenet169 = _register_imagenet(169)
densenet201 = _register_imagenet(201)


def densenet_bc_cifar(
    depth=100,
    growth_rate=12,
    input_shape=(32, 32, 3),
    num_classes=10,
    compression=0.5,
    classifier_activation="softmax",
    name=None,
):
    """A CIFAR DenseNet-BC (Section 3 of the paper): three dense blocks of bottleneck layers.

    Args:
        depth: int, ``6n + 4`` weighted layers (default 100: 16 layers per block).
        growth_rate: int, ``k`` (default 12).
        input_shape: tuple ``(height, width, channels)``, default ``(32, 32, 3)``.
        num_classes: int, default 10.
        compression: float, ``theta`` of the transitions (default 0.5).
        classifier_activation: activation of ``predictions``, default ``"softmax"``.
        name: str, default ``f"densenet_bc{depth}"``.

    Returns:
        A functional ``keras.Model``.

    Raises:
        ValueError: if ``depth`` is not ``6n + 4``, or for a bad shape or class count.

    Example:

    >>> densenet_bc_cifar(40).get_layer("conv4_layer6_concat").output.shape
    (None, 8, 8, 132)

    Reference: Huang et al., CVPR 2017, Section 3 and Table 2.

    Used in: lab 07.
    """
    name = name or f"densenet_bc{depth}"
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 10 or (depth - 4) % 6:
        raise ValueError(
            f"{name}: depth={depth!r} is not valid; expected 6n+4 weighted layers with n >= 1 "
            "(40, 100, 250, ...). Use depth=100."
        )
    check_num_classes(num_classes, model=name)
    shape = check_input_shape(input_shape, model=name, min_size=4, example="(32, 32, 3)")
    inputs = keras.Input(shape=shape, name="input")
    x = layers.Conv2D(2 * growth_rate, 3, padding="same", use_bias=False, name="conv1_conv")(inputs)
    for stage in (2, 3, 4):
        x = dense_block(x, (depth - 4) // 6, growth_rate, name=f"conv{stage}")
        if stage < 4:
            x = transition_block(x, compression, name=f"pool{stage}")
    return keras.Model(inputs, _classifier(x, num_classes, classifier_activation), name=name)


@register("densenet_cifar")
def densenet_cifar(input_shape=(32, 32, 3), num_classes=10, **kwargs):
    """DenseNet-BC with depth 40 and growth rate 12 for 32x32 images (small, for smoke runs).

    Arguments as :func:`densenet_bc_cifar`.

    Used in: lab 07 (smoke profile).
    """
    kwargs.setdefault("name", "densenet_cifar")
    return densenet_bc_cifar(40, 12, input_shape=input_shape, num_classes=num_classes, **kwargs)
