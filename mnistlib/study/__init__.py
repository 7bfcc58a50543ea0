"""The study layer: runs the course's experiments over the models and the training core, and judges the
sources' claims. Its parts, by job:

- what it trains (:mod:`.configuration`), how one run is trained and recorded (:mod:`.run`, :mod:`.record`),
  and the runner that trains them all, resumably, one runner per results folder (:mod:`.reproduce`,
  :mod:`.lock`);
- the claims and their verdicts (:mod:`.claims`), the summary's rows and the readers of a study folder
  (:mod:`.summary`), the statistics behind both (:mod:`.stats`);
- the hyperparameter studies (:mod:`.hyperparameters`), the CPU plan (:mod:`.plan`), the benchmarks
  (:mod:`.bench`), the device comparison (:mod:`.device_comparison`), the ONNX export (:mod:`.export`), the
  audit of what test-set selection adds (:mod:`.selection_audit`), the ladder of recipes past the paper's claim
  (:mod:`.ladder`), the test of why the ablation's collapsed runs collapsed (:mod:`.collapse`), chapter 5's
  batch-dependence audit of the committed networks (:mod:`.batch_audit`).

``__all__`` is what the other layers (the course, the command line) may use; a test holds them to it.
"""
from .claims import DECAY_GAIN, NO_VERDICT, ablation_beside, claim_rows, pending_models, params_table
from .configuration import (ABLATION_OUT, ABLATION_SEEDS, AUDIT_OUT, AUDITED_SEEDS, DEFAULT_SEEDS, LADDER_OUT,
                            LADDER_SEEDS, RESULTS, STUDY_OUT, TUNING_OUT, Configuration)
from .lock import FolderLocked, results_lock
from .record import RunRecord
from .report import markdown_table, mean_std_text
from .reproduce import reproduce, weights_path
from .run import evaluate_checkpoint, load_trained, normalization, train_run
from .stats import decode_predictions
from .summary import StudyRow, error_points, load_records, read_summary, test_labels
from .weights import Weights, WeightsError, get_weights, registry

__all__ = [
    # running
    "Configuration", "DEFAULT_SEEDS", "ABLATION_SEEDS", "RESULTS", "STUDY_OUT", "ABLATION_OUT", "TUNING_OUT",
    "AUDIT_OUT", "AUDITED_SEEDS", "LADDER_OUT", "LADDER_SEEDS",
    "FolderLocked", "reproduce", "results_lock", "train_run", "load_trained",
    "evaluate_checkpoint", "normalization", "weights_path", "RunRecord", "Weights", "WeightsError", "get_weights",
    "registry",
    # claims and verdicts
    "DECAY_GAIN", "NO_VERDICT", "ablation_beside", "claim_rows", "pending_models", "params_table",
    # the summary and its readers
    "StudyRow", "error_points", "load_records", "read_summary", "test_labels", "markdown_table", "mean_std_text",
    "decode_predictions",
    # the other studies, used by the command line and the book through their modules
    "AblationRun", "ablation_table", "load_ablation", "retrain_best", "run_ablation", "tune",
    "write_ablation_summary", "measure_gpu", "measure_paths", "write_path_timings", "TRAINING_PATHS", "write_plan", "bench", "findings", "table_rows", "write_bench",
    "compare_devices", "MixedDevices", "mixed_devices", "describe_export", "export_onnx", "load_for_export", "LAYER_OUTPUTS", "AuditedRun", "audit_selection", "load_audit", "audit_table",
    "check_collapses", "load_collapses", "load_batch_audits", "write_batch_audits", "audit_of",
    "run_ladder", "write_ladder", "load_ladder", "LadderRow", "Gain", "finished_predictions", "validation_labels", "ANCHORS", "GOALS",
    "RUNGS",
]


def __getattr__(name: str):
    """The other studies load on first use (Optuna, the benchmarks): importing the layer stays light."""
    lazy = {"AblationRun": "hyperparameters", "ablation_table": "hyperparameters", "load_ablation": "hyperparameters",
            "retrain_best": "hyperparameters", "run_ablation": "hyperparameters", "tune": "hyperparameters",
            "write_ablation_summary": "hyperparameters", "measure_gpu": "plan", "write_plan": "plan",
            "measure_paths": "plan", "write_path_timings": "plan", "TRAINING_PATHS": "plan",
            "bench": "bench", "findings": "bench", "table_rows": "bench", "write_bench": "bench",
            "compare_devices": "device_comparison", "MixedDevices": "device_comparison",
            "mixed_devices": "device_comparison", "describe_export": "export", "export_onnx": "export",
            "load_for_export": "export", "LAYER_OUTPUTS": "export",
            "AuditedRun": "selection_audit", "audit_selection": "selection_audit", "load_audit": "selection_audit",
            "audit_table": "selection_audit", "run_ladder": "ladder", "write_ladder": "ladder",
            "load_batch_audits": "batch_audit", "audit_of": "batch_audit", "write_batch_audits": "batch_audit", "check_collapses": "collapse", "load_collapses": "collapse", "load_ladder": "ladder", "finished_predictions": "ladder", "validation_labels": "ladder",
            "ANCHORS": "ladder", "GOALS": "ladder", "RUNGS": "ladder", "LadderRow": "ladder", "Gain": "ladder"}
    if name in lazy:
        import importlib

        return getattr(importlib.import_module(f".{lazy[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
