"""Where a result came from: device name, library versions, git commit, time."""
from __future__ import annotations

import datetime as _dt
import os
import platform
import subprocess
from pathlib import Path

import torch

from ..training.device import device_name


def git_commit() -> str:
    """The checkout's commit, with ``-dirty`` when tracked files differ from it.

    ``$MNISTLIB_COMMIT``, when set, names it instead: a tree copied to a remote GPU may carry a ``.git`` of
    another commit than the files beside it (seen on the course's GPU machine), so the copier says which.
    Outside a git checkout and without the variable it is ``unknown``.
    """
    named = os.environ.get("MNISTLIB_COMMIT")
    if named:
        return named
    here = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True,
                                check=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=here,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return commit + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def provenance(device: torch.device) -> dict:
    return {
        "device": str(device),
        "device_name": device_name(device),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "python": platform.python_version(),
        "commit": git_commit(),
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }


def environment(device: torch.device) -> str:
    """The exact software behind a study, ``pip freeze``-style: every installed distribution pinned, after a
    header with Python, the torch build (CUDA and cuDNN versions) and the device. Written beside a study's
    results (``environment.txt``) when it runs."""
    from importlib import metadata

    packages = sorted({f"{d.metadata['Name']}=={d.version}" for d in metadata.distributions()
                       if d.metadata["Name"]}, key=str.lower)
    cudnn = torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None
    header = [f"# python {platform.python_version()} ({platform.platform()})",
              f"# torch {torch.__version__} (CUDA {torch.version.cuda}, cuDNN {cudnn})",
              f"# device {device_name(device)}", f"# commit {git_commit()}"]
    return "\n".join(header + packages) + "\n"
