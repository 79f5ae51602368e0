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


def check_conv(expected, received):
    """Checks a convolution's output; names a flipped or transposed kernel. None when right.

    ``expected``: ``{"output": array, "mistakes": [[array, message], ...]}``, the
    reference output and the outputs of recognised mistakes on the same inputs.
    """
    from cnnlabs.checks.plain import compare

    want = np.asarray(expected["output"], dtype="float64")
    message = compare(want, received, 1e-4, 1e-4)
    if message is None or "shape" in message:
        return message
    got = np.asarray(received, dtype="float64")
    for wrong, mistake in expected["mistakes"]:
        if np.allclose(got, np.asarray(wrong, dtype="float64"), rtol=1e-4, atol=1e-4):
            return mistake
    return message


# Recognised wrong convolutions: the kernel transformed before a correct cross-correlation.
CONV_MISTAKES = (
    (lambda w: w[::-1, ::-1],
     "Your output is the convolution with the kernel flipped (w[::-1, ::-1]): the textbook "
     "convolution. Deep learning layers compute a cross-correlation: multiply "
     "x[b, i*s + u, j*s + v, c] by w[u, v, c, o], without flipping the kernel."),
    (lambda w: np.transpose(w, (1, 0, 2, 3)),
     "Your output is the cross-correlation with the kernel's rows and columns swapped: "
     "w[u, v] multiplies the pixel u rows down and v columns to the right of the window's "
     "top-left corner (u along the height, v along the width)."),
)


def _lenet5_forward(x, kernels, activation, pooling):
    """LeNet-5's forward pass from its five (kernel, bias) pairs, in NumPy/TensorFlow ops."""
    import tensorflow as tf

    act = {"tanh": np.tanh, "relu": lambda v: np.maximum(v, 0.0),
           "sigmoid": lambda v: 1.0 / (1.0 + np.exp(-v)), "linear": lambda v: v}[activation]
    pool = tf.nn.avg_pool2d if pooling == "average" else tf.nn.max_pool2d
    (k1, b1), (k3, b3), (k5, b5), (k6, b6), (k7, b7) = kernels

    def conv(v, k, b):
        return tf.nn.conv2d(v, k, 1, "VALID").numpy() + b

    y = pool(act(conv(x, k1, b1)), 2, 2, "VALID").numpy()
    y = pool(act(conv(y, k3, b3)), 2, 2, "VALID").numpy()
    y = act(conv(y, np.reshape(k5, (5, 5, 16, 120)), b5)).reshape(len(x), -1)
    y = act(y @ k6 + b6) @ k7 + b7
    y = np.exp(y - y.max(axis=1, keepdims=True))
    return y / y.sum(axis=1, keepdims=True)


def _lenet5_behaviour(model, input_shape):
    """Compares the model with LeNet-5 computed from its own (randomized) weights."""
    import keras

    weighted = [layer for layer in model.layers
                if isinstance(layer, (keras.layers.Conv2D, keras.layers.Dense))]
    if len(weighted) != 5:
        return (f"Expected five layers with weights (C1, C3, C5, F6, output); found "
                f"{len(weighted)}: {', '.join(layer.name for layer in weighted)}.")
    rng = np.random.default_rng(0)
    kernels = []
    for layer in weighted:
        kernel, *bias = layer.get_weights()
        fan_in = int(np.prod(kernel.shape[:-1]))
        kernel = rng.normal(scale=2.0 / np.sqrt(fan_in), size=kernel.shape).astype("float32")
        bias = rng.normal(scale=0.5, size=kernel.shape[-1]).astype("float32")
        layer.set_weights([kernel, bias])
        kernels.append((kernel, bias))
    x = rng.uniform(0.0, 1.0, size=(3, *input_shape)).astype("float32")
    received = np.asarray(model(x, training=False), dtype="float64")
    variants = [("tanh", "average"), ("relu", "average"), ("sigmoid", "average"),
                ("linear", "average"), ("tanh", "max"), ("relu", "max")]
    for activation, pooling in variants:
        try:
            want = _lenet5_forward(x, kernels, activation, pooling)
        except (ValueError, TypeError):  # weights of other shapes: not this network
            return ("The layers with weights do not have LeNet-5's shapes in order "
                    "(C1, C3, C5, F6, output). Yours: "
                    + ", ".join(f"{w.name} {tuple(w.get_weights()[0].shape)}" for w in weighted)
                    + ".")
        if want.shape == received.shape and np.allclose(received, want, rtol=1e-4, atol=1e-5):
            if (activation, pooling) == ("tanh", "average"):
                return None
            what = {"relu": "ReLU", "sigmoid": "sigmoid", "linear": "no activation"}.get(
                activation, "tanh")
            return (
                f"Your network computes LeNet-5 with {what} and {pooling} pooling (checked "
                "on your own layers' weights). The paper's network applies tanh after C1, C3, "
                "C5 and F6 and pools by averaging: activation='tanh' and AveragePooling2D."
            )
    return (
        "The output differs from LeNet-5 (conv-tanh, average pool, conv-tanh, average pool, "
        "conv-tanh, dense-tanh, dense-softmax) computed with your layers' own weights. Check "
        "each layer's activation (tanh after C1, C3, C5 and F6) and the order of the layers."
    )


