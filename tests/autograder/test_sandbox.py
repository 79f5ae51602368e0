"""The sandbox itself: who the kernel runs as, what it sees, what it leaves, when it refuses.

Most tests start one short process in the real sandbox (no kernel, well under a
second each). They need root and bubblewrap; elsewhere they skip with the reason
(in CI, ``$CI`` set, that is a failure). The refusal rules (``machine.require``)
are checked on every machine.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import nbfactory as f
import pytest

from autograder import cgroups, machine, osusers
from autograder.machine import Capabilities, SandboxUnavailable
from autograder.sandbox import Limits, Sandbox

ROOT = Path(__file__).resolve().parents[2]


def strong_or_skip():
    caps = machine.detect()
    if caps.level == "strong" and caps.bwrap:
        return caps
    if os.environ.get("CI"):
        pytest.fail(f"CI must provide the strong sandbox with bubblewrap, got {caps.describe()}")
    pytest.skip(f"needs root and bubblewrap (the sandbox here is {caps.describe()})")


@pytest.fixture
def sandbox(tmp_path):
    strong_or_skip()
    base = tmp_path / "base"
    base.mkdir(mode=0o711)
    box = Sandbox(0, base, Limits(), expose=(f.QUESTIONS,))
    yield box
    box.close()


PROBE = r"""
import json, os, socket
seen = {}
seen["ids"] = [os.getuid(), os.geteuid(), os.getgid(), os.getgroups()]
status = open("/proc/self/status").read()
seen["caps"] = [l.split()[1] for l in status.splitlines() if l.startswith(("CapEff", "CapBnd"))]
seen["no_new_privs"] = [l.split()[1] for l in status.splitlines() if l.startswith("NoNewPrivs")]
seen["procs"] = sorted(
    open(f"/proc/{p}/cmdline").read().split("\0")[0] for p in os.listdir("/proc") if p.isdigit()
)
seen["network"] = sorted(os.listdir("/sys/class/net")) if os.path.isdir("/sys/class/net") else []
try:
    socket.create_connection(("127.0.0.1", 22), timeout=2)
    seen["connect"] = "connected"
except OSError as exc:
    seen["connect"] = type(exc).__name__
readable = []
for path in ["/root", "/home", ROOT, ROOT + "/.git", ROOT + "/labs", ROOT + "/solutions",
             ROOT + "/autograder", ROOT + "/tests/autograder/fixtures", "/run", "/var"]:
    try:
        readable.append([path, sorted(os.listdir(path))])
    except OSError as exc:
        readable.append([path, type(exc).__name__])
seen["listing"] = readable
for folder in ["/tmp", "/var/tmp", "/dev/shm", "/run/lock", os.environ["HOME"]]:
    with open(os.path.join(folder, "cnnlabs-leftover-" + TOKEN), "w") as handle:
        handle.write("x")
