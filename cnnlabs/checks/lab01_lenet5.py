"""Questions of lab 01 (LeNet-5): convolution by hand, output sizes, the model, sharing.

The public cases run in the student's check cells against stored expected outputs
(`cnnlabs/checks/expected/01_lenet5.json`, generated from
`autograder/references/lab01_lenet5.py`, which never ships to students);
`labs/hidden/01_lenet5.py` adds hidden cases (other shapes, strides, class counts)
on the grading side.

Reference: LeCun et al., "Gradient-based learning applied to document recognition",
Proc. IEEE 1998.
"""

from __future__ import annotations

import numpy as np

from cnnlabs.checks.apirules import ARITHMETIC_RULE, NUMPY_ONLY_RULE, OWN_MODEL_RULE
from cnnlabs.checks.counts import count_case
from cnnlabs.checks.manual import ManualQuestion
from cnnlabs.checks.spec import Case, Question
from cnnlabs.checks.stored import STORED, with_stored


def conv_inputs(batch, size, kernel, in_channels, out_channels, stride=1, width=None):
    """An `inputs(rng)` for conv2d_by_hand: normal images and kernels of the given shapes."""

    def inputs(rng):
        return {
            "x": rng.normal(size=(batch, size, width or size, in_channels)),
            "w": rng.normal(size=(kernel, kernel, in_channels, out_channels)),
            "stride": stride,
        }

    return inputs


def check_lenet5(expected, model):
    """Checks a rebuilt LeNet-5: layers in order, output, parameters. None when right."""
    import keras

    input_shape, num_classes = expected["input_shape"], expected["num_classes"]
    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    convs = [layer for layer in layers if isinstance(layer, keras.layers.Conv2D)]
    pools = [layer for layer in layers
             if isinstance(layer, (keras.layers.AveragePooling2D, keras.layers.MaxPooling2D))]
    found = ", ".join(f"{layer.name} ({type(layer).__name__})" for layer in layers)
    if tuple(model.input_shape[1:]) != tuple(input_shape):
        return (
            f"The model's input shape is {tuple(model.input_shape[1:])}, expected "
            f"{tuple(input_shape)}. Use keras.Input(shape=input_shape)."
        )
    if tuple(model.output_shape) != (None, num_classes):
        return (
            f"The model's output shape is {model.output_shape}, expected (None, {num_classes}): "
            "one probability per class. End with Flatten, Dense(84) and Dense(num_classes)."
        )
    if len(convs) < 2 or [c.filters for c in convs[:2]] != [6, 16]:
        return (
            f"Expected convolutions C1 with 6 filters and C3 with 16 filters (then C5 with 120); "
            f"found Conv2D layers with {[c.filters for c in convs]} filters. Layers: {found}."
        )
    if any(tuple(c.kernel_size) != (5, 5) for c in convs):
        return (
            f"Every convolution of LeNet-5 uses 5x5 kernels; found kernel sizes "
            f"{[tuple(c.kernel_size) for c in convs]}."
        )
    if any(c.padding != "valid" for c in convs):
        return "LeNet-5's convolutions use no padding (padding='valid', the Keras default)."
    if len(pools) != 2 or not all(isinstance(p, keras.layers.AveragePooling2D) for p in pools):
        return (
            f"Expected two AveragePooling2D layers (S2 and S4, 2x2 with stride 2, the paper's "
            f"subsampling); found {[type(p).__name__ for p in pools]}."
        )
    if any(tuple(p.pool_size) != (2, 2) or tuple(p.strides) != (2, 2) for p in pools):
        return "S2 and S4 pool 2x2 windows with stride 2: layers.AveragePooling2D(2)."
    hidden = [layer for layer in layers[:-1] if isinstance(layer, (keras.layers.Conv2D, keras.layers.Dense))]
    linear = [layer.name for layer in hidden
              if getattr(layer.activation, "__name__", "") == "linear"]
    extra_activations = [layer for layer in layers if isinstance(layer, keras.layers.Activation)]
    if linear and len(extra_activations) < len(linear):
        return (
            f"The layers {', '.join(linear)} have no activation, so the network is linear between "
            "them. LeNet-5 applies tanh after C1, C3, C5 and F6: activation='tanh'."
        )
    probabilities = np.asarray(model(np.zeros((2, *input_shape), dtype="float32")))
    if not np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-3):
        return (
            "The outputs do not sum to 1 over the classes. The output layer needs "
            "activation='softmax' so that the model returns class probabilities."
        )
    params = model.count_params()
    if params != expected["params"]:
        per_layer = ", ".join(f"{layer.name} {layer.count_params():,}" for layer in layers
                              if layer.count_params())
        return (
            f"The model has {params:,} parameters, expected {expected['params']:,} "
            f"(C1 156, C3 2,416, C5 48,120, F6 10,164, output 850 for 32x32x1 and 10 classes). "
            f"Yours: {per_layer}."
        )
    return None


