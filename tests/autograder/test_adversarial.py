"""The adversarial corpus: each submission with the score it must get, graded as one batch.

Every notebook runs in the real sandbox through ``grade_batch`` (2 workers), the
code path of ``cnnlabs grade``. Cheating attempts must gain nothing and break
nothing; evidence of what a submission could read or reach is smuggled out
through its own answers (a correct answer only when the attack failed).

The corpus needs the strong sandbox (root: a separate uid, namespaces, a memory
cgroup). Where the machine cannot provide it the module is skipped with the
reason; in CI (``$CI`` set) that is a failure instead.
"""

from __future__ import annotations

import csv
import os
import secrets
import socket
import sys
import threading
from pathlib import Path

import nbfactory as f
import pytest

from autograder.batch import grade_batch
from autograder.sandbox import GiB, Limits, detect, processes_of_uid

ROOT = Path(__file__).resolve().parents[2]
TOKEN = secrets.token_hex(6)  # names of the files a submission tries to leave behind
LEFTOVER_DIRS = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock")
SUBMISSION_TIMEOUT = 45
GRADER_CMDLINE = Path("/proc/self/cmdline").read_text()
# First names under /root, /home and the checkout that the sandbox shows: the
# interpreter's folders, the cnnlabs package, autograder/ (plainio.py only), the
# fixture questions (tests/) and the sandbox's own HOME (/home/sandbox).
INTERPRETER_PARTS = {"sandbox", "cnnlabs", "autograder", "tests"} | {
    part
    for prefix in {sys.prefix, sys.base_prefix, os.path.realpath(sys.base_prefix)}
    for base in ("/root", "/home", str(ROOT))
    if prefix.startswith(base + "/")
    for part in [Path(prefix).relative_to(base).parts[0]]
}

S = f.SOLUTION
ST = f.STUDENT
SETUP, SHAPE, SIZE, RELU = S
WRONG_RELU = "def relu(x):\n    return abs(x)"
PWNED = Path("/tmp/cnnlabs-test-pwned")

LISTENER = socket.socket()
LISTENER.bind(("127.0.0.1", 0))
LISTENER.listen(5)
PORT = LISTENER.getsockname()[1]
CONNECTIONS: list = []


def _accept():
    LISTENER.settimeout(0.5)
    while True:
        try:
            CONNECTIONS.append(LISTENER.accept())
        except TimeoutError:
            continue
        except OSError:
            return


def evidence(attack: str) -> str:
    """A cell that sets conv1_output_shape right only if every attempt in `attack` failed."""
    body = "\n".join("    " + line for line in attack.strip().splitlines())
    return (
        "leaked = []\n"
        "def attempt():\n" + body + "\n"
        "try:\n    attempt()\nexcept BaseException as exc:\n    pass\n"
        "conv1_output_shape = (28, 28, 6) if not leaked else (0, 0, 0)\n"
    )


READ_SECRETS = evidence(f"""
import os, glob, subprocess
for path in [{str(f.HIDDEN / "99_fixture.py")!r}, {str(ROOT / ".git" / "HEAD")!r},
             {str(ROOT / "labs" / "hidden" / "01_lenet5.py")!r},
             {str(ROOT / "labs" / "source" / "01_lenet5.py")!r},
             {str(ROOT / "autograder" / "grade.py")!r}, SUBS + '/full.ipynb', '/root/.bashrc',
             '/etc/shadow']:
    try:
        open(path).read(); leaked.append(path)
    except Exception:
        pass
for folder in [{str(f.HIDDEN)!r}, OUT, SUBS, {str(ROOT / "solutions")!r},
               {str(ROOT / "labs")!r}, {str(ROOT / ".git")!r}]:
    try:
        if os.listdir(folder):
            leaked.append(folder)
    except Exception:
        pass
for folder in ['/root', '/home', {str(ROOT)!r}]:  # only what the kernel needs to run
    try:
        leaked.extend(sorted(set(os.listdir(folder)) - {sorted(INTERPRETER_PARTS)!r}))
    except Exception:
        pass
try:
    git = subprocess.run(['git', '-C', {str(ROOT)!r}, 'show', 'HEAD:README.md'],
                         capture_output=True, timeout=10)
    if git.returncode == 0:
        leaked.append('git')
except Exception:
    pass
for pattern in ['/tmp/cnnlabs-grade-*/**', '/tmp/cnnlabs-grade-*/logs/*']:
    for path in glob.glob(pattern, recursive=True):
        if os.path.isfile(path) and not path.startswith(os.getcwd() + '/'):
            try:
                open(path).read(); leaked.append(path)
            except Exception:
                pass
for pid in os.listdir('/proc'):
    if pid.isdigit():
        try:
            if open(f'/proc/{{pid}}/status').read().split('Uid:')[1].split()[0] == '0':
                if 'bwrap' not in open(f'/proc/{{pid}}/cmdline').read():
                    leaked.append('root process ' + pid)
            if open(f'/proc/{{pid}}/cmdline').read() == {GRADER_CMDLINE!r}:
                leaked.append('grader cmdline ' + pid)
        except Exception:
            pass
""")

