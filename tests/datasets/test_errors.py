"""Every way loading can fail, each checked against its whole message."""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import shutil
import socket
import urllib.request

import numpy as np
import pytest
from dataset_files import (
    cifar10_files,
    cifar_batch,
    cifar_images,
    digits,
    dump,
    idx_bytes,
    write_folder,
    write_idx,
    write_tar,
)

from cnnlabs.datasets import DatasetCorruptError, DatasetNotFoundError, load, locate

FIX = "Delete it and download MNIST again (or copy a good file in its place)."
FIX10 = "Delete it and download CIFAR-10 again (or copy a good file in its place)."
CIFAR10_EXPECTED = (
    "Expected the folder cifar-10-batches-py/ (data_batch_1 ... data_batch_5, test_batch, "
    "batches.meta) or the archive cifar-10-python.tar.gz, both from "
    "https://www.cs.toronto.edu/~kriz/cifar.html.\n"
)
CIFAR10_FIX = (
    'Fix: put those files in a folder and pass data_dir="that folder" to load() (or set '
    "$CNNLABS_DATA_DIR to it); with network access, load('cifar10', download=True) downloads "
    "it into the Keras cache."
)


def test_nothing_found_offline_lists_every_place(isolated, tmp_path, monkeypatch):
    empty = tmp_path / "empty"
    (empty / "cifar10").mkdir(parents=True)
    monkeypatch.setenv("CNNLABS_DATA_DIR", str(tmp_path / "missing"))
    with pytest.raises(DatasetNotFoundError) as info:
        load("cifar10", data_dir=empty, download=False)
    cache = isolated / "datasets"
    assert str(info.value) == (
        "CIFAR-10 was not found on this machine, and downloading was not allowed "
        "(download=False).\n"
        "Looked in, in this order:\n"
        f"  - the data_dir argument ({empty}): no CIFAR-10 files in {empty} or {empty / 'cifar10'}\n"
        f"  - $CNNLABS_DATA_DIR ({tmp_path / 'missing'}): does not exist\n"
        f"  - the Keras cache ({cache}): does not exist\n"
        "  - download: not attempted (download=False)\n" + CIFAR10_EXPECTED + CIFAR10_FIX
    )
    assert isinstance(info.value, FileNotFoundError)


@pytest.mark.timeout(60)
def test_failed_download_gives_the_clear_message_not_a_traceback(isolated, monkeypatch):
    """keras.datasets really tries; a proxy that refuses connections stands in for no network.

    Keras reads $KERAS_HOME once, at import, so its download cache is pointed at the
    test's empty folder too: a CIFAR-10 already in the machine's ~/.keras cannot make
    load_data() skip the download (the test runs whatever the machine holds).
    """
    import keras.src.backend.config as keras_config  # where keras.utils.get_file caches

    monkeypatch.setattr(keras_config, "_KERAS_DIR", str(isolated))
    with socket.socket() as probe:  # a port that was free a moment ago: connection refused
        probe.bind(("127.0.0.1", 0))
        refuse = f"http://127.0.0.1:{probe.getsockname()[1]}"
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({"http": refuse, "https": refuse})
    )
    monkeypatch.setattr(urllib.request, "_opener", opener)
    with pytest.raises(DatasetNotFoundError) as info:
        load("cifar10")
    cache = re.escape(str(isolated / "datasets"))
    pattern = (
        r"CIFAR-10 was not found on this machine, and downloading it failed\.\n"
        r"Looked in, in this order:\n"
        r"  - the data_dir argument: not given\n"
        r"  - \$CNNLABS_DATA_DIR: not set\n"
        rf"  - the Keras cache \({cache}\): does not exist\n"
        r"  - download with keras\.datasets\.cifar10\.load_data\(\): failed \(Exception: URL fetch "
        r"failure on https://www\.cs\.toronto\.edu/~kriz/cifar-10-python\.tar\.gz: [^\n]+\)\n"
        + re.escape(CIFAR10_EXPECTED + CIFAR10_FIX)
    )
    assert re.fullmatch(pattern, str(info.value)), str(info.value)
    assert "Connection refused" in str(info.value)  # the refusing proxy, not the real network


