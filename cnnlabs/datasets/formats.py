"""Readers for the MNIST-family formats (IDX, gzip, Keras `mnist.npz`) that check structure.

Every reader either returns arrays whose shapes and values were checked, or raises
`DatasetCorruptError` naming the file, what was wrong, and how to get a good copy.
It never lets a `gzip` EOFError or a NumPy reshape error through.
"""

from __future__ import annotations

import hashlib
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cnnlabs.datasets.errors import DatasetCorruptError

_CHUNK = 1 << 20

# IDX magic numbers: two zero bytes, a type code (0x08 = unsigned byte), a rank.
IDX_IMAGES_MAGIC = 0x00000803
IDX_LABELS_MAGIC = 0x00000801


def corrupt(path: Path | str, problem: str, fix: str) -> DatasetCorruptError:
    """Builds the error for a damaged file: the file, what is wrong, one fix."""
    return DatasetCorruptError(f"{path} {problem} {fix}")


def explain(exc: BaseException, with_type: bool = True) -> str:
    """An exception as one line ("EOFError: ..."), at most 300 characters."""
    text = " ".join(str(exc).split()) or "no message"
    text = text if len(text) <= 300 else text[:297] + "..."
    return f"{type(exc).__name__}: {text}" if with_type else text


def refetch_hint(title: str) -> str:
    return f"Delete it and download {title} again (or copy a good file in its place)."


