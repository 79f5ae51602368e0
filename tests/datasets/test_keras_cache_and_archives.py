"""Offline reading of the layouts keras.datasets leaves in its cache, and of CIFAR archives.

Each test writes small, format-valid files (the real pickle and npz layouts) and checks
that the loader returns exactly the images written, converted to (N, H, W, C).
"""

from __future__ import annotations

import numpy as np
import pytest
from dataset_files import (
    CIFAR10_NAMES,
    cifar10_files,
    cifar_batch,
    cifar_images,
    digits,
    dump,
    write_folder,
    write_idx,
    write_tar,
)

from cnnlabs.datasets import DatasetCorruptError, load, locate


def assert_same(data, expected):
    for split, (x, y) in expected.items():
        np.testing.assert_array_equal(getattr(data, f"x_{split}"), x)
        np.testing.assert_array_equal(getattr(data, f"y_{split}"), y)
        assert getattr(data, f"y_{split}").dtype == np.int64


@pytest.mark.parametrize(
    "layout", ["cifar-10-batches-py-target/cifar-10-batches-py", "cifar-10-batches-py"]
)
def test_cifar10_batches_in_the_keras_cache(isolated, layout):
    files, expected = cifar10_files(n=6)
    folder = write_folder(isolated / "datasets" / layout, files)
    data = load("cifar10", download=False, verify=False)
    assert data.x_train.shape == (30, 32, 32, 3) and data.x_test.shape == (6, 32, 32, 3)
    assert_same(data, expected)
    assert data.class_names == tuple(CIFAR10_NAMES)
    assert (
        data.source == f"CIFAR-10 batches in {folder} (via the Keras cache; checksums not verified)"
    )
    assert data.files["train"] == tuple(str(folder / f"data_batch_{i}") for i in range(1, 6))


def test_nhwc_conversion_puts_channels_last():
    """The oracle: a red-only image must come back with only channel 0 set."""
    from cnnlabs.datasets.catalog import DATASETS
    from cnnlabs.datasets.cifar import parse_batch

    red = np.zeros((1, 32, 32, 3), np.uint8)
    red[0, :, :, 0] = 200
    red[0, 5, 7, 0] = 17
    rows = np.zeros((1, 3072), np.uint8)
    rows[0, :1024] = 200  # the first 1024 bytes of a row are the red plane, row-major
    rows[0, 5 * 32 + 7] = 17
    images, labels = parse_batch({b"data": rows, b"labels": [3]}, DATASETS["cifar10"], "x", "fix")
    np.testing.assert_array_equal(images, red)
    assert labels.tolist() == [3]


def test_mnist_npz_in_the_keras_cache(isolated):
    (xtr, ytr), (xte, yte) = digits(12, 0), digits(5, 1)
    path = isolated / "datasets" / "mnist.npz"
    path.parent.mkdir(parents=True)
    np.savez(path, x_train=xtr, y_train=ytr, x_test=xte, y_test=yte)
    data = load("mnist", download=False, verify=False)
    assert data.x_train.shape == (12, 28, 28, 1)
    assert_same(data, {"train": (xtr[..., None], ytr), "test": (xte[..., None], yte)})
    assert data.source == f"mnist.npz {path} (via the Keras cache; checksums not verified)"


def test_fashion_mnist_idx_files_in_the_keras_cache(isolated):
    folder = isolated / "datasets" / "fashion-mnist"
    (xtr, ytr), (xte, yte) = digits(7, 2), digits(3, 3)
    write_idx(folder, "train", xtr, ytr)
    write_idx(folder, "test", xte, yte, gz=False)  # uncompressed IDX is accepted too
    data = load("fashion_mnist", download=False, verify=False)
    assert_same(data, {"train": (xtr[..., None], ytr), "test": (xte[..., None], yte)})
    assert data.source == f"IDX files in {folder} (via the Keras cache; checksums not verified)"


@pytest.mark.parametrize("subfolder", ["", "cifar10"])
def test_cifar10_from_the_official_archive_in_a_data_dir(isolated, tmp_path, subfolder):
    files, expected = cifar10_files(n=4)
    archive = write_tar(
        tmp_path / "data" / subfolder / "cifar-10-python.tar.gz", "cifar-10-batches-py", files
    )
    data = load("cifar10", data_dir=tmp_path / "data", download=False, verify=False)
    assert_same(data, expected)
    assert data.source == f"archive {archive} (via the data_dir argument; checksums not verified)"
    assert data.files["test"] == (f"{archive}:cifar-10-batches-py/test_batch",)


def test_cifar100_batches_with_fine_labels_and_meta(isolated, tmp_path):
    train_x, test_x = cifar_images(8, 5), cifar_images(3, 6)
    train_y, test_y = [0, 99, 50, 7, 8, 9, 10, 11], [98, 1, 2]
    names = [f"class_{i:02d}".encode() for i in range(100)]
    files = {
        "train": dump(cifar_batch(train_x, train_y, label_key=b"fine_labels")),
        "test": dump(cifar_batch(test_x, test_y, label_key=b"fine_labels")),
        "meta": dump({b"fine_label_names": names, b"coarse_label_names": [b"x"] * 20}),
    }
    write_folder(tmp_path / "cifar-100-python", files)
    data = load("cifar100", data_dir=tmp_path, download=False, verify=False)
    assert_same(data, {"train": (train_x, train_y), "test": (test_x, test_y)})
    assert data.class_names[99] == "class_99"


