"""Finding a dataset's four IDX files, downloading them when nothing is found, and loading them verified.

Search order (the first folder that holds all four files wins, and is then verified):

1. the ``root`` argument, 2. the dataset's environment variable (``MNIST_DATA`` for MNIST),
3. the ``data/`` cache (``data/<name>/`` or torchvision's ``data/<Class>/raw/``) and system folders,
4. a download through torchvision's mirrors into the cache (what Colab and Kaggle users get).

An explicit ``root`` or environment variable that does not hold the files is an error, not a reason to
look elsewhere: the user asked for that folder.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .catalog import SPLIT_FILES, DatasetSpec, get_spec
from .idx import DataError, find_file, read_idx

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]  # the one definition: mnistlib/data/locate.py -> ../../


def default_cache_dir() -> Path:
    """``$MNISTLIB_CACHE``, else the checkout's ``data/`` folder, else ``./data``."""
    if os.environ.get("MNISTLIB_CACHE"):
        return Path(os.environ["MNISTLIB_CACHE"])
    checkout_data = REPOSITORY_ROOT / "data"
    return checkout_data if (checkout_data / "README.md").is_file() else Path("data")


def _missing(folder: Path, spec: DatasetSpec) -> list[str]:
    return [spec.files[k].filename for k in SPLIT_FILES if find_file(folder, spec.files[k]) is None]


def _where_to_put(spec: DatasetSpec, cache: Path) -> str:
    names = ", ".join(spec.files[k].filename + "[.gz]" for k in SPLIT_FILES)
    return (f"put the four files ({names}) in {cache / spec.name}, or set {spec.env_var}=<folder holding "
            f"them>, or pass root=<folder> (--data on the command line)")


def _cache_candidates(spec: DatasetSpec, cache: Path) -> list[Path]:
    return [cache / spec.name, cache / spec.torchvision_class / "raw", *map(Path, spec.system_dirs)]


def download(spec: DatasetSpec, cache: Path, mirrors: list[str] | None = None) -> Path:
    """Download through ``torchvision.datasets.<Class>`` into ``cache``; return the raw folder."""
    from torchvision import datasets

    cls = getattr(datasets, spec.torchvision_class)
    if mirrors is not None:  # a local mirror (tests) or another site
        cls = type(cls.__name__, (cls,), {"mirrors": list(mirrors)})
    try:
        cls(root=str(cache), train=True, download=True)
    except Exception as exc:  # torchvision raises RuntimeError/URLError/OSError when offline
        raise DataError(
            f"{spec.name}: not found locally and the download failed ({type(exc).__name__}: "
            f"{' '.join(str(exc).split())}). "  # torchvision's message spans lines: one line here
            f"Offline? {_where_to_put(spec, cache)}."
        ) from exc
    return cache / spec.torchvision_class / "raw"


def _holding(folder: Path, shown: int = 4) -> str:
    """`` (it holds a.txt, b.png and 3 more)``: what a folder named for a dataset holds instead, or that it
    does not exist."""
    if not folder.is_dir():
        return " (no such folder)"
    names = sorted(p.name for p in folder.iterdir())
    if not names:
        return " (it is empty)"
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return f" (it holds {', '.join(names[:shown])}{more})"


def locate(name: str = "mnist", root: str | Path | None = None, *, download_missing: bool = True,
           cache: Path | None = None, mirrors: list[str] | None = None) -> Path:
    """The folder holding the four IDX files of dataset ``name`` (see the module docstring for the order)."""
    spec = get_spec(name)
    cache = Path(cache) if cache is not None else default_cache_dir()
    explicit = [(Path(root), "the root argument")] if root is not None else []
    if not explicit and os.environ.get(spec.env_var):
        explicit = [(Path(os.environ[spec.env_var]), f"${spec.env_var}")]
    for folder, origin in explicit:
        missing = _missing(folder, spec)
        if missing:
            shown = folder if folder.is_absolute() else f"{folder} (= {folder.resolve()})"
            raise DataError(f"{shown} (from {origin}) lacks {', '.join(missing)}{_holding(folder)}: "
                            f"{_where_to_put(spec, cache)}.")
        return folder
    for folder in _cache_candidates(spec, cache):
        if not _missing(folder, spec):
            return folder
    if not download_missing:
        raise DataError(f"{spec.name}: no local copy found; {_where_to_put(spec, cache)}.")
    return download(spec, cache, mirrors)


def load_arrays(name: str = "mnist", root: str | Path | None = None, **locate_kwargs) -> dict[str, np.ndarray]:
    """The four verified arrays: ``train_images`` (60000, 28, 28) uint8, ``train_labels`` (60000,) and the
    test pair (10000, ...), keyed as :data:`~mnistlib.data.catalog.SPLIT_FILES`."""
    spec = get_spec(name)
    folder = locate(name, root, **locate_kwargs)
    arrays = {k: read_idx(find_file(folder, spec.files[k]), spec.files[k]) for k in SPLIT_FILES}
    for part in ("train", "test"):
        images, labels = arrays[f"{part}_images"], arrays[f"{part}_labels"]
        if images.shape[0] != labels.shape[0] or images.shape[1:] != (28, 28):
            raise DataError(f"{folder}: {part} images {images.shape} do not match labels {labels.shape}.")
    return arrays