def test_truncated_uncompressed_idx(isolated, tmp_path, shared_mnist):
    folder = tmp_path / "mnist"
    folder.mkdir()
    content = gzip.decompress((shared_mnist / "t10k-images-idx3-ubyte.gz").read_bytes())
    (folder / "t10k-images-idx3-ubyte").write_bytes(content[:1000])
    shutil.copy(shared_mnist / "t10k-labels-idx1-ubyte.gz", folder)
    with pytest.raises(DatasetCorruptError) as info:
        load("mnist", data_dir=tmp_path, download=False)
    assert str(info.value) == (
        f"{folder / 't10k-images-idx3-ubyte'} is truncated: its IDX header promises 10,000 images "
        "of 28 x 28, so 7,840,016 bytes were expected, found 1,000. " + FIX
    )


def test_truncated_gzip_says_how_much_was_there(isolated, tmp_path, shared_mnist):
    folder = tmp_path / "mnist"
    folder.mkdir()
    packed = (shared_mnist / "t10k-images-idx3-ubyte.gz").read_bytes()
    (folder / "t10k-images-idx3-ubyte.gz").write_bytes(packed[:100_000])
    shutil.copy(shared_mnist / "t10k-labels-idx1-ubyte.gz", folder)
    with pytest.raises(DatasetCorruptError) as info:
        load("mnist", data_dir=folder, download=False)
    match = re.fullmatch(
        re.escape(
            f"{folder / 't10k-images-idx3-ubyte.gz'} is truncated (the gzip stream ends "
            "early): its IDX header promises 10,000 images of 28 x 28, so 7,840,016 bytes "
            "were expected after decompression, found "
        )
        + r"([\d,]+)\. "
        + re.escape(FIX),
        str(info.value),
    )
    assert match, str(info.value)
    assert 16 < int(match.group(1).replace(",", "")) < 7_840_016


def test_wrong_magic_number(isolated, tmp_path):
    folder = tmp_path / "mnist"
    images, labels = digits(5, 0)
    folder.mkdir()
    # The labels' bytes under the images' name, as when two files were swapped.
    (folder / "t10k-images-idx3-ubyte").write_bytes(idx_bytes(labels))
    (folder / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(labels))
    with pytest.raises(DatasetCorruptError) as info:
        load("mnist", data_dir=folder, download=False, verify=False)
    assert str(info.value) == (
        f"{folder / 't10k-images-idx3-ubyte'} has magic number 0x00000801 (IDX labels), but an "
        "IDX file of images starts with 0x00000803 (unsigned bytes, 3 dimensions). " + FIX
    )


def test_images_and_labels_of_different_lengths(isolated, tmp_path):
    folder = tmp_path / "mnist"
    images, labels = digits(5, 0)
    write_idx(folder, "test", images, labels[:4])
    with pytest.raises(DatasetCorruptError) as info:
        load("mnist", data_dir=folder, download=False, verify=False)
    assert str(info.value) == (
        f"{folder / 't10k-labels-idx1-ubyte.gz'} holds 4 labels, but t10k-images-idx3-ubyte.gz "
        "beside it holds 5 images; the two files must come from the same download. " + FIX
    )


def test_labels_out_of_range(isolated, tmp_path):
    folder = tmp_path / "mnist"
    images, labels = digits(5, 0)
    labels[2] = 12
    write_idx(folder, "test", images, labels)
    with pytest.raises(DatasetCorruptError) as info:
        load("mnist", data_dir=folder, download=False, verify=False)
    assert str(info.value) == (
        f"{folder / 't10k-labels-idx1-ubyte.gz'} has labels from {labels.min()} to 12, but "
        "labels must lie in 0..9. " + FIX
    )


def test_gz_name_without_gzip_content(isolated, tmp_path):
    folder = tmp_path / "mnist"
    images, labels = digits(5, 0)
    write_idx(folder, "test", images, labels)
    (folder / "t10k-images-idx3-ubyte.gz").write_bytes(idx_bytes(images))
    with pytest.raises(DatasetCorruptError) as info:
        load("mnist", data_dir=folder, download=False, verify=False)
    assert str(info.value) == (
        f"{folder / 't10k-images-idx3-ubyte.gz'} is named .gz but is not a gzip file (it does not "
        "start with the gzip magic bytes 1f 8b). Delete it and download it again, or remove the "
        ".gz suffix if it is an uncompressed IDX file."
    )