def lenet5_case(name, input_shape=(32, 32, 1), num_classes=10, hint="", expected=STORED):
    """A model case: build with these arguments, compare with LeNet-5's structure."""
    return Case(
        name=name,
        inputs=lambda rng: {"input_shape": input_shape, "num_classes": num_classes},
        expected=expected,
        check=check_lenet5,
        hint=hint,
    )


# Recognised wrong counts (the right formulas live in autograder/references/lab01_lenet5.py).
CONV_PARAMS_MISTAKES = (
    (lambda k, c_in, c_out: k * k * c_in * c_out,
     "those are the weights; add one bias per output channel (c_out)."),
    (lambda k, c_in, c_out: (k * k + 1) * c_out,
     "a kernel spans all c_in input channels: k * k * c_in weights each."),
    (lambda k, c_in, c_out: k * k * c_in + 1,
     "that is one kernel; there are c_out of them."),
)
CONV_CONNECTIONS_MISTAKES = (
    (lambda out_size, k, c_in, c_out: out_size * out_size * c_out * k * k * c_in,
     "the paper counts the bias as one more connection of every output unit."),
    (lambda out_size, k, c_in, c_out: (k * k * c_in + 1) * c_out,
     "those are the parameters; every one of the out_size x out_size positions uses them."),
)
DENSE_PARAMS_MISTAKES = (
    (lambda n_in, n_out: n_in * n_out, "those are the weights; add one bias per output."),
    (lambda n_in, n_out: (n_out + 1) * n_in, "the bias belongs to each output, not each input."),
)


