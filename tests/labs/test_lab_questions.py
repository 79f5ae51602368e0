"""The questions of every lab against real answers, without running the notebooks.

The solution's answers (every top-level `def` and every value answer of the
generated solution notebook) pass every public and hidden case, with fresh random
inputs for the hidden ones, judged as the grader judges them; typical mistakes
fail, through the check cell's own `checker(lab).results`, with the feedback a
student should read.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path

import numpy as np
import pytest

from autograder.labfiles import Lab, available_labs
from autograder.validate import validate
from cnnlabs.checks.checker import checker
from cnnlabs.checks.spec import load_questions, resolve_lab

ROOT = Path(__file__).resolve().parents[2]

# Value answers the solution computes from a model it builds in the notebook: the
# notebook tests (test_lab_notebooks.py) grade them; here they are left out.
NEEDS_NOTEBOOK_STATE = {("02_alexnet", "fc_param_share"), ("02_alexnet", "conv_mac_share")}


def _solution_namespace(lab: str) -> dict:
    """Executes the imports, every top-level `def` and the value answers of the solution."""
    import nbformat

    nb = nbformat.read(Lab(lab, ROOT).notebook("solution"), as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    namespace: dict = {}
    exec("import numpy as np\nimport keras\nfrom keras import layers", namespace)  # noqa: S102
    for match in re.finditer(r"^def \w+\(.*?(?=^\S)", code + "\nEND", re.M | re.S):
        exec(match.group(0), namespace)  # noqa: S102 - our own generated notebook
    for question in load_questions(lab):
        if question.kind == "value" and (lab, question.id) not in NEEDS_NOTEBOOK_STATE:
            match = re.search(
                rf"^{question.answer} = (?!\.\.\.).*?(?=^[^\s)]|\Z)", code, re.M | re.S
            )
            exec(match.group(0), namespace)  # noqa: S102
    return namespace


def test_labs_are_discovered_with_their_files():
    """Every labs/source/NN_name.py is a lab: the checker finds its questions by that stem."""
    labs = available_labs(ROOT)
    assert labs, "no lab sources in labs/source"
    for lab in labs:
        assert resolve_lab(lab) == lab
        assert Lab(lab, ROOT).questions.is_file() and Lab(lab, ROOT).hidden.is_file()


@pytest.mark.parametrize("lab", available_labs(ROOT))
def test_solution_passes_public_and_hidden_cases(lab):
    """As `cnnlabs assign --check` judges it (autograder.validate), hidden inputs freshly drawn."""
    seed = secrets.randbits(32)
    report = validate(Lab(lab, ROOT), seed=seed)
    assert [str(problem) for problem in report.problems] == [], f"hidden seed {seed}"


def _public(lab, qid, answer):
    """The outcomes of the public cases, as the lab's check cell computes them."""
    return checker(lab).results(qid, answer)


def _messages(outcomes):
    return [o.message for o in outcomes]


def _public_count(qid, lab="04_inception"):
    """How many public cases question ``qid`` has (every one must fail for a wrong module)."""
    return len(next(q for q in load_questions(lab) if q.id == qid).public)


# ---------------------------------------------------------------- labs 01-03


def test_convolution_that_ignores_the_stride_fails_only_the_stride_cases():
    def conv_no_stride(x, w, stride=1):
        out_h, out_w = x.shape[1] - w.shape[0] + 1, x.shape[2] - w.shape[1] + 1
        out = np.zeros((x.shape[0], out_h, out_w, w.shape[3]))
        for i in range(out_h):
            for j in range(out_w):
                patch = x[:, i : i + w.shape[0], j : j + w.shape[1], :]
                out[:, i, j, :] = np.tensordot(patch, w, axes=([1, 2, 3], [0, 1, 2]))
        return out

    outcomes = _public("01_lenet5", "conv2d_by_hand", conv_no_stride)
    assert [o.status for o in outcomes] == ["passed", "passed", "failed", "failed"]
    assert outcomes[2].message.startswith("answer: shape mismatch: expected shape (1, 3, 3, 2)")
    assert outcomes[2].hint.startswith("With stride s the output pixel (i, j)")


def test_output_size_without_padding_fails_the_padding_cases():
    outcomes = _public(
        "01_lenet5", "output_size", lambda n, k, stride=1, padding=0: (n - k) // stride + 1
    )
    assert [o.status for o in outcomes] == ["passed"] * 3 + ["failed", "passed", "failed"]
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

    outcome = _public("01_lenet5", "build_lenet5", build)[0]
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
    assert [o.status for o in outcomes] == ["passed", "failed", "failed", "passed"]
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
    assert [o.status for o in outcomes] == ["failed"] * 4
    assert [o.message for o in outcomes][0] == (
        "You returned 138,344,128: that leaves out the biases: one per filter and one per FC unit."
    )
    assert all("138,357,544" not in o.message + o.hint for o in outcomes)


