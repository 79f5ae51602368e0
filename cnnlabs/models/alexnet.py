"""AlexNet (Krizhevsky, Sutskever and Hinton 2012).

Five convolutional and three fully connected layers, named as in the Caffe
reference model so that ``model.summary()`` reads like Figure 2 of the paper:

    conv1 96@11x11/4 - norm1 - pool1 3x3/2 - conv2 256@5x5 - norm2 - pool2 -
    conv3 384@3x3 - conv4 384@3x3 - conv5 256@3x3 - pool5 - fc6 4096 - drop6 -
    fc7 4096 - drop7 - fc8 (classes)

with ReLU after every convolution and hidden FC layer, local response
normalization (``k=2, n=5, alpha=1e-4, beta=0.75``) after conv1 and conv2,
overlapping max pooling (3x3, stride 2) and dropout 0.5 on fc6 and fc7.

Input size: the paper says 224x224, but an 11x11 stride-4 convolution without
padding only produces the paper's 55x55 maps from 227x227 (``(227 - 11) / 4 + 1
= 55``), so 227x227 is the default, as in Caffe.

The two-GPU layout: conv2, conv4 and conv5 only see the half of the previous
layer's maps that lives on the same GPU. ``groups=2`` reproduces this with
grouped convolutions (conv3 and the FC layers talk across GPUs and stay
ungrouped). Parameters with 1000 classes: 62,378,344 ungrouped, 60,965,224
grouped; the paper's "60 million" refers to the grouped network.

Reference: A. Krizhevsky, I. Sutskever, G. E. Hinton, "ImageNet classification
with deep convolutional neural networks", NIPS 2012.

Used in: lab 02 (AlexNet).
"""

from __future__ import annotations

import keras
from keras import layers

from cnnlabs.layers.lrn import LocalResponseNormalization
from cnnlabs.models._common import check_input_shape, check_num_classes
from cnnlabs.models.registry import register

# (filters, kernel, stride, padding, grouped in the two-GPU layout, LRN + pool after)
_IMAGENET_CONVS = (
    (96, 11, 4, "valid", False, "norm+pool"),
    (256, 5, 1, "same", True, "norm+pool"),
    (384, 3, 1, "same", False, ""),
    (384, 3, 1, "same", True, ""),
    (256, 3, 1, "same", True, "pool"),
)
# A CIFAR-sized AlexNet: same layer pattern, fewer maps, 5x5 stride-1 first layer.
_SMALL_CONVS = (
    (64, 5, 1, "same", False, "norm+pool"),
    (128, 5, 1, "same", True, "norm+pool"),
    (192, 3, 1, "same", False, ""),
    (192, 3, 1, "same", True, ""),
    (128, 3, 1, "same", True, "pool"),
)


def _alexnet(
    convs,
    fc_units,
    input_shape,
    num_classes,
    groups,
    lrn,
    dropout,
    classifier_activation,
    name,
    example_shape,
    min_size,
):
    check_num_classes(num_classes, model=name)
    shape = check_input_shape(input_shape, model=name, min_size=min_size, example=example_shape)
    if groups not in (1, 2):
        raise ValueError(
            f"{name}: groups={groups!r} is not supported; expected 1 (one GPU) or 2 (the "
            "paper's two-GPU layout). Use groups=2 to reproduce the paper's 60,965,224 "
            "parameters."
        )
    if not 0.0 <= dropout < 1.0:
        raise ValueError(
            f"{name}: dropout={dropout!r} is not valid; expected a rate in [0, 1). "
            "Use dropout=0.5 as in the paper, or 0.0 to switch it off."
        )

    inputs = keras.Input(shape=shape, name="input")
    x = inputs
    for index, (filters, kernel, stride, padding, grouped, after) in enumerate(convs, start=1):
        x = layers.Conv2D(
            filters,
            kernel,
            strides=stride,
            padding=padding,
            groups=groups if grouped else 1,
            activation="relu",
            name=f"conv{index}",
        )(x)
        if "norm" in after and lrn:
            x = LocalResponseNormalization(
                size=5, k=2.0, alpha=1e-4, beta=0.75, name=f"norm{index}"
            )(x)
        if "pool" in after:
            x = layers.MaxPooling2D(pool_size=3, strides=2, name=f"pool{index}")(x)
    x = layers.Flatten(name="flatten")(x)
    for index, units in enumerate(fc_units, start=6):
        x = layers.Dense(units, activation="relu", name=f"fc{index}")(x)
        if dropout:
            x = layers.Dropout(dropout, name=f"drop{index}")(x)
    outputs = layers.Dense(num_classes, activation=classifier_activation, name="fc8")(x)
    return keras.Model(inputs, outputs, name=name)


