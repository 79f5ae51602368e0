"""Questions of lab 04 (Inception): the naive and the bottleneck module, and their costs.

The module checks rebuild the student's module (config + weights, safe mode), give
every convolution random weights, and compare its output with a reference forward
pass computed from those same weights: this checks the branches, the activations,
the padding, the pooling and the concatenation order, not only the shapes.
The expected data (arguments, parameter counts) of the public cases is stored in
`cnnlabs/checks/expected/04_inception.json`, generated from
`autograder/references/lab04_inception.py` (grading side); the cost questions'
answers are stored only as digests. `labs/hidden/04_inception.py` adds randomized
widths and input shapes.

Reference: Szegedy et al., "Going deeper with convolutions", CVPR 2015 (Figure 2,
Table 1, Section 4).
"""

from __future__ import annotations

import itertools

import numpy as np

from cnnlabs.checks.apirules import ARITHMETIC_RULE, OWN_MODEL_RULE
from cnnlabs.checks.manual import ManualQuestion
from cnnlabs.checks.spec import Case, Question
from cnnlabs.checks.stored import STORED, STORED_DIGEST, answer_digest, with_stored

BRANCHES = ("1x1", "3x3", "5x5", "pool")


# ---------------------------------------------------------------- numeric reference


def _conv(x, layer, relu=True):
    import tensorflow as tf

    kernel = layer.kernel.numpy()
    y = tf.nn.conv2d(x, kernel, 1, "SAME").numpy()
    if layer.use_bias:
        y = y + layer.bias.numpy()
    return np.maximum(y, 0.0) if relu else y


def _pool(x):
    import tensorflow as tf

    return tf.nn.max_pool2d(x, 3, 1, "SAME").numpy()


def _randomize(model, rng):
    for layer in model.layers:
        weights = layer.get_weights()
        if weights:
            layer.set_weights([rng.normal(scale=0.3, size=w.shape).astype(w.dtype) for w in weights])


def _convs(model):
    import keras

    return [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]


def _describe_convs(convs) -> str:
    return ", ".join(
        f"{c.kernel_size[0]}x{c.kernel_size[1]} with {c.filters} filters" for c in convs
    ) or "none"


def _common_checks(expected, model, channels_out, n_convs, what):
    """Shape and parameter checks shared by both modules; None when right."""
    input_shape = tuple(expected["input_shape"])
    if tuple(model.input_shape[1:]) != input_shape:
        return (f"The model's input shape is {tuple(model.input_shape[1:])}, expected {input_shape}. "
                "Build your block on the tensor x you were given.")
    want = (None, input_shape[0], input_shape[1], channels_out)
    if tuple(model.output_shape) != want:
        if model.output_shape[1:3] != input_shape[:2]:
            return (f"The output shape is {model.output_shape}, expected {want}: the height and width "
                    "changed. Use padding='same' (and stride 1) in every branch, the pooling too.")
        return (f"The output shape is {model.output_shape}, expected {want}: the channels of the "
                f"four branches add up. {what}")
    convs = _convs(model)
    if len(convs) != n_convs:
        return (f"Expected {n_convs} Conv2D layers, found {len(convs)}: {_describe_convs(convs)}.")
    params = model.count_params()
    if params != expected["params"]:
        no_bias = [c.name for c in convs if not c.use_bias]
        extra = (f" The convolutions {', '.join(no_bias)} have no bias; GoogLeNet's do."
                 if no_bias else "")
        return (f"The module has {params:,} parameters, expected {expected['params']:,}. "
                f"Your convolutions: {_describe_convs(convs)}.{extra}")
    if any(c.padding != "same" for c in convs):
        return "Every convolution of the module uses padding='same'."
    if any(tuple(c.strides) != (1, 1) for c in convs):
        return "Every convolution of the module uses stride 1."
    return None


def _compare_branches(model, parts, rng, input_shape):
    """Compares the model's output with the reference parts concatenated in order."""
    x = rng.normal(size=(2, *input_shape)).astype("float32")
    received = np.asarray(model(x, training=False))
    reference = [part(x) for part in parts]
    want = np.concatenate(reference, axis=-1)
    if np.allclose(received, want, rtol=1e-4, atol=1e-4):
        return None
    for order in itertools.permutations(range(4)):
        if order == (0, 1, 2, 3):
            continue
        shuffled = np.concatenate([reference[i] for i in order], axis=-1)
        if shuffled.shape == received.shape and np.allclose(received, shuffled, rtol=1e-4, atol=1e-4):
            got = ", ".join(BRANCHES[i] for i in order)
            return (f"The branches are right but concatenated in the order {got}; "
                    "expected 1x1, 3x3, 5x5, pool.")
    return "mismatch"


