"""Questions of lab 02 (AlexNet): conv1 by hand, parameter shares, LRN, pooling, dropout.

The public cases run in the student's check cells; `labs/hidden/02_alexnet.py` adds
hidden cases on the grading side.

Reference: Krizhevsky, Sutskever and Hinton, "ImageNet classification with deep
convolutional neural networks", NIPS 2012.
"""

from __future__ import annotations

import numpy as np

from cnnlabs.checks.apirules import ARITHMETIC_RULE, NUMPY_ONLY_RULE, ApiRule
from cnnlabs.checks.counts import count_case, value_case
from cnnlabs.checks.manual import ManualQuestion
from cnnlabs.checks.spec import Case, Question
from cnnlabs.checks.stored import STORED, with_stored


def lrn_inputs(batch, size, channels, scale=1.0, **constants):
    """An `inputs(rng)` for lrn: non-negative (ReLU-like) activations."""

    def inputs(rng):
        a = np.maximum(rng.normal(scale=scale, size=(batch, size, size, channels)), 0.0)
        return {"a": a, **constants}

    return inputs


def check_dropout(expected, received):
    """Checks one dropout output against the input it was given; None when right."""
    x, rate, training = np.asarray(expected["x"]), expected["rate"], expected["training"]
    received = np.asarray(received, dtype="float64")
    if received.shape != x.shape:
        return f"The output has shape {received.shape}, expected the input's shape {x.shape}."
    if not training:
        if np.allclose(received, x):
            return None
        return (
            "At inference (training=False) inverted dropout returns x unchanged: all units "
            "are used and nothing is scaled."
        )
    dropped = received == 0
    fraction = dropped.mean()
    tolerance = 5 * np.sqrt(rate * (1 - rate) / x.size) + 1e-9
    if abs(fraction - rate) > tolerance:
        return (
            f"{fraction:.1%} of the outputs are zero, expected about {rate:.0%} (rate={rate}). "
            "Drop each element independently with probability rate."
        )
    kept_ratio = received[~dropped] / x[~dropped]
    if np.allclose(kept_ratio, 1.0) and rate > 0:
        return (
            "The kept elements are unchanged. Inverted dropout divides them by (1 - rate) "
            "so that the expected output equals the input."
        )
    if not np.allclose(kept_ratio, 1.0 / (1.0 - rate), rtol=1e-5):
        return (
            f"The kept elements are x times {np.median(kept_ratio):.4g}, expected "
            f"x / (1 - rate) = x times {1 / (1 - rate):.4g}."
        )
    return None


def dropout_case(name, shape, rate, training, hint=""):
    def inputs(rng):
        return {"x": rng.uniform(0.5, 2.0, size=shape), "rate": rate, "training": training,
                "seed": int(rng.integers(0, 2**31))}

    return Case(
        name=name,
        inputs=inputs,
        expected=lambda x, rate, training, seed: {"x": x, "rate": rate, "training": training},
        check=check_dropout,
        hint=hint,
    )


def check_shape(expected, received):
    """Checks an output shape without printing the expected one; None when right."""
    if not isinstance(received, (tuple, list)) or len(received) != 3:
        return f"Expected a tuple (height, width, channels), got {received!r}."
    if any(isinstance(v, (float, np.floating)) for v in received):
        return (
            f"You returned {tuple(received)!r}: a size is a whole number of pixels. Use integer "
            "division (//), which rounds down when the stride does not divide size + 2p - k."
        )
    if tuple(received) == tuple(expected):
        return None
    height, width, channels = received
    if channels != expected[2]:
        return f"You returned {channels} channels: a convolution makes one map per kernel."
    if height != width:
        return f"Height {height} and width {width} differ: the input and kernel are square."
    if height == expected[0] - 1:
        return f"Height {height} is one short: count the first position too (+ 1)."
    return f"Height {height} is not the output size. Use floor((size + 2p - k) / s) + 1."


# Recognised wrong counts (the right formulas live in autograder/references/lab02_alexnet.py).
CONV_PARAMS_MISTAKES = (
    (lambda k, c_in, c_out: k * k * c_in * c_out,
     "those are the weights; add one bias per output channel (c_out)."),
    (lambda k, c_in, c_out: (k * k + 1) * c_out,
     "a kernel spans all c_in input channels: k * k * c_in weights each."),
)
CONV_MACS_MISTAKES = (
    (lambda out_size, k, c_in, c_out: out_size * out_size * c_out * (k * k * c_in + 1),
     "biases are additions, not multiply-accumulates; leave them out."),
    (lambda out_size, k, c_in, c_out: k * k * c_in * c_out,
     "that is per output position; multiply by out_size x out_size."),
)


