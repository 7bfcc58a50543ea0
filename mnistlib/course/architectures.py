"""Chapter 6's computations: the INT305 architectures opened up, each small enough to run on a CPU.

- :func:`spinal_trace` follows a SpinalNet head layer by layer (which half of the input each layer reads);
- :func:`residual_check` recomputes a torchvision residual block by hand, and :func:`gradient_by_depth`
  shows what the skip connection does for the gradient of a deep stack;
- :func:`squash_curve` and :func:`routing` open Efficient-CapsNet's capsules and self-attention routing.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..models.efficient_capsnet import EfficientCapsNet, capsule_length, squash
from ..models.spinalnet import SpinalHead


def spinal_trace(head: SpinalHead, features: torch.Tensor) -> list[dict]:
    """One row per spinal layer of ``head`` run on ``features`` (B, 2h): which half of the input it reads,
    whether it also reads the previous layer, its input and output widths (measured with hooks)."""
    shapes = []
    hooks = [layer.register_forward_hook(lambda m, inputs, out: shapes.append((inputs[0].shape[1], out.shape[1])))
             for layer in head.layers]
    try:
        with torch.no_grad():
            logits = head.eval()(features)
    finally:
        for hook in hooks:
            hook.remove()
    half = head.half
    rows = [{"layer": f"y{k + 1}", "reads": ("a" if k % 2 == 0 else "b") + ("" if k == 0 else f" + y{k}"),
             "input width": n_in, "output width": n_out} for k, (n_in, n_out) in enumerate(shapes)]
    rows.append({"layer": "output", "reads": " + ".join(f"y{k + 1}" for k in range(len(shapes))),
                 "input width": sum(n for _, n in shapes), "output width": logits.shape[1]})
    assert shapes[0][0] == half
    return rows


def residual_check(block: nn.Module, x: torch.Tensor) -> float:
    """Recompute a torchvision ``BasicBlock`` by hand, ``relu(F(x) + shortcut(x))`` with
    ``F = bn2(conv2(relu(bn1(conv1(x)))))`` and ``shortcut`` the identity, or the block's 1x1 projection
    when it changes the shape; returns the largest difference from the block's own output (eval mode)."""
    block.eval()
    with torch.no_grad():
        residual = block.bn2(block.conv2(F.relu(block.bn1(block.conv1(x)))))
        shortcut = x if block.downsample is None else block.downsample(x)
        return (F.relu(residual + shortcut) - block(x)).abs().max().item()


def gradient_by_depth(depth: int = 30, width: int = 64, residual: bool = False, seed: int = 0,
                      batch: int = 256) -> list[float]:
    """The norm of the loss's gradient with respect to the input of each layer of a freshly initialised
    stack of ``depth`` blocks ``h -> relu(linear(h))`` (``residual``: ``h -> h + relu(linear(h))``), for a
    random batch and a loss that is the mean of the last layer's output. Plain stacks lose the gradient
    layer by layer on its way back; the skip connection gives it a path that bypasses every layer."""
    torch.manual_seed(seed)
    layers = [nn.Linear(width, width) for _ in range(depth)]
    h = torch.randn(batch, width)
    inputs = []
    for layer in layers:
        h = h.detach().requires_grad_() if not inputs else h
        h.retain_grad()
        inputs.append(h)
        step = F.relu(layer(h))
        h = h + step if residual else step
    h.mean().backward()
    return [x.grad.norm().item() for x in inputs]


def squash_curve(norms: torch.Tensor) -> torch.Tensor:
    """The length of ``squash(s)`` for vectors ``s`` of the given lengths (Efficient-CapsNet's eq. 3): a
    short vector shrinks towards 0, a long one approaches (never reaches) 1."""
    s = torch.zeros(len(norms), 8)
    s[:, 0] = norms
    return capsule_length(squash(s))


@dataclass
class Routing:
    """One image through Efficient-CapsNet: its 16 primary capsules (16 x 8), the coupling coefficients of
    the self-attention routing (10 output capsules x 16 inputs), the 10 digit capsules (10 x 16) and their
    lengths (the class scores)."""

    primary: torch.Tensor
    coupling: torch.Tensor
    digits: torch.Tensor
    lengths: torch.Tensor


@torch.no_grad()
def routing(model: EfficientCapsNet, image: torch.Tensor) -> Routing:
    """Run one image ``(1, 1, 28, 28)`` through ``model`` (eval mode) step by step, recomputing the
    routing of :class:`~mnistlib.models.efficient_capsnet.FCCaps` (eq. 4-6) to expose its coupling
    coefficients; checked against the model's own output."""
    model.eval()
    primary = model.primary(model.features(image))  # (1, 16, 8)
    caps = model.digits
    u = torch.einsum("bji,njiz->bnjz", primary, caps.W)  # every input's prediction for every output
    agreement = (u * u.sum(dim=2, keepdim=True)).sum(-1, keepdim=True) / caps.d_out ** 0.5
    coupling = torch.softmax(agreement, dim=1) + caps.b
    digits = squash((u * coupling).sum(dim=2))
    lengths = capsule_length(digits)
    assert torch.allclose(lengths, model(image), atol=1e-5)
    return Routing(primary[0], coupling[0, :, :, 0], digits[0], lengths[0])


@dataclass(frozen=True)
class BatchMixing:
    """Where a GECCO prediction's dependence on its batch comes from, for one batch of ``batch`` images:
    ``neighbour_scale``, how much larger the graph convolution's neighbour term is than for the image alone
    (the published graph repeats each self-loop B times); ``self_share``, the mean weight an image's row of
    the batch attention ``A`` keeps on itself (the rest mixes in the other images)."""

    batch: int
    neighbour_scale: float
    self_share: float


@torch.no_grad()
def batch_mixing(model: nn.Module, images: torch.Tensor) -> BatchMixing:
    """:class:`BatchMixing` of a (published-graph) GECCO on ``images`` (B, 1, 28, 28), in eval mode."""
    from ..models.gecco import batch_attention

    model.eval()
    x = F.relu(model.att(images.reshape(len(images), -1)))  # the graph convolution's input
    conv = model.conv
    neighbour = torch.sigmoid(conv.lin_key(x) + conv.lin_query(x)) * conv.lin_value(x)  # one self-message
    in_batch = model.graph_conv(x) - conv.lin_skip(x) - conv.bias
    alone = torch.stack([model.graph_conv(row[None])[0] for row in x]) - conv.lin_skip(x) - conv.bias
    assert torch.allclose(alone, neighbour, atol=1e-4)
    scale = (in_batch.norm() / alone.norm()).item()
    a = batch_attention(model.embed(images))
    return BatchMixing(len(images), scale, a.diagonal().mean().item())
