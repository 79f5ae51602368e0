"""Fixtures shared by the labs' tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def grade_profile(monkeypatch):
    """The grade profile, as the grader runs a notebook (offline data from ../shared)."""
    monkeypatch.setenv("CNNLABS_PROFILE", "grade")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    if not os.environ.get("CNNLABS_DATA_DIR") and (ROOT.parent / "shared" / "datasets").is_dir():
        monkeypatch.setenv("CNNLABS_DATA_DIR", str(ROOT.parent / "shared" / "datasets"))
