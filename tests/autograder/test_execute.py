"""The kernel session's clean-up never signals a pid that is no longer its own."""

from __future__ import annotations

import subprocess

from jupyter_client import KernelManager
from jupyter_client.provisioning.local_provisioner import LocalProvisioner

from autograder.execute import KernelSession


class _Recorder:
    """Stands in for the sandbox: records what kill_all was asked to signal."""

    def __init__(self):
        self.pgids = []

    def kill_all(self, pgid=None):
        self.pgids.append(pgid)


def test_a_reaped_kernel_launcher_is_never_signalled_again():
    # Once the launcher has exited and been reaped, its pid (and process group id) can
    # be handed to any new process: here a stand-in for another grader's kernel.
    victim = subprocess.Popen(["sleep", "60"], start_new_session=True)
    try:
        launcher = subprocess.Popen(["true"])
        launcher.wait()
        provisioner = LocalProvisioner(kernel_id="k", kernel_spec=None, connection_info={})
        provisioner.process = launcher
        provisioner.pgid = victim.pid  # what jupyter_client saved, now someone else's group
        km = KernelManager()
        km.provisioner = provisioner
        session = KernelSession.__new__(KernelSession)
        session.sandbox = _Recorder()
        session.km = km
        assert session._pgid() is None
        session._kill(km)
        assert session.sandbox.pgids == [None]
        assert victim.poll() is None, "the reused pid's process group was killed"
    finally:
        victim.kill()
        victim.wait()
