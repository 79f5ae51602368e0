"""Questions of lab 05 (ResNet): the identity and the projection residual block, and
the parameter cost of the shortcut options A, B and C.

The block checks rebuild the student's block (config + weights, safe mode), give it
random weights and batch-normalization statistics, and compare its inference-mode
output with a reference forward pass computed from those same weights. The roles of
the layers (first or second convolution, which BN follows which convolution) are
found by trying every assignment, so any layer order and any naming pass as long as
the computation is the paper's. The public cases' expected data (arguments,
parameter counts) is stored in `cnnlabs/checks/expected/05_resnet.json`, generated
from `autograder/references/lab05_resnet.py` (grading side); the shortcut counts
are stored only as digests. `labs/hidden/05_resnet.py` adds randomized shapes.

Reference: He, Zhang, Ren & Sun, "Deep Residual Learning for Image Recognition",
CVPR 2016 (Figure 2, Section 3.3, Section 4.2).
"""

from __future__ import annotations

import itertools

import numpy as np

from cnnlabs.checks.apirules import ARITHMETIC_RULE, OWN_MODEL_RULE
from cnnlabs.checks.manual import ManualQuestion
from cnnlabs.checks.spec import Case, Question
from cnnlabs.checks.stored import STORED, STORED_DIGEST, answer_digest, with_stored

# ---------------------------------------------------------------- numeric reference


def _conv(x, layer, stride=None):
    """The layer's convolution of x; `stride` overrides the layer's own (the paper's stride)."""
    import tensorflow as tf

    stride = int(layer.strides[0]) if stride is None else stride
    y = tf.nn.conv2d(x, layer.kernel.numpy(), stride, layer.padding.upper()).numpy()
    return y + layer.bias.numpy() if layer.use_bias else y


def _bn(x, layer):
    gamma, beta, mean, var = (
        w.numpy() for w in (layer.gamma, layer.beta, layer.moving_mean, layer.moving_variance)
    )
    return gamma * (x - mean) / np.sqrt(var + layer.epsilon) + beta


def _randomize(model, rng):
    import keras

    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
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
                [rng.normal(scale=0.2, size=w.shape).astype(w.dtype) for w in layer.get_weights()]
            )


def _of_type(model, name):
    import keras

    return [layer for layer in model.layers if isinstance(layer, getattr(keras.layers, name))]


def _describe(model) -> str:
    import keras

    parts = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        text = type(layer).__name__
        if isinstance(layer, keras.layers.Conv2D):
            text += f"({layer.filters}, {layer.kernel_size[0]}x{layer.kernel_size[1]}, stride {layer.strides[0]})"
        parts.append(text)
    return ", ".join(parts)


def _shape_and_params(expected, model, out_shape, params, block):
    input_shape = tuple(expected["input_shape"])
    if tuple(model.input_shape[1:]) != input_shape:
        return (
            f"The model's input shape is {tuple(model.input_shape[1:])}, expected {input_shape}. "
            "Build your block on the tensor x you were given."
        )
    got_shape = tuple(model.output_shape[1:])
    if got_shape != out_shape:
        if got_shape[:-1] == out_shape[:-1] and got_shape[-1] > out_shape[-1]:
            return (
                f"The block's output shape is {got_shape}, expected {out_shape}: it has "
                f"{got_shape[-1]} channels instead of {out_shape[-1]}. Concatenating the "
                "shortcut doubles the channels; add it instead (y + shortcut or "
                "layers.Add()([y, shortcut]))."
            )
        return (
            f"The block's output shape is {got_shape}, expected {out_shape}. "
            "Use padding='same'; only the first 3x3 convolution and the shortcut use the stride."
        )
    got = model.count_params()
    if got != params:
        biased = [c.name for c in _of_type(model, "Conv2D") if c.use_bias]
        if biased:
            return (
                f"The block has {got:,} parameters, expected {params:,}: the convolutions "
                f"{', '.join(biased)} have biases. A convolution followed by batch "
                "normalization needs none (BN's beta does that job): use_bias=False."
            )
        return (
            f"The block has {got:,} parameters, expected {params:,} ({block}). "
            f"Yours: {_describe(model)}."
        )
    return None


