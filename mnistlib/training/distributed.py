"""Data parallelism over several GPUs (or CPU processes) with ``torchrun`` and DistributedDataParallel.

Shao et al. (section 2.2.1) train on several GPUs by splitting each global batch across them and
averaging the gradients. That is what this does: every replica holds the whole dataset on its device and
draws the same seeded permutation, so all replicas agree on each global batch of ``batch_size`` images and
each takes its ``batch_size / world`` share (:meth:`mnistlib.data.Split.batches`, ``shard``). DDP averages
the replicas' gradients, which equals the gradient of the mean loss over the global batch, so N replicas
train the same weights as one process with the same global batch. Batch norm would otherwise normalise
each share by its own statistics; on GPUs it is converted to ``SyncBatchNorm`` so that the statistics are
those of the global batch (PyTorch's SyncBatchNorm does not run on the CPU).

Launch::

    torchrun --nproc-per-node 2 -m mnistlib train shao_cnn --profile full --distributed

Only replica 0 writes checkpoints, result files and logs.
"""
from __future__ import annotations

import os

import torch
import torch.distributed as dist


def rank_and_world() -> tuple[int, int]:
    """``(rank, world size)`` of the running process group, ``(0, 1)`` without one."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def init_from_environment(device: str | None = None) -> str:
    """Join the process group ``torchrun`` describes in the environment; returns this replica's device.

    NCCL on GPUs (one GPU per replica, ``cuda:$LOCAL_RANK``), gloo on the CPU.
    """
    if "RANK" not in os.environ or "WORLD_SIZE" not in os.environ:
        raise ValueError("--distributed needs the environment torchrun sets up: launch with "
                         "'torchrun --nproc-per-node N -m mnistlib train ... --distributed'")
    use_cuda = torch.cuda.is_available() and device != "cpu"
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    if use_cuda:
        torch.cuda.set_device(local_rank)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if use_cuda else "gloo")
    return f"cuda:{local_rank}" if use_cuda else "cpu"


def wrap(model: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """``model`` in DistributedDataParallel (its batch norm synchronised on GPUs); shares the module's weights."""
    if device.type == "cuda":
        model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
        return torch.nn.parallel.DistributedDataParallel(model, device_ids=[device.index])
    return torch.nn.parallel.DistributedDataParallel(model)


def sum_across_replicas(values: torch.Tensor) -> torch.Tensor:
    """``values`` summed over the replicas (unchanged in a single process)."""
    if rank_and_world()[1] > 1:
        values = values.clone()
        dist.all_reduce(values)
    return values
