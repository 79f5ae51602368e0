"""`DatasetArrays`: a dataset's splits as NumPy arrays, with an honest note of their origin."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from cnnlabs.datasets.errors import SplitUnavailableError


@dataclass(frozen=True, eq=False)
class DatasetArrays:
    """The train and test splits of one dataset, as returned by `load`.

    Images are `uint8` arrays of shape `(batch, height, width, channels)`; labels are
    `int64` arrays of shape `(batch,)`. A split that is not available on this
    machine is `None` (offline, MNIST has only its test split): nothing is ever
    substituted silently.

    Attributes:
        name: canonical dataset name, e.g. `"mnist"`.
        x_train: `(N, H, W, C)` uint8 or None.
        y_train: `(N,)` int64 or None.
        x_test: `(M, H, W, C)` uint8 or None.
        y_test: `(M,)` int64 or None.
        class_names: tuple of str, the name of each label.
        source: str, which files (or which download) the arrays came from, and which
            split is missing and why.
        files: split -> the files it was read from.
        missing_reason: str, where a missing split was looked for (used in the
            `SplitUnavailableError` message); empty when both splits are present.
    """

    name: str
    x_train: np.ndarray | None
    y_train: np.ndarray | None
    x_test: np.ndarray | None
    y_test: np.ndarray | None
    class_names: tuple[str, ...]
    source: str
    files: dict[str, tuple[str, ...]] = field(default_factory=dict)
    missing_reason: str = field(default="", repr=False)

    @property
    def splits(self) -> tuple[str, ...]:
        """The available splits, a subset of `("train", "test")`."""
        return tuple(s for s, x in (("train", self.x_train), ("test", self.x_test)) if x is not None)

    def __repr__(self) -> str:
        def shape(x):
            return "None" if x is None else f"{x.shape} {x.dtype}"

        return (
            f"DatasetArrays(name={self.name!r}, x_train={shape(self.x_train)}, "
            f"x_test={shape(self.x_test)}, classes={len(self.class_names)}, source={self.source!r})"
        )

    def require_train(self) -> DatasetArrays:
        """Returns self if the training split is available, else raises a clear error.

        Returns:
            This `DatasetArrays`, so that `data = load("mnist").require_train()` reads well.

        Raises:
            SplitUnavailableError: when `x_train` is None; the message says where the
                training files were looked for and how to use `carve_from_test`.

        Example:

        >>> import numpy as np
        >>> from cnnlabs.datasets import DatasetArrays
        >>> x = np.zeros((10, 28, 28, 1), np.uint8); y = np.zeros(10, np.int64)
        >>> DatasetArrays("mnist", x, y, x, y, ("0",), "example").require_train().name
        'mnist'
        """
        if self.x_train is not None:
            return self
        n = 0 if self.x_test is None else len(self.x_test)
        example = max(1, n * 4 // 5)
        raise SplitUnavailableError(
            f"{self.name} has no training split on this machine: only the test split "
            f"({n:,} images) was found.\n{self.missing_reason}\n"
            f"To train anyway, carve a training split out of the test split explicitly: "
            f"data = data.carve_from_test({example}) trains on the first {example:,} test "
            f"images and keeps the other {n - example:,} for testing."
        )

    def carve_from_test(self, n_train: int) -> DatasetArrays:
        """A new `DatasetArrays` that trains on the first `n_train` test images.

        The new test split is the remaining test images, so no image is in both.
        This is for machines that only have the test split (offline MNIST); the
        `source` says that the split was carved. The original training split, if any,
        is dropped.

        Args:
            n_train: int, how many of the first test images become the training split;
                `0 < n_train < len(x_test)`.

        Returns:
            A new `DatasetArrays` (this one is unchanged).

        Raises:
            SplitUnavailableError: when there is no test split to carve from.
            ValueError: when `n_train` is not an integer in `1 .. len(x_test) - 1`.

        Example:

        >>> import numpy as np
        >>> from cnnlabs.datasets import DatasetArrays
        >>> x = np.zeros((10, 28, 28, 1), np.uint8); y = np.arange(10)
        >>> data = DatasetArrays("mnist", None, None, x, y, ("0",), "test split only")
        >>> carved = data.carve_from_test(8)
        >>> carved.x_train.shape, carved.x_test.shape
        ((8, 28, 28, 1), (2, 28, 28, 1))
        """
        if self.x_test is None:
            raise SplitUnavailableError(
                f"{self.name} has no test split on this machine, so carve_from_test() has "
                f"nothing to carve from ({self.source}). Put the test files in place (see "
                "docs/datasets.md) or use x_train directly."
            )
        n = len(self.x_test)
        if isinstance(n_train, bool) or not isinstance(n_train, (int, np.integer)) \
                or not 0 < n_train < n:
            raise ValueError(
                f"carve_from_test(n_train={n_train!r}): n_train must be an integer between 1 and "
                f"{n - 1:,} (the test split has {n:,} images, and some must stay for testing). "
                f"For example n_train={n * 4 // 5}."
            )
        n_train = int(n_train)
        source = (
            f"train = the first {n_train:,} test images, test = the other {n - n_train:,} "
            f"(carved explicitly with carve_from_test({n_train})); from {self.source}"
        )
        return dataclasses.replace(
            self,
            x_train=self.x_test[:n_train],
            y_train=self.y_test[:n_train],
            x_test=self.x_test[n_train:],
            y_test=self.y_test[n_train:],
            source=source,
            files={"train": self.files.get("test", ()), "test": self.files.get("test", ())},
            missing_reason="",
        )
