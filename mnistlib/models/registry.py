"""The model registry: every model of the course with the metadata the book and the CLI read.

A model file defines a builder and decorates it with :func:`register_model`; nothing else needs to change
(``mnistlib.models`` imports every module of the package). Like torchvision's ``weights.meta``, the
metadata says where a model comes from and what its source reports; our own parameter count is always
computed from the module, never typed in.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any, Callable

from torch import nn


STATISTICS = ("average", "best", "each")


@dataclass(frozen=True)
class Source:
    """A work that reports figures about the course's models: the short name the book prints beside each of
    its figures, the full citation, and where the course read the figures (``read``), or why it could not."""

    name: str
    citation: str
    read: str


SOURCES: dict[str, Source] = {s.name: s for s in (
    Source("Shao et al. 2023", "Shao et al. 2023, Intelligent Automation & Soft Computing 36(3), 3595-3606",
           "the paper's text (../shared/papers/shao2023-mnist-cnn-hyperparameter-optimization.txt)"),
    Source("INT305 report", "INT305 report: GECCO and its enhancements compared with five models on MNIST",
           "the report's text (../shared/papers/int305-gecco-enhancements-report.txt)"),
    Source("Mazzia et al. 2021", "Mazzia, Salvetti & Chiaberge 2021, Efficient-CapsNet: capsule network with "
           "self-attention routing, Scientific Reports 11, 14634 (code EscVM/Efficient-CapsNet)",
           "the paper's Tables 2 and 3 as published (PMC8290018)"),
    Source("Fein-Ashley et al. 2024", "Fein-Ashley et al. 2024, GECCO (ICIP; arXiv 2402.00564; code "
           "GECCOProject/GECCO)", "not read: the paper's text was not available to the course"),
    Source("Kabir et al. 2020", "Kabir et al. 2020, SpinalNet: deep neural network with gradual input "
           "(arXiv 2007.03347; code dipuk0506/SpinalNet)", "the repository's MNIST/readme.md"),
)}


@dataclass(frozen=True)
class Claim:
    """One figure a source reports about a model, with where it is written.

    ``quantity``: what it measures (``test accuracy %``, ``best validation epoch``, ...: the keys of
    :data:`mnistlib.study.claims.CLAIM_MEASURES`). ``statistic``: ``average`` (an average over runs, or a single
    run's figure: judged against the 95% t-interval of the mean over seeds), ``best`` (the best of several
    runs: judged against the best seed) or ``each`` (what every run shows, an epoch: judged against the
    range of the seeds). ``resolution``: how coarsely the source writes it (0.5 for a whole percent).
    ``note``: what else a reader must know, such as where the source contradicts itself.
    ``source``: the work that reports the figure (a key of :data:`SOURCES`), which is not always the work that
    made the model: the INT305 report's figures about GECCO are the report's, not Fein-Ashley et al.'s.
    ``no_verdict``: why the study's runs cannot judge the figure (it could not be checked against its
    source's text, or it measures something else, such as an ensemble): the row shows the measurement and
    this reason instead of a verdict.
    """

    quantity: str
    value: float
    where: str
    statistic: str = "average"
    resolution: float = 0.0
    note: str = ""
    source: str = ""
    no_verdict: str = ""

    def __post_init__(self):
        if self.statistic not in STATISTICS:
            raise ValueError(f"statistic must be one of {', '.join(STATISTICS)} (got {self.statistic!r})")
        if self.source not in SOURCES:
            raise ValueError(f"claim {self.quantity!r} ({self.where}): source {self.source!r} is not one of "
                             f"{', '.join(SOURCES)}: name the work that reports the figure")
        named = [name for name in SOURCES if name.split(" ")[0] in self.where and name != self.source]
        if named:
            raise ValueError(f"claim {self.quantity!r}: its place ({self.where!r}) is in {named[0]}, but its source "
                             f"is {self.source!r}: a figure belongs to the work that reports it")


@dataclass(frozen=True)
class ModelInfo:
    """What the course knows about one model.

    ``reported_accuracy`` (percent) and ``reported_params`` are the source's own figures (``None`` where it
    gives none). ``batch_dependent`` is True when a prediction depends on the other images of its batch.
    ``normalize`` is the ``(mean, std)`` applied to pixels in [0, 1], as the source does. ``recipes`` maps a
    profile (``smoke``, ``quick``, ``full``) to training-config overrides; ``full`` is the source's recipe.
    ``claims``: every figure the source reports (:class:`Claim`), the headline accuracy included, for the
    study to judge and the book to set beside the measurements.
    """

    name: str
    builder: Callable[..., nn.Module]
    source: str
    reported_accuracy: float | None
    reported_params: int | None
    batch_dependent: bool
    normalize: tuple[float, float]
    recipes: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: str = ""
    claims: tuple[Claim, ...] = ()

    @property
    def summary(self) -> str:
        return (self.builder.__doc__ or "").strip().splitlines()[0] if self.builder.__doc__ else ""

    def claim(self, quantity: str) -> Claim:
        """The source's (first) claim about ``quantity``; ``KeyError`` naming the quantities it has."""
        found = next((c for c in self.claims if c.quantity == quantity), None)
        if found is None:
            raise KeyError(f"{self.name} has no claim {quantity!r} (it has: "
                           f"{', '.join(c.quantity for c in self.claims) or 'none'})")
        return found

    def count_params(self, **kwargs) -> int:
        """Trainable parameters of a freshly built model (with ``kwargs`` passed to the builder)."""
        return count_params(self.builder(**kwargs))


_REGISTRY: dict[str, ModelInfo] = {}


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def register_model(name: str, **meta) -> Callable[[Callable[..., nn.Module]], Callable[..., nn.Module]]:
    """Decorator: ``@register_model("shao_cnn", source=..., reported_accuracy=..., ...)`` on a builder."""

    def decorate(builder: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        if name in _REGISTRY:
            raise ValueError(f"model {name!r} is registered twice")
        _REGISTRY[name] = ModelInfo(name=name, builder=builder, **meta)
        return builder

    return decorate


def list_models() -> list[str]:
    """Names of all registered models, in registration order."""
    return list(_REGISTRY)


def get_model_info(name: str) -> ModelInfo:
    """The :class:`ModelInfo` of ``name``; an unknown name raises ``KeyError`` with the closest names."""
    if name not in _REGISTRY:
        close = difflib.get_close_matches(name, _REGISTRY, n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise KeyError(f"unknown model {name!r}{hint}; available: {', '.join(_REGISTRY)}")
    return _REGISTRY[name]


def get_model(name: str, **kwargs) -> nn.Module:
    """Build model ``name``; the module carries ``registry_name`` and ``batch_dependent`` attributes."""
    info = get_model_info(name)
    model = info.builder(**kwargs)
    model.registry_name = name
    model.batch_dependent = info.batch_dependent
    return model
