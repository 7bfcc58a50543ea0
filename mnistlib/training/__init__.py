"""The training core: a recipe (:mod:`.config`), the loop that follows it (:mod:`.loop`), evaluation
(:mod:`.evaluate`), checkpoints (:mod:`.checkpoint`), atomic writes (:mod:`.atomic_files`), the device (:mod:`.device`) and the
fast paths (:mod:`.cuda_graphs`, :mod:`.distributed`).

``__all__`` is what the layers above (the studies, the course, the command line) may use; a test holds them
to it.
"""
from . import checkpoint
from .atomic_files import write_atomic, write_json, write_text
from .config import FAST_PATH, PROFILES, TrainConfig, alternative_recipes, config_differences, resolve_config
from .device import device_name, resolve_device
from .evaluate import (BatchDependenceAudit, batch_dependence_audit, evaluate, inference_throughput, loss_and_accuracy, loss_function,
                       misclassified, predict, probabilities, with_batch_statistics)
from .loop import build_optimizer, build_scheduler, eval_batch_size, fit, weight_average

__all__ = ["checkpoint", "write_atomic", "write_json", "write_text", "FAST_PATH", "PROFILES", "TrainConfig", "alternative_recipes",
           "config_differences", "resolve_config", "resolve_device", "device_name", "BatchDependenceAudit", "batch_dependence_audit", "evaluate",
           "inference_throughput", "loss_and_accuracy", "loss_function", "misclassified", "predict", "probabilities",
           "with_batch_statistics", "build_optimizer", "build_scheduler", "eval_batch_size", "fit", "weight_average",
           "capture_blocker", "graph_forward", "release_graph", "init_from_environment", "rank_and_world"]


def __getattr__(name: str):
    """The GPU and multi-process paths load on first use."""
    lazy = {"capture_blocker": "cuda_graphs", "graph_forward": "cuda_graphs", "release_graph": "cuda_graphs",
            "init_from_environment": "distributed", "rank_and_world": "distributed"}
    if name in lazy:
        import importlib

        return getattr(importlib.import_module(f".{lazy[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
