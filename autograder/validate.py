"""Validate a lab as a unit: source, questions, hidden cases and the solution's answers.

`cnnlabs assign` and `cnnlabs assign --check` run `validate(lab)` on every lab they
touch; each problem names a file and line and says how to fix it:

- every question of `cnnlabs/checks/labNN_name.py` has an answer in the source (a
  stub line `x = ...` for a value, a `def` outside the solution block for a
  function) and a check cell that both notebooks get;
- every check cell names a question of the lab and passes that question's answer;
- `labs/hidden/NN_name.py` exists under the lab's name and its keys are questions
  of the lab;
- the solution's answers pass every public and hidden case, judged as the grader
  judges them (`solution_outcomes`): in-process from the source's imports, `def`s
  and value answers (a few seconds per lab, no notebook run). A value answer that
  needs the notebook's state (a model trained above it) is left to
  `cnnlabs assign NN --execute`, which runs the solution notebook and judges every
  answer in its kernel (`kernel_outcomes`).
"""

from __future__ import annotations

import ast
import copy
import difflib
import json
import re
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from autograder.labfiles import LAB_RE, Lab, available_labs
from autograder.markers import Line, line_layout, split_solution

# The hidden cases' inputs for validation: one fixed draw, so `--check` is deterministic.
VALIDATION_SEED = 0


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a lab: where (``file`` or ``file:line``) and what to do."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass
class Report:
    """What `validate` found for one lab."""

    lab: str
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    public_cases: int = 0
    hidden_cases: int = 0


@dataclass(frozen=True)
class CaseResult:
    """The verdict of one case on the solution's answer (plain data, for the kernel too)."""

    question: str
    case: str
    hidden: bool
    status: str
    message: str = ""


# --------------------------------------------------------------------------- where things are