QUESTIONS = (
    Question(
        id="conv2d_by_hand",
        points=3,
        answer="conv2d_by_hand",
        kind="function",
        title="A 2-D convolution by hand",
        api=NUMPY_ONLY_RULE,
        public=(
            Case(
                name="one 3x3 kernel on a 5x5 single-channel image",
                inputs=conv_inputs(1, 5, 3, 1, 1),
                expected=STORED,
                rtol=1e-4,
                atol=1e-4,
                hint="Slide the kernel over every valid position: the output is 3x3.",
            ),
            Case(
                name="3x3 kernels, 2 input and 3 output channels, batch of 2",
                inputs=conv_inputs(2, 6, 3, 2, 3),
                expected=STORED,
                rtol=1e-4,
                atol=1e-4,
                hint="Sum over the input channels too, and compute every output channel "
                "with its own kernel w[:, :, :, o].",
            ),
            Case(
                name="5x5 kernels with stride 2 on a 9x9 image",
                inputs=conv_inputs(1, 9, 5, 2, 2, stride=2),
                expected=STORED,
                rtol=1e-4,
                atol=1e-4,
                hint="With stride s the output pixel (i, j) starts at input pixel (i*s, j*s); "
                "the output is 3x3.",
            ),
        ),
    ),
    Question(
        id="output_size",
        points=1,
        answer="output_size",
        kind="function",
        title="Output size of a convolution",
        api=ARITHMETIC_RULE,
        public=(
            Case(
                name="LeNet-5's C1: 32 pixels, 5x5 kernel",
                inputs=lambda rng: {"n": 32, "k": 5},
                expected=STORED,
                hint="Without padding a k-pixel kernel fits n - k + 1 times.",
            ),
            Case(
                name="a 2x2 pooling with stride 2 on 28 pixels",
                inputs=lambda rng: {"n": 28, "k": 2, "stride": 2},
                expected=STORED,
                hint="Divide the positions by the stride: floor((n - k) / s) + 1.",
            ),
            Case(
                name="AlexNet's conv1: 227 pixels, 11x11, stride 4",
                inputs=lambda rng: {"n": 227, "k": 11, "stride": 4},
                expected=STORED,
                hint="Use integer division (//) so that the result is a whole number of pixels.",
            ),
            Case(
                name="a 3x3 convolution with 1 pixel of padding",
                inputs=lambda rng: {"n": 14, "k": 3, "stride": 1, "padding": 1},
                expected=STORED,
                hint="The padding is added on both sides: n + 2p.",
            ),
        ),
    ),
    Question(
        id="build_lenet5",
        points=3,
        answer="build_lenet5",
        kind="model",
        title="LeNet-5 in Keras",
        api=OWN_MODEL_RULE,
        public=(
            lenet5_case(
                "LeNet-5 for 32x32x1 images and 10 classes",
                hint="C1-S2-C3-S4-C5-F6-output; see the table above Exercise 3.",
            ),
        ),
    ),
    Question(
        id="conv_params",
        points=1,
        answer="conv_params",
        kind="function",
        title="Parameters of a convolution",
        api=ARITHMETIC_RULE,
        public=(
            count_case("C1: 5x5 kernels, 1 -> 6 channels", {"k": 5, "c_in": 1, "c_out": 6},
                       mistakes=CONV_PARAMS_MISTAKES,
                       hint="Each of the c_out kernels has k x k x c_in weights and one bias."),
            count_case("C3: 5x5 kernels, 6 -> 16 channels", {"k": 5, "c_in": 6, "c_out": 16},
                       mistakes=CONV_PARAMS_MISTAKES,
                       hint="A kernel spans all c_in input channels: k * k * c_in weights."),
        ),
    ),
    Question(
        id="conv_connections",
        points=1,
        answer="conv_connections",
        kind="function",
        title="Connections of a convolution",
        api=ARITHMETIC_RULE,
        public=(
            count_case("C1 on a 32x32 image: 28x28 outputs, 5x5, 1 -> 6 channels",
                       {"out_size": 28, "k": 5, "c_in": 1, "c_out": 6},
                       mistakes=CONV_CONNECTIONS_MISTAKES,
                       hint="Every one of the out_size x out_size x c_out output units uses "
                       "k x k x c_in weights and a bias."),
            count_case("C3: 10x10 outputs, 5x5, 6 -> 16 channels",
                       {"out_size": 10, "k": 5, "c_in": 6, "c_out": 16},
                       mistakes=CONV_CONNECTIONS_MISTAKES,
                       hint="Use c_in: each output unit sees a k x k patch of every input map."),
        ),
    ),
    Question(
        id="dense_params",
        points=1,
        answer="dense_params",
        kind="function",
        title="Parameters of a dense layer",
        api=ARITHMETIC_RULE,
        public=(
            count_case("32x32 inputs to 28x28x6 outputs", {"n_in": 32 * 32, "n_out": 28 * 28 * 6},
                       mistakes=DENSE_PARAMS_MISTAKES,
                       hint="Every output has a weight for each input, plus a bias."),
            count_case("120 inputs to 84 outputs (F6)", {"n_in": 120, "n_out": 84},
                       mistakes=DENSE_PARAMS_MISTAKES,
                       hint="Biases count too: one per output unit."),
        ),
    ),
)

# The public cases marked STORED read their expected outputs from cnnlabs/checks/expected.
QUESTIONS = with_stored("01_lenet5", QUESTIONS)

# The reflection questions, graded by a TA: `cnnlabs grade` collects the answers
# (autograder/manual.py); the model answers stay in the lab source's solution cells.
MANUAL = (
    ManualQuestion(id="sigmoid_start", points=1, title="Why the sigmoid variant starts slowly"),
    ManualQuestion(id="c5_as_dense", points=1, title="C5: a convolution that acts as a dense layer"),
    ManualQuestion(id="dense_c1_overfit", points=1, title="What goes wrong with a dense C1"),
)
