"""Typical mistakes in labs 04-06 score less than full marks; valid alternatives get full marks.

Three levels, cheapest first:

- the check cell's own verdict (`checker(lab).results`), and the hidden cases judged by
  the same check functions, for each mistake and each valid alternative;
- the grader's real path (`grade_batch`, the sandbox, hidden cases included) on small
  notebooks that hold only the answers: each mistake loses points on its question,
  each alternative gets them all, and the grader shows the check cell's message and
  hint (marked `notebooks`: it needs the strong sandbox and a few kernels);
- "Run all" on the generated student notebook with the mistakes that used to crash a
  later cell: it reaches the end, the fallback says so in one line (`notebooks`).
"""

from __future__ import annotations

import copy
import importlib.util
import textwrap
from pathlib import Path

import nbformat
import numpy as np
import pytest
from labrun import run_all, student_notebook_with

from autograder.labfiles import Lab
from cnnlabs.checks.checker import checker

ROOT = Path(__file__).resolve().parents[2]


def _public(lab, qid, answer):
    return checker(lab).results(qid, answer)


def _hidden(lab: str) -> dict:
    spec = importlib.util.spec_from_file_location(f"hidden_{lab}", Lab(lab, ROOT).hidden)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.HIDDEN


def _define(source: str, name: str):
    import keras
    from keras import layers

    namespace = {"np": np, "keras": keras, "layers": layers}
    exec(textwrap.dedent(source), namespace)  # noqa: S102 - the test's own answer text
    return namespace[name]


# ---------------------------------------------------------------- answers, as source text
# Each answer is source code, so that the same text is judged in-process and in a
# graded notebook.

IDENTITY = """
def identity_block(x, filters):
    y = layers.Conv2D(filters, 3, padding="same", use_bias={bias})(x)
    y = layers.ReLU()(layers.BatchNormalization()(y))
    y = layers.BatchNormalization()(layers.Conv2D(filters, 3, padding="same", use_bias={bias})(y))
    return layers.ReLU()({add})


def identity_block_model(input_shape, filters):
    inputs = keras.Input(input_shape)
    return keras.Model(inputs, identity_block(inputs, filters))
"""

PROJECTION = """
def projection_block(x, filters, strides=2):
    y = layers.Conv2D(filters, 3, strides={first}, padding="same", use_bias=False)(x)
    y = layers.ReLU()(layers.BatchNormalization()(y))
    y = layers.Conv2D(filters, 3, strides={second}, padding="same", use_bias=False)(y)
    y = layers.BatchNormalization()(y)
    s = layers.Conv2D(filters, 1, strides=strides, padding="same", use_bias=False)(x)
    return layers.ReLU()(keras.ops.add(y, layers.BatchNormalization()(s)))


def projection_block_model(input_shape, filters, strides=2):
    inputs = keras.Input(input_shape)
    return keras.Model(inputs, projection_block(inputs, filters, strides))
"""

ADDS = {
    "Add layer": "layers.Add()([y, x])",
    "y + x": "y + x",
    "keras.ops.add": "keras.ops.add(x, y)",
}


def identity(add="y + x", bias=False):
    return IDENTITY.format(add=ADDS.get(add, add), bias=bias)


def projection(stride_on="first"):
    first, second = ("strides", 1) if stride_on == "first" else (1, "strides")
    return PROJECTION.format(first=first, second=second)


BN_TRAIN = """
def batchnorm_train(x, gamma, beta, eps=1e-3):
    x = np.asarray(x, dtype="{dtype}")
    axes = tuple(range(x.ndim - 1))
    mean = x.mean(axis=axes)
    var = x.var(axis=axes{ddof})
    return gamma * (x - mean) / np.sqrt(var{eps}) + beta, mean, var
"""


def bn_train(dtype="float32", ddof="", eps=" + eps"):
    return BN_TRAIN.format(dtype=dtype, ddof=ddof, eps=eps)


BN_INFERENCE = """
def batchnorm_inference(x, gamma, beta, moving_mean, moving_var, eps=1e-3):
    return gamma * (x - moving_mean) / np.sqrt(moving_var{eps}) + beta
"""

