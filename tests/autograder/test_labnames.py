"""The one lab resolver (cnnlabs.checks.labnames) behind checker(), assign and grade."""

from __future__ import annotations

import pytest

from autograder.labfiles import resolve_labs
from cnnlabs.checks.labnames import close_labs, match_lab
from cnnlabs.checks.spec import resolve_lab

STEMS = ["01_lenet5", "02_alexnet", "10_vit"]


@pytest.mark.parametrize(
    ("name", "stem"),
    [
        ("01_lenet5", "01_lenet5"),
        ("01_lenet5.ipynb", "01_lenet5"),
        ("labs/source/02_alexnet.py", "02_alexnet"),
        ("1", "01_lenet5"),
        ("01", "01_lenet5"),
        (1, "01_lenet5"),
        ("1_lenet5", "01_lenet5"),
        ("alexnet", "02_alexnet"),
        ("10", "10_vit"),
        (" 2 ", "02_alexnet"),
        ("3", None),
        ("lenet", None),
        ("1_alexnet", None),
        ("", None),
    ],
)
def test_match_lab(name, stem):
    assert match_lab(name, STEMS) == stem


def test_an_ambiguous_name_matches_nothing():
    assert match_lab("net", ["01_net", "02_net"]) is None
    assert match_lab("1", ["01_a", "01_b"]) is None


def test_close_labs_suggests_by_spelling():
    assert close_labs("01_lenet", STEMS)[0] == "01_lenet5"
    assert close_labs("10_vvit.ipynb", STEMS)[0] == "10_vit"
    assert close_labs("zzz", STEMS) == []


def test_the_checks_and_the_grader_resolve_alike(tmp_path):
    """The same names give the same lab in cnnlabs.checks and in autograder.labfiles."""
    source = tmp_path / "labs" / "source"
    source.mkdir(parents=True)
    for stem in ("01_lenet5", "05_resnet"):
        (source / f"{stem}.py").write_text("# %% [markdown]\n# lab\n")
    for name in ("1", "01", "lenet5", "05_resnet", "5_resnet", "resnet.ipynb"):
        assert [lab.name for lab in resolve_labs([name], tmp_path)] == [resolve_lab(name)]
