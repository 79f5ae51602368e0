"""Run a generated student notebook with some answer cells replaced (the labs' Run-All tests)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import nbformat

from autograder.labfiles import Lab

ROOT = Path(__file__).resolve().parents[2]


def student_notebook_with(lab: str, replacements: dict[str, str]) -> nbformat.NotebookNode:
    """The generated student notebook with the answer cells that define these names replaced."""
    nb = nbformat.read(Lab(lab, ROOT).notebook("student"), as_version=4)
    for name, source in replacements.items():
        cells = [c for c in nb.cells if c.cell_type == "code" and f"def {name}(" in c.source]
        assert len(cells) == 1, name
        cells[0].source = textwrap.dedent(source).strip()
    return nb


def run_all(nb, tmp_path) -> str:
    """Executes ``nb`` top to bottom (raises if a cell raises); returns what it printed."""
    from nbclient import NotebookClient

    NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    return stdout(nb)


def stdout(nb) -> str:
    """Everything an executed notebook's code cells printed (their stream outputs)."""
    return "".join(
        o.get("text", "")
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if o.get("output_type") == "stream"
    )
