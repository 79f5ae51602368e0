"""Authoring mistakes that `cnnlabs assign --check` must catch, each with file:line and a fix.

A small pooling lab (three questions, TF-free) is written into tmp_path the way an
instructor writes one (source, questions, hidden cases), as in docs/authoring.md;
each test makes one mistake and reads the whole message. The real labs are never
edited.
"""

from __future__ import annotations

import io
import os
import re
import shlex
from pathlib import Path

import pytest

from autograder import assign

SOURCE = '''\
# %% [markdown]
# # Lab 9: pooling
#
# Learning objectives: the output size of a pooling layer; max pooling by hand.

# %%
import numpy as np

from cnnlabs.checks import checker

check = checker("09_pool", questions_path="../cnnlabs/checks/lab09_pool.py")

# %% tags=["parameters"]
EPOCHS = 1

# %%
def pool_output_size(n, window, stride):
    """The output size of pooling n pixels with a window and a stride (no padding)."""
    ### BEGIN SOLUTION
    return (n - window) // stride + 1
    ### END SOLUTION


# %%
check("pool_size", pool_output_size)

# %%
def max_pool(x, window=2, stride=2):
    """Max pooling of x, shape (batch, height, width, channels)."""
    ### BEGIN SOLUTION
    size = (x.shape[1] - window) // stride + 1
    out = np.empty((x.shape[0], size, size, x.shape[3]))
    for i in range(size):
        for j in range(size):
            patch = x[:, i * stride : i * stride + window, j * stride : j * stride + window]
            out[:, i, j, :] = patch.max(axis=(1, 2))
    return out
    ### END SOLUTION


# %%
check("max_pool", max_pool)

# %%
pooled_shape = ...  # max_pool's output shape on a (1, 28, 28, 6) input
### BEGIN SOLUTION
pooled_shape = (1, 14, 14, 6)
### END SOLUTION

# %%
check("pooled_shape", pooled_shape)

# %% [markdown] tags=["solution"]
# Max pooling keeps the strongest response of each window.
'''

QUESTIONS = '''\
"""Questions of the pooling lab."""

import numpy as np

from cnnlabs.checks import Case, Question


def _size(n, window, stride):
    return (n - window) // stride + 1


def _max_pool(x, window=2, stride=2):
    size = _size(x.shape[1], window, stride)
    return np.array(
        [
            [x[:, i * stride : i * stride + window, j * stride : j * stride + window].max((1, 2))
             for j in range(size)]
            for i in range(size)
        ]
    ).transpose(2, 0, 1, 3)


QUESTIONS = (
    Question(
        id="pool_size",
        points=1,
        answer="pool_output_size",
        kind="function",
        public=(
            Case(
                "28 pixels, 2x2 windows",
                inputs=lambda rng: {"n": 28, "window": 2, "stride": 2},
                expected=_size,
            ),
        ),
    ),
    Question(
        id="max_pool",
        points=2,
        answer="max_pool",
        kind="function",
        public=(
            Case(
                "random 4x4 maps",
                inputs=lambda rng: {"x": rng.normal(size=(1, 4, 4, 2))},
                expected=_max_pool,
            ),
        ),
    ),
    Question(
        id="pooled_shape",
        points=1,
        answer="pooled_shape",
        kind="value",
        public=(Case("LeNet's S2", expected=lambda: (1, 14, 14, 6)),),
    ),
)
'''

HIDDEN = '''\
"""Hidden cases of the pooling lab."""

import numpy as np

from cnnlabs.checks import Case


def _size(n, window, stride):
    return (n - window) // stride + 1


HIDDEN = {
    "pool_size": (
        Case(
            "random sizes and strides",
            inputs=lambda rng: {"n": int(rng.integers(10, 40)), "window": 3, "stride": 2},
            expected=_size,
        ),
    ),
    "max_pool": (
        Case(
            "constant maps",
            inputs=lambda rng: {"x": np.ones((2, 6, 6, 3))},
            expected=lambda x: np.ones((2, 3, 3, 3)),
        ),
    ),
}
'''

SRC = "labs/source/09_pool.py"
CHECKS = "cnnlabs/checks/lab09_pool.py"
HIDDEN_PATH = "labs/hidden/09_pool.py"


def _line(root: Path, rel: str, text: str) -> int:
    """The number of the first line of `rel` that contains `text`."""
    lines = (root / rel).read_text().splitlines()
    return next(n for n, line in enumerate(lines, start=1) if text in line)


