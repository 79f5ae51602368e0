"""What each dataset looks like on disk: file names, sizes, checksums and class names.

The checksums are the published ones: the md5 sums on the MNIST and Fashion-MNIST
pages (of the `.gz` files and of their decompressed content, so that a copy that was
recompressed, like Debian's Fashion-MNIST package, still verifies), the md5 sums of
the CIFAR archives on https://www.cs.toronto.edu/~kriz/cifar.html and of their
member files, and the sha256 that `keras.datasets.mnist` checks for `mnist.npz`.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

# Split -> (images file, labels file), without the `.gz` suffix.
IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

SPLITS = ("train", "test")


@dataclass(frozen=True)
class Checksum:
    """Published digests of one file: of the bytes as distributed and, for IDX, of the content."""

    md5: str | None = None
    content_md5: str | None = None
    sha256: str | None = None


@dataclass(frozen=True)
class DatasetSpec:
    """Everything the loader knows about one dataset before it reads a byte."""

    name: str
    title: str
    image_shape: tuple[int, int, int]
    class_names: tuple[str, ...]
    sizes: dict[str, int]
    family: str  # "idx" (MNIST-like) or "cifar"
    subfolders: tuple[str, ...]
    checksums: dict[str, Checksum]
    expected: str  # what to put where, for error messages
    keras_paths: tuple[str, ...] = ()  # relative to the Keras cache, in lookup order
    system_dirs: tuple[str, ...] = ()
    # CIFAR only
    batches_dir: str = ""
    archive: str = ""
    batch_files: dict[str, tuple[str, ...]] = field(default_factory=dict)
    meta_file: str = ""
    label_key: str = ""
    meta_key: str = ""

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


_MNIST_SUMS = {
    "train-images-idx3-ubyte": Checksum("f68b3c2dcbeaaa9fbdd348bbdeb94873", "6bbc9ace898e44ae57da46a324031adb"),
    "train-labels-idx1-ubyte": Checksum("d53e105ee54ea40749a09fcbcd1e9432", "a25bea736e30d166cdddb491f175f624"),
    "t10k-images-idx3-ubyte": Checksum("9fb629c4189551a2d022fa330f9573f3", "2646ac647ad5339dbf082846283269ea"),
    "t10k-labels-idx1-ubyte": Checksum("ec29112dd5afa0611ce80d1b7f02629c", "27ae3e4e09519cfbb04c329615203637"),
    "mnist.npz": Checksum(sha256="731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"),
}

_FASHION_SUMS = {
    "train-images-idx3-ubyte": Checksum("8d4fb7e6c68d591d4c3dfef9ec88bf0d", "f4a8712d7a061bf5bd6d2ca38dc4d50a"),
    "train-labels-idx1-ubyte": Checksum("25c81989df183df01b3e8a0aad5dffbe", "9018921c3c673c538a1fc5bad174d6f9"),
    "t10k-images-idx3-ubyte": Checksum("bef4ecab320f06d8554ea6380940ec79", "8181f5470baa50b63fa0f6fddb340f0a"),
    "t10k-labels-idx1-ubyte": Checksum("bb300cfdad3c16e7a12a480ee83cd310", "15d484375f8d13e6eb1aabb0c3f46965"),
}

_CIFAR10_SUMS = {
    "cifar-10-python.tar.gz": Checksum("c58f30108f718f92721af3b95e74349a"),
    "data_batch_1": Checksum("c99cafc152244af753f735de768cd75f"),
    "data_batch_2": Checksum("d4bba439e000b95fd0a9bffe97cbabec"),
    "data_batch_3": Checksum("54ebc095f3ab1f0389bbae665268c751"),
    "data_batch_4": Checksum("634d18415352ddfa80567beed471001a"),
    "data_batch_5": Checksum("482c414d41f54cd18b22e5b47cb7c3cb"),
    "test_batch": Checksum("40351d587109b95175f43aff81a1287e"),
    "batches.meta": Checksum("5ff9c542aee3614f3951f8cda6e48888"),
}

_CIFAR100_SUMS = {
    "cifar-100-python.tar.gz": Checksum("eb9058c3a382ffc7106e4002c42a8d85"),
    "train": Checksum("16019d7e3df5f24257cddd939b257f8d"),
    "test": Checksum("f0ef6b0ae62326f3e7ffdfab6717acfc"),
    "meta": Checksum("7973b15100ade9c7d40fb424638fde48"),
}

_IDX_LIST = (
    "the four IDX files train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
    "t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz (gzipped or not)"
)

CIFAR100_FINE = (
    "apple aquarium_fish baby bear beaver bed bee beetle bicycle bottle bowl boy bridge bus "
    "butterfly camel can castle caterpillar cattle chair chimpanzee clock cloud cockroach couch "
    "crab crocodile cup dinosaur dolphin elephant flatfish forest fox girl hamster house kangaroo "
    "keyboard lamp lawn_mower leopard lion lizard lobster man maple_tree motorcycle mountain mouse "
    "mushroom oak_tree orange orchid otter palm_tree pear pickup_truck pine_tree plain plate poppy "
    "porcupine possum rabbit raccoon ray road rocket rose sea seal shark shrew skunk skyscraper "
    "snail snake spider squirrel streetcar sunflower sweet_pepper table tank telephone television "
    "tiger tractor train trout tulip turtle wardrobe whale willow_tree wolf woman worm"
).split()

DATASETS: dict[str, DatasetSpec] = {
    "mnist": DatasetSpec(
        name="mnist",
        title="MNIST",
        image_shape=(28, 28, 1),
        class_names=tuple(str(d) for d in range(10)),
        sizes={"train": 60000, "test": 10000},
        family="idx",
        subfolders=("mnist", "MNIST"),
        checksums=_MNIST_SUMS,
        expected=f"mnist.npz (as keras.datasets saves it), or {_IDX_LIST} in a folder named mnist/",
        keras_paths=("mnist.npz",),
    ),
    "fashion_mnist": DatasetSpec(
        name="fashion_mnist",
        title="Fashion-MNIST",
        image_shape=(28, 28, 1),
        class_names=("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                     "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
        sizes={"train": 60000, "test": 10000},
        family="idx",
        subfolders=("fashion-mnist", "fashion_mnist", "FashionMNIST"),
        checksums=_FASHION_SUMS,
        expected=(
            f"{_IDX_LIST} in a folder named fashion-mnist/ (from "
            "https://github.com/zalandoresearch/fashion-mnist, or on Debian/Ubuntu "
            "`apt-get install dataset-fashion-mnist`)"
        ),
        keras_paths=("fashion-mnist",),
        system_dirs=("/usr/share/datasets/fashion-mnist",),
    ),
    "cifar10": DatasetSpec(
        name="cifar10",
        title="CIFAR-10",
        image_shape=(32, 32, 3),
        class_names=("airplane", "automobile", "bird", "cat", "deer",
                     "dog", "frog", "horse", "ship", "truck"),
        sizes={"train": 50000, "test": 10000},
        family="cifar",
        subfolders=("cifar10", "cifar-10"),
        checksums=_CIFAR10_SUMS,
        expected=(
            "the folder cifar-10-batches-py/ (data_batch_1 ... data_batch_5, test_batch, "
            "batches.meta) or the archive cifar-10-python.tar.gz, both from "
            "https://www.cs.toronto.edu/~kriz/cifar.html"
        ),
        keras_paths=(
            "cifar-10-batches-py-target/cifar-10-batches-py",  # Keras 3
            "cifar-10-batches-py",  # Keras 2
            "cifar-10-batches-py-target_archive",  # Keras 3 download
            "cifar-10-batches-py.tar.gz",  # Keras 2 download
        ),
        batches_dir="cifar-10-batches-py",
        archive="cifar-10-python.tar.gz",
        batch_files={"train": tuple(f"data_batch_{i}" for i in range(1, 6)), "test": ("test_batch",)},
        meta_file="batches.meta",
        label_key="labels",
        meta_key="label_names",
    ),
    "cifar100": DatasetSpec(
        name="cifar100",
        title="CIFAR-100",
        image_shape=(32, 32, 3),
        class_names=tuple(CIFAR100_FINE),
        sizes={"train": 50000, "test": 10000},
        family="cifar",
        subfolders=("cifar100", "cifar-100"),
        checksums=_CIFAR100_SUMS,
        expected=(
            "the folder cifar-100-python/ (train, test, meta) or the archive "
            "cifar-100-python.tar.gz, both from https://www.cs.toronto.edu/~kriz/cifar.html"
        ),
        keras_paths=(
            "cifar-100-python-target/cifar-100-python",
            "cifar-100-python",
            "cifar-100-python-target_archive",
            "cifar-100-python.tar.gz",
        ),
        batches_dir="cifar-100-python",
        archive="cifar-100-python.tar.gz",
        batch_files={"train": ("train",), "test": ("test",)},
        meta_file="meta",
        label_key="fine_labels",
        meta_key="fine_label_names",
    ),
}

_ALIASES = {"fashion": "fashion_mnist", "fmnist": "fashion_mnist", "cifar_10": "cifar10",
            "cifar_100": "cifar100"}


def get_spec(name: str) -> DatasetSpec:
    """Returns the spec of a dataset; accepts `"Fashion-MNIST"`, `"cifar-10"` and the like.

    Raises:
        ValueError: for an unknown name, with the closest known names.
    """
    if not isinstance(name, str):
        raise TypeError(
            f"name must be a string such as 'mnist', got {type(name).__name__} {name!r}."
        )
    key = name.strip().lower().replace("-", "_")
    key = _ALIASES.get(key, key)
    if key in DATASETS:
        return DATASETS[key]
    close = difflib.get_close_matches(key, list(DATASETS), n=2, cutoff=0.5)
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    raise ValueError(
        f"Unknown dataset name={name!r}. Known datasets: {', '.join(DATASETS)}.{hint}"
    )


def official_identity(content_md5: str) -> tuple[str, str] | None:
    """(dataset name, file name) of an official IDX file with this content md5, else None."""
    for spec in DATASETS.values():
        for fname, checksum in spec.checksums.items():
            if checksum.content_md5 == content_md5:
                return spec.name, fname
    return None
