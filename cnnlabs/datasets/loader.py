"""`load`: one call from a dataset name to checked NumPy arrays, offline first."""

from __future__ import annotations

import os

import numpy as np

from cnnlabs.datasets.arrays import DatasetArrays
from cnnlabs.datasets.catalog import SPLITS, DatasetSpec, get_spec
from cnnlabs.datasets.errors import DatasetNotFoundError
from cnnlabs.datasets.formats import check_labels, explain
from cnnlabs.datasets.probes import Found
from cnnlabs.datasets.sources import SearchResult, keras_cache_dir, search
from cnnlabs.datasets.synthetic import banner

BACKENDS = ("keras", "tfds")


def _keras_own_cache() -> str:
    """Where Keras itself downloads to; it reads $KERAS_HOME once, when it is imported."""
    try:
        from keras.src.backend.config import keras_home
    except ImportError:  # pragma: no cover - a Keras without this private helper
        return str(keras_cache_dir())
    return os.path.join(keras_home(), "datasets")


def _download(spec: DatasetSpec, backend: str) -> tuple[dict, str]:
    """Downloads through keras.datasets or tensorflow_datasets; returns (arrays, source)."""
    if backend == "keras":
        import keras

        module = getattr(keras.datasets, spec.name)
        (x_train, y_train), (x_test, y_test) = module.load_data()
        source = (f"downloaded by keras.datasets.{spec.name}.load_data() into the Keras cache "
                  f"{_keras_own_cache()}")
    else:
        import tensorflow_datasets as tfds

        train, test = tfds.as_numpy(
            tfds.load(spec.name, split=["train", "test"], batch_size=-1, as_supervised=True)
        )
        (x_train, y_train), (x_test, y_test) = train, test
        source = f"tensorflow_datasets.load({spec.name!r}) (downloaded or prepared by TFDS)"
    arrays = {}
    for split, x, y in (("train", x_train, y_train), ("test", x_test, y_test)):
        x = np.asarray(x, dtype=np.uint8)
        if x.ndim == 3:
            x = x[..., None]
        elif x.ndim == 4 and x.shape[1] in (1, 3) and x.shape[-1] not in (1, 3):
            x = x.transpose(0, 2, 3, 1)  # Keras configured channels_first
        if x.shape[1:] != spec.image_shape:
            raise ValueError(f"the download gave {split} images of shape {x.shape}, "
                             f"expected (N, {', '.join(map(str, spec.image_shape))})")
        arrays[split] = (np.ascontiguousarray(x), check_labels(np.ravel(y), spec.num_classes,
                                                               source, "Download it again."))
    return arrays, source


def _not_found(spec: DatasetSpec, looked: list[str], download_note: str) -> DatasetNotFoundError:
    lines = "\n".join(f"  - {line}" for line in looked)
    return DatasetNotFoundError(
        f"{spec.title} was not found on this machine, {download_note}.\n"
        f"Looked in, in this order:\n{lines}\n"
        f"Expected {spec.expected}.\n"
        f"Fix: put those files in a folder and pass data_dir=\"that folder\" to load() (or set "
        f"$CNNLABS_DATA_DIR to it); with network access, load({spec.name!r}, download=True) "
        "downloads it into the Keras cache."
    )


def _from_found(spec: DatasetSpec, found: Found, at: str, result: SearchResult,
                download_line: str, download_short: str = "") -> DatasetArrays:
    check = "checksums verified" if found.verified else "checksums not verified"
    if found.synthetic:
        check += " against its SYNTHETIC.json marker, NOT the real dataset"
        print(banner(spec.title, found.root), flush=True)
    source = f"{found.describe()} (via {at}; {check})"
    missing_reason = ""
    missing = [s for s in SPLITS if s not in found.arrays]
    if missing:
        split = missing[0]
        source = (f"{found.splits[0]} split only: {source}; no {split} split (not found "
                  f"locally; {download_short})")
        places = "".join(f"\n  - {line}" for line in [*result.looked, download_line])
        missing_reason = f"The {split} files were looked for in:{places}\nExpected {spec.expected}."
    arrays = found.arrays
    train, test = arrays.get("train", (None, None)), arrays.get("test", (None, None))
    return DatasetArrays(spec.name, train[0], train[1], test[0], test[1], found.class_names,
                         source, dict(found.files), missing_reason)


