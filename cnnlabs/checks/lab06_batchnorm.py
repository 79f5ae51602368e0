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
from cnnlabs.checks.manual import ManualQuestion
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


# Precision. The exercises may compute in float64 or in float32 (what Keras's own layer
# does): a float32 result differs from the float64 reference by rounding that grows
# with how far the inputs lie from 0 in units of their standard deviation. The
# tolerances below allow a few times what keras.layers.BatchNormalization reaches in
# float32 (measured: |y error| <= 1.9 eps32 * reach * max(1, |y|), |mean error| <= 13
# eps32 * |mean|, var relative error <= 0.4 eps32 * reach, eps32 = 1.2e-7) and no more,
# so a wrong eps or a wrong divisor still fails.
EPS32 = float(np.finfo(np.float32).eps)


def _reach(mean, var):
    """How many standard deviations of the narrowest channel the largest input spans."""
    std = np.sqrt(np.maximum(np.asarray(var, dtype="float64"), 0.0))
    spread = float(np.max(np.abs(mean) + 4 * std)) if std.size else 0.0
    positive = std[std > 0]
    return spread / max(float(positive.min()) if positive.size else 1.0, 1e-3)


def _tolerances(e_y, e_mean, e_var):
    reach = _reach(e_mean, e_var)
    scale = max(1.0, float(np.max(np.abs(e_y)))) if e_y.size else 1.0
    return {
        "mean": (1e-5, max(1e-6, 64 * EPS32 * float(np.max(np.abs(e_mean), initial=0.0)))),
        "var": (max(1e-5, 4 * EPS32 * reach), 1e-6),
        "y": (1e-5, max(1e-6, 8 * EPS32 * reach * scale)),
    }


def _close(got, want, rtol, atol):
    return (
        want is not None
        and got.shape == np.shape(want)
        and np.allclose(got, np.asarray(want, dtype="float64"), rtol=rtol, atol=atol)
    )


def _eps_mistake(y, expected, rtol, atol, where="x_hat"):
    """The message for a y computed with no eps or with the default eps; None otherwise."""
    if _close(y, expected.get("y_without_eps"), rtol, atol):
        return (
            f"y is right except for eps: it is missing. Add eps inside the square root: "
            f"{where} = ... / sqrt(var + eps)."
        )
    if _close(y, expected.get("y_default_eps"), rtol, atol):
        return (
            f"y was computed with eps=1e-3, but this case passes eps={expected['eps']}: use "
            "the eps argument, not a constant."
        )
    return None


def constant_channel_inputs(rng):
    """inputs(rng) for batchnorm_train with a dead channel (variance 0)."""
    x = rng.normal(size=(6, 3, 3, 2))
    x[..., 1] = 4.0  # eps keeps the division finite
    return {"x": x, "gamma": rng.uniform(0.5, 2.0, 2), "beta": rng.normal(size=2)}


def check_bn_train(expected, received):
    """Compares (y, mean, var) part by part, naming the part that is wrong."""
    if not isinstance(received, (list, tuple)) or len(received) != 3:
        return (
            f"Expected a tuple (y, mean, var) of 3 arrays, got {type(received).__name__}"
            + (f" of length {len(received)}" if isinstance(received, (list, tuple)) else "")
            + ". End with `return y, mean, var`."
        )
    y, mean, var = (np.asarray(part, dtype="float64") for part in received)
    e_y, e_mean, e_var = (np.asarray(expected[k], dtype="float64") for k in ("y", "mean", "var"))
    tol = _tolerances(e_y, e_mean, e_var)
    if mean.shape != e_mean.shape:
        return (
            f"mean has shape {mean.shape}, expected {e_mean.shape}: one value per channel. "
            "Reduce over every axis except the last: axis=tuple(range(x.ndim - 1))."
        )
    if _close(var, e_var * _bessel(e_y), *tol["var"]) and not _close(var, e_var, *tol["var"]):
        return (
            "var is the unbiased variance (divided by m - 1). Keras and Algorithm 1 divide "
            "by m: use x.var(axis=...) or ((x - mean) ** 2).mean(axis=...)."
        )
    if y.shape == e_y.shape and not np.all(np.isfinite(y)) and np.all(np.isfinite(e_y)):
        return (
            "y contains NaN or inf: a channel whose values are all equal has variance 0, "
            "and dividing by sqrt(0) fails. Add eps inside the square root: "
            "sqrt(var + eps)."
        )
    for name, got, want in (("mean", mean, e_mean), ("var", var, e_var), ("y", y, e_y)):
        message = compare(want, got, *tol[name], where=name)
        if message:
            return (_eps_mistake(got, expected, *tol["y"]) if name == "y" else None) or message
    return None


