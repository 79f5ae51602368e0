"""Reference answers of the labs: grading side only, never shipped to students.

``autograder/references/labNN_name.py`` holds the reference implementations of a
lab and ``EXPECTED = {question id: expected(**inputs)}``. They are the oracles
of the hidden cases (``labs/hidden/NN_name.py`` imports them) and the source of
the public cases' expected outputs, which the student's package carries as data
(``cnnlabs/checks/expected/NN_name.json``, see ``cnnlabs.checks.stored``):

    cnnlabs expected            # regenerate the data of every lab
    cnnlabs expected --check    # exit 1 when a lab's data is stale
"""

from __future__ import annotations

import argparse
import copy
import importlib
import json
import math
from pathlib import Path

from cnnlabs.checks.plain import to_plain
from cnnlabs.checks.spec import case_seed, load_questions, make_inputs, resolve_lab
from cnnlabs.checks.stored import (
    EXPECTED_DIR,
    FORMAT,
    StoredExpected,
    answer_digest,
    encode,
    inputs_digest,
)
from cnnlabs.errors import UserError


def reference_module(lab: str):
    """``autograder.references.labNN_name`` of a lab."""
    return importlib.import_module(f"autograder.references.lab{resolve_lab(lab)}")


def compute(lab: str) -> dict:
    """The stored-data document of a lab, computed from its references."""
    stem = resolve_lab(lab)
    return compute_document(stem, load_questions(stem), reference_module(stem).EXPECTED)


def compute_document(stem: str, questions, expected_of: dict) -> dict:
    """The stored-data document of ``questions``; ``expected_of[question id](**inputs)``."""
    cases: dict = {}
    for question in questions:
        for case in question.public:
            if not isinstance(case.expected, StoredExpected):
                continue
            if question.id not in expected_of:
                raise UserError(
                    f"lab {stem}: question {question.id!r} has stored public cases but "
                    f"autograder/references/lab{stem}.py has no EXPECTED[{question.id!r}]."
                )
            inputs = make_inputs(case, case_seed(stem, question.id, case.name))
            value = to_plain(expected_of[question.id](**copy.deepcopy(inputs)), "expected")
            if case.expected.digest:
                value = answer_digest(stem, question.id, value)
            cases.setdefault(question.id, {})[case.name] = {
                "inputs": inputs_digest(inputs),
                "expected": encode(value),
            }
    return {"format": FORMAT, "lab": stem, "cases": cases}


def dumps(document: dict) -> str:
    return json.dumps(document, sort_keys=True, separators=(",", ":")) + "\n"


def labs_with_references() -> list[str]:
    here = Path(__file__).resolve().parent
    return sorted(p.stem[3:] for p in here.glob("lab[0-9][0-9]_*.py"))


def same_data(stored, computed, rel_tol: float = 1e-6) -> bool:
    """Whether two loaded data files agree: equal, except floats within float32 rounding.

    TensorFlow releases differ in the last bit of some float32 kernels (LRN's output
    differs by one unit in the last place between TF 2.19 and 2.21), which changes no
    check's verdict (the checks compare with tolerances far above it).

    >>> same_data({"x": [0.22500857710838318]}, {"x": [0.22500859200954437]})
    True
    >>> same_data({"x": [0.225]}, {"x": [0.226]}), same_data({"n": 3}, {"n": 4})
    (False, False)
    """
    if isinstance(stored, dict) and isinstance(computed, dict):
        return stored.keys() == computed.keys() and all(
            same_data(stored[k], computed[k], rel_tol) for k in stored
        )
    if isinstance(stored, list) and isinstance(computed, list):
        return len(stored) == len(computed) and all(
            same_data(a, b, rel_tol) for a, b in zip(stored, computed)
        )
    if isinstance(stored, float) and isinstance(computed, float):
        if math.isnan(stored) or math.isnan(computed):
            return math.isnan(stored) and math.isnan(computed)
        return math.isclose(stored, computed, rel_tol=rel_tol, abs_tol=1e-12)
    return type(stored) is type(computed) and stored == computed


def stale(labs: list[str] | None = None, expected_dir: Path = EXPECTED_DIR) -> list[str]:
    """The data files that differ from what the references compute now (`same_data`)."""
    out = []
    for stem in labs or labs_with_references():
        path = Path(expected_dir) / f"{stem}.json"
        if not path.is_file() or not same_data(
            json.loads(path.read_text()), json.loads(dumps(compute(stem)))
        ):
            out.append(str(path))
    return out


def write(labs: list[str] | None = None, expected_dir: Path = EXPECTED_DIR) -> list[Path]:
    """Writes the data of each lab; returns the files written."""
    written = []
    for stem in labs or labs_with_references():
        path = Path(expected_dir) / f"{stem}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dumps(compute(stem)))
        written.append(path)
    return written


def main(args: argparse.Namespace) -> int:
    labs = [resolve_lab(name) for name in args.labs] or None
    if args.check:
        outdated = stale(labs)
        for path in outdated:
            print(f"stale: {path} (run `cnnlabs expected`)")
        if not outdated:
            print("the public cases' stored expected outputs are up to date.")
        return 1 if outdated else 0
    for path in write(labs):
        print(f"wrote {path}")
    return 0
