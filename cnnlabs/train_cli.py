"""`cnnlabs train MODEL --dataset NAME`: train a registered model and report.

Prints the device, the data actually used (and where it came from), a Keras
progress display, and the test accuracy with its budget; `--json PATH` writes
`{"model", "dataset", "epochs", "test_accuracy", "test_loss", "examples_per_sec",
"seconds", "params"}` (plus a few extra keys: `batch_size`, `train_examples`,
`test_examples`, `macs`, `data_source`).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def _fit_input(model_shape, data_shape) -> int | None:
    """Returns the side to zero-pad the data to, when the model expects a larger image."""
    mh, mw, mc = model_shape
    dh, dw, dc = data_shape
    if (mh, mw, mc) == (dh, dw, dc):
        return None
    if mc == dc and mh == mw and dh == dw and mh is not None and mh > dh:
        return mh
    return -1


def main(args) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from cnnlabs.analysis import count_macs
    from cnnlabs.datasets import load, pipeline
    from cnnlabs.env import device_report, seed_everything
    from cnnlabs.errors import UserError
    from cnnlabs.models import build_model
    from cnnlabs.profiles import get_profile
    from cnnlabs.training import train

    profile = get_profile()
    epochs = args.epochs if args.epochs is not None else profile.pick(smoke=1, full=10)
    if epochs < 1 or args.batch_size < 1:
        raise UserError(
            f"--epochs and --batch-size must be positive, got {epochs} and {args.batch_size}."
        )
    print(device_report(advice=True), flush=True)
    seed_everything(args.seed)

    data = load(args.dataset, data_dir=args.data_dir)
    if args.train_from_test is not None:
        data = data.carve_from_test(args.train_from_test)
    else:
        from cnnlabs.datasets import SplitUnavailableError

        try:
            data.require_train()
        except SplitUnavailableError as exc:
            raise UserError(
                f"{exc}\nOn the command line: add --train-from-test 8000."
            ) from exc
    x_train, y_train, x_test, y_test = data.x_train, data.y_train, data.x_test, data.y_test
    if args.subset is not None:
        if args.subset < 1:
            raise UserError(f"--subset must be a positive number of examples, got {args.subset}.")
        x_train, y_train = x_train[: args.subset], y_train[: args.subset]
    print(f"Data: {data.name}, {len(x_train):,} training and {len(x_test):,} test examples "
          f"({data.source}).", flush=True)

    num_classes = len(data.class_names)
    try:
        model = build_model(args.model, num_classes=num_classes)
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    pad_to = _fit_input(tuple(model.input_shape[1:]), x_train.shape[1:])
    if pad_to == -1:
        model = build_model(args.model, num_classes=num_classes, input_shape=x_train.shape[1:])
        pad_to = None
    macs = count_macs(model)  # counted here, where the model is summarised; train reports it
    print(f"Model: {args.model}, {model.count_params():,} parameters, "
          f"{macs / 1e6:,.2f}M multiply-accumulates per example.", flush=True)
    train_ds = pipeline(x_train, y_train, batch_size=args.batch_size, training=True,
                        seed=args.seed, pad_to=pad_to)
    test_ds = pipeline(x_test, y_test, batch_size=512, pad_to=pad_to)
    verbose = 1 if sys.stdout.isatty() else 2
    result = train(model, train_ds, test_data=test_ds, epochs=epochs, batch_size=args.batch_size,
                   verbose=verbose, learning_rate=args.learning_rate, macs=macs)
    print(f"Test accuracy of {args.model} on {data.name}: {result.test_accuracy:.2%} "
          f"(loss {result.test_loss:.4f})")
    print(f"Budget: {result.budget()}")
    if args.json_path:
        payload = {
            "model": args.model,
            "dataset": data.name,
            "epochs": epochs,
            "test_accuracy": result.test_accuracy,
            "test_loss": result.test_loss,
            "examples_per_sec": result.examples_per_sec,
            "seconds": result.seconds,
            "params": result.params,
            "macs": result.macs,
            "batch_size": args.batch_size,
            "train_examples": int(len(x_train)),
            "test_examples": int(len(x_test)),
            "data_source": str(data.source),
        }
        path = Path(args.json_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(json.dumps(payload, indent=2) + "\n")
        tmp.replace(path)
        print(f"Wrote {path}")
    return 0
