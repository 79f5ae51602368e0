"""Run a submission's cells in a sandboxed kernel, then export its answers.

Cells run one by one through ``jupyter_client`` with a per-cell timeout and a
per-submission deadline. Outputs are drained and discarded as they arrive (the
grade never depends on them, and hundreds of megabytes of prints cost nothing).
A cell that times out is interrupted (the kernel is killed when it ignores the
interrupt); a kernel that dies (crash, ``os._exit``, OOM kill) is restarted and
the next cells run, so only the answers lost with it are missing. The deadline
bounds everything (cells, kernel restarts, the export): once it has passed,
nothing more runs. A message whose signature does not verify (forged by the
kernel) is dropped; it never stops the session.
"""

from __future__ import annotations

import os
import queue
import time
from dataclasses import dataclass, field
from pathlib import Path

from jupyter_client import KernelManager

from autograder.sandbox import Sandbox

KERNEL_SIDE = Path(__file__).with_name("kernel_side.py")


class _SandboxKernelManager(KernelManager):
    """A KernelManager whose kernel command is the sandbox's."""

    sandbox: Sandbox | None = None

    def format_kernel_cmd(self, extra_arguments=None):
        if self.sandbox.uid is not None:
            os.chown(self.connection_file, self.sandbox.uid, self.sandbox.gid)
        return [
            part.replace("{connection_file}", self.connection_file)
            for part in self.sandbox.kernel_command()
        ]


@dataclass
class Event:
    """Something that went wrong while running: ``kind`` in timeout/died/oom/error."""

    where: str
    kind: str
    detail: str = ""


@dataclass
class Run:
    events: list[Event] = field(default_factory=list)
    cells_run: int = 0
    seconds: float = 0.0