UPDATE = """
def update_moving_average(moving, batch_value, momentum=0.99):
    return momentum * moving + (1.0 - momentum) * batch_value
"""

FOLD = """
def fold_batchnorm(kernel, bias, gamma, beta, moving_mean, moving_var, eps=1e-3):
    s = gamma / np.sqrt(moving_var + eps)
    return kernel * s, beta + (bias - moving_mean) * s
"""


# ---------------------------------------------------------------- lab 05: the check cell


@pytest.mark.parametrize("add", ["Add layer", "y + x", "keras.ops.add"])
def test_identity_block_passes_however_it_adds(add):
    outcomes = _public(
        "05_resnet", "identity_block", _define(identity(add), "identity_block_model")
    )
    assert [o.status for o in outcomes] == ["passed", "passed"], [o.message for o in outcomes]


def test_identity_block_without_the_shortcut_is_told_to_add_x():
    outcomes = _public(
        "05_resnet", "identity_block", _define(identity("y"), "identity_block_model")
    )
    assert [o.message for o in outcomes] == [
        "The block computes ReLU(F(x)) without the shortcut: add the block's input x to F(x) "
        "before the final ReLU (y + x, or layers.Add()([y, x]))."
    ] * 2


def test_projection_with_the_stride_on_the_second_conv_fails_with_that_named():
    answer = _define(projection("second"), "projection_block_model")
    outcomes = _public("05_resnet", "projection_block", answer)
    assert [o.status for o in outcomes] == ["failed", "failed", "passed"]  # stride 1: the same
    assert outcomes[0].message == (
        "The stride is on the second 3x3 convolution. Option B puts strides=2 on the first 3x3 "
        "convolution (the one applied to x) and on the 1x1 shortcut; the second 3x3 "
        "convolution has stride 1."
    )


def test_projection_with_keras_ops_add_passes():
    answer = _define(projection("first"), "projection_block_model")
    outcomes = _public("05_resnet", "projection_block", answer)
    assert [o.status for o in outcomes] == ["passed"] * 3, [o.message for o in outcomes]


def test_layer_table_counts_a_block_that_adds_with_ops():
    import keras

    from cnnlabs.analysis import layer_table

    model = _define(identity("keras.ops.add"), "identity_block_model")((8, 8, 4), 4)
    assert "Add" in [type(op).__name__ for op in model.operations]
    assert not any(type(layer).__name__ == "Add" for layer in model.layers)  # no Add *layer*
    table = layer_table(model)
    assert table.total_params == model.count_params() == 2 * (9 * 16) + 2 * 4 * 4
    assert isinstance(model, keras.Model)


# ---------------------------------------------------------------- lab 06: the check cell


def _judge_hidden(lab, qid, answer, seeds=range(3)):
    """Messages of the hidden cases (None when passed), judged by the cases' own checks."""
    from cnnlabs.checks.plain import compare, to_plain

    messages = []
    for seed in seeds:
        for case in _hidden(lab)[qid]:
            inputs = (
                case.inputs(np.random.default_rng(seed)) if callable(case.inputs) else case.inputs
            )
            expected = to_plain(case.expected(**copy.deepcopy(inputs)))
            received = to_plain(answer(**copy.deepcopy(inputs)))
            if case.check is not None:
                message = case.check(expected, received)
            else:
                message = compare(expected, received, case.rtol, case.atol)
            messages.append((case.name, message))
    return messages


def test_float32_batchnorm_train_passes_public_and_hidden_large_offsets():
    answer = _define(bn_train("float32"), "batchnorm_train")
    outcomes = _public("06_batchnorm", "batchnorm_train", answer)
    assert [o.status for o in outcomes] == ["passed"] * 5, [o.message for o in outcomes]
    failed = [
        (name, m) for name, m in _judge_hidden("06_batchnorm", "batchnorm_train", answer) if m
    ]
    assert failed == []


