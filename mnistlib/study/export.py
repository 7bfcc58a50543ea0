"""The last step of a model's life: export to ONNX, for the book's "draw a digit" page (onnxruntime-web).

``export_onnx`` reads a run's weights (committed weights by their name in the study's registry,
:mod:`.weights`, checked against its checksum; or a file: the weights-only state dict the study commits,
``<run>.weights.pt``, or a full checkpoint ``<run>.pt``) and its record (``<run>.json`` beside them), wraps the network so that
the normalisation happens inside the graph, and writes

- ``OUT.onnx``: input ``pixels`` (N, 1, 28, 28) float32, raw grey levels 0-255 with ink bright as in MNIST;
  output ``logits`` (N, 10); the batch axis is dynamic; opset :data:`OPSET`;
- ``OUT.json``: what was exported (model, recipe, seed, the run's test accuracy, its provenance, the
  normalisation constants), so that the page can say which network it runs.
"""
from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn

from ..data import get_spec
from ..models import get_model, get_model_info
from ..training.atomic_files import write_json
from ..data import REPOSITORY_ROOT
from .configuration import STUDY_OUT
from .record import RunRecord
from .run import normalization
from .weights import SUFFIX, get_weights, registry

OPSET = 17


class RawPixels(nn.Module):
    """``model`` fed raw pixels: ``logits = model((x / 255 - mean) / std)`` for ``x`` (N, 1, 28, 28) in 0-255."""

    def __init__(self, model: nn.Module, mean: float, std: float):
        super().__init__()
        self.model = model
        self.register_buffer("scale", torch.tensor(1.0 / (255.0 * std)))
        self.register_buffer("shift", torch.tensor(mean / std))

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.model(pixels * self.scale - self.shift)


def _record_for(weights: Path) -> RunRecord:
    stem = weights.name.removesuffix(".weights.pt").removesuffix(".pt")
    path = weights.with_name(f"{stem}.json")
    if not path.exists():
        raise FileNotFoundError(f"{weights}: its run record {path.name} is not beside it; export needs the record to "
                                "know the model (export a run written by `python -m mnistlib train` or the study)")
    return RunRecord.read(path)


def _state_and_record(weights: str | Path) -> tuple[dict, RunRecord]:
    """The state dict and the record of ``weights``: a registered name (checked against its checksum), or a
    file with its record beside it (checked too, when the registry beside it holds it)."""
    path = Path(weights)
    if not path.exists() and path.suffix != ".pt" and len(path.parts) == 1:
        entry = get_weights(str(weights), REPOSITORY_ROOT / STUDY_OUT)
        return entry.state_dict(), entry.record
    record = _record_for(path)
    entry = registry(path.parent.parent).get(path.name.removesuffix(SUFFIX))
    if entry is not None and entry.file.resolve() == path.resolve():
        return entry.state_dict(), record
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ValueError(f"{path} is not a state dict or a checkpoint torch.load can read "
                         f"({str(exc).splitlines()[0]})") from None
    if not isinstance(state, dict):
        raise ValueError(f"{path} holds a {type(state).__name__}, not a state dict")
    return state.get("model_state", state), record  # a checkpoint holds the state dict under "model_state"


def load_for_export(weights: str | Path) -> tuple[RawPixels, RunRecord]:
    """The network of a run, in eval mode, wrapped to take raw pixels; and the run's record."""
    state, record = _state_and_record(weights)
    model = get_model(record.model, **record.model_kwargs)
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        raise ValueError(f"{weights} does not fit {record.model}, the model its record names "
                         f"({str(exc).splitlines()[0].rstrip(':.')})") from None
    spec = get_spec(record.dataset)
    mean, std = normalization(get_model_info(record.model), record.dataset) or (spec.mean, spec.std)
    return RawPixels(model, mean, std).eval(), record


def export_onnx(weights: str | Path, out: str | Path) -> Path:
    """Write ``out`` (ONNX) and ``out`` with ``.json`` (what it is); returns the ONNX path."""
    wrapped, record = load_for_export(weights)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    torch.onnx.export(wrapped, (torch.zeros(1, 1, 28, 28),), str(partial), input_names=["pixels"],
                      output_names=["logits"], dynamic_axes={"pixels": {0: "batch"}, "logits": {0: "batch"}},
                      opset_version=OPSET, dynamo=False)
    partial.replace(out)
    write_json({"model": record.model, "recipe": record.recipe, "seed": record.seed, "profile": record.profile,
                "dataset": record.dataset, "test_accuracy": record.test_accuracy, "params": record.params,
                "device_name": record.device_name, "torch": record.torch, "commit": record.commit,
                "date": record.date, "opset": OPSET, "weights": Path(weights).name,
                "input": "pixels: (N, 1, 28, 28) float32, grey levels 0-255, ink bright on black as in MNIST",
                "mean": float(wrapped.shift / (wrapped.scale * 255)), "std": float(1 / (wrapped.scale * 255))},
               out.with_suffix(".json"))
    return out


def describe_export(path: str | Path) -> dict:
    """The JSON written beside an exported model."""
    return json.loads(Path(path).with_suffix(".json").read_text())
