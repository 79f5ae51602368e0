"""Training: a thin layer over `model.fit`.

The labs train through these helpers so that every experiment reports the same
budget figures (epochs, seconds, examples per second, parameters, MACs) beside its
result. Under the hood it is `model.fit` and `model.evaluate`, nothing else: no
hand-written loop, no overridden `Model` attributes, so BatchNormalization and
Dropout behave exactly as Keras defines (training mode in `fit`, inference mode
in `evaluate`/`predict`).

One choice differs from `model.compile`'s defaults: on a CPU, XLA compilation
(`jit_compile`) is turned off, because it trains these small convnets 2-3x slower
there (`benchmarks/training_throughput.py` measures it). On GPUs and TPUs Keras's
own default (`"auto"`) is kept.

In the grade profile (`CNNLABS_PROFILE=grade`, set by the autograder) `train` and
`train_seeds` cap every run to one epoch on at most 256 examples (64 to validate
and test), one seed, run eagerly, and say so: the cells run, the graded answers are
the same, the time goes to grading.

In the dryrun profile (`CNNLABS_PROFILE=dryrun`: the full profile's choices) `train`
keeps every seed but runs at most `DRYRUN_EPOCHS` epochs of `DRYRUN_STEPS` batches,
validation and test data on `DRYRUN_EVAL_BATCHES` batches, eagerly, and `evaluate`
evaluates `DRYRUN_EVAL_BATCHES` batches; each says so.

Example:

>>> import keras
>>> from cnnlabs.training import train
>>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
>>> x = np.random.rand(64, 4).astype("float32"); y = np.random.randint(0, 3, 64)
>>> result = train(model, (x, y), epochs=2, batch_size=16, verbose=0)
>>> len(result.history["loss"])
2

Used in: every lab; `cnnlabs train`.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cnnlabs.profiles import (
    DRYRUN_EVAL_BATCHES,
    DRYRUN_STEPS,
    GRADE_EVAL_EXAMPLES,
    GRADE_EXAMPLES,
    get_profile,
)

DEFAULT_LOSS = "sparse_categorical_crossentropy"
# When set, `train` appends one JSON line per run to this file (`benchmarks/gpu_full_run.py`).
TRAIN_LOG_ENV = "CNNLABS_TRAIN_LOG"


def _on_cpu() -> bool:
    import tensorflow as tf

    return not (tf.config.list_physical_devices("GPU") or tf.config.list_logical_devices("TPU"))


def compile_model(
    model,
    *,
    optimizer: Any = "adam",
    learning_rate: float | None = 1e-3,
    loss: Any = DEFAULT_LOSS,
    metrics: Sequence[Any] = ("accuracy",),
    jit_compile: bool | str | None = None,
):
    """Compiles a model with sensible defaults for classification.

    Args:
        model: a `keras.Model`.
        optimizer: str or `keras.optimizers.Optimizer`. A name (`"adam"`, `"sgd"`,
            `"rmsprop"`...) is created with `learning_rate`. Default `"adam"`.
        learning_rate: float, used when `optimizer` is a name. Default 1e-3.
        loss: Keras loss. Default sparse categorical cross-entropy (integer labels,
            softmax outputs).
        metrics: Keras metrics. Default `("accuracy",)`.
        jit_compile: passed to `model.compile`; None means False on a CPU (XLA is
            slower there for these models) and Keras's `"auto"` elsewhere.

    Returns:
        The same model, compiled.

    Raises:
        TypeError: if `model` is not a Keras model.
    """
    import keras

    if not isinstance(model, keras.Model):
        raise TypeError(
            f"compile_model expected a keras.Model, got {type(model).__name__}. "
            "Build the model first, e.g. model = build_model('lenet5')."
        )
    if isinstance(optimizer, str):
        kwargs = {} if learning_rate is None else {"learning_rate": learning_rate}
        optimizer = keras.optimizers.get({"class_name": optimizer, "config": kwargs})
    if jit_compile is None:
        jit_compile = False if _on_cpu() else "auto"
    model.compile(optimizer=optimizer, loss=loss, metrics=list(metrics), jit_compile=jit_compile)
    return model


class _EpochTimer:
    """Keras callback recording wall-clock seconds and steps of each epoch."""

    def __new__(cls):  # Built lazily so importing this module does not import Keras.
        import keras

        class EpochTimer(keras.callbacks.Callback):
            # A batch hook makes Keras wait for every step's logs unless the callback is
            # async-safe (ours only counts), which would slow fit() down.
            async_safe = True

            def __init__(self):
                super().__init__()
                self.epoch_seconds: list[float] = []
                self.epoch_steps: list[int] = []

            def on_epoch_begin(self, epoch, logs=None):
                self._start = time.perf_counter()
                self._steps = 0

            def on_train_batch_end(self, batch, logs=None):
                self._steps = max(self._steps, batch + 1)  # calls may come out of order

            def on_epoch_end(self, epoch, logs=None):
                self.epoch_seconds.append(time.perf_counter() - self._start)
                self.epoch_steps.append((self.params or {}).get("steps") or self._steps)

        return EpochTimer()


@dataclass
class TrainResult:
    """What one training run produced, with its budget.

    Attributes:
        history: dict of per-epoch lists (`loss`, `accuracy`, `val_loss`, ...).
        epochs: number of epochs run.
        batch_size: batch size (for datasets: as passed, used for examples/s).
        examples_per_epoch: training examples per epoch.
        epoch_seconds: wall-clock seconds of each epoch (the first includes tracing).
        examples_per_sec: training throughput, measured over the epochs after the
            first when there are several (steady state), else over the only epoch.
        seconds: wall-clock seconds of the whole `fit` call.
        params: `model.count_params()`.
        macs: multiply-accumulates of one forward pass of one example, as passed
            to `train(macs=...)` by the caller that summarised the model
            (`cnnlabs.analysis.count_macs`), else None.
        test_loss, test_accuracy: from `model.evaluate` on `test_data`, if given.
        model: the trained model (not serialized by `to_dict`).
    """

    history: dict[str, list[float]]
    epochs: int
    batch_size: int
    examples_per_epoch: int
    epoch_seconds: list[float]
    examples_per_sec: float
    seconds: float
    params: int
    macs: int | None = None
    test_loss: float | None = None
    test_accuracy: float | None = None
    model: Any = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "history": self.history,
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "examples_per_epoch": self.examples_per_epoch,
            "epoch_seconds": self.epoch_seconds,
            "examples_per_sec": self.examples_per_sec,
            "seconds": self.seconds,
            "params": self.params,
            "macs": self.macs,
            "test_loss": self.test_loss,
            "test_accuracy": self.test_accuracy,
        }

    def budget(self) -> str:
        """One line stating the budget, to print beside a result."""
        macs = f", {self.macs / 1e6:,.1f}M MACs/example" if self.macs else ""
        return (
            f"{self.epochs} epoch(s) x {self.examples_per_epoch:,} examples, "
            f"{self.seconds:,.1f} s, {self.examples_per_sec:,.0f} examples/s, "
            f"{self.params:,} parameters{macs}"
        )


def _examples_per_epoch(x, y, batch_size: int, steps: int) -> int:
    """Arrays: their length. Datasets: steps x the dataset's batch size (static, else
    that of its first batch); a last partial batch counts as full."""
    if y is not None:
        return len(x)
    spec = x.element_spec[0] if isinstance(x.element_spec, tuple) else x.element_spec
    size = spec.shape[0] if spec.shape.rank else None
    if size is None:  # Dynamic batch dimension: read it off the first batch.
        first = next(iter(x.take(1)), None)
        if first is not None:
            first = first[0] if isinstance(first, (tuple, list)) else first
            size = int(first.shape[0])
    return steps * (size or batch_size)


def _split_xy(data, name: str):
    import tensorflow as tf

    if isinstance(data, tf.data.Dataset):
        return data, None
    if isinstance(data, (tuple, list)) and len(data) == 2:
        x, y = data
        if len(x) != len(y):
            raise ValueError(
                f"{name} has {len(x)} inputs but {len(y)} labels. "
                "Pass (x, y) with one label per example."
            )
        return x, y
    raise TypeError(
        f"{name} must be a tuple (x, y) of arrays or a tf.data.Dataset of (x, y) batches, "
        f"got {type(data).__name__}. For example pass (x_train, y_train) or "
        "cnnlabs.datasets.pipeline(x_train, y_train, training=True)."
    )


def _cap(data, batch_size: int, count: int = GRADE_EXAMPLES):
    """The first `count` examples of arrays, or enough batches of a dataset."""
    import tensorflow as tf

    if data is None:
        return None
    if isinstance(data, tf.data.Dataset):
        return data.take(max(1, -(-count // batch_size)))
    if isinstance(data, (tuple, list)):
        return tuple(part[:count] for part in data)
    return data[:count]


def _grade_budget(epochs, batch_size, x, y, val, test_data):
    """The grade profile's caps (see `cnnlabs.profiles`), announced when they apply."""
    import tensorflow as tf

    asked = epochs
    epochs = get_profile().cap_epochs(epochs)
    size = None if isinstance(x, tf.data.Dataset) else len(x)
    x = _cap(x, batch_size)
    y = None if y is None else y[:GRADE_EXAMPLES]
    if epochs != asked or size is None or size > GRADE_EXAMPLES:
        given = "a dataset" if size is None else f"{size:,} examples"
        print(
            f"Grade profile: training capped to {epochs} epoch(s) on at most "
            f"{GRADE_EXAMPLES} examples (asked: {asked} epoch(s) on {given}); "
            "accuracies in this profile mean nothing."
        )
    evaluated = (_cap(d, batch_size, GRADE_EVAL_EXAMPLES) for d in (val, test_data))
    return epochs, x, y, *evaluated


