"""MNIST, Fashion-MNIST, CIFAR-10 and CIFAR-100: lookup, integrity checks, arrays, pipelines.

>>> from cnnlabs.datasets import load, pipeline
>>> data = load("mnist")                                         # doctest: +SKIP
>>> train = pipeline(data.x_train, data.y_train, training=True)  # doctest: +SKIP

`load` looks for local copies first and says in `DatasetArrays.source` which files
it used; `locate` reports where a dataset is (or why not) without loading it; see
docs/datasets.md for the lookup order, accepted layouts and the integrity policy.
TensorFlow is imported only when `pipeline` is called or a download is attempted.
"""

from cnnlabs.datasets.arrays import DatasetArrays
from cnnlabs.datasets.catalog import DATASETS
from cnnlabs.datasets.errors import DatasetCorruptError, DatasetNotFoundError, SplitUnavailableError
from cnnlabs.datasets.loader import load
from cnnlabs.datasets.pipelines import pipeline, to_float
from cnnlabs.datasets.sources import Location, locate

NAMES = tuple(DATASETS)

__all__ = [
    "NAMES",
    "DatasetArrays",
    "DatasetCorruptError",
    "DatasetNotFoundError",
    "Location",
    "SplitUnavailableError",
    "load",
    "locate",
    "pipeline",
    "to_float",
]
