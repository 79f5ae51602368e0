"""Lab 07 (efficient convolutions, transfer learning): references against Keras and the
papers, the check cells' feedback on typical mistakes, and the lab's stand-ins.

The solution's answers against every public and hidden case are tested for every
lab by test_lab_questions.py; these are the lab's own properties.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import layers

from autograder.references import lab07_efficient_transfer as ref
from cnnlabs.analysis import layer_table
from cnnlabs.checks import fallbacks
from cnnlabs.checks.checker import checker

LAB = "07_efficient_transfer"


def _public(qid, answer):
    return checker(LAB).results(qid, answer)


def _model(block, input_shape, *args):
    inputs = keras.Input(input_shape)
    return keras.Model(inputs, block(inputs, *args))


# ---------------------------------------------------------------- references: Keras and papers


@pytest.mark.parametrize("k, m, n, size", [(3, 32, 64, 112), (3, 512, 512, 14), (5, 3, 7, 9)])
def test_cost_formulas_match_keras(k, m, n, size):
    inputs = keras.Input((size, size, m))
    standard = keras.Model(inputs, layers.Conv2D(n, k, padding="same", use_bias=False)(inputs))
    separable = keras.Model(
        inputs, layers.SeparableConv2D(n, k, padding="same", use_bias=False)(inputs)
    )
    assert standard.count_params() == ref.standard_params(k, m, n)
    assert separable.count_params() == ref.separable_params(k, m, n)
    assert layer_table(standard).total_macs == ref.standard_macs(k, m, n, size)
    assert layer_table(separable).total_macs == ref.separable_macs(k, m, n, size)
    ratio = ref.separable_macs(k, m, n, size) / ref.standard_macs(k, m, n, size)
    assert ref.cost_ratio(k, n) == pytest.approx(ratio, rel=1e-12)


def test_paper_numbers():
    # Howard et al. Section 3.1: 8 to 9 times less computation with 3x3 kernels.
    assert 8 < 1 / ref.cost_ratio(3, 512) < 9
    # Xie et al. Figure 1: both blocks have about 70k parameters at 256 channels.
    assert ref.resnext_params(256, 1, 64) == 69_632  # the ResNet bottleneck
    assert ref.resnext_params(256, 32, 4) == 70_144
    # Hu et al. Section 4: SE-ResNet-50 adds ~2.5 million parameters to ResNet-50 (~10%).
    stages = ((256, 3), (512, 4), (1024, 6), (2048, 3))
    extra = sum(blocks * ref.se_params(c, 16) for c, blocks in stages)
    assert extra == 2_530_992
    assert round(extra / 25_557_032, 2) == 0.10  # keras.applications.ResNet50's count
    # DenseNet-121's first block: 64 channels in, 6 layers of growth 32 -> 256 out.
    assert ref.dense_channels(64, 32, 6)[-1] == 256


@pytest.mark.parametrize(
    "block, input_shape, kwargs, params",
    [
        (
            ref.reference_separable_block,
            (7, 7, 8),
            {"filters": 16, "strides": 2},
            ref.separable_block_params((7, 7, 8), 16, 2),
        ),
        (
            ref.reference_resnext_block,
            (4, 4, 256),
            {"cardinality": 32, "width": 4},
            ref.resnext_block_params((4, 4, 256), 32, 4),
        ),
        (ref.reference_se_block, (5, 5, 37), {"ratio": 8}, ref.se_params(37, 8)),
        (
            ref.reference_dense_block,
            (6, 6, 16),
            {"num_layers": 4, "growth_rate": 12},
            sum(ref.dense_layer_params(16, 12, 4)),
        ),
        (
            ref.reference_transition,
            (7, 7, 9),
            {"compression": 0.5},
            ref.transition_params((7, 7, 9), 0.5),
        ),
    ],
)
def test_reference_blocks_count_what_the_checks_expect(block, input_shape, kwargs, params):
    assert ref.reference_model(block, input_shape, **kwargs).count_params() == params


def test_reference_blocks_pass_their_checks():
    cases = [
        ("separable_block", ref.reference_separable_block, ("filters", "strides")),
        ("resnext_block", ref.reference_resnext_block, ("cardinality", "width")),
        ("se_block", ref.reference_se_block, ("ratio",)),
        ("dense_block", ref.reference_dense_block, ("num_layers", "growth_rate")),
        ("transition_layer", ref.reference_transition, ("compression",)),
    ]
    for qid, block, names in cases:

        def build(input_shape, block=block, names=names, **kwargs):
            return ref.reference_model(block, input_shape, **{n: kwargs[n] for n in names})

        assert [o.status for o in _public(qid, build)] == ["passed", "passed"], qid


# ---------------------------------------------------------------- the stand-ins


def test_resnext_stand_in_has_the_grouped_blocks_parameters():
    for cardinality, width in ((32, 4), (4, 2)):
        paths = _model(fallbacks.resnext_paths_block, (4, 4, 64), cardinality, width)
        assert paths.count_params() == ref.resnext_block_params((4, 4, 64), cardinality, width)
    assert fallbacks.resnext_weights(256, 32, 4) == ref.resnext_params(256, 32, 4)


def test_dense_and_se_stand_ins_agree_with_the_references():
    assert fallbacks.dense_block_channels(16, 12, 5) == ref.dense_channels(16, 12, 5)
    assert fallbacks.dense_block_layer_params(16, 12, 5) == ref.dense_layer_params(16, 12, 5)
    assert fallbacks.se_parameters(100, 8) == ref.se_params(100, 8)
    se = _model(fallbacks.se_block, (4, 4, 32), 4)
    assert se.count_params() == ref.se_params(32, 4)
    transition = _model(fallbacks.transition_block, (8, 8, 24), 0.5)
    assert transition.output_shape == (None, 4, 4, 12)


def test_transfer_stand_in_freezes_all_but_the_top_convolutions():
    inputs = keras.Input((8, 8, 1))
    x = layers.Conv2D(4, 3, name="c1")(inputs)
    x = layers.BatchNormalization(name="bn")(x)
    x = layers.SeparableConv2D(4, 3, name="c2")(x)
    base = keras.Model(inputs, layers.GlobalAveragePooling2D()(x))
    model = fallbacks.transfer_model((8, 8, 1), 3, 1, base=base)
    trainable = {id(w) for w in model.trainable_weights}
    trained = {
        layer.name
        for layer in [*base.layers, model.layers[-1]]
        if any(id(w) in trainable for w in layer.weights)
    }
    assert trained == {"c2", model.layers[-1].name}
    outcomes = [
        o.status
        for o in _public(
            "transfer_model",
            lambda **kw: fallbacks.transfer_model(**kw, base=_small_base(kw["input_shape"])),
        )
    ]
    assert outcomes == ["passed", "passed"]
    with pytest.raises(ValueError) as error:
        fallbacks.transfer_model((8, 8, 1), 3)
    assert str(error.value) == (
        "transfer_model: base=None; this stand-in needs the pretrained base. Pass "
        "base=pretrained_base()."
    )


def _small_base(input_shape):
    inputs = keras.Input(input_shape)
    x = inputs
    for index in range(3):
        x = layers.Conv2D(4, 3, padding="same", use_bias=False, name=f"conv{index}")(x)
        x = layers.ReLU()(layers.BatchNormalization()(x))
    return keras.Model(inputs, layers.GlobalAveragePooling2D()(x))


# ---------------------------------------------------------------- feedback on mistakes


@pytest.mark.parametrize(
    "qid, answer, message",
    [
        (
            "standard_params",
            lambda k, m, n: k * k * m * n + n,
            "You returned 18,496: that counts one bias per filter; a convolution followed by batch "
            "normalization has none (use_bias=False): leave it out.",
        ),
        (
            "separable_params",
            lambda k, m, n: k * k * m * n + m * n,
            "You returned 20,480: the depthwise step has one k x k filter per input channel "
            "(k * k * m weights), not one per input and output channel.",
        ),
        (
            "separable_macs",
            lambda k, m, n, size: k * k * m + m * n,
            "You returned 2,336: that is per output position; multiply by size x size.",
        ),
        (
            "resnext_params",
            lambda channels, cardinality, width: (
                channels * cardinality * width
                + 9 * (cardinality * width) ** 2
                + cardinality * width * channels
            ),
            "You returned 212,992: that is an ordinary 3x3 convolution over all C * d channels; "
            "grouped into C groups, each of its filters sees only the d channels of its group.",
        ),
        (
            "se_params",
            lambda channels, ratio: 2 * channels * (channels // ratio),
            "You returned 8,192: those are the weights; add the biases of both fully connected "
            "layers.",
        ),
    ],
)
def test_count_mistakes_are_named_without_the_answer(qid, answer, message):
    first = _public(qid, answer)[0]
    assert first.status == "failed"
    assert first.message == message


def test_ratio_upside_down_is_told():
    outcomes = _public("cost_ratio", lambda k, n: 1 / (1 / n + 1 / k**2))
    assert outcomes[0].message == (
        "You returned 7.89: that is standard / separable; the question asks separable / "
        "standard (below 1)."
    )


def test_dense_channels_entering_instead_of_leaving_is_told():
    outcomes = _public(
        "dense_channels",
        lambda in_channels, growth_rate, num_layers: [
            in_channels + i * growth_rate for i in range(num_layers)
        ],
    )
    assert outcomes[0].message == (
        "You returned [16, 28, 40, 52]: those are the channels entering each layer; give the "
        "channels after it."
    )


def _block(build):
    def model(input_shape, *args, **kwargs):
        inputs = keras.Input(input_shape)
        return keras.Model(inputs, build(inputs, *args, **kwargs))

    return model


def test_separable_conv2d_layer_is_told_what_is_missing():
    def fused(x, filters, strides=1):
        y = layers.SeparableConv2D(filters, 3, strides=strides, padding="same", use_bias=False)(x)
        return layers.ReLU()(layers.BatchNormalization()(y))

    outcomes = _public("separable_block", _block(fused))
    assert outcomes[0].message == (
        "SeparableConv2D fuses the depthwise and the pointwise step with nothing in between; "
        "MobileNet puts batch normalization and a ReLU after each step (its Figure 3). Write "
        "DepthwiseConv2D, BN, ReLU, then Conv2D 1x1, BN, ReLU."
    )


def test_separable_block_without_middle_relu_is_told():
    def no_middle(x, filters, strides=1):
        y = layers.DepthwiseConv2D(3, strides=strides, padding="same", use_bias=False)(x)
        y = layers.Conv2D(filters, 1, use_bias=False)(layers.BatchNormalization()(y))
        return layers.ReLU()(layers.BatchNormalization()(y))

    outcomes = _public("separable_block", _block(no_middle))
    assert [o.message for o in outcomes] == [
        "Almost: apply a ReLU after the depthwise step's BN too (MobileNet's Figure 3)."
    ] * 2


def test_resnext_without_groups_is_told():
    def dense_3x3(x, cardinality, width):
        inner = cardinality * width
        y = layers.ReLU()(layers.BatchNormalization()(layers.Conv2D(inner, 1, use_bias=False)(x)))
        y = layers.Conv2D(inner, 3, padding="same", use_bias=False)(y)
        y = layers.ReLU()(layers.BatchNormalization()(y))
        y = layers.BatchNormalization()(layers.Conv2D(x.shape[-1], 1, use_bias=False)(y))
        return layers.ReLU()(layers.Add()([x, y]))

    outcomes = _public("resnext_block", _block(dense_3x3))
    assert outcomes[0].message == (
        "The 3x3 convolution must be grouped into the block's 32 paths: Conv2D(cardinality * "
        "width, 3, groups=cardinality). Your 3x3 convolutions have groups=[1]."
    )


def test_se_gate_without_sigmoid_is_told():
    def linear_gate(x, ratio):
        s = layers.GlobalAveragePooling2D(keepdims=True)(x)
        s = layers.Dense(x.shape[-1] // ratio, activation="relu")(s)
        return layers.Multiply()([x, layers.Dense(x.shape[-1])(s)])

    outcomes = _public("se_block", _block(linear_gate))
    assert [o.message for o in outcomes] == [
        "The gate needs a sigmoid: activation='sigmoid' on the second fully connected layer."
    ] * 2


def test_dense_block_concatenating_new_maps_first_is_told():
    def new_first(x, num_layers, growth_rate):
        for _ in range(num_layers):
            y = layers.ReLU()(layers.BatchNormalization()(x))
            y = layers.Conv2D(growth_rate, 3, padding="same", use_bias=False)(y)
            x = layers.Concatenate()([y, x])
        return x

    outcomes = _public("dense_block", _block(new_first))
    assert outcomes[0].message == (
        "The new maps come first in your concatenation; put the block's input first, "
        "layers.Concatenate()([x, y]), as keras.applications.DenseNet does."
    )


def test_transition_with_max_pooling_is_told():
    def max_pool(x, compression):
        y = layers.ReLU()(layers.BatchNormalization()(x))
        y = layers.Conv2D(int(compression * x.shape[-1]), 1, use_bias=False)(y)
        return layers.MaxPooling2D(2)(y)

    outcomes = _public("transition_layer", _block(max_pool))
    assert [o.message for o in outcomes] == [
        "DenseNet's transition uses average pooling (AveragePooling2D), not max pooling."
    ] * 2


def test_transfer_model_with_trainable_batch_norm_is_told():
    def bn_trains(input_shape, num_classes, trainable_top=0):
        base = _small_base(input_shape)
        convs = [layer for layer in base.layers if hasattr(layer, "kernel_size")]
        for layer in base.layers:
            layer.trainable = isinstance(layer, layers.BatchNormalization)
        for layer in convs[len(convs) - trainable_top :]:
            layer.trainable = True
        inputs = keras.Input(input_shape)
        return keras.Model(inputs, layers.Dense(num_classes, activation="softmax")(base(inputs)))

    outcomes = _public("transfer_model", bn_trains)
    assert outcomes[0].status == "failed"
    assert outcomes[0].message.startswith("The batch normalizations ")
    assert outcomes[0].message.endswith(
        " train. Keep every BatchNormalization of the base frozen (and call the base with "
        "training=False): a few hundred examples would spoil the statistics it learned on the "
        "source task."
    )


def test_transfer_model_that_trains_everything_is_told():
    def all_train(input_shape, num_classes, trainable_top=0):
        base = _small_base(input_shape)
        for layer in base.layers:
            layer.trainable = not isinstance(layer, layers.BatchNormalization)
        inputs = keras.Input(input_shape)
        return keras.Model(inputs, layers.Dense(num_classes, activation="softmax")(base(inputs)))

    outcomes = _public("transfer_model", all_train)
    assert [o.message for o in outcomes] == [
        "1 convolution(s) below the top 2 train (conv0); freeze every layer of the base except "
        "the last trainable_top convolutions.",
        "3 convolution(s) below the top 0 train (conv0, conv1, conv2); freeze every layer of the "
        "base except the last trainable_top convolutions.",
    ]


def test_untouched_answers_are_not_attempted():
    for qid in ("separable_block", "transfer_model", "dense_layer_params"):
        assert [o.status for o in _public(qid, lambda *a, **k: None)] == ["not_attempted"] * 2
    assert np.isclose(ref.cost_ratio(3, 9), 2 / 9)
