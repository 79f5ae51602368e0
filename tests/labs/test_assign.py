"""`cnnlabs assign`: markers, tags, metadata, leaks, `--check`, error messages.

Fast (no notebook is executed): the default suite runs these on every lab of the
repository, so a new lab is covered as soon as its source exists.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import textwrap
from pathlib import Path

import nbformat
import pytest

from autograder import assign
from autograder.assign import (
    Lab,
    MarkerError,
    UnknownLabError,
    available_labs,
    build_notebooks,
    resolve_labs,
    split_solution,
)
from autograder.validate import leak_problems
from cnnlabs import _meta
from cnnlabs.checks.spec import case_seed, load_hidden, load_questions, make_inputs

ROOT = Path(__file__).resolve().parents[2]
LABS = available_labs(ROOT)


def _code(nb) -> str:
    return "\n".join(cell.source for cell in nb.cells if cell.cell_type == "code")


def _text(nb) -> str:
    return "\n".join(cell.source for cell in nb.cells)


def _on_disk(lab: str, version: str):
    return nbformat.read(Lab(lab, ROOT).notebook(version), as_version=4)


def _solution_only_lines(source: str) -> list[str]:
    """Lines that occur inside solution blocks and nowhere else in the source."""
    inside, outside, in_block = [], [], False
    for line in source.splitlines():
        stripped = line.strip()
        if stripped == assign.BEGIN:
            in_block = True
        elif stripped == assign.END:
            in_block = False
        elif stripped:
            (inside if in_block else outside).append(stripped)
    return [line for line in inside if line not in outside and len(line) > 3]


def test_repository_has_the_labs():
    assert {"01_lenet5", "02_alexnet", "03_vgg_receptive_fields"} <= set(LABS)


@pytest.mark.parametrize("lab", LABS)
def test_markers_are_replaced_and_removed(lab):
    student, solution = _on_disk(lab, "student"), _on_disk(lab, "solution")
    for nb in (student, solution):
        assert "BEGIN SOLUTION" not in _text(nb)
        assert "END SOLUTION" not in _text(nb)
    assert assign.STUDENT_STUB in _code(student)
    assert assign.STUDENT_STUB not in _code(solution)


@pytest.mark.parametrize("lab", LABS)
def test_no_solution_code_in_the_student_notebook(lab):
    source = Lab(lab, ROOT).source.read_text(encoding="utf-8")
    secret = _solution_only_lines(source)
    assert secret, f"{lab} has no solution blocks"
    code = {line.strip() for line in _code(_on_disk(lab, "student")).splitlines()}
    leaked = [line for line in secret if line in code]
    assert leaked == []
    solution_code = {line.strip() for line in _code(_on_disk(lab, "solution")).splitlines()}
    assert set(secret) <= solution_code


@pytest.mark.parametrize("lab", LABS)
def test_no_solution_block_can_be_read_by_students(lab):
    """Normalised code (names, layout, comments aside), fallbacks module included."""
    assert [str(problem) for problem in leak_problems(Lab(lab, ROOT))] == []


@pytest.mark.parametrize("lab", LABS)
def test_tagged_cells_go_to_one_version_only(lab):
    student, solution = _on_disk(lab, "student"), _on_disk(lab, "solution")
    assert not [c for c in student.cells if "solution" in c.metadata.get("tags", [])]
    assert not [c for c in solution.cells if "student" in c.metadata.get("tags", [])]
    assert [c for c in solution.cells if "solution" in c.metadata.get("tags", [])], (
        f"{lab} has no model answers (cells tagged solution)"
    )
    assert len([c for c in student.cells if "parameters" in c.metadata.get("tags", [])]) == 1


@pytest.mark.parametrize("lab", LABS)
def test_hidden_tests_never_reach_a_notebook(lab):
    questions = load_questions(lab)
    hidden = load_hidden(lab, ROOT / "labs" / "hidden", questions)
    assert hidden, f"{lab} has no hidden cases"
    hidden_path = ROOT / "labs" / "hidden" / f"{lab}.py"
    docstring = hidden_path.read_text(encoding="utf-8").split('"""')[1].strip().splitlines()[0]
    for version in ("student", "solution"):
        raw = Lab(lab, ROOT).notebook(version).read_text(encoding="utf-8")
        assert "labs/hidden" not in raw and "HIDDEN" not in raw
        assert docstring not in raw
        for cases in hidden.values():
            for case in cases:
                assert case.name not in raw


