"""Expected outputs of public cases, stored as data instead of computed by a reference.

The student's kernel holds no reference solution: a public case declares
``expected=STORED`` and the check cell reads its expected output from
``cnnlabs/checks/expected/<lab>.json``. That file is generated on the grading side
from the references in ``autograder/references/labNN_name.py`` by
``cnnlabs expected`` (``cnnlabs expected --check`` says when it is stale). A
fixed-value answer is stored only as a salted digest (``expected=STORED_DIGEST``):
the check cell can tell right from wrong without holding the value.

In a check module::

    QUESTIONS = with_stored("06_batchnorm", (
        Question(..., public=(Case(name="...", inputs=..., expected=STORED), ...)),
    ))

Each stored case also records a digest of its inputs, so a case whose inputs
changed after the data was generated fails loudly instead of judging against a
stale value.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from pathlib import Path

import numpy as np

from cnnlabs.checks.plain import to_plain
from cnnlabs.checks.spec import Case, Question

EXPECTED_DIR = Path(__file__).resolve().parent / "expected"
FORMAT = 1


class StaleExpectedError(LookupError):
    """The stored expected output is missing or was computed for other inputs."""


class _Marker:
    """``expected=`` of a case whose expected output is stored data (see ``with_stored``)."""

    def __init__(self, name: str, digest: bool):
        self.name, self.digest = name, digest

    def __repr__(self) -> str:
        return self.name

    def __call__(self, **inputs):
        raise StaleExpectedError(
            f"{self.name} was not bound to a lab: wrap the check module's questions in "
            "with_stored(lab, QUESTIONS)."
        )


STORED = _Marker("STORED", digest=False)
STORED_DIGEST = _Marker("STORED_DIGEST", digest=True)


# ---------------------------------------------------------------- plain data <-> JSON


def encode(value):
    """Plain data (see ``to_plain``) as JSON-ready data; tuples, dicts, arrays tagged."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return {"float": repr(value)}
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "c":
            raise TypeError("complex arrays cannot be stored.")
        return {"array": value.tolist(), "dtype": value.dtype.str, "shape": list(value.shape)}
    if isinstance(value, tuple):
        return {"tuple": [encode(v) for v in value]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {"dict": {k: encode(v) for k, v in value.items()}}
    raise TypeError(f"{type(value).__name__} cannot be stored as expected data.")


def decode(node):
    """The inverse of ``encode``."""
    if isinstance(node, list):
        return [decode(v) for v in node]
    if not isinstance(node, dict):
        return node
    if "array" in node:
        array = np.array(node["array"], dtype=np.dtype(node["dtype"]))
        return array.reshape(node["shape"])
    if "tuple" in node:
        return tuple(decode(v) for v in node["tuple"])
    if "dict" in node:
        return {k: decode(v) for k, v in node["dict"].items()}
    if "float" in node:
        return float(node["float"])
    raise ValueError(f"unknown stored node {sorted(node)}.")


def _canonical(value) -> bytes:
    return json.dumps(encode(to_plain(value, "value")), sort_keys=True).encode()


def inputs_digest(inputs: dict) -> str:
    """A short digest of a case's inputs (plain data), recorded next to its expected output."""
    return hashlib.sha256(_canonical(inputs)).hexdigest()[:16]


def answer_digest(lab: str, question_id: str, value) -> str:
    """The salted digest of a fixed-value answer; integral floats count as ints."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, np.generic):
        value = value.item()
    text = f"cnnlabs/answer/{lab}/{question_id}/".encode() + _canonical(value)
    return hashlib.sha256(text).hexdigest()


# ---------------------------------------------------------------- lookup


def expected_path(lab: str, directory: str | Path | None = None) -> Path:
    """``cnnlabs/checks/expected/<lab>.json`` (or ``<directory>/<lab>.json``)."""
    return Path(directory if directory is not None else EXPECTED_DIR) / f"{lab}.json"


def read_expected(lab: str, directory: str | Path | None = None) -> dict:
    """``{question id: {case name: {"inputs": digest, "expected": node}}}`` of a lab."""
    path = expected_path(lab, directory)
    if not path.is_file():
        raise StaleExpectedError(
            f"{path} does not exist: generate the public cases' expected outputs "
            "with `cnnlabs expected` (grading side)."
        )
    stamp = path.stat().st_mtime_ns
    cached = _CACHE.get(path)
    if cached is None or cached[0] != stamp:
        data = json.loads(path.read_text())
        if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("lab") != lab:
            raise StaleExpectedError(f"{path} is not format {FORMAT} data of lab {lab}.")
        cached = _CACHE[path] = (stamp, data["cases"])
    return cached[1]


_CACHE: dict[Path, tuple[int, dict]] = {}


class StoredExpected:
    """``expected(**inputs)`` of one public case: its stored output (or answer digest)."""

    def __init__(self, lab: str, question_id: str, case_name: str, digest: bool, directory=None):
        self.lab, self.question_id, self.case_name = lab, question_id, case_name
        self.digest, self.directory = digest, directory

    def __repr__(self) -> str:
        return f"StoredExpected({self.lab!r}, {self.question_id!r}, {self.case_name!r})"

    def __call__(self, **inputs):
        cases = read_expected(self.lab, self.directory)
        entry = cases.get(self.question_id, {}).get(self.case_name)
        where = f"lab {self.lab}, question {self.question_id!r}, case {self.case_name!r}"
        if entry is None:
            raise StaleExpectedError(
                f"no stored expected output for {where}: run `cnnlabs expected` (grading side)."
            )
        if entry["inputs"] != inputs_digest(inputs):
            raise StaleExpectedError(
                f"the stored expected output of {where} was computed for other inputs: "
                "run `cnnlabs expected` (grading side)."
            )
        return decode(entry["expected"])


def with_stored(
    lab: str, questions: tuple[Question, ...], directory: str | Path | None = None
) -> tuple[Question, ...]:
    """Binds every ``expected=STORED``/``STORED_DIGEST`` public case to the lab's data.

    Args:
        lab: str, the lab stem (``"06_batchnorm"``): the data is ``<lab>.json``.
        questions: the lab's questions.
        directory: where the data lives; default ``cnnlabs/checks/expected``.
    """
    bound = []
    for question in questions:
        cases = tuple(
            dataclasses.replace(
                case,
                expected=StoredExpected(
                    lab, question.id, case.name, case.expected.digest, directory
                ),
            )
            if isinstance(case.expected, _Marker)
            else case
            for case in question.public
        )
        bound.append(dataclasses.replace(question, public=cases))
    return tuple(bound)


def is_stored(case: Case) -> bool:
    """True for a public case whose expected output is stored data."""
    return isinstance(case.expected, StoredExpected)
