"""Evaluation: loss, accuracy, per-class accuracy, confusion matrix and the misclassified examples.

Metrics come from ``torchmetrics``; predictions are made in large batches on the data's device. For a
batch-dependent model (GECCO) the batch size changes the predictions: callers pass it explicitly.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from ..data import Split, tta_views

DEFAULT_EVAL_BATCH = 2000


def loss_function(model: torch.nn.Module, label_smoothing: float = 0.0):
    """The model's own ``loss(output, target)`` when it defines one, else cross-entropy on logits."""
    own = getattr(model, "loss", None)
    if callable(own):
        return own
    return lambda output, target: F.cross_entropy(output, target, label_smoothing=label_smoothing)


@torch.no_grad()
def predict(model: torch.nn.Module, split: Split, batch_size: int = DEFAULT_EVAL_BATCH,
            order: torch.Tensor | None = None) -> torch.Tensor:
    """Model outputs ``(N, classes)`` for every image of ``split``, in eval mode, in the split's order.

    ``order`` (a permutation) decides which images share a batch: batches are ``order[i:i+B]``; the
    outputs are put back in the split's order.
    """
    was_training = model.training
    model.eval()
    try:
        if order is None:
            return torch.cat([model(x) for x, _ in split.batches(batch_size)])
        permuted = Split(split.images[order], split.labels[order])
        outputs = torch.cat([model(x) for x, _ in permuted.batches(batch_size)])
        return torch.empty_like(outputs).index_copy_(0, order, outputs)
    finally:
        model.train(was_training)


@torch.no_grad()
def probabilities(model: torch.nn.Module, split: Split, batch_size: int = DEFAULT_EVAL_BATCH,
                  tta: str = "none") -> torch.Tensor:
    """Softmax probabilities ``(N, classes)`` for every image of ``split``, in eval mode; ``tta``: a test-time
    augmentation policy (:data:`mnistlib.data.TTA_POLICIES`) whose views' probabilities are averaged."""
    was_training = model.training
    model.eval()
    try:
        return torch.cat([torch.stack([torch.softmax(model(view).float(), 1) for view in tta_views(x, tta)]).mean(0)
                          for x, _ in split.batches(batch_size)])
    finally:
        model.train(was_training)


def loss_and_accuracy(model, split: Split, batch_size: int = DEFAULT_EVAL_BATCH) -> tuple[float, float]:
    """Mean loss and accuracy (fraction) over ``split``: one host sync."""
    outputs = predict(model, split, batch_size)
    loss = loss_function(model)(outputs, split.labels)
    correct = (outputs.argmax(1) == split.labels).float().mean()
    values = torch.stack([loss.float(), correct]).tolist()
    return values[0], values[1]


@dataclass
class EvalResult:
    """``accuracy`` and ``per_class_accuracy`` are fractions; ``confusion[i][j]`` counts true i predicted j."""

    loss: float
    accuracy: float
    per_class_accuracy: list[float]
    confusion: list[list[int]]
    n: int
    batch_size: int
    predictions: torch.Tensor = field(repr=False)
    probabilities: torch.Tensor = field(repr=False)


