"""Shared fixtures: tiny generated IDX datasets, the real MNIST (via $MNIST_DATA) loaded once, the smoke book
built once, and Chromium serving it."""
from __future__ import annotations

import gzip
import hashlib
import os
import struct
from pathlib import Path

import numpy as np
import pytest

from mnistlib.course.serve import served, system_chromium
from mnistlib.data import DatasetSpec, IdxFile
from mnistlib.data import catalog


def pytest_configure(config):
    """Under pytest-xdist, each worker (and every process it starts: the command line, notebook kernels) gets an
    equal share of the CPU's threads: OpenMP threads that outnumber the cores spin and wait for each other."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers > 1:
        import torch

        threads = max(1, (os.cpu_count() or 1) // workers)
        os.environ["OMP_NUM_THREADS"] = str(threads)
        torch.set_num_threads(threads)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """``--dist loadgroup`` keeps each ``xdist_group`` on one worker (the smoke book's tests share one build).
    pytest-xdist 3.8 names the group by rewriting ``item._nodeid``, which pytest 9 no longer reads (a node's id
    is ``item._id``): without this, the group is split and each worker builds the smoke book."""
    if not getattr(config.option, "loadgroup", False):
        return
    from _pytest.nodeid import coerce_node_id

    for item in items:
        names = sorted({str(m.args[0] if m.args else m.kwargs.get("name", "default"))
                        for m in item.iter_markers("xdist_group")})
        if names and not item.nodeid.endswith("@" + "_".join(names)):
            item._id = coerce_node_id(f"{item.nodeid}@{'_'.join(names)}")


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


@pytest.fixture(scope="session")
def smoke_book(tmp_path_factory) -> Path:
    """The book built once under the smoke profile (papermill, then Jupyter Book): its HTML folder.
    ``MNISTLIB_TEST_BOOK=<html folder>`` reuses one built earlier (while working on a page; never in CI)."""
    from mnistlib.course.book import build_book

    if os.environ.get("MNISTLIB_TEST_BOOK"):
        return Path(os.environ["MNISTLIB_TEST_BOOK"])

    return build_book("smoke", tmp_path_factory.mktemp("book") / "build", log=None, workers=2)  # 2 kernels: -30%


@pytest.fixture(scope="session")
def browser_context(smoke_book):
    """Chromium (Debian's, driven by Playwright) on the smoke book served from a local HTTP server, every other
    address blocked: ``(context, base URL, HTML folder)``."""
    playwright = pytest.importorskip("playwright.sync_api", reason="pip install playwright (in the test extras)")
    with served(smoke_book) as base, playwright.sync_playwright() as p:
        try:
            browser = p.chromium.launch(executable_path=system_chromium(), args=["--no-sandbox"])
        except playwright.Error as error:
            pytest.skip(f"no Chromium to drive ({error.message.splitlines()[0]}): apt-get install chromium (Debian), "
                        "or python -m playwright install chromium")
        context = browser.new_context()
        context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(base) else route.abort())
        yield context, base, smoke_book
        browser.close()
