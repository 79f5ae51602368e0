"""Per-submission control groups, on cgroup v1 (one hierarchy per controller) or v2 (unified).

A submission's group bounds its memory (OOM kills are detected and reported as
``oom``), its number of tasks (fork bombs) and gives it a fair CPU share (cpu
weight), with an optional quota (``Limits.cpus``). Every process of the sandbox
joins the group before the kernel starts, so the group also lists what to kill.

- v1: ``<root>/memory/cnnlabs-<id>`` (``memory.limit_in_bytes``,
  ``memory.memsw.limit_in_bytes``, ``memory.oom_control``), ``<root>/pids/...``
  (``pids.max``), ``<root>/cpu/...`` (``cpu.shares``, ``cpu.cfs_quota_us``).
- v2: one folder ``<root>/cnnlabs/cnnlabs-<id>`` with ``memory.max``,
  ``memory.swap.max`` = 0, ``pids.max``, ``cpu.weight``, ``cpu.max``;
  OOM kills are read from ``memory.events``. The ``cnnlabs`` parent gets the
  controllers enabled in its ``cgroup.subtree_control``.

``root`` is a parameter so that the v2 code path is tested on a fake tree.
"""

from __future__ import annotations

import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")
CONTROLLERS = ("memory", "pids", "cpu")
PARENT_V2 = "cnnlabs"


@dataclass(frozen=True)
class Layout:
    """Where the groups of each controller are created; ``None`` when unavailable."""

    version: int  # 1, 2, or 0 when no controller is usable
    memory: Path | None = None
    pids: Path | None = None
    cpu: Path | None = None

    def mechanisms(self) -> list[str]:
        return [
            f"cgroup-v{self.version}-{name}"
            for name in CONTROLLERS
            if getattr(self, name) is not None
        ]


def _writable(folder: Path) -> bool:
    # Unique per call: two threads probing with one name would see EEXIST and call a
    # writable hierarchy unwritable (the sandbox would then refuse for no reason).
    probe = folder / f"cnnlabs-probe-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        probe.mkdir()
    except OSError:
        return False
    try:
        probe.rmdir()
    except OSError:
        pass
    return True


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _enabled(control: Path) -> set[str]:
    return {word.lstrip("+") for word in _read(control).split()}


def detect(root: Path = ROOT) -> Layout:
    """The cgroup layout of this machine: v2 when ``root`` is a unified hierarchy, else v1."""
    root = Path(root)
    if (root / "cgroup.controllers").is_file():
        return _detect_v2(root)
    found = {}
    for name in CONTROLLERS:
        folder = root / name
        if folder.is_dir() and _writable(folder):
            found[name] = folder
    return Layout(1, **found) if found else Layout(0)


def _detect_v2(root: Path) -> Layout:
    available = set(_read(root / "cgroup.controllers").split())
    parent = root / PARENT_V2
    try:
        parent.mkdir(exist_ok=True)
    except OSError:
        return Layout(0)
    wanted = [name for name in CONTROLLERS if name in available]
    for folder in (root, parent):  # controllers must be enabled all the way down
        control = folder / "cgroup.subtree_control"
        todo = [name for name in wanted if name not in _enabled(control)]
        for batch in ([todo] if todo else []) + [[name] for name in todo]:
            try:  # all at once; one by one when the kernel refuses one of them
                control.write_text(" ".join(f"+{name}" for name in batch))
                break
            except OSError:
                continue
    enabled = _enabled(parent / "cgroup.subtree_control")
    found = {name: parent for name in wanted if name in enabled}
    if not found or not _writable(parent):
        return Layout(0)
    return Layout(2, **found)


