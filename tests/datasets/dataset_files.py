"""Writers of small dataset files in the original formats, for the dataset tests.

They produce the same bytes a student's machine would hold (IDX, Keras' mnist.npz,
the CIFAR "python version" pickles and tar.gz), only with a handful of images.
"""

from __future__ import annotations

import gzip
import io
import pickle
import tarfile
from pathlib import Path

import numpy as np

CIFAR10_NAMES = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
]


def idx_bytes(array: np.ndarray) -> bytes:
    """IDX encoding of a uint8 array: magic 0x0000080N, big-endian dims, then the bytes."""
    header = bytes([0, 0, 8, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_idx(folder: Path, split: str, images: np.ndarray, labels: np.ndarray, gz=True) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    prefix = "train" if split == "train" else "t10k"
    for name, array in (
        (f"{prefix}-images-idx3-ubyte", images),
        (f"{prefix}-labels-idx1-ubyte", labels),
    ):
        data = idx_bytes(array)
        if gz:
            (folder / f"{name}.gz").write_bytes(gzip.compress(data))
        else:
            (folder / name).write_bytes(data)


def digits(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(0, 10, n).astype(
        np.uint8
    )


def cifar_images(n: int, seed: int) -> np.ndarray:
    """(n, 32, 32, 3) uint8 images, the NHWC oracle for the batch rows written from them."""
    return np.random.default_rng(seed).integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)


def cifar_batch(images: np.ndarray, labels, label_key=b"labels") -> dict:
    """A batch dict as in the real files: byte keys, rows = R plane, G plane, B plane."""
    rows = images.transpose(0, 3, 1, 2).reshape(len(images), 3072)
    return {
        b"batch_label": b"testing batch 1 of 1",
        label_key: list(map(int, labels)),
        b"data": rows,
        b"filenames": [f"img_{i}.png".encode() for i in range(len(images))],
    }


def dump(obj) -> bytes:
    return pickle.dumps(obj, protocol=2)


def cifar10_files(n: int = 6) -> tuple[dict[str, bytes], dict[str, tuple[np.ndarray, np.ndarray]]]:
    """The files of cifar-10-batches-py with n images per batch, and the expected arrays."""
    files, train_x, train_y = {}, [], []
    for i in range(1, 6):
        x, y = cifar_images(n, i), [(i + j) % 10 for j in range(n)]
        files[f"data_batch_{i}"] = dump(cifar_batch(x, y))
        train_x.append(x)
        train_y += y
    test_x, test_y = cifar_images(n, 99), [(3 * j) % 10 for j in range(n)]
    files["test_batch"] = dump(cifar_batch(test_x, test_y))
    files["batches.meta"] = dump(
        {
            b"label_names": [s.encode() for s in CIFAR10_NAMES],
            b"num_cases_per_batch": n,
            b"num_vis": 3072,
        }
    )
    expected = {
        "train": (np.concatenate(train_x), np.array(train_y)),
        "test": (test_x, np.array(test_y)),
    }
    return files, expected


def write_folder(folder: Path, files: dict[str, bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder


def write_tar(path: Path, inner: str, files: dict[str, bytes]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(f"{inner}/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def py2_pickle(rows: np.ndarray, labels, label_key: bytes = b"labels") -> bytes:
    """A batch pickled the way Python 2's cPickle wrote the real CIFAR files (protocol 2).

    Python 3 cannot write Python 2 `str` objects, so the opcodes are assembled by hand:
    keys and the raw pixel data are (SHORT_)BINSTRINGs, and the array is rebuilt by
    `numpy.core.multiarray._reconstruct` with a `numpy.dtype('u1')` state, as in the
    originals.
    """
    import struct

    def s(data: bytes) -> bytes:  # a Python 2 str
        if len(data) < 256:
            return b"U" + bytes([len(data)]) + data
        return b"T" + struct.pack("<i", len(data)) + data

    def integer(value: int) -> bytes:
        return b"J" + struct.pack("<i", value)

    dtype = (
        b"cnumpy\ndtype\n"
        + s(b"u1")
        + integer(0)
        + integer(1)
        + b"\x87R"
        + b"("
        + integer(3)
        + s(b"|")
        + b"NNN"
        + integer(-1)
        + integer(-1)
        + integer(0)
        + b"tb"
    )
    array = (
        b"cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\n"
        + integer(0)
        + b"\x85"
        + s(b"b")
        + b"\x87R"
        + b"("
        + integer(1)
        + integer(rows.shape[0])
        + integer(rows.shape[1])
        + b"\x86"
        + dtype
        + b"\x89"
        + s(rows.astype(np.uint8).tobytes())
        + b"tb"
    )
    label_list = b"](" + b"".join(integer(int(v)) for v in labels) + b"e"
    return (
        b"\x80\x02}("
        + s(b"batch_label")
        + s(b"training batch 1 of 5")
        + s(b"data")
        + array
        + s(label_key)
        + label_list
        + b"u."
    )
