"""Examining one candidate location: which files are there, are they intact, whose are they.

A probe is one path where a layout of a dataset may sit (a folder of IDX files, a
`mnist.npz`, a `cifar-10-batches-py/` folder, a CIFAR archive). `examine` returns a
`Found` with checked arrays, a sentence saying why nothing usable is there, or
raises `DatasetCorruptError`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cnnlabs.datasets.catalog import DATASETS, IDX_FILES, SPLITS, DatasetSpec, official_identity
from cnnlabs.datasets.cifar import parse_batch, parse_meta, read_archive, safe_load
from cnnlabs.datasets.errors import DatasetCorruptError
from cnnlabs.datasets.formats import (
    check_labels,
    corrupt,
    file_digest,
    parse_idx,
    read_mnist_npz,
    read_raw,
    refetch_hint,
)
from cnnlabs.datasets.synthetic import read_marker


@dataclass(frozen=True)
class Probe:
    kind: str  # "npz", "idx_dir", "cifar_dir", "cifar_archive"
    path: Path
    dedicated: bool = True  # False for a shared folder whose IDX files must prove whose they are


@dataclass
class Found:
    """(Part of) a dataset found by one probe, with checked arrays."""

    layout: str
    root: Path
    files: dict[str, tuple[str, ...]]
    arrays: dict[str, tuple[np.ndarray, np.ndarray]]
    class_names: tuple[str, ...]
    verified: bool
    synthetic: bool = False  # a SYNTHETIC.json marker sits beside the files

    @property
    def splits(self) -> tuple[str, ...]:
        return tuple(s for s in SPLITS if s in self.arrays)

    @property
    def complete(self) -> bool:
        return self.splits == SPLITS

    def describe(self) -> str:
        return f"{'SYNTHETIC ' if self.synthetic else ''}{self.layout} {self.root}"


def checksum_error(path: Path, found: str, expected: str, what: str, title: str):
    return DatasetCorruptError(
        f"{path} is readable but does not have the official checksum: its {what} is {found}, "
        f"expected {expected}. It may be a partial, modified or different copy. Delete it and "
        f"download {title} again, or pass verify=False if you changed it on purpose."
    )


def examine(spec: DatasetSpec, probe: Probe, verify: bool) -> Found | str | None:
    """Looks at one probe; None when nothing is there, a reason string when unusable."""
    if not probe.path.exists():
        return None
    if probe.kind == "npz":
        return _examine_npz(spec, probe.path, verify)
    if probe.kind == "idx_dir":
        return _examine_idx_dir(spec, probe, verify) if probe.path.is_dir() else None
    if probe.kind == "cifar_dir":
        return _examine_cifar(spec, probe.path, verify, archive=False) if probe.path.is_dir() else None
    return _examine_cifar(spec, probe.path, verify, archive=True) if probe.path.is_file() else None


def _examine_npz(spec: DatasetSpec, path: Path, verify: bool) -> Found | None:
    if not path.is_file():
        return None
    fix = refetch_hint(spec.title)
    arrays = read_mnist_npz(path, fix)
    if verify:
        expected = spec.checksums["mnist.npz"].sha256
        found = file_digest(path, "sha256")
        if found != expected:
            raise checksum_error(path, found, expected, "sha256", spec.title)
    checked = {
        split: (x[..., None], check_labels(y, spec.num_classes, path, fix))
        for split, (x, y) in arrays.items()
    }
    files = {split: (str(path),) for split in SPLITS}
    return Found("mnist.npz", path, files, checked, spec.class_names, verify)


def _idx_candidates(folder: Path, base: str) -> Path | None:
    dotted = base.replace("-idx", ".idx")
    for name in (f"{base}.gz", base, f"{dotted}.gz", dotted):
        if (folder / name).is_file():
            return folder / name
    return None


def _examine_idx_dir(spec: DatasetSpec, probe: Probe, verify: bool) -> Found | str | None:
    folder, fix = probe.path, refetch_hint(spec.title)
    files: dict[str, tuple[str, ...]] = {}
    arrays: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    lonely: list[str] = []
    verified = True
    synthetic = read_marker(folder)
    for split, (images_base, labels_base) in IDX_FILES.items():
        images_path, labels_path = _idx_candidates(folder, images_base), _idx_candidates(folder, labels_base)
        if images_path is None or labels_path is None:
            if images_path or labels_path:
                present, missing = (images_path, labels_base) if images_path else (labels_path, images_base)
                lonely.append(f"{present.name} without {missing}(.gz)")
            continue
        raws = [read_raw(images_path), read_raw(labels_path)]
        images = parse_idx(raws[0], kind="images", image_size=spec.image_shape[:2], fix=fix)
        labels = parse_idx(raws[1], kind="labels", image_size=spec.image_shape[:2], fix=fix)
        if len(images) != len(labels):
            raise corrupt(
                labels_path,
                f"holds {len(labels):,} labels, but {images_path.name} beside it holds "
                f"{len(images):,} images; the two files must come from the same download.",
                fix,
            )
        for raw, base in zip(raws, (images_base, labels_base)):
            official = spec.checksums[base]
            if raw.md5 == official.md5 or raw.content_md5 == official.content_md5:
                continue
            if synthetic and synthetic.get(raw.path.name) == raw.md5:
                continue  # a synthetic file, checked against its marker
            owner = official_identity(raw.content_md5)
            if owner is not None and owner[0] == spec.name:
                raise DatasetCorruptError(
                    f"{raw.path} holds {spec.title}'s {owner[1]} under another name (its checksum "
                    f"is the official one of {owner[1]}). Rename the files so that each has its "
                    "official name; the train and test files were probably swapped."
                )
            if owner is not None:
                other = DATASETS[owner[0]]
                if probe.dedicated:
                    raise DatasetCorruptError(
                        f"{raw.path} is {other.title}'s {owner[1]} (its checksum is the official "
                        f"one of {other.title}), not {spec.title}'s. Move {other.title}'s files to "
                        f"a folder named {other.subfolders[0]}/ and put {spec.title}'s files here."
                    )
                return (f"the IDX files in {folder} are {other.title}'s, not {spec.title}'s "
                        "(by their checksums)")
            if not probe.dedicated:
                return (
                    f"IDX files in {folder} match neither MNIST's nor Fashion-MNIST's official "
                    f"checksums, so it is unclear which dataset they hold; move them into "
                    f"{folder / spec.subfolders[0]}/"
                )
            if verify:
                raise checksum_error(
                    raw.path, raw.content_md5, official.content_md5,
                    "md5" + (" after decompression" if raw.compressed else ""), spec.title,
                )
            verified = False
        files[split] = (str(images_path), str(labels_path))
        arrays[split] = (images[..., None], check_labels(labels, spec.num_classes, labels_path, fix))
    if not arrays:
        return f"only {'; '.join(lonely)} in {folder}" if lonely else None
    return Found("IDX files in", folder, files, arrays, spec.class_names, verified,
                 synthetic is not None)


def _examine_cifar(spec: DatasetSpec, path: Path, verify: bool, *, archive: bool) -> Found | str | None:
    """Reads a batches folder or an archive; structure first, then (verify=True) checksums."""
    fix = refetch_hint(spec.title)
    if archive:
        blobs = read_archive(path, spec, fix)

        def where(name: str) -> str:
            return f"{path}:{spec.batches_dir}/{name}"
    else:
        names = [n for group in spec.batch_files.values() for n in group] + [spec.meta_file]
        blobs = {n: (path / n).read_bytes() for n in names if (path / n).is_file()}

        def where(name: str) -> str:
            return str(path / name)
    synthetic = None if archive else read_marker(path)
    files: dict[str, tuple[str, ...]] = {}
    arrays: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    missing: list[str] = []
    for split, names in spec.batch_files.items():
        absent = [name for name in names if name not in blobs]
        if absent:
            if len(absent) < len(names):
                missing.append(f"{split} split incomplete (no {', '.join(absent)})")
            continue
        parts = [parse_batch(safe_load(blobs[n], where(n), fix), spec, where(n), fix) for n in names]
        arrays[split] = (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]))
        files[split] = tuple(where(n) for n in names)
    class_names = spec.class_names
    if spec.meta_file in blobs:
        meta_path = where(spec.meta_file)
        class_names = parse_meta(safe_load(blobs[spec.meta_file], meta_path, fix), spec, meta_path, fix)
    if not arrays:
        return f"{'; '.join(missing)} in {path}" if missing else f"no {spec.title} batches in {path}"
    if verify:
        if archive:
            expected, found_md5 = spec.checksums[spec.archive].md5, file_digest(path)
            if found_md5 != expected:
                raise checksum_error(path, found_md5, expected, "md5", spec.title)
        else:
            for name, data in blobs.items():
                expected, found_md5 = spec.checksums[name].md5, hashlib.md5(data).hexdigest()
                if synthetic and synthetic.get(name) == found_md5:
                    continue  # a synthetic file, checked against its marker
                if found_md5 != expected:
                    raise checksum_error(path / name, found_md5, expected, "md5", spec.title)
    layout = "archive" if archive else f"{spec.title} batches in"
    return Found(layout, path, files, arrays, class_names, verify, synthetic is not None)