@register("alexnet")
def alexnet(
    input_shape=(227, 227, 3),
    num_classes=1000,
    groups=1,
    lrn=True,
    dropout=0.5,
    classifier_activation="softmax",
    name="alexnet",
):
    """AlexNet for ImageNet-sized images.

    Args:
        input_shape: tuple ``(height, width, channels)``, default ``(227, 227, 3)``
            (at least 67x67, so that pool5 is not empty).
        num_classes: int, default 1000.
        groups: 1 (default, one tower) or 2 (the paper's two-GPU grouping on
            conv2, conv4 and conv5).
        lrn: bool, local response normalization after conv1 and conv2, default True.
        dropout: float, dropout rate after fc6 and fc7, default 0.5.
        classifier_activation: activation of ``fc8``, default ``"softmax"``.
        name: str, default ``"alexnet"``.

    Returns:
        A functional ``keras.Model``, output ``(batch, num_classes)``.

    Raises:
        ValueError: for a bad ``input_shape``, ``groups`` or ``dropout``.

    Example:

    >>> alexnet().count_params()
    62378344
    >>> alexnet(groups=2).count_params()
    60965224

    Reference: Krizhevsky et al., NIPS 2012, Section 3 and Figure 2.

    Used in: lab 02 (AlexNet).
    """
    return _alexnet(
        _IMAGENET_CONVS,
        (4096, 4096),
        input_shape,
        num_classes,
        groups,
        lrn,
        dropout,
        classifier_activation,
        name,
        "(227, 227, 3)",
        67,
    )


@register("alexnet_grouped")
def alexnet_grouped(input_shape=(227, 227, 3), num_classes=1000, **kwargs):
    """AlexNet with the paper's two-GPU grouping (``groups=2``): 60,965,224 parameters.

    See :func:`alexnet` for the arguments.
    """
    kwargs.setdefault("name", "alexnet_grouped")
    return alexnet(input_shape=input_shape, num_classes=num_classes, groups=2, **kwargs)


@register("alexnet_small")
def alexnet_small(
    input_shape=(32, 32, 3),
    num_classes=10,
    groups=1,
    lrn=True,
    dropout=0.5,
    classifier_activation="softmax",
    name="alexnet_small",
):
    """A CIFAR-sized AlexNet (32x32 inputs) that trains in minutes on a Colab GPU.

    The same layer pattern and names as :func:`alexnet` (LRN after conv1 and
    conv2, overlapping 3x3/2 pooling after norm1, norm2 and conv5, dropout on
    fc6 and fc7) with a 5x5 stride-1 first layer and fewer maps:
    64-128-192-192-128 convolution maps, FC layers of 512 units. On 32x32x3
    inputs the maps are 32 -> 15 -> 7 -> 3, so fc6 sees 3 x 3 x 128 = 1,152 values.

    Args: as :func:`alexnet`; defaults ``input_shape=(32, 32, 3)`` (at least
        15x15), ``num_classes=10``.

    Returns:
        A functional ``keras.Model``.

    Example:

    >>> alexnet_small().count_params()
    1842570

    Used in: lab 02 (AlexNet).
    """
    return _alexnet(
        _SMALL_CONVS,
        (512, 512),
        input_shape,
        num_classes,
        groups,
        lrn,
        dropout,
        classifier_activation,
        name,
        "(32, 32, 3)",
        15,
    )
