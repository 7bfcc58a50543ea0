"""Data parallelism (two gloo processes equal one process with the same global batch) and the fast path."""
from __future__ import annotations

import dataclasses
import os
import socket

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from mnistlib.training.config import TrainConfig
from mnistlib.data import load_data
from mnistlib.training.cuda_graphs import capture_blocker
from mnistlib.models import get_model
from mnistlib.training.loop import fit

# no batch norm and no dropout: with them, a replica's share of the batch is not the whole batch on the CPU
# (SyncBatchNorm needs a GPU) and each process draws its own dropout masks
MODEL_KWARGS = dict(batch_norm=False, dropout=0.0)
CONFIG = TrainConfig(epochs=2, batch_size=100, lr=1e-3, schedule="exponential", gamma=0.9, augment="affine",
                     device="cpu", seed=3)


def small_data():
    data = load_data("mnist", device="cpu", train_subset=1000)
    return dataclasses.replace(data, val=data.val.head(500))


def train_once():
    torch.manual_seed(0)
    model = get_model("shao_cnn", **MODEL_KWARGS)
    result = fit(model, small_data(), CONFIG, quiet=True)
    return model.state_dict(), result


def replica(rank: int, world: int, port: int, out: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=world)
    try:
        state, result = train_once()
        if rank == 0:
            torch.save({"state": state, "history": result.history}, out)
    finally:
        dist.destroy_process_group()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_replicas_train_the_weights_of_one_process_with_the_global_batch(tmp_path):
    out = tmp_path / "ddp.pt"
    mp.spawn(replica, args=(2, free_port(), str(out)), nprocs=2, join=True)
    parallel = torch.load(out, weights_only=True)
    single_state, single = train_once()
    for name, value in single_state.items():
        torch.testing.assert_close(parallel["state"][name], value, rtol=1e-4, atol=1e-5, msg=name)
    # the epoch metrics are summed over both replicas' shares: they describe the whole training split
    for a, b in zip(parallel["history"], single.history):
        assert a["train_loss"] == pytest.approx(b["train_loss"], rel=1e-4)
        assert a["train_accuracy"] == pytest.approx(b["train_accuracy"], abs=1e-3)


def test_a_batch_that_does_not_split_across_replicas_is_refused(monkeypatch):
    from mnistlib.training import distributed

    monkeypatch.setattr(distributed, "rank_and_world", lambda: (0, 3))
    with pytest.raises(ValueError, match="does not split evenly across 3 replicas"):
        fit(get_model("shao_cnn"), small_data(), dataclasses.replace(CONFIG, epochs=1), quiet=True)


def test_shards_partition_every_global_batch():
    data = small_data()
    gen = lambda: torch.Generator().manual_seed(5)
    whole = [y for _, y in data.train.batches(100, shuffle=True, generator=gen())]
    parts = [[y for _, y in data.train.batches(100, shuffle=True, generator=gen(), shard=(r, 2))] for r in range(2)]
    for batch, first, second in zip(whole, *parts):
        assert len(first) == len(second) == 50
        assert torch.equal(torch.cat([first, second]), batch)


def test_the_fast_path_falls_back_on_the_cpu_and_trains_the_same_weights():
    model = get_model("shao_cnn")
    assert capture_blocker(model, torch.device("cpu"), 100, 1000) == "CUDA graphs need a CUDA GPU: training runs eagerly"
    lines = []
    torch.manual_seed(0)
    fast_model = get_model("shao_cnn", **MODEL_KWARGS)
    result = fit(fast_model, small_data(), dataclasses.replace(CONFIG, epochs=1, cuda_graph=True), quiet=True,
                 log=lines.append)
    assert result.train_path == "eager" and "CUDA graphs need a CUDA GPU" in lines[0]
    torch.manual_seed(0)
    eager_model = get_model("shao_cnn", **MODEL_KWARGS)
    fit(eager_model, small_data(), dataclasses.replace(CONFIG, epochs=1), quiet=True)
    for a, b in zip(fast_model.parameters(), eager_model.parameters()):
        assert torch.equal(a, b)


def test_bad_precision_is_refused():
    with pytest.raises(ValueError, match="precision must be one of fp32, bf16"):
        TrainConfig(precision="fp16")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA graphs need a GPU (run on the device machine)")
@pytest.mark.parametrize("model_name", ["shao_cnn", "baseline_cnn", "efficient_capsnet"])
def test_cuda_graph_training_matches_eager_within_noise(model_name):
    data = load_data("mnist", device="cuda", train_subset=5000)
    config = TrainConfig(epochs=2, batch_size=500, device="cuda", seed=1)
    accuracies = {}
    for graph in (False, True):
        torch.manual_seed(0)
        model = get_model(model_name)
        result = fit(model, data, dataclasses.replace(config, cuda_graph=graph), quiet=True)
        assert result.train_path == ("cuda-graph" if graph else "eager")
        accuracies[graph] = result.best_val_accuracy
    assert accuracies[True] == pytest.approx(accuracies[False], abs=0.01)
