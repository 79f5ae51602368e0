"""Questions of lab 07: depthwise-separable, grouped, squeeze-and-excitation and dense
blocks, their costs, and a network frozen for transfer learning.

The count questions are functions of the layer's configuration, judged on hidden
random configurations; a recognised mistake is named, the count never printed.
The block checks rebuild the student's block (config + weights, safe mode), give it
random weights and batch-normalization statistics, and compare its inference-mode
output with a forward pass computed here from those same weights (lab 05's
method): the layers' roles are found by trying every assignment, so any naming and
any way of writing the block pass when it computes the paper's function. The
transfer check reads which layers of the rebuilt model train. The public cases'
expected data is stored in `cnnlabs/checks/expected/07_efficient_transfer.json`,
generated from `autograder/references/lab07_efficient_transfer.py` (grading side);
`labs/hidden/07_efficient_transfer.py` adds random configurations.

References: Howard et al., "MobileNets", 2017 (Section 3.1); Xie et al.,
"Aggregated residual transformations", CVPR 2017 (Figure 3); Hu et al.,
"Squeeze-and-excitation networks", CVPR 2018; Huang et al., "Densely connected
convolutional networks", CVPR 2017.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from cnnlabs.checks.apirules import ARITHMETIC_RULE, OWN_MODEL_RULE
from cnnlabs.checks.counts import count_case
from cnnlabs.checks.manual import ManualQuestion
from cnnlabs.checks.spec import Case, Question
from cnnlabs.checks.stored import STORED, with_stored

LAB = "07_efficient_transfer"

# ---------------------------------------------------------------- recognised mistakes
# (the right formulas live in autograder/references/lab07_efficient_transfer.py)

STANDARD_PARAMS_MISTAKES = (
    (
        lambda k, m, n: k * k * m * n + n,
        "that counts one bias per filter; a convolution followed by batch normalization has "
        "none (use_bias=False): leave it out.",
    ),
    (lambda k, m, n: k * k * m, "that is one filter; there are n of them."),
    (lambda k, m, n: k * k * n, "each filter spans all m input channels: k * k * m weights."),
)
STANDARD_MACS_MISTAKES = (
    (
        lambda k, m, n, size: k * k * m * n,
        "that is per output position; multiply by the size x size positions of the output.",
    ),
    (lambda k, m, n, size: k * k * m * n * size, "the output has size x size positions, not size."),
    (
        lambda k, m, n, size: (k * k * m + 1) * n * size * size,
        "a bias is an addition, not a multiply-add, and these convolutions have none.",
    ),
)
SEPARABLE_PARAMS_MISTAKES = (
    (
        lambda k, m, n: k * k * m * n + m * n,
        "the depthwise step has one k x k filter per input channel (k * k * m weights), not one "
        "per input and output channel.",
    ),
    (lambda k, m, n: k * k * m, "that is the depthwise step; add the pointwise 1x1 convolution."),
    (lambda k, m, n: m * n, "that is the pointwise step; add the depthwise k x k filters."),
    (
        lambda k, m, n: k * k * m + m * n + m + n,
        "no biases: batch normalization follows both steps.",
    ),
)
SEPARABLE_MACS_MISTAKES = (
    (
        lambda k, m, n, size: k * k * m + m * n,
        "that is per output position; multiply by size x size.",
    ),
    (
        lambda k, m, n, size: (k * k * m * n + m * n) * size * size,
        "the depthwise step filters each channel on its own: k * k * m multiply-adds per "
        "position, not k * k * m * n.",
    ),
    (lambda k, m, n, size: k * k * m * size * size, "add the pointwise step: m * n per position."),
)
RATIO_MISTAKES = (
    (
        lambda k, n: 1.0 / (1.0 / n + 1.0 / (k * k)),
        "that is standard / separable; the question asks separable / standard (below 1).",
    ),
    (lambda k, n: 1.0 / n + 1.0 / k, "the depthwise cost has the kernel's area, D_K squared."),
)
RESNEXT_MISTAKES = (
    (
        lambda channels, cardinality, width: (
            channels * cardinality * width
            + 9 * (cardinality * width) ** 2
            + cardinality * width * channels
        ),
        "that is an ordinary 3x3 convolution over all C * d channels; grouped into C groups, "
        "each of its filters sees only the d channels of its group.",
    ),
    (
        lambda channels, cardinality, width: cardinality * 9 * width * width,
        "that is the grouped 3x3 convolution alone; add the two 1x1 convolutions.",
    ),
    (
        lambda channels, cardinality, width: (
            channels * width + 9 * width * width + width * channels
        ),
        "that is one path; the block aggregates C of them.",
    ),
)
SE_MISTAKES = (
    (
        lambda channels, ratio: 2 * channels * (channels // ratio),
        "those are the weights; add the biases of both fully connected layers.",
    ),
    (
        lambda channels, ratio: channels * (channels // ratio) + channels // ratio,
        "that is the squeeze layer; add the excitation layer back to all channels.",
    ),
    (
        lambda channels, ratio: 2 * channels * (channels * ratio) + channels * ratio + channels,
        "the hidden layer has channels // ratio units: the ratio reduces.",
    ),
)


def _entering(in_channels, growth_rate, num_layers):
    return [in_channels + layer * growth_rate for layer in range(num_layers)]


DENSE_CHANNELS_MISTAKES = (
    (
        lambda in_channels, growth_rate, num_layers: [growth_rate] * num_layers,
        "each layer adds growth_rate maps, and the block keeps every earlier map: the number "
        "of channels grows.",
    ),
    (_entering, "those are the channels entering each layer; give the channels after it."),
)
DENSE_PARAMS_MISTAKES = (
    (
        lambda in_channels, growth_rate, num_layers: [
            9 * c * growth_rate for c in _entering(in_channels, growth_rate, num_layers)
        ],
        "add the batch normalization in front of each convolution: count_params() counts 4 "
        "numbers per channel (gamma, beta, moving mean, moving variance).",
    ),
    (
        lambda in_channels, growth_rate, num_layers: [
            2 * c + 9 * c * growth_rate for c in _entering(in_channels, growth_rate, num_layers)
        ],
        "count_params() counts 4 numbers per BN channel: the moving mean and variance too.",
    ),
    (
        lambda in_channels, growth_rate, num_layers: (
            [4 * growth_rate + 9 * growth_rate * growth_rate] * num_layers
        ),
        "each layer sees every earlier map: in_channels + (l - 1) * growth_rate channels, not "
        "growth_rate.",
    ),
)


def sequence_expected(formula, mistakes=()):
    """``expected(**inputs)`` of a list question: the list and the recognised wrong lists."""

    def expected(**kw):
        return {"values": formula(**kw), "mistakes": [[f(**kw), m] for f, m in mistakes]}

    return expected


def check_sequence(expected, received):
    """A list of counts, one per layer; None when right."""
    if not isinstance(received, (list, tuple)) or not all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in received
    ):
        return f"Expected a list of numbers, one per layer; got {type(received).__name__}."
    want = expected["values"]
    if len(received) != len(want):
        return f"Expected one number per layer ({len(want)} layers); got {len(received)}."
    received = list(received)
    if received == list(want):
        return None
    for wrong, message in expected["mistakes"]:
        if received == list(wrong):
            return f"You returned {received}: {message}"
    first = next(i for i, (a, b) in enumerate(zip(received, want)) if a != b)
    return (
        f"Layer {first + 1} is not right (you returned {received[first]:,}). Work out what "
        "enters that layer: the block's input plus the maps of every earlier layer."
    )


def sequence_case(name, inputs, formula=None, mistakes=(), hint=""):
    make = inputs if callable(inputs) else (lambda rng, fixed=dict(inputs): dict(fixed))
    expected = STORED if formula is None else sequence_expected(formula, mistakes)
    return Case(name=name, inputs=make, expected=expected, check=check_sequence, hint=hint)


def check_ratio(expected, received):
    """The cost ratio, to 1e-6 relative; None when right."""
    if isinstance(received, bool) or not isinstance(received, (int, float)):
        return f"Expected a number, got {type(received).__name__} {received!r}."
    if math.isclose(received, expected["ratio"], rel_tol=1e-6):
        return None
    for wrong, message in expected["mistakes"]:
        if math.isclose(received, wrong, rel_tol=1e-6):
            return f"You returned {received:.4g}: {message}"
    return (
        f"You returned {received:.4g}, which is not the ratio for these arguments. Divide "
        "the separable cost by the standard one and simplify: D_F and M cancel."
    )


def ratio_case(name, inputs, expected=STORED, hint=""):
    make = inputs if callable(inputs) else (lambda rng, fixed=dict(inputs): dict(fixed))
    return Case(name=name, inputs=make, expected=expected, check=check_ratio, hint=hint)


# ---------------------------------------------------------------- numeric forward passes


def _layers():
    import keras

    return keras.layers


def _flat(model):
    """Every layer of a model, nested models opened, in order."""
    import keras

    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from _flat(layer)
        else:
            yield layer


def _of_type(model, *names):
    L = _layers()
    types = tuple(getattr(L, name) for name in names)
    return [layer for layer in _flat(model) if isinstance(layer, types)]


def _describe(model) -> str:
    L = _layers()
    parts = []
    for layer in _flat(model):
        if isinstance(layer, L.InputLayer):
            continue
        text = type(layer).__name__
        if hasattr(layer, "kernel_size"):
            k = "x".join(str(s) for s in layer.kernel_size)
            width = getattr(layer, "filters", None)
            groups = getattr(layer, "groups", 1)
            text += (
                f"({k}"
                + (f", {width}" if width else "")
                + (f", groups={groups}" if groups != 1 else "")
                + (f", stride {layer.strides[0]}" if layer.strides[0] != 1 else "")
                + ")"
            )
        elif isinstance(layer, L.Dense):
            text += f"({layer.units})"
        parts.append(text)
    return ", ".join(parts)


def _conv(x, layer):
    """A Conv2D (any groups) or DepthwiseConv2D on x, bias included, activation left out."""
    import tensorflow as tf

    stride, padding = int(layer.strides[0]), layer.padding.upper()
    kernel = np.asarray(layer.kernel.numpy(), "float32")
    x = np.asarray(x, "float32")
    if isinstance(layer, _layers().DepthwiseConv2D):
        y = tf.nn.depthwise_conv2d(x, kernel, [1, stride, stride, 1], padding).numpy()
    else:
        groups = getattr(layer, "groups", 1)
        c_in, c_out = kernel.shape[2], kernel.shape[3] // groups
        y = np.concatenate(
            [
                tf.nn.conv2d(
                    x[..., g * c_in : (g + 1) * c_in],
                    kernel[..., g * c_out : (g + 1) * c_out],
                    stride,
                    padding,
                ).numpy()
                for g in range(groups)
            ],
            axis=-1,
        )
    return y + layer.bias.numpy() if layer.use_bias else y


def _fc(x, layer):
    """A Dense or 1x1 Conv2D as a matrix product on the last axis."""
    kernel = layer.kernel.numpy()
    y = x @ kernel.reshape(-1, kernel.shape[-1])
    return y + layer.bias.numpy() if layer.use_bias else y


def _bn(x, layer):
    gamma, beta, mean, var = (
        w.numpy() for w in (layer.gamma, layer.beta, layer.moving_mean, layer.moving_variance)
    )
    return gamma * (x - mean) / np.sqrt(var + layer.epsilon) + beta


def _relu(x):
    return np.maximum(x, 0.0)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _randomize(model, rng):
    L = _layers()
    for layer in _flat(model):
        if isinstance(layer, L.BatchNormalization):
            n = layer.gamma.shape[0]
            layer.set_weights(
                [
                    rng.uniform(0.5, 1.5, n),
                    rng.normal(scale=0.3, size=n),
                    rng.normal(scale=0.3, size=n),
                    rng.uniform(0.5, 2.0, n),
                ]
            )
        elif layer.get_weights():
            layer.set_weights(
                [rng.normal(scale=0.3, size=w.shape).astype(w.dtype) for w in layer.get_weights()]
            )


def _matches(received, x, candidates):
    """True when one candidate forward pass gives the model's output on x."""
    for forward in candidates:
        try:
            want = forward(x)
        except Exception:  # noqa: BLE001 - an assignment of roles whose shapes do not fit
            continue
        if want.shape == received.shape and np.allclose(received, want, rtol=1e-4, atol=1e-4):
            return True
    return False


