"""The full profile, dry: every solution notebook top to bottom in `CNNLABS_PROFILE=dryrun`.

The dryrun profile keeps the full profile's choices (CIFAR-10 and the full MNIST
training set, 20-56-layer networks, every epoch and seed, the plots) and caps each
epoch to two training steps and each evaluation to two batches (cnnlabs.profiles,
cnnlabs.training). The data is synthetic, written once per session in the genuine
formats and real sizes (`cnnlabs.datasets.synthetic`), so a shape error on 32x32
CIFAR images, a plot that assumes one seed or an oversized array fails here
instead of in front of a class on Colab.

Marked `dryrun` (not in the default run). Run with
`pytest -m dryrun tests/labs/test_dryrun.py`; the durations go to docs/benchmarks.md.
"""

from __future__ import annotations

import time
from pathlib import Path

import nbformat
import pytest
from labrun import stdout

from autograder.assign import available_labs
from cnnlabs.datasets.synthetic import write_synthetic

ROOT = Path(__file__).resolve().parents[2]
LABS = available_labs(ROOT)

pytestmark = pytest.mark.dryrun

# Labs whose full profile needs what no synthetic file stands in for (the dry run is
# offline); each is skipped with its reason, so the tier says what it did not run.
OUT_OF_REACH = {
    "07_efficient_transfer": "its full profile downloads tf_flowers (tensorflow-datasets) and "
    "MobileNetV2's ImageNet weights (keras.applications); cnnlabs.datasets.synthetic writes "
    "neither",
}


@pytest.fixture(scope="session")
def synthetic_data(tmp_path_factory) -> Path:
    """Synthetic MNIST and CIFAR-10 at their real sizes, written once per session."""
    root = Path(tmp_path_factory.mktemp("synthetic"))
    write_synthetic(root)
    return root


@pytest.mark.parametrize("lab", LABS)
def test_the_solution_runs_top_to_bottom_in_the_dry_run_of_the_full_profile(
    lab, synthetic_data, monkeypatch, tmp_path
):
    from nbclient import NotebookClient

    if lab in OUT_OF_REACH:
        pytest.skip(f"{lab}: {OUT_OF_REACH[lab]}")
    monkeypatch.setenv("CNNLABS_PROFILE", "dryrun")
    monkeypatch.setenv("CNNLABS_DATA_DIR", str(synthetic_data))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    nb = nbformat.read(ROOT / "solutions" / f"{lab}.ipynb", as_version=4)
    start = time.perf_counter()
    NotebookClient(
        nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()  # raises CellExecutionError, naming the cell, if any cell fails
    print(f"{lab}: dry run of the full profile in {time.perf_counter() - start:.0f} s")
    text = stdout(nb)
    # Every output says what it is: the profile banner, and the loader's banner for the
    # synthetic data.
    assert "profile dryrun." in text and "*** DRY RUN of the full profile" in text
    assert "*** SYNTHETIC DATA: " in text, f"{lab} loaded no synthetic dataset"
    assert "Smoke profile" not in text, f"{lab} took a smoke-profile branch in the dry run"
