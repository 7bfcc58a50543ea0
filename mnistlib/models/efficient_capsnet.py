"""Efficient-CapsNet (Mazzia, Salvetti & Chiaberge 2021; EscVM/Efficient-CapsNet), for MNIST.

Layers (``models/efficient_capsnet_graph_mnist.py``, ``utils/layers.py``), each conv followed by ReLU and
batch norm, He-normal weights, no padding; Keras's defaults throughout (:mod:`.keras_defaults`): batch norm
with eps 1e-3 and momentum 0.99, ``he_normal`` with its truncation-corrected std, and the depthwise
primary-capsule convolution with Keras's Glorot-uniform kernel and zero bias:

    (1, 28, 28) -conv 5x5, 32-> (32, 24, 24) -conv 3x3, 64-> (64, 22, 22) -conv 3x3, 64-> (64, 20, 20)
    -conv 3x3, 128, stride 2-> (128, 9, 9) -depthwise conv 9x9-> (128, 1, 1) -> 16 primary capsules of 8

Squash (the paper's eq. 3): ``squash(s) = (1 - 1 / e^{|s|}) s / |s|``.

Self-attention routing (FCCaps, eq. 4-6), from N_in = 16 capsules of 8 to N = 10 capsules of 16:

    u[n, i]  = W[n, i]^T x[i]                                   (W: 10 x 16 x 8 x 16)
    a[n, i]  = u[n, i] . sum_k u[n, k] / sqrt(16)               agreement of input i with all inputs
    c[n, i]  = softmax over n of a[n, i]  +  b[n, i]            (b: 10 x 16 x 1, zero at start)
    v[n]     = squash(sum_i c[n, i] u[n, i]);   score[n] = |v[n]|

161,824 trainable parameters without the decoder (the paper's "161K"). The loss comes with the model:
the margin loss ``sum_n T_n max(0, 0.9 - |v_n|)^2 + 0.5 (1 - T_n) max(0, |v_n| - 0.1)^2`` (mean over the
batch), plus, with the decoder, ``0.392 x`` the mean squared error of the reconstruction of the input from
the true class's capsule (the masked 10 x 16 poses -> 512 -> 1024 -> 784, sigmoid). The reconstruction is a
training regulariser: in eval mode the loss is the margin loss alone.

Inputs are scaled as the source does (``pixel / 256``). Recipe: Adam 5e-4, lr x 0.97 per epoch floored at
5e-5, batch 16,
150 epochs, the source's four augmentations (rotation, shift, squish, erase). The source picks its
reported epoch on the test set; the course selects on the validation split.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .keras_defaults import batch_norm, glorot_uniform_, he_normal_
from .registry import Claim, register_model

SOURCE = "Mazzia et al. 2021, Efficient-CapsNet (EscVM/Efficient-CapsNet); INT305 report section VI"


def squash(s: torch.Tensor, eps: float = 1e-20) -> torch.Tensor:
    """Efficient-CapsNet's squash over the last dimension: ``(1 - e^{-|s|}) s / |s|``."""
    norm = s.norm(dim=-1, keepdim=True)
    return (1 - 1 / (torch.exp(norm) + eps)) * (s / (norm + eps))


def capsule_length(v: torch.Tensor) -> torch.Tensor:
    """``|v|`` over the last dimension, with the source's epsilon under the root."""
    return torch.sqrt((v * v).sum(-1) + 1e-7)


class PrimaryCaps(nn.Module):
    """``(B, 128, 9, 9)`` -> ``(B, 16, 8)``: a depthwise 9x9 convolution, reshaped into capsules, squashed."""

    def __init__(self, channels: int = 128, kernel: int = 9, capsules: int = 16, dims: int = 8):
        super().__init__()
        self.capsules, self.dims = capsules, dims
        self.depthwise = glorot_uniform_(nn.Conv2d(channels, channels, kernel, groups=channels))

    def forward(self, x):
        return squash(self.depthwise(x).reshape(x.shape[0], self.capsules, self.dims))


class FCCaps(nn.Module):
    """Self-attention routing: ``(B, n_in, d_in)`` -> output capsules ``(B, n_out, d_out)``."""

    def __init__(self, n_in: int = 16, d_in: int = 8, n_out: int = 10, d_out: int = 16):
        super().__init__()
        self.W = nn.Parameter(he_normal_(torch.empty(n_out, n_in, d_in, d_out), fan_in=n_out * n_in * d_in))
        self.b = nn.Parameter(torch.zeros(n_out, n_in, 1))
        self.d_out = d_out

    def forward(self, x):
        u = torch.einsum("bji,njiz->bnjz", x, self.W)  # (B, n_out, n_in, d_out)
        agreement = (u * u.sum(dim=2, keepdim=True)).sum(-1, keepdim=True) / math.sqrt(self.d_out)
        c = torch.softmax(agreement, dim=1) + self.b  # softmax over the output capsules
        return squash((u * c).sum(dim=2))


def conv_relu_bn(c_in: int, c_out: int, kernel: int, stride: int = 1) -> nn.Sequential:
    conv = nn.Conv2d(c_in, c_out, kernel, stride)
    he_normal_(conv.weight, fan_in=c_in * kernel * kernel)
    nn.init.zeros_(conv.bias)
    return nn.Sequential(conv, nn.ReLU(), batch_norm(c_out))


