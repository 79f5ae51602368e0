"""Residual networks (He et al. 2016) and their plain twins.

Layer names follow ``keras.applications.ResNet50``: ``conv1_conv``,
``conv2_block1_1_conv``, ``conv2_block1_0_conv`` (projection shortcut),
``conv2_block1_add``, ``conv2_block1_out`` ... ``avg_pool``, ``predictions``;
stage ``convK`` is the paper's "convK_x" row of Table 1.

ImageNet (Table 1 of the paper), ``resnet18/34`` (basic blocks) and
``resnet50/101/152`` (bottleneck blocks): we match ``keras.applications``
ResNet v1 exactly: shortcut option B (projection only where the shape
changes, plus in the first block of conv2 for bottlenecks, whose width goes
64 -> 256), the stride on the first 1x1 convolution of the bottleneck, biases in
every convolution and BatchNormalization with ``epsilon=1.001e-5``. ResNet-50 then
has 25,636,712 parameters, like ``keras.applications.ResNet50(weights=None)``.
With ``conv_bias=False`` (the paper's convolutions have no bias: BN's beta
replaces it) the trainable counts equal torchvision's: 11,689,512 (ResNet-18),
21,797,672 (34), 25,557,032 (50), 44,549,160 (101), 60,192,808 (152).

CIFAR-10 (Section 4.2), ``resnet20/32/44/56/110``: 6n+2 weighted layers, a
3x3 convolution with 16 maps, three stages of n basic blocks with 16, 32 and 64
maps (stride 2 at the start of stages 2 and 3), global average pooling and a
10-way dense layer; option A shortcuts (:class:`cnnlabs.layers.ZeroPadShortcut`,
no parameters). Trainable parameters: 269,722 / 464,154 / 658,586 / 853,018 /
1,727,962, the paper's 0.27M / 0.46M / 0.66M / 0.85M / 1.7M (Table 6).
``count_params()`` also counts BN's moving mean and variance (2 per channel).
``plain20/32/44/56/110`` are the same networks without shortcuts;
``preact_resnet20/56/110`` use the pre-activation unit of He et al. (2016b).

Reference: K. He, X. Zhang, S. Ren, J. Sun, "Deep residual learning for image
recognition", CVPR 2016; K. He et al., "Identity mappings in deep residual
networks", ECCV 2016; A. Veit, M. Wilber, S. Belongie, "Residual networks behave
like ensembles of relatively shallow networks", NIPS 2016 (for :func:`lesion`).

Used in: lab 05 (ResNet and shortcuts).
"""

from __future__ import annotations

import keras
from keras import layers

from cnnlabs.layers.shortcut import ZeroPadShortcut
from cnnlabs.models._common import check_choice, check_input_shape, check_num_classes
from cnnlabs.models.registry import register

BN_EPSILON = 1.001e-5
SHORTCUTS = ("A", "B", "C")
# Blocks per stage (conv2..conv5) and block type, Table 1 of He et al. (2016).
IMAGENET_DEPTHS = {
    18: ((2, 2, 2, 2), False),
    34: ((3, 4, 6, 3), False),
    50: ((3, 4, 6, 3), True),
    101: ((3, 4, 23, 3), True),
    152: ((3, 8, 36, 3), True),
}
CIFAR_DEPTHS = (20, 32, 44, 56, 110)


def _conv(filters, kernel, stride, name, bias, padding="same"):
    return layers.Conv2D(
        filters,
        kernel,
        strides=stride,
        padding=padding,
        use_bias=bias,
        kernel_initializer="he_normal",
        name=name,
    )


def _bn(name):
    return layers.BatchNormalization(epsilon=BN_EPSILON, name=name)


def _shortcut(x, filters, stride, option, name, bias, preact=False):
    """The shortcut branch: identity, zero padding (A) or projection (B, C)."""
    changes_shape = stride != 1 or x.shape[-1] != filters
    if option == "C" or (option == "B" and changes_shape):
        shortcut = _conv(filters, 1, stride, name + "_0_conv", bias)(x)
        return shortcut if preact else _bn(name + "_0_bn")(shortcut)
    if changes_shape:
        return ZeroPadShortcut(filters, stride, name=name + "_0_pad")(x)
    return x


