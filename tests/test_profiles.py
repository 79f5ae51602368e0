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


# The dryrun profile: the full profile's choices, every epoch capped to a few steps.


def test_the_dryrun_profile_picks_full_values_and_the_grade_value_of_targets(monkeypatch):
    monkeypatch.setenv("CNNLABS_PROFILE", "DryRun")
    dry = get_profile()
    assert dry.name == "dryrun" and dry.is_dryrun
    assert not dry.is_smoke and not dry.is_grade and not dry.enforces_targets
    assert dry.pick(smoke="fashion_mnist", full="cifar10") == "cifar10"
    assert dry.pick(smoke=(8, 14), full=(20, 56)) == (20, 56)
    assert dry.pick(smoke=0.8, full=0.985, grade=0.0) == 0.0  # accuracy targets: not enforced
    assert dry.pick(smoke=0.3, full=0.6, grade=0) == 0
    # Any other grade value is the grade profile's alone (a grade-sized model or data set).
    assert dry.pick(smoke=(8, 14), full=(20, 56), grade=(8,)) == (20, 56)
    assert dry.pick(smoke=3_000, full=20_000, grade=256) == 20_000
    assert (
        dry.pick(smoke=1, full=2, grade=None) == 2 and dry.pick(smoke=1, full=2, grade=False) == 2
    )
    assert dry.pick(smoke=500, full=2_000, grade=64, dryrun=250) == 250  # its own value
    assert get_profile("grade").pick(smoke=1, full=2, dryrun=3) == 1
    # Seeds are the full profile's; cnnlabs.training caps epochs and steps.
    assert dry.cap_epochs(30) == 2 and dry.cap_epochs(1) == 1
    assert dry.cap_seeds((0, 1, 2)) == [0, 1, 2]
    assert dry.cap_examples(None) is None
    assert [get_profile(n).enforces_targets for n in ("smoke", "full", "grade")] == [
        True,
        True,
        False,
    ]


def test_train_in_the_dryrun_profile_runs_two_epochs_of_two_steps_and_says_so(monkeypatch, capsys):
    import keras
    import tensorflow as tf

    from cnnlabs.profiles import DRYRUN_EPOCHS, DRYRUN_EVAL_BATCHES, DRYRUN_STEPS
    from cnnlabs.training import train

    class Probe(keras.layers.Layer):  # records whether each call runs eagerly
        calls: list[bool] = []

        def call(self, x):
            Probe.calls.append(tf.executing_eagerly())
            return x

    monkeypatch.setenv("CNNLABS_PROFILE", "dryrun")
    x, y = _data(1_000)
    model = keras.Sequential(
        [keras.Input((4,)), Probe(), keras.layers.Dense(3, activation="softmax")]
    )
    del Probe.calls[:]  # building the model called it symbolically
    result = train(
        model,
        (x, y),
        validation_data=_data(600, 1),
        test_data=_data(700, 2),
        epochs=3,
        batch_size=64,
        verbose=0,
    )
    assert (DRYRUN_EPOCHS, DRYRUN_STEPS, DRYRUN_EVAL_BATCHES) == (2, 2, 2)
    assert result.epochs == 2 and len(result.history["val_loss"]) == 2
    assert result.examples_per_epoch == 2 * 64
    # Trained eagerly, handed back in graph mode (a lab's own predict is not eager).
    assert result.test_accuracy is not None and not result.model.run_eagerly
    assert len(Probe.calls) > 4 and all(Probe.calls)
    del Probe.calls[:]
    model.predict(x[:10], verbose=0)
    assert Probe.calls == [False]  # traced once
    assert capsys.readouterr().out == (
        "Dry run: training capped to 2 epoch(s) of 2 steps of 64 examples (asked: 3 epoch(s) "
        "of 1,000 examples); validation and test data capped to 2 batches; accuracies in this "
        "profile mean nothing.\n"
    )


def test_evaluate_in_the_dryrun_profile_evaluates_two_batches_and_says_so(monkeypatch, capsys):
    from cnnlabs.training import compile_model, evaluate

    monkeypatch.setenv("CNNLABS_PROFILE", "dryrun")
    model = compile_model(_model())
    x, y = _data(1_000)
    y[:20] = 0  # the first two batches of 10
    y[20:] = 1
    model.set_weights([np.zeros((4, 3)), np.array([1.0, 0.0, 0.0])])  # always predicts 0
    assert evaluate(model, (x, y), batch_size=10)["accuracy"] == 1.0  # only 20 evaluated
    assert capsys.readouterr().out == (
        "Dry run: evaluating at most 2 batches of 10 (asked: 1,000 examples).\n"
    )
    monkeypatch.setenv("CNNLABS_PROFILE", "full")
    assert evaluate(model, (x, y), batch_size=10)["accuracy"] == pytest.approx(0.02)
    assert capsys.readouterr().out == ""


def test_train_appends_one_json_line_per_run_to_the_train_log(monkeypatch, tmp_path):
    import json

    from cnnlabs.training import train

    log = tmp_path / "runs.jsonl"
    monkeypatch.setenv("CNNLABS_PROFILE", "smoke")
    monkeypatch.setenv("CNNLABS_TRAIN_LOG", str(log))
    results = [
        train(_model(), _data(200), test_data=_data(50, 1), epochs=epochs, batch_size=50, verbose=0)
        for epochs in (1, 2)
    ]
    runs = [json.loads(line) for line in log.read_text().splitlines()]
    assert [r["epochs"] for r in runs] == [1, 2]
    assert all(r["profile"] == "smoke" and r["examples_per_epoch"] == 200 for r in runs)
    # Each line is what that run measured, not merely a plausible number.
    for r, result in zip(runs, results):
        assert r["examples_per_sec"] == pytest.approx(result.examples_per_sec)
        assert r["test_accuracy"] == pytest.approx(result.test_accuracy)
    assert set(runs[1]["final"]) == {"loss", "accuracy"} and "history" not in runs[1]