@pytest.mark.parametrize("lab", LABS)
def test_every_question_has_a_check_cell_and_an_answer(lab):
    questions = {q.id: q for q in load_questions(lab)}
    for version in ("student", "solution"):
        code = _code(_on_disk(lab, version))
        checked = re.findall(r'check\("(\w+)", (\w+)\)', code)
        assert sorted(qid for qid, _ in checked) == sorted(questions), version
        for qid, answer in checked:
            assert answer == questions[qid].answer
            assert re.search(rf"^(def {answer}\(|{answer} = )", code, re.M), answer


@pytest.mark.parametrize("lab", LABS)
def test_student_functions_return_none(lab):
    """A function exercise, untouched, returns None: the check says 'not attempted'."""
    questions = [q for q in load_questions(lab) if q.kind in ("function", "model")]
    code = _code(_on_disk(lab, "student"))
    namespace: dict = {}
    imports = "\n".join(re.findall(r"^(?:import|from) \S+.*$", code, re.M))
    exec(imports, namespace)  # noqa: S102 - the lab's own imports (defaults may use them)
    for definition in re.findall(r"^def \w+\(.*?(?=^\S)", code + "\nEND", re.M | re.S):
        exec(definition, namespace)  # noqa: S102 - every function the notebook defines
    for question in questions:
        function = namespace[question.answer]
        case = question.public[0]
        inputs = make_inputs(case, case_seed(lab, question.id, case.name))
        assert function(**inputs) is None, question.id


@pytest.mark.parametrize("lab", LABS)
def test_metadata_and_no_outputs(lab):
    digest = hashlib.sha256(Lab(lab, ROOT).source.read_bytes()).hexdigest()
    for version in ("student", "solution"):
        nb = _on_disk(lab, version)
        assert nb.metadata["cnnlabs"] == {"lab": lab, "version": version, "source_sha256": digest}
        assert nb.metadata["kernelspec"]["name"] == "python3"
        nbformat.validate(nb)
        code_cells = [cell for cell in nb.cells if cell.cell_type == "code"]
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            if cell.outputs:  # only stored NBVAL_CHECK_OUTPUT results, with a fixed count
                assert version == "solution" and assign.NBVAL_CHECK in cell.source
                assert cell.execution_count == code_cells.index(cell) + 1
            else:
                assert cell.execution_count is None


@pytest.mark.parametrize("lab", LABS)
def test_colab_badge_and_install_cell(lab):
    for version in ("student", "solution"):
        nb = _on_disk(lab, version)
        assert nb.cells[0].source.startswith("# ")  # the title
        url = _meta.colab_url(Lab(lab, ROOT).relative(version))
        assert url in nb.cells[1].source
        assert url.startswith("https://colab.research.google.com/github/cnnlabs/cnnlabs/blob/main/")
        install = nb.cells[2].source
        assert 'if "google.colab" in sys.modules:' in install
        assert _meta.pip_requirement() in install
        setup = nb.cells[3].source
        assert "device_report()" in setup and "seed_everything(" in setup
        assert f'check = checker("{lab}")' in setup


def test_check_is_clean_on_the_repository():
    """Structure and staleness; the solutions' answers run in test_lab_questions.py, per lab."""
    out = io.StringIO()
    assert assign.run([], root=ROOT, check=True, solutions=False, out=out) == 0, out.getvalue()
    public = sum(len(q.public) for lab in LABS for q in load_questions(lab))
    hidden = sum(
        len(cases)
        for lab in LABS
        for cases in load_hidden(lab, ROOT / "labs" / "hidden", load_questions(lab)).values()
    )
    assert out.getvalue() == (
        f"{2 * len(LABS)} generated notebooks are up to date.\n"
        f"Validated {len(LABS)} labs: questions, check cells, stubs and hidden tests agree "
        f"({public} public and {hidden} hidden cases; solutions not run).\n"
    )


def test_generation_is_deterministic():
    lab = Lab("01_lenet5", ROOT)
    first, second = assign.generate(lab), assign.generate(lab)
    assert first == second
    assert first["student"] == Lab("01_lenet5", ROOT).notebook("student").read_text("utf-8")


