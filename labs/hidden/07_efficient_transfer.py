"""Hidden cases of lab 07 (efficient convolutions, transfer learning): grading side only.

Random kernel sizes, channel counts and map sizes for the cost functions (so a
table of the public answers fails); random shapes, widths, strides, cardinalities,
reductions, growth rates and compressions for the blocks (rectangular and odd-sized
maps, one input channel, channels not divisible by the reduction); other input
shapes, class counts and depths of fine-tuning for the transfer model.
"""

from __future__ import annotations

from autograder.references.lab07_efficient_transfer import (
    dense_channels,
    dense_expected,
    dense_layer_params,
    ratio_expected,
    resnext_expected,
    resnext_params,
    se_expected,
    se_params,
    separable_expected,
    separable_macs,
    separable_params,
    standard_macs,
    standard_params,
    transfer_expected,
    transition_expected,
)
from cnnlabs.checks.counts import count_case
from cnnlabs.checks.lab07_efficient_transfer import (
    DENSE_CHANNELS_MISTAKES,
    DENSE_PARAMS_MISTAKES,
    RESNEXT_MISTAKES,
    SE_MISTAKES,
    SEPARABLE_MACS_MISTAKES,
    SEPARABLE_PARAMS_MISTAKES,
    STANDARD_MACS_MISTAKES,
    STANDARD_PARAMS_MISTAKES,
    block_case,
    check_dense_block,
    check_resnext_block,
    check_se_block,
    check_separable_block,
    check_transfer_model,
    check_transition,
    random_dense_inputs,
    random_resnext_inputs,
    random_se_inputs,
    random_separable_inputs,
    random_transfer_inputs,
    random_transition_inputs,
    ratio_case,
    sequence_case,
)


def _conv(rng):
    return {
        "k": int(rng.choice([1, 3, 5, 7])),
        "m": int(rng.integers(1, 1025)),
        "n": int(rng.integers(1, 1025)),
    }


def _conv_map(rng):
    return {**_conv(rng), "size": int(rng.integers(1, 225))}


def _ratio(rng):
    return {"k": int(rng.choice([3, 5, 7])), "n": int(rng.integers(1, 2049))}


def _resnext(rng):
    return {
        "channels": int(rng.integers(16, 2049)),
        "cardinality": int(rng.choice([1, 8, 32, 64])),
        "width": int(rng.integers(1, 65)),
    }


def _se(rng):
    ratio = int(rng.choice([4, 8, 16, 32]))
    return {"channels": int(rng.integers(ratio, 2049)), "ratio": ratio}


def _dense(rng):
    return {
        "in_channels": int(rng.integers(1, 257)),
        "growth_rate": int(rng.integers(1, 49)),
        "num_layers": int(rng.integers(1, 25)),
    }


def _counts(formula, mistakes, inputs):
    return tuple(
        count_case(f"hidden: random configuration ({i})", inputs, formula, mistakes)
        for i in (1, 2, 3)
    )


HIDDEN = {
    "standard_params": _counts(standard_params, STANDARD_PARAMS_MISTAKES, _conv),
    "standard_macs": _counts(standard_macs, STANDARD_MACS_MISTAKES, _conv_map),
    "separable_params": _counts(separable_params, SEPARABLE_PARAMS_MISTAKES, _conv),
    "separable_macs": _counts(separable_macs, SEPARABLE_MACS_MISTAKES, _conv_map),
    "cost_ratio": (
        ratio_case(
            "hidden: MobileNet's 3x3, 1024 channels", {"k": 3, "n": 1024}, expected=ratio_expected
        ),
        *(
            ratio_case(f"hidden: random kernel and channels ({i})", _ratio, expected=ratio_expected)
            for i in (1, 2)
        ),
    ),
    "resnext_params": (
        count_case(
            "hidden: ResNet bottleneck as cardinality 1, width 64",
            {"channels": 256, "cardinality": 1, "width": 64},
            resnext_params,
            RESNEXT_MISTAKES,
        ),
        *_counts(resnext_params, RESNEXT_MISTAKES, _resnext),
    ),
    "se_params": _counts(se_params, SE_MISTAKES, _se),
    "dense_channels": tuple(
        sequence_case(
            f"hidden: random block ({i})", _dense, dense_channels, DENSE_CHANNELS_MISTAKES
        )
        for i in (1, 2, 3)
    ),
    "dense_layer_params": tuple(
        sequence_case(
            f"hidden: random block ({i})", _dense, dense_layer_params, DENSE_PARAMS_MISTAKES
        )
        for i in (1, 2, 3)
    ),
    "separable_block": (
        block_case(
            "hidden: random shape, width and stride",
            check_separable_block,
            random_separable_inputs,
            expected=separable_expected,
        ),
        block_case(
            "hidden: another random shape, width and stride",
            check_separable_block,
            random_separable_inputs,
            expected=separable_expected,
        ),
        block_case(
            "hidden: one input channel",
            check_separable_block,
            {"input_shape": (5, 5, 1), "filters": 3, "strides": 1},
            expected=separable_expected,
        ),
    ),
    "resnext_block": (
        block_case(
            "hidden: random shape, cardinality and width",
            check_resnext_block,
            random_resnext_inputs,
            expected=resnext_expected,
        ),
        block_case(
            "hidden: another random configuration",
            check_resnext_block,
            random_resnext_inputs,
            expected=resnext_expected,
        ),
        block_case(
            "hidden: cardinality 1 (a ResNet bottleneck)",
            check_resnext_block,
            {"input_shape": (4, 6, 16), "cardinality": 1, "width": 8},
            expected=resnext_expected,
        ),
    ),
    "se_block": (
        block_case(
            "hidden: random shape and reduction",
            check_se_block,
            random_se_inputs,
            expected=se_expected,
        ),
        block_case(
            "hidden: another random shape and reduction",
            check_se_block,
            random_se_inputs,
            expected=se_expected,
        ),
        block_case(
            "hidden: channels not divisible by the reduction",
            check_se_block,
            {"input_shape": (3, 4, 37), "ratio": 8},
            expected=se_expected,
        ),
    ),
    "dense_block": (
        block_case(
            "hidden: random shape, depth and growth rate",
            check_dense_block,
            random_dense_inputs,
            expected=dense_expected,
        ),
        block_case(
            "hidden: another random configuration",
            check_dense_block,
            random_dense_inputs,
            expected=dense_expected,
        ),
        block_case(
            "hidden: one layer, one input channel",
            check_dense_block,
            {"input_shape": (4, 4, 1), "num_layers": 1, "growth_rate": 3},
            expected=dense_expected,
        ),
    ),
    "transition_layer": (
        block_case(
            "hidden: random shape and compression",
            check_transition,
            random_transition_inputs,
            expected=transition_expected,
        ),
        block_case(
            "hidden: odd channels, compression 0.5 (rounds down)",
            check_transition,
            {"input_shape": (6, 9, 9), "compression": 0.5},
            expected=transition_expected,
        ),
    ),
    "transfer_model": (
        block_case(
            "hidden: random input shape, classes and depth",
            check_transfer_model,
            random_transfer_inputs,
            expected=transfer_expected,
        ),
        block_case(
            "hidden: fine-tune every convolution",
            check_transfer_model,
            {"input_shape": (16, 16, 3), "num_classes": 2, "trainable_top": 4},
            expected=transfer_expected,
        ),
    ),
}
