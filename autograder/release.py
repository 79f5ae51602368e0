"""`cnnlabs release OUT_DIR`: the student-facing repository, written from the instructor's.

Two repositories, one command. The instructor's repository keeps the lab sources
(`labs/source`, solutions inside markers), the solution notebooks, the hidden
tests (`labs/hidden`) and the grader with its references (`autograder/`). The
release is what students may see, and what the Colab badges and install cell
point at (`cnnlabs._meta.REPOSITORY_URL`):

    OUT_DIR/
      README.md            for students: the labs, how to open and submit them
      pyproject.toml       installs the `cnnlabs` package only
      cnnlabs/             the library and the check cells (expected outputs as data)
      labs/NN_name.ipynb   the student notebooks

Before writing anything the command refuses a stale checkout (generated notebooks
or the public cases' stored expected outputs out of date). After writing, it reads
back every file of the release and refuses (deleting OUT_DIR) if a line of a
solution block appears anywhere in it (``find_leaks``), so a release that leaks
an answer is never left on disk. A course happy to publish everything can keep
one repository and skip this command.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
from pathlib import Path

import nbformat

from autograder.labfiles import Lab, available_labs, find_root
from autograder.markers import line_layout, split_solution
from cnnlabs import _meta
from cnnlabs.errors import UserError

# What the release copies from the instructor's checkout; nothing else goes out.
PACKAGE = "cnnlabs"
SKIP_DIRS = {"__pycache__", ".ipynb_checkpoints"}
SKIP_SUFFIXES = {".pyc", ".pyo"}
# A solution line shorter than this (once whitespace is removed) is too generic to
# be an answer: `return x`, `else:`, `y = x`, `)`.
MIN_SIGNIFICANT = 12


class LeakError(UserError):
    """A release would contain a line of a solution."""


# ---------------------------------------------------------------- solution lines


def normalize(line: str) -> str:
    """A line with every whitespace character removed (formatting does not hide a copy)."""
    return re.sub(r"\s+", "", line)


def _is_trivial(norm: str) -> bool:
    return len(norm) < MIN_SIGNIFICANT or norm.startswith("#") or norm in {'"""', "'''"}


def _public_lines(root: Path) -> set[str]:
    """Normalized lines students see anyway: every lab's student text, and the library.

    The library (``cnnlabs`` outside ``cnnlabs/checks``) is public by design: the labs
    re-build what ``cnnlabs.models`` and ``cnnlabs.layers`` offer, and each question's
    API rule forbids calling them. ``cnnlabs/checks`` (the code in the student's
    kernel) gets no such pass.
    """
    seen: set[str] = set()
    for name in available_labs(root):
        lab = Lab(name, root)
        text = lab.source.read_text()
        split_solution(text, lab.rel(lab.source))  # raises on bad markers
        lines = text.splitlines()  # cells tagged `solution` are not the student's
        seen.update(normalize(lines[n - 1]) for n, at in line_layout(text).items() if at.student)
    for path in (root / PACKAGE).rglob("*.py"):
        if "checks" not in path.relative_to(root / PACKAGE).parts[:1]:
            seen.update(normalize(line) for line in path.read_text().splitlines())
    return seen


def solution_lines(root: Path) -> dict[str, tuple[str, int]]:
    """Every significant line only the solution notebooks have: normalized -> (source, line).

    A line counts when it sits inside a `### BEGIN SOLUTION` block or a cell tagged
    `solution` (a markdown line, such as a model answer to a written question,
    without its comment sign), is not trivial (shorter than ``MIN_SIGNIFICANT`` characters without
    whitespace, or a comment), and students do not see it anyway (``_public_lines``).
    """
    public = _public_lines(root)
    lines: dict[str, tuple[str, int]] = {}
    for name in available_labs(root):
        lab = Lab(name, root)
        text = lab.source.read_text()
        source_lines = text.splitlines()
        markdown, in_markdown = set(), False
        for number, line in enumerate(source_lines, start=1):
            if line.startswith("# %%"):
                in_markdown = line.startswith("# %% [markdown]")
            elif in_markdown and line.startswith("#"):
                markdown.add(number)
        for number, where in line_layout(text).items():
            if where.student or where.marker:
                continue
            line = source_lines[number - 1]
            norm = normalize(line[1:] if number in markdown else line)
            if _is_trivial(norm) or norm in public or normalize(line) in public:
                continue
            lines.setdefault(norm, (lab.rel(lab.source), number))
    return lines


def _text_lines(path: Path) -> list[str]:
    """The lines a reader of ``path`` sees: a notebook's cell sources and outputs."""
    if path.suffix == ".ipynb":
        nb = nbformat.read(path, as_version=4)
        out: list[str] = []
        for cell in nb.cells:
            out += cell.source.splitlines()
            for output in cell.get("outputs", []):
                text = output.get("text") or (output.get("data") or {}).get("text/plain") or ""
                out += ("".join(text) if isinstance(text, list) else text).splitlines()
        return out
    try:
        return path.read_text().splitlines()
    except UnicodeDecodeError:  # binary data (none today): compare its bytes as text
        return path.read_bytes().decode("latin-1").splitlines()


def find_leaks(release_dir: Path, lines: dict[str, tuple[str, int]]) -> list[str]:
    """``file:line: copies SOURCE:LINE`` for each solution line found in the release."""
    leaks = []
    for path in sorted(p for p in Path(release_dir).rglob("*") if p.is_file()):
        for number, line in enumerate(_text_lines(path), start=1):
            origin = lines.get(normalize(line))
            if origin:
                rel = path.relative_to(release_dir).as_posix()
                leaks.append(f"{rel}:{number}: copies {origin[0]}:{origin[1]}: {line.strip()}")
    return leaks


