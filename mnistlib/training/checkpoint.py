"""Checkpoints: written atomically (:mod:`.atomic_files`), read back with ``torch.load(..., weights_only=True)``.

A checkpoint is a plain dict of tensors, numbers, strings, lists and dicts, so it loads without running
pickled code.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from .atomic_files import write_atomic


def save_atomic(obj: dict[str, Any], path: str | Path) -> Path:
    """A checkpoint (or a weights-only state dict), written atomically."""
    return write_atomic(path, lambda fh: torch.save(obj, fh))


def load(path: str | Path) -> dict[str, Any]:
    """Load a checkpoint onto the CPU; a missing or unreadable file raises an error naming it."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise RuntimeError(f"checkpoint {path} cannot be read ({exc}); it is damaged or not a mnistlib checkpoint") from exc
