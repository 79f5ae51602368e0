"""The sandbox a student's kernel runs in: bubblewrap, a separate uid and cgroups.

The kernel command is ``python -m autograder.launcher`` (root: joins the
submission's cgroups, sets rlimits) which execs ``bwrap``:

- new PID, network (no interface but a down loopback), IPC, UTS, mount and, where
  possible, cgroup namespaces; ``--die-with-parent``, ``--new-session``;
- a root made only of read-only binds: ``/usr``, ``/etc``, the ``/bin`` ``/lib*``
  links, the interpreter (``sys.prefix``, ``sys.base_prefix`` and their real paths,
  wherever they live: a pyenv under a 0700 ``/root`` works without a chmod), the
  ``cnnlabs`` package and ``autograder/plainio.py`` (used by the export code),
  the questions file and the datasets. No checkout, no ``.git``, no ``solutions/``,
  ``labs/``, hidden tests, other submissions or grader output;
- a fresh ``/proc`` (only the sandbox's processes) and a minimal ``/dev``;
- private size-capped tmpfs ``/tmp``, ``/var/tmp``, ``/dev/shm``, ``/run/lock`` and
  HOME, gone with the sandbox (their pages count against its memory cgroup);
- the scratch folder (notebook inputs, answers, the kernel's ipc sockets) bound
  read-write at its own path;
- then ``setpriv`` drops to the slot's user (``cnnlabs-sbxN``), clears the groups,
  sets no-new-privs and empties the capability sets.

The submission's cgroups (memory, pids, cpu: ``autograder.cgroups``) are created
on whichever layout the machine mounts: cgroup v1, one hierarchy per controller
(the course's Debian machines and CI), or v2, the unified hierarchy; both are
supported and tested, and ``describe()`` names the one in use.

Without bubblewrap the old mechanism is used (``unshare --net --mount``, tmpfs over
the grader's folders, ``setuid`` in the launcher) when the interpreter is reachable
by other users; ``describe()`` says which ran. ``machine.require`` refuses to grade
when the kernel would run as root or without network and memory isolation.
"""

from __future__ import annotations

import importlib.util
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from autograder import cgroups, osusers
from autograder.machine import Capabilities, SandboxUnavailable, detect, require
from autograder.osusers import USER_PREFIX, processes_of_uid

__all__ = [
    "GiB",
    "USER_PREFIX",
    "Capabilities",
    "Limits",
    "Sandbox",
    "SandboxUnavailable",
    "detect",
    "preflight",
    "processes_of_uid",
    "require",
]

GiB = 2**30
MiB = 2**20
HOME = "/home/sandbox"
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
    max_file_bytes: int = 512 * MiB  # RLIMIT_FSIZE
    tmpfs_bytes: int = 256 * MiB  # each private tmpfs (/tmp, /var/tmp, /dev/shm, HOME)
    cpu_weight: int = 100  # cgroup CPU share, equal between sandboxes
    cpus: float | None = None  # a hard CPU quota (cpu.cfs_quota_us on v1, cpu.max on v2); none by default
    cell_timeout: float = 120.0  # wall-clock seconds per cell
    submission_timeout: float = 900.0  # wall-clock seconds per submission, export included


def _dirs_of(path: str) -> list[str]:
    """``path`` and its real path (a symlinked venv or pyenv shim resolves elsewhere)."""
    found = [os.path.abspath(path), os.path.realpath(path)]
    return list(dict.fromkeys(found))


def interpreter_paths() -> list[str]:
    """Everything the interpreter needs, read-only: prefixes and site-packages, real paths too."""
    import site
    import sysconfig

    paths = []
    for prefix in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix):
        paths += _dirs_of(prefix)
    paths += _dirs_of(os.path.dirname(os.path.realpath(sys.executable)))
    for name in ("purelib", "platlib", "stdlib", "platstdlib"):
        paths += _dirs_of(sysconfig.get_paths()[name])
    for folder in site.getsitepackages():
        paths += _dirs_of(folder)
    return [p for p in dict.fromkeys(paths) if os.path.exists(p)]


