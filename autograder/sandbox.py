"""The sandbox a student's kernel runs in: detect what the machine offers, use the strongest.

Mechanisms, strongest first (each is used when available and reported):

- ``uid``: a separate unprivileged system user per worker slot
  (``cnnlabs-sbx0``, ``cnnlabs-sbx1``, ...), created with ``useradd`` when the
  grader runs as root. The grader's files (output folder, hidden tests copy) are
  root-only; each scratch folder belongs to its slot's user, mode 0700.
- ``netns``: ``unshare --net``: the kernel gets a network namespace with no
  interface up (loopback included). The kernel talks to the grader over Unix
  sockets (ZMQ ``ipc`` transport) in its scratch folder.
- ``mountns``: ``unshare --mount``: inside, tmpfs is mounted over the hidden-tests
  folder, the output folder and ``/root``, so they are not even visible.
- ``cgroup``: cgroup v1/v2 ``memory`` (limit, OOM detection) and ``pids`` (fork
  bombs) per submission; every process in it is killed at the end.
- ``rlimit``: always: RLIMIT_CPU, RLIMIT_NPROC (per slot user), RLIMIT_FSIZE,
  RLIMIT_CORE=0, and RLIMIT_AS when there is no memory cgroup.

Without root only ``rlimit`` and a scrubbed environment remain: the level is
then "weak" and ``cnnlabs grade`` says so.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

GiB = 2**30
USER_PREFIX = "cnnlabs-sbx"
CGROUP_V1 = Path("/sys/fs/cgroup")
ENV_ALLOW = (
    "LANG",
    "LC_ALL",
    "TZ",
    "TF_CPP_MIN_LOG_LEVEL",
    "OMP_NUM_THREADS",
    "CUDA_VISIBLE_DEVICES",
)


@dataclass(frozen=True)
class Limits:
    """Resource limits of one submission's kernel."""

    memory_bytes: int = 6 * GiB  # resident memory (cgroup) of the kernel and its children
    address_space_bytes: int = 32 * GiB  # RLIMIT_AS fallback (TF reserves lots of virtual memory)
    cpu_seconds: int = 900  # RLIMIT_CPU per process
    max_processes: int = 256  # pids cgroup / RLIMIT_NPROC per slot user (TF needs threads)
    max_file_bytes: int = 512 * 2**20  # RLIMIT_FSIZE
    cell_timeout: float = 120.0  # wall-clock seconds per cell
    submission_timeout: float = 900.0  # wall-clock seconds per submission


@dataclass(frozen=True)
class Capabilities:
    root: bool
    uid: bool
    netns: bool
    mountns: bool
    cgroup_memory: Path | None
    cgroup_pids: Path | None
    mechanisms: tuple[str, ...] = field(default_factory=tuple)

    @property
    def level(self) -> str:
        """ "strong" (uid+netns+cgroup), "medium" (some isolation) or "weak" (rlimits only)."""
        if self.uid and self.netns and self.cgroup_memory:
            return "strong"
        if self.uid or self.netns:
            return "medium"
        return "weak"

    def describe(self) -> str:
        return f"{self.level} ({', '.join(self.mechanisms)})"


