"""Questions of lab 06 (batch normalization): the training and inference transforms,
the moving-average update and folding BN into a convolution.

The public cases' expected outputs are data (`cnnlabs/checks/expected/06_batchnorm.json`,
generated from `autograder/references/lab06_batchnorm.py`, which never ships to
students); `labs/hidden/06_batchnorm.py` adds hidden cases (other shapes, epsilons
and momenta, edge cases) on the grading side.

Reference: Ioffe & Szegedy, "Batch Normalization: Accelerating Deep Network Training
by Reducing Internal Covariate Shift", ICML 2015 (Algorithms 1 and 2).
"""

from __future__ import annotations

import numpy as np

from cnnlabs.checks.apirules import NUMPY_ONLY_RULE
from cnnlabs.checks.plain import compare
from cnnlabs.checks.spec import Case, Question
from cnnlabs.checks.stored import STORED, with_stored


def bn_inputs(shape, eps=None, offset=3.0):
    """inputs(rng) for batchnorm_train: channels with different means and scales."""

    def inputs(rng):
        channels = shape[-1]
        x = rng.normal(size=shape) * rng.uniform(0.5, 3.0, channels) + rng.uniform(
            -offset, offset, channels
        )
        out = {"x": x, "gamma": rng.uniform(0.5, 2.0, channels), "beta": rng.normal(size=channels)}
        if eps is not None:
            out["eps"] = eps
        return out

    return inputs


def check_bn_train(expected, received):
    """Compares (y, mean, var) part by part, naming the part that is wrong."""
    if not isinstance(received, (list, tuple)) or len(received) != 3:
        return (
            f"Expected a tuple (y, mean, var) of 3 arrays, got {type(received).__name__}"
            + (f" of length {len(received)}" if isinstance(received, (list, tuple)) else "")
            + ". End with `return y, mean, var`."
        )
    y, mean, var = (np.asarray(part, dtype="float64") for part in received)
    e_y, e_mean, e_var = (np.asarray(part) for part in expected)
    if mean.shape != e_mean.shape:
        return (
            f"mean has shape {mean.shape}, expected {e_mean.shape}: one value per channel. "
            "Reduce over every axis except the last: axis=tuple(range(x.ndim - 1))."
        )
    if var.shape == e_var.shape and not np.allclose(var, e_var, rtol=1e-5) and np.allclose(
        var, e_var * _bessel(expected), rtol=1e-5
    ):
        return (
            "var is the unbiased variance (divided by m - 1). Keras and Algorithm 1 divide "
            "by m: use x.var(axis=...) or ((x - mean) ** 2).mean(axis=...)."
        )
    for name, got, want in (("mean", mean, e_mean), ("var", var, e_var), ("y", y, e_y)):
        message = compare(want, got, rtol=1e-5, atol=1e-6, where=name)
        if message:
            if name == "y" and y.shape == e_y.shape and np.allclose(y, e_y, rtol=1e-2, atol=1e-2):
                message += " (close: check eps, it goes inside the square root: sqrt(var + eps))"
            return message
    return None


def _bessel(expected):
    y = np.asarray(expected[0])
    m = y.size // y.shape[-1]
    return m / (m - 1)


def check_tuple_of_two(expected, received):
    """Compares (kernel, bias)."""
    if not isinstance(received, (list, tuple)) or len(received) != 2:
        return (
            f"Expected a tuple (folded_kernel, folded_bias), got {type(received).__name__}. "
            "End with `return folded_kernel, folded_bias`."
        )
    for name, got, want in zip(("folded_kernel", "folded_bias"), received, expected):
        got = np.asarray(got, dtype="float64")
        want = np.asarray(want)
        if got.shape != want.shape:
            return (
                f"{name} has shape {got.shape}, expected {want.shape}. The scale has one value "
                "per output channel, the last axis of the kernel: kernel * scale broadcasts."
            )
        message = compare(want, got, rtol=1e-5, atol=1e-6, where=name)
        if message:
            return message
    return None


def fold_inputs(kernel_size, in_channels, out_channels, with_bias=True):
    def inputs(rng):
        return {
            "kernel": rng.normal(size=(kernel_size, kernel_size, in_channels, out_channels)),
            "bias": rng.normal(size=out_channels) if with_bias else np.zeros(out_channels),
            "gamma": rng.uniform(0.5, 2.0, out_channels),
            "beta": rng.normal(size=out_channels),
            "moving_mean": rng.normal(size=out_channels),
            "moving_var": rng.uniform(0.1, 4.0, out_channels),
        }

    return inputs


