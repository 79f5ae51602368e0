"""Judging on the trusted side: the right reason for each failure, models under limits."""

from __future__ import annotations

import json

import nbfactory as f
import numpy as np
import pytest

from autograder import gradescope, plainio, report
from autograder.grade import grade_submission, load_lab
from autograder.modeljudge import MAX_MODEL_PARAMS, config_params, judge_models
from cnnlabs.checks.plain import compare

MODELS = f.FIXTURES / "lab98_models.py"


def test_integers_are_compared_exactly():
    assert compare(122304, 122305) == (
        "answer: expected 122304, received 122305 (integers, compared exactly)."
    )
    assert compare(4821600, 4821560) is not None
    assert compare(122304, 122304.0) is None
    assert compare((28, 28, 6), np.array([28, 28, 7])) == (
        "answer: 1 of 3 values differ (integers, compared exactly); first at index (2,): "
        "expected 6, received 7."
    )
    assert compare({"params": 61706}, {"params": 61706.5}) == (
        "answer['params']: expected 61706, received 61706.5 (integers, compared exactly)."
    )
    assert compare(122304, 122305, exact_ints=False) is None  # a case's own check may opt out
    assert compare(1.0, 1.0 + 1e-9) is None  # floats keep their tolerance


def test_an_npz_with_a_bad_crc_is_tampering(tmp_path):
    np.savez(tmp_path / "r.npz", a0=np.arange(64, dtype=np.float64))
    data = bytearray((tmp_path / "r.npz").read_bytes())
    data[data.index(b"\x93NUMPY") + 200] ^= 0xFF  # inside the stored array, past its header
    (tmp_path / "r.npz").write_bytes(bytes(data))
    (tmp_path / "r.json").write_text(json.dumps({"status": "ok", "value": {"a": "a0"}}))
    with pytest.raises(plainio.TamperError) as info:
        plainio.read(tmp_path, "r")
    assert str(info.value) == (
        "r.npz: unreadable arrays (BadZipFile: Bad CRC-32 for file 'a0.npy')."
    )


def _notebook_with_metadata(path, tag):
    nb = f.notebook(f.SOLUTION)
    nb.metadata["cnnlabs"] = tag
    path.write_text(json.dumps(nb))
    return path


@pytest.mark.parametrize("tag", ["99_fixture", ["x"], 3])
def test_metadata_that_is_not_a_dict_is_invalid_with_a_results_json(tmp_path, tag):
    reason = (
        f"the notebook's metadata 'cnnlabs' is a {type(tag).__name__}, expected a dict such as "
        '{"lab": ...}; submit the lab notebook you were given, without editing its metadata.'
    )
    path = _notebook_with_metadata(tmp_path / "nb.ipynb", tag)
    result = grade_submission(
        f.LAB, path, tmp_path / "out", hidden_dir=f.HIDDEN, questions_path=f.QUESTIONS
    )
    assert {(q.status, q.reason) for q in result.questions} == {("invalid", reason)}
    root = tmp_path / "gs"
    (root / "submission").mkdir(parents=True)
    _notebook_with_metadata(root / "submission" / "lab.ipynb", tag)
    gradescope.run(f.LAB, root, hidden_dir=f.HIDDEN, questions_path=f.QUESTIONS)
    results = json.loads((root / "results" / "results.json").read_text())
    assert results["score"] == 0 and results["output"] == (
        f"This submission could not be graded: {reason}"
    )


RAISING = """
from cnnlabs.checks import Case, Question

def _broken(**inputs):
    raise KeyError("the reference has a bug")

QUESTIONS = (
    Question(id="twice", points=2, answer="twice", kind="function", title="Twice",
             public=(Case("x=3", inputs=lambda rng: {"x": 3}, expected=lambda x: 2 * x),
                     Case("x=4", inputs=lambda rng: {"x": 4}, expected=_broken))),
)
"""


def test_a_reference_that_raises_is_a_grader_error_not_a_wrong_answer(tmp_path):
    questions = tmp_path / "lab97_raising.py"
    questions.write_text(RAISING)
    setup = (
        "from cnnlabs.checks import checker\n"
        f"check = checker('97_raising', questions_path={str(questions)!r})"
    )
    path = f.write(tmp_path / "nb.ipynb", [setup, "def twice(x):\n    return 2 * x"], lab=None)
    result = grade_submission(
        "97_raising", path, tmp_path / "out", questions_path=questions, hidden_dir=tmp_path
    )
    (question,) = result.questions
    assert (question.score, question.status) == (1.0, "grader_error")
    assert question.reason == "the lab's reference answer failed on a test; 1 of 2 tests passed"
    bad = question.tests[1]
    assert (bad.status, bad.message) == (
        "grader_error",
        "the reference answer failed (a bug in the lab's tests, not in your code): "
        "KeyError: 'the reference has a bug'",
    )
    text = report.feedback(result)
    assert (
        "Grader error (tell your instructor): the lab's reference answer failed on a test; "
        "1 of 2 tests passed." in text
    )
    assert "- [ ] x=4 (public): grader error (tell your instructor)" in text
    assert "wrong answer" not in text.lower()


def test_feedback_never_repeats_the_status():
    from autograder.report import _verdict

    assert _verdict("not attempted", "not attempted") == "Not attempted."
    assert _verdict("timed out", "timed out (cell 2 timed out)") == "Timed out (cell 2 timed out)."
    assert _verdict("passed", "all 3 tests passed") == "All 3 tests passed."
    assert _verdict("wrong answer", "none of the 3 tests passed") == (
        "Wrong answer: none of the 3 tests passed."
    )