class Group:
    """One submission's cgroups: created with limits, joined by the launcher, removed at the end.

    Args:
        layout: Layout from ``detect``.
        name: str, the group's folder name (``cnnlabs-<sandbox id>``).
        memory_bytes: int, memory limit (swap included where the kernel allows it).
        max_tasks: int, processes and threads.
        cpu_weight: int, relative CPU share (v2 ``cpu.weight`` 1-10000, default 100;
            v1 ``cpu.shares`` = weight * 1024 / 100).
        cpus: float | None, a hard quota in CPUs (``cpu.max``), none by default.
    """

    PERIOD_US = 100_000

    def __init__(
        self,
        layout: Layout,
        name: str,
        *,
        memory_bytes: int,
        max_tasks: int,
        cpu_weight: int = 100,
        cpus: float | None = None,
    ):
        self.layout = layout
        self.name = name
        self.paths: dict[str, Path] = {}
        try:
            for controller in CONTROLLERS:
                base = getattr(layout, controller)
                if base is None:
                    continue
                path = base / name
                if path not in self.paths.values():
                    path.mkdir()
                self.paths[controller] = path
            if layout.version == 2:
                self._configure_v2(memory_bytes, max_tasks, cpu_weight, cpus)
            else:
                self._configure_v1(memory_bytes, max_tasks, cpu_weight, cpus)
        except BaseException:
            self.remove(timeout=0)
            raise

    def _configure_v1(self, memory_bytes, max_tasks, cpu_weight, cpus):
        if "memory" in self.paths:
            path = self.paths["memory"]
            (path / "memory.limit_in_bytes").write_text(str(memory_bytes))
            if (path / "memory.memsw.limit_in_bytes").exists():
                try:
                    (path / "memory.memsw.limit_in_bytes").write_text(str(memory_bytes))
                except OSError:
                    pass
        if "pids" in self.paths:
            (self.paths["pids"] / "pids.max").write_text(str(max_tasks))
        if "cpu" in self.paths:
            path = self.paths["cpu"]
            (path / "cpu.shares").write_text(str(max(2, cpu_weight * 1024 // 100)))
            if cpus is not None:
                (path / "cpu.cfs_period_us").write_text(str(self.PERIOD_US))
                (path / "cpu.cfs_quota_us").write_text(str(int(cpus * self.PERIOD_US)))

    def _configure_v2(self, memory_bytes, max_tasks, cpu_weight, cpus):
        if "memory" in self.paths:
            path = self.paths["memory"]
            (path / "memory.max").write_text(str(memory_bytes))
            if (path / "memory.swap.max").exists():
                (path / "memory.swap.max").write_text("0")
        if "pids" in self.paths:
            (self.paths["pids"] / "pids.max").write_text(str(max_tasks))
        if "cpu" in self.paths:
            path = self.paths["cpu"]
            (path / "cpu.weight").write_text(str(cpu_weight))
            if cpus is not None:
                (path / "cpu.max").write_text(f"{int(cpus * self.PERIOD_US)} {self.PERIOD_US}")

    @property
    def procs_files(self) -> list[str]:
        """The ``cgroup.procs`` files the launcher writes its pid into (one per hierarchy)."""
        return sorted({str(path / "cgroup.procs") for path in self.paths.values()})

    @property
    def has_memory(self) -> bool:
        return "memory" in self.paths

    def oom_killed(self) -> bool:
        """True when the memory limit killed a process of the group."""
        path = self.paths.get("memory")
        if path is None:
            return False
        if self.layout.version == 2:
            for line in _read(path / "memory.events").splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill" and value.strip().isdigit() and int(value) > 0:
                    return True
            return False
        text = _read(path / "memory.oom_control")
        for line in text.splitlines():
            if line.startswith("oom_kill ") and int(line.split()[1]) > 0:
                return True
        failcnt = _read(path / "memory.failcnt").strip()
        return failcnt.isdigit() and int(failcnt) > 0 and "under_oom 1" in text

    def pids(self) -> set[int]:
        """Every process in the group (any hierarchy)."""
        found: set[int] = set()
        for procs in self.procs_files:
            found.update(int(p) for p in _read(Path(procs)).split() if p.isdigit())
        return found

    def kill(self) -> None:
        """v2 ``cgroup.kill`` (Linux >= 5.14): kills every member at once, new forks included."""
        if self.layout.version == 2 and self.paths:
            kill = next(iter(self.paths.values())) / "cgroup.kill"
            if kill.exists():
                try:
                    kill.write_text("1")
                except OSError:
                    pass

    def remove(self, timeout: float = 2.0) -> bool:
        """Removes the group's folders (they must be empty of processes); True when all are gone."""
        deadline = time.monotonic() + timeout
        left = set(self.paths.values())
        while left:
            for path in list(left):
                try:
                    path.rmdir()
                    left.discard(path)
                except FileNotFoundError:
                    left.discard(path)
                except OSError:
                    pass
            if not left or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        return not left