def backward_inputs(shape, eps=None, offset=2.0):
    """inputs(rng) for batchnorm_backward: x as for batchnorm_train and a gradient grad_y."""

    def inputs(rng):
        base = bn_inputs(shape, eps, offset)(rng)
        out = {"x": base["x"], "gamma": base["gamma"], "grad_y": rng.normal(size=shape)}
        if eps is not None:
            out["eps"] = eps
        return out

    return inputs


def check_bn_backward(expected, received):
    """Compares (grad_x, grad_gamma, grad_beta), naming the statistics treated as constants."""
    if not isinstance(received, (list, tuple)) or len(received) != 3:
        return (
            f"Expected a tuple (grad_x, grad_gamma, grad_beta) of 3 arrays, got "
            f"{type(received).__name__}"
            + (f" of length {len(received)}" if isinstance(received, (list, tuple)) else "")
            + ". End with `return grad_x, grad_gamma, grad_beta`."
        )
    names = ("grad_x", "grad_gamma", "grad_beta")
    parts = dict(zip(names, (np.asarray(p, dtype="float64") for p in received)))
    for name in names:
        want = np.asarray(expected[name], dtype="float64")
        atol = max(1e-6, 1e-5 * float(np.max(np.abs(want), initial=0.0)))
        if name == "grad_x" and _close(
            parts[name], expected.get("grad_x_constant_statistics"), 1e-5, atol
        ):
            return (
                "grad_x is gamma * grad_y / sqrt(var + eps): it treats the batch mean and "
                "variance as constants. They depend on every x_i: add the terms through "
                "dl/dvar and dl/dmean (Section 3)."
            )
        message = compare(want, parts[name], 1e-5, atol, where=name)
        if message:
            return message
    return None


def check_bn_inference(expected, received):
    """Compares y, naming a missing or constant eps and the batch-statistics mistake."""
    e_y = np.asarray(expected["y"], dtype="float64")
    try:
        y = np.asarray(received, dtype="float64")
    except (TypeError, ValueError):
        return f"Expected an array of the shape of x, got {type(received).__name__}."
    if y.shape == e_y.shape:
        rtol, atol = 1e-5, max(1e-6, 16 * EPS32 * max(1.0, float(np.max(np.abs(e_y)))))
        if np.allclose(y, e_y, rtol=rtol, atol=atol):
            return None
        if _close(y, expected.get("y_batch_statistics"), rtol, atol):
            return (
                "y is normalized with the mean and variance of x (the batch). At inference "
                "use the given moving_mean and moving_var, so that the output for one "
                "example does not depend on the rest of its batch."
            )
        mistake = _eps_mistake(y, expected, rtol, atol, where="y")
        if mistake:
            return mistake
        return compare(e_y, y, rtol, atol, where="y")
    return compare(e_y, y, where="y")


def _bessel(y):
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