def _dense_config(units: int, features: int = 784) -> str:
    """A Keras 3 Sequential config with one Dense layer, written by hand (no Keras)."""
    dense = {
        "module": "keras.layers",
        "class_name": "Dense",
        "config": {"name": "dense", "units": units, "activation": "softmax", "use_bias": True},
        "build_config": {"input_shape": [None, features]},
    }
    inputs = {
        "module": "keras.layers",
        "class_name": "InputLayer",
        "config": {"batch_shape": [None, features], "dtype": "float32", "name": "input"},
    }
    return json.dumps(
        {
            "module": "keras",
            "class_name": "Sequential",
            "config": {"name": "sequential", "layers": [inputs, dense]},
            "build_config": {"input_shape": [None, features]},
        }
    )


def test_a_model_too_large_is_refused_before_it_is_built(tmp_path):
    spec = load_lab("98_models", questions_path=MODELS, hidden_dir=f.HIDDEN)
    (question,) = spec.questions
    (case,) = question.public
    config = tmp_path / "m_model.json"
    config.write_text(_dense_config(250_000))
    weights = tmp_path / "m_model.weights.h5"
    weights.write_bytes(b"\x89HDF\r\n\x1a\n")
    assert config_params(json.loads(config.read_text())) == 785 * 250_000
    verdicts = judge_models(spec, [(question, case, None, config, weights)])
    assert verdicts == {
        (question.id, case.name): (
            "failed",
            "the model could not be rebuilt safely: the model is too large: 196,250,000 "
            f"parameters, more than the {MAX_MODEL_PARAMS:,} the grader rebuilds; check the "
            "layer sizes.",
        )
    }


@pytest.mark.slow  # two workers, two TensorFlow imports
def test_one_worker_judges_every_model_and_a_crash_costs_only_its_case(tmp_path):
    import keras

    from cnnlabs.checks.modelio import export_model

    spec = load_lab(
        "96_model_worker", questions_path=f.FIXTURES / "lab96_model_worker.py", hidden_dir=f.HIDDEN
    )
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    items = []
    for question in spec.questions:
        (case,) = question.public
        config, weights = export_model(model, tmp_path, question.id)
        items.append((question, case, None, config, weights))
    verdicts = judge_models(spec, items)
    assert verdicts[("crash", "crash")] == (
        "failed",
        "the model could not be rebuilt safely: the check crashed.",
    )
    (first_status, first), (last_status, last) = (
        verdicts[("first", "first")],
        verdicts[("last", "last")],
    )
    assert first_status == last_status == "failed"
    assert first.startswith("judged by worker ") and last.startswith("judged by worker ")
    assert first != last  # the case after the crash went to a fresh worker


def test_a_slot_keeps_its_worker_between_submissions_and_replaces_it_in_time(tmp_path, monkeypatch):
    import keras

    import autograder.modeljudge
    from cnnlabs.checks.modelio import export_model

    autograder.modeljudge.close_workers()
    monkeypatch.setattr(autograder.modeljudge, "JOBS_PER_WORKER", 2)
    spec = load_lab(
        "96_model_worker", questions_path=f.FIXTURES / "lab96_model_worker.py", hidden_dir=f.HIDDEN
    )
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    items = []
    for question in (spec.questions[0], spec.questions[2]):  # first and last, no crash
        (case,) = question.public
        config, weights = export_model(model, tmp_path, question.id)
        items.append((question, case, None, config, weights))
    pids = []
    for _ in range(3):  # three submissions graded in slot 5, one after the other
        verdicts = judge_models(spec, items, slot=5)
        assert verdicts[("first", "first")] == verdicts[("last", "last")]  # one worker each
        pids.append(verdicts[("first", "first")][1].removeprefix("judged by worker "))
    assert pids[0] == pids[1] != pids[2]  # kept for the second, replaced after two
    autograder.modeljudge.close_workers()


def _tiny_job(tmp_path):
    spec = load_lab("98_models", questions_path=MODELS, hidden_dir=f.HIDDEN)
    (question,) = spec.questions
    (case,) = question.public
    (tmp_path / "c.json").write_text(_dense_config(3, 4))
    (tmp_path / "w.h5").write_bytes(b"not read before the limits apply")
    jobs = [(question, case, None, tmp_path / "c.json", tmp_path / "w.h5")]
    return spec, question, jobs, (question.id, case.name)


def test_the_model_worker_is_killed_at_its_timeout(tmp_path, monkeypatch):
    import autograder.modeljudge

    autograder.modeljudge.close_workers()  # a fresh worker: a warm one could answer in time
    monkeypatch.setattr(autograder.modeljudge, "MODEL_TIMEOUT", 0.5)
    spec, question, jobs, name = _tiny_job(tmp_path)
    assert judge_models(spec, jobs) == {
        name: ("timeout", "rebuilding and checking the model took more than 0.5 s.")
    }


@pytest.mark.slow  # the worker starts importing TensorFlow until the cap stops it
def test_the_model_worker_runs_under_a_memory_cap(tmp_path, monkeypatch):
    import autograder.modeljudge

    monkeypatch.setattr(autograder.modeljudge, "MODEL_ADDRESS_SPACE", 2**30)  # < TensorFlow's
    spec, question, jobs, name = _tiny_job(tmp_path)
    assert judge_models(spec, jobs) == {
        name: ("oom", "rebuilding the model needed more than 1 GiB of memory.")
    }