def check_naive(expected, model):
    """Checks a rebuilt naive module; None when right."""
    input_shape = tuple(expected["input_shape"])
    f1, f3, f5 = expected["filters_1x1"], expected["filters_3x3"], expected["filters_5x5"]
    problem = _common_checks(expected, model, f1 + f3 + f5 + input_shape[-1], 3,
                             "The pooling branch keeps all input channels (no convolution after it).")
    if problem:
        return problem
    by_size = {c.kernel_size[0]: c for c in _convs(model)}
    if sorted(by_size) != [1, 3, 5] or [by_size[k].filters for k in (1, 3, 5)] != [f1, f3, f5]:
        return (f"Expected a 1x1 conv with {f1}, a 3x3 with {f3} and a 5x5 with {f5} filters; "
                f"found {_describe_convs(_convs(model))}.")
    rng = np.random.default_rng(0)
    _randomize(model, rng)
    parts = [lambda x, k=k: _conv(x, by_size[k]) for k in (1, 3, 5)] + [_pool]
    result = _compare_branches(model, parts, rng, input_shape)
    if result == "mismatch":
        linear = [lambda x, k=k: _conv(x, by_size[k], relu=False) for k in (1, 3, 5)] + [_pool]
        if _compare_branches(model, linear, rng, input_shape) is None:
            return "The convolutions have no activation: add activation='relu' to each Conv2D."
        return ("The output differs from the reference module with the same weights. Check: "
                "each convolution is applied to x (not to another branch), the pooling is "
                "MaxPooling2D(3, strides=1, padding='same') on x, and the order is 1x1, 3x3, 5x5, pool.")
    return result


def check_bottleneck(expected, model):
    """Checks a rebuilt bottleneck module; None when right."""
    input_shape = tuple(expected["input_shape"])
    e = expected
    problem = _common_checks(expected, model,
                             e["filters_1x1"] + e["filters_3x3"] + e["filters_5x5"] + e["pool_proj"], 6,
                             "The pooling branch ends with a 1x1 convolution with pool_proj filters.")
    if problem:
        return problem
    convs = _convs(model)
    big = {c.kernel_size[0]: c for c in convs if c.kernel_size[0] in (3, 5)}
    ones = {c.filters: c for c in convs if c.kernel_size[0] == 1}
    widths = {"filters_1x1": e["filters_1x1"], "reduce_3x3": e["reduce_3x3"],
              "reduce_5x5": e["reduce_5x5"], "pool_proj": e["pool_proj"]}
    if sorted(big) != [3, 5] or sorted(ones) != sorted(widths.values()):
        return (f"Expected four 1x1 convolutions with {sorted(widths.values())} filters (1x1 branch, "
                f"3x3 reduce, 5x5 reduce, pool proj), one 3x3 with {e['filters_3x3']} and one 5x5 "
                f"with {e['filters_5x5']}; found {_describe_convs(convs)}.")
    if big[3].kernel.shape[2] != e["reduce_3x3"] or big[5].kernel.shape[2] != e["reduce_5x5"]:
        return ("The 3x3 and 5x5 convolutions must take the output of their 1x1 reduction "
                f"({e['reduce_3x3']} and {e['reduce_5x5']} channels), not x itself.")
    rng = np.random.default_rng(0)
    _randomize(model, rng)
    parts = [
        lambda x: _conv(x, ones[e["filters_1x1"]]),
        lambda x: _conv(_conv(x, ones[e["reduce_3x3"]]), big[3]),
        lambda x: _conv(_conv(x, ones[e["reduce_5x5"]]), big[5]),
        lambda x: _conv(_pool(x), ones[e["pool_proj"]]),
    ]
    result = _compare_branches(model, parts, rng, input_shape)
    if result == "mismatch":
        swapped = parts[:3] + [lambda x: _pool(_conv(x, ones[e["pool_proj"]]))]
        if _compare_branches(model, swapped, rng, input_shape) is None:
            return ("The pooling branch applies the 1x1 projection before the pooling; the paper "
                    "pools first, then projects: MaxPooling2D then Conv2D(pool_proj, 1).")
        return ("The output differs from the reference module with the same weights. Check: a "
                "ReLU after every convolution (the reductions too), max pooling with stride 1 and "
                "padding='same' on x, and the order 1x1, 3x3, 5x5, pool.")
    return result


