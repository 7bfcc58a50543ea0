"""Keras's layer defaults, for the two models whose sources were written in Keras (Shao et al.,
Efficient-CapsNet): a faithful port keeps them, since PyTorch's differ.

- ``BatchNormalization``: ``epsilon=1e-3`` and ``momentum=0.99``, where Keras's momentum is the weight of
  the *old* running statistic: ``moving = 0.99 moving + 0.01 batch``, PyTorch's ``momentum=0.01``.
  (PyTorch's defaults are eps 1e-5 and momentum 0.1.)
- ``he_normal``: ``VarianceScaling(2, "fan_in", "truncated_normal")``: a normal truncated at two standard
  deviations, whose standard deviation is divided by 0.8796 (the std of a unit normal truncated at +-2) so
  that the *truncated* distribution has std ``sqrt(2 / fan_in)``.
- ``glorot_uniform`` with zero biases: the default of every Keras ``Conv2D`` and ``Dense``.
"""
from __future__ import annotations

import math

import torch
from torch import nn

BN_EPS = 1e-3
BN_MOMENTUM = 0.01  # Keras momentum=0.99
TRUNCATED_UNIT_STD = 0.87962566103423978  # std of N(0, 1) truncated to [-2, 2]


def batch_norm(channels: int, dims: int = 2) -> nn.Module:
    """``BatchNorm{dims}d(channels)`` with Keras's epsilon and momentum."""
    layer = {1: nn.BatchNorm1d, 2: nn.BatchNorm2d}[dims]
    return layer(channels, eps=BN_EPS, momentum=BN_MOMENTUM)


def he_normal_(tensor: torch.Tensor, fan_in: int) -> torch.Tensor:
    """Keras's ``he_normal``: truncated at two standard deviations, std corrected to ``sqrt(2 / fan_in)``."""
    std = math.sqrt(2.0 / fan_in) / TRUNCATED_UNIT_STD
    return nn.init.trunc_normal_(tensor, std=std, a=-2 * std, b=2 * std)


def glorot_uniform_(layer: nn.Module) -> nn.Module:
    """Keras's default kernel and bias initialisers on a conv or linear ``layer``: Glorot-uniform, zeros.

    Keras counts a (possibly grouped) conv kernel's fans as PyTorch does: ``fan_in = (C_in / groups) k^2``,
    ``fan_out = C_out k^2``."""
    nn.init.xavier_uniform_(layer.weight)
    if layer.bias is not None:
        nn.init.zeros_(layer.bias)
    return layer
