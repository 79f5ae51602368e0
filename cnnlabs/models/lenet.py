"""LeNet-5 (LeCun et al. 1998).

The paper's layers, named as in its Figure 2 so that ``model.summary()`` reads
like the paper: ``C1`` (6 maps, 5x5), ``S2`` (2x2 subsampling), ``C3`` (16 maps,
5x5), ``S4``, ``C5`` (120 maps, 5x5, i.e. fully connected on a 32x32 input),
``F6`` (84 units) and ``output``.

Differences to the paper, on purpose:

* S2/S4 are plain average (or max) pooling. The paper's subsampling layers
  multiply the 2x2 sum by a trainable coefficient, add a trainable bias and
  apply the squashing function: 2 parameters per map, so S2 has 12 and S4 32
  trainable parameters that this model does not have.
* The output is a dense softmax layer (84 x 10 + 10 = 850 parameters); the paper
  uses Euclidean RBF units whose 84 x 10 = 840 centres are fixed by hand
  (stylised 7x12 bitmaps of the characters), not trained.
* ``activation="tanh"`` is plain tanh; the paper uses ``1.7159 * tanh(2x/3)``.
* C3 is fully connected to S2 by default (96 connections, 2,416 parameters);
  ``c3_connections="paper"`` uses the paper's Table I (60 connections,
  1,516 parameters, via :class:`cnnlabs.layers.PartialConv2D`).

Parameter counts (32x32x1 input, 10 classes): 61,706 with the full C3 and
60,806 with the paper's C3.

Reference: Y. LeCun, L. Bottou, Y. Bengio, P. Haffner, "Gradient-based learning
applied to document recognition", Proc. IEEE 86(11):2278-2324, 1998.

Used in: lab 01 (LeNet-5).
"""

from __future__ import annotations

import keras
from keras import layers

from cnnlabs.layers.connection_table import PartialConv2D
from cnnlabs.models._common import check_choice, check_input_shape, check_num_classes
from cnnlabs.models.registry import register

# Table I of LeCun et al. (1998): the S2 maps (0-5) that feed each C3 map (0-15).
# Maps 0-5 see 3 contiguous S2 maps, 6-11 see 4 contiguous maps, 12-14 see 4
# non-contiguous maps and 15 sees all 6: 6*3 + 6*4 + 3*4 + 6 = 60 connections.
LENET5_C3_TABLE = (
    (0, 1, 2), (1, 2, 3), (2, 3, 4), (3, 4, 5), (4, 5, 0), (5, 0, 1),
    (0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5), (3, 4, 5, 0), (4, 5, 0, 1), (5, 0, 1, 2),
    (0, 1, 3, 4), (1, 2, 4, 5), (0, 2, 3, 5),
    (0, 1, 2, 3, 4, 5),
)  # fmt: skip


