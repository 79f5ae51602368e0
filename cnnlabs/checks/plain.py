"""Plain data: the only thing an answer may be when it crosses into the grader.

``to_plain`` turns an answer into numbers, strings, bools, ``None``, lists,
tuples, dicts with string keys, and NumPy arrays of numeric dtype (TensorFlow and
Keras tensors are converted through NumPy). Anything else is rejected with a
message the student can act on. Only exact built-in types pass, so an object with
a custom ``__eq__`` (an "always equal" object) is never taken for plain data.

``compare(expected, received, rtol, atol)`` is the one comparison used by the
check cells and by the grader: it returns ``None`` when the answer is right and a
short explanation otherwise. Integers are compared exactly (a parameter count of
122305 is not 122304); the tolerances apply to floats.
"""

from __future__ import annotations

import math

import numpy as np

MAX_DEPTH = 32
MAX_ITEMS = 100_000  # elements of lists/dicts (arrays are limited by size instead)
MAX_ARRAY_BYTES = 256 * 2**20
NUMERIC_KINDS = "biufc"


class PlainDataError(TypeError):
    """An answer that is not plain data."""


_PLAIN_HELP = (
    "Answers must be plain data: numbers, strings, bools, None, lists/tuples/dicts "
    "of them, or NumPy arrays/tensors of numbers."
)


def _is_tensor(obj) -> bool:
    module = type(obj).__module__ or ""
    return module.split(".")[0] in ("tensorflow", "keras", "tf_keras", "jax", "jaxlib", "torch")


def _array(obj, where: str) -> np.ndarray:
    if obj.dtype.kind not in NUMERIC_KINDS:
        raise PlainDataError(
            f"{where} is a NumPy array of dtype {obj.dtype}, expected a numeric dtype "
            "(bool, int, float, complex). Convert it, e.g. np.asarray(x, dtype=float)."
        )
    if obj.nbytes > MAX_ARRAY_BYTES:
        raise PlainDataError(
            f"{where} is an array of {obj.nbytes / 2**20:.0f} MiB, more than the "
            f"{MAX_ARRAY_BYTES / 2**20:.0f} MiB an answer may have."
        )
    return np.array(obj, copy=True, order="C")


def to_plain(obj, where: str = "answer", _depth: int = 0, _count: list | None = None):
    """Converts an answer to plain data, or raises ``PlainDataError`` saying why not.

    Args:
        obj: the answer.
        where: str, how to name the answer in messages (``"answer"``).

    Returns:
        The same data built only from ``None``, ``bool``, ``int``, ``float``,
        ``complex``, ``str``, ``list``, ``tuple``, ``dict`` (string keys) and
        ``numpy.ndarray`` (numeric dtype). NumPy scalars become Python scalars,
        tensors become arrays.

    Raises:
        PlainDataError: for any other type (the message names the offending part).

    Example:
        >>> to_plain({"shape": (28, 28, 6), "ok": True})
        {'shape': (28, 28, 6), 'ok': True}
    """
    count = _count if _count is not None else [0]
    count[0] += 1
    if count[0] > MAX_ITEMS:
        raise PlainDataError(f"{where}: the answer has more than {MAX_ITEMS} items.")
    if _depth > MAX_DEPTH:
        raise PlainDataError(f"{where}: the answer is nested more than {MAX_DEPTH} levels deep.")
    kind = type(obj)
    if obj is None or kind in (bool, int, float, complex, str):
        return obj
    if kind is np.ndarray:
        return _array(obj, where)
    if isinstance(obj, np.generic) and kind.__module__ == "numpy":
        if obj.dtype.kind not in NUMERIC_KINDS:
            raise PlainDataError(f"{where} is a NumPy {obj.dtype} scalar; {_PLAIN_HELP}")
        return obj.item()
    if kind in (list, tuple):
        items = [to_plain(x, f"{where}[{i}]", _depth + 1, count) for i, x in enumerate(obj)]
        return items if kind is list else tuple(items)
    if kind is dict:
        out = {}
        for key, value in obj.items():
            if type(key) is not str:
                raise PlainDataError(
                    f"{where} has a key {key!r} of type {type(key).__name__}; dict keys must be str."
                )
            out[key] = to_plain(value, f"{where}[{key!r}]", _depth + 1, count)
        return out
    if _is_tensor(obj):
        try:
            value = np.asarray(obj.numpy() if hasattr(obj, "numpy") else obj)
        except Exception as exc:  # symbolic tensors, etc.
            raise PlainDataError(
                f"{where} is a {kind.__module__}.{kind.__name__} that cannot be converted "
                f"to a NumPy array ({exc}). Return concrete values, e.g. tensor.numpy()."
            ) from None
        if type(value) is not np.ndarray:
            raise PlainDataError(f"{where}: converting the tensor did not give a NumPy array.")
        return _array(value, where)
    raise PlainDataError(f"{where} is of type {kind.__module__}.{kind.__qualname__}. {_PLAIN_HELP}")


