"""VGG networks (Simonyan and Zisserman 2014), configurations A, B, D and E.

Stacks of 3x3 "same" convolutions with ReLU, each block closed by a 2x2/2 max
pooling, then three fully connected layers. Table 1 of the paper:

    A (VGG-11): 64 | M | 128 | M | 256 256 | M | 512 512 | M | 512 512 | M
    B (VGG-13): 64 64 | M | 128 128 | M | 256 256 | M | 512 512 | M | 512 512 | M
    D (VGG-16): 64 64 | M | 128 128 | M | 256 256 256 | M | 512 512 512 | M | 512 512 512 | M
    E (VGG-19): 64 64 | M | 128 128 | M | 256 x4 | M | 512 x4 | M | 512 x4 | M
    then FC-4096, FC-4096, FC-classes (softmax), dropout 0.5 on the first two FC layers.

Layer names equal those of ``keras.applications.VGG16``/``VGG19``
(``block1_conv1`` ... ``block5_pool``, ``flatten``, ``fc1``, ``fc2``,
``predictions``), and so do the parameter counts at 224x224x3 with 1000
classes: VGG-16 138,357,544 and VGG-19 143,667,240 (VGG-11 132,863,336 and
VGG-13 133,047,848, as torchvision's ``vgg11``/``vgg13``). The paper's dropout
layers (``fc1_dropout``, ``fc2_dropout``) have no parameters; keras.applications
leaves them out.

Reference: K. Simonyan, A. Zisserman, "Very deep convolutional networks for
large-scale image recognition", ICLR 2015 (arXiv:1409.1556), Table 1 and 2.

Used in: lab 03 (VGG and receptive fields).
"""

from __future__ import annotations

import keras
from keras import layers

from cnnlabs.models._common import check_input_shape, check_num_classes
from cnnlabs.models.registry import register

# Convolutions per block for each configuration of Table 1.
VGG_CONFIGS = {
    11: (1, 1, 2, 2, 2),  # A
    13: (2, 2, 2, 2, 2),  # B
    16: (2, 2, 3, 3, 3),  # D
    19: (2, 2, 4, 4, 4),  # E
}
_BLOCK_FILTERS = (64, 128, 256, 512, 512)


def _vgg(
    depth,
    input_shape,
    num_classes,
    width_multiplier,
    fc_units,
    dropout,
    batch_norm,
    classifier_activation,
    name,
    example_shape,
):
    if depth not in VGG_CONFIGS:
        raise ValueError(
            f"{name}: depth={depth!r} is not a VGG configuration; expected one of 11 (A), "
            "13 (B), 16 (D) or 19 (E). Use depth=16 for VGG-16."
        )
    check_num_classes(num_classes, model=name)
    shape = check_input_shape(input_shape, model=name, min_size=32, example=example_shape)
    if not (isinstance(width_multiplier, (int, float)) and width_multiplier > 0):
        raise ValueError(
            f"{name}: width_multiplier={width_multiplier!r} is not valid; expected a positive "
            "number that scales every block's filters. Use width_multiplier=1.0 for the paper."
        )
    if not 0.0 <= dropout < 1.0:
        raise ValueError(
            f"{name}: dropout={dropout!r} is not valid; expected a rate in [0, 1). "
            "Use dropout=0.5 as in the paper, or 0.0 to switch it off."
        )

    inputs = keras.Input(shape=shape, name="input")
    x = inputs
    for block, (convs, base) in enumerate(zip(VGG_CONFIGS[depth], _BLOCK_FILTERS), start=1):
        filters = max(1, int(round(base * width_multiplier)))
        for conv in range(1, convs + 1):
            prefix = f"block{block}_conv{conv}"
            if batch_norm:
                x = layers.Conv2D(filters, 3, padding="same", name=prefix)(x)
                x = layers.BatchNormalization(name=f"block{block}_bn{conv}")(x)
                x = layers.Activation("relu", name=f"block{block}_relu{conv}")(x)
            else:
                x = layers.Conv2D(filters, 3, padding="same", activation="relu", name=prefix)(x)
        x = layers.MaxPooling2D(2, strides=2, name=f"block{block}_pool")(x)
    x = layers.Flatten(name="flatten")(x)
    for index, units in enumerate(fc_units, start=1):
        x = layers.Dense(units, activation="relu", name=f"fc{index}")(x)
        if dropout:
            x = layers.Dropout(dropout, name=f"fc{index}_dropout")(x)
    outputs = layers.Dense(num_classes, activation=classifier_activation, name="predictions")(x)
    return keras.Model(inputs, outputs, name=name)