def _run(model, input_shape, seed=0):
    rng = np.random.default_rng(seed)
    _randomize(model, rng)
    x = rng.normal(size=(2, *input_shape)).astype("float32")
    return x, np.asarray(model(x, training=False))


def _shapes(expected, model, out_shape):
    input_shape = tuple(expected["input_shape"])
    if tuple(model.input_shape[1:]) != input_shape:
        return (
            f"The model's input shape is {tuple(model.input_shape[1:])}, expected "
            f"{input_shape}. Build your block on the tensor x you were given."
        )
    if tuple(model.output_shape[1:]) != tuple(out_shape):
        return (
            f"The block's output shape is {tuple(model.output_shape[1:])}, expected "
            f"{tuple(out_shape)}."
        )
    return None


def _params(expected, model, what):
    got = model.count_params()
    if got == expected["params"]:
        return None
    biased = [
        layer.name
        for layer in _of_type(model, "Conv2D", "DepthwiseConv2D", "SeparableConv2D")
        if layer.use_bias and _of_type(model, "BatchNormalization")
    ]
    if biased:
        return (
            f"The block has {got:,} parameters, expected {expected['params']:,}: the "
            f"convolutions {', '.join(biased)} have biases. A convolution followed by batch "
            "normalization needs none (BN's beta does that job): use_bias=False."
        )
    return (
        f"The block has {got:,} parameters, expected {expected['params']:,} ({what}). "
        f"Yours: {_describe(model)}."
    )