def _line_of(path: Path, patterns: list[str]) -> int | None:
    """The first line of `path` matching one of the regular expressions, in order."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    for pattern in patterns:
        for number, line in enumerate(lines, start=1):
            if re.search(pattern, line):
                return number
    return None


def _literal(text: str) -> str:
    """A regular expression for `text` as a Python string literal."""
    return rf"""(["']){re.escape(text)}\1"""


def _where(lab: Lab, path: Path, line: int | None) -> str:
    return f"{lab.rel(path)}:{line}" if line else lab.rel(path)


def _did_you_mean(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" Did you mean {close[0]!r}?" if close else ""


# --------------------------------------------------------------------------- the source


@dataclass
class CheckCall:
    """A `checker(...)` or `check(...)` call of the source."""

    line: Line
    args: list[str]  # the positional arguments, as source text


@dataclass
class LabSource:
    """What validation needs to know about a source, each item with its `Line`."""

    tree: ast.Module
    layout: dict[int, Line]
    checkers: list[CheckCall] = field(default_factory=list)  # checker("NN_name") calls
    checks: list[CheckCall] = field(default_factory=list)  # check("qid", answer) calls
    stubs: dict[str, list[Line]] = field(default_factory=dict)  # `x = ...`
    values: dict[str, list[Line]] = field(default_factory=dict)  # `x = <not ...>`
    defs: dict[str, list[Line]] = field(default_factory=dict)  # `def x(`


def _targets(node: ast.stmt) -> list[str]:
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    names = []
    for target in targets:
        elements = target.elts if isinstance(target, ast.Tuple) else [target]
        names += [e.id for e in elements if isinstance(e, ast.Name)]
    return names


def read_source(lab: Lab, text: str) -> LabSource:
    """Parses a lab source (valid Python: markers and markdown are comments).

    Raises:
        SyntaxError: when the source is not valid Python.
    """
    tree = ast.parse(text, filename=lab.rel(lab.source))
    source = LabSource(tree, line_layout(text))
    check_names = {"check"}
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Name)
            and node.value.func.id == "checker"
        ):
            check_names.update(_targets(node))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            call = CheckCall(source.layout[node.lineno], [ast.unparse(a) for a in node.args])
            if node.func.id == "checker":
                source.checkers.append(call)
            elif node.func.id in check_names and node.args:
                first = node.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    call.args[0] = first.value
                    source.checks.append(call)
    for node in tree.body:
        line = source.layout[node.lineno]
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            source.defs.setdefault(node.name, []).append(line)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            stub = isinstance(node.value, ast.Constant) and node.value.value is Ellipsis
            for name in _targets(node):
                (source.stubs if stub else source.values).setdefault(name, []).append(line)
    return source


# --------------------------------------------------------------------------- questions, hidden


def _stray(folder: Path, prefix: str, stem: str, labs: list[str]) -> list[str]:
    """Files `<prefix>NN_x.py` in `folder` that name no lab but look like `stem`'s."""
    found = []
    for path in sorted(folder.glob(f"{prefix}*.py")):
        other = path.stem[len(prefix) :]
        if not LAB_RE.match(other) or other in labs:
            continue
        if other[:2] == stem[:2] or difflib.get_close_matches(other, [stem], cutoff=0.6):
            found.append(path.name)
    return found


def load_lab_questions(lab: Lab):
    """The lab's questions: the packaged module when `lab.questions` is it, else the file."""
    from cnnlabs.checks import spec

    path = lab.questions
    packaged = spec.checks_modules().get(lab.name)
    if packaged is not None:
        import importlib.util

        origin = importlib.util.find_spec(packaged).origin
        if origin and Path(origin).resolve() == path.resolve():
            return spec.load_questions(lab.name)
    return spec.load_questions(lab.name, path=path)


def _questions(lab: Lab, report: Report):
    path = lab.questions
    if not path.is_file():
        stray = _stray(path.parent, "lab", lab.name, available_labs(lab.root))
        found = (
            f" Found {', '.join(stray)}, which names no lab: rename it to {path.name}."
            if stray
            else ""
        )
        report.problems.append(
            Problem(
                lab.rel(path),
                f"is missing: lab {lab.name} declares its questions there "
                f"(QUESTIONS = (Question(...), ...)), named after labs/source/{lab.name}.py."
                + found,
            )
        )
        return None
    try:
        return load_lab_questions(lab)
    except Exception as exc:  # noqa: BLE001 - any error in the author's module is reported
        report.problems.append(
            Problem(lab.rel(path), f"cannot be loaded: {type(exc).__name__}: {exc}")
        )
        return None


def _hidden(lab: Lab, questions, report: Report) -> dict:
    from cnnlabs.checks.spec import Case, load_module_from_path

    path = lab.hidden
    if not path.is_file():
        stray = _stray(path.parent, "", lab.name, available_labs(lab.root))
        found = (
            f" Found {', '.join('labs/hidden/' + s for s in stray)}, which names no lab: "
            f"rename it to {lab.rel(path)}."
            if stray
            else ""
        )
        report.problems.append(
            Problem(
                lab.rel(path),
                f"is missing: the grader would run no hidden cases for lab {lab.name}. Write "
                "HIDDEN = {question_id: (Case(...), ...)} there, named after the lab's source."
                + found,
            )
        )
        return {}
    try:
        module = load_module_from_path(path, f"cnnlabs_hidden_{lab.name}")
    except Exception as exc:  # noqa: BLE001 - any error in the author's module is reported
        report.problems.append(
            Problem(lab.rel(path), f"cannot be loaded: {type(exc).__name__}: {exc}")
        )
        return {}
    hidden = getattr(module, "HIDDEN", None)
    if not isinstance(hidden, dict):
        report.problems.append(
            Problem(
                lab.rel(path),
                "has no HIDDEN dict: write HIDDEN = {question_id: (Case(...), ...)}.",
            )
        )
        return {}
    ids = [q.id for q in questions]
    valid = {}
    for qid, cases in hidden.items():
        line = _line_of(path, [_literal(str(qid)) + r"\s*:"])
        if qid not in ids:
            report.problems.append(
                Problem(
                    _where(lab, path, line),
                    f"HIDDEN has cases for {qid!r}, which is not a question of lab {lab.name}; "
                    f"its questions are {', '.join(ids)}.{_did_you_mean(str(qid), ids)}",
                )
            )
        elif not isinstance(cases, (tuple, list)) or not all(isinstance(c, Case) for c in cases):
            report.problems.append(
                Problem(
                    _where(lab, path, line),
                    f"HIDDEN[{qid!r}] must be a tuple of cnnlabs.checks.Case.",
                )
            )
        else:
            valid[qid] = tuple(cases)
    return valid


# --------------------------------------------------------------------------- structure


def _structure(lab: Lab, source: LabSource, questions, report: Report) -> None:
    src = lab.rel(lab.source)
    ids = [q.id for q in questions]
    by_id = {q.id: q for q in questions}

    def at(line: Line) -> str:
        return f"{src}:{line.number}"

    def question_at(qid: str) -> str:
        return _where(lab, lab.questions, _line_of(lab.questions, [rf"id\s*=\s*{_literal(qid)}"]))

    if not source.checkers:
        report.problems.append(
            Problem(
                f"{src}:1",
                f'the lab never makes its check function: add `check = checker("{lab.name}")` '
                "to the setup cell.",
            )
        )
    for call in source.checkers:
        if call.args[:1] != [repr(lab.name)] and call.args[:1] != [f'"{lab.name}"']:
            report.problems.append(
                Problem(
                    at(call.line),
                    f"`checker({', '.join(call.args)})` does not name this lab: write "
                    f'`checker("{lab.name}")` (the stem of {src}).',
                )
            )
    for call in source.checks:
        qid = call.args[0]
        if qid not in by_id:
            report.problems.append(
                Problem(
                    at(call.line),
                    f"check cell names question {qid!r}; the lab's questions are "
                    f"{', '.join(ids)}.{_did_you_mean(qid, ids)}",
                )
            )
            continue
        answer = by_id[qid].answer
        if len(call.args) > 1 and call.args[1] != answer:
            report.problems.append(
                Problem(
                    at(call.line),
                    f"check cell passes `{call.args[1]}` to question {qid!r}, whose answer is "
                    f"`{answer}` ({question_at(qid)}). Pass `{answer}`.",
                )
            )
        if not call.line.student:
            report.problems.append(
                Problem(
                    at(call.line),
                    f"the check cell of question {qid!r} is inside a solution block or a cell "
                    "tagged solution, so the student notebook does not get it. Put it in its "
                    "own untagged cell after the answer.",
                )
            )
    for question in questions:
        qid, answer = question.id, question.answer
        calls = [c for c in source.checks if c.args[0] == qid]
        if not calls:
            report.problems.append(
                Problem(
                    question_at(qid),
                    f"question {qid!r} has no check cell in {src}: add a cell "
                    f"`check({qid!r}, {answer})` after the cell that defines `{answer}`.",
                )
            )
        elif not any(c.line.solution for c in calls):
            report.problems.append(
                Problem(
                    at(calls[0].line),
                    f"the check cell of question {qid!r} is in a cell tagged student, so the "
                    "solution notebook does not run it. Remove the tag.",
                )
            )
        stubs = [s for s in source.stubs.get(answer, []) if s.student]
        defs = source.defs.get(answer, [])
        values = [v for v in source.values.get(answer, []) if v.solution]
        if question.kind == "value" or (question.kind == "model" and not defs):
            if not stubs and values:
                report.problems.append(
                    Problem(
                        at(values[0]),
                        f"question {qid!r}: the student notebook has no stub line for the value "
                        f"answer `{answer}`, so its check cell raises NameError there. Add "
                        f"`{answer} = ...` on the line before the solution block.",
                    )
                )
            elif not stubs:
                report.problems.append(
                    Problem(
                        question_at(qid),
                        f"question {qid!r}: {src} never assigns its answer `{answer}`. Add a "
                        f"stub line `{answer} = ...` followed by a solution block that sets it.",
                    )
                )
            elif not values and not defs:
                report.problems.append(
                    Problem(
                        at(stubs[0]),
                        f"question {qid!r}: the solution never assigns `{answer}` (only the "
                        f"stub). Add a solution block after it: `{answer} = <the answer>` "
                        "between the markers.",
                    )
                )
        elif not defs:
            report.problems.append(
                Problem(
                    question_at(qid),
                    f"question {qid!r} ({question.kind}): {src} defines no function "
                    f"`{answer}`. Write `def {answer}(...):` with its docstring, the body "
                    "inside a solution block.",
                )
            )
        elif not any(d.student for d in defs):
            report.problems.append(
                Problem(
                    at(defs[0]),
                    f"question {qid!r}: `def {answer}` is inside a solution block or a cell "
                    "tagged solution, so the student notebook has no such function. Put the "
                    "`def` line and its docstring outside the block, only the body inside.",
                )
            )


# --------------------------------------------------------------------------- leaks

# Student-side modules the notebooks' `or_reference` fallbacks call (shipped to students).
STUDENT_SIDE_MODULES = ("cnnlabs/checks/fallbacks.py",)


def leak_problems(lab: Lab) -> list[Problem]:
    """The solution blocks of `lab` that students can read (see `autograder.leaks`)."""
    report = Report(lab.name)
    text = lab.source.read_text(encoding="utf-8")
    _leaks(lab, text, line_layout(text), report)
    return report.problems


def _leaks(lab: Lab, text: str, layout: dict[int, Line], report: Report) -> None:
    from autograder.leaks import find_leaks

    src = lab.rel(lab.source)
    lines = text.splitlines()
    blocks, start = [], None
    for number in range(1, len(lines) + 2):
        inside = number <= len(lines) and layout[number].in_block
        if inside and start is None:
            start = number
        elif not inside and start is not None:
            blocks.append((start, "\n".join(lines[start - 1 : number - 1])))
            start = None
    view = "\n".join(line if layout[n].student else "" for n, line in enumerate(lines, start=1))
    visible = [(src, view)]
    for rel in STUDENT_SIDE_MODULES:
        if (lab.root / rel).is_file():
            visible.append((rel, (lab.root / rel).read_text(encoding="utf-8")))
    for leak in find_leaks(blocks, visible):
        where = (
            f"the student notebook ({src}:{leak.found_line})"
            if leak.found_in == src
            else f"{leak.found_in}:{leak.found_line}, which students get"
        )
        report.problems.append(
            Problem(
                f"{src}:{leak.block_line}",
                f"{leak.coverage:.0%} of this solution block's code (names, layout and comments "
                f"aside) can be read in {where}. A fallback must not be the answer: call a "
                "stand-in that computes it another way (cnnlabs/checks/fallbacks.py, with Keras "
                "layers or library functions) and keep reference implementations on the grading "
                "side (autograder/references/).",
            )
        )


# --------------------------------------------------------------------------- the solution's answers


def judge_answers(lab: str, questions, hidden: dict, namespace: dict, seed: int = VALIDATION_SEED):
    """Runs every public and hidden case on the answers found in `namespace`.

    Public cases run exactly as the check cell runs them; hidden ones as the grader
    judges them, inputs drawn from `seed`. Questions whose answer `namespace` lacks
    are left out. Returns a list of `CaseResult`.
    """
    from autograder.judging import expected_value, judge
    from cnnlabs.checks.checker import produce, run_public_case
    from cnnlabs.checks.spec import case_seed, make_inputs

    results = []
    for question in questions:
        if question.answer not in namespace:
            continue
        answer = namespace[question.answer]
        for case in question.public:
            outcome = run_public_case(lab, question, case, answer)
            results.append(
                CaseResult(question.id, case.name, False, outcome.status, outcome.message)
            )
        for case in hidden.get(question.id, ()):
            try:
                inputs = make_inputs(case, case_seed(lab, question.id, case.name, f"hidden{seed}"))
                expected = expected_value(case, inputs)
            except Exception as exc:  # noqa: BLE001 - the case itself is broken
                status, message = "error", f"the case failed: {type(exc).__name__}: {exc}"
            else:
                try:
                    received = produce(question, answer, copy.deepcopy(inputs))
                    outcome = judge(question, case, expected, received)
                    status, message = outcome.status, outcome.message
                except Exception as exc:  # noqa: BLE001 - the solution failed on this case
                    status, message = "error", f"{type(exc).__name__}: {exc}"
            results.append(CaseResult(question.id, case.name, True, status, message))
    return results


def _exec(node: ast.stmt, namespace: dict, path: str) -> bool:
    try:
        exec(compile(ast.Module([node], []), path, "exec"), namespace)  # noqa: S102 - our source
    except Exception:  # noqa: BLE001 - left to --execute, which runs the notebook
        return False
    return True


def solution_namespace(lab: Lab, source: LabSource, questions) -> tuple[dict, list[str]]:
    """The solution's answers without running the notebook.

    Executes the source's top-level imports, `def`s and `class`es, constant
    assignments, and then each value answer's assignment. Returns the namespace and
    the value answers that could not be computed that way (they need the notebook's
    state).
    """
    path = lab.rel(lab.source)
    namespace: dict = {}
    body = [n for n in source.tree.body if source.layout[n.lineno].solution]
    for node in body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            _exec(node, namespace, path)
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            _exec(node, namespace, path)
        elif isinstance(node, ast.Assign):
            try:
                ast.literal_eval(node.value)
            except ValueError:
                continue
            _exec(node, namespace, path)
    needs_state = []
    for question in questions:
        if question.kind == "function" or question.answer in source.defs:
            continue
        assignments = [
            n
            for n in body
            if isinstance(n, (ast.Assign, ast.AnnAssign))
            and question.answer in _targets(n)
            and not (isinstance(n.value, ast.Constant) and n.value.value is Ellipsis)
        ]
        namespace.pop(question.answer, None)
        if assignments and not _exec(assignments[-1], namespace, path):
            namespace.pop(question.answer, None)
            needs_state.append(question.answer)
    return namespace, needs_state


def case_problems(lab: Lab, source: LabSource | None, results) -> list[Problem]:
    """One problem per case the solution does not pass, at the case's own line."""
    problems = []
    src = lab.rel(lab.source)
    for result in results:
        if result.status == "passed":
            continue
        path = lab.hidden if result.hidden else lab.questions
        where = _where(lab, path, _line_of(path, [_literal(result.case)]))
        calls = [c for c in source.checks if c.args[0] == result.question] if source else []
        cell = f"{src}:{calls[0].line.number}" if calls else src
        verdict = "does not pass" if result.status == "failed" else f"ends in {result.status}"
        first, _, rest = result.message.partition("\n")
        message = first + ("\n" + textwrap.indent(textwrap.dedent(rest), " " * 6) if rest else "")
        what = "hidden" if result.hidden else "public"
        problems.append(
            Problem(
                where,
                f"the solution {verdict} {what} case {result.case!r} of question "
                f"{result.question!r} (check cell {cell}): {message}\n    "
                f"Fix the case (its expected value or inputs) here, or the solution in {src}.",
            )
        )
    return problems


# --------------------------------------------------------------------------- the whole lab


def validate(lab: Lab, *, solutions: bool = True, seed: int = VALIDATION_SEED) -> Report:
    """Checks a lab as a unit; see the module docstring.

    Args:
        lab: the lab.
        solutions: also run the solution's answers on every public and hidden case
            (in-process, a few seconds per lab; imports TensorFlow when the lab does).
        seed: the seed the hidden cases' inputs are drawn from.

    Returns:
        A `Report`; `report.problems` is empty when the lab is consistent.
    """
    report = Report(lab.name)
    text = lab.source.read_text(encoding="utf-8")
    split_solution(text, lab.rel(lab.source))  # raises MarkerError on bad markers
    try:
        source = read_source(lab, text)
    except SyntaxError as exc:
        report.problems.append(
            Problem(f"{lab.rel(lab.source)}:{exc.lineno}", f"is not valid Python: {exc.msg}.")
        )
        return report
    questions = _questions(lab, report)
    if questions is None:
        return report
    hidden = _hidden(lab, questions, report)
    _structure(lab, source, questions, report)
    _leaks(lab, text, source.layout, report)
    from autograder.answers import manual_problems  # written answers: tags, model answers

    report.problems += [Problem(where, what) for where, what in manual_problems(lab)]
    report.public_cases = sum(len(q.public) for q in questions)
    report.hidden_cases = sum(len(cases) for cases in hidden.values())
    if solutions:
        namespace, needs_state = solution_namespace(lab, source, questions)
        results = judge_answers(lab.name, questions, hidden, namespace, seed)
        report.problems += case_problems(lab, source, results)
        if needs_state:
            report.notes.append(
                f"{lab.name}: {', '.join(needs_state)} need the notebook's state; "
                f"`cnnlabs assign {lab.name} --execute` checks them."
            )
    return report


KERNEL_MARK = "cnnlabs-validate:"


def kernel_code(lab: Lab) -> str:
    """A cell that judges every answer in a kernel that ran the solution notebook."""
    return (
        "from autograder.validate import kernel_outcomes as _cnnlabs_outcomes\n"
        f"print({KERNEL_MARK!r} + _cnnlabs_outcomes({str(lab.root)!r}, {lab.name!r}, globals()))"
    )


def kernel_outcomes(root: str, name: str, namespace: dict) -> str:
    """Runs in the solution's kernel: every case on the kernel's answers, as JSON."""
    lab = Lab(name, Path(root))
    questions = load_lab_questions(lab)
    report = Report(name)
    hidden = _hidden(lab, questions, report) if lab.hidden.is_file() else {}
    missing = [q.answer for q in questions if q.answer not in namespace]
    results = judge_answers(name, questions, hidden, namespace)
    return json.dumps(
        {"results": [r.__dict__ for r in results], "missing": missing},
    )
