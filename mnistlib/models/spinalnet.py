"""SpinalNet (Kabir et al. 2020, dipuk0506/SpinalNet): a fully connected head fed the input in halves.

A spinal head splits its ``2h`` input features into halves ``a`` (first) and ``b`` (second). Layer 1 sees
``a``; layer k > 1 sees the other half than layer k-1 concatenated with layer k-1's output:

    y1 = f(a),  y2 = f([b, y1]),  y3 = f([a, y2]),  y4 = f([b, y3]), ...
    logits = Linear([y1, y2, ..., yL])

Two of the repository's MNIST scripts are reproduced here:

- ``spinalnet_small`` (``MNIST/SpinalNet_MNIST.py``): the PyTorch example CNN (conv 5x5 10, pool, conv 5x5
  20, dropout2d, pool -> 320) with six spinal layers of width 8 (ReLU): 13,818 parameters.
  SGD lr 0.01, momentum 0.5, batch 64, 8 epochs, Normalize(0.1307, 0.3081).
- ``spinalnet`` and ``vgg5`` (``MNIST_VGG/MNIST_VGG_and_SpinalVGG.py``): a VGG trunk of four blocks
  ([64, 64], [128, 128], [256, 256, 256], [256, 256, 256]; 3x3 conv + BN + ReLU, 2x2 max-pool per block,
  28 -> 1 pixel, 256 features), with either the VGG head (dropout, 256 -> 512, BN, ReLU, dropout, 512 -> 10:
  3,646,154 parameters, the report's "3,646,000") or a spinal head (four layers of width 128 on halves of
  128, each dropout 0.5 + linear + BN + ReLU, then dropout + 512 -> 10: 3,629,770 parameters).
  Adam lr 0.005, batch 100, 200 epochs, RandomPerspective + RandomRotation(10). The script cuts the
  learning rate to ``0.005 * U^3`` (U uniform) whenever *test* accuracy fails to improve; the course does
  not look at the test set while training, so its schedule is exponential decay per epoch instead.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..data.catalog import MNIST_MEAN_STD
from .registry import Claim, register_model

SOURCE = "Kabir et al. 2020, SpinalNet (dipuk0506/SpinalNet); INT305 report section VI"


class SpinalHead(nn.Module):
    """``(B, 2h)`` -> ``(B, classes)``: ``layers`` spinal layers of ``width`` units, then a linear output."""

    def __init__(self, half: int, width: int, layers: int, classes: int = 10, dropout: float = 0.0,
                 batch_norm: bool = False):
        super().__init__()
        self.half = half

        def layer(n_in):
            parts = ([nn.Dropout(dropout)] if dropout else []) + [nn.Linear(n_in, width)]
            return nn.Sequential(*parts, *([nn.BatchNorm1d(width)] if batch_norm else []), nn.ReLU())

        self.layers = nn.ModuleList([layer(half)] + [layer(half + width) for _ in range(layers - 1)])
        self.out = nn.Sequential(*([nn.Dropout(dropout)] if dropout else []), nn.Linear(width * layers, classes))

    def forward(self, x):
        halves = (x[:, :self.half], x[:, self.half:2 * self.half])
        outputs = [self.layers[0](halves[0])]
        for k, layer in enumerate(self.layers[1:], start=1):
            outputs.append(layer(torch.cat([halves[k % 2], outputs[-1]], dim=1)))
        return self.out(torch.cat(outputs, dim=1))


class ExampleCNNTrunk(nn.Module):
    """The PyTorch MNIST example's convolutions: ``(B, 1, 28, 28)`` -> ``(B, 320)``."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
        self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
        self.conv2_drop = nn.Dropout2d()

    def forward(self, x):
        x = F.relu(F.max_pool2d(self.conv1(x), 2))
        x = F.relu(F.max_pool2d(self.conv2_drop(self.conv2(x)), 2))
        return x.flatten(1)