# ---------------------------------------------------------------- cases


def naive_case(name, input_shape, f1, f3, f5, hint="", expected=STORED):
    return Case(
        name=name,
        inputs=lambda rng: {"input_shape": input_shape, "filters_1x1": f1, "filters_3x3": f3,
                            "filters_5x5": f5},
        expected=expected,
        check=check_naive,
        hint=hint,
    )


def random_naive_case(name, expected):
    def inputs(rng):
        size = int(rng.integers(5, 12))
        f1, f3, f5 = (int(v) for v in rng.integers(1, 12, size=3))
        return {"input_shape": (size, size + int(rng.integers(0, 3)), int(rng.integers(1, 9))),
                "filters_1x1": f1, "filters_3x3": f3, "filters_5x5": f5}

    return Case(name=name, inputs=inputs, expected=expected, check=check_naive)


def bottleneck_case(name, input_shape, widths, hint="", expected=STORED):
    keys = ("filters_1x1", "reduce_3x3", "filters_3x3", "reduce_5x5", "filters_5x5", "pool_proj")
    return Case(
        name=name,
        inputs=lambda rng: {"input_shape": input_shape, **dict(zip(keys, widths))},
        expected=expected,
        check=check_bottleneck,
        hint=hint,
    )


def random_bottleneck_case(name, expected):
    def inputs(rng):
        size = int(rng.integers(5, 12))
        one_by_ones = [int(v) for v in rng.choice(np.arange(1, 17), size=4, replace=False)]
        return {"input_shape": (size, size, int(rng.integers(2, 17))),
                "filters_1x1": one_by_ones[0], "reduce_3x3": one_by_ones[1],
                "filters_3x3": int(rng.integers(1, 17)), "reduce_5x5": one_by_ones[2],
                "filters_5x5": int(rng.integers(1, 17)), "pool_proj": one_by_ones[3]}

    return Case(name=name, inputs=inputs, expected=expected, check=check_bottleneck)


def value_case(name, question_id, mistakes=(), hint=""):
    """A value case: the answer is stored as a digest; the check names common mistakes."""

    def check(expected, received):
        if isinstance(received, bool) or not isinstance(received, (int, float, np.integer)):
            return f"Expected an integer, got {type(received).__name__} {received!r}."
        if answer_digest("04_inception", question_id, received) == expected:
            return None
        for wrong, message in mistakes:
            if received == wrong or (isinstance(wrong, str) and _answers(wrong, received)):
                return f"You wrote {received:,}: {message}"
        return f"You wrote {received:,}; that is not the count. Write out the formula term by term."

    return Case(name=name, expected=STORED_DIGEST, check=check, hint=hint)


def _answers(question_id, received) -> bool:
    """True when ``received`` is the answer of another value question (a mistake named by id)."""
    question = next(q for q in QUESTIONS if q.id == question_id)
    expected = question.public[0].expected()
    return answer_digest("04_inception", question_id, received) == expected


def value_question(id, points, title, mistakes=(), hint=""):
    return Question(id=id, points=points, answer=id, kind="value", title=title,
                    api=ARITHMETIC_RULE,
                    public=(value_case("the count", id, mistakes, hint),))


