"""`cnnlabs release`: the student-facing tree holds no solution and its notebooks work.

One release is built from this checkout per module (about 10 s). Part of lab 06's
student notebook then runs in a kernel that imports the released package (about
10 s); the solutions' answers of labs 01 and 06 through the released check cells
start TensorFlow once more and are marked slow.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder.release import (
    LeakError,
    build_release,
    find_leaks,
    normalize,
    solution_lines,
    student_readme,
)
from cnnlabs import _meta
from cnnlabs.checks.spec import load_questions
from cnnlabs.cli import UserError

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    out = tmp_path_factory.mktemp("release") / "cnnlabs-student"
    build_release(out, root=ROOT)
    return out


def test_release_has_the_student_tree_only(release):
    top = sorted(p.name for p in release.iterdir())
    assert top == ["README.md", "cnnlabs", "labs", "pyproject.toml"]
    assert sorted(p.name for p in (release / "labs").iterdir()) == sorted(
        p.name for p in (ROOT / "labs").glob("*.ipynb")
    )
    files = [p.relative_to(release).as_posix() for p in release.rglob("*") if p.is_file()]
    assert not [f for f in files if f.startswith(("solutions/", "labs/source/", "labs/hidden/"))]
    assert not [f for f in files if "autograder" in f or "__pycache__" in f]
    # The check cells' expected outputs travel as data.
    assert sorted(p.name for p in (release / "cnnlabs/checks/expected").iterdir()) == sorted(
        p.name for p in (ROOT / "cnnlabs/checks/expected").iterdir()
    )
    pyproject = (release / "pyproject.toml").read_text()
    assert 'include = ["cnnlabs*"]' in pyproject
    assert "cnnlabs.commands" not in pyproject and "autograder.cli" not in pyproject


def test_no_solution_line_anywhere_in_the_release(release):
    lines = solution_lines(ROOT)
    assert len(lines) > 50  # the labs' solutions are really there to look for
    assert find_leaks(release, lines) == []


def test_no_reference_or_grader_import_in_the_released_code(release):
    """No released module names the grader (its commands register by entry point)."""
    import ast

    for path in release.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            assert not [n for n in names if n.split(".")[0] == "autograder"], (path, node.lineno)
    for path in (release / "labs").glob("*.ipynb"):
        code = "\n".join(
            c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"
        )
        assert "as reference" not in code and "autograder" not in code, path


def test_grader_commands_of_the_release_say_they_are_not_there(release, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(release)}
    code = (
        "import sys, importlib.abc\n"
        "class NoGrader(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path, target=None):\n"
        "        if name.split('.')[0] == 'autograder':\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
        "sys.meta_path.insert(0, NoGrader())\n"
        "from cnnlabs.cli import main\n"
        "sys.exit(main(['expected', '--check']))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=tmp_path
    )
    assert result.returncode == 2
    assert result.stderr == (
        "cnnlabs expected: error: this copy of cnnlabs is the student release, without the "
        "grader; run `cnnlabs expected` in the instructor's repository.\n"
    )


def test_a_copied_solution_line_is_found_whatever_its_indentation(release, tmp_path):
    lines = solution_lines(ROOT)
    norm, (source, number) = next(iter(lines.items()))
    original = (ROOT / source).read_text().splitlines()[number - 1]
    copy = tmp_path / "copy"
    shutil.copytree(release / "cnnlabs" / "checks", copy / "cnnlabs" / "checks")
    target = copy / "cnnlabs" / "checks" / "fallbacks.py"
    target.write_text(
        target.read_text() + "\n\n" + "    " + original.strip().replace(" ", "  ") + "\n"
    )
    leaks = find_leaks(copy, lines)
    assert len(leaks) == 1
    assert leaks[0].startswith("cnnlabs/checks/fallbacks.py:")
    assert f"copies {source}:{number}: " in leaks[0]
    assert normalize(original) == norm


def test_release_refuses_a_folder_that_is_not_empty(tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(UserError) as info:
        build_release(tmp_path, root=ROOT)
    assert str(info.value) == (
        f"{tmp_path.resolve()} exists and is not an empty folder; give a new folder."
    )
    assert (tmp_path / "keep.txt").read_text() == "mine"


def test_release_refuses_to_write_inside_the_repository():
    with pytest.raises(UserError) as info:
        build_release(ROOT / "build" / "student-release", root=ROOT)
    assert str(info.value) == (
        f"{(ROOT / 'build' / 'student-release').resolve()} is inside the repository {ROOT}; "
        "write the release elsewhere."
    )


def test_leak_error_is_a_user_error():
    assert issubclass(LeakError, UserError)


def test_readme_points_at_the_public_repository():
    text = student_readme([("01_lenet5", "Lab 1: LeNet-5")])
    assert f"({_meta.colab_url('labs/01_lenet5.ipynb')})" in text
    assert f'pip install "{_meta.pip_requirement()}"' in text
    assert "| 01 | Lab 1: LeNet-5 |" in text


def _cells_until(nb, text: str):
    """The notebook's cells from the first to the first code cell containing ``text``."""
    out = []
    for cell in nb.cells:
        out.append(cell)
        if cell.cell_type == "code" and text in cell.source:
            return out
    raise AssertionError(f"no code cell contains {text!r}")