# ---------------------------------------------------------------- lab 04


def _naive(order=(0, 1, 2, 3), relu=True):
    import keras
    from keras import layers

    def build(input_shape, filters_1x1, filters_3x3, filters_5x5):
        inputs = keras.Input(input_shape)
        act = "relu" if relu else None
        branches = [
            layers.Conv2D(filters_1x1, 1, padding="same", activation=act)(inputs),
            layers.Conv2D(filters_3x3, 3, padding="same", activation=act)(inputs),
            layers.Conv2D(filters_5x5, 5, padding="same", activation=act)(inputs),
            layers.MaxPooling2D(3, strides=1, padding="same")(inputs),
        ]
        return keras.Model(inputs, layers.Concatenate()([branches[i] for i in order]))

    return build


def test_naive_module_in_the_wrong_order_is_told_the_order():
    outcomes = _public("04_inception", "inception_naive", _naive(order=(1, 0, 2, 3)))
    assert [o.status for o in outcomes] == ["failed"] * _public_count("inception_naive")
    assert outcomes[0].message == (
        "The branches are right but concatenated in the order 3x3, 1x1, 5x5, pool; "
        "expected 1x1, 3x3, 5x5, pool."
    )


def test_naive_module_without_relu_is_told_to_add_it():
    outcomes = _public("04_inception", "inception_naive", _naive(relu=False))
    assert _messages(outcomes) == [
        "The convolutions have no activation: add activation='relu' to each Conv2D."
    ] * _public_count("inception_naive")


def test_naive_module_with_valid_padding_is_told_about_the_size():
    import keras
    from keras import layers

    def valid(input_shape, filters_1x1, filters_3x3, filters_5x5):
        inputs = keras.Input(input_shape)
        b = [
            layers.Conv2D(f, k)(inputs)
            for f, k in ((filters_1x1, 1), (filters_3x3, 3), (filters_5x5, 5))
        ]
        return keras.Model(
            inputs,
            layers.Concatenate()([layers.Cropping2D(2)(b[0]), layers.Cropping2D(1)(b[1]), b[2]]),
        )

    outcomes = _public("04_inception", "inception_naive", valid)
    assert outcomes[0].status == "failed"
    assert "Use padding='same' (and stride 1) in every branch" in outcomes[0].message


def test_bottleneck_that_projects_before_pooling_is_told_the_order():
    import keras
    from keras import layers

    def proj_first(
        input_shape, filters_1x1, reduce_3x3, filters_3x3, reduce_5x5, filters_5x5, pool_proj
    ):
        inputs = keras.Input(input_shape)

        def conv(x, f, k):
            return layers.Conv2D(f, k, padding="same", activation="relu")(x)

        branches = [
            conv(inputs, filters_1x1, 1),
            conv(conv(inputs, reduce_3x3, 1), filters_3x3, 3),
            conv(conv(inputs, reduce_5x5, 1), filters_5x5, 5),
            layers.MaxPooling2D(3, strides=1, padding="same")(conv(inputs, pool_proj, 1)),
        ]
        return keras.Model(inputs, layers.Concatenate()(branches))

    outcomes = _public("04_inception", "inception_bottleneck", proj_first)
    assert [o.status for o in outcomes] == ["failed"] * _public_count("inception_bottleneck")
    assert outcomes[0].message.startswith("The pooling branch applies the 1x1 projection before")


@pytest.mark.parametrize(
    "qid, wrong, message",
    [
        (
            "naive_5x5_params",
            102_400,
            "You wrote 102,400: those are the weights; add one bias per filter (64).",
        ),
        (
            "naive_5x5_macs_per_pixel",
            102_464,
            "You wrote 102,464: biases are additions, not "
            "multiply-accumulates; leave them out of the MACs.",
        ),
        (
            "bottleneck_5x5_params",
            53_248,
            "You wrote 53,248: those are the weights; add the biases "
            "of both convolutions (32 + 64).",
        ),
        (
            "naive_macs_28x28",
            153_600,
            "You wrote 153,600: that is per output pixel; multiply by the 28 * 28 pixels.",
        ),
        (
            "bottleneck_macs_28x28",
            10_035_200,
            "You wrote 10,035,200: add the 1x1 reduction: 28 * 28 * 192 * 16.",
        ),
    ],
)
def test_value_mistakes_are_named(qid, wrong, message):
    (outcome,) = _public("04_inception", qid, wrong)
    assert outcome.status == "failed"
    assert outcome.message == message


