"""Chapter 3's computations: what a training recipe sets, and what each part of the improved one does.

- :func:`recipe_settings` puts the settings that matter for two recipes side by side, each explained;
- :func:`learning_rates` replays a recipe's schedule with the training loop's own optimiser and scheduler;
- :func:`augmented` draws the random affine maps the improved recipe trains on;
- :func:`mode_difference` measures what ``train()`` vs ``eval()`` changes (batch norm and dropout);
- :func:`reliability` bins predictions by confidence (a reliability diagram and its expected calibration
  error); :func:`fit_temperature` fits the one number that recalibrates a network, on the validation split.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from ..data.augment import RandomAffine
from ..training.config import TrainConfig
from ..training.loop import build_optimizer, build_scheduler

# The settings a reader needs to understand a recipe, what each does; shown only where a recipe sets them.
EXPLAINED = {
    "optimizer": "how a step uses the gradient (Adam: per-weight step sizes from running gradient statistics; "
                 "AdamW: the same, with weight decay applied to the weights directly)",
    "lr": "the step size (for one-cycle: its peak)",
    "schedule": "how the step size changes during training",
    "gamma": "the per-epoch factor of the exponential schedule",
    "weight_decay": "how strongly every weight is pulled towards zero at each step",
    "batch_size": "images per step: the gradient is their average",
    "epochs": "passes over the 55,000 training images (at most)",
    "patience": "stop after this many epochs without a better validation score",
    "select": "which epoch's weights are kept: the best validation loss or accuracy",
    "augment": "random changes to every training image, drawn anew each epoch",
    "label_smoothing": "the share of the target spread over all classes (chapter 2)",
}
DEFAULTS = TrainConfig()


def _shown(config: TrainConfig, name: str) -> bool:
    value = getattr(config, name)
    if name == "gamma":
        return config.schedule in ("exponential", "step")
    return value != getattr(DEFAULTS, name) or name in ("optimizer", "lr", "batch_size", "epochs", "schedule")


def recipe_settings(recipes: dict[str, TrainConfig]) -> list[dict]:
    """One row per setting of :data:`EXPLAINED` that any of ``recipes`` (name -> config) sets, with each
    recipe's value ("-" where it keeps the default) and what the setting does."""
    rows = []
    for name, meaning in EXPLAINED.items():
        if not any(_shown(config, name) for config in recipes.values()):
            continue
        values = {label: (str(getattr(config, name)) if _shown(config, name) else "-")
                  for label, config in recipes.items()}
        rows.append({"setting": name, **values, "what it does": meaning})
    return rows


def learning_rates(config: TrainConfig, steps_per_epoch: int, epochs: int | None = None) -> np.ndarray:
    """The learning rate of every step of ``epochs`` epochs (default the recipe's), as the training loop's
    own :func:`build_optimizer` and :func:`build_scheduler` set it (a one-cycle schedule steps every batch,
    the others every epoch)."""
    epochs = config.epochs if epochs is None else epochs
    weight = torch.nn.Linear(1, 1)
    optimizer = build_optimizer(weight, config)
    scheduler, per_batch = build_scheduler(optimizer, config, steps_per_epoch)
    rates = []
    for _ in range(epochs):
        for _ in range(steps_per_epoch):
            rates.append(optimizer.param_groups[0]["lr"])
            optimizer.step()
            if scheduler is not None and per_batch:
                scheduler.step()
        if scheduler is not None and not per_batch:
            scheduler.step()
    return np.array(rates)


def augmented(image: torch.Tensor, copies: int = 7, seed: int = 0) -> torch.Tensor:
    """``copies`` random versions of one image ``(1, H, W)``, through the improved recipe's
    :class:`~mnistlib.data.augment.RandomAffine` (rotation, shift, scale), the original first."""
    generator = torch.Generator(device=image.device).manual_seed(seed)
    batch = image[None].repeat(copies, 1, 1, 1)
    return torch.cat([image[None], RandomAffine(generator=generator)(batch)])


