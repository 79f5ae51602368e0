"""Inception modules and GoogLeNet (Szegedy et al. 2015).

An Inception module runs four branches on the same input and concatenates
their maps in the paper's order (1x1, 3x3, 5x5, pool), every branch with
``"same"`` padding and stride 1 so the maps line up:

* naive form (Figure 2a): 1x1 conv | 3x3 conv | 5x5 conv | 3x3 max pool;
* dimension-reduction form (Figure 2b): 1x1 conv | 1x1 reduce -> 3x3 |
  1x1 reduce -> 5x5 | 3x3 max pool -> 1x1 projection.

Layer names follow the Caffe reference model: ``inception_3a_1x1``,
``inception_3a_3x3_reduce``, ``inception_3a_3x3``, ``inception_3a_5x5_reduce``,
``inception_3a_5x5``, ``inception_3a_pool``, ``inception_3a_pool_proj``,
``inception_3a_output``.

GoogLeNet's parameter count: 6,998,552 with 1000 classes and no auxiliary
classifiers (6,990,272 weights and 8,280 biases); the auxiliary heads add
3,188,840 (after 4a) and 3,190,888 (after 4d). The params column of Table 1
sums to about 6.8M: it leaves out biases and its rows are rounded well below
the weight counts in places (conv1 is listed as 2.7K for 7 x 7 x 3 x 64 = 9,408
weights, the linear layer as 1000K for 1024 x 1000 = 1,024,000, inception 3a as
159K for 163,328), so we test the per-layer counts against the formula, not the
table. The paper's LRN layers after conv1 and conv2 are included (``norm1``,
``norm2``; no parameters).

Reference: C. Szegedy et al., "Going deeper with convolutions", CVPR 2015,
Table 1 and Figures 2-3.

Used in: lab 04 (Inception and bottlenecks).
"""

from __future__ import annotations

import keras
from keras import layers

from cnnlabs.layers.lrn import LocalResponseNormalization
from cnnlabs.models._common import check_input_shape, check_num_classes
from cnnlabs.models.registry import register

# Table 1: #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj.
GOOGLENET_WIDTHS = {
    "3a": (64, 96, 128, 16, 32, 32),
    "3b": (128, 128, 192, 32, 96, 64),
    "4a": (192, 96, 208, 16, 48, 64),
    "4b": (160, 112, 224, 24, 64, 64),
    "4c": (128, 128, 256, 24, 64, 64),
    "4d": (112, 144, 288, 32, 64, 64),
    "4e": (256, 160, 320, 32, 128, 128),
    "5a": (256, 160, 320, 32, 128, 128),
    "5b": (384, 192, 384, 48, 128, 128),
}


def _conv(filters, kernel, name, stride=1):
    return layers.Conv2D(
        filters, kernel, strides=stride, padding="same", activation="relu", name=name
    )


