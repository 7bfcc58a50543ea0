"""Batched on-device augmentation: one random affine map per image, applied with ``grid_sample``.

For each image draw an angle ``a`` in [-degrees, degrees], a scale ``s`` in ``scale`` and a shift
``(tx, ty)`` in [-translate, translate] (fractions of the image size), and sample the image through

    theta = [[cos a / s, -sin a / s, tx],
             [sin a / s,  cos a / s, ty]]

(``affine_grid`` maps output to input coordinates, hence ``1/s``: s > 1 enlarges the digit). Border
padding repeats the background pixel, so it is correct whatever the normalisation.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass
class RandomAffine:
    """Callable ``(B, C, H, W) -> (B, C, H, W)``; all randomness comes from ``generator``."""

    degrees: float = 10.0
    translate: float = 0.1
    scale: tuple[float, float] = (0.9, 1.1)
    generator: torch.Generator | None = None

    def _uniform(self, n: int, low: float, high: float, like: torch.Tensor) -> torch.Tensor:
        u = torch.rand(n, device=like.device, generator=self.generator)
        return u.mul_(high - low).add_(low)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        n = x.shape[0]
        angle = self._uniform(n, -math.radians(self.degrees), math.radians(self.degrees), x)
        inv_scale = 1.0 / self._uniform(n, self.scale[0], self.scale[1], x)
        shift = self._uniform(2 * n, -2 * self.translate, 2 * self.translate, x).view(n, 2)  # [-1,1] grid units
        cos, sin = torch.cos(angle) * inv_scale, torch.sin(angle) * inv_scale
        theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1),
                             torch.stack([sin, cos, shift[:, 1]], 1)], 1).to(x.dtype)
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def _uniform(n: int, low: float, high: float, like: torch.Tensor, generator) -> torch.Tensor:
    return torch.rand(n, device=like.device, generator=generator).mul_(high - low).add_(low)


def _clipped_normal(n: int, std: float, limit: float, like: torch.Tensor, generator) -> torch.Tensor:
    return torch.randn(n, device=like.device, generator=generator).mul_(std).clamp_(-limit, limit)


@dataclass
class RandomPerspectiveRotation:
    """SpinalNet's VGG recipe, batched: ``RandomPerspective(0.5, p=0.5)`` then ``RandomRotation(10)``.

    Perspective (torchvision's construction): with probability ``p`` each corner of the image moves inward
    by up to ``distortion * size / 2`` pixels; the homography ``H`` that maps the moved corners back to the
    original ones (solved per image as an 8 x 8 linear system) is applied through ``grid_sample``.
    """

    distortion: float = 0.5
    p: float = 0.5
    degrees: float = 10.0
    generator: torch.Generator | None = None

    def _homographies(self, n: int, size: int, like: torch.Tensor) -> torch.Tensor:
        """(n, 3, 3) maps from output to input coordinates, in normalised [-1, 1] units."""
        corners = torch.tensor([[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]], device=like.device)
        inward = -corners  # unit direction towards the centre for each corner
        shift = torch.rand(n, 4, 2, device=like.device, generator=self.generator) * self.distortion
        apply = (torch.rand(n, 1, 1, device=like.device, generator=self.generator) < self.p).float()
        moved = corners + inward * shift * apply  # (n, 4, 2): where each output corner samples from
        x, y = corners[:, 0].expand(n, 4), corners[:, 1].expand(n, 4)
        u, v = moved[..., 0], moved[..., 1]
        zeros, ones = torch.zeros_like(x), torch.ones_like(x)
        rows_u = torch.stack([x, y, ones, zeros, zeros, zeros, -u * x, -u * y], -1)
        rows_v = torch.stack([zeros, zeros, zeros, x, y, ones, -v * x, -v * y], -1)
        a = torch.cat([rows_u, rows_v], 1)  # (n, 8, 8)
        h = torch.linalg.solve(a, torch.cat([u, v], 1).unsqueeze(-1)).squeeze(-1)
        return torch.cat([h, torch.ones(n, 1, device=like.device)], 1).view(n, 3, 3)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        n, _, height, width = x.shape
        base = F.affine_grid(torch.eye(2, 3, device=x.device).expand(n, 2, 3), list(x.shape), align_corners=False)
        angle = _uniform(n, -math.radians(self.degrees), math.radians(self.degrees), x, self.generator)
        cos, sin = torch.cos(angle)[:, None, None], torch.sin(angle)[:, None, None]
        px, py = base[..., 0], base[..., 1]
        rx, ry = cos * px - sin * py, sin * px + cos * py  # rotation first (applied last to the image)
        h = self._homographies(n, height, x)[:, None, None]  # (n, 1, 1, 3, 3)
        hom = h[..., 0] * rx[..., None] + h[..., 1] * ry[..., None] + h[..., 2]
        grid = hom[..., :2] / hom[..., 2:]
        return F.grid_sample(x, grid.to(x.dtype), mode="bilinear", padding_mode="border", align_corners=False)


@dataclass
class CapsNetAugment:
    """Efficient-CapsNet's MNIST augmentation (``utils/pre_process_mnist.py``), batched on the device.

    Per image, as the source: with probability 1/2 a rotation by ``30 * clip(N(0, 0.33), ±1)`` degrees;
    a shift towards a random side by ``|N(0, 0.33)|`` of the free margin on that side (the margin is
    measured from the digit's bounding box); a horizontal squish to ``28 - w`` columns with
    ``w = 1 + floor(7 |N(0, 0.33)|)``; a 4 x 4 patch erased at a random place in rows and columns 4..22.
    The source resamples with OpenCV and Lanczos; here one bilinear ``grid_sample`` does all three maps.
    ``background`` is the normalised value of a black pixel.
    """

    background: float = 0.0
    generator: torch.Generator | None = None

    def _margins(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        ink = x[:, 0] > self.background + 1e-6  # (n, H, W)
        size = x.shape[-1]
        idx = torch.arange(size, device=x.device)
        cols, rows = ink.any(1), ink.any(2)  # (n, W), (n, H)
        left = torch.where(cols, idx, size).amin(1)
        right = size - 1 - torch.where(cols, idx, -1).amax(1)
        top = torch.where(rows, idx, size).amin(1)
        bottom = size - 1 - torch.where(rows, idx, -1).amax(1)
        return tuple(m.clamp(min=0).float() for m in (left, right, top, bottom))

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        n, size, g = x.shape[0], x.shape[-1], self.generator
        left, right, top, bottom = self._margins(x)
        amount = _clipped_normal(2 * n, 0.33, 0.9999, x, g).abs().view(2, n)
        to_right = torch.rand(n, device=x.device, generator=g) < 0.5
        to_bottom = torch.rand(n, device=x.device, generator=g) < 0.5
        dx = torch.where(to_right, torch.floor(amount[0] * (1 + right)), -torch.floor(amount[0] * left))
        dy = torch.where(to_bottom, torch.floor(amount[1] * (1 + bottom)), -torch.floor(amount[1] * top))
        rotate = torch.rand(n, device=x.device, generator=g) < 0.5
        angle = torch.deg2rad(torch.trunc(_clipped_normal(n, 0.33, 0.9999, x, g) * 30)) * rotate
        squish = torch.floor(_clipped_normal(n, 0.33, 0.9999, x, g).abs() * size / 4 + 1)
        x_scale = size / (size - squish)  # output column -> input column stretch
        # Output-to-input map in normalised units: undo the squish (about the centre), the shift, the rotation.
        cos, sin = torch.cos(angle), torch.sin(angle)
        tx, ty = -2 * dx / size, -2 * dy / size
        theta = torch.stack([torch.stack([cos * x_scale, -sin, cos * tx - sin * ty], 1),
                             torch.stack([sin * x_scale, cos, sin * tx + cos * ty], 1)], 1)
        grid = F.affine_grid(theta.to(x.dtype), list(x.shape), align_corners=False)
        out = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
        corner = torch.floor(torch.rand(2, n, device=x.device, generator=g) * 19) + 4
        idx = torch.arange(size, device=x.device)
        in_rows = (idx[None] >= corner[0, :, None]) & (idx[None] < corner[0, :, None] + 4)
        in_cols = (idx[None] >= corner[1, :, None]) & (idx[None] < corner[1, :, None] + 4)
        erase = (in_rows[:, :, None] & in_cols[:, None, :]).unsqueeze(1)
        return out.masked_fill(erase, self.background)


# Test-time augmentation: fixed views of each image whose predicted probabilities are averaged. ``shifts``:
# the image and its four one-pixel shifts; ``shifts-rotations``: those and two rotations by 8 degrees.
TTA_POLICIES = {
    "none": ((0.0, 0, 0),),
    "shifts": ((0.0, 0, 0), (0.0, 1, 0), (0.0, -1, 0), (0.0, 0, 1), (0.0, 0, -1)),
    "shifts-rotations": ((0.0, 0, 0), (0.0, 1, 0), (0.0, -1, 0), (0.0, 0, 1), (0.0, 0, -1), (8.0, 0, 0),
                         (-8.0, 0, 0)),
}


def tta_views(x: torch.Tensor, policy) -> list[torch.Tensor]:
    """The views of ``x`` ``(B, C, H, W)`` that test-time augmentation averages over: ``policy`` is a key of
    :data:`TTA_POLICIES` or a sequence of your own ``(degrees, dx, dy)``. Each view rotates by ``degrees`` and
    shifts by ``dx`` pixels right and ``dy`` down, through ``grid_sample`` with the border (background)
    repeated; the identity view is ``x`` itself."""
    if isinstance(policy, str):
        if policy not in TTA_POLICIES:
            raise ValueError(f"unknown test-time augmentation {policy!r}: choose one of {', '.join(TTA_POLICIES)} "
                             "or give the views as (degrees, dx, dy) tuples")
        policy = TTA_POLICIES[policy]
    n, _, h, w = x.shape
    views = []
    for degrees, dx, dy in policy:
        if (degrees, dx, dy) == (0.0, 0, 0):
            views.append(x)
            continue
        a = math.radians(degrees)
        # affine_grid maps output to input coordinates: an output pixel reads the input dx pixels to its left
        theta = torch.tensor([[math.cos(a), -math.sin(a), -2.0 * dx / w],
                              [math.sin(a), math.cos(a), -2.0 * dy / h]], dtype=x.dtype, device=x.device)
        grid = F.affine_grid(theta.expand(n, 2, 3), list(x.shape), align_corners=False)
        views.append(F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False))
    return views


AUGMENTATIONS = ("none", "affine", "spinal", "capsnet")


def build_augmentation(name: str, generator: torch.Generator, background: float = 0.0):
    """The on-device augmentation called ``name`` (one of :data:`AUGMENTATIONS`), or ``None``."""
    if name == "none":
        return None
    if name == "affine":
        return RandomAffine(generator=generator)
    if name == "spinal":
        return RandomPerspectiveRotation(generator=generator)
    if name == "capsnet":
        return CapsNetAugment(background=background, generator=generator)
    raise ValueError(f"unknown augmentation {name!r}: choose one of {', '.join(AUGMENTATIONS)}")