def file_digest(path: Path, algorithm: str = "md5") -> str:
    """Hex digest of a file, read in 1 MiB chunks."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class RawFile:
    """The decompressed bytes of a file, and the md5 sums of the file and of its content."""

    path: Path
    content: bytes
    md5: str
    content_md5: str
    compressed: bool = False
    problem: str | None = None  # why decompression stopped early, if it did


def read_raw(path: Path) -> RawFile:
    """Reads a file, decompressing it if it is gzipped (by its magic bytes, not its name).

    A gzip stream that stops early is not an error here: the bytes decompressed so far
    are returned with `problem` set, so the IDX check can say how many bytes were
    expected and how many were found.
    """
    data = path.read_bytes()
    md5 = hashlib.md5(data).hexdigest()
    if data[:2] != b"\x1f\x8b":
        if path.suffix == ".gz":
            raise corrupt(
                path,
                "is named .gz but is not a gzip file (it does not start with the gzip "
                "magic bytes 1f 8b).",
                "Delete it and download it again, or remove the .gz suffix if it is an "
                "uncompressed IDX file.",
            )
        return RawFile(path, data, md5, md5)
    parts: list[bytes] = []
    problem = None
    rest = data
    try:
        while rest:
            decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
            parts.append(decoder.decompress(rest))
            if not decoder.eof:
                problem = "the gzip stream ends early"
                break
            rest = decoder.unused_data
            if rest and rest[:2] != b"\x1f\x8b":
                break  # trailing padding after the last member, as gzip itself allows
    except zlib.error as exc:
        problem = f"the gzip stream is damaged ({exc})"
    content = b"".join(parts)
    return RawFile(path, content, md5, hashlib.md5(content).hexdigest(), True, problem)


def parse_idx(raw: RawFile, *, kind: str, image_size: tuple[int, int], fix: str) -> np.ndarray:
    """Parses IDX bytes into `(N, height, width)` images or `(N,)` labels, checking the header.

    Args:
        raw: the file as returned by `read_raw`.
        kind: `"images"` or `"labels"`.
        image_size: `(height, width)` the images must have, e.g. `(28, 28)`.
        fix: the sentence telling the user how to get a good copy.

    Returns:
        A writable `uint8` array.

    Raises:
        DatasetCorruptError: wrong magic number, wrong image size, or a length that does
            not match the header (truncated or padded file).
    """
    content, path = raw.content, raw.path
    magic = IDX_IMAGES_MAGIC if kind == "images" else IDX_LABELS_MAGIC
    header_len = 16 if kind == "images" else 8
    damaged = f" ({raw.problem})" if raw.problem else ""
    found_magic = int.from_bytes(content[:4], "big")
    if len(content) >= 4 and found_magic != magic:
        described = {IDX_IMAGES_MAGIC: " (IDX images)", IDX_LABELS_MAGIC: " (IDX labels)"}
        raise corrupt(
            path,
            f"has magic number 0x{found_magic:08X}{described.get(found_magic, '')}, but an IDX "
            f"file of {kind} starts with 0x{magic:08X} (unsigned bytes, "
            f"{3 if kind == 'images' else 1} dimension{'s' if kind == 'images' else ''}).",
            fix,
        )
    if len(content) < header_len:
        raise corrupt(
            path,
            f"is too short to be an IDX file of {kind}: its header alone needs {header_len} "
            f"bytes, found {len(content):,}{damaged}.",
            fix,
        )
    count = int.from_bytes(content[4:8], "big")
    shape: tuple[int, ...] = (count,)
    if kind == "images":
        rows, cols = int.from_bytes(content[8:12], "big"), int.from_bytes(content[12:16], "big")
        if (rows, cols) != tuple(image_size):
            raise corrupt(
                path,
                f"holds {rows} x {cols} images, but {image_size[0]} x {image_size[1]} images "
                "were expected.",
                fix,
            )
        shape = (count, rows, cols)
    expected = header_len + int(np.prod(shape))
    if len(content) != expected:
        what = f"{count:,} images of {shape[1]} x {shape[2]}" if kind == "images" else f"{count:,} labels"
        after = " after decompression" if raw.compressed else ""
        raise corrupt(
            path,
            f"is {'truncated' if len(content) < expected else 'longer than its header says'}"
            f"{damaged}: its IDX header promises {what}, so {expected:,} bytes were expected"
            f"{after}, found {len(content):,}.",
            fix,
        )
    # A copy, so that students may shuffle or edit the arrays in place (bytes are read-only).
    return np.frombuffer(content, dtype=np.uint8, offset=header_len).reshape(shape).copy()


def check_labels(labels: np.ndarray, num_classes: int, path: Path | str, fix: str) -> np.ndarray:
    """Returns labels as int64 after checking they lie in `[0, num_classes)`."""
    labels = np.asarray(labels)
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise corrupt(
            path,
            f"has labels from {int(labels.min())} to {int(labels.max())}, but labels must lie "
            f"in 0..{num_classes - 1}.",
            fix,
        )
    return labels.astype(np.int64)


def read_mnist_npz(path: Path, fix: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Reads Keras' `mnist.npz` (keys x_train, y_train, x_test, y_test) without pickle.

    Returns:
        `{"train": (x, y), "test": (x, y)}` with `x` of shape `(N, 28, 28)` uint8.
    """
    keys = ("x_train", "y_train", "x_test", "y_test")
    try:
        with np.load(path, allow_pickle=False) as archive:
            found = sorted(archive.files)
            if not set(keys) <= set(found):
                raise corrupt(
                    path,
                    f"is not Keras' mnist.npz: expected the arrays {', '.join(keys)}, found "
                    f"{', '.join(found) or 'none'}.",
                    fix,
                )
            arrays = {key: archive[key] for key in keys}
    except DatasetCorruptError:
        raise
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, zlib.error) as exc:
        raise corrupt(path, f"cannot be read as an .npz archive ({explain(exc, False)}).",
                      fix) from None
    result = {}
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.dtype != np.uint8 or x.ndim != 3 or x.shape[1:] != (28, 28):
            raise corrupt(
                path,
                f"has x_{split} of shape {x.shape} and dtype {x.dtype}; expected "
                "(N, 28, 28) uint8.",
                fix,
            )
        if y.shape != (len(x),):
            raise corrupt(
                path,
                f"has {len(x):,} images but y_{split} of shape {y.shape}; expected "
                f"({len(x)},).",
                fix,
            )
        result[split] = (x, y)
    return result
