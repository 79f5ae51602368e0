"""What `cnnlabs grade` shows while it grades a class: progress, an ETA, one line per submission.

On a terminal a rich progress bar (done / to grade, elapsed, ETA) sits under the
lines; elsewhere (a log file, CI, a pipe) only the plain lines are printed, one
per submission, each with the ETA:

    [2/5] alice: 5/5 graded in 12.3 s (eta 0:37)
    bob: skipped, graded before and unchanged (3/5; --regrade grades it again)

The ETA is the wall clock of this run so far divided by the submissions it has
graded, times those left: it counts the parallel workers and the machine's load
as they are, and skipped submissions (instant) do not distort it.
"""

from __future__ import annotations

import sys
import time


def clock(seconds: float) -> str:
    """``0:37``, ``12:05``, ``2:03:00``."""
    seconds = max(0, int(round(seconds)))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class GradingProgress:
    """Progress of one grading run.

    Args:
        lab: str, the lab's stem (the bar's label).
        to_grade: int, the submissions this run will grade (skipped ones excluded).
        enabled: bool, False prints nothing (``grade_batch(progress=False)``).
        stream: file, where lines go (default ``sys.stdout``); a rich bar is drawn
            only when it is a terminal.
    """

    def __init__(self, lab: str, to_grade: int, *, enabled: bool = True, stream=None):
        self.lab = lab
        self.to_grade = to_grade
        self.enabled = enabled
        self.stream = stream or sys.stdout
        self.done = 0
        self.start = time.monotonic()
        self._bar = self._task = None
        if enabled and to_grade and getattr(self.stream, "isatty", lambda: False)():
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self._bar = Progress(
                TextColumn("grading {task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("eta {task.fields[eta]}"),
                console=Console(file=self.stream),
                transient=False,
            )
            self._task = self._bar.add_task(lab, total=to_grade, eta="-")
            self._bar.start()

    def eta(self) -> str:
        """Time left, from this run's pace so far (``-`` before the first submission)."""
        if not self.done:
            return "-"
        left = self.to_grade - self.done
        return clock((time.monotonic() - self.start) / self.done * left)

    def line(self, text: str) -> None:
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.console.print(text, markup=False, highlight=False)
        else:
            print(text, file=self.stream, flush=True)

    def skipped(self, result) -> None:
        self.line(
            f"{result.submission}: skipped, graded before and unchanged "
            f"({result.score:g}/{result.max_score:g}; --regrade grades it again)"
        )

    def graded(self, result, status: str) -> None:
        self.done += 1
        eta = self.eta()
        self.line(
            f"[{self.done}/{self.to_grade}] {result.submission}: "
            f"{result.score:g}/{result.max_score:g} {status} in {result.seconds:.1f} s (eta {eta})"
        )
        if self._bar is not None:
            self._bar.update(self._task, advance=1, eta=eta)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
