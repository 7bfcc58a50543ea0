"""The IDX reader and dataset lookup, on small generated files."""
from __future__ import annotations

import functools
import gzip
import http.server
import threading
import hashlib
import shutil

import numpy as np
import pytest

from mnistlib.data import DataError, load_arrays, locate, read_idx
from mnistlib.data.idx import parse_idx

from .conftest import TINY_SIZES, idx_bytes


def test_reads_raw_and_gz_with_shapes(tiny_dataset):
    folder, spec = tiny_dataset
    arrays = load_arrays("tiny", root=folder)
    assert arrays["train_images"].shape == (TINY_SIZES["train"], 28, 28)
    assert arrays["test_labels"].shape == (TINY_SIZES["test"],)
    assert arrays["train_labels"].dtype == np.uint8
    assert list(arrays["train_labels"][:12]) == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]


def test_round_trip_preserves_every_byte(tmp_path):
    array = np.arange(3 * 28 * 28, dtype=np.uint64).astype(np.uint8).reshape(3, 28, 28)
    (tmp_path / "x").write_bytes(idx_bytes(array))
    assert np.array_equal(read_idx(tmp_path / "x"), array)


def test_corrupted_file_names_the_file_and_the_checksums(tiny_dataset):
    folder, spec = tiny_dataset
    target = folder / spec.files["train_labels"].filename
    data = bytearray(target.read_bytes())
    data[-1] ^= 0xFF  # same size, one byte flipped
    target.write_bytes(bytes(data))
    with pytest.raises(DataError) as err:
        load_arrays("tiny", root=folder)
    message = str(err.value)
    assert str(target) in message and spec.files["train_labels"].md5 in message and "MD5" in message


def test_truncated_gzip_names_the_file(tiny_dataset):
    folder, spec = tiny_dataset
    target = folder / (spec.files["test_images"].filename + ".gz")
    target.write_bytes(target.read_bytes()[:-200])
    with pytest.raises(DataError, match=str(target).replace(".", r"\.")):
        load_arrays("tiny", root=folder)


def test_truncated_raw_file_reports_the_sizes(tiny_dataset):
    folder, spec = tiny_dataset
    target = folder / spec.files["test_labels"].filename
    target.write_bytes(target.read_bytes()[:-5])
    with pytest.raises(DataError, match=r"expected 48 bytes.*found 43"):
        load_arrays("tiny", root=folder)


def test_header_that_disagrees_with_the_size_is_refused():
    data = idx_bytes(np.zeros((2, 28, 28), np.uint8))
    with pytest.raises(DataError, match="header promises"):
        parse_idx(data[:-1])
    with pytest.raises(DataError, match="magic"):
        parse_idx(b"\x00\x00\x0d\x03" + data[4:])


def test_missing_file_in_explicit_folder_is_named(tiny_dataset):
    folder, spec = tiny_dataset
    (folder / spec.files["train_labels"].filename).unlink()
    with pytest.raises(DataError, match=spec.files["train_labels"].filename):
        locate("tiny", root=folder)


def test_lookup_order_argument_then_env_then_cache(tiny_dataset, tmp_path, monkeypatch):
    folder, spec = tiny_dataset
    cache = tmp_path / "cache"
    shutil.copytree(folder, cache / "tiny")
    env_copy = tmp_path / "env"
    shutil.copytree(folder, env_copy)
    assert locate("tiny", cache=cache, download_missing=False) == cache / "tiny"
    monkeypatch.setenv("TINY_DATA", str(env_copy))
    assert locate("tiny", cache=cache, download_missing=False) == env_copy
    assert locate("tiny", root=folder, cache=cache, download_missing=False) == folder
    monkeypatch.setenv("TINY_DATA", str(tmp_path / "nowhere"))
    with pytest.raises(DataError, match="TINY_DATA"):
        locate("tiny", cache=cache)


def test_offline_with_nothing_found_says_where_to_put_the_files(tiny_dataset, tmp_path):
    with pytest.raises(DataError) as err:
        locate("tiny", cache=tmp_path / "empty", mirrors=[(tmp_path / "no-mirror").as_uri() + "/"])
    message = str(err.value)
    assert "download failed" in message and str(tmp_path / "empty" / "tiny") in message and "TINY_DATA" in message


@pytest.fixture
def http_mirror(tmp_path):
    """A local HTTP server on 127.0.0.1 serving ``tmp_path/mirror``; yields (folder, base URL)."""
    folder = tmp_path / "mirror"
    folder.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield folder, f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_download_through_torchvision_from_a_local_mirror(tiny_dataset, http_mirror, tmp_path, monkeypatch):
    """The Colab path: torchvision downloads the .gz files, then our reader verifies them."""
    folder, spec = tiny_dataset
    mirror, url = http_mirror
    resources = []
    for entry in spec.files.values():
        source = folder / entry.filename
        raw = source.read_bytes() if source.exists() else gzip.open(str(source) + ".gz").read()
        (mirror / (entry.filename + ".gz")).write_bytes(gzip.compress(raw))
        resources.append((entry.filename + ".gz", hashlib.md5((mirror / (entry.filename + ".gz")).read_bytes()).hexdigest()))
    import torchvision.datasets

    monkeypatch.setattr(torchvision.datasets.MNIST, "resources", resources)
    cache = tmp_path / "cache"
    found = locate("tiny", cache=cache, mirrors=[url])
    assert found == cache / "MNIST" / "raw"
    assert load_arrays("tiny", root=found)["test_images"].shape == (TINY_SIZES["test"], 28, 28)
    # A second lookup finds the cache and downloads nothing.
    assert locate("tiny", cache=cache, download_missing=False) == found


def test_unknown_dataset_lists_the_known_ones():
    with pytest.raises(ValueError, match="mnist"):
        locate("kmnist")
