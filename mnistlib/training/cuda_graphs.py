"""The fast path: a model's forward and backward captured once as a CUDA graph and replayed every step.

Why: at batch 1,000 the paper CNN's ~100 kernels per step each finish in microseconds on an H100, faster than
Python can launch the next one, so the eager loop is bound by the launches, not by the arithmetic. A CUDA
graph records the whole forward and backward once, for one batch shape, and replays it with one launch.

How (``torch.cuda.make_graphed_callables``): the module's forward is replaced by one that copies its input
into a static buffer and replays the recorded forward; autograd replays the recorded backward. The loss
and the optimiser step stay eager (the loss is a handful of kernels; fused Adam is one or two), so learning
-rate schedules keep working unchanged. What the capture must not change is undone: its warm-up passes
update batch-norm statistics, consume dropout random numbers and leave gradients behind, so the model's
state and the CUDA RNG are saved before and restored after.

The graph serves only batches of the captured shape in training mode; the ragged last batch of an epoch and
every evaluation run the original, eager forward. Where capture is impossible (no CUDA device, several
replicas, a model that syncs with the host in its forward) :func:`graph_forward` says why and training
stays eager.
"""
from __future__ import annotations

from contextlib import nullcontext
from typing import Callable

import torch

PRECISIONS = ("fp32", "bf16")


def autocast(device: torch.device, precision: str):
    """bfloat16 autocast for ``precision='bf16'`` (no weight cache, as graph capture requires), else nothing."""
    if precision == "fp32":
        return nullcontext()
    return torch.autocast(device.type, dtype=torch.bfloat16, cache_enabled=False)


def capture_blocker(model: torch.nn.Module, device: torch.device, batch_size: int, train_size: int,
                    world_size: int = 1) -> str | None:
    """Why this run cannot use a CUDA graph, or ``None`` when it can."""
    if device.type != "cuda":
        return "CUDA graphs need a CUDA GPU: training runs eagerly"
    if world_size > 1:
        return "CUDA graphs are not combined with DistributedDataParallel here: training runs eagerly"
    if train_size < batch_size:
        return f"no full batch of {batch_size} in {train_size} training images: training runs eagerly"
    return getattr(model, "graph_blocker", None)  # a model may say why it cannot be captured


def graph_forward(model: torch.nn.Module, example: torch.Tensor, precision: str = "fp32",
                  warmup: int = 3) -> tuple[Callable[[torch.Tensor], torch.Tensor], str | None]:
    """``(forward, failure)``: ``forward(x)`` replays the captured graph for batches shaped like ``example``
    and runs eagerly otherwise; ``failure`` is ``None``, or why capture failed (then ``forward`` is eager).

    ``example``: ``(B, 1, 28, 28)`` on the GPU; the model must be in training mode.
    """
    eager = model.forward
    saved = {k: v.detach().clone() for k, v in model.state_dict().items()}
    rng = torch.cuda.get_rng_state(example.device)
    try:
        with autocast(example.device, precision):
            torch.cuda.make_graphed_callables(model, (example.detach().clone(),), num_warmup_iters=warmup)
        failure = None
    except Exception as exc:  # a host sync or a dynamic shape inside the forward: stay eager
        release_graph(model)
        failure = f"graph capture failed ({type(exc).__name__}: {str(exc).splitlines()[0]}): training runs eagerly"
    with torch.no_grad():
        model.load_state_dict(saved)
    torch.cuda.set_rng_state(rng, example.device)
    for p in model.parameters():
        p.grad = None
    if failure is not None:
        return eager, failure
    graphed, shape = model.forward, tuple(example.shape)

    def forward(x: torch.Tensor) -> torch.Tensor:
        return graphed(x) if tuple(x.shape) == shape else eager(x)

    return forward, None


def release_graph(model: torch.nn.Module) -> None:
    """Give ``model`` back its own eager ``forward`` (capture replaces it on the instance)."""
    model.__dict__.pop("forward", None)
