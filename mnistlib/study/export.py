"""The last step of a model's life: export to ONNX, for the book's "draw a digit" page (onnxruntime-web).

``export_onnx`` reads a run's weights (committed weights by their name in the study's registry,
:mod:`.weights`, checked against its checksum; or a file: the weights-only state dict the study commits,
``<run>.weights.pt``, or a full checkpoint ``<run>.pt``) and its record (``<run>.json`` beside them), wraps the network so that
the normalisation happens inside the graph, and writes

- ``OUT.onnx``: input ``pixels`` (N, 1, 28, 28) float32, raw grey levels 0-255 with ink bright as in MNIST;
  output ``logits`` (N, 10); the batch axis is dynamic; opset :data:`OPSET`;
- ``OUT.json``: what was exported (model, recipe, seed, the run's test accuracy, its provenance, the
  normalisation constants), so that the page can say which network it runs.

With ``layers=True`` (Shao et al.'s CNN only, ``python -m mnistlib export ... --layers``) the graph also
returns what happens inside the network, for the page's "inside the network" view (:data:`LAYER_OUTPUTS`):
the softmax, the first convolution before batch norm and ReLU (the weighted sum of the normalised, zero-padded
input that chapter 1 computes by hand), and each conv block's maps after its ReLU; the JSON then also holds
the first layer's kernels and biases, so that the page can redo that weighted sum in front of the reader.
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
# The outputs of a ``layers=True`` export, in order (``logits`` first, as in a plain export), with their shapes
# for one image of Shao et al.'s CNN: name -> (what it is, shape).
LAYER_OUTPUTS = {
    "logits": ("the ten scores before the softmax", (10,)),
    "probabilities": ("the softmax of the logits", (10,)),
    "conv1_pre": ("conv 1 before batch norm and ReLU: the weighted sum of the normalised, padded input", (12, 28, 28)),
    "conv1": ("conv 1's maps after batch norm and ReLU", (12, 28, 28)),
    "conv2": ("conv 2's maps after batch norm and ReLU", (24, 14, 14)),
    "conv3": ("conv 3's maps after batch norm and ReLU", (32, 7, 7)),
}


class RawPixels(nn.Module):
    """``model`` fed raw pixels: ``logits = model((x / 255 - mean) / std)`` for ``x`` (N, 1, 28, 28) in 0-255."""

    def __init__(self, model: nn.Module, mean: float, std: float):
        super().__init__()
        self.model = model
        self.register_buffer("scale", torch.tensor(1.0 / (255.0 * std)))
        self.register_buffer("shift", torch.tensor(mean / std))

    def normalise(self, pixels: torch.Tensor) -> torch.Tensor:
        """``(pixels / 255 - mean) / std``, what the network was trained on."""
        return pixels * self.scale - self.shift

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.model(self.normalise(pixels))


class LayerOutputs(nn.Module):
    """Shao et al.'s CNN fed raw pixels, returning :data:`LAYER_OUTPUTS` in order for ``pixels`` (N, 1, 28, 28)."""

    def __init__(self, wrapped: RawPixels):
        super().__init__()
        model = wrapped.model
        if not hasattr(model, "features") or not isinstance(model.features[0][0], nn.Conv2d):
            raise ValueError(f"{type(model).__name__} has no conv blocks to show: --layers exports Shao et al.'s CNN")
        self.wrapped = wrapped

    def forward(self, pixels: torch.Tensor) -> tuple[torch.Tensor, ...]:
        features = self.wrapped.model.features
        conv1_pre = features[0][0](self.wrapped.normalise(pixels))
        conv1 = features[0][1:](conv1_pre)
        conv2 = features[1](conv1)
        conv3 = features[2](conv2)
        logits = self.wrapped.model.classifier(features[3](conv3))
        return logits, torch.softmax(logits, dim=1), conv1_pre, conv1, conv2, conv3


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


def export_onnx(weights: str | Path, out: str | Path, *, layers: bool = False) -> Path:
    """Write ``out`` (ONNX) and ``out`` with ``.json`` (what it is); returns the ONNX path. ``layers``: also
    return :data:`LAYER_OUTPUTS` (Shao et al.'s CNN only)."""
    wrapped, record = load_for_export(weights)
    graph, outputs = (LayerOutputs(wrapped), list(LAYER_OUTPUTS)) if layers else (wrapped, ["logits"])
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    torch.onnx.export(graph, (torch.zeros(1, 1, 28, 28),), str(partial), input_names=["pixels"],
                      output_names=outputs, dynamic_axes={name: {0: "batch"} for name in ["pixels", *outputs]},
                      opset_version=OPSET, dynamo=False)
    partial.replace(out)
    inside = {}
    if layers:
        conv = wrapped.model.features[0][0]
        inside = {"outputs": {name: {"about": about, "shape": list(shape)} for name, (about, shape) in LAYER_OUTPUTS.items()},
                  "conv1_kernels": conv.weight.detach()[:, 0].tolist(), "conv1_bias": conv.bias.detach().tolist(),
                  "conv1_padding": conv.padding[0]}
    write_json({"model": record.model, "recipe": record.recipe, "tag": record.tag, "seed": record.seed,
                "profile": record.profile, "dataset": record.dataset, "val_accuracy": record.val_accuracy,
                "test_accuracy": record.test_accuracy, "params": record.params,
                "device_name": record.device_name, "torch": record.torch, "commit": record.commit,
                "date": record.date, "opset": OPSET, "weights": Path(weights).name,
                "input": "pixels: (N, 1, 28, 28) float32, grey levels 0-255, ink bright on black as in MNIST",
                "mean": float(wrapped.shift / (wrapped.scale * 255)), "std": float(1 / (wrapped.scale * 255)), **inside},
               out.with_suffix(".json"))
    return out


def describe_export(path: str | Path) -> dict:
    """The JSON written beside an exported model."""
    return json.loads(Path(path).with_suffix(".json").read_text())