def check_lenet5(expected, model):
    """Checks a rebuilt LeNet-5: shapes, parameters, then what it computes. None when right.

    The verdict is behavioural: the model's output on random images, with random
    weights set in its own layers, must equal LeNet-5's forward pass computed from
    those weights (the activations and the pooling included). C5 may be a Conv2D
    or, after a Flatten, a Dense layer: both compute the same function.
    """
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
    return _lenet5_behaviour(model, tuple(input_shape))


def conv_case(name, inputs, hint="", expected=STORED):
    """A case of conv2d_by_hand, judged by ``check_conv`` (names a flipped kernel)."""
    return Case(name=name, inputs=inputs, expected=expected, check=check_conv, hint=hint)


def check_size(expected, received):
    """Checks an output size: a whole number of pixels, equal to the expected one."""
    from cnnlabs.checks.plain import compare

    if isinstance(received, (float, np.floating)):
        return (
            f"output_size returned {received!r}, a float. A size is a whole number of pixels: "
            "use integer division (//), which rounds down when the stride does not divide "
            "n + 2p - k."
        )
    return compare(expected, received)


def size_case(name, inputs, hint="", expected=STORED):
    """A case of output_size with fixed keyword arguments."""
    return Case(name=name, inputs=lambda rng, fixed=dict(inputs): dict(fixed),
                expected=expected, check=check_size, hint=hint)


def backward_inputs(batch, size, kernel, in_channels, out_channels, stride=1, width=None):
    """An `inputs(rng)` for conv2d_backward: x, w and an upstream gradient of the output's shape."""

    def inputs(rng):
        height, wide = size, width or size
        out_h, out_w = (height - kernel) // stride + 1, (wide - kernel) // stride + 1
        return {
            "x": rng.normal(size=(batch, height, wide, in_channels)),
            "w": rng.normal(size=(kernel, kernel, in_channels, out_channels)),
            "grad_out": rng.normal(size=(batch, out_h, out_w, out_channels)),
            "stride": stride,
        }

    return inputs


