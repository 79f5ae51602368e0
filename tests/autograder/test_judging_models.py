"""A submitted model is rebuilt in a worker under limits, never in the grading process."""

from __future__ import annotations

import json
import subprocess
import sys

import nbfactory as f
import pytest

from autograder.modeljudge import MAX_MODEL_PARAMS

pytestmark = pytest.mark.slow  # TensorFlow in the kernel; a 75-million-parameter model

QUESTIONS = f.FIXTURES / "lab98_models.py"
SETUP = (
    "import keras\nfrom cnnlabs.checks import checker\n"
    f"check = checker('98_models', questions_path={str(QUESTIONS)!r})"
)
HUGE = (
    "def build_tiny():\n"
    "    return keras.Sequential([keras.Input((300,)), keras.layers.Dense(250000)])\n"
)
GRADER = """
def peak_mib():
    # VmHWM: this program's own peak (getrusage's ru_maxrss also counts the pytest process
    # this one was spawned from: Linux carries the parent's high-water mark across execve)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
import json, sys
from autograder.grade import grade_submission
result = grade_submission("98_models", sys.argv[1], sys.argv[2], questions_path=sys.argv[3],
                          hidden_dir=sys.argv[4])
(q,) = result.questions
print(json.dumps({"score": result.score, "status": q.status, "message": q.tests[0].message,
                  "keras": "keras" in sys.modules,
                  "rss_mib": peak_mib()}))
"""


def test_a_dense_250000_model_costs_its_question_and_never_reaches_the_grader(tmp_path):
    path = f.write(tmp_path / "nb.ipynb", [SETUP, HUGE], lab="98_models")
    proc = subprocess.run(
        [sys.executable, "-c", GRADER, path, tmp_path / "out", QUESTIONS, f.HIDDEN],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert (out["score"], out["status"]) == (0.0, "failed")
    assert out["message"] == (
        "the model could not be rebuilt safely: the model is too large: 75,250,000 parameters, "
        f"more than the {MAX_MODEL_PARAMS:,} the grader rebuilds; check the layer sizes."
    )
    assert out["keras"] is False  # nothing of the model was built in the grading process
    assert out["rss_mib"] < 1024, out