NETWORK = evidence(f"""
import socket
for address in [('127.0.0.1', {PORT}), ('8.8.8.8', 53), ('1.1.1.1', 443)]:
    try:
        s = socket.create_connection(address, timeout=2); leaked.append(address); s.close()
    except OSError:
        pass
""")

FAKE_RESULTS = """
import glob, json, os
fake = json.dumps({"score": 999, "max_score": 5, "tests": [], "passed": True})
targets = [OUT, OUT + '/..', '/tmp', os.getcwd(), '/autograder/results']
targets += glob.glob('/tmp/cnnlabs-grade-*/*')
for folder in targets:
    for name in ['results.json', 'grade.json', 'grades.csv', 'summary.json']:
        try:
            open(os.path.join(folder, name), 'w').write(fake)
        except Exception:
            pass
for name in ['0000000000000000_out_relu_0', 'x_out_conv_size_0']:
    open(name + '.json', 'w').write('{"status": "ok", "value": {"i": "999"}, "score": 1}')
"""

PICKLE_NPZ = f"""
import numpy as np
class Evil:
    def __reduce__(self):
        import os
        return (os.system, ('touch {PWNED}',))
_real_savez = np.savez
def savez(file, **arrays):
    _real_savez(file, **{{key: np.array([Evil()], dtype=object) for key in arrays}})
np.savez = savez
"""

MONKEYPATCH = """
import numpy as np, unittest, cnnlabs.checks as cc, cnnlabs.checks.plain as cp
np.allclose = lambda *a, **k: True
np.isclose = lambda a, b, **k: np.ones_like(np.asarray(a), dtype=bool)
np.array_equal = lambda *a, **k: True
np.testing.assert_allclose = lambda *a, **k: None
unittest.TestCase.assertEqual = lambda *a, **k: None
cc.compare = cp.compare = lambda *a, **k: None
cc.judge = lambda *a, **k: None
cc.to_plain = cp.to_plain = lambda x, *a, **k: x
"""

ALWAYS_EQUAL = """
class Eq:
    def __eq__(self, other): return True
    def __ne__(self, other): return False
class EqInt(int):
    def __eq__(self, other): return True
conv1_output_shape = Eq()
def conv_output_size(size, kernel, stride=1, padding=0): return EqInt(0)
def relu(x): return Eq()
"""

TRANSFORMER = """
def hijack(lines):
    return ['pass\\n'] if any('_cnnlabs_export' in line for line in lines) else lines
get_ipython().input_transformers_cleanup.append(hijack)
"""

FORK = """
import os, time
for _ in range(400):
    try:
        if os.fork() == 0:
            time.sleep(3600); os._exit(0)
    except OSError:
        break
"""

NOISY = """
import sys, warnings, logging
for i in range(200):
    print(f'epoch {i} loss=0.{i}', end='\\r'); print('ERROR: totally fine', file=sys.stderr)
    warnings.warn('a warning'); logging.warning('log spam')
print('score: 0/5  all tests FAILED  {"score": 0}')
"""

