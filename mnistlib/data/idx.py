"""Reading IDX files (LeCun's MNIST format), raw or gzip-compressed, with their checksum verified.

An IDX file is a 4-byte magic number ``0x00 0x00 <type> <ndim>``, ``ndim`` big-endian uint32 sizes, then
the data. MNIST uses type ``0x08`` (uint8): images are ``(N, 28, 28)`` and labels ``(N,)``.
"""
from __future__ import annotations

import gzip
import hashlib
import struct
import zlib
from pathlib import Path

import numpy as np

from .catalog import IdxFile

UBYTE = 0x08


class DataError(RuntimeError):
    """A dataset file is missing, truncated, corrupted or cannot be found; the message says what to do."""


def find_file(folder: Path, entry: IdxFile) -> Path | None:
    """The path of ``entry`` in ``folder``, raw or ``.gz`` (raw preferred), or ``None``."""
    for candidate in (folder / entry.filename, folder / (entry.filename + ".gz")):
        if candidate.is_file():
            return candidate
    return None


def read_bytes(path: Path) -> bytes:
    """The uncompressed bytes of ``path``; a damaged gzip stream raises :class:`DataError`."""
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as fh:
                return fh.read()
        return path.read_bytes()
    except (EOFError, OSError, zlib.error) as exc:
        raise DataError(
            f"{path}: cannot be decompressed ({exc}); the file is truncated or corrupted. "
            f"Delete it and copy or download it again."
        ) from exc


def verify(path: Path, data: bytes, entry: IdxFile) -> None:
    """Check the uncompressed size and MD5 of ``data`` read from ``path`` against ``entry``."""
    fix = "Delete it and copy or download a good copy again."
    if len(data) != entry.nbytes:
        raise DataError(
            f"{path}: expected {entry.nbytes:,} bytes once uncompressed, found {len(data):,} "
            f"(truncated or not {entry.filename}). {fix}"
        )
    if entry.md5 is not None:
        digest = hashlib.md5(data).hexdigest()
        if digest != entry.md5:
            raise DataError(
                f"{path}: MD5 of the uncompressed bytes is {digest}, expected {entry.md5} "
                f"(the file is corrupted or is not the canonical {entry.filename}). {fix}"
            )


def parse_idx(data: bytes, path: Path | str = "<bytes>") -> np.ndarray:
    """Decode IDX ``data`` into a uint8 array whose shape comes from the header."""
    if len(data) < 4:
        raise DataError(f"{path}: only {len(data)} bytes, too short for an IDX header.")
    zero, dtype, ndim = data[0:2], data[2], data[3]
    if zero != b"\x00\x00" or dtype != UBYTE or not 1 <= ndim <= 4:
        raise DataError(f"{path}: not an unsigned-byte IDX file (magic bytes {data[:4].hex()}).")
    header = 4 + 4 * ndim
    shape = struct.unpack(f">{ndim}I", data[4:header])
    expected = header + int(np.prod(shape))
    if len(data) != expected:
        raise DataError(f"{path}: header promises shape {shape} ({expected:,} bytes), file has {len(data):,}.")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)


def read_idx(path: Path | str, entry: IdxFile | None = None) -> np.ndarray:
    """Read one IDX file, verifying it against ``entry`` (size and MD5) when given."""
    path = Path(path)
    data = read_bytes(path)
    if entry is not None:
        verify(path, data, entry)
    return parse_idx(data, path)