def vgg(
    depth=16,
    input_shape=(224, 224, 3),
    num_classes=1000,
    width_multiplier=1.0,
    fc_units=(4096, 4096),
    dropout=0.5,
    batch_norm=False,
    classifier_activation="softmax",
    name=None,
):
    """A VGG network of configuration A, B, D or E.

    Args:
        depth: int, 11, 13, 16 (default) or 19 (weight layers).
        input_shape: tuple ``(height, width, channels)``, default ``(224, 224, 3)``
            (at least 32x32: five 2x2 poolings).
        num_classes: int, default 1000.
        width_multiplier: float, scales every block's filters (64-128-256-512-512),
            default 1.0.
        fc_units: tuple of int, the hidden FC layers, default ``(4096, 4096)``.
        dropout: float, dropout after each hidden FC layer, default 0.5.
        batch_norm: bool, conv -> BatchNormalization -> ReLU instead of conv+ReLU
            (not in the paper, which predates batch norm), default False.
        classifier_activation: activation of ``predictions``, default ``"softmax"``.
        name: str, default ``f"vgg{depth}"``.

    Returns:
        A functional ``keras.Model``, output ``(batch, num_classes)``.

    Raises:
        ValueError: for an unknown depth or a bad shape, width or dropout.

    Example:

    >>> vgg(16, input_shape=(32, 32, 3), num_classes=10, width_multiplier=0.25,
    ...     fc_units=(64,)).get_layer("block5_conv3").output.shape
    (None, 2, 2, 128)

    Reference: Simonyan and Zisserman, ICLR 2015, Table 1.

    Used in: lab 03 (VGG and receptive fields).
    """
    return _vgg(
        depth,
        input_shape,
        num_classes,
        width_multiplier,
        tuple(fc_units),
        dropout,
        batch_norm,
        classifier_activation,
        name or f"vgg{depth}",
        "(224, 224, 3)",
    )


@register("vgg11")
def vgg11(input_shape=(224, 224, 3), num_classes=1000, **kwargs):
    """VGG-11 (configuration A): 132,863,336 parameters. Arguments as :func:`vgg`."""
    kwargs.setdefault("name", "vgg11")
    return vgg(11, input_shape=input_shape, num_classes=num_classes, **kwargs)


@register("vgg13")
def vgg13(input_shape=(224, 224, 3), num_classes=1000, **kwargs):
    """VGG-13 (configuration B): 133,047,848 parameters. Arguments as :func:`vgg`."""
    kwargs.setdefault("name", "vgg13")
    return vgg(13, input_shape=input_shape, num_classes=num_classes, **kwargs)


@register("vgg16")
def vgg16(input_shape=(224, 224, 3), num_classes=1000, **kwargs):
    """VGG-16 (configuration D): 138,357,544 parameters, as ``keras.applications.VGG16``.

    Arguments as :func:`vgg`.
    """
    kwargs.setdefault("name", "vgg16")
    return vgg(16, input_shape=input_shape, num_classes=num_classes, **kwargs)


@register("vgg19")
def vgg19(input_shape=(224, 224, 3), num_classes=1000, **kwargs):
    """VGG-19 (configuration E): 143,667,240 parameters, as ``keras.applications.VGG19``.

    Arguments as :func:`vgg`.
    """
    kwargs.setdefault("name", "vgg19")
    return vgg(19, input_shape=input_shape, num_classes=num_classes, **kwargs)


def vgg_small(
    depth=11,
    input_shape=(32, 32, 3),
    num_classes=10,
    width_multiplier=0.5,
    fc_units=(256, 256),
    dropout=0.5,
    batch_norm=True,
    classifier_activation="softmax",
    name=None,
):
    """A VGG for 32x32 images (CIFAR) that trains from scratch in minutes.

    The paper's convolution stack for ``depth`` with every block's filters
    halved (32-64-128-256-256), BatchNormalization after each convolution and
    two hidden FC layers of 256 units. On 32x32 inputs block5 ends at 1x1x256.

    Args: as :func:`vgg`, with the defaults above; ``name`` defaults to
        ``f"vgg{depth}_small"``.

    Returns:
        A functional ``keras.Model``.

    Example:

    >>> vgg_small(11).get_layer("block5_pool").output.shape
    (None, 1, 1, 256)

    Used in: lab 03 (VGG and receptive fields).
    """
    return _vgg(
        depth,
        input_shape,
        num_classes,
        width_multiplier,
        tuple(fc_units),
        dropout,
        batch_norm,
        classifier_activation,
        name or f"vgg{depth}_small",
        "(32, 32, 3)",
    )


@register("vgg11_small")
def vgg11_small(input_shape=(32, 32, 3), num_classes=10, **kwargs):
    """VGG-11 (configuration A) for 32x32 images; see :func:`vgg_small`."""
    return vgg_small(11, input_shape=input_shape, num_classes=num_classes, **kwargs)


@register("vgg16_small")
def vgg16_small(input_shape=(32, 32, 3), num_classes=10, **kwargs):
    """VGG-16 (configuration D) for 32x32 images; see :func:`vgg_small`."""
    return vgg_small(16, input_shape=input_shape, num_classes=num_classes, **kwargs)