def inception_module(
    x,
    filters_1x1,
    filters_3x3_reduce,
    filters_3x3,
    filters_5x5_reduce,
    filters_5x5,
    pool_proj,
    name,
    naive=False,
):
    """One Inception module (Figure 2 of the paper); returns the concatenated maps.

    Output maps: ``filters_1x1 + filters_3x3 + filters_5x5 + pool_proj`` (bottleneck
    form) or ``filters_1x1 + filters_3x3 + filters_5x5 + input channels`` (naive form,
    where the pooling branch keeps the input's width and the reduce/projection
    widths are ignored).

    Args:
        x: tensor ``(batch, height, width, channels)``.
        filters_1x1, filters_3x3_reduce, filters_3x3, filters_5x5_reduce,
            filters_5x5, pool_proj: int, the branch widths of Table 1.
        name: str, prefix such as ``"inception_3a"``.
        naive: bool, the naive form without 1x1 reductions, default False.

    Returns:
        Tensor ``(batch, height, width, total maps)``.

    Example:

    >>> x = keras.Input((28, 28, 192))
    >>> inception_module(x, 64, 96, 128, 16, 32, 32, "inception_3a").shape
    (None, 28, 28, 256)
    >>> inception_module(x, 64, 96, 128, 16, 32, 32, "naive_3a", naive=True).shape
    (None, 28, 28, 416)
    """
    branch1 = _conv(filters_1x1, 1, name + "_1x1")(x)
    if naive:
        branch3 = _conv(filters_3x3, 3, name + "_3x3")(x)
        branch5 = _conv(filters_5x5, 5, name + "_5x5")(x)
        branch_pool = layers.MaxPooling2D(3, strides=1, padding="same", name=name + "_pool")(x)
    else:
        branch3 = _conv(filters_3x3_reduce, 1, name + "_3x3_reduce")(x)
        branch3 = _conv(filters_3x3, 3, name + "_3x3")(branch3)
        branch5 = _conv(filters_5x5_reduce, 1, name + "_5x5_reduce")(x)
        branch5 = _conv(filters_5x5, 5, name + "_5x5")(branch5)
        branch_pool = layers.MaxPooling2D(3, strides=1, padding="same", name=name + "_pool")(x)
        branch_pool = _conv(pool_proj, 1, name + "_pool_proj")(branch_pool)
    return layers.Concatenate(axis=-1, name=name + "_output")(
        [branch1, branch3, branch5, branch_pool]
    )


def _aux_head(x, num_classes, classifier_activation, name):
    """Auxiliary classifier (Section 5): 5x5/3 avg pool, 1x1 conv 128, FC 1024, dropout 0.7."""
    x = layers.AveragePooling2D(5, strides=3, name=name + "_pool")(x)
    x = _conv(128, 1, name + "_conv")(x)
    x = layers.Flatten(name=name + "_flatten")(x)
    x = layers.Dense(1024, activation="relu", name=name + "_fc")(x)
    x = layers.Dropout(0.7, name=name + "_dropout")(x)
    return layers.Dense(num_classes, activation=classifier_activation, name=name + "_classifier")(x)


def _scaled(widths, multiplier):
    return tuple(max(1, int(round(w * multiplier))) for w in widths)


def _googlenet(
    small,
    input_shape,
    num_classes,
    aux_classifiers,
    lrn,
    naive,
    width_multiplier,
    dropout,
    classifier_activation,
    name,
):
    check_num_classes(num_classes, model=name)
    example = "(32, 32, 3)" if small else "(224, 224, 3)"
    shape = check_input_shape(input_shape, model=name, min_size=8 if small else 64, example=example)
    if not (isinstance(width_multiplier, (int, float)) and width_multiplier > 0):
        raise ValueError(
            f"{name}: width_multiplier={width_multiplier!r} is not valid; expected a positive "
            "number that scales every branch. Use width_multiplier=1.0 for Table 1."
        )
    if aux_classifiers and small:
        raise ValueError(
            f"{name}: aux_classifiers=True needs the 14x14 maps of the 224x224 network; "
            "expected aux_classifiers=False for the small variant. Use googlenet() instead."
        )
    widths = {key: _scaled(value, width_multiplier) for key, value in GOOGLENET_WIDTHS.items()}

    def pool(tensor, label):
        return layers.MaxPooling2D(3, strides=2, padding="same", name=label)(tensor)

    inputs = keras.Input(shape=shape, name="input")
    if small:
        # CIFAR stem: one 3x3 convolution, no downsampling (32x32 maps into 3a).
        x = _conv(_scaled((192,), width_multiplier)[0], 3, "conv1")(inputs)
    else:
        x = _conv(_scaled((64,), width_multiplier)[0], 7, "conv1", stride=2)(inputs)
        x = pool(x, "pool1")
        if lrn:
            x = LocalResponseNormalization(size=5, k=1.0, alpha=1e-4, beta=0.75, name="norm1")(x)
        x = _conv(_scaled((64,), width_multiplier)[0], 1, "conv2_reduce")(x)
        x = _conv(_scaled((192,), width_multiplier)[0], 3, "conv2")(x)
        if lrn:
            x = LocalResponseNormalization(size=5, k=1.0, alpha=1e-4, beta=0.75, name="norm2")(x)
        x = pool(x, "pool2")
    aux_outputs = []
    for key in ("3a", "3b", "4a", "4b", "4c", "4d", "4e", "5a", "5b"):
        if key in ("4a", "5a"):
            x = pool(x, f"pool{int(key[0]) - 1}")
        x = inception_module(x, *widths[key], name=f"inception_{key}", naive=naive)
        if aux_classifiers and key in ("4a", "4d"):
            aux_outputs.append(
                _aux_head(x, num_classes, classifier_activation, f"aux{len(aux_outputs) + 1}")
            )
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    if dropout:
        x = layers.Dropout(dropout, name="dropout")(x)
    outputs = layers.Dense(num_classes, activation=classifier_activation, name="predictions")(x)
    if aux_outputs:
        return keras.Model(inputs, [outputs, *aux_outputs], name=name)
    return keras.Model(inputs, outputs, name=name)


