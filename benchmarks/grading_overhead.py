"""Grading overhead per submission, beside plainly executing the same notebooks with nbclient.

Plain nbclient execution (``NotebookClient(nb).execute()``) is what existing
graders do at their core. ``grade_submission`` adds the sandbox (bubblewrap: a
separate uid, PID/network/IPC/mount namespaces, a root of read-only binds,
cgroups), cell-by-cell execution with timeouts, the export step and trusted
judging. Both run the same notebooks, alternating, in one run; the sandbox's
one-off preflight (once per ``cnnlabs grade`` run) is timed apart. Target: a
ratio of at most 1.2x.

    .venv/bin/python benchmarks/grading_overhead.py [--n 5] [--tf]

``--tf`` adds a cell that imports TensorFlow and trains a tiny model for a few
steps, so the notebook's own run dominates as in a real lab.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "autograder"))

import nbfactory as f  # noqa: E402

from autograder.grade import grade_submission  # noqa: E402
from autograder.sandbox import preflight  # noqa: E402

TARGET = 1.2

TF_CELL = (
    "import numpy as np, keras\n"
    "m = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(6, 5, activation='relu'),"
    " keras.layers.Flatten(), keras.layers.Dense(10)])\n"
    "m.compile('adam', keras.losses.SparseCategoricalCrossentropy(from_logits=True))\n"
    "m.fit(np.random.rand(512, 28, 28, 1), np.random.randint(0, 10, 512), epochs=2, verbose=0)"
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=5, help="notebooks per method")
    parser.add_argument("--tf", action="store_true", help="add a TensorFlow training cell")
    args = parser.parse_args()
    cells = [*f.SOLUTION, TF_CELL] if args.tf else f.SOLUTION
    start = time.perf_counter()
    described = preflight()  # once per run; raises where the sandbox cannot be provided
    once = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        paths = [f.write(tmp / f"nb{i}.ipynb", cells) for i in range(args.n)]
        plain, graded = [], []
        for i, path in enumerate(paths):
            nb = nbformat.read(path, as_version=4)
            start = time.perf_counter()
            NotebookClient(nb, timeout=600, kernel_name="python3").execute()
            plain.append(time.perf_counter() - start)
            start = time.perf_counter()
            result = grade_submission(
                f.LAB, path, tmp / f"out{i}", hidden_dir=f.HIDDEN, questions_path=f.QUESTIONS
            )
            graded.append(time.perf_counter() - start)
            assert result.score == result.max_score, result
            assert result.sandbox == described, result.sandbox
    p, g = statistics.median(plain), statistics.median(graded)
    print(f"sandbox: {described}")
    print(f"sandbox preflight (once per grading run): {once:.2f} s")
    print(
        f"notebooks: {args.n} x {len(cells)} cells{' (with TensorFlow training)' if args.tf else ''}"
    )
    print(f"plain nbclient execute: median {p:.2f} s per notebook")
    print(f"cnnlabs grade_submission: median {g:.2f} s per notebook (run + export + judge)")
    verdict = "met" if g / p <= TARGET else "NOT met"
    print(
        f"overhead: {g - p:+.2f} s per submission, ratio {g / p:.2f}x "
        f"(target <= {TARGET}x: {verdict})"
    )


if __name__ == "__main__":
    main()