def _edit(root: Path, rel: str, old: str, new: str) -> None:
    path = root / rel
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


@pytest.fixture()
def lab_root(tmp_path):
    """A checkout with one correct lab, its notebooks generated."""
    for rel, text in ((SRC, SOURCE), (CHECKS, QUESTIONS), (HIDDEN_PATH, HIDDEN)):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    out = io.StringIO()
    assert assign.run([], root=tmp_path, out=out) == 0, out.getvalue()
    return tmp_path


def _check(root: Path) -> tuple[int, str]:
    out = io.StringIO()
    code = assign.run([], root=root, check=True, out=out)
    return code, out.getvalue()


def _problems(root: Path, *problems: str) -> str:
    """The output of `assign --check` on a lab whose notebooks are up to date."""
    assign.run([], root=root, out=io.StringIO())  # regenerate, as the author would
    code, out = _check(root)
    assert code == 1, out
    lines = "".join(f"  - {p}\n" for p in problems)
    assert out == f"lab 09_pool: {len(problems)} problem(s):\n{lines}"
    return out


def test_a_correct_lab_passes(lab_root):
    code, out = _check(lab_root)
    assert code == 0, out
    assert out == (
        "2 generated notebooks are up to date.\n"
        "Validated 09_pool: questions, check cells, stubs and hidden tests agree; the "
        "solutions pass their 3 public and 2 hidden cases.\n"
    )


def test_assign_itself_reports_the_problems_and_exits_1(lab_root):
    _edit(lab_root, SRC, 'check("max_pool", max_pool)', 'check("max_pool", pool_output_size)')
    out = io.StringIO()
    assert assign.run(["09"], root=lab_root, out=out) == 1
    line = _line(lab_root, SRC, 'check("max_pool"')
    question = _line(lab_root, CHECKS, 'id="max_pool"')
    assert out.getvalue() == (
        "wrote labs/09_pool.ipynb\n"
        "wrote solutions/09_pool.ipynb\n"
        "lab 09_pool: 1 problem(s):\n"
        f"  - {SRC}:{line}: check cell passes `pool_output_size` to question 'max_pool', "
        f"whose answer is `max_pool` ({CHECKS}:{question}). Pass `max_pool`.\n"
    )


def test_question_without_a_check_cell(lab_root):
    _edit(lab_root, SRC, 'check("max_pool", max_pool)\n', "")
    line = _line(lab_root, CHECKS, 'id="max_pool"')
    _problems(
        lab_root,
        f"{CHECKS}:{line}: question 'max_pool' has no check cell in {SRC}: add a cell "
        "`check('max_pool', max_pool)` after the cell that defines `max_pool`.",
    )


def test_check_cell_with_a_typo_in_the_question_id(lab_root):
    _edit(lab_root, SRC, 'check("pool_size"', 'check("pool_sise"')
    line = _line(lab_root, SRC, 'check("pool_sise"')
    question = _line(lab_root, CHECKS, 'id="pool_size"')
    _problems(
        lab_root,
        f"{SRC}:{line}: check cell names question 'pool_sise'; the lab's questions are "
        "pool_size, max_pool, pooled_shape. Did you mean 'pool_size'?",
        f"{CHECKS}:{question}: question 'pool_size' has no check cell in {SRC}: add a cell "
        "`check('pool_size', pool_output_size)` after the cell that defines "
        "`pool_output_size`.",
    )


def test_public_case_with_a_wrong_expected_value(lab_root):
    _edit(lab_root, CHECKS, "expected=lambda: (1, 14, 14, 6)", "expected=lambda: (1, 14, 14, 3)")
    case = _line(lab_root, CHECKS, "LeNet's S2")
    cell = _line(lab_root, SRC, 'check("pooled_shape"')
    _problems(
        lab_root,
        f'{CHECKS}:{case}: the solution does not pass public case "LeNet\'s S2" of question '
        f"'pooled_shape' (check cell {SRC}:{cell}): answer: 1 of 4 values differ (integers, "
        "compared exactly); first at index (3,): expected 3, received 6.\n"
        "      expected: (1, 14, 14, 3)\n"
        "      received: (1, 14, 14, 6)\n"
        f"    Fix the case (its expected value or inputs) here, or the solution in {SRC}.",
    )


