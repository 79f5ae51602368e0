"""One lab source, two generated notebooks: the markers and notebook half of `cnnlabs assign`.

From `labs/source/NN_name.py` (jupytext percent format, solutions inside
`### BEGIN SOLUTION` / `### END SOLUTION` markers, see `autograder.markers`) this
module builds, in memory,

- `solutions/NN_name.ipynb`, the instructor's version: marker lines removed,
  solutions in, cells tagged `student` left out;
- `labs/NN_name.ipynb`, the student's version: each block replaced by one line
  `...  # YOUR CODE HERE` at the block's indentation, cells tagged `solution`
  left out.

Both get an "Open in Colab" badge and a Colab install cell (the repository is
named once, in `cnnlabs._meta`), a fixed kernelspec, no execution counts, and
`metadata.cnnlabs = {"lab", "version", "source_sha256"}`. Generated notebooks
carry no outputs except those of solution cells marked `# NBVAL_CHECK_OUTPUT`,
kept from the existing notebook (`generate`) or stored by
`autograder.solutionrun.execute`. Nothing here runs code or touches the
environment; `autograder.assign` writes the files.
"""

from __future__ import annotations

import copy
import hashlib
from pathlib import Path

import nbformat

from autograder.labfiles import Lab
from autograder.markers import SOLUTION_TAG, STUDENT_TAG, MarkerError, split_solution
from cnnlabs import _meta

__all__ = [
    "KERNELSPEC",
    "NBVAL_CHECK",
    "VERSIONS",
    "build_notebooks",
    "check_cells",
    "dumps",
    "generate",
    "keep_check_outputs",
    "read_existing",
    "source_sha256",
    "stale",
    "strip_outputs",
]

NBVAL_CHECK = "# NBVAL_CHECK_OUTPUT"
VERSIONS = ("student", "solution")

KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}


def _badge_cell(lab: Lab, version: str) -> nbformat.NotebookNode:
    url = _meta.colab_url(lab.relative(version))
    badge = "https://colab.research.google.com/assets/colab-badge.svg"
    return nbformat.v4.new_markdown_cell(f"[![Open In Colab]({badge})]({url})")


def _install_cell() -> nbformat.NotebookNode:
    requirement = _meta.pip_requirement()
    return nbformat.v4.new_code_cell(
        "# In Google Colab, install cnnlabs first (elsewhere it is already installed).\n"
        "import sys\n"
        "\n"
        'if "google.colab" in sys.modules:\n'
        "    import importlib\n"
        "    import subprocess\n"
        "\n"
        "    subprocess.run(\n"
        f'        [sys.executable, "-m", "pip", "install", "-q", "{requirement}"], check=True\n'
        "    )\n"
        "    importlib.invalidate_caches()"
    )


def _clean_cell(cell: nbformat.NotebookNode) -> nbformat.NotebookNode:
    tags = list(cell.metadata.get("tags", []))
    source = cell.source.rstrip()
    if cell.cell_type == "markdown":
        new = nbformat.v4.new_markdown_cell(source)
    else:
        new = nbformat.v4.new_code_cell(source)
    if tags:
        new.metadata["tags"] = tags
    return new


def _read_cells(text: str, drop_tag: str) -> list[nbformat.NotebookNode]:
    import jupytext

    parsed = jupytext.reads(text, fmt="py:percent")
    cells = []
    for cell in parsed.cells:
        if cell.cell_type not in ("code", "markdown"):
            continue
        if drop_tag in cell.metadata.get("tags", []):
            continue
        if not cell.source.strip():
            continue
        cells.append(_clean_cell(cell))
    return cells


