"""Which IDX datasets the course knows, with the size and MD5 of every *uncompressed* file.

MNIST's figures come from ``../shared/README.md`` (the canonical files). A dataset whose checksums are not
known (``md5=None``) is still checked for its size and IDX header, never loaded unverified in silence.
"""
from __future__ import annotations

from dataclasses import dataclass, field

SPLIT_FILES = ("train_images", "train_labels", "test_images", "test_labels")


@dataclass(frozen=True)
class IdxFile:
    """One canonical IDX file: its name without ``.gz``, its uncompressed size in bytes and MD5."""

    filename: str
    nbytes: int
    md5: str | None


@dataclass(frozen=True)
class DatasetSpec:
    """Everything needed to find, download and verify one IDX dataset of 28 x 28 images in 10 classes.

    ``files`` maps each of :data:`SPLIT_FILES` to its :class:`IdxFile`. ``env_var`` is the environment
    variable that points at a folder holding the four files; ``torchvision_class`` names the
    ``torchvision.datasets`` class whose mirrors download them; ``system_dirs`` are folders that a system
    package fills (Debian's ``dataset-fashion-mnist``, for example).
    """

    name: str
    files: dict[str, IdxFile]
    env_var: str
    torchvision_class: str
    classes: tuple[str, ...]
    mean: float
    std: float
    system_dirs: tuple[str, ...] = field(default_factory=tuple)


# MNIST's pixel mean and standard deviation over its 60,000 training images (pixels in [0, 1]), as every
# PyTorch example and most of the sources normalise with them.
MNIST_MEAN_STD = (0.1307, 0.3081)

DATASETS: dict[str, DatasetSpec] = {
    "mnist": DatasetSpec(
        name="mnist",
        files={
            "train_images": IdxFile("train-images-idx3-ubyte", 47_040_016, "6bbc9ace898e44ae57da46a324031adb"),
            "train_labels": IdxFile("train-labels-idx1-ubyte", 60_008, "a25bea736e30d166cdddb491f175f624"),
            "test_images": IdxFile("t10k-images-idx3-ubyte", 7_840_016, "2646ac647ad5339dbf082846283269ea"),
            "test_labels": IdxFile("t10k-labels-idx1-ubyte", 10_008, "27ae3e4e09519cfbb04c329615203637"),
        },
        env_var="MNIST_DATA",
        torchvision_class="MNIST",
        classes=tuple(str(d) for d in range(10)),
        mean=MNIST_MEAN_STD[0],
        std=MNIST_MEAN_STD[1],
    ),
    "fashion_mnist": DatasetSpec(
        name="fashion_mnist",
        files={
            # MD5 of the uncompressed bytes, read off Debian's dataset-fashion-mnist (0.0~git20200523.55506a9-1,
            # the zalandoresearch repository's files, recompressed: the .gz MD5s differ from torchvision's)
            "train_images": IdxFile("train-images-idx3-ubyte", 47_040_016, "f4a8712d7a061bf5bd6d2ca38dc4d50a"),
            "train_labels": IdxFile("train-labels-idx1-ubyte", 60_008, "9018921c3c673c538a1fc5bad174d6f9"),
            "test_images": IdxFile("t10k-images-idx3-ubyte", 7_840_016, "8181f5470baa50b63fa0f6fddb340f0a"),
            "test_labels": IdxFile("t10k-labels-idx1-ubyte", 10_008, "15d484375f8d13e6eb1aabb0c3f46965"),
        },
        env_var="FASHION_MNIST_DATA",
        torchvision_class="FashionMNIST",
        classes=("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                 "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
        mean=0.2860,
        std=0.3530,
        system_dirs=("/usr/share/datasets/fashion-mnist",),
    ),
}


def get_spec(name: str) -> DatasetSpec:
    """The :class:`DatasetSpec` called ``name``; a clear error lists the known names otherwise."""
    key = name.lower().replace("-", "_")
    if key not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}: choose one of {', '.join(DATASETS)}")
    return DATASETS[key]
