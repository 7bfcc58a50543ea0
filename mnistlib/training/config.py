"""Training configuration and the three profiles.

A run's config is built in layers: :class:`TrainConfig` defaults, the model's ``full`` recipe (its source's
hyperparameters), the profile's general limits, the model's own recipe for that profile, then explicit
overrides (CLI flags). Profiles:

- ``smoke``: seconds on a 2-core CPU (3,000 training images, one epoch, batches of at most 100, validation on
  the first 1,000 images of the split, the test set whole); for tests.
- ``quick``: the default on a CPU: the full training set, one to three epochs.
- ``full``: the source's own hyperparameters; meant for a GPU. Where the source trains for an impractical
  number of epochs (150, 200) ``full`` is a documented shorter schedule and ``source`` keeps the source's
  values verbatim (for the other models ``source`` equals ``full``).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from ..data.augment import AUGMENTATIONS
from .cuda_graphs import PRECISIONS

PROFILES = ("smoke", "quick", "full", "source")
OPTIMIZERS = ("adam", "adamw", "sgd")
SCHEDULES = ("none", "exponential", "step", "onecycle")
SELECTIONS = ("val_loss", "val_accuracy")

PROFILE_LIMITS: dict[str, dict[str, Any]] = {
    "smoke": dict(epochs=1, batch_size=100, train_subset=3000, val_subset=1000),
    "quick": dict(epochs=3),
    "full": {},
    "source": {},
}
CAPPED = ("epochs", "batch_size")  # a profile limit on these is a maximum, not a value


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a training run besides the model and the data.

    ``gamma``: the per-epoch factor of the exponential schedule, or the factor of the step schedule every
    ``step_size`` epochs. ``patience``: stop after that many epochs without a better validation score
    (``None``: run every epoch); the weights of the best validation epoch are always restored.
    ``select``: the score that decides the best epoch: ``val_loss`` (lowest cross-entropy, the paper's
    early stopping) or ``val_accuracy`` (highest accuracy; the later epoch wins no tie).
    ``eval_batch_size``: ``None`` means the training batch size for batch-dependent models, else 2,000.
    ``augment``: the on-device augmentation policy (``none``, ``affine``: rotation/shift/scale,
    ``spinal``: SpinalNet's perspective + rotation, ``capsnet``: Efficient-CapsNet's four transforms).
    ``deterministic``: deterministic cuDNN algorithms, so that a seed reproduces a GPU run exactly and a
    resumed run equals an uninterrupted one; turn it off for speed (the CPU is deterministic anyway).
    ``cuda_graph``: replay forward and backward from a CUDA graph (:mod:`mnistlib.training.cuda_graphs`; eager where
    impossible). ``precision``: ``fp32`` or ``bf16`` (autocast). Together with ``deterministic=False``
    they make the fast path that ``python -m mnistlib bench`` measures. ``compile``: train through
    ``torch.compile`` (the CPU's fast path: fused batch norm and ReLU, the same dropout masks as eager).
    ``channels_last``: hold the network's weights, and so its activations, in the channels-last layout
    (NHWC): on a 2-core CPU, compiled, the ResNet trains 1.4 times and Efficient-CapsNet 1.2 times as fast so,
    the others no faster (``results/full/PLAN.md``, "The large models' paths"); the same computation up to
    rounding.
    ``min_lr``: the floor of the exponential schedule (Efficient-CapsNet stops its decay at 5e-5).
    ``ema``: the decay of an exponential moving average of the weights (and batch-norm statistics), updated
    after every optimiser step, ``w_ema <- ema * w_ema + (1 - ema) * w``; validation, selection and the result
    use the average (``0``: no average, the weights themselves).

    :data:`EXECUTION_ONLY` fields decide how a run is computed, not what: two runs that differ only there
    are the same experiment (:func:`config_differences`).
    """

    epochs: int = 10
    batch_size: int = 128
    eval_batch_size: int | None = None
    optimizer: str = "adam"
    lr: float = 1e-3
    weight_decay: float = 0.0
    momentum: float = 0.9
    nesterov: bool = False
    schedule: str = "none"
    gamma: float = 0.99
    min_lr: float = 0.0
    step_size: int = 7
    patience: int | None = None
    label_smoothing: float = 0.0
    select: str = "val_loss"
    augment: str = "none"
    train_subset: int | None = None
    val_subset: int | None = None
    seed: int = 0
    device: str | None = None
    deterministic: bool = True
    cuda_graph: bool = False
    precision: str = "fp32"
    compile: bool = False
    channels_last: bool = False
    ema: float = 0.0

    def __post_init__(self):
        problems = []
        if self.epochs < 1:
            problems.append(f"epochs must be at least 1 (got {self.epochs})")
        if self.batch_size < 1:
            problems.append(f"batch_size must be at least 1 (got {self.batch_size})")
        if self.eval_batch_size is not None and self.eval_batch_size < 1:
            problems.append(f"eval_batch_size must be at least 1 (got {self.eval_batch_size})")
        if not self.lr > 0:
            problems.append(f"lr must be positive (got {self.lr})")
        if self.optimizer not in OPTIMIZERS:
            problems.append(f"optimizer must be one of {', '.join(OPTIMIZERS)} (got {self.optimizer!r})")
        if self.schedule not in SCHEDULES:
            problems.append(f"schedule must be one of {', '.join(SCHEDULES)} (got {self.schedule!r})")
        if self.patience is not None and self.patience < 1:
            problems.append(f"patience must be at least 1 or None (got {self.patience})")
        if not 0.0 <= self.min_lr < self.lr:
            problems.append(f"min_lr must be at least 0 and below lr (got {self.min_lr} with lr {self.lr})")
        if not 0.0 <= self.ema < 1.0:
            problems.append(f"ema must be in [0, 1), a decay such as 0.999 (got {self.ema})")
        if not 0.0 <= self.label_smoothing < 1.0:
            problems.append(f"label_smoothing must be in [0, 1) (got {self.label_smoothing})")
        if self.augment not in AUGMENTATIONS:
            problems.append(f"augment must be one of {', '.join(AUGMENTATIONS)} (got {self.augment!r})")
        if self.select not in SELECTIONS:
            problems.append(f"select must be one of {', '.join(SELECTIONS)} (got {self.select!r})")
        if self.precision not in PRECISIONS:
            problems.append(f"precision must be one of {', '.join(PRECISIONS)} (got {self.precision!r})")
        if problems:
            raise ValueError("; ".join(problems))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "TrainConfig":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})


