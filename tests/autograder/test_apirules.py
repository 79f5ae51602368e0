"""The API rules, read from the source with ast: tricks are caught, honest variety is not.

Cheap: no kernel runs. The cheats are cells appended to the real solution
notebooks (the last cell that binds an answer is the one the kernel keeps), so the
aliases the labs import (``tf``, ``np``, ``layers``, ``arithmetic``) are the real ones.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
from pathlib import Path

import nbformat
import pytest

from autograder.integrity import cell_label
from autograder.labfiles import available_labs
from cnnlabs.checks.apirules import (
    ARITHMETIC_RULE,
    NUMPY_ONLY_RULE,
    ApiRule,
    analyse,
    notebook_indirection,
)
from cnnlabs.checks.checker import checker
from cnnlabs.checks.spec import Question, load_questions

ROOT = Path(__file__).resolve().parents[2]
LABS = available_labs(ROOT)


# Lab 01's points (graded exercises only; written answers are graded by TAs).
LAB01_POINTS = sum(q.points for q in load_questions("01_lenet5"))


def solution_cells(lab: str, version: str = "solutions") -> list[str]:
    nb = nbformat.read(ROOT / version / f"{lab}.ipynb", as_version=4)
    return [c.source for c in nb.cells if c.cell_type == "code" and c.source.strip()]


def question(lab: str, qid: str) -> Question:
    return next(q for q in load_questions(lab) if q.id == qid)


def with_cell(lab: str, source: str) -> list[str]:
    """The solution notebook with one more cell at the end."""
    return [*solution_cells(lab), source]


def findings(lab: str, qid: str, source: str):
    q = question(lab, qid)
    cells = with_cell(lab, source)
    return analyse(cells, q.answer, q.api), len(cells) - 1


# ---------------------------------------------------------------- the labs as shipped


@pytest.mark.parametrize("version", ["solutions", "labs"])
@pytest.mark.parametrize("lab", LABS)
def test_solutions_and_student_notebooks_follow_every_rule(lab, version):
    cells = solution_cells(lab, version)
    for q in load_questions(lab):
        result = analyse(cells, q.answer, q.api)
        assert result.found, q.id
        assert (result.forbidden, result.indirection) == ([], []), q.id
    assert notebook_indirection(cells) == []


@pytest.mark.parametrize("lab", LABS)
def test_every_graded_question_declares_a_rule(lab):
    for q in load_questions(lab):
        assert q.api != ApiRule(), f"{lab} {q.id} has no API rule"


# ---------------------------------------------------------------- the tricks


TRICKS = [
    (
        "01_lenet5",
        "conv2d_by_hand",
        "def conv2d_by_hand(x, w, stride=1):\n"
        "    return tf.nn.conv2d(x, w, stride, 'VALID').numpy()\n",
        "line 2 (in conv2d_by_hand) calls tf.nn.conv2d (tensorflow.nn.conv2d)",
    ),
    (
        "02_alexnet",
        "lrn",
        "def lrn(a, n=5, k=2.0, alpha=1e-4, beta=0.75):\n"
        "    out = tf.nn.local_response_normalization(a, n // 2, k, alpha, beta)\n"
        "    return out.numpy()\n",
        "line 2 (in lrn) calls tf.nn.local_response_normalization "
        "(tensorflow.nn.local_response_normalization)",
    ),
    (
        "01_lenet5",
        "output_size",
        "def output_size(n, k, stride=1, padding=0):\n"
        "    return arithmetic.conv_output_size(n, k, stride, padding)\n",
        "line 2 (in output_size) calls arithmetic.conv_output_size "
        "(cnnlabs.arithmetic.conv_output_size)",
    ),
    (
        "03_vgg_receptive_fields",
        "receptive_fields",
        "def receptive_fields(layers):\n"
        "    return [rf.size for rf in arithmetic.receptive_field(layers)]\n",
        "line 2 (in receptive_fields) calls arithmetic.receptive_field "
        "(cnnlabs.arithmetic.receptive_field)",
    ),
    (
        "01_lenet5",
        "build_lenet5",
        "def build_lenet5(input_shape=(32, 32, 1), num_classes=10):\n"
        "    return build_model('lenet5', input_shape=input_shape, num_classes=num_classes)\n",
        "line 2 (in build_lenet5) calls build_model (cnnlabs.models.build_model)",
    ),
    (
        "06_batchnorm",
        "batchnorm_train",
        "from cnnlabs.checks import lab06_batchnorm as reference\n"
        "batchnorm_train = reference.batchnorm_train\n",
        "line 2 (in batchnorm_train) uses reference.batchnorm_train "
        "(cnnlabs.checks.lab06_batchnorm.batchnorm_train)",
    ),
    (
        "01_lenet5",
        "conv_params",
        "from cnnlabs.checks.lab01_lenet5 import QUESTIONS\n"
        "def conv_params(k, c_in, c_out):\n"
        "    return QUESTIONS[3].public[0].expected(k=k, c_in=c_in, c_out=c_out)['count']\n",
        "line 3 (in conv_params) uses QUESTIONS (cnnlabs.checks.lab01_lenet5.QUESTIONS)",
    ),
    (
        "02_alexnet",
        "dropout",
        "from autograder.references import lab02_alexnet as refs\n"
        "def dropout(x, rate, training, seed=0):\n"
        "    return refs.dropout(x, rate, training, seed)\n",
        "line 3 (in dropout) calls refs.dropout (autograder.references.lab02_alexnet.dropout)",
    ),
]


@pytest.mark.parametrize(("lab", "qid", "source", "said"), TRICKS, ids=[t[1] for t in TRICKS])
def test_each_trick_is_a_forbidden_call_named_with_its_line(lab, qid, source, said):
    result, cell = findings(lab, qid, source)
    assert result.found
    assert result.indirection == []
    described = [f.describe() for f in result.forbidden]
    assert described[0] == said
    assert all(f.cell == cell for f in result.forbidden)
    rule = question(lab, qid).api.describe()
    assert result.message(cell_label).startswith(
        f"this exercise may use {rule}: code cell {cell + 1}, {said}"
    )


CONV_SETUP = "import tensorflow as tf\nimport numpy as np\n"


@pytest.mark.parametrize(
    ("cells", "said"),
    [
        (
            ["from tensorflow import nn", "def conv(x, w, stride=1):\n    return nn.conv2d(x, w)"],
            "line 2 (in conv) calls nn.conv2d (tensorflow.nn.conv2d)",
        ),
        (
            ["import tensorflow.nn as tnn", "def conv(x, w, stride=1):\n    return tnn.conv2d(x)"],
            "line 2 (in conv) calls tnn.conv2d (tensorflow.nn.conv2d)",
        ),
        (
            [CONV_SETUP + "f = tf.nn.conv2d", "def conv(x, w, stride=1):\n    return f(x, w)"],
            "line 2 (in conv) calls f (tensorflow.nn.conv2d)",
        ),
        (
            [CONV_SETUP, "conv = lambda x, w, stride=1: tf.nn.conv2d(x, w, stride, 'VALID')"],
            "line 1 (in conv) calls tf.nn.conv2d (tensorflow.nn.conv2d)",
        ),
        (
            ["from tensorflow.nn import conv2d as conv"],
            "line 1 (in conv) uses tensorflow.nn.conv2d",
        ),
        (
            [CONV_SETUP, "def conv(x, w, stride=1):\n    return getattr(tf.nn, 'conv2d')(x, w)"],
            "line 2 (in conv) calls getattr(tf.nn, 'conv2d') (tensorflow.nn.conv2d)",
        ),
        (
            [
                CONV_SETUP,
                "def helper(x, w):\n    import scipy.signal as ss\n    return ss.correlate(x, w)",
                "def conv(x, w, stride=1):\n    return np.asarray(helper(x, w))",
            ],
            "line 2 (in helper) uses scipy.signal",
        ),
        (
            [
                CONV_SETUP,
                "class Conv:\n    def __call__(self, x, w, stride=1):\n"
                "        return tf.nn.conv2d(x, w, stride, 'VALID')\n",
                "conv = Conv()",
            ],
            "line 3 (in Conv) calls tf.nn.conv2d (tensorflow.nn.conv2d)",
        ),
        (
            [
                CONV_SETUP,
                "def conv(x, w, stride=1):\n    ...",
                "def cheat():\n    global conv\n    conv = tf.nn.conv2d\n",
                "cheat()",
            ],
            "line 3 (in conv) uses tf.nn.conv2d (tensorflow.nn.conv2d)",
        ),
        (
            [
                "from cnnlabs.checks import checker\ncheck = checker('01_lenet5')",
                "def conv(x, w, stride=1):\n    return check.questions['conv2d_by_hand']",
            ],
            "line 2 (in conv) uses check.questions (cnnlabs.checks.checker.questions)",
        ),
    ],
    ids=[
        "from-import",
        "dotted-alias",
        "assigned-alias",
        "lambda",
        "import-as-answer",
        "constant-getattr",
        "helper-local-import",
        "class-instance",
        "global-rebind",
        "checker-object",
    ],
)
def test_aliases_helpers_and_rebinding_are_resolved(cells, said):
    result = analyse(cells, "conv", NUMPY_ONLY_RULE)
    assert said in [f.describe() for f in result.forbidden]


@pytest.mark.parametrize(
    ("body", "what"),
    [
        ("getattr(tf.nn, 'conv' + '2d')(x, w)", "getattr with a computed name"),
        ("__import__('tensorflow').nn.conv2d(x, w)", "__import__"),
        ("eval('tf.nn.conv2d')(x, w)", "eval"),
        ("exec('y = 1')", "exec"),
        ("globals()['tf'].nn.conv2d(x, w)", "globals"),
        ("importlib.import_module('tensorflow').nn.conv2d(x, w)", "importlib.import_module"),
        ("sys.modules['tensorflow'].nn.conv2d(x, w)", "sys.modules"),
        ("compile('1', 'f', 'eval')", "compile"),
    ],
)
def test_indirection_in_an_answer_is_flagged_for_review(body, what):
    cells = [CONV_SETUP + "import importlib\nimport sys", f"def conv(x, w):\n    return {body}"]
    result = analyse(cells, "conv", ApiRule(forbid=("tensorflow.nn.conv2d",)))
    assert what in [f.text for f in result.indirection]
    assert all(f.line == 2 and f.where == "conv" for f in result.indirection)


def test_setattr_with_a_constant_name_is_plain_code():
    cells = [
        "class Box:\n    pass",
        "def f(x):\n    b = Box()\n    setattr(b, 'v', x)\n    setattr(b, x, 1)\n    return b",
    ]
    result = analyse(cells, "f", NUMPY_ONLY_RULE)
    assert [(f.text, f.line) for f in result.indirection] == [("setattr with a computed name", 4)]


def test_indirection_outside_the_answer_is_flagged_for_the_notebook():
    cells = [
        "import sys\nif 'google.colab' in sys.modules:\n    import importlib\n"
        "    importlib.invalidate_caches()",
        "def conv(x):\n    ...",
        "globals()['conv'] = lambda x: x",
        "%run other_notebook.ipynb",
        "%%writefile helper.py\nx = 1",
        "import importlib\nm = importlib.import_module('tensorflow')",
    ]
    assert notebook_indirection(cells) == [
        (2, 1, "globals"),
        (3, 1, "the magic %run"),
        (4, 1, "the magic %%writefile"),
        (5, 2, "importlib.import_module"),
    ]


HONEST = {
    "loops": "def conv(x, w, stride=1):\n"
    "    b, h, wd, c = x.shape\n    kh, kw, _, o = w.shape\n"
    "    out = np.zeros((b, (h - kh) // stride + 1, (wd - kw) // stride + 1, o))\n"
    "    for i in range(out.shape[1]):\n        for j in range(out.shape[2]):\n"
    "            for oc in range(o):\n"
    "                patch = x[:, i*stride:i*stride+kh, j*stride:j*stride+kw, :]\n"
    "                out[:, i, j, oc] = (patch * w[..., oc]).sum(axis=(1, 2, 3))\n"
    "    return out",
    "einsum-float32": "from numpy import einsum\n"
    "def conv(x, w, stride=1):\n"
    "    x = np.asarray(x, dtype=np.float32)\n"
    "    win = np.lib.stride_tricks.sliding_window_view(x, w.shape[:2], axis=(1, 2))\n"
    "    return einsum('bijcuv,uvco->bijo', win[:, ::stride, ::stride], w)",
    "own-helpers": "import math\n"
    "def out_len(n, k, s):\n    return math.floor((n - k) / s) + 1\n"
    "def patch_at(x, i, j, k):\n    return x[:, i:i + k, j:j + k, :]\n"
    "def conv(x, w, stride=1):\n"
    "    n = out_len(x.shape[1], w.shape[0], stride)\n"
    "    return np.stack([[np.tensordot(patch_at(x, i * stride, j * stride, w.shape[0]), w,"
    " axes=3) for j in range(n)] for i in range(n)], axis=1)",
    "shadowing-local": "def conv(x, w, stride=1):\n    tf = np\n    return tf.zeros(3)",
}


@pytest.mark.parametrize("name", HONEST)
def test_honest_variety_is_not_flagged(name):
    cells = [
        CONV_SETUP + "from cnnlabs.checks import checker\ncheck = checker('01')",
        "%matplotlib inline\n" + HONEST[name],
        "check('x', conv)",
    ]
    result = analyse(cells, "conv", NUMPY_ONLY_RULE)
    assert result.found
    assert (result.forbidden, result.indirection) == ([], [])


@pytest.mark.parametrize(
    "model",
    [
        "def build_lenet5(input_shape=(32, 32, 1), num_classes=10):\n"
        "    return keras.Sequential([keras.Input(input_shape), layers.Conv2D(6, 5, "
        "activation='tanh'), layers.AveragePooling2D(2), layers.Conv2D(16, 5, "
        "activation='tanh'), layers.AveragePooling2D(2), layers.Conv2D(120, 5, "
        "activation='tanh'), layers.Flatten(), layers.Dense(84, activation='tanh'), "
        "layers.Dense(num_classes, activation='softmax')])",
        "import tensorflow as tf\n"
        "def conv(n):\n    return tf.keras.layers.Conv2D(n, 5, activation='tanh')\n"
        "def build_lenet5(input_shape=(32, 32, 1), num_classes=10):\n"
        "    x = inputs = tf.keras.Input(input_shape)\n"
        "    for n in (6, 16):\n        x = tf.keras.layers.AveragePooling2D(2)(conv(n)(x))\n"
        "    x = tf.keras.layers.Flatten()(conv(120)(x))\n"
        "    x = tf.keras.layers.Dense(84, activation='tanh')(x)\n"
        "    return tf.keras.Model(inputs, tf.keras.layers.Dense(num_classes, "
        "activation='softmax')(x))",
    ],
    ids=["sequential", "functional-with-helper"],
)
def test_sequential_and_functional_models_are_both_allowed(model):
    result, _ = findings("01_lenet5", "build_lenet5", model)
    assert (result.forbidden, result.indirection) == ([], [])


def test_a_library_model_saved_and_loaded_back_is_forbidden():
    cells = [
        "build_model('lenet5').save('lenet5.keras')",
        "def build_lenet5(input_shape=(32, 32, 1), num_classes=10):\n"
        "    return keras.saving.load_model('lenet5.keras')",
    ]
    result, _ = findings("01_lenet5", "build_lenet5", "\n\n".join(cells))
    assert [f.describe() for f in result.forbidden] == [
        "line 4 (in build_lenet5) calls keras.saving.load_model"
    ]


def test_the_last_cell_that_binds_the_answer_is_judged():
    cheat = CONV_SETUP + "def conv(x, w, stride=1):\n    return tf.nn.conv2d(x, w, 1, 'VALID')"
    honest = "def conv(x, w, stride=1):\n    return np.zeros(3)"
    assert analyse([cheat, honest], "conv", NUMPY_ONLY_RULE).forbidden == []
    found = analyse([honest, cheat], "conv", NUMPY_ONLY_RULE).forbidden
    assert [f.describe() for f in found] == [
        "line 4 (in conv) calls tf.nn.conv2d (tensorflow.nn.conv2d)"
    ]


def test_an_answer_that_is_never_bound_is_not_found():
    result = analyse(["x = 1", "def f(:"], "conv", NUMPY_ONLY_RULE)
    assert (result.found, result.forbidden, result.indirection) == (False, [], [])


def test_rule_arguments_are_validated():
    with pytest.raises(ValueError) as info:
        ApiRule(forbid=(".nn",))
    assert str(info.value) == "ApiRule names must be dotted module or attribute names, got '.nn'."
    with pytest.raises(TypeError) as info:
        Question(id="q", points=1, answer="q", api="numpy")
    assert str(info.value) == (
        "Question 'q': api must be a cnnlabs.checks.apirules.ApiRule, got str."
    )
    assert ApiRule(forbid=("cnnlabs.models",)).describe() == (
        "anything but cnnlabs.models, cnnlabs.checks, autograder"
    )
    assert ARITHMETIC_RULE.is_forbidden("cnnlabs.arithmetic.conv_output_size")
    assert not ARITHMETIC_RULE.is_forbidden("math.floor")


# ---------------------------------------------------------------- the check cell


def test_the_check_cell_tells_the_rule_before_submission(tmp_path):
    path = tmp_path / "student_cells.py"
    path.write_text(
        "import numpy as np\nimport tensorflow as tf\n\n\n"
        "def conv2d_by_hand(x, w, stride=1):\n"
        "    return tf.nn.conv2d(x, w, stride, 'VALID').numpy()\n"
    )
    spec = importlib.util.spec_from_file_location("student_cells", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        checker("01_lenet5")("conv2d_by_hand", module.conv2d_by_hand)
    lines = out.getvalue().splitlines()
    public = len(question("01_lenet5", "conv2d_by_hand").public)
    assert lines[0] == (
        f"[conv2d_by_hand] A 2-D convolution by hand: {public}/{public} public tests passed"
    )
    assert lines[-1] == (
        "  NOT ALLOWED  this exercise may use NumPy only: student_cells.py, line 6 (in conv2d_by_hand) "
        "calls tf.nn.conv2d (tensorflow.nn.conv2d). The grader scores this question 0 while "
        "it does."
    )


def test_the_check_cell_reads_the_kernel_history_in_ipython():
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()

    def run(source):
        shell.run_cell(source, store_history=True)

    try:
        run("import tensorflow as tf\nfrom cnnlabs.checks import checker")
        run("check = checker('01_lenet5')")
        run(
            "def output_size(n, k, stride=1, padding=0):\n"
            "    from cnnlabs import arithmetic\n"
            "    return arithmetic.conv_output_size(n, k, stride, padding)"
        )
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            run("check('output_size', output_size)")
        assert out.getvalue().splitlines()[-1] == (
            "  NOT ALLOWED  this exercise may use Python arithmetic only (math and NumPy): "
            "In [3], line 2 (in output_size) uses cnnlabs.arithmetic; "
            "In [3], line 3 (in output_size) calls arithmetic.conv_output_size "
            "(cnnlabs.arithmetic.conv_output_size). The grader scores this question 0 while "
            "it does."
        )
        run(
            "def output_size(n, k, stride=1, padding=0):\n"
            "    return (n + 2 * padding - k) // stride + 1"
        )
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            run("check('output_size', output_size)")
        assert "NOT ALLOWED" not in out.getvalue()
        assert out.getvalue().splitlines()[-1] == (
            "  All public tests pass. Hidden tests check more cases when graded."
        )
    finally:
        InteractiveShell.clear_instance()


# ---------------------------------------------------------------- the grader's side, no kernel


def _passed_result(lab):
    from autograder.grade import QuestionResult, SubmissionResult, TestResult

    questions = [
        QuestionResult(
            q.id,
            q.title,
            float(q.points),
            float(q.points),
            "passed",
            "all tests passed",
            [TestResult("t", True, "passed", float(q.points), float(q.points))],
        )
        for q in load_questions(lab)
    ]
    total = sum(q.score for q in questions)
    return SubmissionResult("s", lab, total, total, questions, "strong", "key")


def test_integrity_zeroes_forbidden_questions_and_lists_indirection():
    from autograder.integrity import apply_api_rules

    result = _passed_result("01_lenet5")
    sources = [
        "import tensorflow as tf\nimport numpy as np",
        "def conv2d_by_hand(x, w, stride=1):\n    return tf.nn.conv2d(x, w, stride, 'VALID')",
        "def output_size(n, k, stride=1, padding=0):\n"
        "    return eval('(n + 2 * padding - k) // stride + 1')",
        "%run helpers.py",
        "open('mine.py', 'w').write('from cnnlabs.models import build_model')\nimport mine",
    ]
    apply_api_rules(result, load_questions("01_lenet5"), sources)
    by_id = {q.id: q for q in result.questions}
    assert (by_id["conv2d_by_hand"].score, by_id["conv2d_by_hand"].status) == (0.0, "forbidden_api")
    assert by_id["conv2d_by_hand"].reason == (
        "forbidden_api: code cell 2, line 2 (in conv2d_by_hand) calls tf.nn.conv2d "
        "(tensorflow.nn.conv2d); this exercise may use NumPy only"
    )
    assert [(t.score, t.status, t.message) for t in by_id["conv2d_by_hand"].tests] == [
        (0.0, "forbidden_api", by_id["conv2d_by_hand"].reason)
    ]
    assert (by_id["output_size"].score, by_id["output_size"].status) == (1.0, "passed")
    assert result.score == LAB01_POINTS - 3
    assert result.needs_review == [
        "output_size: code cell 3, line 2 (in output_size) uses eval",
        "notebook: code cell 3, line 2 uses eval",
        "notebook: code cell 4, line 1 uses the magic %run",
        "notebook: code cell 5, line 2 uses the module mine, not installed",
    ]


def test_hostile_nesting_is_left_for_review_not_a_crash():
    from autograder.integrity import apply_api_rules

    result = _passed_result("01_lenet5")
    deep = "def output_size(n, k, stride=1, padding=0):\n    return n" + ".real" * 2000
    apply_api_rules(result, load_questions("01_lenet5"), ["import numpy as np", deep])
    assert result.score == LAB01_POINTS
    assert (
        "output_size: the code could not be analysed (RecursionError); read it before "
        "trusting the score" in result.needs_review
    )


def test_ipython_syntax_the_analysis_does_not_know_is_flagged():
    assert notebook_indirection(["files = !ls\nprint(files)", "%alias_magic t time"]) == [
        (0, 1, "get_ipython"),
        (1, 1, "the magic %alias_magic"),
    ]