QUESTIONS = with_stored("06_batchnorm", (
    Question(
        id="batchnorm_train",
        api=NUMPY_ONLY_RULE,
        points=3,
        answer="batchnorm_train",
        kind="function",
        title="Batch normalization in training mode (Algorithm 1)",
        public=(
            Case(
                name="a dense layer's output: (16, 5)",
                inputs=bn_inputs((16, 5)),
                expected=STORED,
                check=check_bn_train,
                hint="Normalize each column (channel) with its own mean and variance over the "
                "batch, then y = gamma * x_hat + beta.",
            ),
            Case(
                name="a convolution's output: (4, 6, 6, 3)",
                inputs=bn_inputs((4, 6, 6, 3)),
                expected=STORED,
                check=check_bn_train,
                hint="For images the statistics run over batch, height and width: "
                "axis=(0, 1, 2), i.e. every axis but the channels.",
            ),
            Case(
                name="eps=0.1 on (8, 3)",
                inputs=bn_inputs((8, 3), eps=0.1),
                expected=STORED,
                check=check_bn_train,
                hint="Use the eps argument, not a constant: x_hat = (x - mean) / sqrt(var + eps).",
            ),
        ),
    ),
    Question(
        id="batchnorm_inference",
        api=NUMPY_ONLY_RULE,
        points=2,
        answer="batchnorm_inference",
        kind="function",
        title="Batch normalization in inference mode",
        public=(
            Case(
                name="(3, 4, 4, 2) with given statistics",
                inputs=lambda rng: {
                    "x": rng.normal(size=(3, 4, 4, 2)) * 2 + 1,
                    "gamma": rng.uniform(0.5, 2.0, 2),
                    "beta": rng.normal(size=2),
                    "moving_mean": rng.normal(size=2),
                    "moving_var": rng.uniform(0.5, 3.0, 2),
                },
                expected=STORED,
                hint="Use moving_mean and moving_var, not the statistics of x: "
                "gamma * (x - moving_mean) / sqrt(moving_var + eps) + beta.",
            ),
            Case(
                name="a single example (1, 5): no batch statistics needed",
                inputs=lambda rng: {
                    "x": rng.normal(size=(1, 5)),
                    "gamma": rng.uniform(0.5, 2.0, 5),
                    "beta": rng.normal(size=5),
                    "moving_mean": rng.normal(size=5),
                    "moving_var": rng.uniform(0.5, 3.0, 5),
                    "eps": 1e-5,
                },
                expected=STORED,
                hint="With one example the batch variance is 0: inference must not depend on "
                "the batch at all. Use the eps argument too.",
            ),
        ),
    ),
    Question(
        id="update_moving_average",
        api=NUMPY_ONLY_RULE,
        points=1,
        answer="update_moving_average",
        kind="function",
        title="The moving-average update (Keras's momentum convention)",
        public=(
            Case(
                name="momentum 0.99 (the Keras default)",
                inputs=lambda rng: {"moving": rng.normal(size=4), "batch_value": rng.normal(size=4)},
                expected=STORED,
                hint="Keras keeps momentum of the OLD average: "
                "momentum * moving + (1 - momentum) * batch_value.",
            ),
            Case(
                name="momentum 0.9",
                inputs=lambda rng: {"moving": rng.normal(size=3), "batch_value": rng.normal(size=3),
                                    "momentum": 0.9},
                expected=STORED,
                hint="Use the momentum argument rather than a constant 0.99.",
            ),
        ),
    ),
    Question(
        id="fold_batchnorm",
        api=NUMPY_ONLY_RULE,
        points=2,
        answer="fold_batchnorm",
        kind="function",
        title="Folding batch normalization into a convolution",
        public=(
            Case(
                name="3x3 kernel, 2 -> 4 channels, with bias",
                inputs=fold_inputs(3, 2, 4),
                expected=STORED,
                check=check_tuple_of_two,
                hint="scale = gamma / sqrt(moving_var + eps); the kernel's output channel o is "
                "multiplied by scale[o]; bias becomes (bias - moving_mean) * scale + beta.",
            ),
            Case(
                name="1x1 kernel, 3 -> 2 channels, zero bias",
                inputs=fold_inputs(1, 3, 2, with_bias=False),
                expected=STORED,
                check=check_tuple_of_two,
                hint="Even without a bias the folded bias is not zero: "
                "beta - moving_mean * scale.",
            ),
        ),
    ),
))