def test_hidden_case_with_a_wrong_expected_value(lab_root):
    _edit(lab_root, HIDDEN_PATH, "np.ones((2, 3, 3, 3))", "np.zeros((2, 3, 3, 3))")
    case = _line(lab_root, HIDDEN_PATH, "constant maps")
    cell = _line(lab_root, SRC, 'check("max_pool"')
    _problems(
        lab_root,
        f"{HIDDEN_PATH}:{case}: the solution does not pass hidden case 'constant maps' of "
        f"question 'max_pool' (check cell {SRC}:{cell}): answer: 54 of 54 values differ "
        "(rtol=1e-05, atol=1e-08); first at index (0, 0, 0, 0): expected 0.0, "
        "received 1.0.\n"
        f"    Fix the case (its expected value or inputs) here, or the solution in {SRC}.",
    )


def test_value_answer_without_a_stub_line(lab_root):
    _edit(
        lab_root,
        SRC,
        "pooled_shape = ...  # max_pool's output shape on a (1, 28, 28, 6) input\n",
        "",
    )
    line = _line(lab_root, SRC, "pooled_shape = (1, 14, 14, 6)")
    _problems(
        lab_root,
        f"{SRC}:{line}: question 'pooled_shape': the student notebook has no stub line for "
        "the value answer `pooled_shape`, so its check cell raises NameError there. Add "
        "`pooled_shape = ...` on the line before the solution block.",
    )


def test_value_answer_the_solution_never_sets(lab_root):
    _edit(
        lab_root, SRC, "### BEGIN SOLUTION\npooled_shape = (1, 14, 14, 6)\n### END SOLUTION\n", ""
    )
    line = _line(lab_root, SRC, "pooled_shape = ...")
    _problems(
        lab_root,
        f"{SRC}:{line}: question 'pooled_shape': the solution never assigns `pooled_shape` "
        "(only the stub). Add a solution block after it: `pooled_shape = <the answer>` "
        "between the markers.",
    )


def test_function_defined_inside_the_solution_block(lab_root):
    _edit(
        lab_root,
        SRC,
        'def pool_output_size(n, window, stride):\n    """The output size of pooling n pixels with '
        'a window and a stride (no padding)."""\n    ### BEGIN SOLUTION\n',
        "### BEGIN SOLUTION\ndef pool_output_size(n, window, stride):\n",
    )
    _edit(
        lab_root,
        SRC,
        "    return (n - window) // stride + 1\n    ### END SOLUTION",
        "    return (n - window) // stride + 1\n### END SOLUTION",
    )
    line = _line(lab_root, SRC, "def pool_output_size")
    _problems(
        lab_root,
        f"{SRC}:{line}: question 'pool_size': `def pool_output_size` is inside a solution "
        "block or a cell tagged solution, so the student notebook has no such function. Put "
        "the `def` line and its docstring outside the block, only the body inside.",
    )


def test_misnamed_hidden_file(lab_root):
    (lab_root / HIDDEN_PATH).rename(lab_root / "labs" / "hidden" / "09_pooling.py")
    _problems(
        lab_root,
        f"{HIDDEN_PATH}: is missing: the grader would run no hidden cases for lab 09_pool. "
        "Write HIDDEN = {question_id: (Case(...), ...)} there, named after the lab's source. "
        f"Found labs/hidden/09_pooling.py, which names no lab: rename it to {HIDDEN_PATH}.",
    )


def test_hidden_cases_for_a_question_the_lab_does_not_ask(lab_root):
    _edit(lab_root, HIDDEN_PATH, '"max_pool": (', '"maxpool": (')
    line = _line(lab_root, HIDDEN_PATH, '"maxpool"')
    _problems(
        lab_root,
        f"{HIDDEN_PATH}:{line}: HIDDEN has cases for 'maxpool', which is not a question of "
        "lab 09_pool; its questions are pool_size, max_pool, pooled_shape. Did you mean "
        "'max_pool'?",
    )


def test_misnamed_questions_file(lab_root):
    (lab_root / CHECKS).rename(lab_root / "cnnlabs" / "checks" / "lab09_pooling.py")
    _problems(
        lab_root,
        f"{CHECKS}: is missing: lab 09_pool declares its questions there "
        "(QUESTIONS = (Question(...), ...)), named after labs/source/09_pool.py. Found "
        "lab09_pooling.py, which names no lab: rename it to lab09_pool.py.",
    )


def test_checker_naming_another_lab(lab_root):
    _edit(lab_root, SRC, 'checker("09_pool"', 'checker("09_pooling"')
    line = _line(lab_root, SRC, "check = checker(")
    _problems(
        lab_root,
        f"{SRC}:{line}: `checker('09_pooling')` does not name this lab: write "
        f'`checker("09_pool")` (the stem of {SRC}).',
    )