def _solution_cell(name: str) -> str:
    nb = nbformat.read(ROOT / "solutions" / "06_batchnorm.ipynb", as_version=4)
    return next(c.source for c in nb.cells if c.source.startswith(f"def {name}("))


def test_student_notebook_runs_against_the_released_package(release, tmp_path):
    """Lab 06's notebook up to the comparison with Keras, in a kernel that imports the release.

    The exercises are untouched, so their check cells say so and the comparison runs on
    the Keras stand-ins (``or_reference``); then the solution's ``batchnorm_train`` passes
    the public cases, judged against the stored expected outputs of the release.
    """
    from nbclient import NotebookClient

    nb = nbformat.read(release / "labs" / "06_batchnorm.ipynb", as_version=4)
    nb.cells = _cells_until(nb, "max |yours - Keras|")
    nb.cells += [
        nbformat.v4.new_code_cell("import cnnlabs\nprint('package:', cnnlabs.__file__)"),
        nbformat.v4.new_code_cell(_solution_cell("batchnorm_train")),
        nbformat.v4.new_code_cell('check("batchnorm_train", batchnorm_train)'),
    ]
    env = {"PYTHONPATH": str(release), "CNNLABS_PROFILE": "smoke"}
    old = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    try:
        NotebookClient(nb, timeout=300, resources={"metadata": {"path": str(tmp_path)}}).execute()
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    outputs = [
        "".join(o.get("text", "") for o in c.get("outputs", []) if o.get("output_type") == "stream")
        for c in nb.cells
    ]
    checks = [text for cell, text in zip(nb.cells, outputs) if cell.source.startswith("check(")]
    assert checks[0] == (
        "[batchnorm_train] Batch normalization in training mode (Algorithm 1): not attempted "
        "yet. Replace the `...` with your answer, then re-run.\n"
    )
    public = len(
        next(q for q in load_questions("06_batchnorm") if q.id == "batchnorm_train").public
    )
    assert checks[-1].startswith(
        "[batchnorm_train] Batch normalization in training mode (Algorithm 1): "
        f"{public}/{public} public tests passed\n"
    )
    assert f"package: {release / 'cnnlabs' / '__init__.py'}" in outputs[-3]
    assert outputs[-5].startswith(
        "Exercise 'batchnorm_train' is not done yet: using the reference implementation"
    )
    assert outputs[-4].count(": True") == 4, outputs[-4]


@pytest.mark.slow
def test_released_package_judges_every_public_case_of_the_solutions(release):
    """The stored expected outputs in the release judge the solutions' answers right."""
    script = r"""
import json, re, sys
import nbformat
import cnnlabs
from cnnlabs.checks import checker, load_questions
assert cnnlabs.__file__.startswith(sys.argv[1]), cnnlabs.__file__
labs = json.loads(sys.argv[2])
failed = []
for lab, path in labs.items():
    nb = nbformat.read(path, as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    ns = {}
    exec("import numpy as np\nimport keras\nfrom keras import layers", ns)
    for match in re.finditer(r"^def \w+\(.*?(?=^\S)", code + "\nEND", re.M | re.S):
        exec(match.group(0), ns)
    check = checker(lab)
    for q in load_questions(lab):
        if q.kind == "function" and q.answer in ns:
            for o in check.results(q.id, ns[q.answer]):
                if not o.passed:
                    failed.append((lab, q.id, o.name, o.message))
print(json.dumps(failed))
"""
    labs = {lab: str(ROOT / "solutions" / f"{lab}.ipynb") for lab in ("01_lenet5", "06_batchnorm")}
    result = subprocess.run(
        [sys.executable, "-c", script, str(release), json.dumps(labs)],
        env={**os.environ, "PYTHONPATH": str(release)},
        capture_output=True,
        text=True,
        timeout=300,
        cwd=release,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