SOURCE = '''\
# %% [markdown]
# # Lab 9: a demo

# %%
from cnnlabs.checks import checker

check = checker("09_demo")

# %% tags=["parameters"]
EPOCHS = 1

# %%
def double(x):
    """Twice x."""
    ### BEGIN SOLUTION
    return 2 * x
    ### END SOLUTION


shape = ...  # (height, width)
### BEGIN SOLUTION
shape = (55, 55)
### END SOLUTION

# %%
check("double", double)
check("shape", shape)

# %%
### BEGIN SOLUTION
print("top-level block without a stub")
### END SOLUTION

# %% [markdown] tags=["solution"]
# The model answer.

# %% tags=["student"]
print("only for students")
'''


# The demo's questions and hidden cases: `cnnlabs assign` validates the lab as a unit.
DEMO_QUESTIONS = """\
from cnnlabs.checks import Case, Question

QUESTIONS = (
    Question(id="double", points=1, answer="double", kind="function",
             public=(Case("three", inputs=lambda rng: {"x": 3}, expected=lambda x: 2 * x),)),
    Question(id="shape", points=1, answer="shape",
             public=(Case("conv1", expected=lambda: (55, 55)),)),
)
"""
DEMO_HIDDEN = """\
from cnnlabs.checks import Case

HIDDEN = {"double": (Case("minus one", inputs=lambda rng: {"x": -1}, expected=lambda x: -2),)}
"""


@pytest.fixture()
def demo_root(tmp_path):
    for rel, text in (
        ("labs/source/09_demo.py", SOURCE),
        ("cnnlabs/checks/lab09_demo.py", DEMO_QUESTIONS),
        ("labs/hidden/09_demo.py", DEMO_HIDDEN),
    ):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    out = io.StringIO()
    assert assign.run([], root=tmp_path, out=out) == 0, out.getvalue()
    return tmp_path


def test_student_version_of_the_demo(demo_root):
    nb = nbformat.read(demo_root / "labs" / "09_demo.ipynb", as_version=4)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    assert code[3] == textwrap.dedent('''\
        def double(x):
            """Twice x."""
            ...  # YOUR CODE HERE


        shape = ...  # (height, width)''')
    assert code[4] == 'check("double", double)\ncheck("shape", shape)'
    assert code[5] == "...  # YOUR CODE HERE"
    assert code[6] == 'print("only for students")'
    assert "The model answer." not in json.dumps(nb)


def test_solution_version_of_the_demo(demo_root):
    nb = nbformat.read(demo_root / "solutions" / "09_demo.ipynb", as_version=4)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    assert code[3] == textwrap.dedent('''\
        def double(x):
            """Twice x."""
            return 2 * x


        shape = ...  # (height, width)
        shape = (55, 55)''')
    assert code[5] == 'print("top-level block without a stub")'
    assert "only for students" not in json.dumps(nb)
    assert nb.cells[-1].source == "The model answer."
    assert nb.metadata["cnnlabs"]["version"] == "solution"


def test_check_fails_on_a_stale_notebook(demo_root):
    source = demo_root / "labs" / "source" / "09_demo.py"
    source.write_text(SOURCE.replace("EPOCHS = 1", "EPOCHS = 2"))
    out = io.StringIO()
    assert assign.run([], root=demo_root, check=True, out=out) == 1
    assert out.getvalue() == (
        "2 generated notebook(s) are stale:\n"
        "  - labs/09_demo.ipynb does not match labs/source/09_demo.py\n"
        "  - solutions/09_demo.ipynb does not match labs/source/09_demo.py\n"
        "Regenerate them with: cnnlabs assign 09_demo\n"
    )
    assert assign.run(["9"], root=demo_root, out=io.StringIO()) == 0
    assert assign.run([], root=demo_root, check=True, out=io.StringIO()) == 0


def test_check_fails_on_a_missing_or_hand_edited_notebook(demo_root):
    (demo_root / "labs" / "09_demo.ipynb").unlink()
    path = demo_root / "solutions" / "09_demo.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[3].source += "\n# edited by hand"
    nbformat.write(nb, path)
    out = io.StringIO()
    assert assign.run(["09_demo"], root=demo_root, check=True, out=out) == 1
    assert "  - labs/09_demo.ipynb is missing\n" in out.getvalue()
    assert "  - solutions/09_demo.ipynb does not match labs/source/09_demo.py\n" in out.getvalue()