def test_modified_official_file_fails_its_checksum_unless_verify_is_off(
    isolated, tmp_path, shared_mnist
):
    folder = tmp_path / "mnist"
    folder.mkdir()
    content = bytearray(gzip.decompress((shared_mnist / "t10k-images-idx3-ubyte.gz").read_bytes()))
    content[16 + 14 * 28 + 14] ^= 0xFF  # one pixel of the first digit
    (folder / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(bytes(content), 1))
    shutil.copy(shared_mnist / "t10k-labels-idx1-ubyte.gz", folder)
    with pytest.raises(DatasetCorruptError) as info:
        load("mnist", data_dir=folder, download=False)
    assert str(info.value) == (
        f"{folder / 't10k-images-idx3-ubyte.gz'} is readable but does not have the official "
        f"checksum: its md5 after decompression is {hashlib.md5(content).hexdigest()}, expected "
        "2646ac647ad5339dbf082846283269ea. It may be a partial, modified or different copy. "
        "Delete it and download MNIST again, or pass verify=False if you changed it on purpose."
    )
    data = load("mnist", data_dir=folder, download=False, verify=False)
    assert data.source.startswith(
        f"test split only: IDX files in {folder} (via the data_dir "
        "argument; checksums not verified)"
    )
    assert data.x_test[0, 14, 14, 0] == content[16 + 14 * 28 + 14]


def test_another_datasets_files_in_a_named_folder_are_refused(isolated, tmp_path, debian_fashion):
    folder = tmp_path / "mnist"
    folder.mkdir()
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        shutil.copy(debian_fashion / name, folder)
    with pytest.raises(DatasetCorruptError) as info:
        load("mnist", data_dir=tmp_path, download=False, verify=False)
    assert str(info.value) == (
        f"{folder / 't10k-images-idx3-ubyte.gz'} is Fashion-MNIST's t10k-images-idx3-ubyte (its "
        "checksum is the official one of Fashion-MNIST), not MNIST's. Move Fashion-MNIST's files "
        "to a folder named fashion-mnist/ and put MNIST's files here."
    )


def test_cifar_batch_with_the_wrong_keys(isolated, tmp_path):
    files, _ = cifar10_files(n=2)
    files["test_batch"] = dump({b"images": cifar_images(2, 0), b"targets": [1, 2]})
    folder = write_folder(tmp_path / "cifar-10-batches-py", files)
    with pytest.raises(DatasetCorruptError) as info:
        load("cifar10", data_dir=tmp_path, download=False, verify=False)
    assert str(info.value) == (
        f"{folder / 'test_batch'} is not a CIFAR-10 batch: expected the keys b'data' and "
        "b'labels', found b'images', b'targets'. " + FIX10
    )


def test_cifar_batch_with_the_wrong_data_shape(isolated, tmp_path):
    files, _ = cifar10_files(n=2)
    files["test_batch"] = dump({b"data": cifar_images(2, 0), b"labels": [1, 2]})  # NHWC, not rows
    folder = write_folder(tmp_path / "cifar-10-batches-py", files)
    with pytest.raises(DatasetCorruptError) as info:
        load("cifar10", data_dir=tmp_path, download=False, verify=False)
    assert str(info.value) == (
        f"{folder / 'test_batch'} has b'data' of shape (2, 32, 32, 3) and type uint8; a CIFAR-10 "
        "batch stores (N, 3072) uint8 (32 x 32 pixels x 3 channels per row). " + FIX10
    )


class _Payload:
    """Unpickling this would run `os.system(command)`; the loader must refuse it."""

    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


def test_hostile_pickle_is_refused_and_never_runs(isolated, tmp_path):
    marker = tmp_path / "pwned"
    files, _ = cifar10_files(n=2)
    batch = cifar_batch(cifar_images(2, 0), [0, 1])
    batch[b"extra"] = _Payload(f"touch {marker}")
    files["data_batch_3"] = dump(batch)
    folder = write_folder(tmp_path / "cifar-10-batches-py", files)
    with pytest.raises(DatasetCorruptError) as info:
        load("cifar10", data_dir=tmp_path, download=False, verify=False)
    assert str(info.value) == (
        f"{folder / 'data_batch_3'} asks the unpickler for posix.system, which a CIFAR batch "
        "never needs; it was refused, because a pickle that names functions can run code (the "
        "file is damaged or was tampered with). " + FIX10
    )
    assert not marker.exists()