def _size(data) -> str:
    """The size of some data for the caps' announcements: "a dataset" or "N examples"."""
    import tensorflow as tf

    if isinstance(data, tf.data.Dataset):
        return "a dataset"
    first = data[0] if isinstance(data, (tuple, list)) else data
    return f"{len(first):,} examples"


def _dryrun_budget(epochs, batch_size, x, y, val, test_data):
    """The dryrun profile's caps (see `cnnlabs.profiles`): a few epochs of a few steps."""
    asked_epochs, epochs = epochs, get_profile().cap_epochs(epochs)
    count = DRYRUN_STEPS * batch_size
    asked = _size(x)
    x = _cap(x, batch_size, count)
    y = None if y is None else y[:count]
    evaluated = (
        ""
        if val is None and test_data is None
        else (f"; validation and test data capped to {DRYRUN_EVAL_BATCHES} batches")
    )
    print(
        f"Dry run: training capped to {epochs} epoch(s) of {DRYRUN_STEPS} steps of {batch_size} "
        f"examples (asked: {asked_epochs} epoch(s) of {asked}){evaluated}; "
        "accuracies in this profile mean nothing."
    )
    capped = (_cap(d, batch_size, DRYRUN_EVAL_BATCHES * batch_size) for d in (val, test_data))
    return epochs, x, y, *capped


