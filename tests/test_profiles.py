"""The grade profile: smoke's choices, every training run capped (cnnlabs.profiles)."""

from __future__ import annotations

import numpy as np
import pytest

from cnnlabs.profiles import GRADE_EPOCHS, GRADE_EVAL_EXAMPLES, GRADE_EXAMPLES, get_profile


def test_grade_profile_picks_smoke_values_unless_given_its_own(monkeypatch):
    monkeypatch.setenv("CNNLABS_PROFILE", " Grade ")
    grade = get_profile()
    assert grade.name == "grade" and grade.is_grade and grade.is_smoke
    assert grade.pick(smoke="fashion_mnist", full="cifar10") == "fashion_mnist"
    assert grade.pick(smoke=0.8, full=0.98, grade=0.0) == 0.0
    assert grade.pick(smoke=1, full=2, grade=None) is None  # None is a value, not "unset"
    for name in ("smoke", "full"):
        other = get_profile(name)
        assert not other.is_grade
        assert other.pick(smoke=1, full=2, grade=3) == (1 if name == "smoke" else 2)


def test_only_the_grade_profile_caps():
    grade, smoke, full = (get_profile(n) for n in ("grade", "smoke", "full"))
    assert (GRADE_EPOCHS, GRADE_EXAMPLES, GRADE_EVAL_EXAMPLES) == (1, 256, 64)
    assert [grade.cap_epochs(e) for e in (1, 3, 30)] == [1, 1, 1]
    assert [grade.cap_examples(n) for n in (100, 8_000, None)] == [100, 256, 256]
    assert grade.cap_seeds((3, 1, 2)) == [3]
    for profile in (smoke, full):
        assert profile.cap_epochs(30) == 30
        assert profile.cap_examples(8_000) == 8_000 and profile.cap_examples(None) is None
        assert profile.cap_seeds((3, 1, 2)) == [3, 1, 2]


def _data(n, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, 4), dtype=np.float32), rng.integers(0, 3, n)


def _model():
    import keras

    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])


def test_train_in_the_grade_profile_runs_the_capped_budget_and_says_so(monkeypatch, capsys):
    from cnnlabs.training import train

    monkeypatch.setenv("CNNLABS_PROFILE", "grade")
    x, y = _data(1_000)
    result = train(
        _model(),
        (x, y),
        validation_data=_data(600, 1),
        test_data=_data(700, 2),
        epochs=3,
        batch_size=64,
        verbose=0,
    )
    assert result.epochs == 1 and len(result.history["loss"]) == 1
    assert result.examples_per_epoch == GRADE_EXAMPLES
    assert result.test_accuracy is not None and result.model.run_eagerly
    assert capsys.readouterr().out == (
        "Grade profile: training capped to 1 epoch(s) on at most 256 examples (asked: 3 "
        "epoch(s) on 1,000 examples); accuracies in this profile mean nothing.\n"
    )
    # Already within the budget: nothing to say.
    train(_model(), _data(100), epochs=1, batch_size=64, verbose=0)
    assert capsys.readouterr().out == ""


def test_train_in_the_grade_profile_caps_a_dataset_to_whole_batches(monkeypatch):
    import tensorflow as tf

    from cnnlabs.training import train

    monkeypatch.setenv("CNNLABS_PROFILE", "grade")
    dataset = tf.data.Dataset.from_tensor_slices(_data(1_000)).batch(100)
    result = train(_model(), dataset, epochs=2, batch_size=100, verbose=0)
    assert result.epochs == 1 and result.examples_per_epoch == 300  # ceil(256 / 100) batches


@pytest.mark.parametrize("profile, seeds, epochs", [("grade", [5], [1]), ("smoke", [5, 6], [2, 2])])
def test_train_seeds_keeps_one_seed_in_the_grade_profile(monkeypatch, profile, seeds, epochs):
    from cnnlabs.training import train_seeds

    monkeypatch.setenv("CNNLABS_PROFILE", profile)
    runs = train_seeds(_model, _data(300), seeds=(5, 6), epochs=2, batch_size=100, verbose=0)
    assert runs.seeds == seeds
    assert [r.epochs for r in runs.runs] == epochs
    assert [r.model.run_eagerly for r in runs.runs] == [profile == "grade"] * len(seeds)
