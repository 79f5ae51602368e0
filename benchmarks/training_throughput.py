"""Training throughput: cnnlabs.training.train vs plain `model.fit`, side by side.

Trains LeNet-5 on MNIST-sized data (the offline MNIST test set when available,
else random images of the same shape) for the same number of epochs three ways,
interleaved over several rounds so machine noise hits all of them alike:

- `fit (keras default)`: `model.compile(...)` with Keras defaults (`jit_compile="auto"`,
  which means XLA on a CPU) and `model.fit(x, y, batch_size=B)`;
- `fit (jit off)`: the same with `jit_compile=False`;
- `cnnlabs.train`: `train(model, (x, y), ...)` with its defaults.

Throughput is measured on epochs after the first (steady state: no tracing or
compilation), as examples per second, and printed as ratios to the plain fits.
Target: cnnlabs.train >= 0.95x the plain fit on the same configuration.

Usage: python benchmarks/training_throughput.py [--rounds 3] [--epochs 3]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402


def data(n: int):
    try:
        from cnnlabs.datasets import load

        mnist = load("mnist", download=False)
        x, y = mnist.x_test[:n], mnist.y_test[:n]
        source = "offline MNIST test set"
    except Exception:  # noqa: BLE001 - benchmark still runs without the data
        rng = np.random.default_rng(0)
        x = rng.integers(0, 255, size=(n, 28, 28, 1), dtype=np.uint8)
        y = rng.integers(0, 10, size=n)
        source = "random images"
    x = np.pad(x.astype("float32") / 255.0, ((0, 0), (2, 2), (2, 2), (0, 0)))
    return x, y, source


class Timer(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        self.t = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.times = getattr(self, "times", []) + [time.perf_counter() - self.t]


def plain_fit(x, y, epochs, batch, jit):
    from cnnlabs.models import build_model

    model = build_model("lenet5")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                  jit_compile=jit)
    timer = Timer()
    model.fit(x, y, batch_size=batch, epochs=epochs, verbose=0, callbacks=[timer])
    return len(x) * (epochs - 1) / sum(timer.times[1:])


def cnnlabs_train(x, y, epochs, batch):
    from cnnlabs.models import build_model
    from cnnlabs.training import train

    return train(build_model("lenet5"), (x, y), epochs=epochs, batch_size=batch,
                 verbose=0).examples_per_sec


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--examples", type=int, default=10000)
    parser.add_argument("--batch-size", type=int, default=128)
    args = parser.parse_args()
    x, y, source = data(args.examples)
    print(f"LeNet-5, {len(x):,} examples ({source}), batch {args.batch_size}, "
          f"{args.epochs} epochs per run (first excluded), {args.rounds} interleaved rounds")
    runs = {"fit (keras default)": [], "fit (jit off)": [], "cnnlabs.train": []}
    for _ in range(args.rounds):
        runs["fit (keras default)"].append(plain_fit(x, y, args.epochs, args.batch_size, "auto"))
        runs["fit (jit off)"].append(plain_fit(x, y, args.epochs, args.batch_size, False))
        runs["cnnlabs.train"].append(cnnlabs_train(x, y, args.epochs, args.batch_size))
    medians = {name: float(np.median(v)) for name, v in runs.items()}
    for name, values in runs.items():
        print(f"{name:22s} median {medians[name]:8,.0f} examples/s   runs "
              + ", ".join(f"{v:,.0f}" for v in values))
    ours = medians["cnnlabs.train"]
    print(f"ratio cnnlabs.train / fit (jit off, same configuration): {ours / medians['fit (jit off)']:.2f}x")
    print(f"ratio cnnlabs.train / fit (keras default):               {ours / medians['fit (keras default)']:.2f}x")


if __name__ == "__main__":
    main()
