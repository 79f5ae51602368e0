"""What this machine offers the sandbox, and the refusal when it is not enough.

``detect()`` probes once: root, bubblewrap (``bwrap``) and ``setpriv``,
``useradd``, the old ``unshare`` fallback, and cgroups (v1 or v2). ``require()``
fails closed: a student kernel never runs as root, and grading a class needs a
separate uid, no network and a memory limit. ``--allow-weak-sandbox``
(``CNNLABS_ALLOW_WEAK_SANDBOX=1``) lets a non-root user try their own notebooks
with rlimits only.

On Gradescope (``CNNLABS_SANDBOX_MINIMUM=uid``, set by the bundle's
``run_autograder``) each submission has its own container, which may refuse
namespaces; the minimum there is the separate uid.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from autograder import cgroups

ALLOW_WEAK_ENV = "CNNLABS_ALLOW_WEAK_SANDBOX"
MINIMUM_ENV = "CNNLABS_SANDBOX_MINIMUM"
DISABLE_ENV = "CNNLABS_SANDBOX_DISABLE"


class SandboxUnavailable(RuntimeError):
    """The machine cannot provide the sandbox grading needs; nothing was graded."""


@dataclass(frozen=True)
class Capabilities:
    root: bool
    bwrap: str | None  # path of a working bwrap (namespaces, uid through setpriv)
    uid: bool
    netns: bool
    mountns: bool
    pidns: bool
    cgroups: cgroups.Layout
    mechanisms: tuple[str, ...] = field(default_factory=tuple)

    @property
    def cgroup_memory(self) -> Path | None:
        return self.cgroups.memory

    @property
    def level(self) -> str:
        """ "strong" (uid + netns + memory cgroup), "medium" (uid or netns) or "weak"."""
        if self.uid and self.netns and self.cgroups.memory is not None:
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
    for folder in Path(os.path.realpath(path)).parents:
        try:
            if not os.stat(folder).st_mode & 0o001:
                return False
        except OSError:
            return False
    return True


BWRAP_PROBE = (
    "--unshare-pid",
    "--unshare-net",
    "--unshare-ipc",
    "--unshare-uts",
    "--die-with-parent",
    "--ro-bind",
    "/",
    "/",
    "--proc",
    "/proc",
    "--dev",
    "/dev",
    "--",
    "true",
)

_CAPS: Capabilities | None = None


def detect(refresh: bool = False) -> Capabilities:
    """Probes the machine once (cached): root, bwrap + setpriv, useradd, unshare, cgroups."""
    global _CAPS
    if _CAPS is not None and not refresh:
        return _CAPS
    root = os.geteuid() == 0
    disabled = set(os.environ.get(DISABLE_ENV, "").split(","))
    bwrap = shutil.which("bwrap") if root and "bwrap" not in disabled else None
    if bwrap and not (shutil.which("setpriv") and _works([bwrap, *BWRAP_PROBE])):
        bwrap = None
    useradd = shutil.which("useradd") is not None and "uid" not in disabled
    if bwrap:  # the interpreter is bound into the sandbox wherever it lives
        uid = root and useradd
        netns = mountns = pidns = True
        mechanisms = ["bwrap"] + ["uid"] * uid + ["pidns", "netns", "ipcns", "utsns", "mountns"]
    else:
        import autograder

        uid = (
            root
            and useradd
            and reachable_by_others(sys.executable)
            and reachable_by_others(autograder.__file__)
        )
        unshare = shutil.which("unshare")
        netns = bool(
            root and unshare and "netns" not in disabled and _works([unshare, "--net", "true"])
        )
        mountns = bool(
            root and unshare and "mountns" not in disabled and _works([unshare, "--mount", "true"])
        )
        pidns = False
        mechanisms = ["unshare"] * (netns or mountns) + ["uid"] * uid
        mechanisms += ["netns"] * netns + ["mountns"] * mountns
    layout = cgroups.detect() if root and "cgroup" not in disabled else cgroups.Layout(0)
    mechanisms += layout.mechanisms()
    mechanisms.append("rlimit")
    _CAPS = Capabilities(root, bwrap, uid, netns, mountns, pidns, layout, tuple(mechanisms))
    return _CAPS


FIX_BOOTSTRAP = "run `sudo bash scripts/bootstrap.sh` (installs bubblewrap)"


def missing(caps: Capabilities) -> list[str]:
    """What the sandbox lacks for grading others' notebooks, each with its fix."""
    problems = []
    if not caps.root:
        problems.append(
            "a separate uid for the kernel (the grader is not root): run `sudo cnnlabs grade ...`"
        )
        return problems
    if not caps.uid:
        if shutil.which("useradd") is None:
            problems.append("a separate uid: `useradd` is missing; `apt-get install passwd`")
        else:
            problems.append(
                "a separate uid: the interpreter is not reachable by other users and bubblewrap "
                "is missing or not working; `apt-get install bubblewrap`"
            )
    if not caps.netns:
        problems.append("no network: bubblewrap is missing; `apt-get install bubblewrap`")
    if caps.cgroups.memory is None:
        problems.append(
            "a memory limit: no writable memory cgroup under /sys/fs/cgroup "
            "(on Docker: `docker run --privileged` or `--cgroupns=private` with a writable "
            "cgroup v2 mount)"
        )
    return problems


def require(caps: Capabilities | None = None, *, allow_weak: bool | None = None) -> Capabilities:
    """Returns the capabilities when they are enough to grade; raises SandboxUnavailable if not.

    Never enough: a root grader without a separate uid (the kernel would run as root).
    """
    caps = caps or detect()
    if allow_weak is None:
        allow_weak = os.environ.get(ALLOW_WEAK_ENV, "") not in ("", "0")
    problems = missing(caps)
    if caps.root and not caps.uid:
        raise SandboxUnavailable(_message(problems, "a kernel would run as root"))
    if os.environ.get(MINIMUM_ENV) == "uid" and caps.uid:
        return caps
    if problems and not (allow_weak and not caps.root):
        hint = ""
        if not caps.root:
            hint = " To try your own notebooks without it, add --allow-weak-sandbox."
        raise SandboxUnavailable(
            _message(problems, "the sandbox is not strong enough for untrusted notebooks") + hint
        )
    return caps


def _message(problems: list[str], why: str) -> str:
    return (
        f"refusing to grade: {why}. Missing: "
        + "; ".join(problems)
        + f". Or {FIX_BOOTSTRAP}. See docs/grading.md, 'Machine set-up'."
    )
