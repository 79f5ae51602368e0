"""Shared test set-up: quiet TensorFlow, headless matplotlib, offline data location."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "datasets"

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")
if "CNNLABS_DATA_DIR" not in os.environ and SHARED_DATA.is_dir():
    os.environ["CNNLABS_DATA_DIR"] = str(SHARED_DATA)


def require_data(path: Path, what: str) -> None:
    """Skips locally when offline data is missing, but fails in CI, which installs it."""
    if path.exists():
        return
    message = f"{what} not found at {path}"
    if os.environ.get("CI"):
        pytest.fail(f"{message}; CI must provide it (see .ci/run).")
    pytest.skip(message)


@pytest.fixture(scope="session")
def mnist_test_set():
    """The official MNIST test set (10,000 images) from ../shared/datasets, as DatasetArrays."""
    data_dir = Path(os.environ.get("CNNLABS_DATA_DIR", SHARED_DATA))
    require_data(data_dir / "mnist" / "t10k-images-idx3-ubyte.gz", "The offline MNIST test set")
    from cnnlabs.datasets import load

    return load("mnist", data_dir=str(data_dir), download=False)


@pytest.fixture(scope="session")
def fashion_mnist():
    """All of Fashion-MNIST (60,000 + 10,000) from Debian's dataset-fashion-mnist."""
    require_data(
        Path("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"),
        "Fashion-MNIST (apt-get install dataset-fashion-mnist)",
    )
    from cnnlabs.datasets import load

    return load("fashion_mnist", download=False)


@pytest.fixture(scope="session")
def documented_params() -> dict[str, int]:
    """The parameter count of each registered model as docs/models.md's table states it."""
    docs = Path(__file__).resolve().parents[1] / "docs" / "models.md"
    rows = {}
    for line in docs.read_text().splitlines():
        match = re.match(r"\|\s*`([a-z0-9_]+)`\s*\|.*\|\s*([\d,]+)\s*\|\s*$", line)
        if match:
            rows[match.group(1)] = int(match.group(2).replace(",", ""))
    return rows