def basic_block(x, filters, stride=1, shortcut="B", plain=False, bias=False, name=None):
    """Two 3x3 convolutions with BN and ReLU, plus a shortcut (Figure 2 of the paper).

    ``out = relu(bn(conv(relu(bn(conv(x))))) + shortcut(x))``; with ``plain=True``
    the shortcut is left out (the paper's plain networks).

    Args:
        x: tensor ``(batch, height, width, channels)``.
        filters: int, output maps.
        stride: int, stride of the first convolution (and of the shortcut).
        shortcut: ``"A"``, ``"B"`` or ``"C"`` (see the module docstring).
        plain: bool, no shortcut.
        bias: bool, biases in the convolutions.
        name: str, the block prefix, e.g. ``"conv2_block1"``.

    Returns:
        The block's output tensor.
    """
    residual = None if plain else _shortcut(x, filters, stride, shortcut, name, bias)
    y = _conv(filters, 3, stride, name + "_1_conv", bias)(x)
    y = _bn(name + "_1_bn")(y)
    y = layers.Activation("relu", name=name + "_1_relu")(y)
    y = _conv(filters, 3, 1, name + "_2_conv", bias)(y)
    y = _bn(name + "_2_bn")(y)
    if not plain:
        y = layers.Add(name=name + "_add")([residual, y])
    return layers.Activation("relu", name=name + "_out")(y)


def bottleneck_block(x, filters, stride=1, shortcut="B", plain=False, bias=True, name=None):
    """1x1 (reduce) - 3x3 - 1x1 (expand to ``4 * filters``) with BN and ReLU (Figure 5).

    As in ``keras.applications`` ResNet v1 the stride sits on the first 1x1
    convolution. Arguments as :func:`basic_block`; the output has ``4 * filters`` maps.
    """
    out_filters = 4 * filters
    residual = None if plain else _shortcut(x, out_filters, stride, shortcut, name, bias)
    y = _conv(filters, 1, stride, name + "_1_conv", bias)(x)
    y = _bn(name + "_1_bn")(y)
    y = layers.Activation("relu", name=name + "_1_relu")(y)
    y = _conv(filters, 3, 1, name + "_2_conv", bias)(y)
    y = _bn(name + "_2_bn")(y)
    y = layers.Activation("relu", name=name + "_2_relu")(y)
    y = _conv(out_filters, 1, 1, name + "_3_conv", bias)(y)
    y = _bn(name + "_3_bn")(y)
    if not plain:
        y = layers.Add(name=name + "_add")([residual, y])
    return layers.Activation("relu", name=name + "_out")(y)


def preact_basic_block(x, filters, stride=1, shortcut="B", bias=False, name=None):
    """Pre-activation basic block: ``out = x' + conv(relu(bn(conv(relu(bn(x))))))``.

    He et al. (2016b), Figure 1(b): BN and ReLU come before each convolution and
    nothing follows the addition, so the shortcut path is a clean identity.
    A projection or zero-padding shortcut takes the pre-activated input.
    """
    preact = _bn(name + "_preact_bn")(x)
    preact = layers.Activation("relu", name=name + "_preact_relu")(preact)
    changes_shape = stride != 1 or x.shape[-1] != filters
    source = preact if (changes_shape or shortcut == "C") else x
    residual = _shortcut(source, filters, stride, shortcut, name, bias, preact=True)
    y = _conv(filters, 3, stride, name + "_1_conv", bias)(preact)
    y = _bn(name + "_1_bn")(y)
    y = layers.Activation("relu", name=name + "_1_relu")(y)
    y = _conv(filters, 3, 1, name + "_2_conv", bias)(y)
    return layers.Add(name=name + "_add")([residual, y])


def _head(x, num_classes, classifier_activation):
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    return layers.Dense(num_classes, activation=classifier_activation, name="predictions")(x)


