"""benchmarks/gpu_full_run.py: the README's "full" column from a full-profile run's JSON."""

from __future__ import annotations

import importlib.util
import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _script(name: str):
    path = ROOT / "benchmarks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"benchmarks_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def full_run():
    return _script("gpu_full_run")


def _full_column(readme: str) -> list[str]:
    rows = [line for line in readme.splitlines() if line.startswith(("| lab |", "| ["))]
    header = [c.strip() for c in rows[0].strip("|").split("|")]
    index = next(i for i, c in enumerate(header) if c.startswith("full"))
    return [[c.strip() for c in row.strip("|").split("|")][index] for row in rows]


def test_until_measured_the_readme_says_estimate_beside_every_full_figure():
    column = _full_column((ROOT / "README.md").read_text())
    assert column[0].startswith("full (")
    for cell in column[1:]:
        assert re.fullmatch(r"~\d+(-\d+)? min \(estimate\)|[\d.]+ (min|s) \(measured\)", cell), cell


def test_update_readme_writes_measured_labs_and_keeps_the_others_estimates(full_run, tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text((ROOT / "README.md").read_text())
    labs = [{"lab": "01_lenet5", "seconds": 421.0}, {"lab": "05_resnet", "seconds": 58.2}]
    labs.append({"lab": "02_alexnet", "seconds": 99.0, "error": "cell 12: ValueError: ..."})
    figures = {"profile": "full", "date": "2026-12-02T10:00:00+00:00", "labs": labs}
    figures["machine"] = {"name": "NVIDIA H200"}
    assert full_run.update_readme(figures, readme) == ["01_lenet5", "05_resnet"]
    column = _full_column(readme.read_text())
    assert column[0] == "full (NVIDIA H200, measured 2026-12-02; the others: estimate)"
    assert column[1] == "7.0 min (measured)" and column[5] == "58 s (measured)"
    estimates = _full_column((ROOT / "README.md").read_text())
    assert column[2] == estimates[2]  # its run failed: the estimate stays
    # Every other line of the README is untouched.
    before, after = (ROOT / "README.md").read_text().splitlines(), readme.read_text().splitlines()
    assert len(before) == len(after)
    assert sum(a != b for a, b in zip(before, after)) == 3


def test_only_a_full_profile_run_may_replace_the_estimates(full_run, tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text((ROOT / "README.md").read_text())
    with pytest.raises(ValueError) as err:
        full_run.update_readme({"profile": "dryrun", "labs": []}, readme)
    assert str(err.value) == (
        "the figures are of the 'dryrun' profile, not 'full': only a full-profile run may "
        "replace the README's estimates. Run the script with CNNLABS_PROFILE=full (the default)."
    )
    assert readme.read_text() == (ROOT / "README.md").read_text()


def test_summarize_totals_a_labs_training_runs(full_run):
    runs = [
        {"seconds": 10.0, "examples_per_sec": 3000.0, "test_accuracy": 0.61},
        {"seconds": 5.5, "examples_per_sec": 1000.0, "test_accuracy": None},
        {"seconds": 2.0, "examples_per_sec": 2000.0, "test_accuracy": 0.72},
    ]
    assert full_run.summarize(runs) == {
        "training_runs": 3,
        "training_seconds": 17.5,
        "median_examples_per_sec": 2000,
        "best_test_accuracy": 0.72,
    }


def test_lab_times_reads_a_live_processs_peak_memory_and_cpu_time():
    lab_times = _script("lab_times")
    ballast = b"x" * (64 << 20)  # 64 MiB, written
    assert lab_times.peak_rss_mib(os.getpid()) >= 64
    assert lab_times.cpu_seconds(os.getpid()) > 0
    assert lab_times.peak_rss_mib(2**22 + 12345) is None  # no such process
    del ballast
