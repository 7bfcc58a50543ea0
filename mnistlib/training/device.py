"""Which device a run trains on: the one asked for (checked), else CUDA when present, else the CPU."""
from __future__ import annotations

import torch


def resolve_device(device: str | torch.device | None = None) -> torch.device:
    """``device`` if given (checked), else CUDA when present, else the CPU."""
    if device is None or str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except RuntimeError:
        raise ValueError(f"device {device!r} is not a device name: use cpu, cuda or cuda:N") from None
    if dev.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise ValueError(f"device {device!r} asked for, but this machine has no CUDA GPU: use --device cpu")
        if dev.index is not None and dev.index >= count:
            raise ValueError(f"device {device!r} asked for, but this machine has {count} CUDA GPU(s): "
                             f"use cuda:0 to cuda:{count - 1}")
    elif dev.type != "cpu":
        raise ValueError(f"device {device!r} is not supported: use cpu or cuda[:N]")
    return dev