def _matches(model, x, candidates):
    received = np.asarray(model(x, training=False))
    for forward in candidates:
        try:
            want = forward(x)
        except Exception:  # this assignment of roles does not fit the layers' shapes
            continue
        if want.shape == received.shape and np.allclose(received, want, rtol=1e-4, atol=1e-4):
            return True
    return False


def check_identity_block(expected, model):
    """Checks a rebuilt identity block; None when right."""
    input_shape = tuple(expected["input_shape"])
    problem = _shape_and_params(
        expected,
        model,
        input_shape,
        expected["params"],
        "two 3x3 convolutions without bias, each followed by BN",
    )
    if problem:
        return problem
    convs, bns = _of_type(model, "Conv2D"), _of_type(model, "BatchNormalization")
    if len(convs) != 2 or len(bns) != 2:
        return f"Expected two Conv2D and two BatchNormalization layers; found {_describe(model)}."
    rng = np.random.default_rng(0)
    _randomize(model, rng)
    x = rng.normal(size=(2, *input_shape)).astype("float32")

    def forward(c1, c2, b1, b2, final_relu=True, add=True):
        def run(x):
            y = np.maximum(_bn(_conv(x, c1), b1), 0)
            y = _bn(_conv(y, c2), b2)
            y = y + x if add else y
            return np.maximum(y, 0) if final_relu else y

        return run

    orders = [
        (c1, c2, b1, b2)
        for c1, c2 in itertools.permutations(convs)
        for b1, b2 in itertools.permutations(bns)
    ]
    if _matches(model, x, [forward(*o) for o in orders]):
        return None
    if _matches(model, x, [forward(*o, final_relu=False) for o in orders]):
        return "Almost: apply ReLU after the addition too (the paper's F(x) + x, then ReLU)."
    if _matches(model, x, [forward(*o, add=False) for o in orders]):
        return (
            "The block computes ReLU(F(x)) without the shortcut: add the block's input x to "
            "F(x) before the final ReLU (y + x, or layers.Add()([y, x]))."
        )
    return (
        "The output differs from conv-BN-ReLU-conv-BN, + x, ReLU computed with the same "
        f"weights. Check the order of the layers and that you add the block's input x. "
        f"Yours: {_describe(model)}."
    )