def test_float32_keras_itself_passes_the_batchnorm_train_cases():
    """The tolerance is what float32 Keras reaches: its own layer passes every case."""
    from cnnlabs.checks import fallbacks

    outcomes = _public("06_batchnorm", "batchnorm_train", fallbacks.batchnorm_train)
    assert [o.status for o in outcomes] == ["passed"] * 5
    judged = _judge_hidden("06_batchnorm", "batchnorm_train", fallbacks.batchnorm_train)
    assert [(name, m) for name, m in judged if m] == []


def test_float32_tolerance_still_catches_a_cancelling_variance_formula():
    """E[x^2] - E[x]^2 in float32 loses the variance when the mean is large."""
    source = bn_train("float32").replace("x.var(axis=axes)", "(x**2).mean(axis=axes) - mean**2")
    outcomes = _public("06_batchnorm", "batchnorm_train", _define(source, "batchnorm_train"))
    assert outcomes[3].name == "large offsets: channel means up to 200, far from their spread"
    assert outcomes[3].status == "failed"


def test_missing_eps_is_named_in_training_and_inference():
    answer = _define(bn_train("float64", eps=""), "batchnorm_train")
    outcomes = _public("06_batchnorm", "batchnorm_train", answer)
    assert [o.status for o in outcomes] == ["failed"] * 5
    assert outcomes[0].message == (
        "y is right except for eps: it is missing. Add eps inside the square root: "
        "x_hat = ... / sqrt(var + eps)."
    )
    assert outcomes[4].message.startswith("y contains NaN or inf: a channel whose values are")
    answer = _define(BN_INFERENCE.format(eps=""), "batchnorm_inference")
    outcomes = _public("06_batchnorm", "batchnorm_inference", answer)
    assert outcomes[0].message == (
        "y is right except for eps: it is missing. Add eps inside the square root: "
        "y = ... / sqrt(var + eps)."
    )
    assert "moving" not in outcomes[0].hint.split("with the")[0].replace("moving_", "")


def test_batch_statistics_at_inference_are_named():
    def batch_statistics(x, gamma, beta, moving_mean, moving_var, eps=1e-3):
        axes = tuple(range(x.ndim - 1))
        return gamma * (x - x.mean(axis=axes)) / np.sqrt(x.var(axis=axes) + eps) + beta

    outcomes = _public("06_batchnorm", "batchnorm_inference", batch_statistics)
    assert [o.status for o in outcomes] == ["failed", "failed"]
    assert outcomes[0].message.startswith(
        "y is normalized with the mean and variance of x (the batch). At inference use the "
        "given moving_mean and moving_var"
    )


def test_a_ddof_bug_is_never_told_about_eps():
    answer = _define(bn_train("float64", ddof=", ddof=1"), "batchnorm_train")
    outcomes = _public("06_batchnorm", "batchnorm_train", answer)
    assert all(o.message.startswith("var is the unbiased variance") for o in outcomes)
    assert not any("not a constant" in o.hint + o.message for o in outcomes)


# ---------------------------------------------------------------- public cases cover hidden ones


def test_public_cases_cover_what_the_hidden_cases_test():
    def names(lab, qid):
        return [c.name for c in checker(lab).questions[qid].public]

    assert "large offsets: channel means up to 200, far from their spread" in names(
        "06_batchnorm", "batchnorm_train"
    )
    assert "a constant channel (variance 0)" in names("06_batchnorm", "batchnorm_train")
    assert "eps=1e-5, 3x3 kernel, 4 -> 3 channels" in names("06_batchnorm", "fold_batchnorm")
    assert any("stride 1" in n for n in names("05_resnet", "projection_block"))
    assert any("smaller than the 5x5 kernel" in n for n in names("04_inception", "inception_naive"))
    assert any("wider than the input" in n for n in names("04_inception", "inception_bottleneck"))

    # an answer that ignores its arguments fails a public case, not only a hidden one
    def fixed_stride(input_shape, filters, strides=2):
        return _define(projection("first"), "projection_block_model")(input_shape, filters, 2)

    outcomes = _public("05_resnet", "projection_block", fixed_stride)
    assert [o.status for o in outcomes] == ["passed", "passed", "failed"]