def _works(cmd: list[str]) -> bool:
    try:
        return subprocess.run(cmd, capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def reachable_by_others(path: str) -> bool:
    """True when every folder above ``path`` lets other users through (o+x)."""
    current = Path(os.path.realpath(path))
    for folder in current.parents:
        try:
            if not os.stat(folder).st_mode & 0o001:
                return False
        except OSError:
            return False
    return True


def _cgroup_dir(controller: str) -> Path | None:
    for base in (CGROUP_V1 / controller,):
        probe = base / f"cnnlabs-probe-{os.getpid()}"
        try:
            probe.mkdir()
            probe.rmdir()
            return base
        except OSError:
            continue
    return None


_CAPS: Capabilities | None = None


def detect(refresh: bool = False) -> Capabilities:
    """Probes the machine once: root, useradd, unshare, cgroups."""
    global _CAPS
    if _CAPS is not None and not refresh:
        return _CAPS
    root = os.geteuid() == 0
    disabled = set(os.environ.get("CNNLABS_SANDBOX_DISABLE", "").split(","))
    uid = (
        root
        and shutil.which("useradd") is not None
        and "uid" not in disabled
        and reachable_by_others(sys.executable)
        and reachable_by_others(__file__)
    )
    unshare = shutil.which("unshare")
    netns = bool(
        root and unshare and "netns" not in disabled and _works([unshare, "--net", "true"])
    )
    mountns = bool(
        root and unshare and "mountns" not in disabled and _works([unshare, "--mount", "true"])
    )
    mem = _cgroup_dir("memory") if root and "cgroup" not in disabled else None
    pids = _cgroup_dir("pids") if root and "cgroup" not in disabled else None
    mechanisms = [
        name
        for name, ok in (
            ("uid", uid),
            ("netns", netns),
            ("mountns", mountns),
            ("cgroup-memory", mem),
            ("cgroup-pids", pids),
        )
        if ok
    ]
    mechanisms.append("rlimit")
    _CAPS = Capabilities(root, uid, netns, mountns, mem, pids, tuple(mechanisms))
    return _CAPS


def ensure_user(slot: int) -> tuple[int, int]:
    """The (uid, gid) of the sandbox user of a worker slot, created if needed."""
    name = f"{USER_PREFIX}{slot}"
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        subprocess.run(
            [
                "useradd",
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                "--user-group",
                name,
            ],
            check=False,
            capture_output=True,
        )
        entry = pwd.getpwnam(name)
    return entry.pw_uid, entry.pw_gid


def processes_of_uid(uid: int, zombies: bool = False) -> list[int]:
    """Pids of the processes whose real uid is ``uid`` (zombies only when asked)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as handle:
                state = ""
                for line in handle:
                    if line.startswith("State:"):
                        state = line.split()[1]
                    elif line.startswith("Uid:"):
                        if int(line.split()[1]) == uid and (zombies or state != "Z"):
                            found.append(int(entry))
                        break
        except (OSError, ValueError, IndexError):
            continue
    return found


def kill_uid(uid: int) -> None:
    """SIGKILLs every process of ``uid`` at once, fork bombs included.

    A child of ours takes the uid and calls ``kill(-1, SIGKILL)``: the kernel signals all
    processes that uid may signal in one pass that new forks cannot race (a pid-by-pid
    loop can fall behind a fork bomb). Only for the sandbox users, never a real user.
    """
    if uid == 0:
        raise ValueError("kill_uid(0) would kill the whole machine")
    pid = os.fork()
    if pid == 0:  # the child: only system calls until _exit
        try:
            os.setresgid(65534, 65534, 65534)
            os.setgroups([])
            os.setresuid(uid, uid, uid)
            os.kill(-1, signal.SIGKILL)
        except OSError:
            pass
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


def wait_until_gone(uid: int, timeout: float = 10.0) -> bool:
    """Kills ``uid``'s processes until none is left; True when none is left in time.

    Killed processes still count against the user's RLIMIT_NPROC until they are
    reaped, so the next kernel of this user could not start threads if we left early.
    """
    deadline = time.monotonic() + timeout
    while True:
        kill_uid(uid)
        for pid in processes_of_uid(uid, zombies=True):
            try:  # our own dead children (the kernel) are reaped here
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
        if not processes_of_uid(uid, zombies=True):
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


LOCK_DIR = Path("/run/lock") if Path("/run/lock").is_dir() else Path("/tmp")


def acquire_user(hint: int = 0, tries: int = 64):
    """Locks a sandbox user no other grading process on this machine is using.

    Returns (slot, uid, gid, lock_fd). Each user is used by one sandbox at a time,
    so killing all of its processes never touches another grader's kernel.
    """
    import fcntl

    for offset in range(tries):
        slot = hint + offset
        path = LOCK_DIR / f"cnnlabs-sandbox-{slot}.lock"
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue
        uid, gid = ensure_user(slot)
        if not wait_until_gone(uid):  # orphans of an earlier grader, reaped or not
            os.close(fd)
            continue  # this user still has processes: take another
        return slot, uid, gid, fd
    raise RuntimeError(f"no free sandbox user among {tries} ({USER_PREFIX}N); too many graders?")


class Sandbox:
    """One submission's sandbox: scratch folder, cgroups, kernel command, clean-up.

    Args:
        slot: int, the worker slot (one sandbox user per slot).
        base: Path, a root-owned folder holding the scratch folders.
        limits: Limits.
        hide: paths made invisible (mount namespace) or at least unreadable.
    """

    def __init__(self, slot: int, base: Path, limits: Limits, hide: tuple[Path, ...] = ()):
        self.caps = detect()
        self.limits = limits
        self.slot = slot
        self.hide = tuple(Path(p).resolve() for p in hide if Path(p).exists())
        self.id = secrets.token_hex(6)
        self.scratch = Path(base) / f"s{slot}-{self.id}"
        self.scratch.mkdir(mode=0o700)
        self.uid = self.gid = self._lock = None
        if self.caps.uid:
            self.slot, self.uid, self.gid, self._lock = acquire_user(slot)
        if self.uid is not None:
            os.chown(self.scratch, self.uid, self.gid)
        self.cgroups: list[Path] = []
        for base_dir in (self.caps.cgroup_memory, self.caps.cgroup_pids):
            if base_dir is not None:
                path = base_dir / f"cnnlabs-{self.id}"
                path.mkdir()
                self.cgroups.append(path)
        self._configure_cgroups()

    def _configure_cgroups(self):
        for path in self.cgroups:
            if path.parent.name == "memory":
                (path / "memory.limit_in_bytes").write_text(str(self.limits.memory_bytes))
                swap = path / "memory.memsw.limit_in_bytes"
                if swap.exists():
                    try:
                        swap.write_text(str(self.limits.memory_bytes))
                    except OSError:
                        pass
            elif path.parent.name == "pids":
                (path / "pids.max").write_text(str(self.limits.max_processes))

    @property
    def level(self) -> str:
        return self.caps.level

    def env(self) -> dict[str, str]:
        """The kernel's environment: an allow-list, nothing secret."""
        env = {k: os.environ[k] for k in ENV_ALLOW if k in os.environ}
        env.update(
            PATH=os.path.dirname(sys.executable) + ":/usr/local/bin:/usr/bin:/bin",
            HOME=str(self.scratch),
            TMPDIR=str(self.scratch),
            MPLBACKEND="Agg",
            MPLCONFIGDIR=str(self.scratch / ".mpl"),
            PYTHONDONTWRITEBYTECODE="1",
            TF_CPP_MIN_LOG_LEVEL=env.get("TF_CPP_MIN_LOG_LEVEL", "2"),
            CNNLABS_PROFILE="smoke",
            CNNLABS_GRADING="1",
            CNNLABS_SEED=os.environ.get("CNNLABS_SEED", "0"),
        )
        for key in ("CNNLABS_DATA_DIR", "KERAS_HOME"):
            if key in os.environ:
                env[key] = os.environ[key]
        return env

    def kernel_command(self) -> list[str]:
        """The command line that starts the kernel inside the sandbox."""
        cmd: list[str] = []
        if self.caps.netns or self.caps.mountns:
            cmd += [shutil.which("unshare")]
            if self.caps.netns:
                cmd.append("--net")
            if self.caps.mountns:
                cmd += ["--mount", "--propagation", "private"]
            cmd.append("--")
        cmd += [sys.executable, "-m", "autograder.launcher", "--scratch", str(self.scratch)]
        if self.uid is not None:
            cmd += ["--uid", str(self.uid), "--gid", str(self.gid)]
        for path in self.cgroups:
            cmd += ["--cgroup", str(path)]
        if self.caps.mountns:
            for path in self.hide:
                cmd += ["--hide", str(path)]
        lim = self.limits
        cmd += [
            "--cpu",
            str(lim.cpu_seconds),
            "--nproc",
            str(lim.max_processes),
            "--fsize",
            str(lim.max_file_bytes),
        ]
        if self.caps.cgroup_memory is None:
            cmd += ["--as", str(lim.address_space_bytes)]
        cmd += ["--", sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
        return cmd

    def oom_killed(self) -> bool:
        """True when the memory cgroup hit its limit (an OOM kill happened)."""
        for path in self.cgroups:
            control = path / "memory.oom_control"
            if control.exists():
                text = control.read_text()
                for line in text.splitlines():
                    if line.startswith("oom_kill ") and int(line.split()[1]) > 0:
                        return True
                failcnt = path / "memory.failcnt"
                if failcnt.exists() and int(failcnt.read_text() or 0) > 0 and "under_oom 1" in text:
                    return True
        return False

    def pids(self) -> set[int]:
        """Every live process that belongs to this sandbox."""
        found: set[int] = set()
        for path in self.cgroups:
            try:
                found.update(int(p) for p in (path / "cgroup.procs").read_text().split())
            except OSError:
                pass
        if self.uid is not None:
            found.update(processes_of_uid(self.uid))
        return found

    def kill_all(self, pgid: int | None = None) -> None:
        """Kills every process of the sandbox (cgroup members, slot uid, process group)."""
        if pgid is not None:
            try:
                os.killpg(pgid, signal.SIGKILL)
            except OSError:
                pass
        if self.uid is not None:
            wait_until_gone(self.uid)
        for _ in range(50):
            pids = self.pids()
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.05)

    def close(self, pgid: int | None = None) -> None:
        """Kills everything, removes cgroups and the scratch folder."""
        self.kill_all(pgid)
        for path in self.cgroups:
            for _ in range(40):
                try:
                    path.rmdir()
                    break
                except OSError:
                    time.sleep(0.05)
        shutil.rmtree(self.scratch, ignore_errors=True)
        if self._lock is not None:
            os.close(self._lock)  # releases the user
            self._lock = None