@torch.no_grad()
def with_batch_statistics(model: torch.nn.Module, split: Split, batch_size: int = 1000) -> torch.nn.Module:
    """A copy of ``model``, in eval mode, whose batch-norm layers hold the statistics of ``split`` at the
    model's current weights: each layer's mean and variance averaged over the batches of ``split``
    (PyTorch's ``momentum=None``), in place of the running estimates training left behind.

    Training keeps ``running = (1 - m) running + m batch`` after every step. With Keras's ``m = 0.01``
    (momentum 0.99) a running estimate remembers the last few hundred steps, so while the weights still change
    fast, the statistics used at evaluation lag the ones the weights produce.
    """
    fresh = copy.deepcopy(model)
    norms = [m for m in fresh.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    if not norms:
        raise ValueError(f"{type(model).__name__} has no batch-norm layer whose statistics could be recomputed")
    fresh.eval()  # dropout and everything else as at evaluation; only the batch norms gather statistics
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # a cumulative average over the batches that follow
        norm.train()
    for x, _ in split.batches(batch_size):
        fresh(x)
    return fresh.eval()


def evaluate(model: torch.nn.Module, split: Split, batch_size: int = DEFAULT_EVAL_BATCH) -> EvalResult:
    """Every metric of the course on ``split``."""
    outputs = predict(model, split, batch_size)
    classes = outputs.shape[1]
    labels = split.labels
    preds = outputs.argmax(1)
    loss = loss_function(model)(outputs, labels).item()
    from torchmetrics.functional.classification import multiclass_accuracy, multiclass_confusion_matrix  # ~1 s: on use

    accuracy = multiclass_accuracy(preds, labels, num_classes=classes, average="micro").item()
    per_class = multiclass_accuracy(preds, labels, num_classes=classes, average=None).tolist()
    confusion = multiclass_confusion_matrix(preds, labels, num_classes=classes).tolist()
    probs = outputs.float().softmax(1) if getattr(model, "loss", None) is None else outputs.float()
    return EvalResult(loss, accuracy, per_class, confusion, len(split), batch_size, preds.cpu(), probs.cpu())


def misclassified(result: EvalResult, split: Split, limit: int | None = None) -> list[dict]:
    """The wrong predictions, most confident first: index, true and predicted class, their probabilities."""
    labels = split.labels.cpu()
    wrong = (result.predictions != labels).nonzero().flatten()
    conf = result.probabilities[wrong, result.predictions[wrong]]
    order = wrong[conf.argsort(descending=True)]
    rows = [{"index": int(i), "true": int(labels[i]), "predicted": int(result.predictions[i]),
             "p_predicted": float(result.probabilities[i, result.predictions[i]]),
             "p_true": float(result.probabilities[i, labels[i]])} for i in order[:limit]]
    return rows


THROUGHPUT_IMAGES = 2_000  # the images timed: enough for a steady rate, a fifth of the test set's cost


@torch.no_grad()
def inference_throughput(model: torch.nn.Module, split: Split, batch_size: int = DEFAULT_EVAL_BATCH,
                         repeats: int = 3, images: int | None = THROUGHPUT_IMAGES) -> float:
    """Images per second for a forward pass over the first ``images`` of ``split`` (all of it with ``None``),
    in batches of ``batch_size`` (at most that many images): the best of ``repeats`` after one warm-up pass."""
    import time

    split = split if images is None else split.head(min(images, len(split)))

    def run():
        predict(model, split, batch_size).sum().item()  # .item() waits for the device

    run()
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - t0)
    return len(split) / best


AUDIT_BATCH_SIZES = (1, 16, 64, 256, 10_000)


@dataclass
class BatchDependenceAudit:
    """How much a model's test predictions depend on their batch-mates.

    ``accuracy_by_batch_size``: accuracy (fraction) with the split in its own order cut into batches of each
    size. ``composition_accuracies``: accuracy at ``fixed_batch_size`` under random batch compositions.
    ``changed_fraction``: the fraction of images whose predicted class is not the same under every one of
    those compositions; a batch-independent model gives exactly 0.
    """

    accuracy_by_batch_size: dict[int, float]
    fixed_batch_size: int
    composition_accuracies: list[float]
    changed_fraction: float
    changed_count: int
    n: int


def batch_dependence_audit(model: torch.nn.Module, split: Split, *, batch_sizes=AUDIT_BATCH_SIZES,
                           fixed_batch_size: int = 64, compositions: int = 5, seed: int = 0) -> BatchDependenceAudit:
    """Measure the batch dependence of ``model`` on ``split`` (any model of the registry)."""
    if compositions < 2:
        raise ValueError(f"compositions must be at least 2 to compare predictions, got {compositions}")
    labels = split.labels
    by_size = {}
    for size in batch_sizes:
        preds = predict(model, split, min(size, len(split))).argmax(1)
        by_size[int(size)] = (preds == labels).float().mean().item()
    generator = torch.Generator(device=labels.device).manual_seed(seed)
    runs = []
    for _ in range(compositions):
        order = torch.randperm(len(split), device=labels.device, generator=generator)
        runs.append(predict(model, split, fixed_batch_size, order=order).argmax(1))
    stacked = torch.stack(runs)
    changed = (stacked != stacked[0]).any(0)
    return BatchDependenceAudit(
        accuracy_by_batch_size=by_size, fixed_batch_size=fixed_batch_size,
        composition_accuracies=(stacked == labels).float().mean(1).tolist(),
        changed_fraction=changed.float().mean().item(), changed_count=int(changed.sum()), n=len(split))