def _imagenet_resnet(
    depth,
    input_shape,
    num_classes,
    shortcut,
    plain,
    conv_bias,
    classifier_activation,
    name,
):
    stages, bottleneck = IMAGENET_DEPTHS[depth]
    check_num_classes(num_classes, model=name)
    check_choice(shortcut, name="shortcut", model=name, choices=SHORTCUTS)
    shape = check_input_shape(input_shape, model=name, min_size=32, example="(224, 224, 3)")
    block = bottleneck_block if bottleneck else basic_block

    inputs = keras.Input(shape=shape, name="input")
    x = layers.ZeroPadding2D(3, name="conv1_pad")(inputs)
    x = _conv(64, 7, 2, "conv1_conv", conv_bias, padding="valid")(x)
    x = _bn("conv1_bn")(x)
    x = layers.Activation("relu", name="conv1_relu")(x)
    x = layers.ZeroPadding2D(1, name="pool1_pad")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)
    for stage, blocks in enumerate(stages, start=2):
        filters = 64 * 2 ** (stage - 2)
        for index in range(1, blocks + 1):
            stride = 2 if (index == 1 and stage > 2) else 1
            x = block(
                x,
                filters,
                stride,
                shortcut=shortcut,
                plain=plain,
                bias=conv_bias,
                name=f"conv{stage}_block{index}",
            )
    return keras.Model(inputs, _head(x, num_classes, classifier_activation), name=name)


def resnet(
    depth=50,
    input_shape=(224, 224, 3),
    num_classes=1000,
    shortcut="B",
    plain=False,
    conv_bias=True,
    classifier_activation="softmax",
    name=None,
):
    """An ImageNet ResNet of Table 1 (18, 34, 50, 101 or 152 layers).

    Args:
        depth: int, 18, 34, 50 (default), 101 or 152.
        input_shape: tuple ``(height, width, channels)``, default ``(224, 224, 3)``.
        num_classes: int, default 1000.
        shortcut: ``"A"`` (zero padding), ``"B"`` (default, projection where the
            shape changes) or ``"C"`` (projection everywhere).
        plain: bool, leave out every shortcut (the paper's plain-18/34), default False.
        conv_bias: bool, biases in the convolutions, default True as in
            keras.applications (the paper has none).
        classifier_activation: activation of ``predictions``, default ``"softmax"``.
        name: str, default ``f"resnet{depth}"`` (``f"plain{depth}"`` when plain).

    Returns:
        A functional ``keras.Model``, output ``(batch, num_classes)``.

    Raises:
        ValueError: for an unknown depth or shortcut option, or a bad shape.

    Example:

    >>> resnet(18, input_shape=(64, 64, 3), num_classes=10).get_layer(
    ...     "conv5_block2_out").output.shape
    (None, 2, 2, 512)

    Reference: He et al., CVPR 2016, Table 1.

    Used in: lab 05 (ResNet and shortcuts).
    """
    name = name or (f"plain{depth}" if plain else f"resnet{depth}")
    if depth not in IMAGENET_DEPTHS:
        raise ValueError(
            f"{name}: depth={depth!r} is not an ImageNet ResNet of Table 1; expected one of "
            "18, 34, 50, 101, 152. Use cifar_resnet(depth) for the 6n+2 CIFAR networks."
        )
    return _imagenet_resnet(
        depth, input_shape, num_classes, shortcut, plain, conv_bias, classifier_activation, name
    )


