"""Chapter 1's computations: why convolution, what a unit sees, what a shift does, and a kernel learned.

Each function is a small experiment the chapter runs and the reader can change:

- :func:`dense_vs_conv` counts the parameters of a dense layer and of a convolution that map the same input
  to outputs of the same shape (locality and weight sharing, in numbers);
- :func:`receptive_fields` applies the receptive-field recurrence layer by layer, and :func:`input_window`
  measures the same window with autograd on a copy of the network's geometry;
- :func:`shift` and :func:`equivariance_error` test translation equivariance;
- :func:`multiply_adds` counts what stride-2 convolutions save over stride-1 convolutions and pooling;
- :func:`learn_kernel` recovers a known kernel by gradient descent, step by step.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from ..models import count_params


def dense_vs_conv(size: int = 28, channels: int = 12, kernel: int = 3) -> list[dict]:
    """A ``size x size`` one-channel image to ``channels`` maps of the same size, two ways: a dense layer
    (every output pixel has its own weight for every input pixel) and a ``kernel x kernel`` convolution
    ('same' padding: every output pixel uses the same ``kernel**2`` weights, on its own neighbourhood).
    The counts come from the PyTorch layers themselves (``parameters``: the count, formatted)."""
    pixels = size * size
    dense = nn.Linear(pixels, channels * pixels)  # what a flattened image needs for the same output shape
    conv = nn.Conv2d(1, channels, kernel, padding=kernel // 2)
    assert conv(torch.zeros(1, 1, size, size)).shape[1:] == (channels, size, size)
    return [{"layer": f"dense {pixels:,} → {channels * pixels:,}", "inputs each output reads": f"{pixels:,}",
             "parameters": f"{count_params(dense):,}"},
            {"layer": f"conv {kernel}x{kernel}, {channels} kernels", "inputs each output reads": f"{kernel * kernel}",
             "parameters": f"{count_params(conv):,}"}]


@dataclass(frozen=True)
class FieldStep:
    """One layer of the receptive-field recurrence: after it, a unit sees ``field x field`` input pixels, and
    neighbouring units are ``jump`` input pixels apart."""

    layer: str
    kernel: int
    stride: int
    jump: int
    field: int


def _geometry(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """The layers that change what a unit sees (convolutions and pooling), in the order they are defined
    (the forward order of every network in this course)."""
    return [(name, m) for name, m in model.named_modules() if isinstance(m, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d))]


def _pair(value) -> int:
    return value[0] if isinstance(value, tuple) else value


def receptive_fields(model: nn.Module) -> list[FieldStep]:
    """The recurrence ``r_l = r_(l-1) + (k_l - 1) j_(l-1)``, ``j_l = j_(l-1) s_l`` (``r_0 = j_0 = 1``) over the
    convolutions and poolings of ``model``: each layer widens the window by ``k - 1`` steps of the spacing
    its input units already have."""
    steps, field, jump = [], 1, 1
    for name, layer in _geometry(model):
        kernel, stride = _pair(layer.kernel_size), _pair(layer.stride)
        field, jump = field + (kernel - 1) * jump, jump * stride
        steps.append(FieldStep(name, kernel, stride, jump, field))
    return steps


def _skeleton(model: nn.Module, layers: int) -> nn.Sequential:
    """The first ``layers`` convolutions and poolings of ``model`` with their geometry only: every weight 1,
    no bias, average pooling for max pooling, no activation. Every input pixel a unit can see then moves it,
    so the gradient's support is exactly the receptive field."""
    parts = []
    for _, layer in _geometry(model)[:layers]:
        if isinstance(layer, nn.Conv2d):
            padding = layer.padding if isinstance(layer.padding, tuple) else (layer.padding,) * 2
            conv = nn.Conv2d(1, 1, layer.kernel_size, layer.stride, padding, bias=False)
            nn.init.ones_(conv.weight)
            parts.append(conv)
        else:
            parts.append(nn.AvgPool2d(layer.kernel_size, layer.stride, getattr(layer, "padding", 0)))
    return nn.Sequential(*parts)


def input_window(model: nn.Module, layers: int, row: int | None = None, col: int | None = None,
                 size: int = 28) -> tuple[int, int, int, int]:
    """The input pixels that unit ``(row, col)`` (default: the centre) of the output of the first ``layers``
    convolutions/poolings can see, as ``(top, left, bottom, right)`` (inclusive), measured with autograd:
    the non-zero region of that unit's gradient with respect to the input. Padding clips it at the border."""
    x = torch.zeros(1, 1, size, size, requires_grad=True)
    out = _skeleton(model, layers)(x + 1)  # 1 everywhere: every path carries a signal
    row = out.shape[-2] // 2 if row is None else row
    col = out.shape[-1] // 2 if col is None else col
    out[0, 0, row, col].backward()
    rows, cols = torch.nonzero(x.grad[0, 0], as_tuple=True)
    return rows.min().item(), cols.min().item(), rows.max().item(), cols.max().item()


