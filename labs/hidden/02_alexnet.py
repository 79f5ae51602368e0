"""Hidden cases of lab 02 (AlexNet). Grading side only: never copied into a notebook.

Other channel counts and windows for LRN (randomized constants), other rates and
shapes for dropout.
"""

from autograder.references.lab02_alexnet import (
    conv_macs,
    conv_output_shape,
    conv_params,
    reference_lrn,
)
from cnnlabs.checks.counts import count_case
from cnnlabs.checks.lab02_alexnet import (
    CONV_MACS_MISTAKES,
    CONV_PARAMS_MISTAKES,
    check_shape,
    dropout_case,
    lrn_inputs,
)
from cnnlabs.checks.spec import Case


def _random_lrn(rng):
    channels = int(rng.integers(1, 20))
    n = int(rng.choice([1, 3, 5, 7]))
    inputs = lrn_inputs(int(rng.integers(1, 3)), int(rng.integers(1, 5)), channels,
                        scale=float(rng.uniform(0.5, 20.0)))(rng)
    inputs.update(n=n, k=float(rng.uniform(0.5, 3.0)), alpha=float(rng.uniform(1e-4, 1.0)),
                  beta=float(rng.uniform(0.5, 1.0)))
    return inputs


def _random_layer(rng):
    return {"out_size": int(rng.integers(1, 64)), "k": int(rng.integers(1, 12)),
            "c_in": int(rng.integers(1, 513)), "c_out": int(rng.integers(1, 513))}


def _random_params(rng):
    inputs = _random_layer(rng)
    del inputs["out_size"]
    return inputs


def _random_shape(rng):
    k, padding = int(rng.integers(1, 12)), int(rng.integers(0, 4))
    return {"size": int(rng.integers(max(1, k - 2 * padding), 300)), "k": k,
            "stride": int(rng.integers(1, 5)), "filters": int(rng.integers(1, 513)),
            "padding": padding}


HIDDEN = {
    "conv_output_shape": tuple(
        Case(name=f"hidden: random size, kernel, stride, padding ({i})", inputs=_random_shape,
             expected=conv_output_shape, check=check_shape)
        for i in (1, 2, 3)
    ),
    "conv_params": tuple(
        count_case(f"hidden: random kernel and channels ({i})", _random_params, conv_params,
                   CONV_PARAMS_MISTAKES)
        for i in (1, 2, 3)
    ),
    "conv_macs": tuple(
        count_case(f"hidden: random output size, kernel and channels ({i})", _random_layer,
                   conv_macs, CONV_MACS_MISTAKES)
        for i in (1, 2, 3)
    ),
    "lrn": (
        Case(name="hidden: 96 channels with the paper's constants",
             inputs=lrn_inputs(1, 3, 96, scale=50.0), expected=reference_lrn,
             rtol=1e-4, atol=1e-6),
        Case(name="hidden: fewer channels (2) than the window (7)",
             inputs=lrn_inputs(2, 3, 2, n=7, alpha=0.8, scale=2.0), expected=reference_lrn,
             rtol=1e-4, atol=1e-6),
        Case(name="hidden: n=1 (each channel alone)",
             inputs=lrn_inputs(1, 2, 6, n=1, alpha=0.3, scale=3.0), expected=reference_lrn,
             rtol=1e-4, atol=1e-6),
        Case(name="hidden: random constants and shapes", inputs=_random_lrn,
             expected=reference_lrn, rtol=1e-4, atol=1e-6),
        Case(name="hidden: random constants and shapes, again", inputs=_random_lrn,
             expected=reference_lrn, rtol=1e-4, atol=1e-6),
    ),
    "dropout": (
        dropout_case("hidden: inference on a 3-D array", (4, 30, 30), 0.7, False),
        dropout_case("hidden: rate 0.7 on a 3-D array", (8, 40, 40), 0.7, True),
        dropout_case("hidden: rate 0.1", (200, 60), 0.1, True),
        dropout_case("hidden: rate 0 keeps everything", (30, 30), 0.0, True),
    ),
}
