"""Every file the project writes that a crash must not leave half-written (checkpoints, run records, study
tables, the book's generated pages) goes through :func:`write_atomic`: first a temporary file beside the
target, flushed to disk, then renamed over the target, so that a run killed mid-write leaves the previous
file intact. :func:`write_text` and :func:`write_json` are the two shapes most files take."""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import BinaryIO, Callable


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


def write_text(text: str, path: str | Path) -> Path:
    """``text`` as UTF-8, written atomically."""
    return write_atomic(path, lambda fh: fh.write(text.encode()))


def write_json(obj: dict, path: str | Path) -> Path:
    """``obj`` as indented JSON, written atomically."""
    return write_text(json.dumps(obj, indent=1) + "\n", path)
