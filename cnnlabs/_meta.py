"""Where cnnlabs lives: the one place that names the repository.

The Colab badges and the Colab install cell of every generated notebook are
built from these constants by `cnnlabs assign`; change them here and regenerate
(`cnnlabs assign`) to point the labs at a fork. With two repositories (the
instructor's, with solutions and hidden tests, and the public one written by
`cnnlabs release`), this names the public one: students open and install from it.
"""

from __future__ import annotations

REPOSITORY_URL = "https://github.com/cnnlabs/cnnlabs"
BRANCH = "main"


def colab_url(path: str) -> str:
    """The Colab address that opens `path` (relative to the repository root)."""
    slug = REPOSITORY_URL.removeprefix("https://github.com/")
    return f"https://colab.research.google.com/github/{slug}/blob/{BRANCH}/{path}"


def pip_requirement() -> str:
    """The pip requirement that installs this version of cnnlabs from the repository."""
    return f"cnnlabs @ git+{REPOSITORY_URL}@{BRANCH}"