def vgg_block(c_in: int, widths: list[int]) -> nn.Sequential:
    """3x3 conv + BN + ReLU for each width, then a 2x2 max-pool; He-normal (fan-out) conv weights."""
    layers = []
    for c_out in widths:
        conv = nn.Conv2d(c_in, c_out, 3, padding=1)
        nn.init.normal_(conv.weight, 0.0, math.sqrt(2.0 / (9 * c_out)))
        layers += [conv, nn.BatchNorm2d(c_out), nn.ReLU()]
        c_in = c_out
    return nn.Sequential(*layers, nn.MaxPool2d(2))


class VGGTrunk(nn.Module):
    """``(B, 1, 28, 28)`` -> ``(B, 256)`` through four VGG blocks (28 -> 14 -> 7 -> 3 -> 1)."""

    def __init__(self):
        super().__init__()
        self.blocks = nn.Sequential(vgg_block(1, [64, 64]), vgg_block(64, [128, 128]),
                                    vgg_block(128, [256, 256, 256]), vgg_block(256, [256, 256, 256]))

    def forward(self, x):
        return self.blocks(x).flatten(1)


VGG_RECIPE = {
    "full": dict(epochs=40, batch_size=100, optimizer="adam", lr=0.005, schedule="exponential", gamma=0.95,
                 patience=8, augment="spinal"),
    "source": dict(epochs=200, schedule="none", patience=None),
    "quick": dict(epochs=1, train_subset=5000),
}
VGG_NOTE = "quick trains on 5,000 images for one epoch (a 3.6M-parameter VGG is slow on a 2-core CPU)."


REPORT = "INT305 report"


@register_model("spinalnet_small", source=SOURCE, reported_accuracy=None, reported_params=None,
                batch_dependent=False, normalize=MNIST_MEAN_STD,
                recipes={"full": dict(epochs=8, batch_size=64, optimizer="sgd", lr=0.01, momentum=0.5)},
                notes="The repository's small MNIST SpinalNet; the report's SpinalNet figures are the VGG's.")
def spinalnet_small(**kwargs) -> nn.Module:
    """SpinalNet on the PyTorch example CNN: six spinal layers of width 8 (13,818 parameters)."""
    return nn.Sequential(ExampleCNNTrunk(), SpinalHead(half=160, width=8, layers=6))


@register_model("vgg5", source=SOURCE, reported_accuracy=None, reported_params=3_646_000, batch_dependent=False,
                normalize=MNIST_MEAN_STD, recipes=VGG_RECIPE,
                notes="The report lists this VGG's parameter count for SpinalNet. " + VGG_NOTE)
def vgg5(**kwargs) -> nn.Module:
    """SpinalNet's VGG-5 baseline: four conv blocks and a 256-512-10 head (3,646,154 parameters)."""
    head = nn.Sequential(nn.Dropout(0.5), nn.Linear(256, 512), nn.BatchNorm1d(512), nn.ReLU(), nn.Dropout(0.5),
                         nn.Linear(512, 10))
    return nn.Sequential(VGGTrunk(), head)


@register_model("spinalnet", source=SOURCE, reported_accuracy=99.65, reported_params=3_646_000,
                batch_dependent=False, normalize=MNIST_MEAN_STD, recipes=VGG_RECIPE,
                notes="Report: 99.65% average, 99.72% best, '3,646,000' parameters (the VGG head's count). "
                      + VGG_NOTE,
                claims=(Claim("test accuracy %", 99.65, "INT305 report, Table II (average)", source=REPORT),
                        Claim("best test accuracy %", 99.72, "INT305 report, Table II (best)", statistic="best",
                              source=REPORT),
                        Claim("validation accuracy %", 99.39, "INT305 report, section VI ('99.39% after 12 epochs')",
                              note="below the same report's Table II average (99.65)", source=REPORT),
                        Claim("test accuracy %", 99.75, "the repository's MNIST/readme.md (a VGG notebook, the test "
                              "accuracy at the best validation accuracy)", source="Kabir et al. 2020",
                              no_verdict="fine-tuned from ImageNet weights; the course trains from scratch")))
def spinalnet(**kwargs) -> nn.Module:
    """SpinalNet-VGG: the VGG-5 trunk with a spinal head of four 128-wide layers (3,629,770 parameters)."""
    return nn.Sequential(VGGTrunk(), SpinalHead(half=128, width=128, layers=4, dropout=0.5, batch_norm=True))
