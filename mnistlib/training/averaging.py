"""The exponential moving average of a network's weights (the ladder's ``ema``, chapter 7).

    w_ema <- w                                  after the first step
    w_ema <- decay * w_ema + (1 - decay) * w    after each later step

PyTorch's ``AveragedModel`` computes exactly this (``get_ema_multi_avg_fn``), but decides between the copy
and the average by reading its step count, a tensor on the model's device, twice a step: on a GPU each read
waits for every queued kernel. :class:`WeightAverage` keeps the same tensor (so its state dict and checkpoints
are ``AveragedModel``'s) and decides from a count on the host, so a step never waits for the device.
"""
from __future__ import annotations

import itertools
from collections import defaultdict

import torch
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn


class WeightAverage(AveragedModel):
    """``AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=True)`` (weights and
    buffers, batch-norm statistics included), updated without a host sync. ``.module`` is the averaged network."""

    def __init__(self, model: torch.nn.Module, decay: float):
        super().__init__(model, multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=True)
        self.updates = 0  # the host's copy of ``n_averaged``

    @torch.no_grad()
    def update_parameters(self, model: torch.nn.Module) -> None:
        averaged = [t.detach() for t in itertools.chain(self.module.parameters(), self.module.buffers())]
        current = [t.detach() for t in itertools.chain(model.parameters(), model.buffers())]
        if self.updates == 0:
            torch._foreach_copy_(averaged, current)
        else:  # grouped by device and dtype, as AveragedModel groups them (lerp needs floating point)
            groups: dict[tuple, tuple[list, list]] = defaultdict(lambda: ([], []))
            for a, c in zip(averaged, current, strict=True):
                groups[a.device, a.dtype][0].append(a)
                groups[a.device, a.dtype][1].append(c)
            for group_averaged, group_current in groups.values():
                self.multi_avg_fn(group_averaged, group_current, None)
        self.n_averaged += 1  # on the device, queued: no sync
        self.updates += 1

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        result = super().load_state_dict(state_dict, strict=strict, assign=assign)
        self.updates = int(self.n_averaged)  # one read, when a run resumes
        return result


def weight_average(model: torch.nn.Module, decay: float) -> WeightAverage | None:
    """The exponential moving average of ``model``'s weights and buffers (``None`` when ``decay`` is 0):
    ``update_parameters(model)`` after each step, ``.module`` is the averaged network."""
    return WeightAverage(model, decay) if decay else None
