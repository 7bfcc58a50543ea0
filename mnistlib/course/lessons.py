"""The hand-written versions of what the first chapters teach, checked against PyTorch in the book.

Everything here is deliberately slow and literal: it is the equation, not the fast path.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn


def conv2d_by_hand(y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """INT305 report eq. (1), one output map, no padding, stride 1:

    ``x_ij = sum_c sum_{a<k} sum_{b<k} w_ab^c y^c_{(i+a)(j+b)}`` with ``y`` (C, H, W) and ``w`` (C, k, k),
    giving (H - k + 1, W - k + 1). (Deep learning's "convolution" is a cross-correlation: no kernel flip.)
    """
    channels, height, width = y.shape
    k = w.shape[-1]
    x = np.zeros((height - k + 1, width - k + 1))
    for i in range(height - k + 1):
        for j in range(width - k + 1):
            x[i, j] = sum(w[c, a, b] * y[c, i + a, j + b] for c in range(channels) for a in range(k) for b in range(k))
    return x


def output_size(size: int, kernel: int, stride: int = 1, padding: int = 0) -> int:
    """``floor((size + 2 padding - kernel) / stride) + 1``."""
    return (size + 2 * padding - kernel) // stride + 1


def layer_shapes(model: nn.Module, example: torch.Tensor) -> list[dict]:
    """Output shape and parameter count of every leaf layer for ``example``, in forward order."""
    rows, hooks = [], []
    for name, module in model.named_modules():
        if len(list(module.children())) == 0:
            def record(mod, inputs, output, name=name):
                rows.append({"layer": name, "type": type(mod).__name__, "output shape": tuple(output.shape[1:]),
                             "parameters": sum(p.numel() for p in mod.parameters())})
            hooks.append(module.register_forward_hook(record))
    try:
        with torch.no_grad():
            model.eval()(example)
    finally:
        for hook in hooks:
            hook.remove()
    return rows


def softmax_naive(z: np.ndarray) -> np.ndarray:
    """``e^{z_k} / sum_j e^{z_j}``, literally: overflows for large logits."""
    e = np.exp(z)
    return e / e.sum(-1, keepdims=True)


def log_softmax_stable(z: np.ndarray) -> np.ndarray:
    """INT305 eq. (5), stabilised: ``z_k - m - log sum_j e^{z_j - m}`` with ``m = max_j z_j``."""
    m = z.max(-1, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(-1, keepdims=True))


def nll(log_probs: np.ndarray, targets: np.ndarray) -> float:
    """INT305 eq. (6) averaged over the batch: ``-mean_n log p_n[t_n]``."""
    return float(-log_probs[np.arange(len(targets)), targets].mean())


def smoothed_cross_entropy(z: np.ndarray, targets: np.ndarray, smoothing: float) -> float:
    """Cross-entropy against ``(1 - eps) onehot + eps / K``: the target every class gets a share of."""
    k = z.shape[-1]
    q = np.full(z.shape, smoothing / k)
    q[np.arange(len(targets)), targets] += 1 - smoothing
    return float(-(q * log_softmax_stable(z)).sum(-1).mean())
