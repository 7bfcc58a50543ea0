"""The real MNIST (via $MNIST_DATA): checksums, the seeded split, device batches, augmentation."""
from __future__ import annotations

import shutil

import pytest
import torch

from mnistlib.data import DataError, RandomAffine, Split, get_spec, load_arrays, split_indices


def test_split_is_55000_5000_disjoint_and_deterministic(mnist_cpu):
    assert (len(mnist_cpu.train), len(mnist_cpu.val), len(mnist_cpu.test)) == (55_000, 5_000, 10_000)
    train, val = split_indices()
    assert torch.equal(val, split_indices()[1])
    assert len(set(train.tolist()) | set(val.tolist())) == 60_000
    assert not torch.equal(val, split_indices(seed=1)[1])


def test_splits_are_normalised_once_on_the_device(mnist_cpu):
    x = mnist_cpu.train.images
    assert x.dtype == torch.float32 and x.shape == (55_000, 1, 28, 28)
    background = (0 - mnist_cpu.mean) / mnist_cpu.std
    assert x.min().item() == pytest.approx(background, abs=1e-5)
    assert x.mean().item() == pytest.approx(0.0, abs=0.02)  # standardised with MNIST's own statistics
    assert mnist_cpu.test.labels.bincount().tolist()[0] == 980  # the canonical test set has 980 zeros


def test_shuffled_batches_visit_every_image_once():
    split = Split(torch.arange(10.0).view(10, 1, 1, 1), torch.arange(10))
    g = torch.Generator().manual_seed(0)
    batches = list(split.batches(4, shuffle=True, generator=g))
    assert [len(y) for _, y in batches] == [4, 4, 2]
    seen = torch.cat([y for _, y in batches])
    assert sorted(seen.tolist()) == list(range(10)) and seen.tolist() != list(range(10))
    assert all(torch.equal(x.flatten().long(), y) for x, y in batches)  # images stay with their labels
    with pytest.raises(ValueError, match="batch_size"):
        next(split.batches(0))


def test_augmentation_is_batched_seeded_and_identity_at_zero(mnist_cpu):
    x = mnist_cpu.val.images[:64]
    identity = RandomAffine(degrees=0, translate=0, scale=(1, 1))
    assert torch.allclose(identity(x), x, atol=1e-5)
    a = RandomAffine(generator=torch.Generator().manual_seed(1))(x)
    b = RandomAffine(generator=torch.Generator().manual_seed(1))(x)
    assert a.shape == x.shape and torch.equal(a, b) and not torch.allclose(a, x, atol=1e-3)


def test_mnist_data_with_one_corrupted_file_names_it(mnist_dir, tmp_path, monkeypatch):
    spec = get_spec("mnist")
    bad_folder = tmp_path / "mnist"
    bad_folder.mkdir()
    for entry in spec.files.values():
        source = mnist_dir / entry.filename
        if not source.exists():
            source = mnist_dir / (entry.filename + ".gz")
        shutil.copy(source, bad_folder / source.name)
    victim = next(bad_folder.glob("t10k-labels*"))
    import gzip
    raw = bytearray(gzip.open(victim).read() if victim.suffix == ".gz" else victim.read_bytes())
    raw[100] = (raw[100] + 1) % 10
    (bad_folder / "t10k-labels-idx1-ubyte").write_bytes(bytes(raw))  # the raw file is preferred
    monkeypatch.setenv("MNIST_DATA", str(bad_folder))
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte.*MD5"):
        load_arrays("mnist")


FASHION = "/usr/share/datasets/fashion-mnist"


@pytest.mark.skipif(not shutil.os.path.isdir(FASHION), reason="Debian's dataset-fashion-mnist is not installed")
def test_fashion_mnist_is_found_in_debians_folder_and_verified(monkeypatch):
    monkeypatch.delenv("FASHION_MNIST_DATA", raising=False)
    arrays = load_arrays("fashion_mnist", download_missing=False)
    assert arrays["train_images"].shape == (60_000, 28, 28) and arrays["test_labels"].shape == (10_000,)
    assert sorted(set(arrays["test_labels"].tolist())) == list(range(10))
    assert get_spec("fashion-mnist").classes[9] == "Ankle boot"