seen["home"] = os.environ["HOME"]
seen["cwd"] = os.getcwd()
print(json.dumps(seen))
"""


def run_probe(box, tmp_path):
    token = tmp_path.name
    code = PROBE.replace("ROOT", repr(str(ROOT))).replace("TOKEN", repr(token))
    code = code.replace(repr(str(ROOT)) + " + ", repr(str(ROOT)) + "+")
    proc = subprocess.run(
        box.command([sys.executable, "-c", code]),
        env=box.env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout), token


def test_the_process_runs_as_the_slot_user_without_privileges(sandbox, tmp_path):
    seen, _ = run_probe(sandbox, tmp_path)
    assert sandbox.uid not in (None, 0) and sandbox.gid != 0
    assert seen["ids"] == [sandbox.uid, sandbox.uid, sandbox.gid, []]
    assert seen["caps"] == ["0000000000000000", "0000000000000000"]
    assert seen["no_new_privs"] == ["1"]
    assert seen["cwd"] == str(sandbox.scratch) and seen["home"] == "/home/sandbox"


def test_only_the_sandbox_processes_and_no_network_are_visible(sandbox, tmp_path):
    seen, _ = run_probe(sandbox, tmp_path)
    assert seen["procs"] == sorted([machine.detect().bwrap, sys.executable]), seen["procs"]
    assert seen["connect"] in ("OSError", "ConnectionRefusedError")
    assert seen["network"] in ([], ["lo"])


def test_only_the_interpreter_and_the_cnnlabs_package_are_visible(sandbox, tmp_path):
    listing = dict(map(tuple, run_probe(sandbox, tmp_path)[0]["listing"]))
    root = str(ROOT)
    venv_parts = [Path(p).relative_to(ROOT).parts[0] for p in [sys.prefix] if p.startswith(root)]
    assert listing[root] == sorted(["autograder", "cnnlabs", "tests", *venv_parts])
    assert listing[root + "/autograder"] == ["__init__.py", "plainio.py"]
    assert listing[root + "/tests/autograder/fixtures"] == ["lab99_fixture.py"]  # not hidden/
    for secret in (".git", "labs", "solutions"):
        assert listing[f"{root}/{secret}"] == "FileNotFoundError"
    assert listing["/run"] == ["lock"]
    assert listing["/var"] == ["tmp"]
    assert listing["/home"] == ["sandbox"]


def test_private_writable_places_are_gone_with_the_sandbox(sandbox, tmp_path):
    _, token = run_probe(sandbox, tmp_path)
    sandbox.close()
    for folder in ("/tmp", "/var/tmp", "/dev/shm", "/run/lock"):
        assert not Path(folder, f"cnnlabs-leftover-{token}").exists()
    assert not sandbox.scratch.exists()
    assert sandbox.pids() == set()
    if sandbox.group is not None:
        assert not any(path.exists() for path in sandbox.group.paths.values())


def test_kernel_log_is_private(sandbox):
    mode = os.stat(sandbox.log_path).st_mode
    assert stat.S_IMODE(mode) == 0o600
    assert stat.S_IMODE(os.stat(sandbox.log_path.parent).st_mode) == 0o700


# ---------------------------------------------------------------- locks


needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="sandbox users and locks need root")


@needs_root
def test_a_lock_folder_others_can_write_is_refused(tmp_path):
    folder = tmp_path / "locks"
    folder.mkdir()
    os.chmod(folder, 0o1777)
    with pytest.raises(RuntimeError) as info:
        osusers.lock_dir(folder)
    assert str(info.value) == (
        f"{folder} must be a folder owned by uid 0 with mode 0700 (found mode drwxrwxrwt, "
        f"owner uid 0); remove it (rm -rf {folder}) and grade again."
    )


@needs_root
def test_a_symlink_planted_at_a_lock_path_costs_only_that_slot(tmp_path):
    # The users it takes through its own lock folder are first locked in the real one:
    # taking a user kills that user's processes, which must never be another grader's
    # kernel (the tests of other files grade at the same time, as cnnlabs-sbx0, 1, ...).
    held = [osusers.acquire_user(40)]
    held.append(osusers.acquire_user(held[0][0] + 1))
    try:
        first = held[0][0]
        assert held[1][0] == first + 1
        folder = tmp_path / "locks"
        osusers.lock_dir(folder)
        target = tmp_path / "victim"
        (folder / f"slot-{first}.lock").symlink_to(target)
        slot, uid, gid, fd = osusers.acquire_user(first, folder=folder)
        os.close(fd)
        assert slot == first + 1 and uid != 0
        assert not target.exists()
    finally:
        for *_, lock in held:
            os.close(lock)


# ---------------------------------------------------------------- fail closed


def caps(**changes) -> Capabilities:
    strong = Capabilities(
        root=True,
        bwrap="/usr/bin/bwrap",
        uid=True,
        netns=True,
        mountns=True,
        pidns=True,
        cgroups=cgroups.Layout(1, memory=Path("/sys/fs/cgroup/memory")),
        mechanisms=("bwrap", "uid", "netns", "cgroup-v1-memory", "rlimit"),
    )
    return replace(strong, **changes)


def test_strong_machine_is_accepted():
    assert machine.require(caps(), allow_weak=False).level == "strong"


def test_root_without_a_separate_uid_is_always_refused(monkeypatch):
    monkeypatch.setattr(machine.shutil, "which", lambda name: f"/usr/bin/{name}")
    for allow_weak in (False, True):
        with pytest.raises(SandboxUnavailable) as info:
            machine.require(caps(uid=False, bwrap=None), allow_weak=allow_weak)
        assert str(info.value) == (
            "refusing to grade: a kernel would run as root. Missing: a separate uid: the "
            "interpreter is not reachable by other users and bubblewrap is missing or not "
            "working; `apt-get install bubblewrap`. Or run `sudo bash scripts/bootstrap.sh` "
            "(installs bubblewrap). See docs/grading.md, 'Machine set-up'."
        )


def test_no_network_isolation_or_memory_limit_is_refused():
    with pytest.raises(SandboxUnavailable) as info:
        machine.require(caps(netns=False, cgroups=cgroups.Layout(0)), allow_weak=True)
    assert str(info.value) == (
        "refusing to grade: the sandbox is not strong enough for untrusted notebooks. "
        "Missing: no network: bubblewrap is missing; `apt-get install bubblewrap`; a memory "
        "limit: no writable memory cgroup under /sys/fs/cgroup (on Docker: `docker run "
        "--privileged` or `--cgroupns=private` with a writable cgroup v2 mount). Or run `sudo "
        "bash scripts/bootstrap.sh` (installs bubblewrap). See docs/grading.md, "
        "'Machine set-up'."
    )


def test_a_non_root_user_needs_allow_weak_sandbox():
    weak = caps(root=False, uid=False, netns=False, bwrap=None, cgroups=cgroups.Layout(0))
    with pytest.raises(SandboxUnavailable) as info:
        machine.require(weak, allow_weak=False)
    assert str(info.value) == (
        "refusing to grade: the sandbox is not strong enough for untrusted notebooks. "
        "Missing: a separate uid for the kernel (the grader is not root): run `sudo cnnlabs "
        "grade ...`. Or run `sudo bash scripts/bootstrap.sh` (installs bubblewrap). See "
        "docs/grading.md, 'Machine set-up'. To try your own notebooks without it, add "
        "--allow-weak-sandbox."
    )
    assert machine.require(weak, allow_weak=True) is weak


def test_gradescope_minimum_is_the_separate_uid(monkeypatch):
    monkeypatch.setenv(machine.MINIMUM_ENV, "uid")
    no_ns = caps(netns=False, bwrap=None, cgroups=cgroups.Layout(0))
    assert machine.require(no_ns, allow_weak=False) is no_ns
    with pytest.raises(SandboxUnavailable):
        machine.require(caps(uid=False, bwrap=None), allow_weak=False)


# ---------------------------------------------------------------- interpreter behind 0700


@needs_root
def test_grading_works_with_the_interpreter_behind_a_0700_folder(tmp_path):
    """The venv reached only through a 0700 folder: bubblewrap binds it; no kernel runs as root."""
    strong_or_skip()
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    venv = private / "venv"
    venv.symlink_to(sys.prefix)
    python = venv / "bin" / "python"
    notebook = f.write(
        tmp_path / "uid.ipynb",
        [
            *f.SOLUTION,
            "import os\nconv1_output_shape = (28, 28, 6) if os.getuid() != 0 else (0, 0, 0)",
        ],
    )
    code = (
        "import json, sys\nfrom autograder.grade import grade_submission\n"
        f"r = grade_submission('99_fixture', {str(notebook)!r}, {str(tmp_path / 'out')!r}, "
        f"hidden_dir={str(f.HIDDEN)!r}, questions_path={str(f.QUESTIONS)!r})\n"
        "print(json.dumps([sys.prefix, r.score, r.sandbox_user, r.sandbox]))"
    )
    proc = subprocess.run(
        [str(python), "-c", code], capture_output=True, text=True, timeout=300, cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    prefix, score, user, described = json.loads(proc.stdout.splitlines()[-1])
    assert prefix == str(venv)  # the interpreter really ran from behind the 0700 folder
    assert score == 5.0 and user.startswith("cnnlabs-sbx")
    assert described.startswith("strong (bwrap, uid")


# ---------------------------------------------------------------- the CLI fails closed


def cli_grade(tmp_path, env_changes, *extra):
    subs = tmp_path / "subs"
    subs.mkdir(exist_ok=True)
    f.write(subs / "alice.ipynb", f.SOLUTION)
    env = {**os.environ, "CNNLABS_QUESTIONS_FILE": str(f.QUESTIONS), **env_changes}
    command = [sys.executable, "-m", "cnnlabs", "grade", f.LAB, str(subs)]
    command += ["--out", str(tmp_path / "out"), "--hidden", str(f.HIDDEN), *extra]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)


@needs_root
def test_cli_refuses_when_a_kernel_would_run_as_root(tmp_path):
    # Without bubblewrap and the uid mechanism (e.g. an interpreter under a 0700 /root),
    # the old grader ran every kernel as root; now it stops before grading anyone.
    for extra in ((), ("--allow-weak-sandbox",)):
        proc = cli_grade(tmp_path, {"CNNLABS_SANDBOX_DISABLE": "bwrap,uid"}, *extra)
        assert proc.returncode == 2
        assert proc.stdout == ""
        assert proc.stderr.startswith(
            "cnnlabs grade: error: refusing to grade: a kernel would run as root. Missing: a "
            "separate uid: "
        )
        assert proc.stderr.endswith(
            "Or run `sudo bash scripts/bootstrap.sh` (installs bubblewrap). See "
            "docs/grading.md, 'Machine set-up'.\n"
        )
        assert not (tmp_path / "out" / "grades.csv").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="the weak sandbox is for non-root users")
def test_cli_as_a_non_root_user_refuses_unless_weak_is_allowed(tmp_path):
    proc = cli_grade(tmp_path, {})
    assert proc.returncode == 2
    assert "--allow-weak-sandbox" in proc.stderr and not (tmp_path / "out").exists()
    proc = cli_grade(tmp_path, {}, "--allow-weak-sandbox")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("sandbox: weak (rlimit)\nwarning: weak sandbox")


def test_a_sandbox_that_cannot_start_python_stops_the_run_before_anyone_is_graded(tmp_path):
    strong_or_skip()
    from autograder.sandbox import preflight

    marker = tmp_path / "uncached"  # preflight results are cached per set of exposed paths
    marker.write_text("")
    with pytest.raises(SandboxUnavailable) as info:
        preflight(Limits(memory_bytes=8 * 2**20), expose=(marker,))  # Python needs more
    assert str(info.value).startswith(
        "refusing to grade: a kernel cannot start inside the sandbox (strong (bwrap, uid, "
    )
    assert str(info.value).endswith(
        "): exit code 137, out of memory (Limits.memory_bytes=8388608): "
    )


# ---------------------------------------------------------------- CPU share

SPIN = """
import os, time
stop = time.time() + 10
for _ in range(60):
    if os.fork() == 0:
        os.setsid()
        while time.time() < stop:
            pass
        os._exit(0)