def test_the_first_place_with_both_splits_wins(isolated, tmp_path, shared_mnist):
    """A partial copy (test only) in data_dir does not hide a complete one in the Keras cache."""
    (xtr, ytr), (xte, yte) = digits(4, 0), digits(2, 1)
    path = isolated / "datasets" / "mnist.npz"
    path.parent.mkdir(parents=True)
    np.savez(path, x_train=xtr, y_train=ytr, x_test=xte, y_test=yte)
    data = load("mnist", data_dir=shared_mnist, download=False, verify=False)
    assert data.source == f"mnist.npz {path} (via the Keras cache; checksums not verified)"
    location = locate("mnist", data_dir=shared_mnist, verify=False)
    assert location.splits == ("train", "test") and location.sizes == {"train": 4, "test": 2}


def test_official_checksums_are_checked_by_default(isolated):
    files, _ = cifar10_files(n=2)
    folder = write_folder(isolated / "datasets" / "cifar-10-batches-py", files)
    with pytest.raises(DatasetCorruptError) as info:
        load("cifar10", download=False)
    import hashlib

    found = hashlib.md5(files["data_batch_1"]).hexdigest()
    assert str(info.value) == (
        f"{folder / 'data_batch_1'} is readable but does not have the official checksum: its md5 "
        f"is {found}, expected c99cafc152244af753f735de768cd75f. It may be a partial, modified or "
        "different copy. Delete it and download CIFAR-10 again, or pass verify=False if you "
        "changed it on purpose."
    )


def test_batches_written_by_python2_cpickle_are_read(isolated, tmp_path):
    """The real CIFAR files are Python 2 pickles: str keys and raw bytes, numpy.core names."""
    import pickle

    from dataset_files import py2_pickle

    images = cifar_images(3, 11)
    rows = images.transpose(0, 3, 1, 2).reshape(3, 3072)
    blob = py2_pickle(rows, [4, 0, 9])
    # The blob really names NumPy 1's numpy.core (the name in the originals), not numpy._core.
    with pytest.raises(pickle.UnpicklingError, match=r"^numpy\.core\.multiarray\._reconstruct$"):
        _refuse_all_globals(blob)
    files, _ = cifar10_files(n=2)
    files["test_batch"] = blob
    write_folder(tmp_path / "cifar-10-batches-py", files)
    data = load("cifar10", data_dir=tmp_path, download=False, verify=False)
    np.testing.assert_array_equal(data.x_test, images)
    assert data.y_test.tolist() == [4, 0, 9]


def _refuse_all_globals(blob):
    import io
    import pickle

    class NoGlobals(pickle.Unpickler):
        def find_class(self, module, name):
            raise pickle.UnpicklingError(f"{module}.{name}")

    NoGlobals(io.BytesIO(blob), encoding="bytes").load()


def test_data_dir_may_be_the_batches_folder_itself(isolated, tmp_path):
    files, expected = cifar10_files(n=2)
    folder = write_folder(tmp_path / "cifar-10-batches-py", files)
    data = load("cifar10", data_dir=folder, download=False, verify=False)
    assert_same(data, expected)
    assert (
        data.source
        == f"CIFAR-10 batches in {folder} (via the data_dir argument; checksums not verified)"
    )


def test_download_path_converts_what_keras_datasets_returns(isolated, tmp_path, monkeypatch):
    """The download branch, through the real keras.datasets.fashion_mnist.load_data().

    With its files already in Keras' own cache, load_data() reads them without the network
    (Fashion-MNIST has no hash to re-check). Keras reads $KERAS_HOME once at import, so its
    cache folder is pointed at tmp by setting the value it read; our lookup's $KERAS_HOME
    (the `isolated` fixture) stays empty, and Debian's copy is taken out of the catalog,
    so that nothing local is found and load() takes the download branch.
    """
    import dataclasses

    keras_config = pytest.importorskip("keras.src.backend.config")
    from cnnlabs.datasets import catalog

    spec = catalog.DATASETS["fashion_mnist"]
    monkeypatch.setitem(
        catalog.DATASETS, "fashion_mnist", dataclasses.replace(spec, system_dirs=())
    )
    keras_home = tmp_path / "keras_own"
    (xtr, ytr), (xte, yte) = digits(6, 4), digits(4, 5)
    write_idx(keras_home / "datasets" / "fashion-mnist", "train", xtr, ytr)
    write_idx(keras_home / "datasets" / "fashion-mnist", "test", xte, yte)
    monkeypatch.setattr(keras_config, "_KERAS_DIR", str(keras_home))
    data = load("fashion_mnist")
    assert_same(data, {"train": (xtr[..., None], ytr), "test": (xte[..., None], yte)})
    assert data.x_train.shape == (6, 28, 28, 1) and data.class_names[9] == "Ankle boot"
    assert data.source == (
        "downloaded by keras.datasets.fashion_mnist.load_data() into the Keras cache "
        f"{keras_home / 'datasets'}"
    )