# ---------------------------------------------------------------- display


def describe(value, limit: int = 300) -> str:
    """A short human rendering of plain data (arrays show shape, dtype and values)."""
    if isinstance(value, np.ndarray):
        body = np.array2string(value, threshold=20, edgeitems=3, precision=5)
        text = f"array of shape {value.shape}, dtype {value.dtype}: {body}"
    else:
        text = repr(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _type_name(value) -> str:
    if isinstance(value, np.ndarray):
        return f"array of dtype {value.dtype}"
    return type(value).__name__


# ---------------------------------------------------------------- comparison


def _is_number(value) -> bool:
    return type(value) in (int, float, complex)


def _as_numeric_array(value):
    """An array for numbers / arrays / (nested) sequences of numbers, else None."""
    if isinstance(value, np.ndarray):
        return value if value.dtype.kind in NUMERIC_KINDS else None
    if type(value) in (bool, int, float, complex):
        return np.asarray(value)
    if type(value) in (list, tuple):
        try:
            arr = np.asarray(value)
        except (ValueError, TypeError):
            return None
        return arr if arr.dtype.kind in NUMERIC_KINDS else None
    return None


def _compare_arrays(
    expected: np.ndarray, received: np.ndarray, rtol, atol, where, exact_ints=True
) -> str | None:
    if expected.shape != received.shape:
        return (
            f"{where}: shape mismatch: expected shape {expected.shape}, "
            f"received shape {received.shape}."
        )
    ek, rk = expected.dtype.kind, received.dtype.kind
    if (ek == "b") != (rk == "b"):
        return f"{where}: expected {_type_name(expected)}, received {_type_name(received)}."
    if rk == "c" and ek != "c":
        return f"{where}: expected real numbers, received complex numbers."
    if expected.size == 0:
        return None
    exact = ek == "b" or (exact_ints and ek in "iu" and rk in "iuf")
    if exact:
        bad = expected != received
    else:
        e = expected.astype(np.complex128 if "c" in (ek, rk) else np.float64)
        r = received.astype(e.dtype)
        with np.errstate(invalid="ignore", over="ignore"):
            bad = ~np.isclose(r, e, rtol=rtol, atol=atol, equal_nan=True)
    n_bad = int(np.count_nonzero(bad))
    if n_bad == 0:
        return None
    index = np.unravel_index(int(np.argmax(bad)), bad.shape) if bad.ndim else ()
    e_val, r_val = expected[index].item(), received[index].item()
    at = f" at index {tuple(int(i) for i in index)}" if index else ""
    how = "integers, compared exactly" if exact else f"rtol={rtol:g}, atol={atol:g}"
    return (
        f"{where}: {n_bad} of {expected.size} values differ ({how}); "
        f"first{at}: expected {e_val!r}, received {r_val!r}."
    )


def compare(
    expected,
    received,
    rtol: float = 1e-5,
    atol: float = 1e-8,
    where: str = "answer",
    *,
    exact_ints: bool = True,
):
    """Compares plain data; ``None`` when equal within tolerance, else a message.

    Floats and float arrays match when ``|received - expected| <= atol + rtol *
    |expected|`` element-wise. Integers (``int``, integer arrays) are compared
    exactly, whatever ``rtol``/``atol`` say: a received ``28.0`` matches ``28`` but
    ``122305`` does not match ``122304``. A case that accepts nearby integers says
    so with its own ``check=`` calling ``compare(..., exact_ints=False)``.
    Shapes must be equal (no broadcasting); bools only match bools;
    NaN matches NaN at the same place; a list/tuple of numbers matches an array with
    the same shape and values. Strings, ``None`` and dict keys must be equal exactly.

    Example:
        >>> compare((28, 28, 6), [28, 28, 6]) is None
        True
        >>> compare(1.0, 1.1)
        'answer: expected 1.0, received 1.1 (rtol=1e-05, atol=1e-08).'
        >>> compare(122304, 122305)
        'answer: expected 122304, received 122305 (integers, compared exactly).'
    """
    if expected is None or type(expected) is str:
        if type(received) is type(expected) and received == expected:
            return None
        return f"{where}: expected {describe(expected)}, received {describe(received)}."
    if type(expected) is bool:
        if type(received) is bool and received == expected:
            return None
        if isinstance(received, np.ndarray) and received.shape == () and received.dtype == bool:
            if bool(received) == expected:
                return None
        return f"{where}: expected {expected!r}, received {describe(received)}."
    if _is_number(expected):
        if type(received) is bool or not (
            _is_number(received) or (isinstance(received, np.ndarray) and received.shape == ())
        ):
            return f"{where}: expected the number {expected!r}, received {describe(received)}."
        if isinstance(received, np.ndarray) and received.dtype.kind not in "iufc":
            return f"{where}: expected the number {expected!r}, received {describe(received)}."
        r = (
            complex(received)
            if isinstance(received, np.ndarray) and received.dtype.kind == "c"
            else received
        )
        if isinstance(r, np.ndarray):
            r = r.item()
        if isinstance(r, complex) and not isinstance(expected, complex):
            return f"{where}: expected a real number {expected!r}, received {r!r}."
        if isinstance(expected, float) and math.isnan(expected):
            ok = isinstance(r, float) and math.isnan(r)
        elif exact_ints and type(expected) is int and type(r) in (int, float):
            if r == expected:
                return None
            return f"{where}: expected {expected!r}, received {r!r} (integers, compared exactly)."
        else:
            try:
                ok = bool(np.isclose(r, expected, rtol=rtol, atol=atol))
            except (TypeError, OverflowError):
                ok = False
        if ok:
            return None
        return f"{where}: expected {expected!r}, received {r!r} (rtol={rtol:g}, atol={atol:g})."
    if type(expected) is dict:
        if type(received) is not dict:
            return f"{where}: expected a dict, received {_type_name(received)}."
        if set(expected) != set(received):
            missing = sorted(set(expected) - set(received))
            extra = sorted(set(received) - set(expected))
            return f"{where}: dict keys differ: missing {missing}, unexpected {extra}."
        for key in expected:
            message = compare(
                expected[key], received[key], rtol, atol, f"{where}[{key!r}]", exact_ints=exact_ints
            )
            if message:
                return message
        return None
    if isinstance(expected, np.ndarray) or type(expected) in (list, tuple):
        exp_arr = _as_numeric_array(expected)
        rec_arr = _as_numeric_array(received)
        if exp_arr is not None and (isinstance(expected, np.ndarray) or rec_arr is not None):
            if rec_arr is None:
                return (
                    f"{where}: expected numbers of shape {exp_arr.shape}, "
                    f"received {describe(received)}."
                )
            return _compare_arrays(exp_arr, rec_arr, rtol, atol, where, exact_ints)
        if type(received) not in (list, tuple):
            return f"{where}: expected a sequence, received {_type_name(received)}."
        if len(received) != len(expected):
            return f"{where}: expected {len(expected)} items, received {len(received)} items."
        for i, (e, r) in enumerate(zip(expected, received)):
            message = compare(e, r, rtol, atol, f"{where}[{i}]", exact_ints=exact_ints)
            if message:
                return message
        return None
    return f"{where}: cannot compare with expected value of type {type(expected).__name__}."