# The GPU's fast path: CUDA-graph replay, bf16 autocast, cuDNN free to pick non-deterministic algorithms.
FAST_PATH: dict[str, Any] = dict(cuda_graph=True, precision="bf16", deterministic=False)

# How a run is computed, not what it computes: the device, the determinism of cuDNN's algorithms, the two
# fast paths (CUDA-graph replay, torch.compile) and the memory layout. A finished or interrupted run is the
# same experiment whatever these were.
EXECUTION_ONLY = frozenset({"device", "deterministic", "cuda_graph", "compile", "channels_last"})


def config_differences(saved: dict[str, Any], config: TrainConfig, ignore=EXECUTION_ONLY) -> list[str]:
    """The fields in which a stored config (a record's or a checkpoint's dict) differs from ``config``,
    as ``"field: then, now"`` lines, ``ignore`` aside. A field the stored config lacks (it was written before
    the field existed) counts as its default, so a new field whose default keeps the old behaviour does not
    make earlier runs stale. The one comparator of the project: resuming and reusing a run both ask it."""
    defaults = TrainConfig().to_dict()
    now = config.to_dict()
    return [f"{k}: {saved.get(k, defaults[k])!r} then, {v!r} now" for k, v in now.items()
            if k not in ignore and saved.get(k, defaults[k]) != v]


def alternative_recipes(model: str) -> list[str]:
    """The model's recipes besides its source's (``full``) and the profiles' (Shao's CNN: ``improved``)."""
    from ..models import get_model_info

    return sorted(k for k in get_model_info(model).recipes if k not in PROFILES)


def resolve_config(model: str, profile: str = "quick", recipe: str | None = None, **overrides) -> TrainConfig:
    """The config of ``model`` under ``profile``, with ``overrides`` (``None`` values ignored) on top.

    ``recipe`` names an alternative recipe of the model (Shao's CNN has ``improved``) that replaces the
    source's ``full`` recipe where it differs, under the same profile limits.
    """
    from ..models import get_model_info

    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}: choose one of {', '.join(PROFILES)}")
    recipes = get_model_info(model).recipes
    base = dict(recipes.get("full", {}))
    if recipe is not None:
        alternatives = alternative_recipes(model)
        if recipe not in alternatives:
            raise ValueError(f"{model} has no recipe {recipe!r} (it has: {', '.join(alternatives) or 'none'})")
        base.update(recipes[recipe])
    config = TrainConfig.from_dict(base)
    limits = {k: min(v, getattr(config, k)) if k in CAPPED else v for k, v in PROFILE_LIMITS[profile].items()}
    config = replace(config, **limits)
    if profile != "full":
        config = replace(config, **recipes.get(profile, {}))
    return replace(config, **{k: v for k, v in overrides.items() if v is not None})
