"""Per-submission cgroups: v2 on a fake tree (this machine is v1), v1 on the real hierarchy.

The v2 code path writes and reads the same files the kernel provides
(``cgroup.controllers``, ``cgroup.subtree_control``, ``memory.max``,
``memory.events``, ...); a fake tree under ``tmp_path`` stands in for
``/sys/fs/cgroup``. Where a real cgroup2 hierarchy can be mounted (root), the
detection is also checked against it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from autograder import cgroups
from autograder.cgroups import Group, Layout

MiB = 2**20


def fake_v2(root, controllers="cpuset cpu io memory hugetlb pids rdma misc"):
    root.mkdir(exist_ok=True)
    (root / "cgroup.controllers").write_text(controllers + "\n")
    (root / "cgroup.subtree_control").write_text("")
    return root


def test_v2_detection_enables_the_controllers_under_a_cnnlabs_parent(tmp_path):
    root = fake_v2(tmp_path)
    layout = cgroups.detect(root)
    assert layout == Layout(2, memory=root / "cnnlabs", pids=root / "cnnlabs", cpu=root / "cnnlabs")
    assert layout.mechanisms() == ["cgroup-v2-memory", "cgroup-v2-pids", "cgroup-v2-cpu"]
    for folder in (root, root / "cnnlabs"):
        assert (folder / "cgroup.subtree_control").read_text() == "+memory +pids +cpu"


def test_v2_without_the_memory_controller_reports_only_what_it_has(tmp_path):
    root = fake_v2(tmp_path, controllers="io pids")
    layout = cgroups.detect(root)
    assert layout == Layout(2, pids=root / "cnnlabs")
    assert layout.mechanisms() == ["cgroup-v2-pids"]


def test_v2_group_writes_limits_detects_oom_and_is_removed(tmp_path):
    root = fake_v2(tmp_path)
    layout = cgroups.detect(root)
    group = Group(layout, "cnnlabs-x", memory_bytes=512 * MiB, max_tasks=64, cpus=1.5)
    path = root / "cnnlabs" / "cnnlabs-x"
    assert group.paths == {"memory": path, "pids": path, "cpu": path}
    assert (path / "memory.max").read_text() == str(512 * MiB)
    assert (path / "pids.max").read_text() == "64"
    assert (path / "cpu.weight").read_text() == "100"
    assert (path / "cpu.max").read_text() == "150000 100000"
    assert not (path / "memory.swap.max").exists()  # written only where the kernel has swap
    assert group.procs_files == [str(path / "cgroup.procs")]
    assert not group.oom_killed()  # no memory.events yet
    (path / "memory.events").write_text("low 0\nhigh 0\nmax 12\noom 1\noom_kill 0\n")
    assert not group.oom_killed()  # hit the limit, nothing killed
    (path / "memory.events").write_text("low 0\nhigh 0\nmax 40\noom 2\noom_kill 1\n")
    assert group.oom_killed()
    (path / "cgroup.procs").write_text("123\n456\n")
    assert group.pids() == {123, 456}
    (path / "cgroup.kill").write_text("0")
    group.kill()
    assert (path / "cgroup.kill").read_text() == "1"
    for child in path.iterdir():  # the kernel drops the interface files with the folder
        child.unlink()
    assert group.remove()
    assert not path.exists()


def test_v2_without_a_quota_leaves_cpu_max_alone(tmp_path):
    layout = cgroups.detect(fake_v2(tmp_path))
    group = Group(layout, "cnnlabs-y", memory_bytes=MiB, max_tasks=8, cpu_weight=50)
    path = tmp_path / "cnnlabs" / "cnnlabs-y"
    assert (path / "cpu.weight").read_text() == "50"
    assert not (path / "cpu.max").exists()
    assert not group.remove(timeout=0)  # files inside: a real cgroup would still hold processes


def test_v1_fake_tree_uses_one_folder_per_controller(tmp_path):
    for name in ("memory", "pids", "cpu"):
        (tmp_path / name).mkdir()
    layout = cgroups.detect(tmp_path)
    assert layout.version == 1 and layout.mechanisms() == [
        "cgroup-v1-memory",
        "cgroup-v1-pids",
        "cgroup-v1-cpu",
    ]
    group = Group(layout, "cnnlabs-z", memory_bytes=MiB, max_tasks=8, cpus=0.5)
    assert (tmp_path / "memory" / "cnnlabs-z" / "memory.limit_in_bytes").read_text() == str(MiB)
    assert (tmp_path / "cpu" / "cnnlabs-z" / "cpu.shares").read_text() == "1024"
    assert (tmp_path / "cpu" / "cnnlabs-z" / "cpu.cfs_quota_us").read_text() == "50000"
    assert len(group.procs_files) == 3
    (tmp_path / "memory" / "cnnlabs-z" / "memory.oom_control").write_text(
        "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n"
    )
    assert group.oom_killed()


def test_nothing_usable_is_version_0(tmp_path):
    assert cgroups.detect(tmp_path) == Layout(0)
    assert Layout(0).mechanisms() == []


needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="mounting cgroups needs root")


@needs_root
def test_a_real_cgroup2_mount_is_detected_as_v2(tmp_path):
    mount = tmp_path / "cg2"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "cgroup2", "none", str(mount)]).returncode:
        pytest.skip("cgroup2 cannot be mounted here")
    try:
        controllers = set((mount / "cgroup.controllers").read_text().split())
        layout = cgroups.detect(mount)
        # On a v1 machine memory/pids/cpu belong to v1 and are absent from v2.
        for name in ("memory", "pids", "cpu"):
            assert (getattr(layout, name) is not None) == (name in controllers)
        assert layout.version == (2 if controllers & {"memory", "pids", "cpu"} else 0)
    finally:
        (mount / "cnnlabs").rmdir() if (mount / "cnnlabs").exists() else None
        subprocess.run(["umount", str(mount)], check=True)


@needs_root
def test_real_v1_memory_limit_kills_and_is_reported_as_oom():
    layout = cgroups.detect()
    if layout.version != 1 or layout.memory is None:
        pytest.skip(f"no writable cgroup v1 memory hierarchy here ({layout})")
    group = Group(layout, f"cnnlabs-test-{os.getpid()}", memory_bytes=64 * MiB, max_tasks=32)
    try:
        code = "x = bytearray(256 * 2**20)"
        joins = "".join(
            f"open({p!r}, 'w').write(str(__import__('os').getpid()));" for p in group.procs_files
        )
        proc = subprocess.run([sys.executable, "-c", joins + code])
        assert proc.returncode == -9
        assert group.oom_killed()
    finally:
        deadline = time.monotonic() + 5
        while group.pids() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert group.remove()
