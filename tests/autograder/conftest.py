"""Grading tests on machines without the grading sandbox (a non-root laptop).

``cnnlabs grade`` and ``grade_submission`` refuse to grade where the sandbox is
not strong (``autograder.machine.require``). A test that meets that refusal,
raised (``SandboxUnavailable``) or printed by the CLI ("refusing to grade: ..."),
is reported as skipped with the reason, except in CI (``$CI`` set), which must
provide the sandbox, and except on a machine where the sandbox is strong (there
the refusal is a real failure).
"""

from __future__ import annotations

import os

import pytest

from autograder.machine import SandboxUnavailable, detect

REFUSAL = "refusing to grade: "


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if call.excinfo is None or not report.failed or os.environ.get("CI"):
        return
    text = str(call.excinfo.value) + str(report.longrepr)
    if not (call.excinfo.errisinstance(SandboxUnavailable) or REFUSAL in text):
        return
    caps = detect()
    if caps.level == "strong":
        return
    reason = text[text.find(REFUSAL) :].split("\n")[0] if REFUSAL in text else text
    report.outcome = "skipped"
    report.longrepr = (
        str(item.path),
        item.location[1] or 0,
        f"Skipped: needs the grading sandbox ({caps.describe()} here): {reason[:300]}",
    )
