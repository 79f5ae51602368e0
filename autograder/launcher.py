"""Starts a command inside the sandbox; runs as root, outside it, just before.

Joins the submission's cgroups (every later process of the sandbox is then in
them, bubblewrap's included), sets the rlimits and execs the rest of the command
line: ``bwrap ... setpriv ... <kernel>``. In the fallback without bubblewrap
(already inside ``unshare --net --mount``) it also hides grader paths behind empty
tmpfs mounts and drops to the sandbox user itself. Used only by
``autograder.sandbox.Sandbox.command``.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scratch", required=True)
    parser.add_argument("--uid", type=int)
    parser.add_argument("--gid", type=int)
    parser.add_argument("--cgroup", action="append", default=[], help="a cgroup.procs file")
    parser.add_argument("--hide", action="append", default=[])
    parser.add_argument("--cpu", type=int, required=True)
    parser.add_argument("--nproc", type=int)
    parser.add_argument("--fsize", type=int, required=True)
    parser.add_argument("--as", dest="address_space", type=int)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command

    for procs in args.cgroup:
        with open(procs, "w") as handle:
            handle.write(str(os.getpid()))
    for path in args.hide:
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=1k,mode=000", "tmpfs", path], check=True
        )

    resource.setrlimit(resource.RLIMIT_CPU, (args.cpu, args.cpu))
    resource.setrlimit(resource.RLIMIT_FSIZE, (args.fsize, args.fsize))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if args.address_space:
        resource.setrlimit(resource.RLIMIT_AS, (args.address_space, args.address_space))
    if args.nproc:  # counted per real uid: binds once setpriv (or setuid below) drops root
        resource.setrlimit(resource.RLIMIT_NPROC, (args.nproc, args.nproc))
    os.chdir(args.scratch)
    if args.uid is not None:
        if args.uid == 0 or args.gid == 0:
            raise SystemExit("launcher: refusing to run a sandbox as uid/gid 0")
        os.setgroups([])
        os.setresgid(args.gid, args.gid, args.gid)
        os.setresuid(args.uid, args.uid, args.uid)
    os.umask(0o077)
    os.execv(command[0], command)


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
