"""What a lab asks the grader: its questions, hidden cases (random ones drawn several
times), written-answer questions and a digest of their sources.

`load_lab` is used by the grading side (`autograder.grade`, `autograder.batch`)
and by the model-judging worker (`autograder.modeljudge`), which reloads the lab
in its own process; it lives here, below both, so neither imports the other.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
from dataclasses import dataclass, field
from pathlib import Path

from autograder.answers import load_manual
from cnnlabs.checks.plain import compare
from cnnlabs.checks.spec import Question, load_hidden, load_questions, make_inputs, resolve_lab

__all__ = ["HIDDEN_DRAWS", "LabSpec", "default_hidden_dir", "load_lab"]

HIDDEN_DRAWS = 5  # draws of each random hidden case of a function question


@dataclass
class LabSpec:
    lab: str
    questions: tuple[Question, ...]
    hidden: dict
    digest: str
    hidden_dir: Path | None = None
    questions_path: Path | None = None
    draws: dict = field(default_factory=dict)  # question id -> {draw name: draws of its case}
    manual: tuple = ()  # cnnlabs.checks.manual.ManualQuestion: written answers, graded by TAs

    @property
    def max_score(self) -> float:
        return float(sum(q.points for q in self.questions))


def default_hidden_dir() -> Path | None:
    """``labs/hidden`` of the repository checkout (next to the package, or under cwd)."""
    for root in (Path(__file__).resolve().parents[1], Path.cwd()):
        if (root / "labs" / "hidden").is_dir():
            return root / "labs" / "hidden"
    return None


def load_lab(lab: str, *, hidden_dir=None, questions_path=None) -> LabSpec:
    """Questions + hidden cases of a lab, with a digest of their source files."""
    if questions_path is not None:
        stem = Path(str(lab)).stem
        questions = load_questions(stem, path=questions_path)
        sources = [Path(questions_path)]
    else:
        stem = resolve_lab(lab)
        questions = load_questions(stem)
        sources = [Path(importlib.import_module(f"cnnlabs.checks.lab{stem}").__file__)]
    hidden_dir = Path(hidden_dir) if hidden_dir is not None else default_hidden_dir()
    hidden, draws = _draw_hidden(load_hidden(stem, hidden_dir, questions), questions)
    if hidden_dir is not None and (hidden_dir / f"{stem}.py").is_file():
        sources.append(hidden_dir / f"{stem}.py")
    digest = hashlib.sha256()
    for path in sources:
        digest.update(path.read_bytes())
    digest.update(f"draws={HIDDEN_DRAWS}".encode())
    path = Path(questions_path) if questions_path is not None else None
    manual = load_manual(stem, questions, questions_path)
    return LabSpec(stem, questions, hidden, digest.hexdigest(), hidden_dir, path, draws, manual)


def _is_random(case) -> bool:
    """True when a case's inputs depend on the generator it is given."""
    try:
        a, b = make_inputs(case, 1), make_inputs(case, 2)
        return compare(a, b, 0.0, 0.0) is not None
    except Exception:
        return True


def _draw_hidden(hidden: dict, questions) -> tuple[dict, dict]:
    """Each random hidden case of a function question becomes ``HIDDEN_DRAWS`` cases.

    The draws are named ``"<case> (draw i/n)"``; each gets its own inputs (its
    seed comes from its name and the run's seed) and ``1/n`` of the case's points,
    so a partial solution earns the share of draws it gets right instead of all
    or nothing on one lucky or unlucky draw.
    """
    kinds = {q.id: q.kind for q in questions}
    out, draws = {}, {}
    for qid, cases in hidden.items():
        expanded = []
        for case in cases:
            if kinds.get(qid) == "function" and case.inputs is not None and _is_random(case):
                for i in range(HIDDEN_DRAWS):
                    name = f"{case.name} (draw {i + 1}/{HIDDEN_DRAWS})"
                    expanded.append(dataclasses.replace(case, name=name))
                    draws.setdefault(qid, {})[name] = HIDDEN_DRAWS
            else:
                expanded.append(case)
        out[qid] = tuple(expanded)
    return out, draws
