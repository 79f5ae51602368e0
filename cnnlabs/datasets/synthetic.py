"""Synthetic stand-ins for MNIST, Fashion-MNIST and CIFAR-10, in their genuine on-disk formats.

The dry run of the full profile (`CNNLABS_PROFILE=dryrun`) needs the full profile's
datasets at their real sizes, shapes and dtypes, on machines (CI) that have no
copy of them. `write_synthetic` writes files that the loader reads exactly as it
reads the real ones: gzipped IDX files for the MNIST family (60,000 training and
10,000 test images, `uint8` 28 x 28) and the CIFAR-10 "python version" batches
(`data_batch_1` ... `data_batch_5`, `test_batch`, `batches.meta`: pickles of dicts
with bytes keys, `uint8` rows of 3,072 values; 50,000 + 10,000 images).

Every image is its class's fixed pattern (stripes whose orientation and frequency
depend on the label) plus uniform noise, so a network can learn something and
nothing degenerate (constant inputs, one class) happens. The data is not the real
dataset, and says so: each folder holds a marker, `SYNTHETIC.json`, listing the md5
of every file written. The loader recognises the marker, checks the files against
it (instead of the published checksums, which synthetic files cannot have) and
prints a banner whenever it loads synthetic data.

Layout under `root`, where `CNNLABS_DATA_DIR` (or `data_dir`) finds it:

    root/mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz, SYNTHETIC.json
    root/fashion-mnist/... (the same four files), SYNTHETIC.json
    root/cifar10/cifar-10-batches-py/{data_batch_1..5,test_batch,batches.meta}, SYNTHETIC.json

Example:

>>> import tempfile
>>> from cnnlabs.datasets import load
>>> from cnnlabs.datasets.synthetic import write_synthetic
>>> root = tempfile.mkdtemp()
>>> folders = write_synthetic(root, ["cifar10"], sizes={"train": 50, "test": 10})
>>> data = load("cifar10", data_dir=root, download=False)  # doctest: +ELLIPSIS
*** SYNTHETIC DATA: ...
>>> data.x_train.shape, data.x_train.dtype, data.source.startswith("SYNTHETIC")
((50, 32, 32, 3), dtype('uint8'), True)

Used in: the dry run (`benchmarks/lab_times.py`, `tests/labs/test_dryrun.py`),
`cnnlabs data synth DIR`.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import pickle
from pathlib import Path

import numpy as np

from cnnlabs.datasets.catalog import IDX_FILES, get_spec
from cnnlabs.datasets.formats import IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC

MARKER = "SYNTHETIC.json"
# The datasets some lab's full profile uses; Fashion-MNIST only on request.
DEFAULT_DATASETS = ("mnist", "cifar10")
_CHUNK = 10_000  # images generated at a time (bounded memory)
# The real batches are Python 2 pickles (dicts with bytes keys). Python 3 writes bytes
# at protocol 2 as `_codecs.encode(...)`, which Keras's restricted unpickler refuses;
# protocol 4 writes them as plain bytes and arrays through `_reconstruct` only (5 would
# need `_frombuffer`), so Keras's `load_batch`, ours and torchvision's read the files.
_PROTOCOL = 4


def banner(title: str, where: str | os.PathLike) -> str:
    """The line printed whenever synthetic data is loaded."""
    return (
        f"*** SYNTHETIC DATA: {title} from {where} was written by cnnlabs.datasets.synthetic "
        f"(class patterns plus noise), not the real {title}. Accuracies mean nothing. ***"
    )


def read_marker(folder: Path) -> dict[str, str] | None:
    """`{file name: md5}` from `folder/SYNTHETIC.json`, or None when there is no valid marker."""
    path = Path(folder) / MARKER
    try:
        marker = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(marker, dict) or marker.get("synthetic") is not True:
        return None
    digests = marker.get("md5")
    if not isinstance(digests, dict):
        return None
    return {str(k): str(v) for k, v in digests.items()}


def _patterns(num_classes: int, shape: tuple[int, int, int], rng) -> np.ndarray:
    """`(num_classes, H, W, C)` uint8 in 0..160: stripes, one orientation and frequency per class."""
    height, width, channels = shape
    rows, cols = np.mgrid[0:height, 0:width].astype("float32")
    patterns = np.empty((num_classes, height, width, channels), np.uint8)
    for label in range(num_classes):
        angle = np.pi * label / num_classes
        frequency = 2 * np.pi * (1 + label % 3) / max(height, width)
        phase = frequency * (rows * np.sin(angle) + cols * np.cos(angle))
        for channel in range(channels):  # colour images: a random phase per channel
            shift = rng.uniform(0, 2 * np.pi) if channels > 1 else 0.0
            patterns[label, :, :, channel] = (80 * (1 + np.cos(phase + shift))).astype(np.uint8)
    return patterns


def _images(labels: np.ndarray, patterns: np.ndarray, rng) -> np.ndarray:
    """`(N, H, W, C)` uint8: each label's pattern plus uniform noise in 0..95."""
    out = np.empty((len(labels), *patterns.shape[1:]), np.uint8)
    for start in range(0, len(labels), _CHUNK):
        part = labels[start : start + _CHUNK]
        noise = rng.integers(0, 96, size=(len(part), *patterns.shape[1:]), dtype=np.uint8)
        out[start : start + _CHUNK] = patterns[part] + noise
    return out


def _labels(count: int, num_classes: int, rng) -> np.ndarray:
    """Balanced labels in a random order."""
    return rng.permutation(np.arange(count) % num_classes).astype(np.uint8)