# ---------------------------------------------------------------- the grader's real path


def _submission(path: Path, lab: str, *answers: str) -> Path:
    setup = (
        "import numpy as np\nimport keras\nfrom keras import layers\n"
        f"from cnnlabs.checks import checker\ncheck = checker({lab!r})"
    )
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(setup)]
    nb.cells += [nbformat.v4.new_code_cell(textwrap.dedent(a).strip()) for a in answers]
    nb.metadata["cnnlabs"] = {"lab": lab, "version": "student"}
    path.write_text(nbformat.writes(nb))
    return path


def _grade(lab: str, tmp_path: Path, submissions: dict[str, tuple[str, ...]]) -> dict:
    from autograder.batch import grade_batch
    from tests.autograder.nbfactory import strong_sandbox_or_skip

    strong_sandbox_or_skip()
    subs = tmp_path / "subs"
    subs.mkdir()
    for name, answers in submissions.items():
        _submission(subs / f"{name}.ipynb", lab, *answers)
    batch = grade_batch(
        lab,
        [subs],
        tmp_path / "out",
        workers=1,
        hidden_dir=ROOT / "labs" / "hidden",
        progress=False,
    )
    return {r.submission: {q.id: q for q in r.questions} for r in batch.results}


def _same_feedback_as_the_check_cell(lab, qid, answer, graded_question):
    cell = _public(lab, qid, answer)
    graded = [t for t in graded_question.tests if t.public]
    assert [(t.name, t.message, t.hint) for t in graded] == [
        (o.name, o.message, o.hint) for o in cell
    ]


