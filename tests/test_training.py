"""cnnlabs.training: model.fit semantics kept, budget figures, multi-seed runs, strategies."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from cnnlabs.training import MultiSeedResult, compile_model, evaluate, train, train_seeds


def tiny_classifier() -> keras.Model:
    return keras.Sequential(
        [
            keras.Input((8,)),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )


def blobs(n: int = 256, seed: int = 0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    centers = rng.normal(size=(3, 8)) * 3
    x = (centers[y] + rng.normal(size=(n, 8))).astype("float32")
    return x, y


def test_train_reports_budget_and_learns():
    x, y = blobs()
    result = train(
        tiny_classifier(),
        (x, y),
        test_data=(x, y),
        epochs=3,
        batch_size=32,
        verbose=0,
        learning_rate=0.02,
    )
    assert len(result.history["loss"]) == 3
    assert result.history["loss"][-1] < result.history["loss"][0]
    assert len(result.epoch_seconds) == 3 and all(s > 0 for s in result.epoch_seconds)
    assert result.examples_per_epoch == 256
    # Steady-state throughput: the epochs after the first (which includes tracing).
    assert result.examples_per_sec == pytest.approx(256 * 2 / sum(result.epoch_seconds[1:]))
    assert result.params == 8 * 16 + 16 + 16 * 3 + 3
    assert result.test_accuracy > 0.8
    assert set(result.to_dict()) >= {
        "history",
        "examples_per_sec",
        "params",
        "macs",
        "test_accuracy",
    }
    assert "3 epoch(s) x 256 examples" in result.budget()
    # MACs are counted by whoever summarised the model and passed in; never guessed here.
    assert result.macs is None and "MACs" not in result.budget()


def test_train_reports_the_macs_it_is_given():
    x, y = blobs(64)
    result = train(tiny_classifier(), (x, y), epochs=1, batch_size=32, verbose=0, macs=1_500_000)
    assert result.macs == 1_500_000 and result.to_dict()["macs"] == 1_500_000
    assert result.budget().endswith(", 1.5M MACs/example")


def test_train_accepts_a_dataset_and_counts_examples():
    import tensorflow as tf

    x, y = blobs(200)
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(50)
    result = train(tiny_classifier(), ds, epochs=2, verbose=0)
    assert result.examples_per_epoch == 200  # 4 steps x 50 (read off the first batch)
    fixed = tf.data.Dataset.from_tensor_slices((x, y)).batch(40, drop_remainder=True)
    result = train(tiny_classifier(), fixed, epochs=1, verbose=0)
    assert result.examples_per_epoch == 200  # static batch size 40 x 5 steps


def test_cpu_training_compiles_without_xla():
    model = compile_model(tiny_classifier())
    assert model.jit_compile is False


def test_dropout_is_active_during_training_and_off_in_evaluation():
    # Output = sum of 100 inputs of 1 through Dropout(0.5); target 100; no learning (lr 0).
    # Inference: exactly 100, loss 0. Training: 2 * (kept inputs), variance 100, loss > 0.
    model = keras.Sequential(
        [
            keras.Input((100,)),
            keras.layers.Dropout(0.5),
            keras.layers.Dense(1, use_bias=False, kernel_initializer="ones"),
        ]
    )
    x = np.ones((64, 100), "float32")
    y = np.full((64, 1), 100.0, "float32")
    result = train(
        model,
        (x, y),
        epochs=1,
        batch_size=16,
        verbose=0,
        optimizer="sgd",
        learning_rate=0.0,
        loss="mse",
        metrics=(),
    )
    assert result.history["loss"][0] > 10.0
    assert evaluate(model, (x, y))["loss"] == pytest.approx(0.0, abs=1e-6)


def test_batchnorm_moving_statistics_update_through_train():
    model = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.BatchNormalization(),
            keras.layers.Dense(2, activation="softmax"),
        ]
    )
    bn = model.layers[0]
    x = np.random.default_rng(0).normal(5.0, 2.0, size=(512, 4)).astype("float32")
    y = np.zeros(512, int)
    before = bn.moving_mean.numpy().copy()
    train(model, (x, y), epochs=2, batch_size=32, verbose=0)
    after = bn.moving_mean.numpy()
    np.testing.assert_array_equal(before, np.zeros(4))
    # 32 updates with momentum 0.99 move the mean 1 - 0.99**32 = 27.5% of the way to 5.
    np.testing.assert_allclose(after, 5.0 * (1 - 0.99**32), rtol=0.1)


def test_train_seeds_mean_and_std():
    x, y = blobs()
    runs = train_seeds(
        tiny_classifier, (x, y), seeds=(0, 1), test_data=(x, y), epochs=2, batch_size=64, verbose=0
    )
    assert isinstance(runs, MultiSeedResult) and runs.seeds == [0, 1]
    assert runs.mean("loss").shape == (2,)
    assert runs.std("loss").shape == (2,)
    assert runs.runs[0].history["loss"] != runs.runs[1].history["loss"]
    accuracies = [r.test_accuracy for r in runs.runs]
    assert runs.mean("test_accuracy") == pytest.approx(np.mean(accuracies))
    assert runs.std("test_accuracy") == pytest.approx(np.std(accuracies))
    # Each is a share of the 256 test examples, not any number in [0, 1].
    assert all(abs(a * 256 - round(a * 256)) < 1e-3 for a in accuracies)
    assert "over 2 seeds [0, 1]" in runs.summary()


def test_same_seed_same_result():
    x, y = blobs()
    a = train_seeds(tiny_classifier, (x, y), seeds=(7,), epochs=2, batch_size=64, verbose=0)
    b = train_seeds(tiny_classifier, (x, y), seeds=(7,), epochs=2, batch_size=64, verbose=0)
    np.testing.assert_allclose(a.runs[0].history["loss"], b.runs[0].history["loss"], rtol=1e-6)


def test_errors_have_whole_messages():
    x, y = blobs(10)
    with pytest.raises(ValueError) as err:
        train(tiny_classifier(), (x, y), epochs=0)
    assert str(err.value) == "epochs must be a positive integer, got 0. Use e.g. epochs=1."
    with pytest.raises(ValueError) as err:
        train(tiny_classifier(), (x, y[:5]))
    assert str(err.value) == (
        "train_data has 10 inputs but 5 labels. Pass (x, y) with one label per example."
    )
    with pytest.raises(TypeError) as err:
        train(tiny_classifier(), x)
    assert str(err.value) == (
        "train_data must be a tuple (x, y) of arrays or a tf.data.Dataset of (x, y) batches, "
        "got ndarray. For example pass (x_train, y_train) or "
        "cnnlabs.datasets.pipeline(x_train, y_train, training=True)."
    )
    import tensorflow as tf

    with pytest.raises(ValueError) as err:
        train(tiny_classifier(), (x, y), strategy=tf.distribute.get_strategy())
    assert str(err.value) == (
        "train() got a built model together with a strategy: its variables already live "
        "outside the strategy's scope. Pass a function that builds the model instead, "
        "e.g. train(lambda: build_model('lenet5'), data, strategy=strategy)."
    )
    with pytest.raises(TypeError) as err:
        compile_model("lenet5")
    assert str(err.value) == (
        "compile_model expected a keras.Model, got str. "
        "Build the model first, e.g. model = build_model('lenet5')."
    )
    with pytest.raises(ValueError) as err:
        train_seeds(tiny_classifier, (x, y), seeds=())
    assert str(err.value) == "seeds is empty. Pass at least one seed, e.g. seeds=(0, 1, 2)."


def test_mirrored_strategy_on_two_logical_cpus():
    # Logical devices must be configured before TensorFlow starts: use a fresh process.
    code = textwrap.dedent(
        """
        import numpy as np, tensorflow as tf, keras
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        from cnnlabs.training import train
        strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
        rng = np.random.default_rng(0)
        x = rng.normal(size=(256, 8)).astype("float32"); y = (x[:, 0] > 0).astype(int)
        build = lambda: keras.Sequential([keras.Input((8,)), keras.layers.Dense(2, activation="softmax")])
        r = train(build, (x, y), epochs=3, batch_size=64, verbose=0, strategy=strategy)
        print("REPLICAS", strategy.num_replicas_in_sync)
        print("LOSS", r.history["loss"][0], r.history["loss"][-1])
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=240)
    assert out.returncode == 0, out.stderr[-3000:]
    lines = dict(line.split(" ", 1) for line in out.stdout.splitlines() if " " in line)
    assert lines["REPLICAS"] == "2"
    first, last = map(float, lines["LOSS"].split())
    assert last < first


