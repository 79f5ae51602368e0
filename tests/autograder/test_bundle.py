"""The Gradescope bundle, tested as shipped: its own setup.sh, its own run_autograder, its own code.

`cnnlabs bundle` is built and unpacked into a fresh folder laid out like Gradescope's
(``$ROOT/source``, ``$ROOT/submission``, ``$ROOT/results``, ``ROOT`` passed as
``CNNLABS_GRADESCOPE_ROOT``). Then the bundle's ``setup.sh`` runs in a fresh virtual
environment and ``run_autograder`` grades an honest, an empty and a broken submission.

What runs differently from Gradescope, and why (no network here):

- The virtual environment: ``python -m venv --without-pip``, then the checkout's
  installed dependencies (TensorFlow, Jupyter, ...) hard-linked into its
  site-packages, *without* the checkout's own editable install of cnnlabs (its
  ``__editable__`` finder and dist-info are left out). ``venv --system-site-packages``
  does not do here: the "system" would be the base interpreter, which holds none of
  the dependencies, and a ``.pth`` pointing at the checkout's venv would not be seen by
  the sandbox, which shows the kernel only the interpreter's own prefixes.
- ``setup.sh`` runs with ``CNNLABS_SETUP_OFFLINE=1``: no apt-get (bubblewrap is
  installed), and ``pip install --no-deps --no-build-isolation`` of the bundled source
  instead of a resolving install. Everything else (``cd``, ``chmod 700`` of the
  source) runs as shipped.
- ``run_autograder`` runs unchanged, with the venv's ``bin`` first on ``PATH`` (its
  ``python3``), no ``PYTHONPATH`` and the checkout nowhere on the path: the run
  prints where ``autograder`` and ``cnnlabs`` were imported from, and the test checks
  both are the copies installed from the bundle.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import nbfactory as f
import pytest

from autograder.bundle import build_bundle

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _fresh_venv(venv: Path) -> Path:
    """A venv with the checkout's dependencies (hard links) but not its cnnlabs; its python."""
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python3"
    target = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    source = Path(sysconfig.get_paths()["purelib"])
    for item in source.iterdir():
        if item.name.startswith("__editable__") or item.name.startswith("cnnlabs"):
            continue  # the checkout's own package: the bundle installs its copy instead
        if item.name == "__pycache__":
            continue
        subprocess.run(["cp", "-al", str(item), target], check=True, timeout=300)
    return python


def _env(root: Path, venv: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "CNNLABS_"))}
    env.pop("VIRTUAL_ENV", None)
    env["PATH"] = f"{venv / 'bin'}:{env.get('PATH', '/usr/bin:/bin')}"
    env["CNNLABS_GRADESCOPE_ROOT"] = str(root)
    return env


def _run_autograder(root: Path, env: dict) -> tuple[subprocess.CompletedProcess, dict]:
    results = root / "results" / "results.json"
    results.unlink(missing_ok=True)
    proc = subprocess.run(
        [str(root / "source" / "run_autograder")],
        capture_output=True,
        text=True,
        env=env,
        cwd="/",
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc, json.loads(results.read_text())


def _submit(root: Path, files: dict[str, str | bytes]) -> None:
    folder = root / "submission"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    for name, content in files.items():
        (folder / name).write_bytes(content if isinstance(content, bytes) else content.encode())


def test_the_bundle_grades_with_its_own_setup_entry_point_and_code(tmp_path):
    f.strong_sandbox_or_skip()
    root = tmp_path / "autograder"
    bundle = build_bundle(
        f.LAB, tmp_path / "ag.zip", hidden_dir=f.HIDDEN, questions_path=f.QUESTIONS
    )
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(root / "source")
        for info in archive.infolist():  # zipfile drops the modes: put back the executable bits
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                os.chmod(root / "source" / info.filename, mode)
    venv = tmp_path / "venv"
    python = _fresh_venv(venv)
    env = _env(root, venv)
    setup = subprocess.run(
        ["bash", str(root / "source" / "setup.sh")],
        capture_output=True,
        text=True,
        env={**env, "CNNLABS_SETUP_OFFLINE": "1"},
        cwd="/",
        timeout=600,
    )
    assert setup.returncode == 0, setup.stdout + setup.stderr
    assert (root / "source").stat().st_mode & 0o777 == 0o700
    where = subprocess.run(
        [
            str(python),
            "-c",
            "import autograder, cnnlabs; print(autograder.__file__, cnnlabs.__file__)",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd="/",
        check=True,
    ).stdout.split()
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout.strip()
    assert where == [f"{site}/autograder/__init__.py", f"{site}/cnnlabs/__init__.py"]
    installed = Path(site) / "autograder" / "gradescope.py"
    assert (
        installed.read_bytes()
        == (root / "source/cnnlabs-src/autograder/gradescope.py").read_bytes()
    )

    questions = root / "source" / "questions" / f"lab{f.LAB}.py"
    setup_cell = f.SETUP.replace(str(f.QUESTIONS), str(questions))
    honest = [setup_cell, *f.SOLUTION[1:]]
    _submit(root, {"lab.ipynb": json.dumps(f.notebook(honest))})
    proc, results = _run_autograder(root, env)
    assert proc.stdout.splitlines() == [
        f"grader: {site}/autograder, {site}/cnnlabs",
        f"score 5 / {f.MAX_SCORE:g}",
    ]
    assert str(REPO) not in proc.stdout + proc.stderr
    assert results["score"] == f.MAX_SCORE == results["max_score"]
    assert results["output"].startswith("Graded in sandbox: strong (bwrap, uid, ")
    assert {t["visibility"] for t in results["tests"] if t["name"].endswith("(hidden)")} == {
        "after_published"
    }
    assert all(t["score"] == t["max_score"] for t in results["tests"])

    _submit(root, {})
    proc, results = _run_autograder(root, env)
    assert (results["score"], results["max_score"]) == (0.0, f.MAX_SCORE)
    assert results["output"] == (
        "This submission could not be graded: no .ipynb file was submitted; "
        "upload your lab notebook."
    )

    _submit(root, {"lab.ipynb": b'{"cells": [ broken'})
    proc, results = _run_autograder(root, env)
    assert (results["score"], results["max_score"]) == (0.0, f.MAX_SCORE)
    assert results["output"] == (
        "This submission could not be graded: the file is not JSON, so not a Jupyter "
        "notebook; submit the .ipynb file (File > Download > Download .ipynb)."
    )
    assert {t["score"] for t in results["tests"]} == {0.0} and len(results["tests"]) == 14