def test_garbage_instead_of_a_pickle(isolated, tmp_path):
    files, _ = cifar10_files(n=2)
    files["test_batch"] = b"\x80\x02}q\x00(X\x04"  # a pickle cut short
    folder = write_folder(tmp_path / "cifar-10-batches-py", files)
    with pytest.raises(DatasetCorruptError) as info:
        load("cifar10", data_dir=tmp_path, download=False, verify=False)
    assert str(info.value) == (
        f"{folder / 'test_batch'} is not a readable pickle (UnpicklingError: pickle data was "
        "truncated). " + FIX10
    )


def test_truncated_cifar_archive(isolated, tmp_path):
    files, _ = cifar10_files(n=2)
    archive = write_tar(tmp_path / "cifar-10-python.tar.gz", "cifar-10-batches-py", files)
    archive.write_bytes(archive.read_bytes()[:2000])
    with pytest.raises(DatasetCorruptError) as info:
        load("cifar10", data_dir=tmp_path, download=False, verify=False)
    assert str(info.value) == (
        f"{archive} is not a readable tar archive (EOFError: Compressed file ended before the "
        "end-of-stream marker was reached). " + FIX10
    )


def test_damaged_mnist_npz(isolated):
    path = isolated / "datasets" / "mnist.npz"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(DatasetCorruptError) as info:
        load("mnist", download=False)
    assert str(info.value) == (
        f"{path} cannot be read as an .npz archive (File is not a zip file). " + FIX
    )


def test_npz_with_the_wrong_arrays(isolated):
    path = isolated / "datasets" / "mnist.npz"
    path.parent.mkdir(parents=True)
    np.savez(path, images=np.zeros((2, 28, 28), np.uint8))
    with pytest.raises(DatasetCorruptError) as info:
        load("mnist", download=False)
    assert str(info.value) == (
        f"{path} is not Keras' mnist.npz: expected the arrays x_train, y_train, x_test, y_test, "
        "found images. " + FIX
    )


def test_locate_reports_a_damaged_file_instead_of_raising(isolated, tmp_path):
    folder = tmp_path / "mnist"
    images, labels = digits(5, 0)
    write_idx(folder, "test", images, labels, gz=False)
    (folder / "t10k-images-idx3-ubyte").write_bytes(idx_bytes(images)[:100])
    location = locate("mnist", data_dir=tmp_path, verify=False)
    problem = (
        f"{folder / 't10k-images-idx3-ubyte'} is truncated: its IDX header promises 5 images of "
        "28 x 28, so 3,936 bytes were expected, found 100. " + FIX
    )
    assert (location.found, location.problem) == (False, problem)
    assert location.describe().startswith(f"mnist: DAMAGED FILE. {problem}\n")


def test_unknown_names_and_backends():
    with pytest.raises(ValueError) as info:
        load("cifar-1O")
    assert str(info.value) == (
        "Unknown dataset name='cifar-1O'. Known datasets: mnist, fashion_mnist, cifar10, "
        "cifar100. Did you mean 'cifar10' or 'cifar100'?"
    )
    with pytest.raises(ValueError) as info:
        load("mnist", backend="torch")
    assert str(info.value) == (
        "backend='torch' is not supported; use backend='keras' (keras.datasets) or "
        "backend='tfds' (tensorflow_datasets)."
    )


@pytest.mark.parametrize("alias", ["Fashion-MNIST", "fashion_mnist", "FASHION"])
def test_name_aliases(alias, debian_fashion, isolated):
    assert locate(alias).name == "fashion_mnist"


def test_official_files_under_the_wrong_names(isolated, tmp_path, debian_fashion):
    folder = tmp_path / "fashion-mnist"
    folder.mkdir()
    # The test split's files under the train split's names (and none for the test split).
    shutil.copy(debian_fashion / "t10k-images-idx3-ubyte.gz", folder / "train-images-idx3-ubyte.gz")
    shutil.copy(debian_fashion / "t10k-labels-idx1-ubyte.gz", folder / "train-labels-idx1-ubyte.gz")
    with pytest.raises(DatasetCorruptError) as info:
        load("fashion_mnist", data_dir=tmp_path, download=False)
    assert str(info.value) == (
        f"{folder / 'train-images-idx3-ubyte.gz'} holds Fashion-MNIST's t10k-images-idx3-ubyte "
        "under another name (its checksum is the official one of t10k-images-idx3-ubyte). Rename "
        "the files so that each has its official name; the train and test files were probably "
        "swapped."
    )
