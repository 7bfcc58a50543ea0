"""Checkpoints written atomically and read back with ``torch.load(..., weights_only=True)``.

A checkpoint is a plain dict of tensors, numbers, strings, lists and dicts, so it loads without running
pickled code. It is first written to a temporary file beside the target, flushed to disk, then renamed
over the target: a run killed mid-write leaves the previous checkpoint intact.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import torch


def save_atomic(obj: dict[str, Any], path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            torch.save(obj, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load(path: str | Path) -> dict[str, Any]:
    """Load a checkpoint onto the CPU; a missing or unreadable file raises an error naming it."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise RuntimeError(f"checkpoint {path} cannot be read ({exc}); it is damaged or not a mnistlib checkpoint") from exc