def cifar_resnet(
    depth=20,
    input_shape=(32, 32, 3),
    num_classes=10,
    shortcut="A",
    plain=False,
    preact=False,
    width=16,
    conv_bias=False,
    classifier_activation="softmax",
    name=None,
):
    """A 6n+2-layer CIFAR ResNet (Section 4.2 of the paper), or its plain twin.

    ``conv1`` (3x3, ``width`` maps), then stages ``conv2``, ``conv3``, ``conv4``
    of n basic blocks each with ``width``, ``2 * width`` and ``4 * width`` maps
    (32x32, 16x16 and 8x8 on CIFAR), global average pooling and ``predictions``:
    1 + 6n + 1 weighted layers.

    Args:
        depth: int, 6n+2: 20 (default), 32, 44, 56, 110, ...
        input_shape: tuple ``(height, width, channels)``, default ``(32, 32, 3)``.
        num_classes: int, default 10.
        shortcut: ``"A"`` (default, as in the paper's CIFAR experiments), ``"B"`` or ``"C"``.
        plain: bool, no shortcuts (the paper's plain-20/32/44/56), default False.
        preact: bool, pre-activation blocks (He et al. 2016b), default False.
        width: int, maps of the first stage, default 16.
        conv_bias: bool, biases in the convolutions, default False as in the paper.
        classifier_activation: activation of ``predictions``, default ``"softmax"``.
        name: str, default ``resnet{depth}``, ``plain{depth}`` or ``preact_resnet{depth}``.

    Returns:
        A functional ``keras.Model``.

    Raises:
        ValueError: if ``depth`` is not 6n+2, for an unknown shortcut option, or
            for ``plain=True`` with ``preact=True``.

    Example:

    >>> cifar_resnet(20).count_params() - cifar_resnet(20, plain=True).count_params()
    0

    Reference: He et al., CVPR 2016, Section 4.2 and Table 6.

    Used in: lab 05 (ResNet and shortcuts).
    """
    kind = "plain" if plain else ("preact_resnet" if preact else "resnet")
    name = name or f"{kind}{depth}"
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 8 or (depth - 2) % 6:
        raise ValueError(
            f"{name}: depth={depth!r} is not valid; expected 6n+2 weighted layers with n >= 1 "
            "(20, 32, 44, 56, 110, ...). Use depth=20."
        )
    if plain and preact:
        raise ValueError(
            f"{name}: plain=True and preact=True cannot be combined; pre-activation is a "
            "property of residual blocks. Use plain=True with preact=False."
        )
    check_num_classes(num_classes, model=name)
    check_choice(shortcut, name="shortcut", model=name, choices=SHORTCUTS)
    shape = check_input_shape(input_shape, model=name, min_size=4, example="(32, 32, 3)")
    n = (depth - 2) // 6

    inputs = keras.Input(shape=shape, name="input")
    x = _conv(width, 3, 1, "conv1_conv", conv_bias)(inputs)
    if not preact:
        x = _bn("conv1_bn")(x)
        x = layers.Activation("relu", name="conv1_relu")(x)
    for stage in (2, 3, 4):
        filters = width * 2 ** (stage - 2)
        for index in range(1, n + 1):
            stride = 2 if (index == 1 and stage > 2) else 1
            block_name = f"conv{stage}_block{index}"
            if preact:
                x = preact_basic_block(x, filters, stride, shortcut, conv_bias, name=block_name)
            else:
                x = basic_block(x, filters, stride, shortcut, plain, conv_bias, name=block_name)
    if preact:
        x = _bn("post_bn")(x)
        x = layers.Activation("relu", name="post_relu")(x)
    return keras.Model(inputs, _head(x, num_classes, classifier_activation), name=name)


def _register_imagenet(depth):
    def builder(input_shape=(224, 224, 3), num_classes=1000, **kwargs):
        return resnet(depth, input_shape=input_shape, num_classes=num_classes, **kwargs)

    builder.__name__ = builder.__qualname__ = f"resnet{depth}"
    builder.__doc__ = f"ResNet-{depth} for 224x224 ImageNet images; arguments as :func:`resnet`."
    return register(f"resnet{depth}")(builder)


def _register_cifar(depth, prefix, **fixed):
    def builder(input_shape=(32, 32, 3), num_classes=10, **kwargs):
        return cifar_resnet(
            depth, input_shape=input_shape, num_classes=num_classes, **fixed, **kwargs
        )

    builder.__name__ = builder.__qualname__ = f"{prefix}{depth}"
    builder.__doc__ = (
        f"The {depth}-layer CIFAR {prefix.replace('_', ' ')} network; "
        "arguments as :func:`cifar_resnet`."
    )
    return register(f"{prefix}{depth}")(builder)


resnet18 = _register_imagenet(18)
resnet34 = _register_imagenet(34)
resnet50 = _register_imagenet(50)
resnet101 = _register_imagenet(101)
resnet152 = _register_imagenet(152)
resnet20 = _register_cifar(20, "resnet")
resnet32 = _register_cifar(32, "resnet")
resnet44 = _register_cifar(44, "resnet")
resnet56 = _register_cifar(56, "resnet")
resnet110 = _register_cifar(110, "resnet")
plain20 = _register_cifar(20, "plain", plain=True)
plain32 = _register_cifar(32, "plain", plain=True)
plain44 = _register_cifar(44, "plain", plain=True)
plain56 = _register_cifar(56, "plain", plain=True)
plain110 = _register_cifar(110, "plain", plain=True)
preact_resnet20 = _register_cifar(20, "preact_resnet", preact=True)
preact_resnet56 = _register_cifar(56, "preact_resnet", preact=True)
preact_resnet110 = _register_cifar(110, "preact_resnet", preact=True)