def test_stored_check_outputs_survive_regeneration_and_are_reported_when_missing(demo_root):
    source = demo_root / "labs" / "source" / "09_demo.py"
    source.write_text(SOURCE + "\n# %%\n# NBVAL_CHECK_OUTPUT\nprint(double(3))\n")
    assert assign.run([], root=demo_root, out=io.StringIO()) == 0
    out = io.StringIO()
    assert assign.run([], root=demo_root, check=True, out=out) == 1
    assert "NBVAL_CHECK_OUTPUT cells without stored outputs (09-009)" in out.getvalue()
    assert "cnnlabs assign 09_demo --execute" in out.getvalue()
    path = demo_root / "solutions" / "09_demo.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[-1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="6\n")]
    nbformat.write(nb, path)
    assert assign.run([], root=demo_root, out=io.StringIO()) == 0  # regenerate: kept
    assert nbformat.read(path, as_version=4).cells[-1].outputs[0]["text"] == "6\n"
    assert assign.run([], root=demo_root, check=True, out=io.StringIO()) == 0


def test_unknown_lab_names_the_available_ones(demo_root):
    with pytest.raises(UnknownLabError) as info:
        resolve_labs(["demo9"], demo_root)
    assert str(info.value) == (
        "Unknown lab 'demo9'. Did you mean 09_demo? Available labs: 09_demo "
        "(a number such as 1 or 01 works too)."
    )
    assert [lab.name for lab in resolve_labs(["9", "09", "demo", "09_demo.ipynb"], demo_root)] == [
        "09_demo"
    ]


def test_cli_reports_user_errors_without_traceback(demo_root, capsys):
    from cnnlabs.cli import main

    assert main(["assign", "nope", "--root", str(demo_root)]) == 2
    assert capsys.readouterr().err == (
        "cnnlabs assign: error: Unknown lab 'nope'. Available labs: 09_demo "
        "(a number such as 1 or 01 works too).\n"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "# %%\nx = 1\n### END SOLUTION\n",
            "lab.py:3: found '### END SOLUTION' without a '### BEGIN SOLUTION' before it. "
            "Add the missing '### BEGIN SOLUTION' or delete this line.",
        ),
        (
            "# %%\ndef f():\n    ### BEGIN SOLUTION\n    return 1\n",
            "lab.py:3: '### BEGIN SOLUTION' is never closed. Add '### END SOLUTION' at the end "
            "of the solution, in the same cell.",
        ),
        (
            "# %%\n### BEGIN SOLUTION\nx = 1\n    ### BEGIN SOLUTION\n",
            "lab.py:4: found '### BEGIN SOLUTION' inside the block opened at line 2. Blocks "
            "cannot be nested: close the first one with '### END SOLUTION' before line 4.",
        ),
        (
            "# %%\n### BEGIN SOLUTION\nx = 1\n\n# %%\ny = 2\n### END SOLUTION\n",
            "lab.py:5: a new cell ('# %%') starts inside the solution block opened at line 2. "
            "Close the block with '### END SOLUTION' in the same cell.",
        ),
        (
            "# %%\n## BEGIN SOLUTION\nx = 1\n",
            "lab.py:2: '## BEGIN SOLUTION' looks like a solution marker but is not one. Write "
            "exactly '### BEGIN SOLUTION' or '### END SOLUTION' alone on its line.",
        ),
    ],
)
def test_marker_errors_name_file_and_line(text, message):
    with pytest.raises(MarkerError) as info:
        split_solution(text, "lab.py")
    assert str(info.value) == message


def test_marker_error_in_a_lab_file_names_its_path(tmp_path):
    (tmp_path / "labs" / "source").mkdir(parents=True)
    shutil.copy(ROOT / "labs" / "source" / "01_lenet5.py", tmp_path / "labs" / "source")
    path = tmp_path / "labs" / "source" / "01_lenet5.py"
    lines = path.read_text().splitlines()
    first_end = lines.index("    ### END SOLUTION")
    del lines[first_end]
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(MarkerError, match=r"^labs/source/01_lenet5\.py:\d+: "):
        build_notebooks(Lab("01_lenet5", tmp_path))
