"""Safe readers for the CIFAR-10/100 "python version" batches and their tar.gz archives.

The batches are Python pickles. A pickle can name any Python callable, so a plain
`pickle.load` on a file from disk runs whatever the file asks for. `SafeUnpickler`
resolves only the few names the real batches use (NumPy array reconstruction) and
refuses everything else with a `DatasetCorruptError`.
"""

from __future__ import annotations

import codecs
import io
import pickle
import tarfile
import zlib
from pathlib import Path

import numpy as np

from cnnlabs.datasets.catalog import DatasetSpec
from cnnlabs.datasets.errors import DatasetCorruptError
from cnnlabs.datasets.formats import check_labels, corrupt, explain

try:  # NumPy >= 2
    from numpy._core.multiarray import _reconstruct
except ImportError:  # pragma: no cover - NumPy 1.x
    from numpy.core.multiarray import _reconstruct

# Exactly what the CIFAR batches need: the arrays are pickled as
# `_reconstruct(ndarray, shape, dtype)` + state; Python 3 writes bytes at protocol 2
# as `_codecs.encode(text, "latin1")`. Dicts, lists, strings and numbers are pickle
# opcodes and need no names at all. Both spellings of NumPy's core module are listed
# so that files written by NumPy 1 and 2 are read.
_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("_codecs", "encode"): codecs.encode,
}


class SafeUnpickler(pickle.Unpickler):
    """A `pickle.Unpickler` that only rebuilds NumPy arrays, dicts, lists, bytes and numbers.

    Args:
        file: binary file object holding the pickle.
        path: the file's name, for error messages.
        fix: the sentence telling the user how to get a good copy.

    Raises:
        DatasetCorruptError: from `load()` when the pickle names anything else (the
            way a malicious file runs code), or is not a valid pickle.
    """

    def __init__(self, file, *, path: str, fix: str):
        super().__init__(file, encoding="bytes")
        self._path, self._fix = path, fix

    def find_class(self, module: str, name: str):
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise corrupt(
                self._path,
                f"asks the unpickler for {module}.{name}, which a CIFAR batch never needs; "
                "it was refused, because a pickle that names functions can run code "
                "(the file is damaged or was tampered with).",
                self._fix,
            ) from None


def safe_load(data: bytes, path: str, fix: str):
    """Unpickles bytes with `SafeUnpickler`, turning every failure into DatasetCorruptError."""
    try:
        return SafeUnpickler(io.BytesIO(data), path=path, fix=fix).load()
    except DatasetCorruptError:
        raise
    except Exception as exc:  # any malformed pickle: UnpicklingError, EOFError, ValueError, ...
        raise corrupt(
            path, f"is not a readable pickle ({explain(exc)}).", fix
        ) from None


def _as_text_keys(obj, path: str, what: str, fix: str) -> dict:
    if not isinstance(obj, dict):
        raise corrupt(path, f"holds a {type(obj).__name__}, but {what} is a dict.", fix)
    return {k.decode("latin1") if isinstance(k, bytes) else str(k): v for k, v in obj.items()}


def parse_batch(obj, spec: DatasetSpec, path: str, fix: str) -> tuple[np.ndarray, np.ndarray]:
    """Checks an unpickled CIFAR batch and converts it to `(N, 32, 32, 3)` uint8 and int64 labels.

    The batch's `b"data"` is `(N, 3072)` uint8, each row the red, green and blue 32 x 32
    planes one after the other (channels first); the labels are `b"labels"`
    (CIFAR-10) or `b"fine_labels"` (CIFAR-100).
    """
    what = f"a {spec.title} batch"
    batch = _as_text_keys(obj, path, what, fix)
    needed = ("data", spec.label_key)
    if any(key not in batch for key in needed):
        found = ", ".join(repr(k.encode()) for k in sorted(batch)) or "none"
        raise corrupt(
            path,
            f"is not {what}: expected the keys {needed[0].encode()!r} and "
            f"{needed[1].encode()!r}, found {found}.",
            fix,
        )
    data = batch["data"]
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 \
            or data.shape[1] != 3072:
        shape = getattr(data, "shape", None)
        dtype = getattr(data, "dtype", type(data).__name__)
        raise corrupt(
            path,
            f"has b'data' of shape {shape} and type {dtype}; {what} stores (N, 3072) uint8 "
            "(32 x 32 pixels x 3 channels per row).",
            fix,
        )
    try:
        labels = np.asarray(batch[spec.label_key])
    except Exception:  # anything that is not a list of numbers
        labels = np.asarray([])
    if labels.ndim != 1 or len(labels) != len(data) or not np.issubdtype(labels.dtype, np.integer):
        raise corrupt(
            path,
            f"has {len(data):,} images but {spec.label_key.encode()!r} holds "
            f"{labels.shape} values of type {labels.dtype}; expected {len(data):,} integer "
            "labels.",
            fix,
        )
    labels = check_labels(labels, spec.num_classes, path, fix)
    images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), labels


def parse_meta(obj, spec: DatasetSpec, path: str, fix: str) -> tuple[str, ...]:
    """Reads the class names from `batches.meta` (CIFAR-10) or `meta` (CIFAR-100)."""
    meta = _as_text_keys(obj, path, f"the {spec.title} meta file", fix)
    names = meta.get(spec.meta_key)
    if not isinstance(names, list) or len(names) != spec.num_classes:
        raise corrupt(
            path,
            f"is not the {spec.title} meta file: expected {spec.meta_key.encode()!r} with "
            f"{spec.num_classes} class names.",
            fix,
        )
    return tuple(n.decode("utf-8") if isinstance(n, bytes) else str(n) for n in names)


def read_archive(path: Path, spec: DatasetSpec, fix: str) -> dict[str, bytes]:
    """Reads the batch files out of a CIFAR tar.gz without extracting anything to disk.

    Returns:
        `{member file name: bytes}` for the batch and meta files that are present.
    """
    wanted = {f"{spec.batches_dir}/{name}" for names in spec.batch_files.values() for name in names}
    wanted.add(f"{spec.batches_dir}/{spec.meta_file}")
    found: dict[str, bytes] = {}
    try:
        with tarfile.open(path, "r:*") as tar:
            for member in tar:
                if member.isfile() and member.name in wanted:
                    handle = tar.extractfile(member)
                    found[member.name.rsplit("/", 1)[1]] = handle.read()
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        raise corrupt(
            path, f"is not a readable tar archive ({explain(exc)}).", fix
        ) from None
    if not found:
        raise corrupt(
            path,
            f"is a tar archive without the {spec.title} batches: expected members such as "
            f"{spec.batches_dir}/{spec.batch_files['test'][0]}.",
            fix,
        )
    return found
