"""Where datasets are looked for, in order, and the report of what was found where.

Lookup order (the same for `load` and `locate`):

1. the `data_dir` argument, if given;
2. `$CNNLABS_DATA_DIR`, if set;
3. the Keras cache, `$KERAS_HOME/datasets` or `~/.keras/datasets` (where
   `keras.datasets` downloads to);
4. known system locations (Debian's `/usr/share/datasets/fashion-mnist/`);
5. (`load` only, with `download=True`) a download through `keras.datasets` or
   `tensorflow_datasets`.

In folders 1 and 2 each layout is accepted both flat in the folder and in a
subfolder named for the dataset (`<dir>/mnist/`, `<dir>/fashion-mnist/`,
`<dir>/cifar10/`, ...). The first place holding both splits wins; a place holding
only one split is used only if no place (and no download) gives both.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from cnnlabs.datasets.catalog import SPLITS, DatasetSpec, get_spec
from cnnlabs.datasets.errors import DatasetCorruptError
from cnnlabs.datasets.probes import Found, Probe, examine

DATA_DIR_ENV = "CNNLABS_DATA_DIR"


def keras_cache_dir() -> Path:
    """The folder `keras.datasets` downloads to, computed as Keras does."""
    if "KERAS_HOME" in os.environ:
        return Path(os.environ["KERAS_HOME"]) / "datasets"
    home = Path(os.path.expanduser("~"))
    base = home if os.access(home, os.W_OK) else Path("/tmp")
    return base / ".keras" / "datasets"


@dataclass(frozen=True)
class Place:
    label: str
    path: Path | None
    probes: tuple[Probe, ...] = ()
    why_skipped: str = ""


def _user_probes(spec: DatasetSpec, root: Path) -> tuple[Probe, ...]:
    folders = [(root / sub, True) for sub in spec.subfolders]
    folders.append((root, root.name in spec.subfolders))
    probes: list[Probe] = []
    for folder, dedicated in folders:
        if spec.family == "idx":
            if spec.name == "mnist":
                probes.append(Probe("npz", folder / "mnist.npz"))
            probes.append(Probe("idx_dir", folder, dedicated))
        else:
            if folder.name == spec.batches_dir:
                probes.append(Probe("cifar_dir", folder))
            probes.append(Probe("cifar_dir", folder / spec.batches_dir))
            probes.append(Probe("cifar_archive", folder / spec.archive))
    return tuple(probes)


def _keras_probes(spec: DatasetSpec, cache: Path) -> tuple[Probe, ...]:
    probes = []
    for rel in spec.keras_paths:
        if rel.endswith(".npz"):
            kind = "npz"
        elif spec.family == "idx":
            kind = "idx_dir"
        else:
            kind = "cifar_archive" if rel.endswith(("_archive", ".tar.gz")) else "cifar_dir"
        probes.append(Probe(kind, cache / rel))
    return tuple(probes)


def places(spec: DatasetSpec, data_dir: str | os.PathLike | None) -> list[Place]:
    """The places searched for `spec`, in lookup order."""
    result = []
    if data_dir is None:
        result.append(Place("the data_dir argument", None, why_skipped="not given"))
    else:
        root = Path(data_dir).expanduser()
        result.append(Place("the data_dir argument", root, _user_probes(spec, root)))
    env = os.environ.get(DATA_DIR_ENV)
    if not env:
        result.append(Place(f"${DATA_DIR_ENV}", None, why_skipped="not set"))
    elif data_dir is not None and Path(env).expanduser().resolve() == Path(data_dir).expanduser().resolve():
        result.append(Place(f"${DATA_DIR_ENV}", None, why_skipped="same folder as data_dir"))
    else:
        root = Path(env).expanduser()
        result.append(Place(f"${DATA_DIR_ENV}", root, _user_probes(spec, root)))
    cache = keras_cache_dir()
    result.append(Place("the Keras cache", cache, _keras_probes(spec, cache)))
    for folder in spec.system_dirs:
        result.append(Place("system location", Path(folder), (Probe("idx_dir", Path(folder)),)))
    return result


def _nothing_there(spec: DatasetSpec, place: Place) -> str:
    if not place.path.exists():
        return "does not exist"
    if place.label == "the Keras cache":
        return f"no {', '.join(spec.keras_paths)}"
    if place.label == "system location":
        return f"no {spec.title} IDX files"
    folders = [p for p in [place.path / s for s in spec.subfolders] if p.is_dir()]
    where = " or ".join(str(f) for f in [place.path, *folders])
    return f"no {spec.title} files in {where}"


@dataclass
class SearchResult:
    """What the local search found: the winner, a partial copy, and one line per place."""

    spec: DatasetSpec
    found: Found | None = None
    found_at: str = ""
    partial: Found | None = None
    partial_at: str = ""
    looked: list[str] = field(default_factory=list)


def search(spec: DatasetSpec, data_dir, verify: bool) -> SearchResult:
    """Searches every place in order; raises DatasetCorruptError at the first damaged file."""
    result = SearchResult(spec)
    for place in places(spec, data_dir):
        if place.path is None:
            result.looked.append(f"{place.label}: {place.why_skipped}")
            continue
        head = f"{place.label} ({place.path})"
        best: Found | None = None
        reasons: list[str] = []
        for probe in place.probes:
            outcome = examine(spec, probe, verify)
            if isinstance(outcome, Found):
                if best is None or (outcome.complete and not best.complete):
                    best = outcome
                if outcome.complete:
                    break
            elif outcome:
                reasons.append(outcome)
        if best is not None and best.complete:
            result.looked.append(f"{head}: found, {best.describe()}")
            result.found, result.found_at = best, place.label
            return result
        if best is not None:
            result.looked.append(f"{head}: {best.splits[0]} split only, {best.describe()}")
            if result.partial is None:
                result.partial, result.partial_at = best, place.label
            continue
        result.looked.append(f"{head}: {'; '.join(reasons) or _nothing_there(spec, place)}")
    return result


@dataclass(frozen=True)
class Location:
    """Where a dataset was found on this machine, or everywhere it was looked for and why not.

    Attributes:
        name: canonical dataset name (`"mnist"`, ...).
        title: display name (`"MNIST"`, ...).
        found: True when at least one split is usable (see `splits`).
        splits: the usable splits, a subset of `("train", "test")`.
        files: split -> the files holding it.
        sizes: split -> number of examples.
        where: one line saying where the usable copy is, or None.
        verified: True when every file matched its published checksum.
        looked: one line per place searched, in lookup order, with its outcome.
        problem: the `DatasetCorruptError` message when a damaged file stopped the
            search, else None.
        expected: which files to put where.
        synthetic: True when the copy found is synthetic data (a `SYNTHETIC.json`
            marker beside the files, `cnnlabs data synth`): checked against the marker.
    """

    name: str
    title: str
    found: bool
    splits: tuple[str, ...]
    files: dict[str, tuple[str, ...]]
    sizes: dict[str, int]
    where: str | None
    verified: bool
    looked: tuple[str, ...]
    problem: str | None
    expected: str
    synthetic: bool = False

    def describe(self) -> str:
        """A multi-line report: a headline, then one line per place looked at."""
        if self.problem is not None:
            head = f"{self.name}: DAMAGED FILE. {self.problem}"
        elif not self.found:
            head = f"{self.name}: not found on this machine (load() with download=True would download it)"
        else:
            counts = ", ".join(f"{self.sizes[s]:,} {s}" for s in self.splits)
            missing = [s for s in SPLITS if s not in self.splits]
            only = f"; no {missing[0]} split here" if missing else ""
            check = "checksums verified" if self.verified else "checksums not verified"
            if self.synthetic:
                check += " against its SYNTHETIC.json marker: NOT the real dataset"
            head = f"{self.name}: found ({counts}{only}): {self.where}; {check}"
        lines = [head]
        if self.splits == ("test",):
            lines.append("load() gives x_train=None; to train offline, carve a training split "
                         "explicitly with data.carve_from_test(n_train)")
        elif self.splits == ("train",):
            lines.append("load() gives x_test=None")
        lines.append("looked in, in order:")
        lines += [f"  {line}" for line in self.looked]
        if not self.found or self.problem:
            lines.append(f"expected: {self.expected}")
        return "\n".join(lines) + "\n"


def locate(name: str, data_dir: str | os.PathLike | None = None, *, verify: bool = True) -> Location:
    """Finds a dataset on this machine without downloading anything.

    It searches the same places, in the same order, as `load` (see
    docs/datasets.md) and reads the files it finds, so `found` is True exactly when
    `load(name, data_dir=data_dir, download=False)` returns data.

    Args:
        name: `"mnist"`, `"fashion_mnist"`, `"cifar10"` or `"cifar100"`.
        data_dir: str or path, default None. A folder searched first.
        verify: bool, default True. Compare files with their published checksums.

    Returns:
        A `Location`; `location.describe()` is the multi-line report that
        `cnnlabs data info` and `cnnlabs doctor` print.

    Raises:
        ValueError: for an unknown dataset name. Damaged files do not raise; they
            are reported in `Location.problem`.

    Example:

    >>> from cnnlabs.datasets import locate
    >>> location = locate("cifar100", data_dir="/nonexistent")
    >>> location.looked[0]
    'the data_dir argument (/nonexistent): does not exist'

    Used in: `cnnlabs doctor`, `cnnlabs data info`.
    """
    spec = get_spec(name)
    try:
        result = search(spec, data_dir, verify)
    except DatasetCorruptError as exc:
        return Location(spec.name, spec.title, False, (), {}, {}, None, False, (), str(exc),
                        spec.expected)
    hit, at = (result.found, result.found_at) if result.found else (result.partial, result.partial_at)
    if hit is None:
        return Location(spec.name, spec.title, False, (), {}, {}, None, False,
                        tuple(result.looked), None, spec.expected)
    return Location(
        spec.name, spec.title, True, hit.splits, dict(hit.files),
        {s: len(hit.arrays[s][1]) for s in hit.splits}, f"{hit.describe()} (via {at})",
        hit.verified, tuple(result.looked), None, spec.expected, hit.synthetic,
    )
