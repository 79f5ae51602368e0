"""The sandbox users: one unprivileged system user per worker slot, locked while in use.

``cnnlabs-sbx0``, ``cnnlabs-sbx1``, ... are created with ``useradd`` when the
grader runs as root. A slot's user is locked (``flock``) by one sandbox at a time
in a root-only folder (``/run/cnnlabs``, 0700, owner checked), so signalling or
killing every process of that uid touches that sandbox only.
"""

from __future__ import annotations

import fcntl
import os
import pwd
import signal
import stat
import subprocess
import time
from pathlib import Path

USER_PREFIX = "cnnlabs-sbx"
LOCK_DIR = Path("/run/cnnlabs")


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
    if entry.pw_uid == 0 or entry.pw_gid == 0:
        raise RuntimeError(f"sandbox user {name} has uid/gid 0; delete it (userdel {name}).")
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


def _stat(pid: str) -> tuple[int, int] | None:
    """(parent pid, start time) of a process, from /proc/<pid>/stat."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rpartition(")")[2].split()
        return int(fields[1]), int(fields[19])
    except (OSError, ValueError, IndexError):
        return None


def top_process(ancestor: int, uid: int) -> int | None:
    """The oldest process of ``uid`` descending from ``ancestor`` (itself included) whose
    parent is not of ``uid``: the process the sandbox started (the kernel).
    """
    table = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (info := _stat(entry)) is not None:
            table[int(entry)] = info
    users = set(processes_of_uid(uid))
    found = []
    for pid in users:
        chain, current = [], pid
        while current in table and current != ancestor and len(chain) < 64:
            chain.append(current)
            current = table[current][0]
        if current == ancestor and table[pid][0] not in users:
            found.append((table[pid][1], pid))
    return min(found)[1] if found else None


def signal_uid(uid: int, signum: int = signal.SIGKILL) -> None:
    """Sends ``signum`` to every process of ``uid`` at once (fork bombs included).

    A child of ours takes the uid and calls ``kill(-1, signum)``: the kernel signals
    all processes that uid may signal in one pass that new forks cannot race. Used to
    interrupt a kernel (SIGINT) whatever session or PID namespace it put itself in,
    and to kill a sandbox. Only for the sandbox users, never a real user.
    """
    if uid == 0:
        raise ValueError("signal_uid(0) would signal the whole machine")
    pid = os.fork()
    if pid == 0:  # the child: only system calls until _exit
        try:
            os.setresgid(65534, 65534, 65534)
            os.setgroups([])
            os.setresuid(uid, uid, uid)
            os.kill(-1, signum)
        except OSError:
            pass
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


def kill_uid(uid: int) -> None:
    """SIGKILLs every process of ``uid`` (see ``signal_uid``)."""
    signal_uid(uid, signal.SIGKILL)


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


def lock_dir(path: Path = LOCK_DIR) -> Path:
    """The root-only lock folder, created 0700; refuses one that others could write or plant."""
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o077:
        raise RuntimeError(
            f"{path} must be a folder owned by uid {os.geteuid()} with mode 0700 "
            f"(found mode {stat.filemode(info.st_mode)}, owner uid {info.st_uid}); "
            f"remove it (rm -rf {path}) and grade again."
        )
    return path


def acquire_user(hint: int = 0, tries: int = 64, folder: Path = LOCK_DIR):
    """Locks a sandbox user no other grading process on this machine is using.

    Returns (slot, uid, gid, lock_fd). Each user is used by one sandbox at a time,
    so killing all of its processes never touches another grader's kernel.
    """
    folder = lock_dir(folder)
    for offset in range(tries):
        slot = hint + offset
        fd = None
        try:
            fd = os.open(
                folder / f"slot-{slot}.lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600
            )
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            uid, gid = ensure_user(slot)
            if not wait_until_gone(uid):  # orphans of an earlier grader, reaped or not
                raise OSError(f"{USER_PREFIX}{slot} still has processes")
        except OSError:
            if fd is not None:
                os.close(fd)
            continue  # locked by another grader, a planted file or a busy user: take another
        return slot, uid, gid, fd
    raise RuntimeError(f"no free sandbox user among {tries} ({USER_PREFIX}N); too many graders?")
