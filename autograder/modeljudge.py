"""Judge a submitted model under limits: a size check of its config, then a separate worker.

A ``kind="model"`` answer crosses into the grader as a Keras JSON config and a
weights file, both written by the student's kernel. Rebuilding it allocates
whatever the config asks for (one ``Dense(250000)`` is ~200 million parameters),
so the grader never rebuilds it in its own process:

1. ``config_params`` counts the parameters the config declares, from each layer's
   config and its recorded input shape, without building anything; a config above
   ``MAX_MODEL_PARAMS`` is refused ("the model is too large: ...").
2. The rebuild (``rebuild_model``, ``safe_mode=True``) and the question's check run
   in a worker process (``python -m autograder.modeljudge JOB_DIR``) that caps its
   own address space (``RLIMIT_AS``) before importing TensorFlow and is killed
   after ``MODEL_TIMEOUT`` seconds. The worker also refuses a built model above
   the parameter cap (layers whose config does not say their size).

Each grading slot keeps one worker between submissions, so TensorFlow is imported
once per slot, not once per submission or question; it is replaced every
``JOBS_PER_WORKER`` submissions, and ``keras.backend.clear_session()`` runs after
each. Any failure costs the case it happened on only, and only when a fresh worker
fails on it: a worker that judged other submissions before is replaced and the
cases are judged again, so no verdict depends on who was graded before.
"""

from __future__ import annotations

import atexit
import json
import math
import os
import resource
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from autograder import plainio

MAX_MODEL_PARAMS = 20_000_000  # the labs' models have < 1 million
MODEL_ADDRESS_SPACE = 12 * 2**30  # TensorFlow alone reserves ~4 GiB of address space
MODEL_TIMEOUT = 180.0  # seconds for one worker: TF import, a submission's rebuilds and checks
MAX_MODEL_BYTES = 256 * 2**20
JOBS_PER_WORKER = 50  # submissions one worker judges before a fresh one replaces it
OOM, TIMEOUT, FAILED = "oom", "timeout", "failed"


class ModelTooLarge(ValueError):
    """A model config that declares more parameters than the grader rebuilds."""


# ---------------------------------------------------------------- size check


def _dims(shape) -> list | None:
    if isinstance(shape, dict):  # {"class_name": "__tuple__", "config": {"value": [...]}}
        shape = (shape.get("config") or {}).get("value")
    if isinstance(shape, list) and shape and isinstance(shape[0], list):
        shape = shape[0]  # multi-input layers: the first input
    if not isinstance(shape, list):
        return None
    return [d if type(d) is int and d > 0 else None for d in shape]


def _ints(value, n: int = 1) -> list[int]:
    if type(value) is int:
        return [value] * n
    if isinstance(value, dict):
        value = (value.get("config") or {}).get("value")
    if isinstance(value, list) and all(type(v) is int for v in value):
        return list(value)
    return [1] * n