def test_check_cell_only_in_the_solution(lab_root):
    _edit(
        lab_root,
        SRC,
        '# %%\ncheck("max_pool", max_pool)',
        '# %% tags=["solution"]\ncheck("max_pool", max_pool)',
    )
    line = _line(lab_root, SRC, 'check("max_pool"')
    _problems(
        lab_root,
        f"{SRC}:{line}: the check cell of question 'max_pool' is inside a solution block or a "
        "cell tagged solution, so the student notebook does not get it. Put it in its own "
        "untagged cell after the answer.",
    )


def test_solution_that_fails_its_case_is_reported(lab_root):
    _edit(
        lab_root,
        SRC,
        "    return (n - window) // stride + 1",
        "    return (n - window) / stride + 1",
    )
    code, out = _check(lab_root)
    assert code == 1
    assert (
        "the solution does not pass public case '28 pixels, 2x2 windows'" not in out
    )  # 14.0 == 14
    assert (
        f"  - {HIDDEN_PATH}:{_line(lab_root, HIDDEN_PATH, 'random sizes and strides')}: the "
        "solution does not pass hidden case 'random sizes and strides' of question 'pool_size'"
    ) in out


def test_execute_fails_when_a_solution_check_cell_does_not_pass(lab_root, monkeypatch):
    """An answer computed from the notebook's state: `--check` cannot judge it, `--execute` does."""
    monkeypatch.setenv("CNNLABS_PROFILE", "smoke")
    _edit(
        lab_root,
        SRC,
        "# %%\npooled_shape = ...",
        "# %%\nfeatures = max_pool(np.ones((1, 28, 28, 6)), 3)\n\n# %%\npooled_shape = ...",
    )
    _edit(lab_root, SRC, "pooled_shape = (1, 14, 14, 6)", "pooled_shape = features.shape")
    assign.run([], root=lab_root, out=io.StringIO())
    code, out = _check(lab_root)
    assert code == 0, out
    assert out.endswith(
        "note: 09_pool: pooled_shape need the notebook's state; "
        "`cnnlabs assign 09_pool --execute` checks them.\n"
    )
    solution = lab_root / "solutions" / "09_pool.ipynb"
    before = solution.read_text()
    out = io.StringIO()
    assert assign.run(["09"], root=lab_root, execute_notebooks=True, out=out) == 1
    case = _line(lab_root, CHECKS, "LeNet's S2")
    cell = _line(lab_root, SRC, 'check("pooled_shape"')
    text = out.getvalue()
    assert text.startswith(
        "lab 09_pool: 1 problem(s):\n"
        f'  - {CHECKS}:{case}: the solution does not pass public case "LeNet\'s S2" of '
        f"question 'pooled_shape' (check cell {SRC}:{cell}): answer: 2 of 4 values differ "
        "(integers, compared exactly); first at index (1,): expected 14, received 13.\n"
        "      expected: (1, 14, 14, 6)\n"
        "      received: (1, 13, 13, 6)\n"
        f"    Fix the case (its expected value or inputs) here, or the solution in {SRC}.\n"
        "ran solutions/09_pool.ipynb (smoke profile) in "
    ), text
    assert text.endswith(" s; its stored outputs were left unchanged.\n")
    assert solution.read_text() == before


def test_execute_names_the_source_line_of_a_cell_that_raises(lab_root, monkeypatch):
    monkeypatch.setenv("CNNLABS_PROFILE", "smoke")
    _edit(lab_root, SRC, "EPOCHS = 1", "EPOCHS = 1 / 0")
    assign.run([], root=lab_root, out=io.StringIO())
    out = io.StringIO()
    assert assign.run(["09"], root=lab_root, execute_notebooks=True, out=out) == 1
    line = _line(lab_root, SRC, "EPOCHS = 1 / 0")
    assert out.getvalue().startswith(
        "lab 09_pool: 1 problem(s):\n"
        f"  - {SRC}:{line}: this cell of the solution notebook raised ZeroDivisionError: "
        "division by zero. The solution must run top to bottom in the smoke profile; fix the "
        "cell.\n"
    ), out.getvalue()