QUESTIONS = with_stored("04_inception", (
    Question(
        id="inception_naive",
        api=OWN_MODEL_RULE,
        points=3,
        answer="naive_module",
        kind="model",
        title="The naive Inception module",
        public=(
            naive_case("16x16x8 input, filters 4/6/2", (16, 16, 8), 4, 6, 2,
                       hint="Four branches on the same x: Conv2D 1x1, 3x3, 5x5 (ReLU, "
                       "padding='same') and MaxPooling2D(3, strides=1, padding='same'), then "
                       "layers.Concatenate()([b1, b3, b5, pool])."),
            naive_case("7x9x3 input, filters 5/3/7", (7, 9, 3), 5, 3, 7,
                       hint="The output has filters_1x1 + filters_3x3 + filters_5x5 + channels "
                       "channels; use the filter arguments, not constants."),
            naive_case("a 4x4x1 input (smaller than the 5x5 kernel), filters 1/2/1", (4, 4, 1),
                       1, 2, 1,
                       hint="padding='same' keeps 4x4 even where the 5x5 kernel is larger than "
                       "the input; one input channel gives one pooled channel."),
        ),
    ),
    Question(
        id="inception_bottleneck",
        api=OWN_MODEL_RULE,
        points=4,
        answer="bottleneck_module",
        kind="model",
        title="The Inception module with dimension reductions",
        public=(
            bottleneck_case("12x12x16 input, widths 8, 6->10, 2->4, 3", (12, 12, 16),
                            (8, 6, 10, 2, 4, 3),
                            hint="The 3x3 and 5x5 convolutions take the output of their 1x1 "
                            "reduction; the pooling branch is MaxPooling2D then a 1x1 Conv2D."),
            bottleneck_case("module 3a widths, scaled down: 8x8x24 input, 8, 12->16, 2->4, 5",
                            (8, 8, 24), (8, 12, 16, 2, 4, 5),
                            hint="Every convolution has activation='relu' and padding='same'."),
            bottleneck_case("reductions wider than the input: 5x6x2 input, 3, 8->5, 6->2, 4",
                            (5, 6, 2), (3, 8, 5, 6, 2, 4),
                            hint="A reduction may have more channels than its input; use the "
                            "width arguments, not the input's channels."),
        ),
    ),
    value_question(
        "naive_5x5_params", 1, "Parameters of a naive 5x5 branch, 64 -> 64",
        mistakes=((5 * 5 * 64 * 64, "those are the weights; add one bias per filter (64)."),
                  (5 * 5 * 64 + 64, "a 5x5 filter spans all 64 input channels, and there are 64 "
                                    "filters: 5*5*64*64 weights.")),
        hint="k * k * C_in * C_out weights plus C_out biases."),
    value_question(
        "naive_5x5_macs_per_pixel", 1, "MACs per output pixel of the naive 5x5 branch",
        mistakes=(("naive_5x5_params", "biases are additions, not multiply-accumulates; leave "
                                         "them out of the MACs."),
                  (5 * 5 * 64, "that is one output channel; there are 64 of them at every pixel.")),
        hint="Each of the 64 outputs at a pixel is a dot product of length 5 * 5 * 64."),
    value_question(
        "bottleneck_5x5_params", 1, "Parameters of the reduced 5x5 branch, 64 -> 32 -> 64",
        mistakes=((64 * 32 + 5 * 5 * 32 * 64, "those are the weights; add the biases of both "
                                              "convolutions (32 + 64)."),
                  ((5 * 5 * 32 + 1) * 64, "add the 1x1 reduction too: (64 + 1) * 32.")),
        hint="Two convolutions: 1x1 from 64 to 32 channels, then 5x5 from 32 to 64."),
    value_question(
        "bottleneck_5x5_macs_per_pixel", 1, "MACs per output pixel of the reduced 5x5 branch",
        mistakes=((5 * 5 * 32 * 64, "add the 1x1 reduction: 64 * 32 MACs per pixel."),
                  ("bottleneck_5x5_params", "that is the parameter count; MACs leave "
                                                          "out the biases.")),
        hint="1 * 1 * 64 * 32 for the reduction plus 5 * 5 * 32 * 64 for the 5x5 convolution."),
    value_question(
        "naive_macs_28x28", 1, "MACs of the naive 5x5 branch of module 3a (28x28x192 -> 32)",
        mistakes=((5 * 5 * 192 * 32, "that is per output pixel; multiply by the 28 * 28 pixels."),),
        hint="28 * 28 output pixels, 32 outputs each, each a dot product of length 5 * 5 * 192."),
    value_question(
        "bottleneck_macs_28x28", 1, "MACs of the reduced 5x5 branch of module 3a (192 -> 16 -> 32)",
        mistakes=((28 * 28 * 5 * 5 * 16 * 32, "add the 1x1 reduction: 28 * 28 * 192 * 16."),
                  (192 * 16 + 5 * 5 * 16 * 32, "that is per output pixel; multiply by 28 * 28.")),
        hint="The 1x1 reduction (192 -> 16) and the 5x5 convolution (16 -> 32), both over 28 x 28 "
        "pixels."),
))

# The reflection questions, graded by a TA: `cnnlabs grade` collects the answers
# (autograder/manual.py); the model answers stay in the lab source's solution cells.
MANUAL = (
    ManualQuestion(id="time_vs_macs", points=1, title="Measured time against the MAC ratio"),
    ManualQuestion(id="inception_vs_plain", points=1, title="GoogLeNet against a plain CNN of the same size"),
    ManualQuestion(id="reduction_1x1", points=1, title="Why a 1x1 reduction keeps the information"),
)
