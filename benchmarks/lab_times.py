"""Wall-clock time of every solution notebook in the current profile, cell by cell.

Runs `solutions/NN_name.ipynb` top to bottom through nbclient (the path nbval and
the grader take), in the profile that CNNLABS_PROFILE selects (`smoke` on a CPU for
CI and nbval, `grade` as the autograder runs it, `full` on a Colab-class GPU, `dryrun`
for the full profile's choices capped to a few steps per epoch on a CPU), and prints
per lab its total time, the peak resident memory of its kernel (VmHWM) and its
slowest cells. Nothing is written back to the notebooks.

In the dryrun profile the script first writes synthetic MNIST and CIFAR-10 in their
genuine formats and real sizes (`cnnlabs.datasets.synthetic`) into a temporary
folder and points `CNNLABS_DATA_DIR` at it (`--synthetic-dir DIR` keeps them in DIR,
reused when already there): no dataset needs to be present.

Usage:
    CNNLABS_PROFILE=smoke python benchmarks/lab_times.py            # every lab
    CNNLABS_PROFILE=full python benchmarks/lab_times.py 01 05       # some labs
    CNNLABS_PROFILE=dryrun python benchmarks/lab_times.py           # full choices, synthetic data
    python benchmarks/lab_times.py --json times.json
    python benchmarks/lab_times.py --grading 01 05                  # grading budget
    python benchmarks/lab_times.py --grading --skip-graded-smoke    # without the 'before' column

`--grading` measures the grading budget side by side, lab by lab in one run: the
floor (a notebook that only imports TensorFlow and cnnlabs, through nbclient), the
solution through plain nbclient in the smoke profile, and `grade_batch` grading
two rounds of `--workers` copies of the solution at once in the sandbox, first in
the smoke profile (how grading ran before the grade profile) then in the grade
profile: each submission's own `seconds` (its grade.json), where they went (its
`phases`) and the class throughput. The second round is a class's steady state: the
first one also pays for what a batch starts once (TensorFlow in the grader and in
each slot's model worker); the table's "each" figures are the second round's.

The smoke budget is "about 2 minutes or less per lab on the 2-core CPU"; the full
budget "about 15 minutes or less on a Colab T4". Figures go into docs/benchmarks.md
and the README's table of labs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parents[1]


def solution_notebooks(selected: list[str]) -> list[Path]:
    notebooks = sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))
    if selected:
        notebooks = [p for p in notebooks if any(p.stem.startswith(s) for s in selected)]
    if not notebooks:
        sys.exit(f"no solution notebook matches {selected}; see {ROOT / 'solutions'}")
    return notebooks


def peak_rss_mib(pid: int) -> float | None:
    """The peak resident memory (VmHWM) of a live process, in MiB; None where /proc lacks it."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return None