def train(
    model,
    train_data,
    *,
    validation_data=None,
    test_data=None,
    epochs: int = 1,
    batch_size: int = 128,
    verbose: Any = "auto",
    callbacks: Iterable[Any] = (),
    strategy=None,
    macs: int | None = None,
    **compile_kwargs,
) -> TrainResult:
    """Trains with `model.fit`, evaluates, and reports the budget.

    Args:
        model: a `keras.Model`, or a zero-argument function that builds one (required
            with `strategy`, so the variables are created in the strategy's scope).
            An uncompiled model is compiled with `compile_model(**compile_kwargs)`.
        train_data: `(x, y)` arrays (shuffled every epoch by `fit`) or a batched
            `tf.data.Dataset` of `(x, y)` (see `cnnlabs.datasets.pipeline`).
        validation_data: optional, same forms.
        test_data: optional, same forms; evaluated once after training.
        epochs: int, default 1.
        batch_size: int, used with arrays (and for examples/s with datasets). Default 128.
        verbose: Keras verbosity (`"auto"`, 0, 1, 2).
        callbacks: extra Keras callbacks.
        strategy: optional `tf.distribute.Strategy` (several GPUs, a TPU); arrays are
            split across its replicas by `fit` (`batch_size` is the global batch).
        macs: optional multiply-accumulates per example, counted where the model is
            summarised (`cnnlabs.analysis.count_macs(model)`); reported in the result
            and its budget line. Training does not count them (it does not depend on
            the analysis package).
        **compile_kwargs: passed to `compile_model` when the model is not compiled.

    In the grade profile, `epochs` is capped to `GRADE_EPOCHS`, the training data
    to its first `GRADE_EXAMPLES` examples, the validation and test data to their
    first `GRADE_EVAL_EXAMPLES`, and the model runs eagerly (see `cnnlabs.profiles`);
    the result reports the budget actually run.

    Returns:
        A `TrainResult`.

    Raises:
        ValueError: on a non-positive `epochs`/`batch_size`, a built model with a
            strategy, or mismatched inputs and labels.
        TypeError: if the data is neither arrays nor a `tf.data.Dataset`.
    """
    for arg, value in (("epochs", epochs), ("batch_size", batch_size)):
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{arg} must be a positive integer, got {value!r}. Use e.g. {arg}=1.")
    import contextlib

    import keras

    if strategy is not None and isinstance(model, keras.Model):
        raise ValueError(
            "train() got a built model together with a strategy: its variables already live "
            "outside the strategy's scope. Pass a function that builds the model instead, "
            "e.g. train(lambda: build_model('lenet5'), data, strategy=strategy)."
        )
    scope = strategy.scope() if strategy is not None else contextlib.nullcontext()
    with scope:
        if callable(model) and not isinstance(model, keras.Model):
            model = model()
        if not isinstance(model, keras.Model):
            raise TypeError(
                f"train expected a keras.Model or a function returning one, got {type(model).__name__}."
            )
        if not getattr(model, "compiled", False) or getattr(model, "optimizer", None) is None:
            compile_model(model, **compile_kwargs)

    x, y = _split_xy(train_data, "train_data")
    val = None
    if validation_data is not None:
        vx, vy = _split_xy(validation_data, "validation_data")
        val = vx if vy is None else (vx, vy)
    if get_profile().is_grade:
        epochs, x, y, val, test_data = _grade_budget(epochs, batch_size, x, y, val, test_data)
        # A handful of steps: tracing the train/test functions would cost more than
        # running them eagerly.
        model.run_eagerly = True
    dry_eager = None
    if get_profile().is_dryrun:
        epochs, x, y, val, test_data = _dryrun_budget(epochs, batch_size, x, y, val, test_data)
        # As in the grade profile, the few steps run eagerly (tracing costs more than
        # them); afterwards the model is handed back in graph mode, so that a lab's own
        # model.predict over 10,000 test images is not run eagerly batch by batch
        # (measured: lab 01's confusion-matrix cell took 90 s eagerly on the loaded machine).
        dry_eager, model.run_eagerly = model.run_eagerly, True
    timer = _EpochTimer()
    start = time.perf_counter()
    # Arrays: fit reshuffles every epoch. Datasets shuffle themselves (see pipeline()).
    fit_kwargs = (
        {"batch_size": batch_size, "shuffle": True} if y is not None else {"shuffle": False}
    )
    history = model.fit(
        x,
        y,
        epochs=epochs,
        validation_data=val,
        verbose=verbose,
        callbacks=[timer, *callbacks],
        **fit_kwargs,
    )
    seconds = time.perf_counter() - start
    steps = timer.epoch_steps[-1] if timer.epoch_steps else 0
    per_epoch = _examples_per_epoch(x, y, batch_size, steps)
    steady = timer.epoch_seconds[1:] or timer.epoch_seconds
    examples_per_sec = per_epoch * len(steady) / max(sum(steady), 1e-9)

    result = TrainResult(
        history={k: [float(v) for v in vals] for k, vals in history.history.items()},
        epochs=epochs,
        batch_size=batch_size,
        examples_per_epoch=per_epoch,
        epoch_seconds=timer.epoch_seconds,
        examples_per_sec=examples_per_sec,
        seconds=seconds,
        params=int(model.count_params()),
        macs=None if macs is None else int(macs),
        model=model,
    )
    if test_data is not None:
        scores = evaluate(model, test_data, batch_size=batch_size)
        result.test_loss = scores.get("loss")
        result.test_accuracy = scores.get("accuracy", scores.get("compile_metrics"))
    if dry_eager is not None:
        model.run_eagerly = dry_eager
    _log_run(result, model.name)
    return result


