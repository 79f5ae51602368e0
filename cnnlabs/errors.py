"""The exception for problems the user of a command can fix.

A command's handler raises `UserError` when the input is wrong in a way the user
can correct (an unknown lab, a folder that is not empty, a bad option value); the
`cnnlabs` command prints its message, without a traceback, and exits with 2.

It lives in its own module so that every layer (the dataset, training and
analysis commands, and the grader in `autograder`) can raise it without
importing the command line itself. `cnnlabs.cli.UserError` is the same class.
"""

from __future__ import annotations

__all__ = ["UserError"]


class UserError(Exception):
    """A problem the user can fix; printed without a traceback."""