def _layer_params(class_name: str, config: dict, input_shape) -> int:
    """Parameters of one layer from its config (0 for layers without weights)."""
    dims = _dims(input_shape) or []
    last = dims[-1] if dims and dims[-1] else 1
    bias = 1 if config.get("use_bias", True) else 0
    if class_name == "Dense":
        units = config.get("units")
        return (last + bias) * units if type(units) is int else 0
    if class_name in ("Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose", "Conv2DTranspose"):
        filters = config.get("filters")
        if type(filters) is not int:
            return 0
        rank = int(class_name[4]) if class_name[4].isdigit() else 2
        kernel = math.prod(_ints(config.get("kernel_size"), rank))
        groups = config.get("groups") if type(config.get("groups")) is int else 1
        return kernel * max(last // max(groups, 1), 1) * filters + bias * filters
    if class_name in ("DepthwiseConv1D", "DepthwiseConv2D"):
        mult = config.get("depth_multiplier") if type(config.get("depth_multiplier")) is int else 1
        kernel = math.prod(_ints(config.get("kernel_size"), 2))
        return kernel * last * mult + bias * last * mult
    if class_name in ("SeparableConv1D", "SeparableConv2D"):
        filters = config.get("filters") if type(config.get("filters")) is int else 0
        mult = config.get("depth_multiplier") if type(config.get("depth_multiplier")) is int else 1
        kernel = math.prod(_ints(config.get("kernel_size"), 2))
        return kernel * last * mult + last * mult * filters + bias * filters
    if class_name == "Embedding":
        a, b = config.get("input_dim"), config.get("output_dim")
        return a * b if type(a) is int and type(b) is int else 0
    if class_name == "BatchNormalization":
        return 4 * last
    if class_name == "LayerNormalization":
        return 2 * last
    return 0


def config_params(config) -> int:
    """The number of parameters a Keras JSON config declares, counted without building it.

    Walks every layer entry (``{"class_name", "config", "build_config"}``) and adds
    the weights of the layers that have them (Dense, convolutions, Embedding,
    normalizations), using the input shape recorded in ``build_config``. A layer
    whose size is not written in its config counts 0 here; the worker checks the
    built model as well.

    Example:
        >>> config_params({"class_name": "Dense", "config": {"units": 10},
        ...                "build_config": {"input_shape": [None, 4]}})
        50
    """
    total = 0
    stack = [config]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            name, inner = node.get("class_name"), node.get("config")
            if isinstance(name, str) and isinstance(inner, dict):
                shape = (node.get("build_config") or {}).get("input_shape")
                total += _layer_params(name, inner, shape)
            stack.extend(node.values())
    return total


def check_size(config_text: str) -> int:
    """Raises ModelTooLarge above ``MAX_MODEL_PARAMS``; returns the declared count."""
    try:
        config = json.loads(config_text)
    except (ValueError, RecursionError):
        raise ModelTooLarge("the model config is not valid JSON.") from None
    n = config_params(config)
    if n > MAX_MODEL_PARAMS:
        raise ModelTooLarge(too_large(n))
    return n


def too_large(n: int) -> str:
    return (
        f"the model is too large: {n:,} parameters, more than the {MAX_MODEL_PARAMS:,} "
        "the grader rebuilds; check the layer sizes."
    )


# ---------------------------------------------------------------- the trusted side


def judge_models(spec, items, slot: int = 0) -> dict:
    """Judges a submission's model answers in one worker; returns ``{(question id, case name): outcome}``.

    The slot's worker judges every model case of the submission, in order, and
    records each verdict as soon as it has it. When a fresh worker dies (out of
    memory, a crash) or runs past ``MODEL_TIMEOUT``, the case it was on gets that
    verdict and another fresh worker goes on with the cases after it, so a failure
    costs one case only. A submission gets at most one fresh worker per question
    with model answers (the bound it had when each question had its own).

    Args:
        spec: the ``LabSpec`` (its lab, questions file and hidden folder are passed
            to the worker, which loads the same cases).
        items: list of ``(question, case, expected, config_path, weights_path)``; the
            paths are the files the kernel wrote (opened with ``O_NOFOLLOW`` and size
            caps).
        slot: the grading slot, whose worker is used (one submission at a time).

    Returns:
        dict ``(question id, case name)`` -> ``(status, message)``; status
        ``passed``/``failed``/``oom``/``timeout``.
    """
    results: dict = {}
    tmp = Path(tempfile.mkdtemp(prefix="cnnlabs-model-"))
    try:
        cases = []
        for k, (question, case, expected, config_path, weights_path) in enumerate(items):
            key = (question.id, case.name)
            try:
                config = plainio.open_regular(config_path, plainio.MAX_JSON_BYTES)
                check_size(config.decode("utf-8", "replace"))
                weights = plainio.open_regular(weights_path, MAX_MODEL_BYTES)
            except (ModelTooLarge, plainio.TamperError, FileNotFoundError) as exc:
                message = str(exc) if not isinstance(exc, FileNotFoundError) else "no model file"
                results[key] = (FAILED, f"the model could not be rebuilt safely: {message}")
                continue
            (tmp / f"m{k}.json").write_bytes(config)
            (tmp / f"m{k}.weights.h5").write_bytes(weights)
            plainio.write(tmp, f"e{k}", {"expected": expected}, mode=0o600)
            cases.append({"k": k, "question": question.id, "name": case.name})
        workers = len({case["question"] for case in cases})
        while cases:
            verdicts, failure, fresh = _run_worker(spec, tmp, cases, slot)
            for case in cases:
                verdict = verdicts.get(str(case["k"]))
                if isinstance(verdict, list) and len(verdict) == 2:
                    results[(case["question"], case["name"])] = (str(verdict[0]), str(verdict[1]))
            cases = [c for c in cases if (c["question"], c["name"]) not in results]
            if not cases:
                break
            if failure is not None and not fresh:
                continue  # judged again by a fresh worker: a verdict never depends on history
            workers -= 1
            if failure is None:  # it finished without a word on these
                failure = (FAILED, "the model could not be judged.")
                workers = 0
            results[(cases[0]["question"], cases[0]["name"])] = failure  # the case it was on
            cases = cases[1:]
            if workers <= 0:
                for case in cases:
                    results[(case["question"], case["name"])] = failure
                break
        return results
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _run_worker(spec, tmp: Path, cases: list[dict], slot: int):
    """Has the slot's worker judge ``cases``.

    Returns (verdicts it wrote, the failure that stopped it or None, whether the
    worker was fresh: a failure of a worker that judged other submissions before
    is not charged to this one).
    """
    job = {
        "lab": spec.lab,
        "questions_path": str(spec.questions_path) if spec.questions_path else None,
        "hidden_dir": str(spec.hidden_dir) if spec.hidden_dir else None,
        "cases": cases,
        "max_params": MAX_MODEL_PARAMS,
    }
    (tmp / "job.json").write_text(json.dumps(job))
    (tmp / "out.json").unlink(missing_ok=True)
    fresh, failure = _server(slot).run(tmp, MODEL_TIMEOUT)
    try:
        out = plainio.read_json(tmp / "out.json")
    except (FileNotFoundError, plainio.TamperError):
        out = None
    return (out if isinstance(out, dict) else {}), failure, fresh


def _failure(returncode: int, stderr: str) -> tuple[str, str]:
    memory = returncode < 0 or any(
        sign in stderr
        for sign in ("MemoryError", "ResourceExhausted", "bad_alloc", "Cannot allocate")
    )
    if memory:
        return (
            OOM,
            f"rebuilding the model needed more than {MODEL_ADDRESS_SPACE // 2**30} GiB of memory.",
        )
    return (FAILED, "the model could not be rebuilt safely: the check crashed.")


class _Server:
    """One grading slot's model worker, kept between submissions (TensorFlow imported once).

    The worker reads a job folder per line on its stdin and answers ``done`` on a
    private copy of its stdout once the folder's ``out.json`` is complete. It is
    killed (its whole process group) at a timeout, replaced after a crash or
    ``JOBS_PER_WORKER`` jobs, and ends by itself when the grader goes (end of
    its stdin).
    """

    def __init__(self):
        self.proc: subprocess.Popen | None = None
        self.log = None  # the worker's stderr, a temporary file
        self.jobs = 0
        self.cap = 0
        self.lock = threading.Lock()

    def _start(self):
        env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "TF_CPP_MIN_LOG_LEVEL": "3"}
        self.cap = MODEL_ADDRESS_SPACE
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "autograder.modeljudge", str(self.cap)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            env=env,
            start_new_session=True,  # a terminal's Ctrl-C stops the grader, not this judge
        )
        self.jobs = 0

    def stop(self):
        if self.proc is not None:
            if self.proc.poll() is None:  # never signal a reaped pid: it may be reused
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except OSError:
                    pass
            self.proc.wait()
            for pipe in (self.proc.stdin, self.proc.stdout):
                try:
                    pipe.close()
                except OSError:
                    pass
        if self.log is not None:
            self.log.close()
        self.proc = self.log = None

    def run(self, folder: Path, timeout: float) -> tuple[bool, tuple[str, str] | None]:
        with self.lock:
            stale = self.proc is None or self.proc.poll() is not None
            if stale or self.jobs >= JOBS_PER_WORKER or self.cap != MODEL_ADDRESS_SPACE:
                self.stop()
                self._start()
            fresh = self.jobs == 0
            start = os.fstat(self.log.fileno()).st_size
            deadline = time.monotonic() + timeout
            try:
                self.proc.stdin.write(f"{folder}\n".encode())
                self.proc.stdin.flush()
                answer = _read_line(self.proc.stdout.fileno(), deadline)
            except OSError:  # BrokenPipeError: it died before reading the job
                answer = b""
            if answer is None:
                self.stop()
                return fresh, (
                    TIMEOUT,
                    f"rebuilding and checking the model took more than {timeout:g} s.",
                )
            if answer == b"done":
                self.jobs += 1
                return fresh, None
            returncode = self.proc.wait()
            self.log.seek(start)
            stderr = self.log.read(1 << 20).decode("utf-8", "replace")
            self.stop()
            return fresh, _failure(returncode, stderr)