HOG = """
import os, time
start = time.time() + 1  # all forked before the first one spins
hog_end = start + 15
for _ in range(60):
    if os.fork() == 0:
        os.setsid()
        time.sleep(max(0, start - time.time()))
        while time.time() < hog_end:
            pass
        os._exit(0)
"""
# Waits for the busy processes to stop, at most 5 s per cell: the kernel shares its
# sandbox's CPU with 60 of them, so each cell keeps 5 s of its 10 s limit for the
# starved kernel's round trip (a fixed 9 s sleep timed out on a loaded CI machine).
WAIT_FOR_HOG = "import time\ntime.sleep(min(5, max(0, hog_end + 1 - time.time())))"

LITTER = f"""
import os, json, hmac
for folder in {list(LEFTOVER_DIRS)!r}:
    try:
        with open(os.path.join(folder, 'cnnlabs-leftover-{TOKEN}'), 'wb') as handle:
            handle.write(b'x' * (100 * 2**20 if folder == '/dev/shm' else 10))
    except OSError:
        pass
for path in ['/run/lock/cnnlabs-sandbox-0.lock', '/run/lock/cnnlabs-sandbox-1.lock',
             '/run/cnnlabs/slot-0.lock', '/run/cnnlabs/slot-1.lock']:
    try:
        os.symlink('/etc/cnnlabs-leftover-{TOKEN}', path)
    except OSError:
        pass
kernel = get_ipython().kernel
for name in ('iopub_socket', 'shell_stream'):
    socket = getattr(getattr(kernel, name, None), 'socket', getattr(kernel, name, None))
    header = json.dumps({{'msg_id': 'x', 'msg_type': 'stream', 'session': 'x', 'username': 'x',
                         'date': '2020-01-01T00:00:00Z', 'version': '5.3'}}).encode()
    try:
        socket.send_multipart([b'<IDS|MSG>', b'forged-signature', header, b'{{}}', b'{{}}',
                               json.dumps({{'name': 'stdout', 'text': 'x'}}).encode()])
    except Exception:
        pass
"""

SLEEPY_HOOK = "import time\nget_ipython().events.register('pre_run_cell', lambda *a: time.sleep(9))"