def package_paths() -> list[str]:
    """The ``cnnlabs`` package and the two ``autograder`` files the export code imports."""
    paths = []
    spec = importlib.util.find_spec("cnnlabs")
    for location in spec.submodule_search_locations:
        paths += _dirs_of(location)
    for module in ("autograder", "autograder.plainio"):
        origin = importlib.util.find_spec(module).origin
        paths += _dirs_of(origin)
    return list(dict.fromkeys(paths))


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


class _Root:
    """Builds bwrap's arguments for a root made of binds, with 0755 folders in between."""

    def __init__(self):
        self.args: list[str] = []
        self.made: list[str] = ["/"]  # folders that exist in the new root
        self.covered: list[str] = []  # bind mounts (their content is the host's)

    def _parents(self, path: str) -> None:
        parents = []
        parent = os.path.dirname(path)
        while parent not in self.made and not any(_inside(parent, c) for c in self.covered):
            parents.append(parent)
            parent = os.path.dirname(parent)
        for folder in reversed(parents):  # bwrap would make them 0700 (root only)
            self.args += ["--perms", "0755", "--dir", folder]
            self.made.append(folder)

    def bind(self, source: str, dest: str | None = None, *, rw: bool = False, dev: bool = False):
        dest = dest or source
        if any(_inside(dest, c) for c in self.covered):
            return  # already visible: every bind shows the host's path at the same place
        self._parents(dest)
        flag = "--dev-bind" if dev else "--bind" if rw else "--ro-bind"
        self.args += [flag, source, dest]
        self.covered.append(dest)

    def symlink(self, target: str, dest: str):
        self._parents(dest)
        self.args += ["--symlink", target, dest]
        self.made.append(dest)

    def tmpfs(self, dest: str, size: int, mode: str = "1777"):
        self._parents(dest)
        self.args += ["--perms", mode, "--size", str(size), "--tmpfs", dest]
        self.made.append(dest)