# ---------------------------------------------------------------- writing the release


def _copy_package(root: Path, out: Path) -> None:
    for path in sorted((root / PACKAGE).rglob("*")):
        rel = path.relative_to(root)
        if set(rel.parts) & SKIP_DIRS or path.suffix in SKIP_SUFFIXES or not path.is_file():
            continue
        target = out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)


def _pyproject(root: Path) -> str:
    text = (root / "pyproject.toml").read_text()
    include = re.compile(r"^include = \[[^\]]*\]$", re.M)
    if not include.search(text):
        raise UserError(
            "pyproject.toml has no `include = [...]` line under [tool.setuptools.packages.find]; "
            "the release needs it to install the cnnlabs package only."
        )
    text = include.sub('include = ["cnnlabs*"]', text, count=1)
    # The grader's commands are not in the release: drop their entry points (and the
    # comment above the table), or `cnnlabs` would list commands it cannot load.
    grader = re.compile(
        r"^(#[^\n]*\n)*\[project\.entry-points\.\"cnnlabs\.commands\"\]\n([^\[\n][^\n]*\n)*\n?",
        re.M,
    )
    return grader.sub("", text, count=1)


def _title(nb: nbformat.NotebookNode, fallback: str) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return fallback


def student_readme(labs: list[tuple[str, str]]) -> str:
    """The release's README: ``labs`` is ``[(stem, title), ...]``."""
    badge = "https://colab.research.google.com/assets/colab-badge.svg"
    rows = "\n".join(
        f"| {stem[:2]} | {title} | [![Open In Colab]({badge})]"
        f"({_meta.colab_url(f'labs/{stem}.ipynb')}) |"
        for stem, title in labs
    )
    return f"""# cnnlabs: convolutional networks, lab by lab

Convolutional networks in TensorFlow/Keras, one paper per lab. Each lab is a
notebook: read the explanation, write your answer where it says
`...  # YOUR CODE HERE`, and run the check cell below it. The check cell tells you
which public tests pass and, when one fails, what differs and a hint. Your grade
also counts hidden tests (other shapes, other arguments), so make your code work
for any input, not only the public ones.

| Lab | Topic | Open |
| --- | --- | --- |
{rows}

## Working on a lab

- In Colab: click the badge. The first cell installs this package
  (`pip install "{_meta.pip_requirement()}"`).
- On your own machine: `pip install "{_meta.pip_requirement()}"`, then open
  `labs/NN_name.ipynb` in Jupyter.
- Some exercises say which tools an answer may use (for example "NumPy only").
  An answer that calls a forbidden function scores 0 for that exercise even when
  its output is right; the check cell warns you before you submit.
- Submit the `.ipynb` file itself (File > Download > Download .ipynb), with
  your answers in the cells where the notebook asks for them.

`cnnlabs doctor` prints the versions, devices and datasets the labs will use.
"""


def build_release(out_dir: str | Path, *, root: str | Path | None = None) -> list[Path]:
    """Writes the student-facing tree to ``out_dir``; returns the files written.

    Raises:
        UserError: when ``out_dir`` is not empty, the checkout is stale, or the
            release would contain a line of a solution (``out_dir`` is removed).
    """
    root = Path(root).resolve() if root is not None else find_root()
    out = Path(out_dir).resolve()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UserError(f"{out} exists and is not an empty folder; give a new folder.")
    if out == root or root in out.parents:
        raise UserError(f"{out} is inside the repository {root}; write the release elsewhere.")
    _refuse_stale(root)
    lines = solution_lines(root)
    out.mkdir(parents=True, exist_ok=True)
    try:
        _copy_package(root, out)
        labs = []
        for stem in available_labs(root):
            notebook = Lab(stem, root).notebook("student")
            target = out / "labs" / notebook.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(notebook, target)
            labs.append((stem, _title(nbformat.read(notebook, as_version=4), stem)))
        (out / "pyproject.toml").write_text(_pyproject(root))
        (out / "README.md").write_text(student_readme(labs))
        leaks = find_leaks(out, lines)
        if leaks:
            shown = "\n  ".join(leaks[:20])
            raise LeakError(
                f"the release would contain {len(leaks)} line(s) of a solution:\n  {shown}\n"
                "Move that code to autograder/references (grading side) or out of the "
                "library; nothing was written."
            )
    except BaseException:
        shutil.rmtree(out, ignore_errors=True)
        raise
    return sorted(p for p in out.rglob("*") if p.is_file())


def _refuse_stale(root: Path) -> None:
    from autograder import references
    from autograder.assign import stale
    from autograder.labfiles import resolve_labs

    problems = [
        f"{path} (run `cnnlabs assign`)" for lab in resolve_labs([], root) for path in stale(lab)
    ]
    problems += [f"{path} (run `cnnlabs expected`)" for path in references.stale()]
    if problems:
        raise UserError(
            "the checkout is stale; regenerate before releasing:\n  " + "\n  ".join(problems)
        )


def main(args: argparse.Namespace) -> int:
    files = build_release(args.out_dir, root=args.root)
    out = Path(args.out_dir).resolve()
    summary = {
        "notebooks": sum(p.suffix == ".ipynb" for p in files),
        "package files": sum(p.relative_to(out).parts[0] == PACKAGE for p in files),
    }
    print(
        f"wrote the student release to {out}: {len(files)} files "
        f"({json.dumps(summary)[1:-1]}); no solution line found in it."
    )
    print(
        f"Push it to {_meta.REPOSITORY_URL} (branch {_meta.BRANCH}): the Colab badges and "
        "install cells point there."
    )
    return 0
