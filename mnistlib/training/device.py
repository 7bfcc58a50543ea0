"""The project's one device module: which device a run trains on (the one asked for, checked; else CUDA
when present; else the CPU) and how a record names it."""
from __future__ import annotations

import platform
from pathlib import Path

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


def cpu_model() -> str:
    """The CPU's model name: ``/proc/cpuinfo``'s where there is one (Linux; ``platform`` often gives none
    or only the architecture), else ``platform``'s."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def device_name(device: torch.device) -> str:
    """The GPU's name, or the CPU's model with the thread count torch trains with."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"cpu ({cpu_model()}, {torch.get_num_threads()} threads)"