def cpu_seconds(pid: int) -> float | None:
    """User plus system CPU seconds of a live process so far (on a loaded machine the wall
    time grows, this does not); None where /proc lacks it."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class TimedClient(NotebookClient):
    """An nbclient client that records each code cell's wall-clock seconds and the
    kernel's peak resident memory (read after every cell, while the kernel lives)."""

    def __init__(self, *args, progress: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.progress = progress
        self.cell_seconds: list[tuple[float, int, str]] = []
        self.peak_rss_mib: float | None = None
        self.cpu_seconds: float | None = None

    async def async_execute_cell(self, cell, cell_index, *args, **kwargs):
        start = time.perf_counter()
        try:
            return await super().async_execute_cell(cell, cell_index, *args, **kwargs)
        finally:
            if cell.cell_type == "code":
                first = next((line for line in cell.source.splitlines() if line.strip()), "")
                self.cell_seconds.append((time.perf_counter() - start, cell_index, first[:60]))
                process = getattr(getattr(self.km, "provisioner", None), "process", None)
                peak = peak_rss_mib(process.pid) if process is not None else None
                if peak is not None:
                    self.peak_rss_mib = max(peak, self.peak_rss_mib or 0.0)
                if process is not None:
                    self.cpu_seconds = cpu_seconds(process.pid)
                if self.progress:
                    seconds, _, text = self.cell_seconds[-1]
                    print(f"  cell {cell_index:>3} {seconds:7.1f} s  ({text})", flush=True)


def time_notebook(
    path: Path, timeout: int, all_cells: bool = False, progress: bool = False
) -> dict:
    """Runs one notebook; its seconds, peak kernel memory and slowest (or all) cells.

    A cell that raises stops the run: the error is recorded under "error" (with the
    cell) instead of raised, so the other labs still run.
    """
    nb = nbformat.read(path, as_version=4)
    client = TimedClient(
        nb,
        progress=progress,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.perf_counter()
    error = None
    try:
        client.execute()
    except CellExecutionError as exc:
        error = (
            f"cell {client.cell_seconds[-1][1] if client.cell_seconds else '?'}: "
            + (str(exc).strip().splitlines() or ["?"])[-1][:500]
        )
    total = time.perf_counter() - start
    slowest = sorted(client.cell_seconds, reverse=True)[:3]
    result = {
        "lab": path.stem,
        "seconds": round(total, 1),
        "peak_rss_mib": None if client.peak_rss_mib is None else round(client.peak_rss_mib),
        "kernel_cpu_seconds": None if client.cpu_seconds is None else round(client.cpu_seconds, 1),
        "error": error,
        "slowest_cells": [
            {"cell": i, "seconds": round(s, 1), "starts": text} for s, i, text in slowest
        ],
    }
    if all_cells:
        result["cells"] = [
            {"cell": i, "seconds": round(s, 2), "starts": text}
            for s, i, text in client.cell_seconds
        ]
    return result


FLOOR_SOURCE = "import tensorflow as tf\nimport cnnlabs\nprint(tf.__version__)"


def time_floor(timeout: int) -> float:
    """Seconds nbclient takes for a notebook that only imports TensorFlow and cnnlabs."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(FLOOR_SOURCE)])
    start = time.perf_counter()
    NotebookClient(nb, timeout=timeout, kernel_name="python3").execute()
    return time.perf_counter() - start


def time_grading(path: Path, workers: int, profile: str = "grade") -> dict:
    """Grades 2 x `workers` copies of a solution, `workers` at once; each one's seconds and the batch's.

    `profile="smoke"` grades as the autograder did before the grade profile existed:
    the sandbox's environment is patched in this process only, for the comparison.
    """
    import shutil
    import statistics
    import tempfile

    from autograder import sandbox
    from autograder.batch import grade_batch

    env = sandbox.Sandbox.env
    if profile != "grade":
        sandbox.Sandbox.env = lambda self: {**env(self), "CNNLABS_PROFILE": profile}
    try:
        with tempfile.TemporaryDirectory(prefix="lab_times_") as tmp:
            subs = Path(tmp) / "subs"
            subs.mkdir()
            for i in range(2 * workers):
                shutil.copy(path, subs / f"copy{i}.ipynb")
            start = time.perf_counter()
            batch = grade_batch(
                path.stem,
                [subs],
                Path(tmp) / "out",
                workers=workers,
                hidden_dir=ROOT / "labs" / "hidden",
                progress=False,
            )
            wall = time.perf_counter() - start
    finally:
        sandbox.Sandbox.env = env
    steady = batch.results[workers:]  # the second round (copies are started in order)
    seconds = [r.seconds for r in steady]
    names = [name for r in steady for name in r.phases]
    phases = {
        name: round(statistics.median(r.phases.get(name, 0.0) for r in steady), 1)
        for name in dict.fromkeys(names)
    }
    return {
        "first_round": [round(r.seconds, 1) for r in batch.results[:workers]],
        "per_submission": [round(s, 1) for s in seconds],
        "phases": phases,  # median seconds of each phase (grade.json's "phases")
        "median": round(statistics.median(seconds), 1),
        "batch_seconds": round(wall, 1),
        "per_hour": round(len(batch.results) / wall * 3600),
        "full_marks": all(r.score == r.max_score for r in batch.results),
    }


def grading_benchmark(
    notebooks: list[Path], workers: int, timeout: int, graded_smoke: bool = True
) -> list[dict]:
    """Floor, plain smoke execution, grading in smoke (unless `graded_smoke` is False) and
    grade profiles, lab after lab."""
    rows = []
    print(
        f"{'lab':<26}{'floor':>7}{'nbclient smoke':>16}{'graded smoke (each)':>21}"
        f"{'graded grade (each)':>21}{'speed-up':>10}{'submissions/h':>15}",
        flush=True,
    )
    for path in notebooks:
        floor = round(time_floor(timeout), 1)
        os.environ["CNNLABS_PROFILE"] = "smoke"
        smoke = time_notebook(path, timeout)["seconds"]
        before = time_grading(path, workers, "smoke") if graded_smoke else None
        after = time_grading(path, workers, "grade")
        row = {
            "lab": path.stem,
            "floor_seconds": floor,
            "nbclient_smoke_seconds": smoke,
            "graded_smoke": before,
            "graded_grade": after,
        }
        rows.append(row)
        full = all(phase["full_marks"] for phase in (before, after) if phase)
        marks = "" if full else "   NOT full marks"
        before_each = ", ".join(map(str, before["per_submission"])) + "s" if before else "-"
        speed_up = f"{before['median'] / after['median']:.1f}x" if before else "-"
        per_hour = (
            f"{before['per_hour']} -> {after['per_hour']}" if before else f"{after['per_hour']}"
        )
        print(
            f"{path.stem:<26}{floor:>6.1f}s{smoke:>15.1f}s{before_each:>21}"
            f"{', '.join(map(str, after['per_submission'])):>20}s{speed_up:>10}"
            f"{per_hour:>15}   x floor {after['median'] / floor:.1f}, "
            f"x nbclient smoke {after['median'] / smoke:.2f}{marks}",
            flush=True,
        )
        where = ", ".join(f"{name} {sec:.1f}s" for name, sec in after["phases"].items())
        first = ", ".join(map(str, after["first_round"]))
        print(
            f"{'':<26}second round's seconds (median): {where}; first round {first}s",
            flush=True,
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("labs", nargs="*", help="lab numbers or names (default: all)")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per cell")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--grading", action="store_true", help="measure the grading budget (see the module doc)"
    )
    parser.add_argument("--workers", type=int, default=2, help="with --grading: parallel sandboxes")
    parser.add_argument(
        "--skip-graded-smoke",
        action="store_true",
        help="with --grading: leave out grading in the smoke profile (the 'before' column)",
    )
    parser.add_argument("--progress", action="store_true", help="print every cell as it ends")
    parser.add_argument(
        "--synthetic-dir",
        type=Path,
        help="dryrun profile: write (or reuse) the synthetic datasets here (default: a temporary folder)",
    )
    args = parser.parse_args()
    if os.environ.get("CNNLABS_DATA_DIR"):
        # The notebooks run with their own folder as the working directory.
        os.environ["CNNLABS_DATA_DIR"] = str(Path(os.environ["CNNLABS_DATA_DIR"]).resolve())
    if args.grading:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        os.environ.setdefault("MPLBACKEND", "Agg")
        print(
            f"grading budget, {platform.node()}, {os.cpu_count()} CPUs, --workers {args.workers}, "
            f"CNNLABS_DATA_DIR={os.environ.get('CNNLABS_DATA_DIR', '(unset)')}",
            flush=True,
        )
        rows = grading_benchmark(
            solution_notebooks(args.labs), args.workers, args.timeout, not args.skip_graded_smoke
        )
        if args.json:
            args.json.write_text(json.dumps({"grading": rows}, indent=2))
        return
    profile = os.environ.setdefault("CNNLABS_PROFILE", "full")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("MPLBACKEND", "Agg")
    if profile.strip().lower() == "dryrun":
        synthetic_data(args.synthetic_dir)
    print(
        f"profile {profile}, {platform.node()}, {os.cpu_count()} CPUs, "
        f"CNNLABS_DATA_DIR={os.environ.get('CNNLABS_DATA_DIR', '(unset)')}",
        flush=True,
    )
    results = []
    for path in solution_notebooks(args.labs):
        result = time_notebook(path, args.timeout, progress=args.progress)
        results.append(result)
        cells = "; ".join(
            f"cell {c['cell']} {c['seconds']:.0f} s ({c['starts']})"
            for c in result["slowest_cells"]
        )
        peak = "?" if result["peak_rss_mib"] is None else f"{result['peak_rss_mib']:,}"
        cpu = result["kernel_cpu_seconds"]
        print(
            f"{result['lab']:<28} {result['seconds']:7.1f} s  peak {peak:>6} MiB  kernel CPU "
            f"{'?' if cpu is None else f'{cpu:.0f}'} s   slowest: {cells}",
            flush=True,
        )
        if result["error"]:
            print(f"{'':<28} FAILED at {result['error']}", flush=True)
    peaks = [r["peak_rss_mib"] for r in results if r["peak_rss_mib"] is not None]
    print(
        f"{'all labs':<28} {sum(r['seconds'] for r in results):7.1f} s  "
        f"peak {max(peaks, default=0):>6,} MiB"
    )
    if args.json:
        args.json.write_text(json.dumps({"profile": profile, "labs": results}, indent=2))
    failed = [r["lab"] for r in results if r["error"]]
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


def synthetic_data(folder: Path | None) -> Path:
    """Writes the synthetic datasets (unless `folder` already holds them) and points
    CNNLABS_DATA_DIR at them, loudly."""
    import atexit
    import shutil
    import tempfile

    from cnnlabs.datasets.synthetic import DEFAULT_DATASETS, dataset_folder, read_marker

    if folder is None:
        folder = Path(tempfile.mkdtemp(prefix="cnnlabs_synthetic_"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
    missing = [n for n in DEFAULT_DATASETS if read_marker(dataset_folder(folder, n)) is None]
    if missing:
        from cnnlabs.datasets.synthetic import write_synthetic

        start = time.perf_counter()
        write_synthetic(folder, missing)
        print(
            f"wrote SYNTHETIC {', '.join(missing)} to {folder} in "
            f"{time.perf_counter() - start:.0f} s",
            flush=True,
        )
    os.environ["CNNLABS_DATA_DIR"] = str(folder)
    print(
        f"*** DRY RUN: every dataset below is SYNTHETIC ({folder}); times and memory are "
        "real, accuracies mean nothing. ***",
        flush=True,
    )
    return folder


if __name__ == "__main__":
    main()