def source_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build_notebooks(lab: Lab) -> dict[str, nbformat.NotebookNode]:
    """Generates both notebooks of a lab in memory (no outputs).

    Returns:
        `{"student": notebook, "solution": notebook}`.

    Raises:
        MarkerError: when the source's markers are unbalanced.
    """
    text = lab.source.read_text(encoding="utf-8")
    rel = lab.source.relative_to(lab.root).as_posix()
    solution_text, student_text = split_solution(text, rel)
    digest = source_sha256(lab.source)
    notebooks = {}
    for version, version_text, drop in (
        ("student", student_text, SOLUTION_TAG),
        ("solution", solution_text, STUDENT_TAG),
    ):
        cells = _read_cells(version_text, drop)
        if not cells or cells[0].cell_type != "markdown":
            raise MarkerError(
                f"{rel}:1: a lab must open with a markdown cell (the title and learning "
                "objectives); the Colab badge and install cell are inserted after it."
            )
        cells = [cells[0], _badge_cell(lab, version), _install_cell(), *cells[1:]]
        for index, cell in enumerate(cells):
            cell["id"] = f"{lab.name[:2]}-{index:03d}"
        nb = nbformat.v4.new_notebook(cells=cells)
        nb.metadata = {
            "accelerator": "GPU",
            "cnnlabs": {"lab": lab.name, "version": version, "source_sha256": digest},
            "colab": {"gpuType": "T4", "provenance": []},
            "kernelspec": dict(KERNELSPEC),
            "language_info": {"name": "python"},
        }
        nb.nbformat, nb.nbformat_minor = 4, 5
        notebooks[version] = nb
    return notebooks


def dumps(nb: nbformat.NotebookNode) -> str:
    """Stable JSON: sorted keys, one-space indent, trailing newline."""
    text = nbformat.writes(nb, version=4)
    return text if text.endswith("\n") else text + "\n"


def check_cells(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [c for c in nb.cells if c.cell_type == "code" and NBVAL_CHECK in c.source]


def strip_outputs(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return nb


def keep_check_outputs(nb: nbformat.NotebookNode, executed: nbformat.NotebookNode) -> None:
    """Copies the outputs of NBVAL_CHECK_OUTPUT cells from `executed` (matched by source)."""
    outputs = {c.source: c.get("outputs", []) for c in check_cells(executed)}
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    for cell in check_cells(nb):
        # nbval refuses stored outputs without an execution count ("Unrun reference cell
        # has outputs"); the cell's position among the code cells keeps it deterministic.
        count = code_cells.index(cell) + 1
        kept = []
        for output in copy.deepcopy(outputs.get(cell.source, [])):
            if "execution_count" in output:
                output["execution_count"] = count
            kept.append(output)
        cell.outputs = kept
        cell.execution_count = count if kept else None


def read_existing(path: Path) -> nbformat.NotebookNode | None:
    if not path.exists():
        return None
    try:
        return nbformat.reads(path.read_text(encoding="utf-8"), as_version=4)
    except Exception:  # noqa: BLE001 - a corrupt notebook is simply regenerated
        return None


def generate(lab: Lab) -> dict[str, str]:
    """The JSON text both notebooks of `lab` should have, keeping stored check outputs."""
    notebooks = build_notebooks(lab)
    existing = read_existing(lab.notebook("solution"))
    if existing is not None:
        keep_check_outputs(notebooks["solution"], existing)
    return {version: dumps(nb) for version, nb in notebooks.items()}


def stale(lab: Lab) -> list[str]:
    """Why the generated notebooks of `lab` are out of date (empty when up to date)."""
    problems = []
    for version, nb in build_notebooks(lab).items():
        path = lab.notebook(version)
        existing = read_existing(path)
        rel = lab.relative(version)
        if existing is None:
            problems.append(f"{rel} is missing")
        elif dumps(strip_outputs(existing)) != dumps(nb):
            problems.append(f"{rel} does not match {lab.source.relative_to(lab.root).as_posix()}")
        elif version == "solution":
            empty = [c.id for c in check_cells(existing) if not c.get("outputs")]
            if empty:
                problems.append(
                    f"{rel} has {NBVAL_CHECK} cells without stored outputs ({', '.join(empty)}); "
                    f"run `cnnlabs assign {lab.name} --execute`"
                )
    return problems
