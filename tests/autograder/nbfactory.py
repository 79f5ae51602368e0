"""Builds fixture-lab submissions (notebooks) from cell sources."""

from __future__ import annotations

from pathlib import Path

import nbformat

FIXTURES = Path(__file__).parent / "fixtures"
QUESTIONS = FIXTURES / "lab99_fixture.py"
HIDDEN = FIXTURES / "hidden"
LAB = "99_fixture"
MAX_SCORE = 5.0

SETUP = (
    "import numpy as np\nfrom cnnlabs.checks import checker\n"
    f"check = checker({LAB!r}, questions_path={str(QUESTIONS)!r})"
)
SOLUTION = [
    SETUP,
    "conv1_output_shape = (28, 28, 6)\ncheck('out_shape', conv1_output_shape)",
    "def conv_output_size(size, kernel, stride=1, padding=0):\n"
    "    return (size + 2 * padding - kernel) // stride + 1\n"
    "check('conv_size', conv_output_size)",
    "def relu(x):\n    return np.maximum(x, 0.0)\ncheck('relu', relu)",
]
STUDENT = [
    SETUP,
    "conv1_output_shape = ...  # YOUR CODE HERE\ncheck('out_shape', conv1_output_shape)",
    "def conv_output_size(size, kernel, stride=1, padding=0):\n"
    "    ...  # YOUR CODE HERE\ncheck('conv_size', conv_output_size)",
    "def relu(x):\n    ...  # YOUR CODE HERE\ncheck('relu', relu)",
]


def notebook(cells: list[str], lab: str | None = LAB) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    if lab is not None:
        nb.metadata["cnnlabs"] = {"lab": lab, "version": "student"}
    return nb


def write(path: Path, cells: list[str], lab: str | None = LAB) -> Path:
    path.write_text(nbformat.writes(notebook(cells, lab)))
    return path


def strong_sandbox_or_skip() -> str:
    """The sandbox's description; skips (fails in CI) where it is not strong or cannot start."""
    import os

    import pytest

    from autograder.sandbox import SandboxUnavailable, detect, preflight

    caps = detect()
    try:
        if caps.level != "strong":
            raise SandboxUnavailable(f"the sandbox here is {caps.describe()}, not strong")
        return preflight()
    except SandboxUnavailable as exc:
        if os.environ.get("CI"):
            pytest.fail(f"CI must provide the strong sandbox: {exc}")
        pytest.skip(f"needs the strong grading sandbox (root, bubblewrap, cgroups): {exc}")