def check_projection_block(expected, model):
    """Checks a rebuilt projection block; None when right."""
    input_shape, filters, strides = (
        tuple(expected["input_shape"]),
        expected["filters"],
        expected["strides"],
    )
    h, w = (-(-input_shape[0] // strides), -(-input_shape[1] // strides))
    problem = _shape_and_params(
        expected,
        model,
        (h, w, filters),
        expected["params"],
        "two 3x3 convolutions and a 1x1 projection, no biases, each with BN",
    )
    if problem:
        return problem
    convs, bns = _of_type(model, "Conv2D"), _of_type(model, "BatchNormalization")
    ones = [c for c in convs if tuple(c.kernel_size) == (1, 1)]
    threes = [c for c in convs if tuple(c.kernel_size) == (3, 3)]
    if len(ones) != 1 or len(threes) != 2 or len(bns) != 3:
        return (
            "Expected two 3x3 Conv2D, one 1x1 Conv2D (the projection) and three "
            f"BatchNormalization layers; found {_describe(model)}."
        )
    if tuple(ones[0].strides) != (strides, strides):
        return (
            f"The 1x1 projection must use strides={strides} so that the shortcut has the "
            "same height and width as the residual branch."
        )
    rng = np.random.default_rng(0)
    _randomize(model, rng)
    x = rng.normal(size=(2, *input_shape)).astype("float32")

    def forward(c1, c2, b1, b2, b3, final_relu=True, own_strides=False):
        # The paper's block: the stride on the first 3x3 convolution, the second has stride 1.
        first, second = (None, None) if own_strides else (strides, 1)

        def run(x):
            y = np.maximum(_bn(_conv(x, c1, first), b1), 0)
            y = _bn(_conv(y, c2, second), b2) + _bn(_conv(x, ones[0]), b3)
            return np.maximum(y, 0) if final_relu else y

        return run

    orders = [
        (c1, c2, *b)
        for c1, c2 in itertools.permutations(threes)
        for b in itertools.permutations(bns)
    ]
    if _matches(model, x, [forward(*o) for o in orders]):
        return None
    if _matches(model, x, [forward(*o, final_relu=False) for o in orders]):
        return "Almost: apply ReLU after the addition too."
    if strides != 1 and _matches(model, x, [forward(*o, own_strides=True) for o in orders]):
        return (
            f"The stride is on the second 3x3 convolution. Option B puts strides={strides} "
            "on the first 3x3 convolution (the one applied to x) and on the 1x1 shortcut; "
            "the second 3x3 convolution has stride 1."
        )
    return (
        "The output differs from the reference block computed with the same weights: "
        "conv3x3(stride)-BN-ReLU-conv3x3-BN on x, plus conv1x1(stride)-BN on x, then ReLU. "
        f"Yours: {_describe(model)}."
    )


def check_bottleneck_block(expected, model):
    """Checks a rebuilt bottleneck block (identity shortcut); None when right."""
    input_shape = tuple(expected["input_shape"])
    problem = _shape_and_params(
        expected,
        model,
        input_shape,
        expected["params"],
        "1x1 (filters), 3x3 (filters) and 1x1 (4 * filters) convolutions without bias, "
        "each followed by BN",
    )
    if problem:
        return problem
    convs, bns = _of_type(model, "Conv2D"), _of_type(model, "BatchNormalization")
    ones = [c for c in convs if tuple(c.kernel_size) == (1, 1)]
    threes = [c for c in convs if tuple(c.kernel_size) == (3, 3)]
    if len(ones) != 2 or len(threes) != 1 or len(bns) != 3:
        return (
            "Expected two 1x1 Conv2D (reduce to filters, restore 4 * filters), one 3x3 Conv2D "
            f"and three BatchNormalization layers; found {_describe(model)}."
        )
    rng = np.random.default_rng(0)
    _randomize(model, rng)
    x = rng.normal(size=(2, *input_shape)).astype("float32")

    def forward(reduce, expand, b1, b2, b3, final_relu=True):
        def run(x):
            y = np.maximum(_bn(_conv(x, reduce, 1), b1), 0)
            y = np.maximum(_bn(_conv(y, threes[0], 1), b2), 0)
            y = _bn(_conv(y, expand, 1), b3) + x
            return np.maximum(y, 0) if final_relu else y

        return run

    orders = [
        (r, e, *b) for r, e in itertools.permutations(ones) for b in itertools.permutations(bns)
    ]
    if _matches(model, x, [forward(*o) for o in orders]):
        return None
    if _matches(model, x, [forward(*o, final_relu=False) for o in orders]):
        return "Almost: apply ReLU after the addition too (F(x) + x, then ReLU)."
    return (
        "The output differs from conv1x1-BN-ReLU-conv3x3-BN-ReLU-conv1x1-BN, + x, ReLU "
        f"computed with the same weights. Yours: {_describe(model)}."
    )


# ---------------------------------------------------------------- cases


def identity_case(name, input_shape, hint="", expected=STORED):
    return Case(
        name=name,
        inputs=lambda rng: {"input_shape": input_shape, "filters": input_shape[-1]},
        expected=expected,
        check=check_identity_block,
        hint=hint,
    )


def projection_case(name, input_shape, filters, strides=2, hint="", expected=STORED):
    return Case(
        name=name,
        inputs=lambda rng: {"input_shape": input_shape, "filters": filters, "strides": strides},
        expected=expected,
        check=check_projection_block,
        hint=hint,
    )


def bottleneck_case(name, input_shape, hint="", expected=STORED):
    return Case(
        name=name,
        inputs=lambda rng: {"input_shape": input_shape, "filters": input_shape[-1] // 4},
        expected=expected,
        check=check_bottleneck_block,
        hint=hint,
    )


def random_bottleneck_case(name, expected):
    def inputs(rng):
        size, filters = int(rng.integers(3, 9)), int(rng.integers(1, 5))
        return {
            "input_shape": (size, size + int(rng.integers(0, 3)), 4 * filters),
            "filters": filters,
        }

    return Case(name=name, inputs=inputs, expected=expected, check=check_bottleneck_block)


def random_identity_case(name, expected):
    def inputs(rng):
        size, channels = int(rng.integers(3, 10)), int(rng.integers(1, 9))
        return {
            "input_shape": (size, size + int(rng.integers(0, 3)), channels),
            "filters": channels,
        }

    return Case(name=name, inputs=inputs, expected=expected, check=check_identity_block)


def random_projection_case(name, expected):
    def inputs(rng):
        size = int(rng.integers(4, 11))
        channels = int(rng.integers(1, 9))
        filters = channels + int(rng.integers(1, 9))
        return {
            "input_shape": (size, size, channels),
            "filters": filters,
            "strides": int(rng.integers(1, 3)),
        }

    return Case(name=name, inputs=inputs, expected=expected, check=check_projection_block)


def _value_check(question_id, mistakes):
    """The answer is stored as a digest; a mistake is a value or another question's id."""

    def check(expected, received):
        if isinstance(received, bool) or not isinstance(received, (int, float, np.integer)):
            return f"Expected an integer, got {type(received).__name__} {received!r}."
        if answer_digest("05_resnet", question_id, received) == expected:
            return None
        for wrong, message in mistakes:
            if received == wrong or (isinstance(wrong, str) and _answers(wrong, received)):
                return f"You wrote {received:,}: {message}"
        return (
            f"You wrote {received:,}; that is not the count. List the projections stage by stage."
        )

    return check


def _answers(question_id, received) -> bool:
    """True when ``received`` is the answer of another value question."""
    question = next(q for q in QUESTIONS if q.id == question_id)
    return answer_digest("05_resnet", question_id, received) == question.public[0].expected()


QUESTIONS = with_stored(
    "05_resnet",
    (
        Question(
            id="identity_block",
            api=OWN_MODEL_RULE,
            points=3,
            answer="identity_block_model",
            kind="model",
            title="The residual block with an identity shortcut",
            public=(
                identity_case(
                    "8x8x16 input",
                    (8, 8, 16),
                    hint="y = Conv-BN-ReLU-Conv-BN(x); return ReLU(y + x) (y + x and "
                    "layers.Add()([y, x]) are the same); convolutions 3x3, padding='same', "
                    "use_bias=False.",
                ),
                identity_case(
                    "5x7x4 input",
                    (5, 7, 4),
                    hint="Use the filters argument, not a constant; the output keeps the input's "
                    "shape.",
                ),
            ),
        ),
        Question(
            id="projection_block",
            api=OWN_MODEL_RULE,
            points=3,
            answer="projection_block_model",
            kind="model",
            title="The residual block with a projection shortcut (option B)",
            public=(
                projection_case(
                    "8x8x16 -> 32 channels, stride 2",
                    (8, 8, 16),
                    32,
                    hint="The first 3x3 convolution and the 1x1 shortcut both use "
                    "strides=strides; the shortcut is Conv2D(filters, 1) then BN.",
                ),
                projection_case(
                    "7x7x3 -> 8 channels, stride 2 (odd size)",
                    (7, 7, 3),
                    8,
                    hint="With padding='same' a stride-2 3x3 convolution maps 7 pixels to 4, "
                    "and so does the stride-2 1x1 shortcut.",
                ),
                projection_case(
                    "stride 1 on a rectangular 6x9x4 input -> 12 channels (a change of width only)",
                    (6, 9, 4),
                    12,
                    strides=1,
                    hint="Use the strides argument: with strides=1 only the width changes, and "
                    "the 1x1 projection still matches the channels.",
                ),
            ),
        ),
        Question(
            id="bottleneck_block",
            api=OWN_MODEL_RULE,
            points=3,
            answer="bottleneck_block_model",
            kind="model",
            title="The bottleneck residual block (ResNet-50)",
            public=(
                bottleneck_case(
                    "8x8x16 input, filters 4",
                    (8, 8, 16),
                    hint="1x1 Conv2D(filters) - BN - ReLU - 3x3 Conv2D(filters, padding='same') "
                    "- BN - ReLU - 1x1 Conv2D(4 * filters) - BN, + x, ReLU; no biases.",
                ),
                bottleneck_case(
                    "a rectangular 5x7x8 input, filters 2",
                    (5, 7, 8),
                    hint="Use the filters argument, not a constant; the last 1x1 convolution "
                    "restores 4 * filters channels.",
                ),
            ),
        ),
        Question(
            id="bottleneck_256_weights",
            api=ARITHMETIC_RULE,
            points=1,
            answer="bottleneck_256_weights",
            kind="value",
            title="Convolution weights of a bottleneck block on 256 channels",
            public=(
                Case(
                    name="the count",
                    expected=STORED_DIGEST,
                    check=_value_check(
                        "bottleneck_256_weights",
                        (
                            (
                                256 * 64 + 9 * 64 * 64 + 64 * 256 + 4 * (64 + 64 + 256),
                                "that includes the BN layers; count the convolution weights only.",
                            ),
                            (2 * 9 * 64 * 64, "that is the basic block on 64 channels."),
                            (2 * 9 * 256 * 256, "that is a basic block on 256 channels."),
                        ),
                    ),
                    hint="Three convolutions without bias: 1x1 256 -> 64, 3x3 64 -> 64, "
                    "1x1 64 -> 256; a k x k convolution from C_in to C_out has k * k * C_in * "
                    "C_out weights.",
                ),
            ),
        ),
        Question(
            id="option_b_extra_params",
            api=ARITHMETIC_RULE,
            points=1,
            answer="option_b_extra_params",
            kind="value",
            title="Extra parameters of option B over option A in ResNet-20",
            public=(
                Case(
                    name="the count",
                    expected=STORED_DIGEST,
                    check=_value_check(
                        "option_b_extra_params",
                        (
                            (
                                16 * 32 + 32 * 64,
                                "those are the projections' weights; add their BN layers "
                                "(4 numbers per channel).",
                            ),
                            (
                                16 * 32 + 4 * 32,
                                "there are two stage transitions: 16 -> 32 and 32 -> 64.",
                            ),
                        ),
                    ),
                    hint="Option B projects only where the shape changes: at the first block of stages 2 "
                    "and 3. Each projection: C_in * C_out weights plus 4 * C_out for its BN.",
                ),
            ),
        ),
        Question(
            id="option_c_extra_params",
            api=ARITHMETIC_RULE,
            points=1,
            answer="option_c_extra_params",
            kind="value",
            title="Extra parameters of option C over option A in ResNet-20",
            public=(
                Case(
                    name="the count",
                    expected=STORED_DIGEST,
                    check=_value_check(
                        "option_c_extra_params",
                        (
                            (
                                3 * 256 + 512 + 2 * 1024 + 2048 + 2 * 4096,
                                "those are the projections' weights; "
                                "add their BN layers (4 numbers per channel).",
                            ),
                            (
                                "option_b_extra_params",
                                "that is option B; option C projects in all 9 blocks.",
                            ),
                        ),
                    ),
                    hint="All 9 shortcuts are projections: 3 in stage 1 (16 -> 16), the first of stage 2 "
                    "16 -> 32 then 2 x 32 -> 32, the first of stage 3 32 -> 64 then 2 x 64 -> 64.",
                ),
            ),
        ),
    ),
)

# The reflection questions, graded by a TA: `cnnlabs grade` collects the answers
# (autograder/manual.py); the model answers stay in the lab source's solution cells.
MANUAL = (
    ManualQuestion(id="degradation", points=1, title="Degradation: why the training error"),
    ManualQuestion(id="gradient_norms", points=1, title="Gradient norms at initialization"),
    ManualQuestion(id="lesion", points=1, title="The lesion study"),
)