time.sleep(10)
"""

WORK = "import time\nt = time.perf_counter()\nx = 0\nfor i in range(10**7): x += i\nprint(time.perf_counter() - t)"


def test_a_sandbox_full_of_busy_processes_does_not_starve_its_neighbour(tmp_path):
    """60 spinning processes in one sandbox; the other still gets its share of the CPU."""
    caps = strong_or_skip()
    if caps.cgroups.cpu is None:
        pytest.skip("no cpu cgroup controller here")
    boxes = []
    for name in ("hog", "honest"):
        base = tmp_path / name
        base.mkdir(mode=0o711)
        boxes.append(Sandbox(0, base, Limits()))
    hog, honest = boxes

    def work() -> float:
        cmd = honest.command([sys.executable, "-c", WORK])
        proc = subprocess.run(cmd, env=honest.env(), capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        return float(proc.stdout)

    try:
        alone = work()
        spinner = subprocess.Popen(hog.command([sys.executable, "-c", SPIN]), env=hog.env())
        time.sleep(1.5)
        beside_hog = work()
        spinner.kill()
        spinner.wait()
    finally:
        for box in boxes:
            box.close()
    # Without a CPU share the honest loop gets 2/61 of this 2-core machine (3x to 15x slower,
    # depending on the machine's other load); with it about half the machine.
    assert beside_hog < 2.5 * alone, (alone, beside_hog)


@needs_root
def test_gradescope_entry_point_refuses_when_a_kernel_would_run_as_root(tmp_path):
    root = tmp_path / "autograder"
    (root / "submission").mkdir(parents=True)
    f.write(root / "submission" / "lab.ipynb", f.SOLUTION)
    env = {
        **os.environ,
        "CNNLABS_GRADESCOPE_ROOT": str(root),
        "CNNLABS_SANDBOX_DISABLE": "bwrap,uid",
        machine.MINIMUM_ENV: "uid",
    }
    command = [sys.executable, "-m", "autograder.gradescope", "--lab", f.LAB]
    command += ["--questions", str(f.QUESTIONS), "--hidden", str(f.HIDDEN)]
    proc = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.startswith(
        "cnnlabs: refusing to grade: a kernel would run as root. Missing: a separate uid: "
    ), proc.stderr
    assert not (root / "results" / "results.json").exists()