def _read_line(fd: int, deadline: float) -> bytes | None:
    """One line from fd, without its newline; b"" at its end, None at the deadline."""
    data = b""
    while not data.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            return None
        chunk = os.read(fd, 64)
        if not chunk:
            return b""
        data += chunk
    return data.strip()


_SERVERS: dict[int, _Server] = {}
_SERVERS_LOCK = threading.Lock()


def _server(slot: int) -> _Server:
    with _SERVERS_LOCK:
        if slot not in _SERVERS:
            _SERVERS[slot] = _Server()
        return _SERVERS[slot]


def close_workers() -> None:
    """Stops every slot's model worker (the end of a batch; also at exit)."""
    with _SERVERS_LOCK:
        servers = list(_SERVERS.values())
        _SERVERS.clear()
    for server in servers:
        with server.lock:
            server.stop()


atexit.register(close_workers)


# ---------------------------------------------------------------- the worker


def _worker(folder: Path, job: dict) -> None:
    from autograder.labspec import load_lab
    from cnnlabs.checks.modelio import rebuild_model
    from cnnlabs.checks.verdict import judge

    max_params = int(job.get("max_params") or MAX_MODEL_PARAMS)
    spec = load_lab(job["lab"], hidden_dir=job["hidden_dir"], questions_path=job["questions_path"])
    questions = {q.id: q for q in spec.questions}
    out = {}
    for item in job["cases"]:
        k, question = item["k"], questions[item["question"]]
        by_name = {c.name: c for c in (*question.public, *spec.hidden.get(question.id, ()))}
        case = by_name[item["name"]]
        expected = _read_expected(folder, k)
        try:
            model = rebuild_model((folder / f"m{k}.json").read_text(), folder / f"m{k}.weights.h5")
        except MemoryError:
            raise  # the exit status tells the grader
        except Exception as exc:
            out[str(k)] = (FAILED, f"the model could not be rebuilt safely: {exc}")
        else:
            n = model.count_params()
            if n > max_params:
                out[str(k)] = (FAILED, f"the model could not be rebuilt safely: {too_large(n)}")
            else:
                outcome = judge(question, case, expected, model)
                out[str(k)] = (outcome.status, outcome.message)
            del model
        # Each verdict is on disk before the next case starts: if that one kills the
        # worker, the grader keeps these and knows which case it was on.
        partial = folder / "out.json.part"
        partial.write_text(json.dumps(out))
        os.replace(partial, folder / "out.json")


def _read_expected(folder: Path, k: int):
    tree = plainio.read_json(folder / f"e{k}.json")
    arrays = plainio.read_arrays(folder / f"e{k}.npz") if (folder / f"e{k}.npz").exists() else {}
    return plainio.decode(tree, arrays)["expected"]


def main(argv=None) -> int:
    """Serves jobs: one folder per line on stdin, ``done`` on the original stdout after each."""
    argv = sys.argv[1:] if argv is None else argv
    cap = int(argv[0]) if argv else MODEL_ADDRESS_SPACE
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))  # before TensorFlow is imported
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    answers = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # whatever TensorFlow or Keras prints cannot be taken for an answer
    while line := sys.stdin.readline():
        folder = Path(line.strip())
        _worker(folder, json.loads((folder / "job.json").read_text()))
        _forget()
        answers.write("done\n")
        answers.flush()
    return 0


def _forget() -> None:
    """Drops what one job built, so the next one starts from the same state."""
    import gc

    import keras

    keras.backend.clear_session()
    gc.collect()


if __name__ == "__main__":
    raise SystemExit(main())
