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
class Claim:
    """One figure a source reports about a model, with where it is written.

    ``quantity``: what it measures (``test accuracy %``, ``best validation epoch``, ...: the keys of
    :data:`mnistlib.study.claims.CLAIM_MEASURES`). ``statistic``: ``average`` (an average over runs, or a single
    run's figure: judged against the 95% t-interval of the mean over seeds), ``best`` (the best of several
    runs: judged against the best seed) or ``each`` (what every run shows, an epoch: judged against the
    range of the seeds). ``resolution``: how coarsely the source writes it (0.5 for a whole percent).
    ``note``: what else a reader must know, such as where the source contradicts itself.
    """

    quantity: str
    value: float
    where: str
    statistic: str = "average"
    resolution: float = 0.0
    note: str = ""

    def __post_init__(self):
        if self.statistic not in STATISTICS:
            raise ValueError(f"statistic must be one of {', '.join(STATISTICS)} (got {self.statistic!r})")


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