QUESTIONS = with_stored(
    "06_batchnorm",
    (
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
                    hint="Normalize each column (channel) with its own mean and biased variance "
                    "over the batch, x_hat = (x - mean) / sqrt(var + eps), then "
                    "y = gamma * x_hat + beta.",
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
                    hint="This case passes eps=0.1: x_hat = (x - mean) / sqrt(var + eps) with the "
                    "eps argument.",
                ),
                Case(
                    name="large offsets: channel means up to 200, far from their spread",
                    inputs=bn_inputs((16, 4, 4, 3), offset=200.0),
                    expected=STORED,
                    check=check_bn_train,
                    hint="float32 or float64 both pass; subtract the mean before squaring "
                    "(E[x^2] - E[x]^2 loses the digits of the variance when the mean is large).",
                ),
                Case(
                    name="a constant channel (variance 0)",
                    inputs=constant_channel_inputs,
                    expected=STORED,
                    check=check_bn_train,
                    hint="A channel whose values are all equal has variance 0: eps inside the square "
                    "root keeps the division finite, and x_hat is 0 there.",
                ),
            ),
        ),
        Question(
            id="batchnorm_backward",
            api=NUMPY_ONLY_RULE,
            points=3,
            answer="batchnorm_backward",
            kind="function",
            title="The backward pass of batch normalization (Section 3)",
            public=(
                Case(
                    name="a dense layer's output: (16, 4)",
                    inputs=backward_inputs((16, 4)),
                    expected=STORED,
                    check=check_bn_backward,
                    hint="grad_beta = sum(grad_y), grad_gamma = sum(grad_y * x_hat) over every "
                    "axis but the channels; grad_x follows the paper's chain rule through x_hat, "
                    "var and mean.",
                ),
                Case(
                    name="a convolution's output: (4, 5, 5, 3)",
                    inputs=backward_inputs((4, 5, 5, 3)),
                    expected=STORED,
                    check=check_bn_backward,
                    hint="For images m = batch * height * width: the sums and means run over "
                    "axes (0, 1, 2).",
                ),
                Case(
                    name="eps=0.1 on (8, 3)",
                    inputs=backward_inputs((8, 3), eps=0.1),
                    expected=STORED,
                    check=check_bn_backward,
                    hint="This case passes eps=0.1: sqrt(var + eps) with the eps argument.",
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
                    check=check_bn_inference,
                    hint="y = gamma * (x - moving_mean) / sqrt(moving_var + eps) + beta, with the "
                    "given statistics and the eps argument.",
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
                    check=check_bn_inference,
                    hint="With one example the batch variance is 0: inference must not depend on "
                    "the batch at all, only on the given statistics (and this case passes eps=1e-5).",
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
                    inputs=lambda rng: {
                        "moving": rng.normal(size=4),
                        "batch_value": rng.normal(size=4),
                    },
                    expected=STORED,
                    hint="Keras keeps momentum of the OLD average: "
                    "momentum * moving + (1 - momentum) * batch_value.",
                ),
                Case(
                    name="momentum 0.9",
                    inputs=lambda rng: {
                        "moving": rng.normal(size=3),
                        "batch_value": rng.normal(size=3),
                        "momentum": 0.9,
                    },
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
                Case(
                    name="eps=1e-5, 3x3 kernel, 4 -> 3 channels",
                    inputs=lambda rng: {**fold_inputs(3, 4, 3)(rng), "eps": 1e-5},
                    expected=STORED,
                    check=check_tuple_of_two,
                    hint="This case passes eps=1e-5: scale = gamma / sqrt(moving_var + eps) with the "
                    "eps argument.",
                ),
            ),
        ),
    ),
)

# The reflection questions, graded by a TA: `cnnlabs grade` collects the answers
# (autograder/manual.py); the model answers stay in the lab source's solution cells.
MANUAL = (
    ManualQuestion(id="bn_learning_rate", points=1, title="Learning rates with and without BN"),
    ManualQuestion(id="test_time_statistics", points=1, title="The statistics used at test time"),
    ManualQuestion(id="fold_bn_training", points=1, title="Folding BN during training"),
)