# ---------------------------------------------------------------- the block checks


def check_separable_block(expected, model):
    """Depthwise 3x3 (stride) - BN - ReLU - pointwise 1x1 - BN - ReLU; None when right."""
    input_shape, filters, strides = (
        tuple(expected["input_shape"]),
        expected["filters"],
        expected["strides"],
    )
    if _of_type(model, "SeparableConv2D"):
        return (
            "SeparableConv2D fuses the depthwise and the pointwise step with nothing in "
            "between; MobileNet puts batch normalization and a ReLU after each step "
            "(its Figure 3). Write DepthwiseConv2D, BN, ReLU, then Conv2D 1x1, BN, ReLU."
        )
    out = (-(-input_shape[0] // strides), -(-input_shape[1] // strides), filters)
    problem = _shapes(expected, model, out)
    if problem:
        return problem + " Use padding='same'; only the depthwise convolution has the stride."
    problem = _params(
        expected,
        model,
        "a depthwise 3x3 and a pointwise 1x1 convolution without bias, each followed by BN",
    )
    if problem:
        return problem
    c = input_shape[-1]
    spatial = [
        layer
        for layer in _of_type(model, "Conv2D", "DepthwiseConv2D")
        if tuple(layer.kernel_size) == (3, 3)
    ]
    pointwise = [
        layer
        for layer in _of_type(model, "Conv2D")
        if tuple(layer.kernel_size) == (1, 1) and layer.groups == 1
    ]
    bns = _of_type(model, "BatchNormalization")
    depthwise = [
        layer
        for layer in spatial
        if isinstance(layer, _layers().DepthwiseConv2D) or layer.groups == c
    ]
    if len(depthwise) != 1 or len(pointwise) != 1 or len(bns) != 2:
        return (
            "Expected one depthwise 3x3 convolution (DepthwiseConv2D), one 1x1 Conv2D and "
            f"two BatchNormalization layers; found {_describe(model)}."
        )
    if tuple(depthwise[0].strides) != (strides, strides):
        return (
            f"The depthwise convolution has strides={tuple(depthwise[0].strides)}; it "
            f"carries the block's stride, strides={strides}."
        )
    dw, pw = depthwise[0], pointwise[0]
    x, received = _run(model, input_shape)

    def forward(b1, b2, middle=True, final=True):
        def run(x):
            y = _bn(_conv(x, dw), b1)
            y = _bn(_conv(_relu(y) if middle else y, pw), b2)
            return _relu(y) if final else y

        return run

    orders = list(itertools.permutations(bns))
    if _matches(received, x, [forward(*o) for o in orders]):
        return None
    if _matches(received, x, [forward(*o, middle=False) for o in orders]):
        return "Almost: apply a ReLU after the depthwise step's BN too (MobileNet's Figure 3)."
    if _matches(received, x, [forward(*o, final=False) for o in orders]):
        return "Almost: apply a ReLU after the pointwise step's BN too."
    return (
        "The output differs from depthwise-BN-ReLU-pointwise-BN-ReLU computed with the same "
        f"weights. Check the order of the layers. Yours: {_describe(model)}."
    )


def check_resnext_block(expected, model):
    """The ResNeXt block of Figure 3(c) with an identity shortcut; None when right."""
    input_shape = tuple(expected["input_shape"])
    cardinality = expected["cardinality"]
    problem = _shapes(expected, model, input_shape)
    if problem:
        return problem + (
            " The last 1x1 convolution maps the C * d channels back to the "
            "input's channels, so that the shortcut can be added."
        )
    if not _of_type(model, "Add"):
        return (
            "The block has no Add layer: the shortcut must be added to the residual branch, "
            "layers.Add()([x, y])."
        )
    grouped = [
        layer
        for layer in _of_type(model, "Conv2D")
        if tuple(layer.kernel_size) == (3, 3) and layer.groups == cardinality
    ]
    if not grouped:
        threes = [layer for layer in _of_type(model, "Conv2D") if layer.kernel_size[0] == 3]
        groups = [layer.groups for layer in threes]
        return (
            f"The 3x3 convolution must be grouped into the block's {cardinality} paths: "
            f"Conv2D(cardinality * width, 3, groups=cardinality). Your 3x3 convolutions have "
            f"groups={groups}."
        )
    problem = _params(
        expected, model, "1x1, grouped 3x3 and 1x1 convolutions without bias, each followed by BN"
    )
    if problem:
        return problem
    convs = _of_type(model, "Conv2D")
    ones = [layer for layer in convs if tuple(layer.kernel_size) == (1, 1)]
    bns = _of_type(model, "BatchNormalization")
    if len(ones) != 2 or len(convs) != 3 or len(bns) != 3:
        return (
            "Expected a 1x1, a grouped 3x3 and a 1x1 Conv2D, each followed by "
            f"BatchNormalization; found {_describe(model)}."
        )
    x, received = _run(model, input_shape)

    def forward(reduce, expand, b1, b2, b3, final=True):
        def run(x):
            y = _relu(_bn(_conv(x, reduce), b1))
            y = _relu(_bn(_conv(y, grouped[0]), b2))
            y = _bn(_conv(y, expand), b3) + x
            return _relu(y) if final else y

        return run

    orders = [(*o, *b) for o in itertools.permutations(ones) for b in itertools.permutations(bns)]
    if _matches(received, x, [forward(*o) for o in orders]):
        return None
    if _matches(received, x, [forward(*o, final=False) for o in orders]):
        return "Almost: apply ReLU after the addition too."
    return (
        "The output differs from conv1x1-BN-ReLU, grouped conv3x3-BN-ReLU, conv1x1-BN, "
        f"+ x, ReLU computed with the same weights. Yours: {_describe(model)}."
    )


def check_se_block(expected, model):
    """x * sigmoid(FC(ReLU(FC(global average pool(x))))); None when right."""
    input_shape, ratio = tuple(expected["input_shape"]), expected["ratio"]
    c = input_shape[-1]
    problem = _shapes(expected, model, input_shape)
    if problem:
        return problem + (
            " The block rescales x channel by channel: return x multiplied by "
            "the gate (layers.Multiply()([x, gate])), not the gate."
        )
    fcs = [
        layer
        for layer in _of_type(model, "Dense", "Conv2D")
        if isinstance(layer, _layers().Dense) or tuple(layer.kernel_size) == (1, 1)
    ]
    units = sorted(layer.kernel.shape[-1] for layer in fcs)
    if sorted(units) != sorted([c // ratio, c]):
        return (
            f"Expected two fully connected layers, with {c // ratio} (channels // ratio) "
            f"and {c} units; found {_describe(model)}."
        )
    got = model.count_params()
    if got != expected["params"]:
        if not all(layer.use_bias for layer in fcs):
            return (
                f"The block has {got:,} parameters, expected {expected['params']:,}: keep "
                "the biases of both fully connected layers (the Keras default)."
            )
        return (
            f"The block has {got:,} parameters, expected {expected['params']:,}. "
            f"Yours: {_describe(model)}."
        )
    squeeze = next(layer for layer in fcs if layer.kernel.shape[-1] == c // ratio)
    excite = next(layer for layer in fcs if layer is not squeeze)
    x, received = _run(model, input_shape)

    def forward(pool=np.mean, gate=_sigmoid):
        def run(x):
            s = pool(x, axis=(1, 2))
            g = gate(_fc(_relu(_fc(s, squeeze)), excite))
            return x * g[:, None, None, :]

        return run

    if _matches(received, x, [forward()]):
        return None
    if _matches(received, x, [forward(pool=np.max)]):
        return (
            "The squeeze is global *average* pooling (the channel's mean over all "
            "positions), not max pooling."
        )
    if _matches(received, x, [forward(gate=lambda z: z)]):
        return "The gate needs a sigmoid: activation='sigmoid' on the second fully connected layer."
    return (
        "The output differs from x * sigmoid(FC(ReLU(FC(mean of x over height and "
        f"width)))) computed with the same weights. Yours: {_describe(model)}."
    )


def check_dense_block(expected, model):
    """num_layers times x = concat(x, conv3x3(ReLU(BN(x)))); None when right."""
    input_shape = tuple(expected["input_shape"])
    num_layers, k = expected["num_layers"], expected["growth_rate"]
    c0 = input_shape[-1]
    problem = _shapes(expected, model, (*input_shape[:2], c0 + num_layers * k))
    if problem:
        return problem + (
            " Each layer adds growth_rate maps to everything before it: concatenate, do not add."
        )
    convs, bns = _of_type(model, "Conv2D"), _of_type(model, "BatchNormalization")
    entering = [c0 + layer * k for layer in range(num_layers)]
    if sorted(b.gamma.shape[0] for b in bns) == [k] * num_layers:
        return (
            "Each BN normalizes the convolution's output; DenseNet's composite function is "
            "pre-activation (Section 3): BN, ReLU, then the 3x3 convolution, on the "
            "concatenation of all earlier maps."
        )
    problem = _params(expected, model, "per layer a BN and a 3x3 convolution without bias")
    if problem:
        return problem
    by_in = {conv.kernel.shape[2]: conv for conv in convs}
    bn_by = {bn.gamma.shape[0]: bn for bn in bns}
    if sorted(by_in) != entering or sorted(bn_by) != entering or len(convs) != num_layers:
        return (
            f"Layer l must see every earlier map: its BN and convolution take {entering} "
            f"channels, layer by layer. Yours: {_describe(model)}."
        )
    x, received = _run(model, input_shape)

    def forward(new_first=False):
        def run(x):
            for c in entering:
                y = _conv(_relu(_bn(x, bn_by[c])), by_in[c])
                x = np.concatenate([y, x] if new_first else [x, y], axis=-1)
            return x

        return run

    if _matches(received, x, [forward()]):
        return None
    if _matches(received, x, [forward(new_first=True)]):
        return (
            "The new maps come first in your concatenation; put the block's input first, "
            "layers.Concatenate()([x, y]), as keras.applications.DenseNet does."
        )
    return (
        f"The output differs from the dense block computed with the same weights. Yours: "
        f"{_describe(model)}."
    )


def check_transition(expected, model):
    """BN - ReLU - conv 1x1 (floor(theta * c)) - average pooling 2x2; None when right."""
    input_shape, theta = tuple(expected["input_shape"]), expected["compression"]
    c = input_shape[-1]
    out = (input_shape[0] // 2, input_shape[1] // 2, int(c * theta))
    problem = _shapes(expected, model, out)
    if problem:
        return problem + (
            " The 1x1 convolution keeps floor(compression * channels) maps "
            "(int(...)); the 2x2 pooling with stride 2 halves the size."
        )
    problem = _params(expected, model, "a BN and a 1x1 convolution without bias")
    if problem:
        return problem
    convs, bns = _of_type(model, "Conv2D"), _of_type(model, "BatchNormalization")
    if len(convs) != 1 or len(bns) != 1:
        return f"Expected one BatchNormalization and one 1x1 Conv2D; found {_describe(model)}."
    import tensorflow as tf

    x, received = _run(model, input_shape)

    def forward(pool=tf.nn.avg_pool2d):
        return lambda x: pool(_conv(_relu(_bn(x, bns[0])), convs[0]), 2, 2, "VALID").numpy()

    if _matches(received, x, [forward()]):
        return None
    if _matches(received, x, [forward(tf.nn.max_pool2d)]):
        return "DenseNet's transition uses average pooling (AveragePooling2D), not max pooling."
    return (
        "The output differs from BN-ReLU-conv1x1-average pooling computed with the same "
        f"weights. Yours: {_describe(model)}."
    )


def check_transfer_model(expected, model):
    """The pretrained base frozen but for its top convolutions, a new softmax head."""
    input_shape, num_classes = tuple(expected["input_shape"]), expected["num_classes"]
    top = expected["trainable_top"]
    if tuple(model.input_shape[1:]) != input_shape:
        return f"The model's input shape is {tuple(model.input_shape[1:])}, expected {input_shape}."
    if tuple(model.output_shape[1:]) != (num_classes,):
        return (
            f"The output shape is {model.output_shape}, expected (None, {num_classes}): "
            "end with a new Dense(num_classes, activation='softmax') on the base's features."
        )
    trainable = {id(w) for w in model.trainable_weights}

    def trains(layer):
        return any(id(w) in trainable for w in layer.weights)

    layers = list(_flat(model))
    convs = [layer for layer in layers if hasattr(layer, "kernel_size")]
    if len(convs) < max(top, 1):
        return (
            f"The model has {len(convs)} convolution(s); it must contain the pretrained "
            "base (all of its convolutions) and a new head on top."
        )
    bn = [
        layer.name
        for layer in layers
        if isinstance(layer, _layers().BatchNormalization) and trains(layer)
    ]
    if bn:
        return (
            f"The batch normalizations {', '.join(bn[:4])} train. Keep every "
            "BatchNormalization of the base frozen (and call the base with "
            "training=False): a few hundred examples would spoil the statistics it "
            "learned on the source task."
        )
    frozen_top = [layer.name for layer in convs[len(convs) - top :] if not trains(layer)]
    if frozen_top:
        return (
            f"The top {top} convolution(s) must train, but {', '.join(frozen_top)} "
            "is frozen: set layer.trainable = True on the last trainable_top convolutions."
        )
    training_low = [layer.name for layer in convs[: len(convs) - top] if trains(layer)]
    if training_low:
        return (
            f"{len(training_low)} convolution(s) below the top {top} train "
            f"({', '.join(training_low[:4])}); freeze every layer of the base except the "
            "last trainable_top convolutions."
        )
    head = [layer for layer in layers if isinstance(layer, _layers().Dense)]
    if not head or not all(trains(layer) for layer in head):
        return "The new Dense head must train (it starts from random weights)."
    others = [
        layer.name for layer in layers if trains(layer) and layer not in head and layer not in convs
    ]
    if others:
        return f"Only the head and the top convolutions train; {', '.join(others)} train too."
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, *input_shape)).astype("float32")
    y = np.asarray(model(x, training=False))
    if not (np.all(y >= 0) and np.allclose(y.sum(axis=1), 1.0, atol=1e-4)):
        return (
            "The outputs are not probabilities: the head needs activation='softmax' "
            "(the training uses sparse categorical cross-entropy on probabilities)."
        )
    return None


# ---------------------------------------------------------------- cases


def _fixed(inputs):
    return lambda rng, fixed=dict(inputs): dict(fixed)


def block_case(name, check, inputs, hint="", expected=STORED):
    make = inputs if callable(inputs) else _fixed(inputs)
    return Case(name=name, inputs=make, expected=expected, check=check, hint=hint)


def _size(rng):
    size = int(rng.integers(3, 10))
    return size, size + int(rng.integers(0, 3))


def random_separable_inputs(rng):
    h, w = _size(rng)
    return {
        "input_shape": (h, w, int(rng.integers(1, 17))),
        "filters": int(rng.integers(1, 25)),
        "strides": int(rng.integers(1, 3)),
    }


def random_resnext_inputs(rng):
    cardinality = int(rng.choice([2, 4, 8, 16, 32]))
    h, w = _size(rng)
    return {
        "input_shape": (h, w, int(rng.integers(4, 49))),
        "cardinality": cardinality,
        "width": int(rng.integers(1, 5)),
    }


def random_se_inputs(rng):
    ratio = int(rng.choice([2, 4, 8, 16]))
    channels = ratio * int(rng.integers(2, 9)) + int(rng.integers(0, ratio))
    h, w = _size(rng)
    return {"input_shape": (h, w, channels), "ratio": ratio}


def random_dense_inputs(rng):
    h, w = _size(rng)
    return {
        "input_shape": (h, w, int(rng.integers(1, 25))),
        "num_layers": int(rng.integers(1, 5)),
        "growth_rate": int(rng.integers(1, 13)),
    }


def random_transition_inputs(rng):
    h, w = _size(rng)
    return {
        "input_shape": (h + 1, w + 1, int(rng.integers(2, 41))),
        "compression": float(rng.choice([0.25, 0.5, 0.75, 1.0])),
    }


def random_transfer_inputs(rng):
    return {
        "input_shape": (int(rng.choice([16, 24, 28, 32])),) * 2 + (int(rng.choice([1, 3])),),
        "num_classes": int(rng.integers(2, 21)),
        "trainable_top": int(rng.integers(0, 4)),
    }


QUESTIONS = with_stored(
    LAB,
    (
        Question(
            id="standard_params",
            points=1,
            answer="standard_params",
            kind="function",
            title="Weights of a standard convolution",
            api=ARITHMETIC_RULE,
            public=(
                count_case(
                    "3x3, 32 -> 64 channels",
                    {"k": 3, "m": 32, "n": 64},
                    mistakes=STANDARD_PARAMS_MISTAKES,
                    hint="D_K x D_K x M weights per filter, N filters, no bias.",
                ),
                count_case(
                    "5x5, 3 -> 16 channels",
                    {"k": 5, "m": 3, "n": 16},
                    mistakes=STANDARD_PARAMS_MISTAKES,
                    hint="Use every argument.",
                ),
            ),
        ),
        Question(
            id="standard_macs",
            points=1,
            answer="standard_macs",
            kind="function",
            title="Multiply-adds of a standard convolution",
            api=ARITHMETIC_RULE,
            public=(
                count_case(
                    "3x3, 32 -> 64 channels, 112x112 output",
                    {"k": 3, "m": 32, "n": 64, "size": 112},
                    mistakes=STANDARD_MACS_MISTAKES,
                    hint="Every one of the D_F x D_F x N outputs is a dot product of length "
                    "D_K x D_K x M.",
                ),
                count_case(
                    "1x1, 64 -> 16 channels, 7x7 output",
                    {"k": 1, "m": 64, "n": 16, "size": 7},
                    mistakes=STANDARD_MACS_MISTAKES,
                    hint="Use every argument.",
                ),
            ),
        ),
        Question(
            id="separable_params",
            points=1,
            answer="separable_params",
            kind="function",
            title="Weights of a depthwise-separable convolution",
            api=ARITHMETIC_RULE,
            public=(
                count_case(
                    "3x3, 32 -> 64 channels",
                    {"k": 3, "m": 32, "n": 64},
                    mistakes=SEPARABLE_PARAMS_MISTAKES,
                    hint="Depthwise: one D_K x D_K filter per input channel. Pointwise: a 1x1 "
                    "convolution from M to N channels.",
                ),
                count_case(
                    "5x5, 3 -> 16 channels",
                    {"k": 5, "m": 3, "n": 16},
                    mistakes=SEPARABLE_PARAMS_MISTAKES,
                    hint="Use every argument.",
                ),
            ),
        ),
        Question(
            id="separable_macs",
            points=1,
            answer="separable_macs",
            kind="function",
            title="Multiply-adds of a depthwise-separable convolution",
            api=ARITHMETIC_RULE,
            public=(
                count_case(
                    "3x3, 32 -> 64 channels, 112x112 output",
                    {"k": 3, "m": 32, "n": 64, "size": 112},
                    mistakes=SEPARABLE_MACS_MISTAKES,
                    hint="Howard et al., Equation 5: the depthwise and the pointwise costs, "
                    "both over D_F x D_F positions.",
                ),
                count_case(
                    "5x5, 8 -> 8 channels, 10x10 output",
                    {"k": 5, "m": 8, "n": 8, "size": 10},
                    mistakes=SEPARABLE_MACS_MISTAKES,
                    hint="Use every argument.",
                ),
            ),
        ),
        Question(
            id="cost_ratio",
            points=1,
            answer="cost_ratio",
            kind="function",
            title="Separable over standard cost: the paper's ratio",
            api=ARITHMETIC_RULE,
            public=(
                ratio_case(
                    "3x3 kernels, 64 output channels",
                    {"k": 3, "n": 64},
                    hint="Divide your separable MACs by your standard MACs and cancel what "
                    "appears in both.",
                ),
                ratio_case(
                    "5x5 kernels, 10 output channels",
                    {"k": 5, "n": 10},
                    hint="Only D_K and N are left after cancelling.",
                ),
            ),
        ),
        Question(
            id="separable_block",
            points=3,
            answer="separable_block_model",
            kind="model",
            title="A depthwise-separable block (MobileNet, Figure 3)",
            api=OWN_MODEL_RULE,
            public=(
                block_case(
                    "8x8x16 -> 24 channels, stride 1",
                    check_separable_block,
                    {"input_shape": (8, 8, 16), "filters": 24, "strides": 1},
                    hint="DepthwiseConv2D(3, padding='same', use_bias=False), BN, ReLU, then "
                    "Conv2D(filters, 1, use_bias=False), BN, ReLU.",
                ),
                block_case(
                    "7x7x8 -> 16 channels, stride 2",
                    check_separable_block,
                    {"input_shape": (7, 7, 8), "filters": 16, "strides": 2},
                    hint="The stride belongs to the depthwise 3x3 convolution.",
                ),
            ),
        ),
        Question(
            id="resnext_block",
            points=3,
            answer="resnext_block_model",
            kind="model",
            title="A ResNeXt block with grouped convolution",
            api=OWN_MODEL_RULE,
            public=(
                block_case(
                    "the paper's block: 4x4x256, cardinality 32, width 4",
                    check_resnext_block,
                    {"input_shape": (4, 4, 256), "cardinality": 32, "width": 4},
                    hint="1x1 to cardinality * width channels, 3x3 with groups=cardinality, "
                    "1x1 back to the input's channels; BN after each, ReLU after the first "
                    "two; add x; ReLU.",
                ),
                block_case(
                    "6x5x24, cardinality 4, width 2",
                    check_resnext_block,
                    {"input_shape": (6, 5, 24), "cardinality": 4, "width": 2},
                    hint="Use the arguments, not 32 and 4.",
                ),
            ),
        ),
        Question(
            id="resnext_params",
            points=1,
            answer="resnext_params",
            kind="function",
            title="Weights of a ResNeXt block (Xie et al., Equation 4)",
            api=ARITHMETIC_RULE,
            public=(
                count_case(
                    "256-d, cardinality 32, width 4 (Figure 1, right)",
                    {"channels": 256, "cardinality": 32, "width": 4},
                    mistakes=RESNEXT_MISTAKES,
                    hint="C paths, each 1x1 c -> d, 3x3 d -> d, 1x1 d -> c; weights only.",
                ),
                count_case(
                    "64-d, cardinality 8, width 2",
                    {"channels": 64, "cardinality": 8, "width": 2},
                    mistakes=RESNEXT_MISTAKES,
                    hint="Use every argument.",
                ),
            ),
        ),
        Question(
            id="se_block",
            points=3,
            answer="se_block_model",
            kind="model",
            title="A squeeze-and-excitation block",
            api=OWN_MODEL_RULE,
            public=(
                block_case(
                    "6x6x64, reduction 16",
                    check_se_block,
                    {"input_shape": (6, 6, 64), "ratio": 16},
                    hint="GlobalAveragePooling2D(keepdims=True), Dense(channels // ratio, "
                    "ReLU), Dense(channels, sigmoid), then layers.Multiply()([x, gate]).",
                ),
                block_case(
                    "5x7x24, reduction 4",
                    check_se_block,
                    {"input_shape": (5, 7, 24), "ratio": 4},
                    hint="Use the ratio argument and the input's channels.",
                ),
            ),
        ),
        Question(
            id="se_params",
            points=1,
            answer="se_params",
            kind="function",
            title="Parameters of a squeeze-and-excitation block",
            api=ARITHMETIC_RULE,
            public=(
                count_case(
                    "256 channels, reduction 16",
                    {"channels": 256, "ratio": 16},
                    mistakes=SE_MISTAKES,
                    hint="Two fully connected layers with biases: C -> C // r -> C.",
                ),
                count_case(
                    "100 channels, reduction 8",
                    {"channels": 100, "ratio": 8},
                    mistakes=SE_MISTAKES,
                    hint="C // r rounds down, as in the block.",
                ),
            ),
        ),
        Question(
            id="dense_block",
            points=3,
            answer="dense_block_model",
            kind="model",
            title="A dense block (DenseNet)",
            api=OWN_MODEL_RULE,
            public=(
                block_case(
                    "8x8x16, 3 layers, growth rate 12",
                    check_dense_block,
                    {"input_shape": (8, 8, 16), "num_layers": 3, "growth_rate": 12},
                    hint="Repeat num_layers times: y = Conv2D(growth_rate, 3, padding='same', "
                    "use_bias=False)(ReLU(BN(x))); x = Concatenate()([x, y]).",
                ),
                block_case(
                    "6x5x8, 2 layers, growth rate 4",
                    check_dense_block,
                    {"input_shape": (6, 5, 8), "num_layers": 2, "growth_rate": 4},
                    hint="Use the arguments; every layer sees all earlier maps.",
                ),
            ),
        ),
        Question(
            id="transition_layer",
            points=2,
            answer="transition_model",
            kind="model",
            title="A transition layer with compression",
            api=OWN_MODEL_RULE,
            public=(
                block_case(
                    "8x8x24, compression 0.5",
                    check_transition,
                    {"input_shape": (8, 8, 24), "compression": 0.5},
                    hint="BN, ReLU, Conv2D(int(compression * channels), 1, use_bias=False), "
                    "AveragePooling2D(2).",
                ),
                block_case(
                    "7x7x10, compression 1.0 (DenseNet without -C)",
                    check_transition,
                    {"input_shape": (7, 7, 10), "compression": 1.0},
                    hint="A 7x7 map pools to 3x3 (padding 'valid', the default).",
                ),
            ),
        ),
        Question(
            id="dense_channels",
            points=1,
            answer="dense_channels",
            kind="function",
            title="Channels after each layer of a dense block",
            api=ARITHMETIC_RULE,
            public=(
                sequence_case(
                    "16 input channels, growth rate 12, 4 layers",
                    {"in_channels": 16, "growth_rate": 12, "num_layers": 4},
                    hint="Layer l outputs growth_rate maps and the block keeps them all.",
                ),
                sequence_case(
                    "64 input channels, growth rate 32, 6 layers (DenseNet-121's first block)",
                    {"in_channels": 64, "growth_rate": 32, "num_layers": 6},
                    hint="Use every argument.",
                ),
            ),
        ),
        Question(
            id="dense_layer_params",
            points=1,
            answer="dense_layer_params",
            kind="function",
            title="Parameters of each layer of a dense block",
            api=ARITHMETIC_RULE,
            public=(
                sequence_case(
                    "16 input channels, growth rate 12, 4 layers",
                    {"in_channels": 16, "growth_rate": 12, "num_layers": 4},
                    hint="Per layer: a BN over its input channels (4 numbers each, as "
                    "count_params() counts) and a 3x3 convolution to growth_rate maps, "
                    "no bias.",
                ),
                sequence_case(
                    "64 input channels, growth rate 32, 6 layers",
                    {"in_channels": 64, "growth_rate": 32, "num_layers": 6},
                    hint="Layer l sees in_channels + (l - 1) * growth_rate channels.",
                ),
            ),
        ),
        Question(
            id="transfer_model",
            points=3,
            answer="transfer_model",
            kind="model",
            title="A pretrained network frozen for transfer",
            api=OWN_MODEL_RULE,
            public=(
                block_case(
                    "28x28x1 images, 10 classes, top 2 convolutions trainable",
                    check_transfer_model,
                    {"input_shape": (28, 28, 1), "num_classes": 10, "trainable_top": 2},
                    hint="Freeze every layer of the base, then set trainable = True on its "
                    "last trainable_top convolutions; add Dense(num_classes, softmax).",
                ),
                block_case(
                    "32x32x3 images, 5 classes, feature extraction (nothing of the base trains)",
                    check_transfer_model,
                    {"input_shape": (32, 32, 3), "num_classes": 5, "trainable_top": 0},
                    hint="With trainable_top=0 only the new head trains.",
                ),
            ),
        ),
    ),
)

# Written answers, graded by TAs (`cnnlabs grade` collects them; docs/grading.md).
MANUAL = (
    ManualQuestion(id="time_vs_macs", points=1, title="Time vs multiply-adds"),
    ManualQuestion(id="transfer_gain", points=1, title="The gain of transfer learning"),
    ManualQuestion(id="fine_tuning", points=1, title="Why fine-tune slowly, BN frozen"),
)