def test_paper_numbers():
    answers = _solution_namespace("04_inception")
    assert answers["naive_5x5_params"] == 102_464
    assert answers["naive_5x5_macs_per_pixel"] == 102_400
    assert answers["bottleneck_5x5_params"] == 53_344
    assert answers["bottleneck_5x5_macs_per_pixel"] == 53_248
    assert round(answers["naive_macs_28x28"] / 1e6, 1) == 120.4
    assert round(answers["bottleneck_macs_28x28"] / 1e6, 1) == 12.4


# ---------------------------------------------------------------- lab 05


def _identity(final_relu=True, use_bias=False):
    import keras
    from keras import layers

    def build(input_shape, filters):
        inputs = keras.Input(input_shape)
        y = layers.Conv2D(filters, 3, padding="same", use_bias=use_bias)(inputs)
        y = layers.ReLU()(layers.BatchNormalization()(y))
        y = layers.Conv2D(filters, 3, padding="same", use_bias=use_bias)(y)
        y = layers.Add()([layers.BatchNormalization()(y), inputs])
        return keras.Model(inputs, layers.ReLU()(y) if final_relu else y)

    return build


def test_identity_block_without_final_relu_is_told():
    outcomes = _public("05_resnet", "identity_block", _identity(final_relu=False))
    assert (
        _messages(outcomes)
        == ["Almost: apply ReLU after the addition too (the paper's F(x) + x, then ReLU)."] * 2
    )


def test_identity_block_with_biases_is_told_why_they_are_redundant():
    outcomes = _public("05_resnet", "identity_block", _identity(use_bias=True))
    assert outcomes[0].status == "failed"
    assert outcomes[0].message.startswith(
        "The block has 4,768 parameters, expected 4,736: the convolutions "
    )
    assert outcomes[0].message.endswith(
        "A convolution followed by batch normalization needs none "
        "(BN's beta does that job): use_bias=False."
    )


def test_block_without_shortcut_is_told_to_add_it():
    import keras
    from keras import layers

    def plain(input_shape, filters):
        inputs = keras.Input(input_shape)
        y = layers.Conv2D(filters, 3, padding="same", use_bias=False)(inputs)
        y = layers.ReLU()(layers.BatchNormalization()(y))
        y = layers.Conv2D(filters, 3, padding="same", use_bias=False)(y)
        return keras.Model(inputs, layers.ReLU()(layers.BatchNormalization()(y)))

    outcomes = _public("05_resnet", "identity_block", plain)
    assert outcomes[0].message == (
        "The block computes ReLU(F(x)) without the shortcut: add the block's input x to "
        "F(x) before the final ReLU (y + x, or layers.Add()([y, x]))."
    )


def test_projection_without_stride_on_the_shortcut_fails():
    import keras
    from keras import layers

    def no_stride(input_shape, filters, strides=2):
        inputs = keras.Input(input_shape)
        y = layers.Conv2D(filters, 3, strides=strides, padding="same", use_bias=False)(inputs)
        y = layers.ReLU()(layers.BatchNormalization()(y))
        y = layers.BatchNormalization()(
            layers.Conv2D(filters, 3, padding="same", use_bias=False)(y)
        )
        s = layers.BatchNormalization()(layers.Conv2D(filters, 1, use_bias=False)(inputs))
        s = layers.MaxPooling2D(1, strides=strides)(s)
        return keras.Model(inputs, layers.ReLU()(layers.Add()([y, s])))

    outcomes = _public("05_resnet", "projection_block", no_stride)
    assert outcomes[0].status == "failed"
    assert outcomes[0].message.startswith("The 1x1 projection must use strides=2")


def test_shortcut_option_counts_match_keras():
    """The value answers equal Keras's count of projections (1x1 conv + BN)."""
    import keras
    from keras import layers

    from autograder.references.lab05_resnet import STAGES, shortcut_extra_params

    def projections(option):
        total, c_in = 0, 16
        for filters, blocks in STAGES:
            for _ in range(blocks):
                if option == "C" or c_in != filters:
                    x = keras.Input((8, 8, c_in))
                    y = layers.BatchNormalization()(layers.Conv2D(filters, 1, use_bias=False)(x))
                    total += keras.Model(x, y).count_params()
                c_in = filters
        return total

    assert shortcut_extra_params("B") == projections("B") == 2_944
    assert shortcut_extra_params("C") == projections("C") == 14_912
    (outcome,) = _public("05_resnet", "option_c_extra_params", 2_944)
    assert (
        outcome.message == "You wrote 2,944: that is option B; option C projects in all 9 blocks."
    )


