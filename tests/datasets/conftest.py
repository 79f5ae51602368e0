"""Fixtures for the dataset tests: the real offline data and an isolated lookup."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def real_data_dir() -> Path:
    """$CNNLABS_DATA_DIR, else ../shared/datasets beside the checkout."""
    return Path(os.environ.get("CNNLABS_DATA_DIR") or REPO.parent / "shared" / "datasets")


def need(path: Path, what: str) -> Path:
    """Skips locally when real offline data is missing; fails in CI, which installs it."""
    if not path.exists():
        message = f"{what} not found at {path}"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; CI must provide it.")
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def shared_mnist() -> Path:
    """The folder with the official MNIST test set (t10k-*.gz)."""
    folder = real_data_dir() / "mnist"
    need(folder / "t10k-images-idx3-ubyte.gz", "The offline MNIST test set")
    return folder


@pytest.fixture(scope="session")
def debian_fashion() -> Path:
    folder = Path("/usr/share/datasets/fashion-mnist")
    need(
        folder / "train-images-idx3-ubyte.gz",
        "Fashion-MNIST (Debian package dataset-fashion-mnist)",
    )
    return folder


@pytest.fixture
def isolated(tmp_path, monkeypatch) -> Path:
    """No $CNNLABS_DATA_DIR, and an empty Keras cache at tmp/keras/datasets; returns tmp/keras."""
    keras_home = tmp_path / "keras"
    monkeypatch.setenv("KERAS_HOME", str(keras_home))
    monkeypatch.delenv("CNNLABS_DATA_DIR", raising=False)
    return keras_home