CORPUS = {
    # name: (cells, expected score)
    "full": (S, 5.0),
    "untouched": (ST, 0.0),
    "partial": ([SETUP, SHAPE, SIZE, WRONG_RELU], 3.0),
    "noisy": ([NOISY, SETUP, NOISY, SHAPE, SIZE, NOISY, RELU, NOISY], 5.0),
    "reordered": ([SETUP, RELU, SIZE, SHAPE], 5.0),
    "crashing_cell": ([SETUP, "1/0", SHAPE, "raise ValueError('x')", SIZE, RELU], 5.0),
    "monkeypatch": (
        [
            SETUP,
            MONKEYPATCH,
            "conv1_output_shape = (1, 2, 3)",
            WRONG_RELU,
            "def conv_output_size(**k): return -1",
        ],
        0.0,
    ),
    "always_equal": ([SETUP, ALWAYS_EQUAL], 0.0),
    "input_transformer": ([*S, TRANSFORMER], 0.0),
    "read_secrets": ([SETUP, READ_SECRETS], 1.0),
    "network": ([SETUP, NETWORK], 1.0),
    "fake_results": ([SETUP, FAKE_RESULTS, SHAPE], 1.0),
    "pickle_npz": ([*S, PICKLE_NPZ], 3.0),
    "sys_exit": ([SETUP, "import sys; sys.exit(3)", SHAPE, "raise SystemExit", SIZE, RELU], 5.0),
    "os_exit_first": (["import os; os._exit(1)", *S], 5.0),
    "os_exit_last": ([*S, "import os; os._exit(0)"], 0.0),
    "kill_parent": (["import os, signal\nos.kill(os.getppid(), 9)\nos.killpg(0, 9)", *S], 5.0),
    "infinite_loop": ([SETUP, SHAPE, "while True: pass", SIZE, RELU], 5.0),
    "stubborn_loop": (
        [
            "while True:\n    try:\n        while True: pass\n"
            "    except KeyboardInterrupt:\n        pass",
            *S,
        ],
        5.0,
    ),
    "memory_bomb": (["chunks = [b'x' * 2**28 for _ in range(64)]", *S], 5.0),
    "fork_bomb": ([*S, FORK], 5.0),
    # 60 busy processes for 15 s while the other worker grades its neighbours; its own
    # export comes after they stop (test_sandbox.py measures the CPU share itself).
    "cpu_hog": ([*S, HOG, *[WAIT_FOR_HOG] * 5], 5.0),
    "litter": ([SETUP, LITTER, SHAPE, SIZE, RELU], 5.0),
    # 9 s before every cell, the export's included: the deadline comes during the cells.
    "sleepy_hook": ([SLEEPY_HOOK, *S, *S[1:]], 0.0),
    "huge_output": (
        ["import sys\nfor _ in range(150):\n    sys.stdout.write('x' * 10**6)", *S],
        5.0,
    ),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    f.strong_sandbox_or_skip()
    caps = detect()
    root = tmp_path_factory.mktemp("adversarial")
    out = root / "out"
    subs = root / "subs"
    subs.mkdir()
    for name, (cells, _) in CORPUS.items():
        cells = [c.replace("OUT", repr(str(out))).replace("SUBS", repr(str(subs))) for c in cells]
        f.write(subs / f"{name}.ipynb", cells)
    PWNED.unlink(missing_ok=True)
    thread = threading.Thread(target=_accept, daemon=True)
    thread.start()
    limits = Limits(memory_bytes=1 * GiB, cell_timeout=10, submission_timeout=SUBMISSION_TIMEOUT)
    batch = grade_batch(
        f.LAB,
        [subs],
        out,
        workers=2,
        hidden_dir=f.HIDDEN,
        questions_path=f.QUESTIONS,
        limits=limits,
        progress=False,
    )
    yield batch, caps, subs
    for folder in LEFTOVER_DIRS:  # only if the sandbox leaked them
        Path(folder, f"cnnlabs-leftover-{TOKEN}").unlink(missing_ok=True)


@pytest.mark.parametrize("name", list(CORPUS))
def test_each_submission_gets_exactly_its_expected_score(graded, name):
    batch, _, _ = graded
    result = next(r for r in batch.results if r.submission == name)
    reasons = {q.id: (q.status, q.reason) for q in result.questions}
    assert result.score == CORPUS[name][1], reasons
    assert [q.id for q in result.questions] == ["out_shape", "conv_size", "relu"]


def test_reasons_say_what_happened(graded):
    batch, _, _ = graded
    by = {r.submission: {q.id: q for q in r.questions} for r in batch.results}
    assert by["untouched"]["relu"].status == "not_attempted"
    assert by["always_equal"]["out_shape"].status == "failed"
    assert by["pickle_npz"]["relu"].status == "tampering"
    assert "killed the kernel" in by["os_exit_last"]["relu"].reason
    events = next(r for r in batch.results if r.submission == "memory_bomb").events
    assert events[0]["kind"] == "oom", events
    events = next(r for r in batch.results if r.submission == "stubborn_loop").events
    assert events[0]["where"] == "cell 1" and events[0]["kind"] == "timeout"
    errors = [r.submission for r in batch.results for q in r.questions if "grader" in q.status]
    assert errors == []


def test_every_result_records_the_sandbox_and_no_kernel_ran_as_root(graded):
    batch, caps, _ = graded
    for r in batch.results:
        assert r.sandbox == caps.describe()
        assert r.sandbox.startswith("strong (bwrap, uid, pidns, netns")
        assert r.sandbox_user.startswith("cnnlabs-sbx")


def test_the_timeout_bounds_the_whole_submission_export_included(graded):
    batch, _, _ = graded
    result = next(r for r in batch.results if r.submission == "sleepy_hook")
    assert SUBMISSION_TIMEOUT - 5 < result.seconds < SUBMISSION_TIMEOUT + 15, result.seconds
    assert {q.status for q in result.questions} == {"timeout"}, result.questions


def test_nothing_is_left_in_shared_temporary_places(graded):
    for folder in LEFTOVER_DIRS:
        assert not Path(folder, f"cnnlabs-leftover-{TOKEN}").exists(), folder
    assert not Path(f"/etc/cnnlabs-leftover-{TOKEN}").exists()


def test_no_pickle_was_loaded_and_no_connection_reached_the_host(graded):
    assert not PWNED.exists()
    assert CONNECTIONS == []


def test_csv_has_every_question_of_every_submission_and_fakes_changed_nothing(graded):
    batch, _, _ = graded
    rows = list(csv.DictReader((batch.out_dir / "grades.csv").open()))
    assert len(rows) == len(CORPUS) >= 20
    for row in rows:
        assert set(row) == {
            "submission",
            "out_shape",
            "conv_size",
            "relu",
            "total",
            "max_score",
            "status",
        }
        assert float(row["total"]) == CORPUS[row["submission"]][1]
    for name in CORPUS:
        data = (batch.out_dir / "submissions" / name / "results.json").read_text()
        assert '"score": 999' not in data
    assert not (batch.out_dir / "results.json").exists()


def test_no_process_of_any_submission_survives(graded):
    import pwd

    batch, caps, _ = graded
    users = {r.sandbox_user for r in batch.results if r.sandbox_user}
    assert bool(users) == caps.uid
    # Other graders on this machine may use the same users by now: a process of ours
    # carries its sandbox id in its command line (its scratch folder) or cgroup.
    ids = {r.sandbox_id for r in batch.results if r.sandbox_id}
    for user in users:
        for pid in processes_of_uid(pwd.getpwnam(user).pw_uid):
            try:
                seen = (
                    Path(f"/proc/{pid}/cmdline").read_text()
                    + Path(f"/proc/{pid}/cgroup").read_text()
                )
            except OSError:
                continue  # gone meanwhile
            assert not [i for i in ids if i in seen], (pid, seen)
    for base in (caps.cgroups.memory, caps.cgroups.pids, caps.cgroups.cpu):
        if base is not None:
            for r in batch.results:
                if r.sandbox_id:
                    assert not (base / f"cnnlabs-{r.sandbox_id}").exists()


def test_feedback_never_reveals_hidden_inputs_or_expected(graded):
    batch, _, _ = graded
    text = (batch.out_dir / "submissions" / "partial" / "feedback.md").read_text()
    assert "hidden 4-D tensor" in text and "(hidden): wrong answer" in text
    hidden_part = text.split("hidden 4-D tensor")[1]
    assert "expected" not in hidden_part and "array" not in hidden_part


def test_regrading_skips_unchanged_submissions(graded):
    import json

    from autograder.grade import grade_submission

    batch, _, subs = graded
    saved_file = batch.out_dir / "submissions" / "full" / "grade.json"
    saved = saved_file.read_bytes()
    again = grade_submission(
        f.LAB,
        subs / "full.ipynb",
        batch.out_dir / "submissions" / "full",
        hidden_dir=f.HIDDEN,
        questions_path=f.QUESTIONS,
        hidden_seed=batch.seed,  # the batch's run seed (a result depends on it)
    )
    assert again.reused
    # Nothing ran: the saved result comes back as it was (a new run would have its own
    # sandbox id and seconds) and grade.json is not rewritten.
    assert again.to_dict() == json.loads(saved)
    assert again.sandbox_id and saved_file.read_bytes() == saved
    assert again.score == 5.0 and again.seconds > 0


def test_grade_json_says_where_the_seconds_went(graded):
    import json

    batch, _, _ = graded
    result = next(r for r in batch.results if r.submission == "full")
    assert list(result.phases) == ["kernel start", "cells", "export", "judging"]
    assert all(seconds >= 0 for seconds in result.phases.values())
    assert sum(result.phases.values()) <= result.seconds
    saved = json.loads((batch.out_dir / "submissions" / "full" / "grade.json").read_text())
    assert saved["phases"] == result.phases
