"""kind="model": exported as config + weights, rebuilt with safe_mode on the trusted side."""

from __future__ import annotations

import nbfactory as f
import pytest

from autograder.grade import grade_submission

pytestmark = pytest.mark.slow  # imports TensorFlow in the grader and in each kernel

QUESTIONS = f.FIXTURES / "lab98_models.py"
SETUP = (
    "import keras\nfrom cnnlabs.checks import checker\n"
    f"check = checker('98_models', questions_path={str(QUESTIONS)!r})"
)
GOOD = (
    "def build_tiny():\n"
    "    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation='softmax')])\n"
    "check('tiny', build_tiny)"
)
LAMBDA = (
    "def build_tiny():\n"
    "    inputs = keras.Input((4,))\n"
    "    x = keras.layers.Dense(3, activation='softmax')(inputs)\n"
    "    x = keras.layers.Lambda(lambda t: t * 1.0)(x)\n"
    "    return keras.Model(inputs, x)\n"
)


@pytest.mark.parametrize(
    "cells, score, status",
    [
        ([SETUP, GOOD], 1.0, "passed"),
        ([SETUP, "build_tiny = ..."], 0.0, "not_attempted"),
        ([SETUP, LAMBDA], 0.0, "failed"),
    ],
)
def test_model_question_graded_in_sandbox(tmp_path, cells, score, status):
    path = f.write(tmp_path / "nb.ipynb", cells, lab="98_models")
    result = grade_submission(
        "98_models", path, tmp_path / "out", questions_path=QUESTIONS, hidden_dir=f.HIDDEN
    )
    (question,) = result.questions
    assert (result.score, question.status) == (score, status), question.tests
    if status == "failed":
        assert "could not be rebuilt safely" in question.tests[0].message


def test_model_check_cell_uses_the_same_rebuild(capsys):
    import keras

    from cnnlabs.checks import checker

    check = checker("98_models", questions_path=QUESTIONS)
    check("tiny", lambda: keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)]))
    out = capsys.readouterr().out
    assert "the outputs are not probabilities: use a softmax activation." in out
