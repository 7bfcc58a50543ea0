"""Chapter 2's computations: the gradient of the loss, by hand, checked two other ways.

- :func:`cross_entropy_grad` is the derived formula ``dL/dz = softmax(z) - y`` (averaged over the batch);
  :func:`numerical_grad` is the definition of a derivative, a central difference, for checking it;
- :func:`conv2d_backward_by_hand` is backpropagation through one convolution, written with the chapter 1
  convolution itself: the kernel's gradient correlates the input with the output's gradient, the input's
  gradient convolves the padded output gradient with the flipped kernel;
- :func:`initial_loss` measures the loss of an untrained network, the first sanity check of any training.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from .lessons import conv2d_by_hand, log_softmax_stable


def softmax(z: np.ndarray) -> np.ndarray:
    """``exp(log_softmax(z))``: probabilities that never overflow."""
    return np.exp(log_softmax_stable(z))


def cross_entropy_grad(z: np.ndarray, targets: np.ndarray, smoothing: float = 0.0) -> np.ndarray:
    """``dL/dz`` of the mean cross-entropy of logits ``z`` (N, K) against ``targets`` (N,): ``(p - q) / N``
    with ``p = softmax(z)`` and ``q`` the target distribution (one-hot, or label-smoothed:
    ``(1 - eps) onehot + eps / K``)."""
    n, k = z.shape
    q = np.full(z.shape, smoothing / k)
    q[np.arange(n), targets] += 1 - smoothing
    return (softmax(z) - q) / n


def numerical_grad(f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """The gradient of the scalar ``f`` at ``x`` by central differences, one coordinate at a time:
    ``(f(x + h e_i) - f(x - h e_i)) / 2h``. Slow and approximate (error ~h^2): a check, not a method."""
    grad = np.zeros_like(x, dtype=float)
    for i in np.ndindex(x.shape):
        up, down = x.astype(float), x.astype(float)
        up[i] += h
        down[i] -= h
        grad[i] = (f(up) - f(down)) / (2 * h)
    return grad


def conv2d_backward_by_hand(y: np.ndarray, w: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Backpropagation through ``x = conv2d_by_hand(y, w)`` (stride 1, no padding) given ``g = dL/dx``
    (H-k+1, W-k+1); returns ``(dL/dw, dL/dy)`` with the shapes of ``w`` (C, k, k) and ``y`` (C, H, W).

    From ``x_ij = sum_c,a,b w^c_ab y^c_(i+a)(j+b)``:

    - ``dL/dw^c_ab = sum_ij g_ij y^c_(i+a)(j+b)``: the input correlated with ``g``, the same sum as the
      forward pass with ``g`` in the kernel's place;
    - ``dL/dy^c_uv = sum_ab g_(u-a)(v-b) w^c_ab``: ``g`` padded by ``k - 1`` zeros, correlated with the kernel
      turned by 180 degrees (a true convolution).
    """
    k = w.shape[-1]
    grad_w = np.stack([conv2d_by_hand(y[c:c + 1], g[None]) for c in range(len(y))])
    padded = np.pad(g, k - 1)[None]
    grad_y = np.stack([conv2d_by_hand(padded, w[c:c + 1, ::-1, ::-1]) for c in range(len(w))])
    return grad_w, grad_y


@dataclass(frozen=True)
class InitialLoss:
    """The loss of an untrained network on a batch, in training mode (what the first step sees) and in
    evaluation mode, beside ``ln K`` (uniform guessing), and the spread of the logits that makes the
    difference."""

    train_mode: float
    eval_mode: float
    uniform: float
    logit_std: float
    zero_last_layer: float


def initial_loss(model: torch.nn.Module, images: torch.Tensor, labels: torch.Tensor) -> InitialLoss:
    """Measure :class:`InitialLoss` for ``model`` as built (not trained) on ``images``/``labels``; then set
    its last layer's weights and biases to zero, so that every logit is 0, and measure again (``ln K``
    exactly). ``model`` is left as it was."""
    last = [m for m in model.modules() if isinstance(m, torch.nn.Linear)][-1]
    classes = last.out_features
    state = {k: v.clone() for k, v in model.state_dict().items()}
    with torch.no_grad():
        train = F.cross_entropy(model.train()(images), labels).item()
        model.load_state_dict(state)  # undo training mode's update of the running statistics
        logits = model.eval()(images)
        evaluated = F.cross_entropy(logits, labels).item()
        last.weight.zero_()
        last.bias.zero_()
        zero = F.cross_entropy(model(images), labels).item()
        model.load_state_dict(state)
    return InitialLoss(train, evaluated, float(np.log(classes)), logits.std(dim=1).mean().item(), zero)