@pytest.mark.notebooks
def test_grader_lab05_mistakes_below_full_alternatives_full(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNLABS_PROFILE", "grade")
    results = _grade(
        "05_resnet",
        tmp_path,
        {
            "plus": (identity("y + x"), projection("first")),
            "ops_add": (identity("keras.ops.add"),),
            "mistakes": (identity("y + x", bias=True), projection("second")),
        },
    )
    for name, qids in (
        ("plus", ("identity_block", "projection_block")),
        ("ops_add", ("identity_block",)),
    ):
        for qid in qids:
            q = results[name][qid]
            assert q.score == q.max_score, (name, qid, [(t.name, t.message) for t in q.tests])
            assert any(not t.public for t in q.tests), "hidden cases ran"
    for qid in ("identity_block", "projection_block"):
        q = results["mistakes"][qid]
        assert q.score < q.max_score, qid
    _same_feedback_as_the_check_cell(
        "05_resnet",
        "projection_block",
        _define(projection("second"), "projection_block_model"),
        results["mistakes"]["projection_block"],
    )


@pytest.mark.notebooks
def test_grader_lab06_float32_full_mistakes_below_full_same_hints(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNLABS_PROFILE", "grade")
    results = _grade(
        "06_batchnorm",
        tmp_path,
        {
            "float32": (bn_train("float32"), BN_INFERENCE.format(eps=" + eps"), UPDATE, FOLD),
            "mistakes": (bn_train("float64", ddof=", ddof=1"), BN_INFERENCE.format(eps="")),
        },
    )
    for qid in (
        "batchnorm_train",
        "batchnorm_inference",
        "update_moving_average",
        "fold_batchnorm",
    ):
        q = results["float32"][qid]
        assert q.score == q.max_score, (qid, [(t.name, t.message) for t in q.tests])
    assert any(
        not t.public and "big offsets" in t.name
        for t in results["float32"]["batchnorm_train"].tests
    )
    for qid in ("batchnorm_train", "batchnorm_inference"):
        q = results["mistakes"][qid]
        assert q.score < q.max_score, qid
    _same_feedback_as_the_check_cell(
        "06_batchnorm",
        "batchnorm_train",
        _define(bn_train("float64", ddof=", ddof=1"), "batchnorm_train"),
        results["mistakes"]["batchnorm_train"],
    )
    _same_feedback_as_the_check_cell(
        "06_batchnorm",
        "batchnorm_inference",
        _define(BN_INFERENCE.format(eps=""), "batchnorm_inference"),
        results["mistakes"]["batchnorm_inference"],
    )


# ---------------------------------------------------------------- Run all after a mistake


@pytest.mark.notebooks
def test_lab05_runs_to_the_end_after_answers_that_used_to_crash(tmp_path, grade_profile):
    """An identity block built with keras.ops.add and biases (layer_table crashed on the op,
    the zoo comparison raised a bare AssertionError of dicts), a projection that raises."""
    nb = student_notebook_with(
        "05_resnet",
        {
            "identity_block": identity("keras.ops.add", bias=True),  # with its wrapper
            "projection_block": PROJECTION.split("def projection_block_model")[0].split(
                "    y = layers"
            )[0]
            + "    raise ValueError('which stride?')\n\n\ndef projection_block_model"
            + PROJECTION.split("def projection_block_model")[1],
        },
    )
    out = run_all(nb, tmp_path)  # raises if a cell raises
    assert (
        "Your projection_block cannot build the networks below (ValueError: which stride?); "
        "using the library's block instead so the rest of the lab runs." in out
    )
    assert "DIFFERS" in out
    assert "Your blocks give networks of another size than the library's" in out
    assert "lesion study:" in out  # the last experiment ran


@pytest.mark.notebooks
def test_lab06_runs_to_the_end_after_answers_that_used_to_crash(tmp_path, grade_profile):
    """Statistics over the batch axis only (the comparison with Keras broadcast them into
    an in-place update: "non-broadcastable output operand"), a fold of the wrong shape."""
    nb = student_notebook_with(
        "06_batchnorm",
        {
            "batchnorm_train": "def batchnorm_train(x, gamma, beta, eps=1e-3):\n"
            "    mean, var = x.mean(axis=0), x.var(axis=0)\n"
            "    return gamma * (x - mean) / np.sqrt(var + eps) + beta, mean, var\n",
            # the cell also holds batchnorm_inference, left as the stub
            "update_moving_average": "def batchnorm_inference(x, gamma, beta, moving_mean, "
            "moving_var, eps=1e-3):\n    ...  # YOUR CODE HERE\n\n\n"
            "def update_moving_average(moving, batch_value, "
            "momentum=0.99):\n    moving = np.array(moving, dtype=float)\n"
            "    moving *= momentum\n    moving += (1 - momentum) * batch_value\n"
            "    return moving\n",
            "fold_batchnorm": "def fold_batchnorm(kernel, bias, gamma, beta, moving_mean, "
            "moving_var, eps=1e-3):\n    return kernel[..., :1], bias\n",
        },
    )
    out = run_all(nb, tmp_path)
    assert "training output (batch statistics)     max |yours - Keras| < 1e-5: False" in out
    assert "Some of your functions differ from Keras's layer" in out
    assert "Your fold_batchnorm cannot be used here (ValueError: " in out
    assert "Your folded convolution differs" not in out  # the fallback folds correctly


# ---------------------------------------------------------------- the backward pass (lab 06)

BACKWARD_COMPACT = """
def batchnorm_backward(x, gamma, grad_y, eps=1e-3):
    axes = tuple(range(x.ndim - 1))
    n = x.size // x.shape[-1]
    x_hat = (x - x.mean(axis=axes)) / np.sqrt(x.var(axis=axes) + eps)
    g_beta, g_gamma = grad_y.sum(axis=axes), (grad_y * x_hat).sum(axis=axes)
    g_x = gamma / (n * np.sqrt(x.var(axis=axes) + eps)) * (n * grad_y - g_beta - x_hat * g_gamma)
    return g_x, g_gamma, g_beta
"""

BACKWARD_CONSTANT_STATISTICS = """
def batchnorm_backward(x, gamma, grad_y, eps=1e-3):
    axes = tuple(range(x.ndim - 1))
    x_hat = (x - x.mean(axis=axes)) / np.sqrt(x.var(axis=axes) + eps)
    g_x = gamma * grad_y / np.sqrt(x.var(axis=axes) + eps)
    return g_x, (grad_y * x_hat).sum(axis=axes), grad_y.sum(axis=axes)
"""


def test_backward_in_the_compact_form_passes_public_and_hidden_cases():
    answer = _define(BACKWARD_COMPACT, "batchnorm_backward")
    outcomes = _public("06_batchnorm", "batchnorm_backward", answer)
    assert [o.status for o in outcomes] == ["passed"] * 3, [o.message for o in outcomes]
    judged = _judge_hidden("06_batchnorm", "batchnorm_backward", answer)
    assert [(name, m) for name, m in judged if m] == []


def test_backward_matches_gradient_tape():
    """The reference the check compares with is what TensorFlow differentiates."""
    import keras
    import tensorflow as tf

    from autograder.references.lab06_batchnorm import batchnorm_backward

    rng = np.random.default_rng(3)
    x = rng.normal(size=(5, 3, 3, 2)) * [1.0, 3.0] + [2.0, -1.0]
    gamma, grad_y = rng.uniform(0.5, 2.0, 2), rng.normal(size=x.shape)
    layer = keras.layers.BatchNormalization(epsilon=1e-3, dtype="float64")
    layer.build(x.shape)
    layer.gamma.assign(gamma)
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        loss = tf.reduce_sum(layer(xt, training=True) * grad_y)
    grads = tape.gradient(loss, [xt, layer.gamma, layer.beta])
    for got, want in zip(batchnorm_backward(x, gamma, grad_y), grads):
        np.testing.assert_allclose(got, want.numpy(), rtol=1e-7, atol=1e-9)


def test_backward_with_constant_statistics_is_told_so():
    answer = _define(BACKWARD_CONSTANT_STATISTICS, "batchnorm_backward")
    outcomes = _public("06_batchnorm", "batchnorm_backward", answer)
    assert [o.message for o in outcomes] == [
        "grad_x is gamma * grad_y / sqrt(var + eps): it treats the batch mean and variance as "
        "constants. They depend on every x_i: add the terms through dl/dvar and dl/dmean "
        "(Section 3)."
    ] * 3


# ---------------------------------------------------------------- the bottleneck block (lab 05)

BOTTLENECK = """
def bottleneck_block(x, filters):
    y = layers.Conv2D(filters, 1, use_bias=False)(x)
    y = layers.ReLU()(layers.BatchNormalization()(y))
    y = layers.Conv2D(filters, 3, padding="same", use_bias=False)(y)
    y = layers.ReLU()(layers.BatchNormalization()(y))
    y = layers.BatchNormalization()(layers.Conv2D(4 * filters, 1, use_bias=False)(y))
    return {out}


def bottleneck_block_model(input_shape, filters):
    inputs = keras.Input(input_shape)
    return keras.Model(inputs, bottleneck_block(inputs, filters))
"""


def test_bottleneck_block_alternatives_pass_and_a_missing_relu_is_told():
    for out in ("layers.ReLU()(layers.Add()([x, y]))", "keras.ops.relu(keras.ops.add(y, x))"):
        answer = _define(BOTTLENECK.format(out=out), "bottleneck_block_model")
        outcomes = _public("05_resnet", "bottleneck_block", answer)
        assert [o.status for o in outcomes] == ["passed", "passed"], [o.message for o in outcomes]
    answer = _define(BOTTLENECK.format(out="y + x"), "bottleneck_block_model")
    outcomes = _public("05_resnet", "bottleneck_block", answer)
    assert [o.message for o in outcomes] == [
        "Almost: apply ReLU after the addition too (F(x) + x, then ReLU)."
    ] * 2


def test_bottleneck_weight_count_names_the_basic_block():
    (outcome,) = _public("05_resnet", "bottleneck_256_weights", 2 * 9 * 64 * 64)
    assert outcome.message == "You wrote 73,728: that is the basic block on 64 channels."
    (outcome,) = _public("05_resnet", "bottleneck_256_weights", 69_632)
    assert outcome.status == "passed"