def _log_run(result: TrainResult, name: str) -> None:
    """Appends the run's budget and results as one JSON line to `$CNNLABS_TRAIN_LOG`, if set."""
    path = os.environ.get(TRAIN_LOG_ENV)
    if not path:
        return
    record = {key: value for key, value in result.to_dict().items() if key != "history"}
    record["model"] = name
    record["profile"] = get_profile().name
    record["final"] = {key: values[-1] for key, values in result.history.items() if values}
    with open(path, "a") as handle:
        handle.write(json.dumps(record) + "\n")


def evaluate(model, data, *, batch_size: int = 256) -> dict[str, float]:
    """Evaluates a compiled model (inference mode) and returns `{metric: value}`.

    In the dryrun profile only the first `DRYRUN_EVAL_BATCHES` batches are evaluated
    (and it says so).
    """
    x, y = _split_xy(data, "data")
    if get_profile().is_dryrun:
        count = DRYRUN_EVAL_BATCHES * batch_size
        if y is None or len(y) > count:
            print(
                f"Dry run: evaluating at most {DRYRUN_EVAL_BATCHES} batches of {batch_size} "
                f"(asked: {_size(x)})."
            )
            x, y = _cap(x, batch_size, count), None if y is None else y[:count]
    kwargs = {"batch_size": batch_size} if y is not None else {}
    scores = model.evaluate(x, y, verbose=0, return_dict=True, **kwargs)
    return {k: float(v) for k, v in scores.items()}


