"""Xception (Chollet 2017): Inception taken to the limit, depthwise-separable everywhere.

Figure 5 of the paper. Entry flow: two 3x3 convolutions (32 maps at stride 2,
then 64, both "valid"), then three modules of two separable convolutions
(128, 256, 728 maps) closed by a 3x3/2 max pooling, each with a strided 1x1
projection shortcut. Middle flow: eight residual modules of three ReLU-separable
conv-BN layers with 728 maps. Exit flow: a module with 728 and 1024 maps and a
projection shortcut, separable convolutions with 1536 and 2048 maps, global
average pooling and the classifier. Every separable convolution is a 3x3
depthwise plus a 1x1 pointwise convolution without bias and without a
non-linearity between them (``keras.layers.SeparableConv2D``), followed by BN.

22,910,480 parameters with ``count_params()``, equal to
``keras.applications.Xception`` layer by layer, of which 22,855,952 are trainable
(the paper's 22,855,952, Table 3); 8,357,403,496 multiply-adds at its 299x299 input.
Layer names follow keras.applications (``block1_conv1``, ``block2_sepconv1``,
``block13_pool``), with the shortcut convolutions named ``block2_shortcut``...

Reference: F. Chollet, "Xception: deep learning with depthwise separable
convolutions", CVPR 2017.

Used in: lab 07 (efficient convolutions and transfer learning).
"""

from __future__ import annotations

import keras
from keras import layers

from cnnlabs.models._common import check_input_shape, check_num_classes
from cnnlabs.models.registry import register


def _sepconv_bn(x, filters, name, relu_first=True):
    if relu_first:
        x = layers.Activation("relu", name=name + "_act")(x)
    x = layers.SeparableConv2D(filters, 3, padding="same", use_bias=False, name=name)(x)
    return layers.BatchNormalization(name=name + "_bn")(x)


def _downsampling_module(x, filters, block, relu_first=True):
    """Two separable convs, 3x3/2 max pooling, plus a strided 1x1 projection shortcut."""
    first, second = filters if isinstance(filters, tuple) else (filters, filters)
    name = f"block{block}"
    shortcut = layers.Conv2D(
        second, 1, strides=2, padding="same", use_bias=False, name=name + "_shortcut"
    )(x)
    shortcut = layers.BatchNormalization(name=name + "_shortcut_bn")(shortcut)
    x = _sepconv_bn(x, first, name + "_sepconv1", relu_first=relu_first)
    x = _sepconv_bn(x, second, name + "_sepconv2")
    x = layers.MaxPooling2D(3, strides=2, padding="same", name=name + "_pool")(x)
    return layers.Add(name=name + "_add")([x, shortcut])


@register("xception")
def xception(
    input_shape=(299, 299, 3),
    num_classes=1000,
    middle_blocks=8,
    classifier_activation="softmax",
    name="xception",
):
    """Xception (Figure 5 of Chollet 2017), as ``keras.applications.Xception``.

    Args:
        input_shape: tuple ``(height, width, channels)``, default ``(299, 299, 3)``;
            at least 71x71.
        num_classes: int, default 1000.
        middle_blocks: int, repeats of the middle-flow module (default 8).
        classifier_activation: activation of ``predictions``, default ``"softmax"``.
        name: str, the model name.

    Returns:
        A functional ``keras.Model``, output ``(batch, num_classes)``.

    Raises:
        ValueError: for a bad shape, class count or ``middle_blocks``.

    Example:

    >>> xception(input_shape=(71, 71, 3), middle_blocks=0).get_layer("block6_sepconv2").output.shape
    (None, 3, 3, 2048)

    Reference: Chollet, CVPR 2017, Figure 5.

    Used in: lab 07.
    """
    check_num_classes(num_classes, model=name)
    if isinstance(middle_blocks, bool) or not isinstance(middle_blocks, int) or middle_blocks < 0:
        raise ValueError(
            f"{name}: middle_blocks={middle_blocks!r} is not valid; expected a non-negative "
            "int. Use middle_blocks=8 as in the paper."
        )
    shape = check_input_shape(input_shape, model=name, min_size=71, example="(299, 299, 3)")
    inputs = keras.Input(shape=shape, name="input")
    x = inputs
    for index, (filters, stride) in enumerate(((32, 2), (64, 1)), start=1):
        conv = f"block1_conv{index}"
        x = layers.Conv2D(filters, 3, strides=stride, use_bias=False, name=conv)(x)
        x = layers.BatchNormalization(name=conv + "_bn")(x)
        x = layers.Activation("relu", name=conv + "_act")(x)
    # Entry flow: the first module starts without ReLU (the stem just applied one).
    x = _downsampling_module(x, 128, 2, relu_first=False)
    x = _downsampling_module(x, 256, 3)
    x = _downsampling_module(x, 728, 4)
    for block in range(5, 5 + middle_blocks):
        residual = x
        for index in (1, 2, 3):
            x = _sepconv_bn(x, 728, f"block{block}_sepconv{index}")
        x = layers.Add(name=f"block{block}_add")([x, residual])
    exit_block = 5 + middle_blocks
    x = _downsampling_module(x, (728, 1024), exit_block)
    for index, filters in ((1, 1536), (2, 2048)):
        conv = f"block{exit_block + 1}_sepconv{index}"
        x = layers.SeparableConv2D(filters, 3, padding="same", use_bias=False, name=conv)(x)
        x = layers.BatchNormalization(name=conv + "_bn")(x)
        x = layers.Activation("relu", name=conv + "_act")(x)
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    outputs = layers.Dense(num_classes, activation=classifier_activation, name="predictions")(x)
    return keras.Model(inputs, outputs, name=name)