def load(
    name: str,
    *,
    data_dir: str | os.PathLike | None = None,
    download: bool = True,
    backend: str = "keras",
    verify: bool = True,
) -> DatasetArrays:
    """Loads MNIST, Fashion-MNIST, CIFAR-10 or CIFAR-100 as checked NumPy arrays.

    Local copies are used first, in this order: `data_dir`, `$CNNLABS_DATA_DIR`, the
    Keras cache (`$KERAS_HOME/datasets` or `~/.keras/datasets`), system locations
    (Debian's `/usr/share/datasets/fashion-mnist/`). The first place with both splits
    wins. Otherwise, with `download=True`, the dataset is downloaded through
    `keras.datasets` (or `tensorflow_datasets` for `backend="tfds"`). If that fails
    too, a place with only one split is used (the other split is `None` and `source`
    says why), and if there is none, `DatasetNotFoundError` lists every place looked at.

    Every file's structure is checked (IDX headers against file lengths, gzip streams,
    CIFAR batch keys, shapes and label ranges). With `verify=True`, files are also
    compared with their published checksums (md5 of the `.gz` or of its content, md5
    of the CIFAR archive or batch files, sha256 of `mnist.npz`).

    Args:
        name: str, `"mnist"`, `"fashion_mnist"`, `"cifar10"` or `"cifar100"`.
        data_dir: str or path, default None. A folder searched first; the original
            layouts are accepted flat in it or in a subfolder named for the dataset.
        download: bool, default True. Download when no complete local copy exists.
        backend: str, default `"keras"`. `"keras"` downloads with `keras.datasets`,
            `"tfds"` with `tensorflow_datasets`.
        verify: bool, default True. Compare files with their published checksums;
            pass False for deliberately modified files (structure is still checked).

    Returns:
        A `DatasetArrays`: images `uint8 (batch, height, width, channels)`, labels
        `int64 (batch,)`, `class_names`, and `source`, the files that were used.

    Raises:
        DatasetNotFoundError: no split was found and downloading failed or was off.
        DatasetCorruptError: a file found is truncated, damaged, of the wrong format,
            fails its checksum, or is an unsafe pickle.
        ValueError: unknown `name` or `backend`.

    Example:

    >>> from cnnlabs.datasets import load
    >>> data = load("fashion_mnist", download=False)  # doctest: +SKIP
    >>> data.x_train.shape, data.x_train.dtype, data.class_names[0]  # doctest: +SKIP
    ((60000, 28, 28, 1), dtype('uint8'), 'T-shirt/top')

    Used in: every lab (01 LeNet-5 to 06 batch normalization).
    """
    spec = get_spec(name)
    if backend not in BACKENDS:
        raise ValueError(
            f"backend={backend!r} is not supported; use backend='keras' (keras.datasets) or "
            "backend='tfds' (tensorflow_datasets)."
        )
    result = search(spec, data_dir, verify)
    if result.found is not None:
        return _from_found(spec, result.found, result.found_at, result, "")
    looked = list(result.looked)
    loader = (f"keras.datasets.{spec.name}.load_data()" if backend == "keras"
              else f"tensorflow_datasets.load({spec.name!r})")
    if not download:
        download_line = "download: not attempted (download=False)"
        download_short = "download=False"
        note = "and downloading was not allowed (download=False)"
    else:
        try:
            arrays, source = _download(spec, backend)
        except Exception as exc:  # no network, HTTP errors, bad hash, missing package...
            download_line = f"download with {loader}: failed ({explain(exc)})"
            download_short = "the download failed"
            note = "and downloading it failed"
        else:
            return DatasetArrays(spec.name, *arrays["train"], *arrays["test"], spec.class_names,
                                 source, {})
    if result.partial is not None:
        return _from_found(spec, result.partial, result.partial_at, result, download_line,
                           download_short)
    raise _not_found(spec, [*looked, download_line], note)