# ---------------------------------------------------------------- lab 06


def test_unbiased_variance_is_told_to_divide_by_m():
    def unbiased(x, gamma, beta, eps=1e-3):
        axes = tuple(range(x.ndim - 1))
        mean, var = x.mean(axis=axes), x.var(axis=axes, ddof=1)
        return gamma * (x - mean) / np.sqrt(var + eps) + beta, mean, var

    outcomes = _public("06_batchnorm", "batchnorm_train", unbiased)
    assert all(o.status == "failed" for o in outcomes)
    assert outcomes[0].message.startswith("var is the unbiased variance (divided by m - 1).")


def test_statistics_over_the_batch_axis_only_fail_the_image_case():
    def batch_axis_only(x, gamma, beta, eps=1e-3):
        mean, var = x.mean(axis=0), x.var(axis=0)
        return gamma * (x - mean) / np.sqrt(var + eps) + beta, mean, var

    outcomes = _public("06_batchnorm", "batchnorm_train", batch_axis_only)
    assert [o.status for o in outcomes] == ["passed", "failed", "passed", "failed", "failed"]
    assert outcomes[1].message.startswith("mean has shape (6, 6, 3), expected (3,)")
    assert outcomes[1].hint.startswith("For images the statistics run over batch, height and width")


def test_constant_eps_fails_only_the_eps_case():
    def fixed_eps(x, gamma, beta, eps=1e-3):
        axes = tuple(range(x.ndim - 1))
        mean, var = x.mean(axis=axes), x.var(axis=axes)
        return gamma * (x - mean) / np.sqrt(var + 1e-3) + beta, mean, var

    outcomes = _public("06_batchnorm", "batchnorm_train", fixed_eps)
    assert [o.status for o in outcomes] == ["passed", "passed", "failed", "passed", "passed"]
    assert outcomes[2].message == (
        "y was computed with eps=1e-3, but this case passes eps=0.1: use the eps argument, "
        "not a constant."
    )


def test_pytorch_momentum_convention_fails():
    outcomes = _public(
        "06_batchnorm",
        "update_moving_average",
        lambda moving, batch_value, momentum=0.99: (1 - momentum) * moving + momentum * batch_value,
    )
    assert all(o.status == "failed" for o in outcomes)
    assert outcomes[0].hint.startswith("Keras keeps momentum of the OLD average")


def test_fold_that_forgets_the_mean_fails_with_the_bias_named():
    def no_mean(kernel, bias, gamma, beta, moving_mean, moving_var, eps=1e-3):
        scale = gamma / np.sqrt(moving_var + eps)
        return kernel * scale, bias * scale + beta

    outcomes = _public("06_batchnorm", "fold_batchnorm", no_mean)
    assert all(o.status == "failed" for o in outcomes)
    assert outcomes[0].message.startswith("folded_bias")


def test_reference_batchnorm_matches_keras():
    """The lab's oracles agree with keras.layers.BatchNormalization within 1e-5."""
    import keras

    from autograder.references import lab06_batchnorm as ref

    rng = np.random.default_rng(0)
    x = (rng.normal(size=(8, 5, 5, 3)) * [1.0, 3.0, 0.5] + [0.0, 4.0, -2.0]).astype("float32")
    layer = keras.layers.BatchNormalization()
    layer.build(x.shape)
    y_train = np.asarray(layer(x, training=True))
    y_ref, mean, var = ref.batchnorm_train(x, np.ones(3), np.zeros(3))
    np.testing.assert_allclose(y_train, y_ref, atol=1e-5)
    np.testing.assert_allclose(
        layer.moving_mean.numpy(), ref.update_moving_average(0, mean), atol=1e-6
    )
    np.testing.assert_allclose(
        layer.moving_variance.numpy(), ref.update_moving_average(1, var), atol=1e-6
    )
    y_infer = np.asarray(layer(x, training=False))
    np.testing.assert_allclose(
        y_infer,
        ref.batchnorm_inference(
            x, np.ones(3), np.zeros(3), layer.moving_mean.numpy(), layer.moving_variance.numpy()
        ),
        atol=1e-5,
    )