@dataclass
class MultiSeedResult:
    """Several runs of the same experiment under different seeds.

    Attributes:
        seeds: the seeds, in run order.
        runs: one `TrainResult` per seed.
    """

    seeds: list[int]
    runs: list[TrainResult]

    def _values(self, metric: str) -> np.ndarray:
        if metric in ("test_accuracy", "test_loss", "examples_per_sec", "seconds"):
            values = [getattr(r, metric) for r in self.runs]
            if any(v is None for v in values):
                raise ValueError(
                    f"{metric} is missing from some runs. Pass test_data=... to train_seeds."
                )
            return np.asarray(values, dtype=float)
        missing = [s for s, r in zip(self.seeds, self.runs) if metric not in r.history]
        if missing:
            known = ", ".join(sorted(self.runs[0].history))
            raise ValueError(f"No history metric {metric!r}; the runs recorded: {known}.")
        return np.asarray([r.history[metric] for r in self.runs], dtype=float)

    def mean(self, metric: str) -> np.ndarray | float:
        """Mean over seeds: per epoch for history metrics, a float for test metrics."""
        values = self._values(metric).mean(axis=0)
        return float(values) if np.ndim(values) == 0 else values

    def std(self, metric: str) -> np.ndarray | float:
        """Standard deviation over seeds (ddof=0), like `mean`."""
        values = self._values(metric).std(axis=0)
        return float(values) if np.ndim(values) == 0 else values

    def summary(self, metric: str = "test_accuracy") -> str:
        return (
            f"{metric}: {self.mean(metric):.4f} +/- {self.std(metric):.4f} "
            f"over {len(self.runs)} seeds {self.seeds}"
        )


def train_seeds(
    build_fn: Callable[[], Any],
    train_data,
    *,
    seeds: Sequence[int] = (0, 1, 2),
    **train_kwargs,
) -> MultiSeedResult:
    """Runs `train` once per seed with a freshly built model each time.

    Args:
        build_fn: zero-argument function returning a new (uncompiled) model.
        train_data: as for `train`.
        seeds: the seeds; each run calls `cnnlabs.env.seed_everything(seed)` first.
            The grade profile keeps the first seed only.
        **train_kwargs: passed to `train`.

    Returns:
        A `MultiSeedResult` with `.mean(metric)` and `.std(metric)`.
    """
    from cnnlabs.env import seed_everything

    seeds = list(seeds)
    if not seeds:
        raise ValueError("seeds is empty. Pass at least one seed, e.g. seeds=(0, 1, 2).")
    seeds = get_profile().cap_seeds(seeds)
    runs = []
    for seed in seeds:
        seed_everything(seed)
        model = build_fn if train_kwargs.get("strategy") is not None else build_fn()
        runs.append(train(model, train_data, **train_kwargs))
    return MultiSeedResult(seeds, runs)