def shift(images: torch.Tensor, dy: int, dx: int, fill: float | None = None) -> torch.Tensor:
    """``images`` (..., H, W) moved ``dy`` pixels down and ``dx`` right, the uncovered border set to ``fill``
    (default: each image's background, its smallest value). Nothing wraps around."""
    fill = images.amin(dim=(-2, -1), keepdim=True) if fill is None else torch.full_like(images[..., :1, :1], fill)
    moved = torch.roll(images, (dy, dx), dims=(-2, -1))
    height, width = images.shape[-2:]
    rows = torch.arange(height, device=images.device)
    cols = torch.arange(width, device=images.device)
    keep = (((rows >= dy) & (rows < height + dy))[:, None]) & (((cols >= dx) & (cols < width + dx))[None, :])
    return torch.where(keep, moved, fill.expand_as(moved))


def on_canvas(image: torch.Tensor, border: int = 14) -> torch.Tensor:
    """``image`` (..., H, W) in the middle of a larger canvas of its own background (``border`` pixels on
    every side): the convolutional layers accept any size, and the deep layers' maps get an inside."""
    return F.pad(image - image.amin(), (border,) * 4) + image.amin()


def equivariance_error(stage: nn.Module, image: torch.Tensor, pixels: int, stride: int, margin: int = 3) -> float:
    """How far ``stage`` (a network's first layers, total stride ``stride``) is from translation equivariance
    for a shift of ``pixels`` input pixels down and right: the largest difference between the maps of the
    shifted image and the maps of the image shifted by ``pixels / stride`` map pixels (rounded down), where
    both are defined (``margin`` map pixels from every border left out: what padding sees differs there), as
    a fraction of the largest activation. Zero when ``pixels`` is a multiple of ``stride``. The image is put
    on a larger canvas first (:func:`on_canvas`), so that the deepest maps have an inside to compare."""
    image = on_canvas(image)
    with torch.no_grad():
        maps = stage(image)
        moved = stage(shift(image, pixels, pixels))
    step = pixels // stride
    expected = shift(maps, step, step, fill=0.0)
    inner = (slice(None),) * (maps.dim() - 2) + (slice(margin + step, -margin),) * 2
    return ((moved - expected)[inner].abs().max() / maps.abs().max()).item()


def multiply_adds(model: nn.Module, size: int = 28) -> list[dict]:
    """Multiply-adds of every convolution of ``model`` for one ``size x size`` image: output positions x
    output channels x (input channels x kernel area)."""
    rows = []

    def count(layer, inputs, output):
        kernel = layer.kernel_size[0] * layer.kernel_size[1]
        rows.append({"layer": len(rows) + 1, "output": tuple(output.shape[1:]),
                     "multiply-adds": output.numel() * layer.in_channels // layer.groups * kernel})

    hooks = [m.register_forward_hook(count) for m in model.modules() if isinstance(m, nn.Conv2d)]
    try:
        with torch.no_grad():
            model.eval()(torch.zeros(1, 1, size, size))
    finally:
        for hook in hooks:
            hook.remove()
    return rows


@dataclass
class KernelFit:
    """What :func:`learn_kernel` did: the kernel it had to find, the kernel at chosen steps, the loss at
    every step."""

    target: torch.Tensor
    snapshots: dict[int, torch.Tensor] = field(default_factory=dict)
    losses: list[float] = field(default_factory=list)

    @property
    def kernel(self) -> torch.Tensor:
        return self.snapshots[max(self.snapshots)]

    @property
    def error(self) -> float:
        """Largest difference between the learned kernel and the target."""
        return (self.kernel - self.target).abs().max().item()


def learn_kernel(images: torch.Tensor, target: torch.Tensor, steps: int = 200, lr: float = 0.1, seed: int = 0,
                 snapshots: tuple[int, ...] = (0, 5, 20, 50)) -> KernelFit:
    """Learn a ``k x k`` kernel by plain gradient descent: the data are ``images`` (N, 1, H, W) and the
    same images filtered by ``target`` (k, k); the loss is the mean squared difference between what the
    kernel ``w`` makes of the images and that filtered output; each step is ``w <- w - lr * dL/dw``, the
    gradient from autograd. ``w`` starts from small random numbers (``seed``). The kernel is recorded at
    each step in ``snapshots`` and at the last step."""
    torch.manual_seed(seed)
    k = target.shape[-1]
    wanted = F.conv2d(images, target.view(1, 1, k, k))
    w = (0.1 * torch.randn(1, 1, k, k)).requires_grad_()
    fit = KernelFit(target.clone())
    for step in range(steps + 1):
        if step in snapshots or step == steps:
            fit.snapshots[step] = w.detach()[0, 0].clone()
        loss = ((F.conv2d(images, w) - wanted) ** 2).mean()
        fit.losses.append(loss.item())
        if step == steps:
            break
        (grad,) = torch.autograd.grad(loss, w)
        with torch.no_grad():
            w -= lr * grad
    return fit