def residual_blocks(model) -> list[str]:
    """The names of the blocks of a ResNet or plain net built here, in order.

    A block is a prefix ``convK_blockJ`` that owns a ``_add`` layer (residual
    nets) or an ``_out`` layer (plain nets).

    Example:

    >>> residual_blocks(cifar_resnet(20))[:4]
    ['conv2_block1', 'conv2_block2', 'conv2_block3', 'conv3_block1']
    """
    blocks = []
    for layer in model.layers:
        for suffix in ("_add", "_out"):
            prefix = layer.name[: -len(suffix)]
            if layer.name.endswith(suffix) and "_block" in prefix and prefix not in blocks:
                blocks.append(prefix)
    return blocks


def lesion(model, blocks):
    """A model that shares ``model``'s layers (and trained weights) with blocks bypassed.

    In a residual net, a bypassed block's addition returns the shortcut only:
    ``x_{i+1} = shortcut(x_i)`` instead of ``shortcut(x_i) + F(x_i)`` (the
    "lesion study" of Veit et al. 2016, Section 4). In a plain net, a bypassed
    block's output is replaced by its input, which is possible only for blocks
    that keep the shape (not the first block of a stage). Every other layer is
    the same object as in ``model``, so the weights are shared; with
    ``blocks=[]`` the outputs equal the original model's.

    Args:
        model: a model from :func:`resnet` or :func:`cifar_resnet`.
        blocks: a block name (``"conv3_block2"``), an index into
            :func:`residual_blocks`, or a list of them.

    Returns:
        A functional ``keras.Model`` with the same input and output shapes.

    Raises:
        ValueError: for an unknown block, or a plain-net block that changes the shape.

    Example:

    >>> import numpy as np
    >>> net = cifar_resnet(20)
    >>> x = np.zeros((1, 32, 32, 3), "float32")
    >>> lesion(net, "conv3_block2")(x).shape == net(x).shape
    True

    Reference: A. Veit, M. Wilber, S. Belongie, "Residual networks behave like
    ensembles of relatively shallow networks", NIPS 2016.

    Used in: lab 05 (ResNet and shortcuts).
    """
    known = residual_blocks(model)
    if isinstance(blocks, (str, int)):
        blocks = [blocks]
    names = []
    for block in blocks:
        if (
            isinstance(block, int)
            and not isinstance(block, bool)
            and -len(known) <= block < len(known)
        ):
            names.append(known[block])
        elif block in known:
            names.append(block)
        else:
            raise ValueError(
                f"lesion: block {block!r} is not a block of model {model.name!r}; expected a "
                f"name such as {known[0]!r} or an index below {len(known)}. "
                "Call residual_blocks(model) to list them."
            )
    names = set(names)
    block_inputs = {}

    def call_function(layer, *args, **kwargs):
        prefix = next((b for b in names if layer.name.startswith(b + "_")), None)
        if prefix is not None and prefix not in block_inputs:
            block_inputs[prefix] = args[0]  # the first layer called in a block sees its input
        if prefix is not None and layer.name == prefix + "_add":
            return args[0][0]  # shortcut only
        if (
            prefix is not None
            and layer.name == prefix + "_out"
            and prefix + "_add" not in layer_names
        ):
            source = block_inputs[prefix]
            if tuple(source.shape) != tuple(layer.output.shape):
                raise ValueError(
                    f"lesion: block {prefix!r} of the plain net {model.name!r} changes the shape "
                    f"from {tuple(source.shape[1:])} to {tuple(layer.output.shape[1:])}, so its "
                    "output cannot be replaced by its input; expected a block that keeps the "
                    "shape. Choose a block other than the first of a stage."
                )
            return source
        return layer(*args, **kwargs)

    layer_names = {layer.name for layer in model.layers}
    lesioned = keras.models.clone_model(
        model, clone_function=lambda layer: layer, call_function=call_function
    )
    return lesioned