def check_backward(expected, received):
    """Checks (grad_x, grad_w) of a convolution; names a mean instead of a sum. None when right.

    ``expected``: ``{"grad_x", "grad_w", "positions"}``, the gradients from
    ``tf.GradientTape`` and the number of output positions (batch x out_h x out_w).
    """
    from cnnlabs.checks.plain import compare

    if not isinstance(received, (tuple, list)) or len(received) != 2:
        return (f"Expected a pair (grad_x, grad_w), got {type(received).__name__}. "
                "Return both gradients: return grad_x, grad_w.")
    grad_x, grad_w = received
    message = compare(expected["grad_w"], grad_w, 1e-4, 1e-4, "grad_w")
    if message and "shape" not in message:
        got, want = np.asarray(grad_w, dtype="float64"), np.asarray(expected["grad_w"])
        if np.allclose(got * expected["positions"], want, rtol=1e-4, atol=1e-4):
            return ("grad_w is the mean over the output positions. Weight sharing means that "
                    "every position uses the same kernel, so its gradient is the SUM of the "
                    "contributions of all positions (and all images of the batch).")
        positions = expected["positions"]
        return (message + f" Each of the {positions} output positions (batch x out_height x "
                "out_width) adds patch * grad_out[b, i, j, o] to grad_w[:, :, :, o]; add them "
                "all up.")
    if message:
        return message
    message = compare(expected["grad_x"], grad_x, 1e-4, 1e-4, "grad_x")
    if message and "shape" not in message:
        return (message + " An input pixel under several windows receives a contribution "
                "from each of them: grad_x[window] += grad_out[b, i, j, o] * w[..., o], "
                "accumulated with +=, not assigned.")
    return message


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
            conv_case(
                "one 3x3 kernel on a 5x5 single-channel image",
                conv_inputs(1, 5, 3, 1, 1),
                hint="out[b, i, j, o] = sum over u, v, c of x[b, i*s + u, j*s + v, c] * "
                "w[u, v, c, o]: the kernel is not flipped, and it visits every position where "
                "it fits inside the image.",
            ),
            conv_case(
                "3x3 kernels, 2 input and 3 output channels, batch of 2",
                conv_inputs(2, 6, 3, 2, 3),
                hint="Sum over the input channels too, and compute every output channel "
                "with its own kernel w[:, :, :, o].",
            ),
            conv_case(
                "5x5 kernels with stride 2 on a 9x9 image",
                conv_inputs(1, 9, 5, 2, 2, stride=2),
                hint="With stride s the output pixel (i, j) starts at input pixel (i*s, j*s); "
                "out_height = (height - kernel_height) // s + 1.",
            ),
            conv_case(
                "a rectangular 7x10 image, 3x3 kernels, stride 3 that does not tile it",
                conv_inputs(2, 7, 3, 3, 2, stride=3, width=10),
                hint="Height and width can differ: compute out_height from the height and "
                "out_width from the width; the last rows and columns that no window reaches "
                "are left out (floor division).",
            ),
        ),
    ),
    Question(
        id="conv2d_backward",
        points=3,
        answer="conv2d_backward",
        kind="function",
        title="The backward pass of a convolution by hand",
        api=NUMPY_ONLY_RULE,
        public=(
            Case(
                name="one 3x3 kernel on a 5x5 single-channel image",
                inputs=backward_inputs(1, 5, 3, 1, 1),
                expected=STORED,
                check=check_backward,
                hint="For each output position (i, j): grad_w += patch * grad_out[:, i, j] "
                "(summed over the batch) and grad_x[patch] += grad_out[:, i, j] * w.",
            ),
            Case(
                name="2 -> 3 channels, batch of 2",
                inputs=backward_inputs(2, 6, 3, 2, 3),
                expected=STORED,
                check=check_backward,
                hint="np.tensordot(patch, grad_out[:, i, j, :], axes=([0], [0])) has w's shape; "
                "np.tensordot(grad_out[:, i, j, :], w, axes=([1], [3])) has the patch's shape.",
            ),
            Case(
                name="a rectangular 7x8 image, stride 2 that does not tile it",
                inputs=backward_inputs(1, 7, 3, 2, 2, stride=2, width=8),
                expected=STORED,
                check=check_backward,
                hint="With stride s the window of output (i, j) starts at (i*s, j*s); the "
                "pixels no window reaches get a zero gradient.",
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
            size_case("LeNet-5's C1: 32 pixels, 5x5 kernel", {"n": 32, "k": 5},
                      hint="Without padding a k-pixel kernel fits n - k + 1 times."),
            size_case("a 2x2 pooling with stride 2 on 28 pixels", {"n": 28, "k": 2, "stride": 2},
                      hint="Divide the positions by the stride: floor((n - k) / s) + 1."),
            size_case("AlexNet's conv1: 227 pixels, 11x11, stride 4",
                      {"n": 227, "k": 11, "stride": 4},
                      hint="Use integer division (//) so that the result is a whole number of "
                      "pixels."),
            size_case("a 3x3 convolution with 1 pixel of padding",
                      {"n": 14, "k": 3, "stride": 1, "padding": 1},
                      hint="The padding is added on both sides: n + 2p."),
            size_case("a 3x3 window, stride 2 on 28 pixels: the stride does not divide 25",
                      {"n": 28, "k": 3, "stride": 2},
                      hint="When the stride does not divide n + 2p - k, the last window that "
                      "would stick out is left out: round down, floor((n + 2p - k) / s) + 1."),
            size_case("a 7x7 kernel, stride 2, padding 3 on 224 pixels (ResNet's stem)",
                      {"n": 224, "k": 7, "stride": 2, "padding": 3},
                      hint="Use all four arguments: (n + 2 * padding - k) // stride + 1."),
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
            lenet5_case(
                "32x32 colour images (3 channels)",
                input_shape=(32, 32, 3),
                hint="Use the input_shape argument: keras.Input(shape=input_shape).",
            ),
            lenet5_case(
                "5 classes",
                num_classes=5,
                hint="Use the num_classes argument in the output layer.",
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
