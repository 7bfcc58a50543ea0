"""The project's one atomic writer, and checkpoints read back with ``torch.load(..., weights_only=True)``.

Every file the project writes that a crash must not leave half-written (checkpoints, run records, study
tables) goes through :func:`write_atomic`: first a temporary file beside the target, flushed to disk, then
renamed over the target, so a run killed mid-write leaves the previous file intact.

A checkpoint is a plain dict of tensors, numbers, strings, lists and dicts, so it loads without running
pickled code.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, BinaryIO, Callable

import torch


def write_atomic(path: str | Path, write: Callable[[BinaryIO], None]) -> Path:
    """Call ``write(file)`` on a temporary file beside ``path``, flush it to disk, rename it over ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def save_atomic(obj: dict[str, Any], path: str | Path) -> Path:
    """A checkpoint (or a weights-only state dict), written atomically."""
    return write_atomic(path, lambda fh: torch.save(obj, fh))


def write_text(text: str, path: str | Path) -> Path:
    """``text`` as UTF-8, written atomically."""
    return write_atomic(path, lambda fh: fh.write(text.encode()))


def write_json(obj: dict, path: str | Path) -> Path:
    """``obj`` as indented JSON, written atomically."""
    return write_text(json.dumps(obj, indent=1) + "\n", path)


def load(path: str | Path) -> dict[str, Any]:
    """Load a checkpoint onto the CPU; a missing or unreadable file raises an error naming it."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise RuntimeError(f"checkpoint {path} cannot be read ({exc}); it is damaged or not a mnistlib checkpoint") from exc