def _lenet5(
    input_shape,
    num_classes,
    activation,
    pooling,
    c3_connections,
    input_padding,
    classifier_activation,
    name,
):
    check_num_classes(num_classes, model=name)
    check_choice(activation, name="activation", model=name, choices=("tanh", "sigmoid", "relu"))
    check_choice(pooling, name="pooling", model=name, choices=("average", "max"))
    check_choice(c3_connections, name="c3_connections", model=name, choices=("full", "paper"))
    if isinstance(input_padding, bool) or not isinstance(input_padding, int) or input_padding < 0:
        raise ValueError(
            f"{name}: input_padding={input_padding!r} is not valid; expected a non-negative "
            "int (zeros added on each side). Use input_padding=2 to feed 28x28 MNIST."
        )
    shape = check_input_shape(input_shape, model=name, min_size=1, example="(32, 32, 1)")
    # C1 (-4), S2 (/2), C3 (-4), S4 (/2) must leave at least 5x5 for C5.
    for size in shape[:2]:
        s4 = ((size + 2 * input_padding - 4) // 2 - 4) // 2
        if s4 < 5:
            raise ValueError(
                f"{name}: input_shape={shape} with input_padding={input_padding} leaves "
                f"S4 maps of size {max(s4, 0)}, but C5 needs 5x5; expected inputs of at least "
                "32x32 (the paper pads 28x28 MNIST digits to 32x32). "
                f"Use input_padding={max(0, (32 - size + 1) // 2)} or input_shape=(32, 32, 1)."
            )
    pool = layers.AveragePooling2D if pooling == "average" else layers.MaxPooling2D

    inputs = keras.Input(shape=shape, name="input")
    x = inputs
    if input_padding:
        x = layers.ZeroPadding2D(input_padding, name="pad")(x)
    x = layers.Conv2D(6, 5, activation=activation, name="C1")(x)
    x = pool(2, name="S2")(x)
    if c3_connections == "paper":
        x = PartialConv2D(16, 5, connections=LENET5_C3_TABLE, activation=activation, name="C3")(x)
    else:
        x = layers.Conv2D(16, 5, activation=activation, name="C3")(x)
    x = pool(2, name="S4")(x)
    x = layers.Conv2D(120, 5, activation=activation, name="C5")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(84, activation=activation, name="F6")(x)
    outputs = layers.Dense(num_classes, activation=classifier_activation, name="output")(x)
    return keras.Model(inputs, outputs, name=name)


@register("lenet5")
def lenet5(
    input_shape=(32, 32, 1),
    num_classes=10,
    activation="tanh",
    pooling="average",
    c3_connections="full",
    input_padding=0,
    classifier_activation="softmax",
    name="lenet5",
):
    """LeNet-5: C1-S2-C3-S4-C5-F6-output for 32x32 grey digits.

    Args:
        input_shape: tuple ``(height, width, channels)``, default ``(32, 32, 1)``.
            28x28 MNIST needs ``input_padding=2`` (or padded data).
        num_classes: int, default 10.
        activation: ``"tanh"`` (default, as in the paper), ``"sigmoid"`` or ``"relu"``.
        pooling: ``"average"`` (default, the paper's subsampling without its
            trainable coefficient) or ``"max"``.
        c3_connections: ``"full"`` (default, 2,416 parameters) or ``"paper"``
            (Table I of the paper, 60 connections, 1,516 parameters).
        input_padding: int, zeros added on every side of the input by a
            ``ZeroPadding2D`` layer named ``pad``; default 0.
        classifier_activation: activation of the output layer, default
            ``"softmax"``; ``None`` returns logits.
        name: str, model name, default ``"lenet5"``.

    Returns:
        A functional ``keras.Model`` with output shape ``(batch, num_classes)``.

    Raises:
        ValueError: for an unknown option, or an input smaller than 32x32 after padding.

    Example:

    >>> model = lenet5()
    >>> model.count_params()
    61706
    >>> lenet5(c3_connections="paper").get_layer("C3").count_params()
    1516
    >>> lenet5(input_shape=(28, 28, 1), input_padding=2).output_shape
    (None, 10)

    Reference: LeCun et al., "Gradient-based learning applied to document
    recognition", Proc. IEEE 1998, Section II.B and Figure 2.

    Used in: lab 01 (LeNet-5).
    """
    return _lenet5(
        input_shape,
        num_classes,
        activation,
        pooling,
        c3_connections,
        input_padding,
        classifier_activation,
        name,
    )


@register("lenet5_paper_c3")
def lenet5_paper_c3(input_shape=(32, 32, 1), num_classes=10, **kwargs):
    """LeNet-5 with the paper's partial C3 connection table (60,806 parameters).

    Same as :func:`lenet5` with ``c3_connections="paper"``; see it for the arguments.

    Example:

    >>> lenet5_paper_c3().count_params()
    60806
    """
    kwargs.setdefault("name", "lenet5_paper_c3")
    return lenet5(
        input_shape=input_shape, num_classes=num_classes, c3_connections="paper", **kwargs
    )
