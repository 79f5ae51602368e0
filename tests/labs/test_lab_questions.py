"""The questions of labs 01-03 against real answers, without running the notebooks.

The solution's functions (taken from the generated solution notebook) pass every
public and hidden case, with fresh random inputs for the hidden ones; typical
mistakes fail with the feedback a student should read.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from autograder.assign import Lab
from cnnlabs.checks.checker import CaseOutcome, judge, produce, run_public_case
from cnnlabs.checks.spec import load_hidden, load_questions, make_inputs

ROOT = Path(__file__).resolve().parents[2]
LABS = ("01_lenet5", "02_alexnet", "03_vgg_receptive_fields")


def _solution_functions(lab: str) -> dict:
    """Executes the imports and the `def` of every function/model answer of the solution."""
    import nbformat

    nb = nbformat.read(Lab(lab, ROOT).notebook("solution"), as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    namespace: dict = {}
    exec("import numpy as np\nimport keras\nfrom keras import layers", namespace)  # noqa: S102
    for question in load_questions(lab):
        if question.kind == "value":
            continue
        match = re.search(rf"^def {question.answer}\(.*?(?=^\S)", code + "\nEND", re.M | re.S)
        exec(match.group(0), namespace)  # noqa: S102 - our own generated notebook
    return namespace


def _hidden_outcome(question, case, answer, seed) -> CaseOutcome:
    inputs = make_inputs(case, seed)
    received = produce(question, answer, inputs)
    expected = None if case.expected is None else case.expected(**inputs)
    from cnnlabs.checks.plain import to_plain

    expected = expected if question.kind == "model" else to_plain(expected)
    return judge(question, case, expected, received)


@pytest.mark.parametrize("lab", LABS)
def test_solution_passes_public_and_hidden_cases(lab):
    answers = _solution_functions(lab)
    questions = load_questions(lab)
    hidden = load_hidden(lab, ROOT / "labs" / "hidden", questions)
    rng = np.random.default_rng()
    for question in questions:
        if question.kind == "value":
            continue
        answer = answers[question.answer]
        for case in question.public:
            outcome = run_public_case(lab, question, case, answer)
            assert outcome.passed, (question.id, case.name, outcome.message)
        for case in hidden.get(question.id, ()):
            outcome = _hidden_outcome(question, case, answer, int(rng.integers(2**32)))
            assert outcome.passed, (question.id, case.name, outcome.message)


def _question(lab, qid):
    return next(q for q in load_questions(lab) if q.id == qid)


def _public(lab, qid, answer):
    question = _question(lab, qid)
    return [run_public_case(lab, question, case, answer) for case in question.public]


def test_convolution_that_ignores_the_stride_fails_only_the_stride_case():
    def conv_no_stride(x, w, stride=1):
        out_h, out_w = x.shape[1] - w.shape[0] + 1, x.shape[2] - w.shape[1] + 1
        out = np.zeros((x.shape[0], out_h, out_w, w.shape[3]))
        for i in range(out_h):
            for j in range(out_w):
                patch = x[:, i : i + w.shape[0], j : j + w.shape[1], :]
                out[:, i, j, :] = np.tensordot(patch, w, axes=([1, 2, 3], [0, 1, 2]))
        return out

    outcomes = _public("01_lenet5", "conv2d_by_hand", conv_no_stride)
    assert [o.status for o in outcomes] == ["passed", "passed", "failed"]
    assert outcomes[2].message.startswith("answer: shape mismatch: expected shape (1, 3, 3, 2)")
    assert outcomes[2].hint.startswith("With stride s the output pixel (i, j)")


def test_output_size_without_padding_fails_the_padding_case():
    outcomes = _public(
        "01_lenet5", "output_size", lambda n, k, stride=1, padding=0: (n - k) // stride + 1
    )
    assert [o.status for o in outcomes] == ["passed", "passed", "passed", "failed"]
    assert outcomes[3].hint == "The padding is added on both sides: n + 2p."


def test_lenet5_with_max_pooling_is_told_about_average_pooling():
    import keras
    from keras import layers

    def build(input_shape=(32, 32, 1), num_classes=10):
        inputs = keras.Input(shape=input_shape)
        x = layers.Conv2D(6, 5, activation="tanh")(inputs)
        x = layers.MaxPooling2D(2)(x)
        x = layers.Conv2D(16, 5, activation="tanh")(x)
        x = layers.MaxPooling2D(2)(x)
        x = layers.Conv2D(120, 5, activation="tanh")(x)
        x = layers.Flatten()(x)
        x = layers.Dense(84, activation="tanh")(x)
        return keras.Model(inputs, layers.Dense(num_classes, activation="softmax")(x))

    [outcome] = _public("01_lenet5", "build_lenet5", build)
    assert outcome.status == "failed"
    assert outcome.message == (
        "Expected two AveragePooling2D layers (S2 and S4, 2x2 with stride 2, the paper's "
        "subsampling); found ['MaxPooling2D', 'MaxPooling2D']."
    )


def test_lrn_without_clipping_or_with_wrong_window_fails():
    def lrn_wrong_window(a, n=5, k=2.0, alpha=1e-4, beta=0.75):
        channels, out = a.shape[-1], np.empty_like(a, dtype="float64")
        for i in range(channels):  # window of n channels to the right only
            window = a[..., i : i + n]
            out[..., i] = a[..., i] / (k + alpha * np.sum(window**2, axis=-1)) ** beta
        return out

    outcomes = _public("02_alexnet", "lrn", lrn_wrong_window)
    assert [o.status for o in outcomes].count("failed") >= 2


def test_dropout_feedback():
    def no_scaling(x, rate, training, seed=0):
        if not training:
            return x
        return np.where(np.random.default_rng(seed).random(x.shape) >= rate, x, 0.0)

    def always_drops(x, rate, training, seed=0):
        return np.where(np.random.default_rng(seed).random(x.shape) >= rate, x / (1 - rate), 0.0)

    outcomes = _public("02_alexnet", "dropout", no_scaling)
    assert [o.status for o in outcomes] == ["passed", "failed", "failed"]
    assert outcomes[1].message == (
        "The kept elements are unchanged. Inverted dropout divides them by (1 - rate) so that "
        "the expected output equals the input."
    )
    outcomes = _public("02_alexnet", "dropout", always_drops)
    assert outcomes[0].status == "failed"
    assert outcomes[0].message.startswith("At inference (training=False) inverted dropout")


def test_receptive_fields_that_forget_the_jump_fail():
    def no_jump(layers):
        size, sizes = 1, []
        for kernel, _stride in layers:
            size += kernel - 1
            sizes.append(size)
        return sizes

    outcomes = _public("03_vgg_receptive_fields", "receptive_fields", no_jump)
    assert [o.status for o in outcomes] == ["passed", "failed", "failed"]


def test_vgg_params_without_biases_fails_with_the_counts():
    def no_biases(convs_per_block, input_size=224, in_channels=3, num_classes=1000):
        total, channels = 0, in_channels
        for convs, filters in zip(convs_per_block, (64, 128, 256, 512, 512)):
            for _ in range(convs):
                total += 9 * channels * filters
                channels = filters
        features = (input_size // 32) ** 2 * channels
        for units in (4096, 4096, num_classes):
            total += features * units
            features = units
        return total

    outcomes = _public("03_vgg_receptive_fields", "vgg_params", no_biases)
    assert [o.status for o in outcomes] == ["failed", "failed", "failed"]
    assert outcomes[0].message.startswith("answer: expected 138357544, received 138344128")
