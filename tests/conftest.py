"""Shared fixtures: tiny generated IDX datasets, and the real MNIST (via $MNIST_DATA) loaded once."""
from __future__ import annotations

import gzip
import hashlib
import struct
from pathlib import Path

import numpy as np
import pytest

from mnistlib.data import DatasetSpec, IdxFile
from mnistlib.data import catalog


def idx_bytes(array: np.ndarray) -> bytes:
    """Encode a uint8 array in the IDX format."""
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def write_idx(path: Path, array: np.ndarray, compress: bool = False) -> bytes:
    data = idx_bytes(array)
    if compress:
        with gzip.open(str(path) + ".gz", "wb") as fh:
            fh.write(data)
    else:
        path.write_bytes(data)
    return data


TINY_SIZES = {"train": 120, "test": 40}


@pytest.fixture
def tiny_dataset(tmp_path, monkeypatch):
    """A registered dataset ``tiny`` of random digits in MNIST's file layout; returns (folder, spec)."""
    rng = np.random.default_rng(0)
    folder = tmp_path / "tiny"
    folder.mkdir()
    files = {}
    for part, n in TINY_SIZES.items():
        prefix = "train" if part == "train" else "t10k"
        arrays = {"images": rng.integers(0, 256, (n, 28, 28), dtype=np.uint8),
                  "labels": np.arange(n, dtype=np.uint8) % 10}
        for kind, array in arrays.items():
            name = f"{prefix}-{kind}-idx{3 if kind == 'images' else 1}-ubyte"
            data = write_idx(folder / name, array, compress=(kind == "images"))
            files[f"{part}_{kind}"] = IdxFile(name, len(data), hashlib.md5(data).hexdigest())
    spec = DatasetSpec(name="tiny", files=files, env_var="TINY_DATA", torchvision_class="MNIST",
                       classes=tuple("0123456789"), mean=0.5, std=0.5)
    monkeypatch.setitem(catalog.DATASETS, "tiny", spec)
    monkeypatch.delenv("TINY_DATA", raising=False)
    return folder, spec


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The real MNIST folder; CI sets MNIST_DATA=../shared/data/mnist."""
    from mnistlib.data import locate

    return locate("mnist", download_missing=False)


@pytest.fixture(scope="session")
def mnist_cpu(mnist_dir):
    """Real MNIST on the CPU, Shao's normalisation, the seeded 55,000 / 5,000 split."""
    from mnistlib.data import load_data

    return load_data("mnist", root=mnist_dir, device="cpu")