def test_execute_sets_the_smoke_profile_in_the_kernel_only(lab_root, monkeypatch):
    monkeypatch.delenv("CNNLABS_PROFILE", raising=False)
    out = io.StringIO()
    assert assign.run(["09"], root=lab_root, execute_notebooks=True, out=out) == 0, out.getvalue()
    assert "CNNLABS_PROFILE" not in os.environ  # the grader's own environment is untouched


def test_execute_refuses_another_profile(lab_root, monkeypatch):
    from autograder.solutionrun import execute
    from cnnlabs.errors import UserError

    monkeypatch.setenv("CNNLABS_PROFILE", "full")
    with pytest.raises(UserError) as info:
        execute(assign.resolve_labs(["09"], lab_root)[0])
    assert str(info.value) == (
        "--execute stores outputs from the smoke profile, but CNNLABS_PROFILE='full'. "
        "Unset it or set CNNLABS_PROFILE=smoke."
    )


def test_execute_passes_on_a_correct_lab(lab_root, monkeypatch):
    monkeypatch.setenv("CNNLABS_PROFILE", "smoke")
    out = io.StringIO()
    assert assign.run(["09"], root=lab_root, execute_notebooks=True, out=out) == 0, out.getvalue()
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("executed solutions/09_pool.ipynb (smoke profile) in ")
    assert lines[0].endswith(
        " s; every public and hidden case passes; stored the outputs of its "
        "# NBVAL_CHECK_OUTPUT cells"
    )


# ---------------------------------------------------------------- leaks

COPIED_POOL = '''\
def pool_by_hand(inputs, w=2, s=2):
    """Reference max pooling (a fallback)."""
    n = (inputs.shape[1] - w) // s + 1
    result = np.empty((inputs.shape[0], n, n, inputs.shape[3]))
    for a in range(n):
        for b in range(n):
            window = inputs[:, a * s : a * s + w,
                            b * s : b * s + w]
            result[:, a, b, :] = window.max(axis=(1, 2))  # the strongest response
    return result
'''


def test_fallback_in_the_student_notebook_that_copies_the_answer(lab_root):
    """Locals renamed, lines re-wrapped, a comment added: still the answer."""
    cell = (
        "# %%\n"
        + COPIED_POOL
        + "\n\npool_fn = or_reference(max_pool, lambda: pool_by_hand, 'max_pool')\n\n"
    )
    _edit(lab_root, SRC, "# %%\npooled_shape = ...", cell + "# %%\npooled_shape = ...")
    _edit(
        lab_root,
        SRC,
        "from cnnlabs.checks import checker",
        "from cnnlabs.checks import checker, or_reference",
    )
    block = _line(lab_root, SRC, "size = (x.shape[1] - window) // stride + 1")
    found = _line(lab_root, SRC, "n = (inputs.shape[1] - w) // s + 1")
    _problems(
        lab_root,
        f"{SRC}:{block}: 100% of this solution block's code (names, layout and comments aside) "
        f"can be read in the student notebook ({SRC}:{found}). A fallback must not be the "
        "answer: call a stand-in that computes it another way (cnnlabs/checks/fallbacks.py, "
        "with Keras layers or library functions) and keep reference implementations on the "
        "grading side (autograder/references/).",
    )


def test_fallback_module_that_copies_the_answer(lab_root):
    (lab_root / "cnnlabs" / "checks" / "fallbacks.py").write_text(
        "import numpy as np\n\n\n" + COPIED_POOL
    )
    block = _line(lab_root, SRC, "size = (x.shape[1] - window) // stride + 1")
    found = _line(lab_root, "cnnlabs/checks/fallbacks.py", "n = (inputs.shape[1] - w) // s + 1")
    _problems(
        lab_root,
        f"{SRC}:{block}: 100% of this solution block's code (names, layout and comments aside) "
        f"can be read in cnnlabs/checks/fallbacks.py:{found}, which students get. A fallback must "
        "not be the answer: call a stand-in that computes it another way "
        "(cnnlabs/checks/fallbacks.py, with Keras layers or library functions) and keep "
        "reference implementations on the grading side (autograder/references/).",
    )


def test_one_shared_line_is_not_a_leak(lab_root):
    """Student code may share a phrase with the answer; only (nearly) the whole block leaks."""
    (lab_root / "cnnlabs" / "checks" / "fallbacks.py").write_text(
        "import numpy as np\n\n\ndef empty_maps(x, size):\n"
        "    out = np.empty((x.shape[0], size, size, x.shape[3]))\n    return out\n"
    )
    code, out = _check(lab_root)
    assert code == 0, out