class KernelSession:
    """A sandboxed kernel for one submission.

    Args:
        sandbox: Sandbox.
        startup_timeout: float, seconds a kernel may take to start.
        deadline: float | None, ``time.monotonic()`` after which nothing runs.
    """

    def __init__(
        self, sandbox: Sandbox, startup_timeout: float = 60.0, deadline: float | None = None
    ):
        self.sandbox = sandbox
        self.startup_timeout = startup_timeout
        self.deadline = deadline if deadline is not None else float("inf")
        self.km = None
        self.kc = None
        self._start()

    def left(self) -> float:
        """Seconds left before the deadline."""
        return self.deadline - time.monotonic()

    def _start(self):
        km = _SandboxKernelManager(
            transport="ipc",
            ip=str(self.sandbox.scratch / "ipc"),
            connection_file=str(self.sandbox.scratch / "kernel.json"),
        )
        km.sandbox = self.sandbox
        log_path = self.sandbox.log_path  # 0600 in a 0700 folder; the kernel inherits the fd
        with open(log_path, "ab") as log:
            km.start_kernel(env=self.sandbox.env(), stdout=log, stderr=log)
        kc = km.client()
        kc.start_channels()
        try:
            kc.wait_for_ready(timeout=max(1.0, min(self.startup_timeout, self.left())))
        except RuntimeError as exc:
            kc.stop_channels()
            self._kill(km)
            with open(log_path, "rb") as log:
                log.seek(max(0, os.path.getsize(log_path) - 1500))
                tail = log.read().decode(errors="replace").strip()
            raise RuntimeError(f"{exc}; kernel log: {tail[-1500:]}") from None
        self.km, self.kc = km, kc

    def _pgid(self, km=None):
        """The launcher's pid (its process group), or None once it has exited.

        An exited launcher is reaped by the first ``poll()``, and its pid can then be
        given to any new process, another grader's kernel included (fork bombs
        cycle through the 32,768 pids quickly): never signal it again.
        """
        km = km or self.km
        process = getattr(getattr(km, "provisioner", None), "process", None)
        if process is None or process.poll() is not None:
            return None
        return process.pid

    def _kill(self, km=None):
        km = km or self.km
        if km is None:
            return
        self.sandbox.kill_all(self._pgid(km))
        provisioner = getattr(km, "provisioner", None)
        if provisioner is not None and self._pgid(km) is None:
            # jupyter_client's kill signals the saved process group even after the
            # launcher was reaped; without it, it signals the Popen, which knows.
            provisioner.pgid = None
        try:
            km.shutdown_kernel(now=True)
        except Exception:
            pass
        try:
            km.cleanup_resources()
        except Exception:
            pass

    def alive(self) -> bool:
        return self.km is not None and self.km.is_alive()

    def restart(self):
        """A fresh kernel, if there is time left for one (else the session stays dead)."""
        if self.kc is not None:
            self.kc.stop_channels()
        self._kill()
        self.km = self.kc = None
        if self.left() > 0:
            self._start()

    def run(self, code: str, timeout: float) -> tuple[str, str]:
        """Runs code; returns (status, detail), status in ok/error/timeout/died.

        ``timeout`` is cut to the session's deadline; past it nothing is sent.
        """
        timeout = min(timeout, self.left())
        if timeout <= 0:
            return "timeout", "the submission ran out of time"
        if self.kc is None:
            return "died", "no kernel"
        kc = self.kc
        msg_id = kc.execute(
            code, silent=False, store_history=False, allow_stdin=False, stop_on_error=False
        )
        deadline = time.monotonic() + timeout
        while True:
            self._drain(deadline)
            reply = _get(kc.get_shell_msg, 0.1)
            if reply is not None and reply.get("parent_header", {}).get("msg_id") == msg_id:
                content = reply.get("content", {})
                if content.get("status") == "ok":
                    return "ok", ""
                return "error", f"{content.get('ename', '')}: {content.get('evalue', '')}"[:500]
            if not self.alive():
                return "died", ""
            if time.monotonic() > deadline:
                return self._interrupt(msg_id)

    def _drain(self, deadline: float):
        end = min(deadline, time.monotonic() + 0.5)
        while time.monotonic() < end:
            try:
                self.kc.get_iopub_msg(timeout=0)
            except queue.Empty:
                return
            except Exception:  # a forged or garbled message: dropped, the session goes on
                continue

    def _interrupt(self, msg_id: str) -> tuple[str, str]:
        # SIGINT to every process of the sandbox user: the kernel is in its own
        # session and PID namespace, out of reach of jupyter_client's killpg.
        self.sandbox.interrupt(self._pgid())
        end = time.monotonic() + max(0.5, min(5.0, self.left()))
        while time.monotonic() < end and self.alive():
            self._drain(end)
            reply = _get(self.kc.get_shell_msg, 0.2)
            if reply is None:
                continue
            if reply.get("parent_header", {}).get("msg_id") == msg_id:
                return "timeout", "interrupted"
        self.restart()  # it ignored the interrupt: kill it
        return "timeout", "killed"

    def close(self):
        if self.kc is not None:
            self.kc.stop_channels()
        self._kill()
        self.km = self.kc = None


def _get(method, timeout: float):
    """One message, or None when there is none in time or it is forged (bad signature)."""
    try:
        return method(timeout=timeout)
    except queue.Empty:
        return None
    except Exception:  # "Invalid Signature", bad JSON, ...: hostile data, dropped
        return None


def run_cells(
    session: KernelSession, sources: list[str], cell_timeout: float, deadline: float
) -> Run:
    """Runs code cells in order; records timeouts, deaths and OOM kills, and goes on."""
    run = Run()
    start = time.monotonic()
    for index, source in enumerate(sources):
        left = deadline - time.monotonic()
        if left <= 0:
            run.events.append(
                Event(
                    f"cell {index + 1}",
                    "submission_timeout",
                    "the submission ran out of time; later cells were not run",
                )
            )
            break
        status, detail = session.run(source, min(cell_timeout, left))
        run.cells_run += 1
        if status == "died":
            kind = "oom" if session.sandbox.oom_killed() else "died"
            run.events.append(Event(f"cell {index + 1}", kind))
            session.restart()
            if session.kc is None:
                continue  # no time left: the deadline check above records it
        elif status == "timeout":
            run.events.append(Event(f"cell {index + 1}", "timeout", detail))
        elif status == "error":
            run.events.append(Event(f"cell {index + 1}", "error", detail))
    run.seconds = time.monotonic() - start
    return run


def load_kernel_side(session: KernelSession, timeout: float = 60.0) -> tuple[str, str]:
    """Defines ``_cnnlabs_export`` in the kernel."""
    return session.run(KERNEL_SIDE.read_text(), timeout)
