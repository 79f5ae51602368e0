"""Trusted reading and writing of plain data files shared with a sandboxed kernel.

Format: ``stem.json`` holds a tagged tree (``{"i": "3"}``, ``{"f": "0.5"}``,
``{"s": "..."}``, ``{"l": [...]}``, ``{"t": [...]}``, ``{"d": [[key, node]]}``,
``{"a": "a0"}`` for an array stored in ``stem.npz``; ``null``/``true``/``false``
as is). Reading never unpickles (``allow_pickle=False``), refuses symlinks and
files that are too big, and validates every node: a malformed file raises
``TamperError`` with the reason.
"""

from __future__ import annotations

import json
import os
import stat
import zipfile
from pathlib import Path

import numpy as np

MAX_JSON_BYTES = 16 * 2**20
MAX_NPZ_BYTES = 512 * 2**20
MAX_DEPTH = 40
MAX_INT_DIGITS = 400
NUMERIC_KINDS = "biufc"


class TamperError(ValueError):
    """A file from the sandbox that is not what the grader wrote or asked for."""


def encode(value, arrays: dict):
    if value is None or type(value) is bool:
        return value
    if type(value) is int:
        return {"i": str(value)}
    if type(value) is float:
        return {"f": repr(value)}
    if type(value) is complex:
        return {"c": [repr(value.real), repr(value.imag)]}
    if type(value) is str:
        return {"s": value}
    if type(value) in (list, tuple):
        return {"l" if type(value) is list else "t": [encode(v, arrays) for v in value]}
    if type(value) is dict:
        return {"d": [[k, encode(v, arrays)] for k, v in value.items()]}
    if type(value) is np.ndarray:
        key = f"a{len(arrays)}"
        arrays[key] = value
        return {"a": key}
    raise TypeError(f"cannot encode {type(value).__name__} as plain data")


def write(folder: Path, stem: str, value, mode: int = 0o644) -> None:
    """Writes plain data as ``stem.json`` (+ ``stem.npz``)."""
    arrays: dict = {}
    tree = encode(value, arrays)
    if arrays:
        np.savez(folder / f"{stem}.npz", **arrays)
        os.chmod(folder / f"{stem}.npz", mode)
    (folder / f"{stem}.json").write_text(json.dumps(tree))
    os.chmod(folder / f"{stem}.json", mode)


def open_regular(path: Path, cap: int) -> bytes:
    """The bytes of the regular file `path`, read without following a link and at most
    `cap` of them.

    Raises:
        FileNotFoundError: if `path` does not exist.
        TamperError: if it is a link, not a regular file, or larger than `cap`.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise TamperError(f"{path.name}: cannot be opened safely ({exc.strerror}).") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise TamperError(f"{path.name}: not a regular file.")
        if info.st_size > cap:
            raise TamperError(f"{path.name}: {info.st_size} bytes, more than the {cap} allowed.")
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return handle.read(cap + 1)
    finally:
        os.close(fd)


def read_json(path: Path, cap: int = MAX_JSON_BYTES):
    data = open_regular(path, cap)
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        raise TamperError(f"{path.name}: not valid JSON.") from None


def read_arrays(path: Path) -> dict[str, np.ndarray]:
    """Arrays of an ``.npz`` written by the kernel, validated (numeric, size-capped)."""
    import io

    data = open_regular(path, MAX_NPZ_BYTES)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        total = sum(info.file_size for info in archive.infolist())
    except Exception:  # BadZipFile, a lying central directory, ...
        raise TamperError(f"{path.name}: not a valid .npz archive.") from None
    if total > MAX_NPZ_BYTES:
        raise TamperError(f"{path.name}: expands to {total} bytes, more than allowed.")
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
    except Exception as exc:  # bad CRC (BadZipFile), truncated data, unknown compression, ...
        raise TamperError(
            f"{path.name}: unreadable arrays ({type(exc).__name__}: {exc})."
        ) from None
    for key, arr in arrays.items():
        if type(arr) is not np.ndarray or arr.dtype.kind not in NUMERIC_KINDS:
            raise TamperError(f"{path.name}: array {key!r} has non-numeric dtype {arr.dtype}.")
    return arrays


def decode(node, arrays: dict, depth: int = 0):
    """Validates and decodes a tagged tree; raises TamperError on anything unexpected."""
    if depth > MAX_DEPTH:
        raise TamperError("answer nested too deeply.")
    if node is None or type(node) is bool:
        return node
    if type(node) is not dict or len(node) != 1:
        raise TamperError(f"malformed answer node of type {type(node).__name__}.")
    ((tag, value),) = node.items()
    try:
        if tag == "i" and type(value) is str and len(value) <= MAX_INT_DIGITS:
            return int(value)
        if tag == "f" and type(value) is str and len(value) <= 64:
            return float(value)
        if tag == "c" and type(value) is list and len(value) == 2:
            return complex(float(value[0]), float(value[1]))
    except (TypeError, ValueError):
        raise TamperError(f"malformed number {value!r}.") from None
    if tag == "s" and type(value) is str:
        return value
    if tag in ("l", "t") and type(value) is list:
        items = [decode(v, arrays, depth + 1) for v in value]
        return items if tag == "l" else tuple(items)
    if tag == "d" and type(value) is list:
        out = {}
        for pair in value:
            if type(pair) is not list or len(pair) != 2 or type(pair[0]) is not str:
                raise TamperError("malformed dict entry.")
            out[pair[0]] = decode(pair[1], arrays, depth + 1)
        return out
    if tag == "a" and type(value) is str and value in arrays:
        return arrays[value]
    raise TamperError(f"malformed answer node with tag {tag!r}.")


def read(folder: Path, stem: str):
    """Reads ``stem.json`` (+ ``stem.npz``) written by the kernel; returns the record dict."""
    record = read_json(folder / f"{stem}.json")
    if type(record) is not dict or record.get("status") not in (
        "ok",
        "not_attempted",
        "error",
        "invalid",
    ):
        raise TamperError(f"{stem}.json: not a result record.")
    arrays = {}
    if (folder / f"{stem}.npz").exists() or (folder / f"{stem}.npz").is_symlink():
        arrays = read_arrays(folder / f"{stem}.npz")
    if record["status"] == "ok" and "value" in record:
        record["value"] = decode(record["value"], arrays)
    return record