class Sandbox:
    """One submission's sandbox: scratch folder, user, cgroups, kernel command, clean-up.

    Args:
        slot: int, the worker slot (one sandbox user per slot).
        base: Path, a root-owned folder holding the scratch folder and the kernel log.
        limits: Limits.
        hide: grader paths made invisible (only needed by the fallback; with
            bubblewrap nothing outside ``expose`` is visible anyway).
        expose: extra paths the kernel may read (questions file, datasets).

    Raises:
        SandboxUnavailable: the machine cannot isolate a kernel (``machine.require``).
    """

    def __init__(
        self,
        slot: int,
        base: Path,
        limits: Limits,
        hide: tuple[Path, ...] = (),
        expose: tuple[Path, ...] = (),
    ):
        self.caps = require()
        self.limits = limits
        self.slot = slot
        self.hide = tuple(Path(p).resolve() for p in hide if Path(p).exists())
        self.expose = tuple(str(Path(p).resolve()) for p in expose if Path(p).exists())
        self.id = secrets.token_hex(6)
        self.scratch = Path(base) / f"s{slot}-{self.id}"
        self.uid = self.gid = self._lock = None
        self.group: cgroups.Group | None = None
        self.scratch.mkdir(mode=0o700)
        logs = Path(base) / "logs"
        logs.mkdir(mode=0o700, exist_ok=True)
        os.chmod(logs, 0o700)
        self.log_path = logs / f"kernel-{self.id}.log"
        fd = os.open(self.log_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        os.close(fd)
        try:
            if self.caps.uid:
                self.slot, self.uid, self.gid, self._lock = osusers.acquire_user(slot)
                os.chown(self.scratch, self.uid, self.gid)
            if self.caps.cgroups.version:
                self.group = cgroups.Group(
                    self.caps.cgroups,
                    f"cnnlabs-{self.id}",
                    memory_bytes=limits.memory_bytes,
                    max_tasks=limits.max_processes,
                    cpu_weight=limits.cpu_weight,
                    cpus=limits.cpus,
                )
        except BaseException:
            self.close()
            raise

    @property
    def level(self) -> str:
        return self.caps.level

    @property
    def bwrap(self) -> bool:
        return self.caps.bwrap is not None and self.uid is not None

    @property
    def home(self) -> str:
        return HOME if self.bwrap else str(self.scratch)

    def env(self) -> dict[str, str]:
        """The kernel's environment: an allow-list, nothing secret."""
        env = {k: os.environ[k] for k in ENV_ALLOW if k in os.environ}
        env.update(
            PATH=os.path.dirname(sys.executable) + ":/usr/local/bin:/usr/bin:/bin",
            HOME=self.home,
            TMPDIR="/tmp" if self.bwrap else str(self.scratch),
            MPLBACKEND="Agg",
            MPLCONFIGDIR=f"{self.home}/.mpl",
            PYTHONDONTWRITEBYTECODE="1",
            TF_CPP_MIN_LOG_LEVEL=env.get("TF_CPP_MIN_LOG_LEVEL", "2"),
            CNNLABS_PROFILE="grade",  # cnnlabs.profiles: every cell runs, training capped
            CNNLABS_GRADING="1",
            CNNLABS_SEED=os.environ.get("CNNLABS_SEED", "0"),
        )
        for key in ("CNNLABS_DATA_DIR", "KERAS_HOME"):
            if key in os.environ:
                env[key] = os.environ[key]
        return env

    def bwrap_args(self) -> list[str]:
        """bubblewrap's options: namespaces and the root the kernel sees (see the module doc)."""
        root = _Root()
        for name in ("usr", "etc", "bin", "sbin", "lib", "lib32", "lib64", "libx32"):
            path = f"/{name}"
            if os.path.islink(path):
                root.symlink(os.readlink(path), path)
            elif os.path.isdir(path):
                root.bind(path)
        root.args += ["--proc", "/proc", "--dev", "/dev"]
        root.made += ["/proc", "/dev", "/dev/pts", "/dev/shm"]
        for device in sorted(Path("/dev").glob("nvidia*")):  # GPUs, where there are any
            root.bind(str(device), dev=True)
        size = self.limits.tmpfs_bytes
        for path in ("/tmp", "/var/tmp", "/dev/shm", "/run/lock"):
            root.tmpfs(path, size)
        root.tmpfs(HOME, size, mode="0777")
        # After the tmpfs mounts, so that what lives under /tmp (a venv, data) shows through.
        readable = [*interpreter_paths(), *package_paths(), *self.expose]
        checkout = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
        for key in ("CNNLABS_DATA_DIR", "KERAS_HOME"):
            if os.environ.get(key) and os.path.isdir(os.environ[key]):
                for path in _dirs_of(os.environ[key]):
                    if not _inside(checkout, path):  # a data folder never exposes the grader
                        readable.append(path)
        for path in sorted(dict.fromkeys(readable), key=len):
            root.bind(path)
        root.bind(str(self.scratch), rw=True)
        return [
            self.caps.bwrap,
            "--unshare-pid",
            "--unshare-net",
            "--unshare-ipc",
            "--unshare-uts",
            "--unshare-cgroup-try",
            "--hostname",
            "sandbox",
            "--die-with-parent",
            "--new-session",
            "--unsetenv",  # ipykernel would take bwrap's init (pid 1) for a dead parent
            "JPY_PARENT_PID",
            *root.args,
            "--chdir",
            str(self.scratch),
            "--",
            "setpriv",
            f"--reuid={self.uid}",
            f"--regid={self.gid}",
            "--clear-groups",
            "--no-new-privs",
            "--inh-caps=-all",
            "--bounding-set=-all",
            "--",
        ]

    def command(self, argv: list[str]) -> list[str]:
        """The command line that runs ``argv`` inside the sandbox."""
        cmd: list[str] = []
        if not self.bwrap and (self.caps.netns or self.caps.mountns):
            cmd += [shutil.which("unshare")]
            if self.caps.netns:
                cmd.append("--net")
            if self.caps.mountns:
                cmd += ["--mount", "--propagation", "private"]
            cmd.append("--")
        cmd += [sys.executable, "-m", "autograder.launcher", "--scratch", str(self.scratch)]
        if self.uid is not None and not self.bwrap:
            cmd += ["--uid", str(self.uid), "--gid", str(self.gid)]
        if self.uid is not None:
            cmd += ["--nproc", str(self.limits.max_processes)]
        for path in self.group.procs_files if self.group else ():
            cmd += ["--cgroup", path]
        if self.caps.mountns and not self.bwrap:
            for path in self.hide:
                cmd += ["--hide", str(path)]
        lim = self.limits
        cmd += ["--cpu", str(lim.cpu_seconds), "--fsize", str(lim.max_file_bytes)]
        if self.group is None or not self.group.has_memory:
            cmd += ["--as", str(lim.address_space_bytes)]
        cmd.append("--")
        if self.bwrap:
            cmd += self.bwrap_args()
        return cmd + list(argv)

    def kernel_command(self) -> list[str]:
        """The command line that starts the kernel inside the sandbox."""
        return self.command([sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"])

    def describe(self) -> str:
        return self.caps.describe()

    def oom_killed(self) -> bool:
        """True when the memory cgroup killed a process of this sandbox."""
        return self.group is not None and self.group.oom_killed()

    def pids(self) -> set[int]:
        """Every live process that belongs to this sandbox."""
        found = self.group.pids() if self.group else set()
        if self.uid is not None:
            found.update(processes_of_uid(self.uid))
        return found

    def interrupt(self, launcher_pid: int | None) -> None:
        """SIGINT to the kernel process only (its children may be in any session or state).

        The kernel is in its own session and PID namespace, so jupyter_client's
        ``killpg`` of the launcher's group cannot reach it: it is found as the oldest
        process of the sandbox user below the launcher.
        """
        if launcher_pid is None:
            return
        try:
            if self.uid is None:
                os.killpg(launcher_pid, signal.SIGINT)
            elif (pid := osusers.top_process(launcher_pid, self.uid)) is not None:
                os.kill(pid, signal.SIGINT)
        except OSError:
            pass

    def kill_all(self, pgid: int | None = None) -> None:
        """Kills every process of the sandbox (cgroup members, slot uid, process group)."""
        if pgid is not None:
            try:
                os.killpg(pgid, signal.SIGKILL)
            except OSError:
                pass
        if self.group is not None:
            self.group.kill()
        if self.uid is not None:
            osusers.wait_until_gone(self.uid)
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
        """Kills everything, removes the cgroups and the scratch folder, frees the user."""
        self.kill_all(pgid)
        if self.group is not None:
            self.group.remove()
        shutil.rmtree(self.scratch, ignore_errors=True)
        if self._lock is not None:
            os.close(self._lock)  # releases the user
            self._lock = None


_PREFLIGHT: dict = {}

PREFLIGHT_CODE = (
    "import os, ipykernel, cnnlabs, autograder.plainio\n"
    "print('cnnlabs-preflight', os.getuid(), os.getgid(), len(os.listdir('/proc')))"
)


def preflight(limits: Limits | None = None, expose: tuple[Path, ...] = ()) -> str:
    """Starts the sandbox once (the interpreter, ``import ipykernel, cnnlabs`` as the sandbox user).

    Cached per process. A failure is the machine's fault, not a student's: it raises
    SandboxUnavailable with the reason, and nothing is graded.

    Returns:
        str, the sandbox's description (level and mechanisms).
    """
    key = tuple(sorted(str(p) for p in expose))
    if key in _PREFLIGHT:
        return _PREFLIGHT[key]
    import tempfile

    limits = limits or Limits()
    base = Path(tempfile.mkdtemp(prefix="cnnlabs-preflight-"))
    os.chmod(base, 0o711)
    try:
        sandbox = Sandbox(0, base, limits, expose=expose)
        try:
            cmd = sandbox.command([sys.executable, "-c", PREFLIGHT_CODE])
            try:
                proc = subprocess.run(
                    cmd, env=sandbox.env(), capture_output=True, text=True, timeout=120
                )
                out, err = proc.stdout, proc.stderr
                status = f"exit code {proc.returncode}"
            except subprocess.TimeoutExpired:
                out, err, status = "", "", "timed out after 120 s"
            if sandbox.oom_killed():
                status += f", out of memory (Limits.memory_bytes={limits.memory_bytes})"
            words = out.split()
            uid = sandbox.uid if sandbox.uid is not None else os.getuid()
            if words[:1] != ["cnnlabs-preflight"] or words[1:2] != [str(uid)] or uid == 0:
                raise SandboxUnavailable(
                    "refusing to grade: a kernel cannot start inside the sandbox "
                    f"({sandbox.describe()}): {status}: {(err or out).strip()[-1500:]}"
                )
        finally:
            sandbox.close()
    finally:
        shutil.rmtree(base, ignore_errors=True)
    _PREFLIGHT[key] = sandbox.describe()
    return _PREFLIGHT[key]
