"""Chapter 4's computations: what three of Shao et al.'s hyperparameters change in training, measured on the
paper's network before any verdict is read.

- **Batch size.** A step's gradient is the mean over ``B`` images drawn from ``N``. Drawn without replacement,
  its expected squared distance from the full gradient ``g`` is

      E ||g_B - g||^2 = (1 - B / N) * S^2 / B,

  with ``S^2 = sum_i ||g_i - g||^2 / (N - 1)`` the spread of the images' own gradients ``g_i``: the noise falls
  as ``1 / B``, and an epoch's steps fall as ``1 / B`` too. :func:`gradient_noise` measures the left side by
  drawing batches and predicts the right side from every image's gradient (``torch.func.vmap``).
- **Activation.** After batch norm, an activation meets inputs of mean 0 and standard deviation 1 (at the
  start; the norm's learned scale and shift can move them). On that range a sigmoid is almost a straight line
  (``sigmoid(x) ~ 1/2 + x/4``), and a network of straight lines is one linear map. :func:`linearity` scores how
  straight an activation is on given inputs (the R^2 of the best line through its outputs);
  :func:`activation_inputs` records the inputs each activation of the network meets.
- The learning rate's **decay** is computed by the training loop's own scheduler in
  :func:`mnistlib.course.recipes.learning_rates`.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, grad, vmap

from ..data import TRAIN_SIZE, VAL_SIZE


@dataclass(frozen=True)
class GradientNoise:
    """One batch size: the measured mean of ``||g_B - g||^2`` over the draws and the formula's prediction, both
    relative to ``||g||^2`` (1.0: the noise is as large as the gradient itself)."""

    batch_size: int
    measured: float
    predicted: float
    steps_per_epoch: int  # optimiser steps in an epoch of the study's training images (the split's, not N)


def full_gradient(model: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """The gradient of the mean cross-entropy over ``images`` (N, 1, 28, 28), flattened over the parameters:
    what one training step on that batch uses."""
    model.zero_grad(set_to_none=True)
    F.cross_entropy(model(images), labels).backward()
    return torch.cat([p.grad.flatten() for p in model.parameters()])


def per_image_gradients(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, chunk: int = 64):
    """Every image's own gradient ``g_i``, flattened over the parameters, ``chunk`` images at a time (a
    ``(chunk, parameters)`` tensor each): ``vmap`` of ``grad`` over the images, the network's buffers fixed."""
    params = {name: p.detach() for name, p in model.named_parameters()}
    buffers = dict(model.named_buffers())

    def loss(p, image, label):
        return F.cross_entropy(functional_call(model, (p, buffers), (image[None],)), label[None])

    per_image = vmap(grad(loss), in_dims=(None, 0, 0))
    for start in range(0, len(labels), chunk):
        grads = per_image(params, images[start:start + chunk], labels[start:start + chunk])
        yield torch.cat([g.flatten(1) for g in grads.values()], dim=1)


def gradient_noise(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, batch_sizes: list[int],
                   draws: int = 32, seed: int = 0,
                   train_images: int = TRAIN_SIZE - VAL_SIZE) -> list[GradientNoise]:
    """For each batch size ``B`` (between 2 and ``N - 1``, ``N = len(labels)``), the noise of ``draws`` batches
    drawn without replacement from the ``N`` images, against the formula's prediction from ``S^2``.

    One pass over the images computes every image's gradient: ``g`` is their mean, ``S^2`` their spread, and a
    batch's gradient the mean of its images' (the same as a backward pass over the batch, since the network is
    in evaluation mode: each image's loss then depends on that image alone; in training mode batch norm mixes
    a batch's images and dropout adds noise of its own)."""
    n = len(labels)
    if not (1 < min(batch_sizes) and max(batch_sizes) < n):
        raise ValueError(f"batch sizes must lie between 2 and {n - 1} (one less than the images given), "
                         f"got {batch_sizes}")
    model.eval()
    generator = torch.Generator().manual_seed(seed)
    sizes = [b for b in batch_sizes for _ in range(draws)]
    members = torch.zeros(len(sizes), n)  # row d: 1 / B on the images of draw d, 0 elsewhere
    for d, b in enumerate(sizes):
        members[d, torch.randperm(n, generator=generator)[:b]] = 1 / b
    total, squares, batches, start = 0.0, 0.0, 0.0, 0
    for flat in per_image_gradients(model, images, labels):
        total = total + flat.sum(0, dtype=torch.float64)
        squares = squares + torch.linalg.vector_norm(flat, dtype=torch.float64) ** 2
        batches = batches + members[:, start:start + len(flat)] @ flat  # each draw's mean gradient, summed up
        start += len(flat)
    mean, batches = total / n, batches.double()
    signal = float((mean ** 2).sum())
    spread = float((squares - n * signal) / (n - 1))
    distances = ((batches - mean) ** 2).sum(1)
    return [GradientNoise(b, float(distances[i * draws:(i + 1) * draws].mean()) / signal,
                          (1 - b / n) * spread / b / signal, -(-train_images // b))
            for i, b in enumerate(batch_sizes)]


def linearity(activation, inputs: torch.Tensor) -> float:
    """How straight ``activation`` is on ``inputs``: the R^2 of the best line through ``(x, activation(x))``, the
    squared correlation of the two (1.0: a line; ReLU on a standard normal: about 0.73)."""
    x = inputs.flatten().double()
    y = activation(x)
    return float(torch.corrcoef(torch.stack([x, y]))[0, 1] ** 2)


@dataclass(frozen=True)
class ActivationInputs:
    """The inputs one activation layer of the network met on a batch (a sample of them, flattened)."""

    layer: str
    inputs: torch.Tensor


ACTIVATION_TYPES = (nn.ReLU, nn.GELU, nn.Sigmoid, nn.Tanh)


def activation_inputs(model: nn.Module, images: torch.Tensor, sample: int = 20_000,
                      seed: int = 0) -> list[ActivationInputs]:
    """Run ``images`` through ``model`` in training mode (batch norm standardises with the batch's own
    statistics, as in a training step; its running statistics move one step) and keep, for each activation
    layer, a random ``sample`` of its inputs."""
    found, hooks = [], []
    generator = torch.Generator().manual_seed(seed)
    for name, module in model.named_modules():
        if isinstance(module, ACTIVATION_TYPES):
            def keep(_, args, _output, name=name):
                x = args[0].detach().flatten()
                found.append(ActivationInputs(name, x[torch.randperm(len(x), generator=generator)[:sample]]))
            hooks.append(module.register_forward_hook(keep))
    model.train()
    try:
        with torch.no_grad():
            model(images)
    finally:
        for hook in hooks:
            hook.remove()
    return found


def straightness_beside_accuracy(straightness: dict[str, float], medians: dict[str, float]) -> str | None:
    """A sentence setting the activations in order of straightness (R^2 at one layer, straightest first) beside
    their order in the ablation (median validation accuracy, lowest first): if straightness costs accuracy,
    the two orders agree. ``None`` until the ablation has measured every activation given."""
    if set(medians) != set(straightness):
        return None
    straightest = sorted(straightness, key=straightness.get, reverse=True)
    lowest = sorted(medians, key=medians.get)
    return (f"From the straightest to the most bent (the figure's layer): {', '.join(straightest)}. From the "
            f"lowest median validation accuracy in the committed ablation to the highest: {', '.join(lowest)}. "
            "The two orders "
            + ("agree." if lowest == straightest else "differ, so straightness is not the whole story."))
