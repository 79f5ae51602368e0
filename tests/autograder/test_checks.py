"""The public side: plain data, the comparison, check cells and or_reference."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from autograder.labfiles import available_labs
from cnnlabs.checks import (
    Case,
    PlainDataError,
    Question,
    case_seed,
    checker,
    compare,
    is_unattempted,
    load_questions,
    or_reference,
    to_plain,
)

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures"
QUESTIONS = FIXTURES / "lab99_fixture.py"


@pytest.fixture
def check():
    return checker("99_fixture", questions_path=QUESTIONS)


def test_to_plain_accepts_plain_data_and_converts_numpy_scalars():
    data = {"a": [1, 2.5, True, None, "s"], "b": (np.int64(3), np.float32(0.5))}
    assert to_plain(data) == {"a": [1, 2.5, True, None, "s"], "b": (3, 0.5)}
    arr = to_plain(np.arange(6).reshape(2, 3))
    assert type(arr) is np.ndarray and arr.shape == (2, 3)


class AlwaysEqual:
    def __eq__(self, other):
        return True


class SneakyInt(int):
    def __eq__(self, other):
        return True


@pytest.mark.parametrize(
    "obj, message",
    [
        (
            AlwaysEqual(),
            "answer is of type test_checks.AlwaysEqual. Answers must be plain data: "
            "numbers, strings, bools, None, lists/tuples/dicts of them, or NumPy arrays/tensors "
            "of numbers.",
        ),
        (
            [1, SneakyInt(2)],
            "answer[1] is of type test_checks.SneakyInt. Answers must be plain "
            "data: numbers, strings, bools, None, lists/tuples/dicts of them, or NumPy "
            "arrays/tensors of numbers.",
        ),
        ({1: 2}, "answer has a key 1 of type int; dict keys must be str."),
        (
            np.array(["a"], dtype=object),
            "answer is a NumPy array of dtype object, expected a "
            "numeric dtype (bool, int, float, complex). Convert it, e.g. np.asarray(x, dtype=float).",
        ),
    ],
)
def test_to_plain_rejects_non_plain_data_with_a_clear_message(obj, message):
    with pytest.raises(PlainDataError) as info:
        to_plain(obj)
    assert str(info.value) == message


def test_compare_numbers_sequences_arrays_and_nan():
    assert compare((28, 28, 6), [28, 28, 6]) is None
    assert compare((28, 28, 6), np.array([28, 28, 6])) is None
    assert compare(1.0, 1.0 + 1e-9) is None
    assert compare(1.0, 1.1) == "answer: expected 1.0, received 1.1 (rtol=1e-05, atol=1e-08)."
    assert compare(float("nan"), float("nan")) is None
    assert compare(np.array([1.0, np.nan]), np.array([1.0, np.nan])) is None
    assert compare(np.array([1.0, np.nan]), np.array([1.0, 2.0])) == (
        "answer: 1 of 2 values differ (rtol=1e-05, atol=1e-08); first at index (1,): "
        "expected nan, received 2.0."
    )
    assert compare(np.zeros((2, 3)), np.zeros((3, 2))) == (
        "answer: shape mismatch: expected shape (2, 3), received shape (3, 2)."
    )
    assert compare(np.zeros((1, 3)), np.zeros(3)) is not None  # no broadcasting
    assert compare(True, 1) == "answer: expected True, received 1."
    assert compare(1, True) == "answer: expected the number 1, received True."
    assert compare({"a": 1}, {"a": 1, "b": 2}) == (
        "answer: dict keys differ: missing [], unexpected ['b']."
    )
    assert compare("relu", "relu") is None and compare("relu", "tanh") is not None


def test_stub_detection():
    def stub(x):
        """A docstring."""
        ...  # YOUR CODE HERE

    def done(x):
        return x

    assert is_unattempted(...) and is_unattempted(None) and is_unattempted(stub)
    assert not is_unattempted(done) and not is_unattempted(0)


def test_public_seed_is_fixed_per_lab_question_case():
    assert case_seed("99_fixture", "q", "c") == case_seed("99_fixture", "q", "c")
    assert case_seed("99_fixture", "q", "c") != case_seed("99_fixture", "q", "d")


def test_check_reports_pass_fail_and_hint(check, capsys):
    check("out_shape", (28, 28, 6))
    check("out_shape", (28, 27, 6))
    out = capsys.readouterr().out
    assert out == (
        "[out_shape] Output shape of conv1: 1/1 public tests passed\n"
        "  PASS  LeNet C1 on 32x32\n"
        "  All public tests pass. Hidden tests check more cases when graded.\n"
        "[out_shape] Output shape of conv1: 0/1 public tests passed\n"
        "  FAILED  LeNet C1 on 32x32\n"
        "    answer: 1 of 3 values differ (integers, compared exactly); first at index (1,): "
        "expected 28, received 27.\n"
        "        expected: (28, 28, 6)\n"
        "        received: (28, 27, 6)\n"
        "  Hint: (H - K) / S + 1 per spatial dimension.\n"
    )


def test_check_untouched_stub_says_not_attempted(check, capsys):
    def relu(x): ...  # YOUR CODE HERE

    check("relu", relu)
    check("out_shape", ...)
    out = capsys.readouterr().out
    assert out == (
        "[relu] ReLU: not attempted yet. Replace the `...` with your answer, then re-run.\n"
        "[out_shape] Output shape of conv1: not attempted yet. Replace the `...` with your "
        "answer, then re-run.\n"
    )


def test_check_exception_in_student_code_prints_trimmed_traceback_never_raises(check, capsys):
    def relu(x):
        return undefined_name  # noqa: F821

    check("relu", relu)
    out = capsys.readouterr().out
    assert out.startswith("[relu] ReLU: 0/1 public tests passed\n  ERROR  random matrix\n")
    assert "NameError: name 'undefined_name' is not defined" in out
    assert "cnnlabs/checks" not in out  # our frames are trimmed
    assert out.endswith("  Hint: max(x, 0) element-wise.\n")


def test_check_sys_exit_in_student_code_is_an_error_not_an_exit(check, capsys):
    def relu(x):
        raise SystemExit(0)

    check("relu", relu)
    out = capsys.readouterr().out
    assert "ERROR  random matrix" in out and "SystemExit: 0" in out


def test_check_always_equal_answer_fails(check, capsys):
    check("relu", lambda x: AlwaysEqual())
    out = capsys.readouterr().out
    assert "0/1 public tests passed" in out and "is of type test_checks.AlwaysEqual" in out


def test_check_unknown_question(check, capsys):
    check("nope", 1)
    assert capsys.readouterr().out == (
        "check: no question 'nope' in lab 99_fixture. Questions: out_shape, conv_size, relu.\n"
    )


def test_or_reference(capsys):
    assert or_reference(3, lambda: 5, "thing") == 3
    assert or_reference(..., lambda: 5, "thing") == 5
    assert capsys.readouterr().out == (
        "Exercise 'thing' is not done yet: using the reference implementation so the rest "
        "of the lab runs.\n"
    )

    def partial(x):
        y = x + 1  # noqa: F841
        ...

    assert or_reference(partial, lambda: "ref", "f", probe={"x": 1}) == "ref"


def test_question_and_case_validation():
    with pytest.raises(ValueError, match="kind='vector' is not one of value, function, model"):
        Question(id="q", points=1, answer="a", kind="vector")
    with pytest.raises(ValueError, match="has neither expected= nor check="):
        Case("c")
    with pytest.raises(ValueError) as info:
        load_questions("77")
    from cnnlabs.checks.spec import checks_modules

    assert str(info.value) == (
        f"lab='77' does not name a lab with questions. Known labs: "
        f"{', '.join(sorted(checks_modules()))}. Use the notebook stem (01_lenet5) or its "
        "number (1)."
    )


# ---------------------------------------------------------------- stored expected outputs


def _stored_questions(directory, size=3):
    from cnnlabs.checks.stored import STORED, STORED_DIGEST, with_stored

    def digest_check(expected, received):
        from cnnlabs.checks.stored import answer_digest

        ok = answer_digest("97_stored", "count", received) == expected
        return None if ok else "not the count"

    questions = (
        Question(
            id="double",
            points=1,
            answer="double",
            kind="function",
            public=(
                Case("a vector", inputs=lambda rng: {"x": rng.normal(size=size)}, expected=STORED),
            ),
        ),
        Question(
            id="count",
            points=1,
            answer="count",
            kind="value",
            public=(Case("the count", expected=STORED_DIGEST, check=digest_check),),
        ),
    )
    return with_stored("97_stored", questions, directory=directory)


def _write_stored(directory, questions):
    from autograder.references import compute_document, dumps

    document = compute_document(
        "97_stored", questions, {"double": lambda x: 2 * x, "count": lambda: 156}
    )
    (directory / "97_stored.json").write_text(dumps(document))
    return document


def test_stored_public_cases_judge_against_the_data(tmp_path):
    from cnnlabs.checks.checker import Checker

    questions = _stored_questions(tmp_path)
    document = _write_stored(tmp_path, questions)
    check = Checker("97_stored", questions)
    assert [o.status for o in check.results("double", lambda x: 2 * x)] == ["passed"]
    [wrong] = check.results("double", lambda x: 3 * x)
    assert wrong.status == "failed" and wrong.message.startswith("answer: 3 of 3 values differ")
    assert [o.status for o in check.results("count", 156)] == ["passed"]
    assert [o.status for o in check.results("count", 156.0)] == ["passed"]
    assert [o.message for o in check.results("count", 155)] == ["not the count"]
    # The value itself is not in the data, only its salted digest.
    stored = document["cases"]["count"]["the count"]["expected"]
    assert isinstance(stored, str) and len(stored) == 64 and "156" not in json.dumps(document)


def test_stored_case_refuses_missing_or_stale_data(tmp_path):
    from cnnlabs.checks.checker import Checker
    from cnnlabs.checks.stored import StaleExpectedError

    questions = _stored_questions(tmp_path)
    with pytest.raises(StaleExpectedError) as info:
        Checker("97_stored", questions).results("double", lambda x: 2 * x)
    assert str(info.value) == (
        f"{tmp_path / '97_stored.json'} does not exist: generate the public cases' expected "
        "outputs with `cnnlabs expected` (grading side)."
    )
    _write_stored(tmp_path, questions)
    changed = _stored_questions(tmp_path, size=4)  # same case, other inputs
    with pytest.raises(StaleExpectedError) as info:
        Checker("97_stored", changed).results("double", lambda x: 2 * x)
    assert str(info.value) == (
        "the stored expected output of lab 97_stored, question 'double', case 'a vector' was "
        "computed for other inputs: run `cnnlabs expected` (grading side)."
    )


def test_unbound_stored_marker_says_how_to_bind_it():
    from cnnlabs.checks.stored import STORED, StaleExpectedError

    with pytest.raises(StaleExpectedError) as info:
        STORED(x=1)
    assert str(info.value) == (
        "STORED was not bound to a lab: wrap the check module's questions in "
        "with_stored(lab, QUESTIONS)."
    )


def test_stored_encoding_round_trips_plain_data():
    from cnnlabs.checks.stored import decode, encode

    value = {
        "shape": (28, 28, 6),
        "parts": [np.arange(6, dtype="int32").reshape(2, 3), np.array([0.1, np.nan])],
        "flags": (True, None, "text", float("inf"), 2**70),
    }
    back = decode(json.loads(json.dumps(encode(value))))
    assert back["shape"] == (28, 28, 6) and back["flags"][:3] == (True, None, "text")
    assert back["flags"][3] == float("inf") and back["flags"][4] == 2**70
    assert back["parts"][0].dtype == np.int32 and back["parts"][0].shape == (2, 3)
    np.testing.assert_array_equal(back["parts"][1], value["parts"][1])
    with pytest.raises(TypeError, match="complex arrays cannot be stored."):
        encode(np.array([1j]))


def test_answer_digest_is_salted_per_question():
    from cnnlabs.checks.stored import answer_digest

    assert answer_digest("04_inception", "a", 156) == answer_digest("04_inception", "a", 156.0)
    assert answer_digest("04_inception", "a", 156) != answer_digest("04_inception", "b", 156)
    assert answer_digest("04_inception", "a", 156) != answer_digest("05_resnet", "a", 156)


def test_the_labs_stored_expected_outputs_are_current():
    """`cnnlabs expected --check`: the data equals what the references compute now."""
    from autograder import references

    assert references.labs_with_references() == available_labs(ROOT)  # every lab has them
    assert references.stale() == []


def test_stored_expected_outputs_are_stale_when_a_value_changes_not_by_float32_rounding(tmp_path):
    """TF releases differ in the last bit of LRN's float32 output; a changed value is stale."""
    import json

    from autograder import references

    data = json.loads(references.dumps(references.compute("02_alexnet")))
    lrn = data["cases"]["lrn"]["n=3, k=1, alpha=1, beta=1 on 4 channels"]["expected"]["array"]
    value = lrn[0][1][1][2]
    lrn[0][1][1][2] = float(np.nextafter(np.float32(value), np.float32(1)))  # one float32 ulp
    (tmp_path / "02_alexnet.json").write_text(json.dumps(data))
    assert references.stale(["02_alexnet"], expected_dir=tmp_path) == []
    lrn[0][1][1][2] = value * 1.001
    (tmp_path / "02_alexnet.json").write_text(json.dumps(data))
    assert references.stale(["02_alexnet"], expected_dir=tmp_path) == [
        str(tmp_path / "02_alexnet.json")
    ]