def _md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def _write(path: Path, data: bytes, digests: dict[str, str]) -> None:
    path.write_bytes(data)
    digests[path.name] = _md5(data)


def _write_marker(folder: Path, name: str, sizes: dict[str, int], seed: int, digests) -> None:
    marker = {
        "synthetic": True,
        "dataset": name,
        "generator": "cnnlabs.datasets.synthetic.write_synthetic",
        "seed": seed,
        "sizes": sizes,
        "note": "Synthetic stand-in (class patterns plus noise), not the real dataset.",
        "md5": digests,
    }
    (folder / MARKER).write_text(json.dumps(marker, indent=2) + "\n")


def _write_idx(folder: Path, spec, sizes: dict[str, int], rng) -> dict[str, str]:
    digests: dict[str, str] = {}
    patterns = _patterns(spec.num_classes, spec.image_shape, rng)
    height, width = spec.image_shape[:2]
    for split, (images_name, labels_name) in IDX_FILES.items():
        labels = _labels(sizes[split], spec.num_classes, rng)
        images = _images(labels, patterns, rng)[..., 0]
        header = b"".join(
            n.to_bytes(4, "big") for n in (IDX_IMAGES_MAGIC, len(images), height, width)
        )
        # compresslevel 1: noise hardly compresses anyway; mtime 0: the same bytes every time.
        blob = gzip.compress(header + images.tobytes(), compresslevel=1, mtime=0)
        _write(folder / f"{images_name}.gz", blob, digests)
        header = b"".join(n.to_bytes(4, "big") for n in (IDX_LABELS_MAGIC, len(labels)))
        _write(
            folder / f"{labels_name}.gz", gzip.compress(header + labels.tobytes(), mtime=0), digests
        )
    return digests


def _write_cifar(folder: Path, spec, sizes: dict[str, int], rng) -> dict[str, str]:
    digests: dict[str, str] = {}
    patterns = _patterns(spec.num_classes, spec.image_shape, rng)
    for split, names in spec.batch_files.items():
        labels = _labels(sizes[split], spec.num_classes, rng)
        images = _images(labels, patterns, rng)
        # Rows as in the real batches: the red, green and blue 32 x 32 planes, one after another.
        rows = images.transpose(0, 3, 1, 2).reshape(len(images), -1)
        for index, (name, part) in enumerate(
            zip(names, np.array_split(np.arange(len(rows)), len(names)))
        ):
            what = "testing batch 1 of 1" if split == "test" else f"training batch {index + 1} of 5"
            batch = {
                b"batch_label": what.encode(),
                spec.label_key.encode(): [int(v) for v in labels[part]],
                b"data": np.ascontiguousarray(rows[part]),
                b"filenames": [f"synthetic_{split}_{i:05d}.png".encode() for i in part],
            }
            _write(folder / name, pickle.dumps(batch, protocol=_PROTOCOL), digests)
    meta = {
        b"num_cases_per_batch": sizes["test"],
        spec.meta_key.encode(): [n.encode() for n in spec.class_names],
        b"num_vis": 3072,
    }
    _write(folder / spec.meta_file, pickle.dumps(meta, protocol=_PROTOCOL), digests)
    return digests


def dataset_folder(root: str | os.PathLike, name: str) -> Path:
    """Where `write_synthetic` puts dataset `name` under `root` (the folder holding the marker)."""
    spec = get_spec(name)
    if spec.family == "idx":
        return Path(root) / spec.subfolders[0]
    return Path(root) / spec.subfolders[0] / spec.batches_dir


def write_synthetic(
    root: str | os.PathLike,
    names=DEFAULT_DATASETS,
    *,
    sizes: dict[str, int] | None = None,
    seed: int = 0,
) -> dict[str, Path]:
    """Writes synthetic datasets in their genuine formats under `root`, each with its marker.

    Args:
        root: str or path, the folder to point `CNNLABS_DATA_DIR` at; created if missing.
        names: the datasets, among `"mnist"`, `"fashion_mnist"` and `"cifar10"`.
            Default `("mnist", "cifar10")`, the full profile's datasets.
        sizes: `{"train": N, "test": M}`; default each dataset's real sizes
            (60,000/10,000 for the MNIST family, 50,000/10,000 for CIFAR-10).
        seed: int, the seed of the patterns, labels and noise. Default 0.

    Returns:
        `{dataset name: folder written}`.

    Raises:
        ValueError: for an unknown or unsupported dataset name, or a size below 10
            (one image per class).
    """
    written = {}
    for name in names:
        spec = get_spec(name)
        if spec.name == "cifar100":
            raise ValueError(
                "write_synthetic does not write cifar100 (no lab uses it). "
                "Use names among 'mnist', 'fashion_mnist', 'cifar10'."
            )
        split_sizes = dict(spec.sizes if sizes is None else sizes)
        if any(split_sizes.get(split, 0) < spec.num_classes for split in ("train", "test")):
            raise ValueError(
                f"sizes={sizes!r} must give 'train' and 'test' at least {spec.num_classes} "
                f"images each (one per class), e.g. sizes={{'train': 500, 'test': 100}}."
            )
        rng = np.random.default_rng([seed, len(written)])
        folder = dataset_folder(root, spec.name)
        folder.mkdir(parents=True, exist_ok=True)
        writer = _write_idx if spec.family == "idx" else _write_cifar
        digests = writer(folder, spec, split_sizes, rng)
        _write_marker(folder, spec.name, split_sizes, seed, digests)
        written[spec.name] = folder
    return written
