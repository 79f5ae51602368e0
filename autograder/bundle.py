"""`cnnlabs bundle`: a lab's grader as a Gradescope autograder zip.

The zip holds ``setup.sh`` (installs bubblewrap and cnnlabs from the wheel-less
source copy in the zip), ``run_autograder`` (calls ``python -m
autograder.gradescope``), the ``cnnlabs`` and ``autograder`` packages (with the
references and the public cases' expected outputs), and ``hidden/<lab>.py``. On Gradescope the hidden tests live in ``/autograder/source``
(0700, root), which the kernel's uid cannot read; with bubblewrap it does not even
see them. Each Gradescope submission has its own container, which may refuse
namespaces: ``run_autograder`` sets ``CNNLABS_SANDBOX_MINIMUM=uid``, so grading
needs at least the separate uid there (see docs/grading.md).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from autograder.labspec import load_lab

SETUP_SH = """#!/usr/bin/env bash
# Gradescope setup: install cnnlabs (and TensorFlow/Keras) from this bundle.
# CNNLABS_GRADESCOPE_ROOT replaces /autograder. CNNLABS_SETUP_OFFLINE=1 (an image built
# without network, and the tests) skips apt-get and installs only the bundled source,
# with `pip install --no-deps --no-build-isolation`: its dependencies must be there.
set -euo pipefail
ROOT="${CNNLABS_GRADESCOPE_ROOT:-/autograder}"
cd "$ROOT/source"
if [ "${CNNLABS_SETUP_OFFLINE:-}" = 1 ]; then
  python3 -m pip install -q --no-deps --no-build-isolation ./cnnlabs-src
else
  apt-get update -qq
  apt-get install -y -qq bubblewrap util-linux passwd python3-pip > /dev/null
  python3 -m pip install -q ./cnnlabs-src
fi
chmod 700 "$ROOT/source"
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope entry point: grade $ROOT/submission/*.ipynb into $ROOT/results
# (ROOT: /autograder, or CNNLABS_GRADESCOPE_ROOT).
set -uo pipefail
ROOT="${CNNLABS_GRADESCOPE_ROOT:-/autograder}"
cd "$ROOT/source"
# One container per submission, which may refuse namespaces: the separate uid is the minimum.
export CNNLABS_SANDBOX_MINIMUM=uid
exec python3 -m autograder.gradescope --lab "$(cat LAB)" --hidden "$ROOT/source/hidden"
"""

_PACKAGE_FILES = ("*.py",)


def build_bundle(lab: str, out: str | Path, *, hidden_dir=None, questions_path=None) -> Path:
    """Writes the Gradescope zip for ``lab`` to ``out`` and returns its path."""
    spec = load_lab(lab, hidden_dir=hidden_dir, questions_path=questions_path)
    root = Path(__file__).resolve().parents[1]
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:

        def add_text(name, text, mode=0o644):
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, text)

        add_text("setup.sh", SETUP_SH, 0o755)
        add_text("run_autograder", RUN_AUTOGRADER, 0o755)
        add_text("LAB", spec.lab)
        for package in ("cnnlabs", "autograder"):
            for path in sorted((root / package).rglob("*.py")):
                archive.write(path, f"cnnlabs-src/{path.relative_to(root)}")
        # The public cases' expected outputs (package data of cnnlabs.checks).
        for path in sorted((root / "cnnlabs" / "checks" / "expected").glob("*.json")):
            archive.write(path, f"cnnlabs-src/{path.relative_to(root)}")
        for name in ("pyproject.toml", "README.md"):
            if (root / name).exists():
                archive.write(root / name, f"cnnlabs-src/{name}")
        if questions_path is not None:
            archive.write(questions_path, f"questions/lab{spec.lab}.py")
        if spec.hidden_dir is not None and (spec.hidden_dir / f"{spec.lab}.py").is_file():
            archive.write(spec.hidden_dir / f"{spec.lab}.py", f"hidden/{spec.lab}.py")
        else:
            add_text(f"hidden/{spec.lab}.py", "HIDDEN = {}\n")
    return out
