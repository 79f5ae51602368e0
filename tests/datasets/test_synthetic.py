"""Synthetic stand-ins in the genuine formats (cnnlabs.datasets.synthetic), as the loader reads them.

The real sizes (60,000/50,000 training images) are written by the dryrun tier
(tests/labs/test_dryrun.py); here small sizes keep the default suite fast.
"""

from __future__ import annotations

import gzip
import hashlib
import json

import numpy as np
import pytest

from cnnlabs.datasets import DatasetCorruptError, load, locate
from cnnlabs.datasets.synthetic import MARKER, banner, dataset_folder, write_synthetic

SIZES = {"train": 200, "test": 50}


@pytest.fixture
def synthetic(isolated, tmp_path):
    root = tmp_path / "synthetic"
    write_synthetic(root, ["mnist", "fashion_mnist", "cifar10"], sizes=SIZES)
    return root


@pytest.mark.parametrize(
    "name, shape",
    [("mnist", (28, 28, 1)), ("fashion_mnist", (28, 28, 1)), ("cifar10", (32, 32, 3))],
)
def test_the_loader_reads_synthetic_data_verified_against_its_marker_and_says_so(
    synthetic, capsys, name, shape
):
    data = load(name, data_dir=synthetic, download=False)  # verify=True, the labs' default
    folder = dataset_folder(synthetic, name)
    title = {"mnist": "MNIST", "fashion_mnist": "Fashion-MNIST", "cifar10": "CIFAR-10"}[name]
    assert capsys.readouterr().out == banner(title, folder) + "\n"
    assert banner(title, folder) == (
        f"*** SYNTHETIC DATA: {title} from {folder} was written by cnnlabs.datasets.synthetic "
        f"(class patterns plus noise), not the real {title}. Accuracies mean nothing. ***"
    )
    assert data.source.startswith("SYNTHETIC ") and data.source.endswith(
        "(via the data_dir argument; checksums verified against its SYNTHETIC.json marker, "
        "NOT the real dataset)"
    )
    assert data.x_train.shape == (200, *shape) and data.x_test.shape == (50, *shape)
    assert data.x_train.dtype == np.uint8 and data.y_train.dtype == np.int64
    assert np.bincount(data.y_train).tolist() == [20] * 10  # balanced
    # Learnable: images of one class are closer to their class mean than to the others'.
    x = data.x_train.reshape(200, -1).astype("float32")
    means = np.stack([x[data.y_train == c].mean(axis=0) for c in range(10)])
    nearest = np.argmin(((x[:, None, :] - means[None]) ** 2).sum(axis=-1), axis=1)
    assert np.mean(nearest == data.y_train) > 0.9
    assert not np.array_equal(data.x_train[0], data.x_train[1])
    headline = locate(name, data_dir=synthetic).describe().splitlines()[0]
    assert headline.startswith(f"{name}: found (200 train, 50 test): SYNTHETIC ")
    assert headline.endswith(
        "; checksums verified against its SYNTHETIC.json marker: NOT the real dataset"
    )


def test_synthetic_files_are_in_the_genuine_formats(synthetic):
    from keras.src.datasets.cifar import load_batch

    raw = gzip.decompress((synthetic / "mnist" / "train-images-idx3-ubyte.gz").read_bytes())
    assert [int.from_bytes(raw[i : i + 4], "big") for i in range(0, 16, 4)] == [
        0x803,
        200,
        28,
        28,
    ]
    assert len(raw) == 16 + 200 * 28 * 28
    # Keras's own reader (a restricted unpickler) reads the CIFAR batches.
    batches = synthetic / "cifar10" / "cifar-10-batches-py"
    x, y = load_batch(str(batches / "data_batch_1"))
    assert x.shape == (40, 3, 32, 32) and x.dtype == np.uint8 and len(y) == 40
    assert sorted(p.name for p in batches.iterdir()) == [
        MARKER,
        "batches.meta",
        *(f"data_batch_{i}" for i in range(1, 6)),
        "test_batch",
    ]
    marker = json.loads((batches / MARKER).read_text())
    assert marker["synthetic"] is True and marker["sizes"] == SIZES
    assert sorted(marker["md5"]) == sorted(p.name for p in batches.iterdir() if p.name != MARKER)


def test_a_changed_synthetic_file_fails_its_checksum(synthetic):
    path = synthetic / "mnist" / "t10k-labels-idx1-ubyte.gz"
    raw = bytearray(gzip.decompress(path.read_bytes()))
    raw[-1] = (raw[-1] + 1) % 10
    path.write_bytes(gzip.compress(bytes(raw)))
    with pytest.raises(DatasetCorruptError) as err:
        load("mnist", data_dir=synthetic, download=False)
    official = "27ae3e4e09519cfbb04c329615203637"  # MNIST's t10k labels, decompressed
    assert str(err.value) == (
        f"{path} is readable but does not have the official checksum: its md5 after "
        f"decompression is {hashlib.md5(raw).hexdigest()}, expected {official}. It may be a "
        "partial, modified or different copy. Delete it and download MNIST again, or pass "
        "verify=False if you changed it on purpose."
    )


def test_without_its_marker_synthetic_data_is_not_taken_for_the_real_dataset(synthetic):
    folder = dataset_folder(synthetic, "cifar10")
    (folder / MARKER).unlink()
    with pytest.raises(DatasetCorruptError) as err:
        load("cifar10", data_dir=synthetic, download=False)
    assert "does not have the official checksum" in str(err.value)
    data = load("cifar10", data_dir=synthetic, download=False, verify=False)
    assert not data.source.startswith("SYNTHETIC")


@pytest.mark.parametrize(
    "names, sizes, message",
    [
        (
            ["cifar100"],
            None,
            "write_synthetic does not write cifar100 (no lab uses it). Use names among "
            "'mnist', 'fashion_mnist', 'cifar10'.",
        ),
        (
            ["mnist"],
            {"train": 5, "test": 50},
            "sizes={'train': 5, 'test': 50} must give 'train' and 'test' at least 10 images "
            "each (one per class), e.g. sizes={'train': 500, 'test': 100}.",
        ),
    ],
)
def test_write_synthetic_refuses_what_it_cannot_write(tmp_path, names, sizes, message):
    with pytest.raises(ValueError) as err:
        write_synthetic(tmp_path, names, sizes=sizes)
    assert str(err.value) == message


def test_cnnlabs_data_synth_refuses_an_unsupported_dataset_with_exit_code_2(tmp_path, capsys):
    from cnnlabs.cli import main

    assert main(["data", "synth", str(tmp_path), "cifar100"]) == 2
    assert capsys.readouterr().err == (
        "cnnlabs data synth: error: write_synthetic does not write cifar100 (no lab uses it). "
        "Use names among 'mnist', 'fashion_mnist', 'cifar10'.\n"
    )
    assert list(tmp_path.iterdir()) == []
