"""The loaders on the real offline data: the official MNIST test set and Debian's Fashion-MNIST."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from cnnlabs.datasets import SplitUnavailableError, load, locate

MNIST_TEST_HISTOGRAM = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_mnist_test_set_from_data_dir(shared_mnist, isolated):
    data = load("mnist", data_dir=shared_mnist.parent, download=False)
    assert data.x_test.shape == (10000, 28, 28, 1) and data.x_test.dtype == np.uint8
    assert data.y_test.shape == (10000,) and data.y_test.dtype == np.int64
    assert np.bincount(data.y_test).tolist() == MNIST_TEST_HISTOGRAM
    assert data.x_train is None and data.y_train is None and data.splits == ("test",)
    assert data.x_test.flags.writeable  # np.random.shuffle(data.x_test) must work
    assert data.class_names == tuple("0123456789")
    # Pixel statistics of the real digits (mean intensity 33.79 / 255, most pixels black).
    assert abs(data.x_test.mean() - 33.79) < 0.1
    assert data.source == (
        f"test split only: IDX files in {shared_mnist} (via the data_dir argument; checksums "
        "verified); no train split (not found locally; download=False)"
    )
    assert data.files == {
        "test": (
            str(shared_mnist / "t10k-images-idx3-ubyte.gz"),
            str(shared_mnist / "t10k-labels-idx1-ubyte.gz"),
        )
    }


def test_mnist_found_through_the_environment_variable(shared_mnist, isolated, monkeypatch):
    monkeypatch.setenv("CNNLABS_DATA_DIR", str(shared_mnist.parent))
    data = load("mnist", download=False)
    assert "(via $CNNLABS_DATA_DIR; checksums verified)" in data.source
    assert len(data.x_test) == 10000


def test_require_train_explains_and_points_at_carving(shared_mnist, isolated):
    data = load("mnist", data_dir=shared_mnist.parent, download=False)
    with pytest.raises(SplitUnavailableError) as info:
        data.require_train()
    cache = isolated / "datasets"
    assert str(info.value) == (
        "mnist has no training split on this machine: only the test split (10,000 images) was "
        "found.\n"
        "The train files were looked for in:\n"
        f"  - the data_dir argument ({shared_mnist.parent}): test split only, IDX files in "
        f"{shared_mnist}\n"
        "  - $CNNLABS_DATA_DIR: not set\n"
        f"  - the Keras cache ({cache}): does not exist\n"
        "  - download: not attempted (download=False)\n"
        "Expected mnist.npz (as keras.datasets saves it), or the four IDX files "
        "train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and "
        "t10k-labels-idx1-ubyte.gz (gzipped or not) in a folder named mnist/.\n"
        "To train anyway, carve a training split out of the test split explicitly: data = "
        "data.carve_from_test(8000) trains on the first 8,000 test images and keeps the other "
        "2,000 for testing."
    )


def test_carve_from_test_is_explicit_and_disjoint(shared_mnist, isolated):
    data = load("mnist", data_dir=shared_mnist, download=False)
    carved = data.carve_from_test(8000)
    assert carved.require_train() is carved
    assert carved.x_train.shape == (8000, 28, 28, 1) and carved.x_test.shape == (2000, 28, 28, 1)
    np.testing.assert_array_equal(carved.x_train, data.x_test[:8000])
    np.testing.assert_array_equal(carved.y_test, data.y_test[8000:])
    assert carved.source.startswith(
        "train = the first 8,000 test images, test = the other 2,000 (carved explicitly with "
        "carve_from_test(8000)); from test split only: IDX files in"
    )
    assert data.x_train is None  # the original is unchanged


@pytest.mark.parametrize("n_train", [0, 10000, -5, 2.5, True, "8000"])
def test_carve_from_test_rejects_bad_sizes(shared_mnist, isolated, n_train):
    data = load("mnist", data_dir=shared_mnist, download=False)
    with pytest.raises(ValueError) as info:
        data.carve_from_test(n_train)
    assert str(info.value) == (
        f"carve_from_test(n_train={n_train!r}): n_train must be an integer between 1 and 9,999 "
        "(the test split has 10,000 images, and some must stay for testing). For example "
        "n_train=8000."
    )


def test_fashion_mnist_from_debian(debian_fashion, isolated):
    data = load("fashion_mnist", download=False)
    assert data.x_train.shape == (60000, 28, 28, 1) and data.x_test.shape == (10000, 28, 28, 1)
    assert data.y_train.dtype == np.int64
    assert np.bincount(data.y_test).tolist() == [1000] * 10
    assert np.bincount(data.y_train).tolist() == [6000] * 10
    assert data.class_names[0] == "T-shirt/top" and data.class_names[9] == "Ankle boot"
    # Debian recompressed the files: the .gz md5s differ, the content md5s are the official ones.
    assert data.source == (
        f"IDX files in {debian_fashion} (via system location; checksums verified)"
    )


def test_flat_idx_files_are_identified_by_checksum_never_substituted(
    shared_mnist, debian_fashion, isolated, tmp_path
):
    flat = tmp_path / "flat"
    flat.mkdir()
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        shutil.copy(shared_mnist / name, flat / name)
    mnist = load("mnist", data_dir=flat, download=False)
    assert mnist.source.startswith(f"test split only: IDX files in {flat} (via the data_dir")
    # The same folder does not pass for Fashion-MNIST: the lookup goes on to Debian's copy.
    location = locate("fashion_mnist", data_dir=flat)
    assert location.looked[0] == (
        f"the data_dir argument ({flat}): the IDX files in {flat} are MNIST's, not "
        "Fashion-MNIST's (by their checksums)"
    )
    assert location.where == f"IDX files in {debian_fashion} (via system location)"


def test_locate_reports_the_offline_mnist(shared_mnist, isolated):
    location = locate("mnist", data_dir=shared_mnist.parent)
    assert (location.found, location.splits, location.sizes) == (True, ("test",), {"test": 10000})
    assert location.describe() == (
        f"mnist: found (10,000 test; no train split here): IDX files in {shared_mnist} (via the "
        "data_dir argument); checksums verified\n"
        "load() gives x_train=None; to train offline, carve a training split explicitly with "
        "data.carve_from_test(n_train)\n"
        "looked in, in order:\n"
        f"  the data_dir argument ({shared_mnist.parent}): test split only, IDX files in "
        f"{shared_mnist}\n"
        "  $CNNLABS_DATA_DIR: not set\n"
        f"  the Keras cache ({isolated / 'datasets'}): does not exist\n"
    )
