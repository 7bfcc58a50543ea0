"""Chapter 7's computations: why a weight average, test-time views and an ensemble each help, shown small.

- :func:`noisy_descent`: gradient descent with noisy gradients on a bowl, its iterates and their exponential
  moving average (EMA): the iterates rattle around the minimum, the average sits near it.
- :func:`ema_by_hand`: the EMA's formula on a sequence of numbers, to check against PyTorch's
  ``AveragedModel`` (:func:`ema_by_pytorch`).
- :func:`view_probabilities`: one image's views and the network's probabilities for each.
- :func:`error_overlap`: why averaging the probabilities of several trained networks gives less than
  independent errors would (the averages themselves are the study's: ``study.finished_predictions``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


def noisy_descent(beta: float = 0.99, steps: int = 3000, lr: float = 0.1, noise: float = 1.0,
                  seed: int = 0) -> dict[str, np.ndarray]:
    """Gradient descent on ``f(w) = |w|^2 / 2`` in two dimensions, where each gradient ``w + noise * e`` carries
    Gaussian noise ``e``, from ``w = (3, 3)``; and the EMA of the iterates with decay ``beta`` (the first
    step copied, as PyTorch's ``AveragedModel`` does). Returns ``iterates`` and ``average`` ``(steps, 2)``,
    and their distances to the minimum ``(steps,)``."""
    rng = np.random.default_rng(seed)
    w = np.array([3.0, 3.0])
    iterates, average = np.empty((steps, 2)), np.empty((steps, 2))
    for t in range(steps):
        w = w - lr * (w + noise * rng.standard_normal(2))
        iterates[t] = w
        average[t] = w if t == 0 else beta * average[t - 1] + (1 - beta) * w
    return {"iterates": iterates, "average": average, "iterate_distance": np.linalg.norm(iterates, axis=1),
            "average_distance": np.linalg.norm(average, axis=1)}


def ema_by_hand(values, beta: float) -> float:
    """The EMA of ``values`` in order: the first copied, then ``a <- beta * a + (1 - beta) * v``."""
    average = None
    for v in values:
        average = float(v) if average is None else beta * average + (1 - beta) * float(v)
    return average


def ema_by_pytorch(values, beta: float) -> float:
    """The same EMA by ``torch.optim.swa_utils.AveragedModel`` over a one-parameter module whose weight takes
    each of ``values`` in turn: what the training loop's ``ema`` uses."""
    from ..training import weight_average

    module = torch.nn.Linear(1, 1, bias=False)
    average = weight_average(module, beta)
    for v in values:
        with torch.no_grad():
            module.weight.fill_(float(v))
        average.update_parameters(module)
    return float(average.module.weight)


@torch.no_grad()
def view_probabilities(model: torch.nn.Module, image: torch.Tensor, policy: str) -> tuple[list[torch.Tensor], np.ndarray]:
    """The views of one normalised image ``(1, 28, 28)`` under a test-time ``policy`` and the network's
    probabilities for each, ``(views, 10)``; their mean is the test-time-augmented prediction."""
    from ..data import tta_views

    model.eval()
    views = tta_views(image[None], policy)
    return [v[0] for v in views], torch.cat([torch.softmax(model(v), 1) for v in views]).cpu().numpy()


@dataclass(frozen=True)
class ErrorOverlap:
    """How the errors of several networks on the same images overlap: ``per_network`` errors each, images
    wrong for ``all`` of them, for ``some`` but not all, and how many images the networks' errors would
    share in ``all`` if they were independent (``independent_all``)."""

    per_network: list[int]
    all: int
    some: int
    images: int

    @property
    def independent_all(self) -> float:
        rates = [e / self.images for e in self.per_network]
        return self.images * float(np.prod(rates))


def error_overlap(correct: np.ndarray) -> ErrorOverlap:
    """:class:`ErrorOverlap` of a ``(networks, images)`` boolean array of right answers."""
    wrong = ~np.asarray(correct, dtype=bool)
    in_all = int(wrong.all(0).sum())
    return ErrorOverlap([int(w.sum()) for w in wrong], in_all, int(wrong.any(0).sum()) - in_all, wrong.shape[1])