@register("googlenet")
def googlenet(
    input_shape=(224, 224, 3),
    num_classes=1000,
    aux_classifiers=False,
    lrn=True,
    naive=False,
    width_multiplier=1.0,
    dropout=0.4,
    classifier_activation="softmax",
    name="googlenet",
):
    """GoogLeNet (Inception v1) with the widths of Table 1.

    Args:
        input_shape: tuple ``(height, width, channels)``, default ``(224, 224, 3)``.
        num_classes: int, default 1000.
        aux_classifiers: bool, add the two auxiliary heads after inception 4a and
            4d (outputs ``[main, aux1, aux2]``; weight their losses 0.3), default False.
        lrn: bool, LRN after conv1 and conv2 as in the paper, default True.
        naive: bool, naive modules without 1x1 reductions (Figure 2a), default False.
        width_multiplier: float, scales every layer's width, default 1.0.
        dropout: float, before the classifier, default 0.4 (the paper's 40%).
        classifier_activation: default ``"softmax"``.
        name: str, default ``"googlenet"``.

    Returns:
        A functional ``keras.Model``; three outputs with ``aux_classifiers=True``.

    Raises:
        ValueError: for a bad shape or width multiplier.

    Example:

    >>> googlenet().count_params()
    6998552

    Reference: Szegedy et al., "Going deeper with convolutions", CVPR 2015, Table 1.

    Used in: lab 04 (Inception and bottlenecks).
    """
    return _googlenet(
        False,
        input_shape,
        num_classes,
        aux_classifiers,
        lrn,
        naive,
        width_multiplier,
        dropout,
        classifier_activation,
        name,
    )


@register("googlenet_small")
def googlenet_small(
    input_shape=(32, 32, 3),
    num_classes=10,
    naive=False,
    width_multiplier=0.25,
    dropout=0.4,
    classifier_activation="softmax",
    name="googlenet_small",
):
    """A GoogLeNet for 32x32 images (CIFAR) that trains in minutes on a Colab GPU.

    The stem is one 3x3 convolution (``conv1``, 192 maps before scaling) instead
    of the 7x7/2 - pool - 1x1 - 3x3 - pool stem, so inception 3a/3b see 32x32,
    4a-4e 16x16 and 5a/5b 8x8 maps; all nine modules of Table 1 with every width
    multiplied by ``width_multiplier`` (default 0.25); no LRN, no auxiliary heads.

    Args: as :func:`googlenet`, defaults ``input_shape=(32, 32, 3)``,
        ``num_classes=10``, ``width_multiplier=0.25``.

    Returns:
        A functional ``keras.Model``.

    Example:

    >>> googlenet_small().get_layer("inception_5b_output").output.shape
    (None, 8, 8, 256)

    Used in: lab 04 (Inception and bottlenecks).
    """
    return _googlenet(
        True,
        input_shape,
        num_classes,
        False,
        False,
        naive,
        width_multiplier,
        dropout,
        classifier_activation,
        name,
    )
