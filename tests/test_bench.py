"""The benchmark: the DataLoader pipeline sees the same images as the device path, and the CLI runs on a CPU."""
import json

import torch

from mnistlib.study.bench import bench_data, dataloaders, table_rows, torchvision_root
from mnistlib.cli import main


def test_torchvision_pipeline_reads_the_same_normalised_images(tmp_path, monkeypatch):
    monkeypatch.setenv("MNISTLIB_CACHE", str(tmp_path))
    root = torchvision_root()
    assert (root / "MNIST" / "raw" / "t10k-images-idx3-ubyte").stat().st_size == 7_840_016
    _, test_loader = dataloaders(1000, 0, None, torch.device("cpu"))
    x, y = next(iter(test_loader))
    ours = bench_data(torch.device("cpu"), subset=100).test
    torch.testing.assert_close(x, ours.images[:1000], atol=1e-5, rtol=0)
    assert torch.equal(y, ours.labels[:1000])


def test_bench_on_cpu_prints_every_path_and_writes_its_provenance(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MNISTLIB_CACHE", str(tmp_path / "cache"))
    assert main(["bench", "--device", "cpu", "--subset", "5000", "--epochs", "2", "--out", str(tmp_path / "bench")]) == 0
    printed = capsys.readouterr().out
    for path in ("dataloader-0", "dataloader-4", "device-eager", "device-fast"):
        assert path in printed
    result = json.loads((tmp_path / "bench" / "bench.json").read_text())
    assert result["train_images"] == 5000 and result["provenance"]["device"] == "cpu"
    assert "improved" not in result  # the end-to-end run of the improved recipe is for GPUs
    fast = next(r for r in result["rows"] if r["path"] == "device-fast")
    assert fast["note"] == "no CUDA graph on this device: the eager path"
    assert all(r["epoch_seconds"] > 0 and 0.5 < r["test_accuracy"] <= 1 for r in result["rows"])
    assert result["arithmetic"]["shao_cnn"]["epoch_flops"] > 0
    assert [r["speed-up"] for r in table_rows(result)].count("1.0x") >= 1
    assert "| model | path | batch | ms/epoch |" in (tmp_path / "bench" / "bench.md").read_text()
    assert {r["batch_size"] for r in result["rows"]} == {1000}  # the Shao CNN's recipe: batch 1,000


def test_bench_refuses_a_single_epoch(capsys):
    assert main(["bench", "--device", "cpu", "--epochs", "1"]) == 1
    assert "at least 2 epochs" in capsys.readouterr().err


def test_the_graph_agreement_compares_per_step_losses_or_says_why_it_cannot(monkeypatch):
    from mnistlib.study.bench import graph_agreement
    from mnistlib.training import cuda_graphs

    data = bench_data(torch.device("cpu"), subset=500)
    refused = graph_agreement("gecco", data, steps=3)
    assert refused["fallback"] == "CUDA graphs need a CUDA GPU: training runs eagerly" and "equal" not in refused
    # a "graph" that is the eager model itself: both curves must come out identical, step by step
    monkeypatch.setattr(cuda_graphs, "capture_blocker", lambda *args: None)
    monkeypatch.setattr(cuda_graphs, "graph_forward", lambda model, example, precision: (model, None))
    same = graph_agreement("gecco", data, steps=4)
    assert same["equal"] and same["max_relative_difference"] == 0 and len(same["graph_losses"]) == 4
    assert same["eager_losses"] == same["graph_losses"] and same["first_step_loss"] > 0
