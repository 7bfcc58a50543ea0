"""The whole dataset on the training device: uint8 in, normalised float once, batches as index slices.

No DataLoader, no workers, no per-sample Python: shuffling is one ``torch.randperm`` on the device and a
batch is ``images[perm[i:i+B]]``. The same code runs on the CPU.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Callable, Iterator

import torch

from .catalog import get_spec
from .locate import load_arrays

TRAIN_SIZE = 60_000
VAL_SIZE = 5_000  # Shao et al.: 55,000 for training, 5,000 for validation


@dataclass
class Split:
    """One split on the device: ``images`` (N, 1, 28, 28) float32 normalised, ``labels`` (N,) int64."""

    images: torch.Tensor
    labels: torch.Tensor

    def __len__(self) -> int:
        return self.labels.shape[0]

    def batches(self, batch_size: int, *, shuffle: bool = False, generator: torch.Generator | None = None,
                transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
                shard: tuple[int, int] = (0, 1)) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Yield ``(x, y)`` of ``batch_size`` rows (the last one may be smaller).

        With ``shuffle`` the order is ``torch.randperm`` drawn from ``generator`` on the split's device;
        ``transform`` (an on-device augmentation) is applied to each whole batch. ``shard=(rank, world)``:
        this replica's part of every global batch (``torch.tensor_split`` into ``world`` parts, after the
        transform), so that replicas with the same generator see disjoint parts of the same global batch.
        """
        if batch_size < 1:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        n = len(self)
        order = torch.randperm(n, device=self.labels.device, generator=generator) if shuffle else None
        for start in range(0, n, batch_size):
            if order is None:
                x, y = self.images[start:start + batch_size], self.labels[start:start + batch_size]
            else:
                idx = order[start:start + batch_size]
                x, y = self.images[idx], self.labels[idx]
            x = transform(x) if transform is not None else x
            rank, world = shard
            if world > 1:
                x, y = torch.tensor_split(x, world)[rank], torch.tensor_split(y, world)[rank]
            yield x, y

    def head(self, n: int) -> "Split":
        """The first ``n`` images (a smaller split for quick demonstrations)."""
        return Split(self.images[:n], self.labels[:n])

    def num_batches(self, batch_size: int) -> int:
        return -(-len(self) // batch_size)


@dataclass
class DeviceData:
    """Train / validation / test splits of one dataset, on one device, normalised with ``mean``/``std``."""

    name: str
    train: Split
    val: Split
    test: Split
    mean: float
    std: float
    split_seed: int
    split_md5: str
    classes: tuple[str, ...]

    @property
    def device(self) -> torch.device:
        return self.train.labels.device

    def describe(self) -> dict:
        """A JSON-ready summary for result files."""
        return {"dataset": self.name, "train": len(self.train), "val": len(self.val), "test": len(self.test),
                "mean": self.mean, "std": self.std, "split_seed": self.split_seed, "split_md5": self.split_md5}


def split_indices(n: int = TRAIN_SIZE, val_size: int = VAL_SIZE, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """A seeded, deterministic (train, validation) partition of ``range(n)`` drawn on the CPU."""
    if not 0 < val_size < n:
        raise ValueError(f"val_size must be between 1 and {n - 1}, got {val_size}")
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    return perm[val_size:], perm[:val_size]


def to_device_split(images, labels, device, mean: float, std: float) -> Split:
    """uint8 (N, 28, 28) and labels to a :class:`Split` on ``device``: moved as uint8, normalised once."""
    x = torch.as_tensor(images).to(device).unsqueeze(1).float().div_(255.0).sub_(mean).div_(std)
    return Split(x, torch.as_tensor(labels).to(device=device, dtype=torch.long))


def load_data(name: str = "mnist", *, device: str | torch.device = "cpu", root=None,
              normalize: tuple[float, float] | None = None, val_size: int = VAL_SIZE, split_seed: int = 0,
              train_subset: int | None = None, val_subset: int | None = None, **locate_kwargs) -> DeviceData:
    """Load dataset ``name`` verified, split it 55,000/5,000 (seeded) and put every split on ``device``.

    ``normalize`` is ``(mean, std)`` applied to pixels scaled to [0, 1] (default: the dataset's own
    statistics). ``train_subset`` and ``val_subset`` keep only the first ``n`` training or validation images
    of the split (smoke runs); the split itself (``split_md5``) is the same.
    """
    spec = get_spec(name)
    arrays = load_arrays(name, root, **locate_kwargs)
    mean, std = normalize if normalize is not None else (spec.mean, spec.std)
    train_idx, val_idx = split_indices(len(arrays["train_labels"]), val_size, split_seed)
    if train_subset is not None:
        if not 0 < train_subset <= len(train_idx):
            raise ValueError(f"train_subset must be between 1 and {len(train_idx)}, got {train_subset}")
        train_idx = train_idx[:train_subset]
    digest = hashlib.md5(val_idx.numpy().tobytes()).hexdigest()
    if val_subset is not None:
        if not 0 < val_subset <= len(val_idx):
            raise ValueError(f"val_subset must be between 1 and {len(val_idx)}, got {val_subset}")
        val_idx = val_idx[:val_subset]
    images = torch.from_numpy(arrays["train_images"].copy())
    labels = torch.from_numpy(arrays["train_labels"].copy())
    return DeviceData(
        name=spec.name,
        train=to_device_split(images[train_idx], labels[train_idx], device, mean, std),
        val=to_device_split(images[val_idx], labels[val_idx], device, mean, std),
        test=to_device_split(arrays["test_images"].copy(), arrays["test_labels"].copy(), device, mean, std),
        mean=mean, std=std, split_seed=split_seed, split_md5=digest, classes=spec.classes,
    )