# ---------------------------------------------------------------- the guide's commands

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "authoring.md"


def _guide_commands(program: str) -> list[str]:
    """Command lines of docs/authoring.md that run `program`, env vars and comments dropped."""
    commands = []
    for line in GUIDE.read_text(encoding="utf-8").splitlines():
        line = re.split(r"\s#", line, maxsplit=1)[0].strip()
        words = [w for w in line.split() if not re.match(r"^[A-Z_]+=\S*$", w)]
        if words and words[0] == program:
            commands.append(" ".join(words).replace("NN_name", "01_lenet5"))
    return commands


def test_every_cnnlabs_command_of_the_guide_parses():
    from cnnlabs.cli import build_parser

    commands = _guide_commands("cnnlabs")
    assert {c.split()[1] for c in commands} >= {"assign", "expected"}
    for command in commands:
        build_parser().parse_args(shlex.split(command)[1:])  # SystemExit on a wrong flag


def test_every_notebook_pytest_command_of_the_guide_selects_the_notebooks():
    """`addopts` deselects notebook cells: without `-m notebooks` pytest runs nothing (exit 5)."""
    commands = [c for c in _guide_commands("pytest") if ".ipynb" in c or "nbval" in c or "-k" in c]
    assert len(commands) >= 3
    for command in commands:
        assert "-m notebooks" in command, command


# ---------------------------------------------------------------- the other error paths


def test_hidden_file_that_cannot_be_loaded(lab_root):
    _edit(lab_root, HIDDEN_PATH, "import numpy as np", "import numpy as np\nfrom nowhere import x")
    _problems(
        lab_root,
        f"{HIDDEN_PATH}: cannot be loaded: ModuleNotFoundError: No module named 'nowhere'",
    )


def test_hidden_file_without_hidden(lab_root):
    _edit(lab_root, HIDDEN_PATH, "HIDDEN = {", "CASES = {")
    _problems(
        lab_root,
        f"{HIDDEN_PATH}: has no HIDDEN dict: write HIDDEN = {{question_id: (Case(...), ...)}}.",
    )


def test_hidden_cases_that_are_not_cases(lab_root):
    _edit(lab_root, HIDDEN_PATH, '"max_pool": (', '"max_pool": ("not a case",')
    line = _line(lab_root, HIDDEN_PATH, '"max_pool"')
    _problems(
        lab_root,
        f"{HIDDEN_PATH}:{line}: HIDDEN['max_pool'] must be a tuple of cnnlabs.checks.Case.",
    )


def test_questions_file_that_cannot_be_loaded(lab_root):
    _edit(lab_root, CHECKS, 'id="pooled_shape"', 'id="pooled shape"')
    _problems(
        lab_root,
        f"{CHECKS}: cannot be loaded: ValueError: Question id must be a Python identifier, "
        "got 'pooled shape'.",
    )


def test_source_without_a_checker(lab_root):
    _edit(
        lab_root,
        SRC,
        'check = checker("09_pool", questions_path="../cnnlabs/checks/lab09_pool.py")\n',
        "",
    )
    code, out = _check(lab_root)
    assert code == 1
    assert (
        f"  - {SRC}:1: the lab never makes its check function: add "
        '`check = checker("09_pool")` to the setup cell.\n'
    ) in out


def test_function_answer_the_source_never_defines(lab_root):
    _edit(lab_root, CHECKS, 'answer="max_pool"', 'answer="max_pooling"')
    question = _line(lab_root, CHECKS, 'id="max_pool"')
    line = _line(lab_root, SRC, 'check("max_pool"')
    _problems(
        lab_root,
        f"{SRC}:{line}: check cell passes `max_pool` to question 'max_pool', whose answer is "
        f"`max_pooling` ({CHECKS}:{question}). Pass `max_pooling`.",
        f"{CHECKS}:{question}: question 'max_pool' (function): {SRC} defines no function "
        "`max_pooling`. Write `def max_pooling(...):` with its docstring, the body inside a "
        "solution block.",
    )


def test_source_that_is_not_python(lab_root):
    _edit(lab_root, SRC, "EPOCHS = 1", "EPOCHS = = 1")
    line = _line(lab_root, SRC, "EPOCHS = = 1")
    out = io.StringIO()
    assert assign.run([], root=lab_root, check=True, out=out) == 1
    assert out.getvalue().endswith(
        f"lab 09_pool: 1 problem(s):\n  - {SRC}:{line}: is not valid Python: invalid syntax.\n"
    )