def test_lenet5_learns_real_mnist(mnist_test_set):
    """LeNet-5 trained on the first 8,000 MNIST test images: >= 97% on the last 2,000."""
    from cnnlabs.datasets import pipeline
    from cnnlabs.env import seed_everything
    from cnnlabs.models import build_model

    data = mnist_test_set.carve_from_test(8000)
    assert len(data.x_train) == 8000 and len(data.x_test) == 2000
    seed_everything(0)
    train_ds = pipeline(data.x_train, data.y_train, batch_size=64, training=True, seed=0, pad_to=32)
    test_ds = pipeline(data.x_test, data.y_test, batch_size=500, pad_to=32)
    # ReLU and max pooling (the lab's modern variant) converge in fewer epochs than the
    # paper's tanh and average pooling (96.5% after 8 epochs here); the count is the same.
    model = build_model("lenet5", activation="relu", pooling="max")
    result = train(model, train_ds, test_data=test_ds, epochs=7, verbose=0)
    print(result.budget(), result.test_accuracy)
    assert result.params == 61_706
    assert result.examples_per_epoch == 8000
    assert result.test_accuracy >= 0.97


@pytest.mark.slow
def test_lenet5_fashion_mnist_reaches_89_percent(fashion_mnist):
    from cnnlabs.datasets import pipeline
    from cnnlabs.env import seed_everything
    from cnnlabs.models import build_model

    data = fashion_mnist
    seed_everything(0)
    train_ds = pipeline(data.x_train, data.y_train, batch_size=128, training=True, pad_to=32)
    test_ds = pipeline(data.x_test, data.y_test, batch_size=1000, pad_to=32)
    result = train(
        build_model("lenet5", activation="relu", pooling="max"),
        train_ds,
        test_data=test_ds,
        epochs=12,
        verbose=2,
    )
    print(result.budget(), result.test_accuracy)
    assert result.test_accuracy >= 0.89