@dataclass(frozen=True)
class ModeDifference:
    """What training mode changes for one batch: the share of predictions that differ from evaluation
    mode, the share of its non-zero inputs the (first) dropout layer zeroes, and the largest logit
    difference."""

    changed: float
    dropped: float
    largest_logit_difference: float


@torch.no_grad()
def mode_difference(model: torch.nn.Module, images: torch.Tensor, seed: int = 0) -> ModeDifference:
    """Run one batch through ``model`` in training mode and in evaluation mode (its weights and running
    statistics restored afterwards). Training mode normalises with the batch's own statistics and drops
    features at random; evaluation mode uses the running statistics and keeps every feature."""
    state = {k: v.clone() for k, v in model.state_dict().items()}
    dropouts = [m for m in model.modules() if isinstance(m, torch.nn.Dropout)]
    seen = []  # per dropout layer: the share of its non-zero inputs that it zeroed

    def dropped(module, inputs, output):
        alive = inputs[0] != 0
        seen.append(((output == 0) & alive).sum().item() / max(alive.sum().item(), 1))

    hooks = [m.register_forward_hook(dropped) for m in dropouts]
    try:
        torch.manual_seed(seed)
        trained_mode = model.train()(images)
        for hook in hooks:
            hook.remove()
        model.load_state_dict(state)
        evaluated = model.eval()(images)
    finally:
        model.load_state_dict(state)
        model.eval()
    changed = (trained_mode.argmax(1) != evaluated.argmax(1)).float().mean().item()
    return ModeDifference(changed, seen[0] if seen else 0.0, (trained_mode - evaluated).abs().max().item())


def top_two_margin(logits: torch.Tensor) -> torch.Tensor:
    """Per image, how far its largest logit is ahead of the second largest (what label smoothing bounds)."""
    top = logits.topk(2, dim=1).values
    return top[:, 0] - top[:, 1]


@dataclass(frozen=True)
class Reliability:
    """Predictions binned by confidence (the top probability): per bin its edges, how many predictions,
    their mean confidence and their accuracy; ``ece``, the expected calibration error (the bins' |accuracy -
    confidence| weighted by their share of predictions); the mean confidence of the wrong predictions."""

    edges: np.ndarray
    counts: np.ndarray
    confidence: np.ndarray
    accuracy: np.ndarray
    ece: float
    confidence_when_wrong: float
    accuracy_overall: float


def reliability(probabilities: torch.Tensor, labels: torch.Tensor, bins: int = 10,
                low: float = 0.0) -> Reliability:
    """:class:`Reliability` of ``probabilities`` (N, K) against ``labels`` (N,), with ``bins`` equal-width
    bins of confidence from ``low`` to 1 (empty bins have nan confidence and accuracy)."""
    confidence, predicted = probabilities.max(1)
    confidence, correct = confidence.double().cpu().numpy(), (predicted == labels).cpu().numpy()
    edges = np.linspace(low, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    counts = np.bincount(which, minlength=bins)
    with np.errstate(invalid="ignore"):
        conf = np.bincount(which, confidence, bins) / counts
        acc = np.bincount(which, correct.astype(float), bins) / counts
    ece = float(np.nansum(counts / counts.sum() * np.abs(acc - conf)))
    wrong = confidence[~correct]
    return Reliability(edges, counts, conf, acc, ece, float(wrong.mean()) if wrong.size else float("nan"),
                       float(correct.mean()))


def fit_temperature(logits: torch.Tensor, labels: torch.Tensor, steps: int = 200) -> float:
    """The temperature ``T > 0`` that minimises the cross-entropy of ``softmax(logits / T)`` on ``labels``
    (Guo et al. 2017): fitted on the validation split, it recalibrates without changing any prediction."""
    log_t = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.LBFGS([log_t], lr=0.1, max_iter=steps)
    logits, labels = logits.detach().double().cpu(), labels.cpu()

    def closure():
        optimizer.zero_grad()
        loss = F.cross_entropy(logits / log_t.double().exp(), labels)
        loss.backward()
        return loss

    optimizer.step(closure)
    return float(log_t.detach().exp())
