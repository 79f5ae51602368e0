"""The public side: plain data, the comparison, check cells and or_reference."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

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
    assert str(info.value).startswith("lab='77' does not name a lab with questions. Known labs:")