def test_no_check_module_holds_a_reference():
    """The questions modules carry data and checks; the references live in autograder."""
    import importlib

    from autograder.references import labs_with_references

    for lab in labs_with_references():
        module = importlib.import_module(f"cnnlabs.checks.lab{lab}")
        reference = importlib.import_module(f"autograder.references.lab{lab}")
        defined = {
            name
            for name, value in vars(reference).items()
            if callable(value) and getattr(value, "__module__", "") == reference.__name__
        }
        assert len(defined) >= 4
        assert not defined & set(vars(module)), lab
        assert "EXPECTED" not in vars(module)


# ---------------------------------------------------------------- fallbacks


def test_batchnorm_fallbacks_match_the_references():
    from autograder.references import lab06_batchnorm as ref
    from cnnlabs.checks import fallbacks

    rng = np.random.default_rng(1)
    x = rng.normal(size=(8, 4, 4, 3)) * [1.0, 3.0, 0.5] + [0.0, 4.0, -2.0]
    gamma, beta = rng.uniform(0.5, 2.0, 3), rng.normal(size=3)
    mean, var = rng.normal(size=3), rng.uniform(0.5, 2.0, 3)
    for got, want in zip(
        fallbacks.batchnorm_train(x, gamma, beta), ref.batchnorm_train(x, gamma, beta)
    ):
        np.testing.assert_allclose(got, want, atol=1e-5)
    np.testing.assert_allclose(
        fallbacks.batchnorm_inference(x, gamma, beta, mean, var, eps=0.01),
        ref.batchnorm_inference(x, gamma, beta, mean, var, eps=0.01),
        atol=1e-5,
    )
    np.testing.assert_allclose(
        fallbacks.update_moving_average(mean, var, momentum=0.9),
        ref.update_moving_average(mean, var, momentum=0.9),
        atol=1e-6,
    )
    kernel, bias = rng.normal(size=(3, 3, 2, 3)), rng.normal(size=3)
    for got, want in zip(
        fallbacks.fold_batchnorm(kernel, bias, gamma, beta, mean, var),
        ref.fold_batchnorm(kernel, bias, gamma, beta, mean, var),
    ):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_module_fallbacks_pass_the_public_checks():
    import keras

    from cnnlabs.checks import fallbacks

    def model_of(block):
        def build(input_shape, *args, **kwargs):
            inputs = keras.Input(input_shape)
            return keras.Model(inputs, block(inputs, *args, **kwargs))

        return build

    cases = [
        ("04_inception", "inception_naive", fallbacks.inception_naive_module),
        ("04_inception", "inception_bottleneck", fallbacks.inception_bottleneck_module),
        ("05_resnet", "identity_block", model_of(fallbacks.residual_identity_block)),
        ("05_resnet", "projection_block", model_of(fallbacks.residual_projection_block)),
    ]
    for lab, qid, answer in cases:
        outcomes = checker(lab).results(qid, answer)
        assert [o.status for o in outcomes] == ["passed"] * len(outcomes), (qid, outcomes)


@pytest.mark.parametrize(
    "lab, qid, stand_in",
    [
        ("04_inception", "inception_naive", "inception_naive_module"),
        ("04_inception", "inception_bottleneck", "inception_bottleneck_module"),
        ("06_batchnorm", "batchnorm_train", "batchnorm_train"),
        ("06_batchnorm", "batchnorm_inference", "batchnorm_inference"),
        ("06_batchnorm", "update_moving_average", "update_moving_average"),
        ("06_batchnorm", "fold_batchnorm", "fold_batchnorm"),
    ],
)
def test_a_fallback_handed_in_as_the_answer_is_a_forbidden_call(lab, qid, stand_in):
    from cnnlabs.checks.apirules import analyse

    question = next(q for q in load_questions(lab) if q.id == qid)
    cells = [
        "from cnnlabs.checks import fallbacks",
        f"{question.answer} = fallbacks.{stand_in}",
    ]
    analysis = analyse(cells, question.answer, question.api)
    assert [f.resolved for f in analysis.forbidden] == [f"cnnlabs.checks.fallbacks.{stand_in}"]
    assert analysis.forbidden[0].cell == 1 and analysis.forbidden[0].line == 1