def margin_loss(lengths: torch.Tensor, target: torch.Tensor, m_plus: float = 0.9, m_minus: float = 0.1,
                lam: float = 0.5) -> torch.Tensor:
    """Mean over the batch of ``sum_n T_n relu(m+ - l_n)^2 + lam (1 - T_n) relu(l_n - m-)^2``."""
    t = F.one_hot(target, lengths.shape[1]).to(lengths.dtype)
    per_class = t * F.relu(m_plus - lengths) ** 2 + lam * (1 - t) * F.relu(lengths - m_minus) ** 2
    return per_class.sum(1).mean()


class EfficientCapsNet(nn.Module):
    """Input ``(B, 1, 28, 28)``, output capsule lengths ``(B, 10)`` (the class scores)."""

    def __init__(self, decoder: bool = False, reconstruction_weight: float = 0.392):
        super().__init__()
        self.features = nn.Sequential(conv_relu_bn(1, 32, 5), conv_relu_bn(32, 64, 3), conv_relu_bn(64, 64, 3),
                                      conv_relu_bn(64, 128, 3, stride=2))
        self.primary = PrimaryCaps()
        self.digits = FCCaps()
        self.reconstruction_weight = reconstruction_weight
        self.decoder = nn.Sequential(nn.Linear(160, 512), nn.ReLU(), nn.Linear(512, 1024), nn.ReLU(),
                                     nn.Linear(1024, 784), nn.Sigmoid()) if decoder else None
        self._last = None  # (input, poses) of the last training forward, for the reconstruction loss

    def capsules(self, x: torch.Tensor) -> torch.Tensor:
        """The 10 digit capsules ``(B, 10, 16)``."""
        return self.digits(self.primary(self.features(x)))

    def forward(self, x):
        poses = self.capsules(x)
        self._last = (x, poses) if (self.training and self.decoder is not None) else None
        return capsule_length(poses)

    def reconstruct(self, poses: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Images ``(B, 1, 28, 28)`` in [0, 1] decoded from the capsule of class ``labels`` alone."""
        mask = F.one_hot(labels, poses.shape[1]).to(poses.dtype).unsqueeze(-1)
        return self.decoder((poses * mask).flatten(1)).view(-1, 1, 28, 28)

    def loss(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        loss = margin_loss(output, target)
        if self._last is not None and self._last[1].shape[0] == output.shape[0]:
            images, poses = self._last
            loss = loss + self.reconstruction_weight * F.mse_loss(self.reconstruct(poses, target), images)
        return loss


RECIPE = {
    "full": dict(epochs=30, batch_size=16, optimizer="adam", lr=5e-4, schedule="exponential", gamma=0.97,
                 min_lr=5e-5, patience=None, augment="capsnet"),
    "source": dict(epochs=150),
    "quick": dict(epochs=1, train_subset=10_000),
}
NOTES = ("full is 30 epochs (source: 150, kept as the 'source' profile); quick trains one epoch on 10,000 "
         "images. Inputs are pixel / 256 as in the source.")


REPORT, PAPER = "INT305 report", "Mazzia et al. 2021"
PAPER_RECIPE = "150 epochs, batch 16, augmentation, with the reconstruction decoder, the epoch chosen on the test set"
CLAIMS = (  # the INT305 report's figures, then the paper's own
    Claim("test accuracy %", 99.45, "INT305 report, Table II (average)", source=REPORT),
    Claim("best test accuracy %", 99.55, "INT305 report, Table II (best)", statistic="best", source=REPORT),
    Claim("validation accuracy %", 99.34, "INT305 report, section VI ('99.34% at epoch 45')", source=REPORT),
    Claim("test accuracy %", 99.74, "Table 2 (a single network)", source=PAPER,
          note=f"its recipe: {PAPER_RECIPE}",
          no_verdict="the table's cell could not be read here; the figure is the course's notes' (about "
                     "99.74%)"),
    Claim("test accuracy %", 99.84, "Table 3 (an ensemble: test error 0.16%)", source=PAPER,
          note=f"its recipe: {PAPER_RECIPE}",
          no_verdict="an ensemble of networks; the study measures single networks"),
)


@register_model("efficient_capsnet", source=SOURCE, reported_accuracy=99.45, reported_params=161_000,
                batch_dependent=False, normalize=(0.0, 256 / 255), recipes=RECIPE,
                notes="Report: 99.45% average, 99.55% best, '161,000' parameters. Without the decoder. " + NOTES,
                claims=CLAIMS)
def efficient_capsnet(**kwargs) -> nn.Module:
    """Efficient-CapsNet: conv stack, depthwise primary capsules, self-attention routing; margin loss."""
    return EfficientCapsNet(decoder=False, **kwargs)


@register_model("efficient_capsnet_decoder", source=SOURCE, reported_accuracy=None, reported_params=None,
                batch_dependent=False, normalize=(0.0, 256 / 255), recipes=RECIPE,
                notes="As trained in the source: with the reconstruction decoder (weight 0.392). " + NOTES)
def efficient_capsnet_decoder(**kwargs) -> nn.Module:
    """Efficient-CapsNet with its reconstruction decoder (160 -> 512 -> 1024 -> 784), as the source trains it."""
    return EfficientCapsNet(decoder=True, **kwargs)