# Recognised mistakes of the fixed values, told without the values.
SHARE_MISTAKES_FC = (
    (lambda r: r > 1, "that is a percentage; give the fraction between 0 and 1."),
    (lambda r: 0 <= r < 0.5, "fc6, fc7 and fc8 hold most of the parameters; that looks like the "
     "convolutions' share."),
)
SHARE_MISTAKES_CONV = (
    (lambda r: r > 1, "that is a percentage; give the fraction between 0 and 1."),
    (lambda r: 0 <= r < 0.5, "the convolutions do most of the multiply-accumulates; that looks "
     "like the FC layers' share."),
)
SIZE_MISTAKES = (
    (lambda r: not float(r).is_integer(), "a size is a whole number of pixels: round down."),
)

# The shares are read from the layer table of the notebook (cnnlabs.analysis):
# anything but the references and the grader.
TABLE_RULE = ApiRule(forbid=("cnnlabs.checks", "autograder"),
                     description="the layer table (anything but the references)")


QUESTIONS = (
    Question(
        id="conv_output_shape", points=1, answer="conv_output_shape", kind="function",
        title="Output shape of a convolution", api=ARITHMETIC_RULE,
        public=(
            Case(name="conv1: 96 kernels 11x11, stride 4, on 227x227",
                 inputs=lambda rng: {"size": 227, "k": 11, "stride": 4, "filters": 96},
                 expected=STORED, check=check_shape,
                 hint="Count the positions where the kernel fits along each axis; one map per kernel; "
                 "return (height, width, channels)."),
            Case(name="conv2 with padding: 27x27, 5x5, stride 1, padding 2, 256 kernels",
                 inputs=lambda rng: {"size": 27, "k": 5, "stride": 1, "filters": 256,
                                     "padding": 2},
                 expected=STORED, check=check_shape,
                 hint="The padding is added on both sides: size + 2 * padding."),
            Case(name="a stride that does not divide: 32x32, 5x5, stride 2, padding 1, 64 kernels",
                 inputs=lambda rng: {"size": 32, "k": 5, "stride": 2, "filters": 64,
                                     "padding": 1},
                 expected=STORED, check=check_shape,
                 hint="When the stride does not divide size + 2p - k, the window that would "
                 "stick out is left out: floor((size + 2p - k) / s) + 1, with //."),
        ),
    ),
    Question(
        id="conv_params", points=1, answer="conv_params", kind="function",
        title="Parameters of a convolution", api=ARITHMETIC_RULE,
        public=(
            count_case("conv1: 11x11 kernels, 3 -> 96 channels", {"k": 11, "c_in": 3, "c_out": 96},
                       mistakes=CONV_PARAMS_MISTAKES,
                       hint="Each of the c_out kernels has k x k x c_in weights and one bias."),
            count_case("conv3: 3x3 kernels, 256 -> 384 channels",
                       {"k": 3, "c_in": 256, "c_out": 384}, mistakes=CONV_PARAMS_MISTAKES,
                       hint="Use every argument: k, c_in and c_out."),
        ),
    ),
    Question(
        id="conv_macs", points=1, answer="conv_macs", kind="function",
        title="Multiply-accumulates of a convolution", api=ARITHMETIC_RULE,
        public=(
            count_case("conv1 for one image: 55x55 outputs, 11x11, 3 -> 96 channels",
                       {"out_size": 55, "k": 11, "c_in": 3, "c_out": 96},
                       mistakes=CONV_MACS_MISTAKES,
                       hint="One dot product of k x k x c_in MACs per output value, and there "
                       "are out_size x out_size x c_out output values; biases are not counted."),
            count_case("conv5: 13x13 outputs, 3x3, 384 -> 256 channels",
                       {"out_size": 13, "k": 3, "c_in": 384, "c_out": 256},
                       mistakes=CONV_MACS_MISTAKES, hint="Use every argument."),
        ),
    ),
    Question(
        id="fc_param_share", points=1, answer="fc_param_share", kind="value",
        api=TABLE_RULE,
        title="Share of the parameters in the FC layers",
        public=(value_case("fc6 + fc7 + fc8 over all parameters", "02_alexnet", "fc_param_share",
                           mistakes=SHARE_MISTAKES_FC, decimals=3,
                           hint="Sum row.params over the rows named fc6, fc7, fc8 and divide by "
                           "table.total_params; the answer is a fraction between 0 and 1."),),
    ),
    Question(
        id="conv_mac_share", points=1, answer="conv_mac_share", kind="value",
        api=TABLE_RULE,
        title="Share of the MACs in the convolutions",
        public=(value_case("conv1 ... conv5 over all MACs", "02_alexnet", "conv_mac_share",
                           mistakes=SHARE_MISTAKES_CONV, decimals=3,
                           hint="Sum row.macs over the rows named conv1 ... conv5 and divide by "
                           "table.total_macs; the answer is a fraction between 0 and 1."),),
    ),
    Question(
        id="lrn", points=3, answer="lrn", kind="function",
        title="Local response normalization",
        api=NUMPY_ONLY_RULE,
        public=(
            Case(name="the paper's constants on 8 channels", inputs=lrn_inputs(1, 3, 8, scale=30.0),
                 expected=STORED, rtol=1e-4, atol=1e-6,
                 hint="Divide by (k + alpha * sum of squares over the window) ** beta."),
            Case(name="alpha=0.5, n=5 on 7 channels: the window is clipped at the ends",
                 inputs=lrn_inputs(2, 2, 7, alpha=0.5, n=5), expected=STORED,
                 rtol=1e-4, atol=1e-6,
                 hint="The window of channel i runs from max(0, i - n//2) to "
                 "min(N - 1, i + n//2), inclusive; it includes channel i itself."),
            Case(name="n=3, k=1, alpha=1, beta=1 on 4 channels",
                 inputs=lrn_inputs(1, 2, 4, n=3, k=1.0, alpha=1.0, beta=1.0),
                 expected=STORED, rtol=1e-4, atol=1e-6,
                 hint="Use the arguments n, k, alpha and beta, not the paper's constants."),
            Case(name="3 channels, fewer than the window n=5",
                 inputs=lrn_inputs(2, 2, 3, alpha=1.0, scale=2.0), expected=STORED,
                 rtol=1e-4, atol=1e-6,
                 hint="With fewer channels than n, every window is clipped at both ends: "
                 "from max(0, i - n//2) to min(N - 1, i + n//2)."),
        ),
    ),
    Question(
        id="pool1_overlapping_size", points=0.5, answer="pool1_overlapping_size", kind="value",
        title="pool1 output size, 3x3 windows", api=ARITHMETIC_RULE,
        public=(value_case("3x3 windows, stride 2, on 55 pixels", "02_alexnet",
                           "pool1_overlapping_size", mistakes=SIZE_MISTAKES,
                           hint="The output-size formula holds for pooling windows too."),),
    ),
    Question(
        id="pool1_non_overlapping_size", points=0.5, answer="pool1_non_overlapping_size",
        kind="value", title="pool1 output size, 2x2 windows", api=ARITHMETIC_RULE,
        public=(value_case("2x2 windows, stride 2, on 55 pixels", "02_alexnet",
                           "pool1_non_overlapping_size", mistakes=SIZE_MISTAKES,
                           hint="A window must fit inside the map: when the last one does not, "
                           "that column is left out."),),
    ),
    Question(
        id="dropout", points=2, answer="dropout", kind="function",
        title="Inverted dropout",
        api=NUMPY_ONLY_RULE,
        public=(
            dropout_case("inference returns the input", (20, 50), 0.5, False,
                         hint="When training is False, return x itself."),
            dropout_case("training with rate 0.5 on 10,000 units", (100, 100), 0.5, True,
                         hint="Zero each element with probability rate, divide the others "
                         "by (1 - rate)."),
            dropout_case("training with rate 0.2", (50, 80), 0.2, True,
                         hint="Use the rate argument; kept elements are x / 0.8."),
            dropout_case("training with rate 0 on a 3-D array keeps everything", (4, 10, 10),
                         0.0, True,
                         hint="Work on any shape (x.shape), and with rate 0 keep every "
                         "element unchanged."),
        ),
    ),
)

# The public cases marked STORED read their expected outputs from cnnlabs/checks/expected.
QUESTIONS = with_stored("02_alexnet", QUESTIONS)

# The reflection questions, graded by a TA: `cnnlabs grade` collects the answers
# (autograder/manual.py); the model answers stay in the lab source's solution cells.
MANUAL = (
    ManualQuestion(id="shrink_fc6", points=1, title="Shrinking fc6"),
    ManualQuestion(id="relu_speedup_gap", points=1, title="Your tanh/ReLU ratio against the paper's 6x"),
    ManualQuestion(id="inverted_dropout", points=1, title="Why inverted dropout simplifies deployment"),
)
