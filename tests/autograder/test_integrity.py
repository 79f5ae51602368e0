"""Integrity corpus: each trick that earned points with no work of its own, graded for real.

Small notebooks (a setup cell and the answer cells, no training) of the real labs,
graded through ``grade_batch`` in the sandbox (2 workers): every trick scores its
question 0 with status ``forbidden_api`` and a reason naming the call, cell and
line; indirection keeps its score but flags the submission ``needs_review`` in
grades.csv and summary.json; honest variety (loops or einsum, float32, Sequential
or functional, helpers of one's own) gets full marks. A lookup table of the
public configurations fails the hidden random ones without a kernel.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import nbfactory as f
import numpy as np
import pytest

from autograder.batch import grade_batch
from autograder.labfiles import available_labs
from autograder.sandbox import GiB, Limits
from cnnlabs.checks.checker import produce
from cnnlabs.checks.spec import case_seed, load_hidden, load_questions, make_inputs
from cnnlabs.checks.verdict import judge

ROOT = Path(__file__).resolve().parents[2]

# The imports each lab's answers use (a kernel that imports less starts faster).
SETUP = {
    "01_lenet5": "import math\n\nimport keras\nimport numpy as np\nimport tensorflow as tf\n"
    "from keras import layers\n\nfrom cnnlabs import arithmetic\n"
    "from cnnlabs.models import build_model",
    "02_alexnet": "import numpy as np\nimport tensorflow as tf",
    "03_vgg_receptive_fields": "from cnnlabs import arithmetic",
    "06_batchnorm": "import numpy as np",
}

CONV_TF = (
    "def conv2d_by_hand(x, w, stride=1):\n"
    "    return tf.nn.conv2d(x.astype('float32'), w.astype('float32'), stride, 'VALID').numpy()"
)
OUTPUT_SIZE_LIBRARY = (
    "def output_size(n, k, stride=1, padding=0):\n"
    "    return arithmetic.conv_output_size(n, k, stride, padding)"
)
LENET_LIBRARY = (
    "def build_lenet5(input_shape=(32, 32, 1), num_classes=10):\n"
    "    return build_model('lenet5', input_shape=input_shape, num_classes=num_classes)"
)
READ_QUESTIONS = (
    "from cnnlabs.checks.lab01_lenet5 import QUESTIONS\n\n"
    "def conv_params(k, c_in, c_out):\n"
    "    case = next(q for q in QUESTIONS if q.id == 'conv_params').public[0]\n"
    "    return case.expected(k=k, c_in=c_in, c_out=c_out)['count']"
)
CONNECTIONS = (
    "def conv_connections(out_size, k, c_in, c_out):\n"
    "    return out_size * out_size * c_out * (k * k * c_in + 1)"
)
DENSE_INDIRECT = (
    "def dense_params(n_in, n_out):\n"
    "    product = getattr(math, 'pr' + 'od')\n"
    "    return product([n_in + 1, n_out])"
)

HONEST_01 = [
    "def windows(x, k, stride):\n"
    "    view = np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(1, 2))\n"
    "    return view[:, ::stride, ::stride]\n\n"
    "def conv2d_by_hand(x, w, stride=1):\n"
    "    x, w = np.asarray(x, np.float32), np.asarray(w, np.float32)\n"
    "    return np.einsum('bijcuv,uvco->bijo', windows(x, w.shape[0], stride), w)",
    "def output_size(n, k, stride=1, padding=0):\n"
    "    return math.floor((n + 2 * padding - k) / stride) + 1",
    "def build_lenet5(input_shape=(32, 32, 1), num_classes=10):\n"
    "    return keras.Sequential([\n"
    "        keras.Input(input_shape),\n"
    "        layers.Conv2D(6, 5, activation='tanh'), layers.AveragePooling2D(2),\n"
    "        layers.Conv2D(16, 5, activation='tanh'), layers.AveragePooling2D(2),\n"
    "        layers.Conv2D(120, 5, activation='tanh'), layers.Flatten(),\n"
    "        layers.Dense(84, activation='tanh'),\n"
    "        layers.Dense(num_classes, activation='softmax'),\n"
    "    ])",
    "def weights(k, c_in):\n    return k * k * c_in\n\n"
    "def conv_params(k, c_in, c_out):\n    return (weights(k, c_in) + 1) * c_out",
    CONNECTIONS,
    "def dense_params(n_in, n_out):\n    return n_in * n_out + n_out",
]

LRN_TF = (
    "def lrn(a, n=5, k=2.0, alpha=1e-4, beta=0.75):\n"
    "    out = tf.nn.local_response_normalization(\n"
    "        np.asarray(a, 'float32'), depth_radius=n // 2, bias=k, alpha=alpha, beta=beta)\n"
    "    return out.numpy()"
)
DROPOUT_LOOPS = (
    "def dropout(x, rate, training, seed=0):\n"
    "    if not training:\n        return x\n"
    "    keep = np.random.default_rng(seed).random(x.shape) >= rate\n"
    "    out = np.zeros_like(x)\n"
    "    for index in zip(*np.nonzero(keep)):\n"
    "        out[index] = x[index] / (1 - rate)\n"
    "    return out"
)
RF_LIBRARY = (
    "def receptive_fields(layers):\n"
    "    return [rf.size for rf in arithmetic.receptive_field(layers)]"
)


def vgg_formula(convs_per_block, input_size=224, in_channels=3, num_classes=1000):
    total, channels = 0, in_channels
    for convs, filters in zip(convs_per_block, (64, 128, 256, 512, 512)):
        for _ in range(convs):
            total += (9 * channels + 1) * filters
            channels = filters
    features = (input_size // 32) ** 2 * channels
    for units in (4096, 4096, num_classes):
        total += (features + 1) * units
        features = units
    return total


# Every configuration the public and the fixed hidden cases use, and their counts.
KNOWN_VGG = {
    ((2, 2, 3, 3, 3), 224, 3, 1000): None,
    ((2, 2, 4, 4, 4), 224, 3, 1000): None,
    ((1, 1, 2, 2, 2), 32, 3, 10): None,
    ((2, 2, 2, 2, 2), 224, 3, 1000): None,
    ((1, 1, 2, 2, 2), 224, 3, 1000): None,
    ((2, 2, 3, 3, 3), 64, 1, 200): None,
    ((2, 2, 2, 2, 2), 64, 1, 200): None,
    ((2, 2, 3, 3, 3), 96, 2, 7): None,
}
KNOWN_VGG = {key: vgg_formula(*key) for key in KNOWN_VGG}
VGG_TABLE = (
    f"VGG_COUNTS = {KNOWN_VGG!r}\n\n"
    "def vgg_params(convs_per_block, input_size=224, in_channels=3, num_classes=1000):\n"
    "    key = (tuple(convs_per_block), input_size, in_channels, num_classes)\n"
    "    return VGG_COUNTS.get(key, 138357544)"
)
STACKS = (
    "def stack_receptive_field(k, depth):\n    return 1 + depth * (k - 1)\n\n"
    "def stack_params(k, depth, channels):\n    return depth * (k * k * channels + 1) * channels\n\n"
    "def stack_macs(k, depth, channels, size):\n"
    "    return depth * size * size * channels * k * k * channels"
)
BATCHNORM_REFERENCE = (
    "from cnnlabs.checks import lab06_batchnorm as reference\n"
    "batchnorm_train = reference.batchnorm_train"
)

# lab -> submission -> (answer cells, {question: (score, status)}, total, needs_review)
CORPUS = {
    "01_lenet5": {
        "tricks": (
            [
                CONV_TF,
                OUTPUT_SIZE_LIBRARY,
                LENET_LIBRARY,
                READ_QUESTIONS,
                CONNECTIONS,
                DENSE_INDIRECT,
            ],
            {
                "conv2d_by_hand": (0, "forbidden_api"),
                "output_size": (0, "forbidden_api"),
                "build_lenet5": (0, "forbidden_api"),
                "conv_params": (0, "forbidden_api"),
                "conv_connections": (1, "passed"),
                "dense_params": (1, "passed"),
            },
            2,
            [
                "dense_params: code cell 7, line 2 (in dense_params) uses getattr with a "
                "computed name"
            ],
        ),
        "honest_variety": (
            HONEST_01,
            {
                q: (p, "passed")
                for q, p in (
                    ("conv2d_by_hand", 3),
                    ("output_size", 1),
                    ("build_lenet5", 3),
                    ("conv_params", 1),
                    ("conv_connections", 1),
                    ("dense_params", 1),
                )
            },
            10,
            [],
        ),
    },
    "02_alexnet": {
        "lrn_library": (
            [LRN_TF, DROPOUT_LOOPS],
            {"lrn": (0, "forbidden_api"), "dropout": (2, "passed")},
            2,
            [],
        ),
    },
    "03_vgg_receptive_fields": {
        "rf_library_vgg_table": (
            [RF_LIBRARY, VGG_TABLE, STACKS],
            {
                "receptive_fields": (0, "forbidden_api"),
                "stack_receptive_field": (0.5, "passed"),
                "stack_params": (1, "passed"),
                "stack_macs": (1, "passed"),
            },
            None,  # vgg_params: partial, checked below
            [],
        ),
    },
    "06_batchnorm": {
        "reference_alias": (
            [BATCHNORM_REFERENCE],
            {"batchnorm_train": (0, "forbidden_api")},
            0,
            [],
        ),
    },
}

REASONS = {
    ("01_lenet5", "tricks", "conv2d_by_hand"): (
        "forbidden_api: code cell 2, line 2 (in conv2d_by_hand) calls tf.nn.conv2d "
        "(tensorflow.nn.conv2d); this exercise may use NumPy only"
    ),
    ("01_lenet5", "tricks", "output_size"): (
        "forbidden_api: code cell 3, line 2 (in output_size) calls arithmetic.conv_output_size "
        "(cnnlabs.arithmetic.conv_output_size); this exercise may use Python arithmetic only "
        "(math and NumPy)"
    ),
    ("01_lenet5", "tricks", "build_lenet5"): (
        "forbidden_api: code cell 4, line 2 (in build_lenet5) calls build_model "
        "(cnnlabs.models.build_model); this exercise may use Keras layers of your own (not "
        "cnnlabs.models, cnnlabs.layers or keras.applications)"
    ),
    ("01_lenet5", "tricks", "conv_params"): (
        "forbidden_api: code cell 5, line 4 (in conv_params) uses QUESTIONS "
        "(cnnlabs.checks.lab01_lenet5.QUESTIONS); this exercise may use Python arithmetic only "
        "(math and NumPy)"
    ),
    ("02_alexnet", "lrn_library", "lrn"): (
        "forbidden_api: code cell 2, line 2 (in lrn) calls tf.nn.local_response_normalization "
        "(tensorflow.nn.local_response_normalization); this exercise may use NumPy only"
    ),
    ("03_vgg_receptive_fields", "rf_library_vgg_table", "receptive_fields"): (
        "forbidden_api: code cell 2, line 2 (in receptive_fields) calls "
        "arithmetic.receptive_field (cnnlabs.arithmetic.receptive_field); this exercise may "
        "use Python arithmetic only (math and NumPy)"
    ),
    ("06_batchnorm", "reference_alias", "batchnorm_train"): (
        "forbidden_api: code cell 2, line 2 (in batchnorm_train) uses reference.batchnorm_train "
        "(cnnlabs.checks.lab06_batchnorm.batchnorm_train); this exercise may use NumPy only"
    ),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    f.strong_sandbox_or_skip()
    root = tmp_path_factory.mktemp("integrity")
    limits = Limits(memory_bytes=3 * GiB, cell_timeout=120, submission_timeout=300)
    batches = {}
    for lab, submissions in CORPUS.items():
        folder = root / lab / "subs"
        folder.mkdir(parents=True)
        for name, (cells, *_) in submissions.items():
            f.write(folder / f"{name}.ipynb", [SETUP[lab], *cells], lab=lab)
        batches[lab] = grade_batch(
            lab, [folder], root / lab / "out", workers=2, limits=limits, progress=False
        )
    return batches


def _result(batches, lab, name):
    return next(r for r in batches[lab].results if r.submission == name)


CASES = [(lab, name) for lab, subs in CORPUS.items() for name in subs]


@pytest.mark.parametrize(("lab", "name"), CASES, ids=[n for _, n in CASES])
def test_each_trick_scores_its_question_zero_and_honest_work_full_marks(graded, lab, name):
    cells, expected, total, review = CORPUS[lab][name]
    result = _result(graded, lab, name)
    assert result.error == ""
    got = {q.id: (q.score, q.status) for q in result.questions if q.id in expected}
    assert got == expected, {q.id: q.reason for q in result.questions}
    for q in result.questions:
        if (lab, name, q.id) in REASONS:
            assert q.reason == REASONS[lab, name, q.id]
        if q.status == "forbidden_api":
            assert all(t.score == 0 for t in q.tests)
    if total is not None:
        assert result.score == total
    assert result.needs_review == review


def test_a_lookup_table_of_vgg_configurations_fails_the_random_hidden_ones(graded):
    result = _result(graded, "03_vgg_receptive_fields", "rf_library_vgg_table")
    vgg = next(q for q in result.questions if q.id == "vgg_params")
    random = [t for t in vgg.tests if "random" in t.name]
    assert vgg.status == "partial" and 0 < vgg.score < vgg.max_score
    assert random and all(t.status == "failed" for t in random)
    fixed = [(t.name, t.status) for t in vgg.tests if "random" not in t.name]
    assert all(status == "passed" for _, status in fixed), fixed


def test_grades_csv_and_summary_flag_needs_review(graded):
    batch = graded["01_lenet5"]
    rows = {r["submission"]: r for r in csv.DictReader((batch.out_dir / "grades.csv").open())}
    assert rows["tricks"]["status"] == "needs_review"
    assert rows["honest_variety"]["status"] == "graded"
    assert rows["tricks"]["conv2d_by_hand"] == "0" and rows["tricks"]["total"] == "2"
    summary = json.loads((batch.out_dir / "summary.json").read_text())
    assert summary["needs_review"] == {"tricks": CORPUS["01_lenet5"]["tricks"][3]}
    feedback = (batch.out_dir / "submissions" / "tricks" / "feedback.md").read_text()
    assert REASONS["01_lenet5", "tricks", "conv2d_by_hand"] in feedback


# ---------------------------------------------------------------- without a kernel


def _judge_all(lab: str, qid: str, answer, seed: int = 7):
    """Judges ``answer`` on the public and hidden cases, as the grader does (in-process)."""
    from autograder.judging import expected_value
    from autograder.labspec import default_hidden_dir

    questions = load_questions(lab)
    question = next(q for q in questions if q.id == qid)
    hidden = load_hidden(lab, default_hidden_dir(), questions).get(qid, ())
    outcomes = []
    for case, salt in [(c, "public") for c in question.public] + [
        (c, f"hidden{seed}") for c in hidden
    ]:
        inputs = make_inputs(case, case_seed(lab, qid, case.name, salt=salt))
        received = produce(question, answer, inputs)
        outcomes.append(
            (case.name, judge(question, case, expected_value(case, inputs), received).status)
        )
    return outcomes


@pytest.mark.parametrize(
    ("lab", "qid", "table"),
    [
        ("01_lenet5", "conv_params", {(5, 1, 6): 156, (5, 6, 16): 2416}),
        ("02_alexnet", "conv_macs", {(55, 11, 3, 96): 105_415_200, (13, 3, 384, 256): 149_520_384}),
        ("03_vgg_receptive_fields", "stack_params", {(3, 2, 64): 73_856, (5, 1, 64): 102_464}),
    ],
)
def test_a_lookup_table_of_the_public_counts_fails_the_hidden_random_ones(lab, qid, table):
    def lookup(*args, **kwargs):
        return table.get(tuple(kwargs.values()), 0)

    outcomes = _judge_all(lab, qid, lookup)
    public = [s for name, s in outcomes if not name.startswith("hidden")]
    hidden = [s for name, s in outcomes if name.startswith("hidden")]
    assert public and set(public) == {"passed"}
    assert hidden and set(hidden) == {"failed"}


@pytest.mark.parametrize("lab", available_labs(ROOT))
def test_no_public_check_of_a_fixed_value_prints_it(lab):
    """A value question's public case has a check of its own (a recognised mistake is
    named), never the default comparison that prints "expected 156, received 0"."""
    for question in load_questions(lab):
        if question.kind != "value":
            continue
        for case in question.public:
            assert case.check is not None, (lab, question.id, case.name)
            message = case.check(case.expected(), -1.0) or ""
            value = case.expected()
            count = value["count"] if isinstance(value, dict) else None
            if count is not None:
                assert f"{count:,}" not in message and repr(count) not in message


def test_a_wrong_count_names_the_mistake_without_the_answer():
    from cnnlabs.checks.checker import checker

    def no_bias(k, c_in, c_out):
        return k * k * c_in * c_out

    outcomes = checker("01_lenet5").results("conv_params", no_bias)
    assert [o.message for o in outcomes] == [
        "You returned 150: those are the weights; add one bias per output channel (c_out).",
        "You returned 2,400: those are the weights; add one bias per output channel (c_out).",
    ]
    assert np.all(["156" not in o.message and "2,416" not in o.message for o in outcomes])


def test_a_fixed_share_is_checked_without_its_value():
    from cnnlabs.checks.checker import checker

    check = checker("02_alexnet")
    messages = {
        answer: [o.message for o in check.results("fc_param_share", answer)]
        for answer in (0.93993, 0.94, 93.99, 0.06, 0.7)
    }
    assert messages == {
        0.93993: [""],
        0.94: [""],
        93.99: ["You wrote 93.99: that is a percentage; give the fraction between 0 and 1."],
        0.06: [
            "You wrote 0.06: fc6, fc7 and fc8 hold most of the parameters; that looks like the "
            "convolutions' share."
        ],
        0.7: ["You wrote 0.7; that is not it. Work it out step by step."],
    }
    source = Path(checker.__code__.co_filename).parent / "lab02_alexnet.py"
    assert "0.94" not in source.read_text() and "4096 * 1000" not in source.read_text()
