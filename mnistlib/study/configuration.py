"""What the study trains: its configurations (a model with its source's recipe or one of the course's), the
seeds, and the order of its runs. Every other part of the study (running, the summary, the claims) names a
configuration the same way."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..models import get_model_info, list_models
from ..training.config import alternative_recipes


# The study's defaults, each written once: the command line, the runner and the book read them from here.
RESULTS = Path("results")  # the committed measurements, relative to the repository
STUDY_OUT = RESULTS / "full"  # the study: every model under its source's recipe
ABLATION_OUT = RESULTS / "ablation"  # Shao et al.'s hyperparameters, one at a time
TUNING_OUT = RESULTS / "hpo"  # the Optuna study
AUDIT_OUT = RESULTS / "selection_audit"  # what choosing the epoch on the test set adds (never a verdict)
AUDITED_SEEDS = {"gecco": 5, "spinalnet_small": 5, "shao_cnn": 3}  # the audit's models and their seeds
LADDER_OUT = RESULTS / "ladder"  # the ladder of recipes past the paper's claim (issue 33)
LADDER_SEEDS = 5  # seeds per trained rung; the ensemble is all of them
LADDER_MODEL = "shao_cnn"  # the network every rung trains: the paper's 354,138 parameters
LADDER_TAG = "long-ema"  # rung 3's runs: the improved recipe with these overrides
LONG_EMA = dict(epochs=60, ema=0.999)
ABLATION_SEEDS = 5  # seeds per variant of the committed ablation (issue 13: 3; issue 30: 5)

DEFAULT_SEEDS = 5


# The ResNet (ResNet-101 trunk + 2048-wide FC, 46.7M parameters) costs ~34 s an epoch on an H100 under
# its source's recipe: three seeds keep the study inside one GPU session. Override with seed_limits={}.
SEED_LIMITS = {"resnet": 3}


@dataclass(frozen=True)
class Configuration:
    """A model and a recipe (``None``: its source's own, the ``full`` profile)."""

    model: str
    recipe: str | None = None

    @property
    def label(self) -> str:
        return self.model if self.recipe is None else f"{self.model} ({self.recipe})"

    def command(self, profile: str, seed: int = 0, dataset: str = "mnist", cuda_graph: bool = False) -> str:
        """The CLI command that reruns one seed of this configuration."""
        parts = ["python -m mnistlib train", self.model, f"--profile {profile}"]
        parts += [f"--recipe {self.recipe}"] if self.recipe else []
        parts += [f"--dataset {dataset}"] if dataset != "mnist" else []
        parts += ["--cuda-graph"] if cuda_graph else []
        return " ".join(parts + [f"--seed {seed}"])


REFERENCE = Configuration("shao_cnn")  # every configuration is compared with the paper CNN, paper recipe


def study(models: list[str] | None = None) -> list[Configuration]:
    """Every configuration of ``models`` (default: the whole registry), source recipe first."""
    names = models or list_models()
    for name in names:
        get_model_info(name)  # unknown names fail before anything trains
    return [c for name in names for c in [Configuration(name)] + [Configuration(name, r)
                                                                   for r in alternative_recipes(name)]]


def run_order(configurations: list[Configuration], seeds: int, datasets: list[str],
         seed_limits: dict[str, int] | None = None) -> list[tuple[str, Configuration, int]]:
    """``(dataset, configuration, seed)`` for every run of the study, in the order they are trained."""
    limits = SEED_LIMITS if seed_limits is None else seed_limits
    return [(dataset, c, seed) for dataset in datasets for c in configurations
            for seed in range(min(seeds, limits.get(c.model, seeds)))]
