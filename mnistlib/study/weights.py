"""Committed weights, named and typed, the way torchvision names its weights.

The study commits the selected weights of each configuration's seed 0 (a weights-only state dict under
2 MB, ``<run>.weights.pt``, beside the run's record). Each is a :class:`Weights`: its name (the run's name,
``shao_cnn-improved-full-seed0``), its file, the SHA-256 the study recorded when it exported it, and the
run's record (model, recipe, metrics). The index ``<study>/weights.json`` (name -> SHA-256) is written with
the weights; everything that loads committed weights (the chapters, the draw page's export, the command
line) resolves them here by name, and a file whose checksum differs from the index is refused, by name.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import torch

from ..models import get_model
from ..training.atomic_files import write_json
from .record import RunRecord

INDEX = "weights.json"
SUFFIX = ".weights.pt"


class WeightsError(ValueError):
    """Committed weights that cannot be used as they are: unknown, or changed since they were committed."""


def sha256_of(path: str | Path) -> str:
    """The SHA-256 of a file, in hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class Weights:
    """One committed network: ``name`` (its run), ``file``, ``sha256`` (as the index records it) and the
    run's ``record`` (model, recipe, seed, metrics)."""

    name: str
    file: Path
    sha256: str
    record: RunRecord

    @property
    def metrics(self) -> dict:
        """The run's figures: test and validation accuracy (fractions), the selected epoch, the parameters."""
        r = self.record
        return {"test_accuracy": r.test_accuracy, "val_accuracy": r.val_accuracy, "best_epoch": r.best_epoch,
                "params": r.params}

    def state_dict(self) -> dict:
        """The state dict, after checking the file against the index; a changed file is refused by name."""
        found = sha256_of(self.file)
        if found != self.sha256:
            raise WeightsError(f"weights {self.name}: {self.file} has SHA-256 {found[:16]}..., the index "
                               f"({self.file.parent.parent / INDEX}) records {self.sha256[:16]}...: the file changed "
                               f"since it was committed; restore it (git checkout -- {self.file}) or export it again "
                               "(python -m mnistlib reproduce --summary-only)")
        return torch.load(self.file, map_location="cpu", weights_only=True)

    def build(self, device=None) -> torch.nn.Module:
        """The trained network, in eval mode, on ``device`` (default the CPU)."""
        model = get_model(self.record.model, **self.record.model_kwargs)
        model.load_state_dict(self.state_dict())
        return model.to(device or "cpu").eval()


def write_index(study: str | Path) -> Path:
    """Record the SHA-256 of every ``<study>/runs/*.weights.pt`` that has its run record beside it, in
    ``<study>/weights.json``; returns its path."""
    runs = Path(study) / "runs"
    index = {path.name.removesuffix(SUFFIX): sha256_of(path) for path in sorted(runs.glob(f"*{SUFFIX}"))
             if path.with_name(path.name.removesuffix(SUFFIX) + ".json").exists()}
    return write_json(index, Path(study) / INDEX)


def registry(study: str | Path) -> dict[str, Weights]:
    """Every committed network of the study folder ``study``, by name (``{}`` when it has no index)."""
    study = Path(study)
    path = study / INDEX
    if not path.exists():
        return {}
    found = {}
    for name, digest in json.loads(path.read_text()).items():
        file = study / "runs" / f"{name}{SUFFIX}"
        found[name] = Weights(name, file, digest, RunRecord.read(file.with_name(f"{name}.json")))
    return found


def get_weights(name: str, study: str | Path) -> Weights:
    """The committed network called ``name`` in ``study``; an unknown name is refused with the known ones."""
    found = registry(study)
    if name not in found:
        raise WeightsError(f"no committed weights called {name!r} in {Path(study) / INDEX}; known: "
                           f"{', '.join(found) or 'none'}")
    return found[name]
