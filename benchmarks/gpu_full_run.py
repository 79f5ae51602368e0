"""Every lab's full profile, measured: wall time per lab and per cell, examples/s, accuracy.

Meant for a GPU machine (Colab, a cloud GPU). It runs each solution notebook
`solutions/NN_name.ipynb` top to bottom through nbclient in `CNNLABS_PROFILE=full`
(the students' run) and records, per lab:

- the wall time of the lab and of every code cell, and the kernel's peak resident
  memory (`benchmarks/lab_times.py` measures them);
- every training run (`cnnlabs.training.train` appends one JSON line per run to
  `$CNNLABS_TRAIN_LOG`, which this script sets per lab): the model, epochs,
  examples per epoch, seconds, examples/s (steady state, after the first epoch),
  final training and validation accuracy, test accuracy;
- a summary: the runs' total training seconds, median examples/s, the best test
  accuracy.

The figures go to a JSON file (`--json`, default `full_run.json`) together with the
machine (GPU name, TensorFlow version). `--update-readme` then writes the measured
minutes into the README's table of labs ("full" column, with the GPU named in the
header) from that JSON; until then the README says "estimate" beside each figure.

Usage (see docs/benchmarks.md):
    python benchmarks/gpu_full_run.py --json full_run.json                 # every lab
    python benchmarks/gpu_full_run.py 05 --json full_run_05.json           # some labs
    python benchmarks/gpu_full_run.py --update-readme full_run.json        # README only
    CNNLABS_PROFILE=dryrun python benchmarks/gpu_full_run.py --json dry.json  # rehearsal on a CPU

The profile is `full` unless `CNNLABS_PROFILE` says otherwise (`dryrun` rehearses the
script on a CPU with synthetic data, as lab_times.py does).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import lab_times  # noqa: E402

ROOT = lab_times.ROOT
README = ROOT / "README.md"


def machine() -> dict:
    """The device the labs ran on, as the labs' own setup cell reports it."""
    import tensorflow as tf

    from cnnlabs.env import detect_device

    info = detect_device()
    return {
        "device": info.kind,
        "name": info.name,
        "count": info.count,
        "colab": info.colab,
        "tensorflow": tf.__version__,
    }


def summarize(runs: list[dict]) -> dict:
    """Totals over one lab's training runs."""
    speeds = [r["examples_per_sec"] for r in runs if r.get("examples_per_sec")]
    tests = [r["test_accuracy"] for r in runs if r.get("test_accuracy") is not None]
    return {
        "training_runs": len(runs),
        "training_seconds": round(sum(r.get("seconds", 0.0) for r in runs), 1),
        "median_examples_per_sec": round(statistics.median(speeds)) if speeds else None,
        "best_test_accuracy": round(max(tests), 4) if tests else None,
    }


def run_lab(path: Path, timeout: int) -> dict:
    """One lab: its timings (every cell), its training runs and their summary."""
    with tempfile.TemporaryDirectory(prefix="cnnlabs_full_run_") as tmp:
        log = Path(tmp) / "train_log.jsonl"
        os.environ["CNNLABS_TRAIN_LOG"] = str(log)
        try:
            result = lab_times.time_notebook(path, timeout, all_cells=True, progress=True)
        finally:
            os.environ.pop("CNNLABS_TRAIN_LOG", None)
        runs = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    result["training"] = runs
    result["summary"] = summarize(runs)
    return result


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.0f} s"


def update_readme(figures: dict, readme: Path = README) -> list[str]:
    """Writes the measured minutes into the README's "full" column; returns the labs updated.

    The table's header names the device; a lab without a measurement (or whose run
    failed) keeps its estimate. Only runs of the full profile are written.

    Raises:
        ValueError: if the figures are not of the full profile, or the README has no
            table of labs with a "full" column.
    """
    if figures.get("profile") != "full":
        raise ValueError(
            f"the figures are of the {figures.get('profile')!r} profile, not 'full': only a "
            "full-profile run may replace the README's estimates. Run the script with "
            "CNNLABS_PROFILE=full (the default)."
        )
    lines = readme.read_text().splitlines(keepends=True)
    header = next(
        (i for i, line in enumerate(lines) if line.startswith("| lab |") and "| full" in line),
        None,
    )
    if header is None:
        raise ValueError(
            f"{readme} has no table of labs with a 'full' column (| lab | ... | full ...|)."
        )
    columns = [c.strip() for c in lines[header].strip().strip("|").split("|")]
    full = next(i for i, c in enumerate(columns) if c.startswith("full"))
    measured = {
        lab["lab"][:2]: lab
        for lab in figures["labs"]
        if not lab.get("error") and lab.get("seconds")
    }
    updated, rows = [], 0
    for i in range(header + 2, len(lines)):
        if not lines[i].startswith("|"):
            break
        rows += 1
        cells = [c.strip() for c in lines[i].strip().strip("|").split("|")]
        number = re.search(r"\[(\d\d) ", cells[0])
        if number and number.group(1) in measured:
            cells[full] = f"{_minutes(measured[number.group(1)]['seconds'])} (measured)"
            lines[i] = "| " + " | ".join(cells) + " |\n"
            updated.append(measured[number.group(1)]["lab"])
    if updated:
        device = figures.get("machine", {}).get("name", "GPU")
        date = figures.get("date", "")[:10]
        rest = "" if len(updated) == rows else "; the others: estimate"
        columns[full] = f"full ({device}, measured {date}{rest})"
        lines[header] = "| " + " | ".join(columns) + " |\n"
        readme.write_text("".join(lines))
    return updated


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("labs", nargs="*", help="lab numbers or names (default: all)")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds per cell")
    parser.add_argument("--json", type=Path, default=Path("full_run.json"), help="figures go here")
    parser.add_argument(
        "--update-readme",
        type=Path,
        metavar="JSON",
        help="only rewrite the README's 'full' column from this JSON (no lab is run)",
    )
    parser.add_argument(
        "--synthetic-dir", type=Path, help="dryrun profile only: as in lab_times.py"
    )
    args = parser.parse_args()
    if args.update_readme:
        updated = update_readme(json.loads(args.update_readme.read_text()))
        print(f"README.md: full column measured for {', '.join(updated) or 'no lab'}")
        return
    profile = os.environ.setdefault("CNNLABS_PROFILE", "full")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("MPLBACKEND", "Agg")
    if profile.strip().lower() == "dryrun":
        lab_times.synthetic_data(args.synthetic_dir)
    figures = {
        "profile": profile,
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "labs": [],
    }
    print(f"profile {profile} on {figures['machine']}", flush=True)
    for path in lab_times.solution_notebooks(args.labs):
        lab = run_lab(path, args.timeout)
        figures["labs"].append(lab)
        args.json.write_text(json.dumps(figures, indent=2))  # after every lab: nothing lost
        summary = lab["summary"]
        speed = summary["median_examples_per_sec"]
        best = summary["best_test_accuracy"]
        print(
            f"{lab['lab']:<28} {lab['seconds']:8.1f} s  peak {lab['peak_rss_mib'] or 0:>6,} MiB  "
            f"{summary['training_runs']} runs, {summary['training_seconds']:.0f} s training, "
            f"median {speed or 0:,} examples/s, best test accuracy "
            f"{'-' if best is None else f'{best:.2%}'}"
            + (f"  FAILED at {lab['error']}" if lab["error"] else ""),
            flush=True,
        )
    print(f"figures written to {args.json}; README: --update-readme {args.json}")
    if any(lab["error"] for lab in figures["labs"]):
        sys.exit("some labs failed: see 'error' in the JSON")


if __name__ == "__main__":
    main()
