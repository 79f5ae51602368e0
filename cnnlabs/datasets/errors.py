"""The three ways loading a dataset can fail, each with a message a student can act on.

The classes derive from the built-in exceptions that describe them
(`FileNotFoundError`, `ValueError`), so code that already catches those keeps
working, and `cnnlabs` commands print them without a traceback.
"""

from __future__ import annotations


class DatasetNotFoundError(FileNotFoundError):
    """No usable copy of the dataset was found, and downloading it failed or was not allowed.

    The message lists every place that was searched, why each one failed, which
    files were expected, and where to put them.
    """


class DatasetCorruptError(ValueError):
    """A dataset file exists but is truncated, damaged, of the wrong format, or unsafe.

    The message names the file, says what was wrong (for example the expected and
    the actual number of bytes, or the keys found in a CIFAR batch), and how to get
    a good copy.
    """


class SplitUnavailableError(ValueError):
    """A split (for example MNIST's 60,000 training images) is not available here.

    Raised by `DatasetArrays.require_train()` and `DatasetArrays.carve_from_test()`;
    the message says what was found, where the missing files were looked for, and
    how to carve a training split out of the test split explicitly.
    """
