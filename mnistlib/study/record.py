"""The run record: what one training run was, what it measured, and where it came from.

:func:`mnistlib.study.run.train_run` writes one per run as ``<run>.json``; the study, its reports, the
plan and the book read them back with :meth:`RunRecord.read`. The JSON is the dataclass's fields, so a
committed record stays readable: a field that an older record lacks takes its default here, and a key that
this code does not know (written by a newer version) is kept in ``extra`` and written back unchanged.
"""
from __future__ import annotations

import dataclasses
import json
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..training.atomic_files import write_json


@dataclass
class RunRecord:
    """One run. Accuracies are fractions in [0, 1]; ``history`` holds one dict per epoch (train and
    validation loss and accuracy, learning rate, seconds). ``test_*`` fields are ``None`` for a run that never
    touched the test set (a hyperparameter trial). ``test_predictions``: the predicted digit of each test
    image, as one string (:func:`mnistlib.study.stats.encode_predictions`)."""

    model: str
    profile: str
    seed: int
    config: dict[str, Any]
    data: dict[str, Any]
    params: int
    history: list[dict[str, Any]]
    best_epoch: int
    epochs_run: int
    val_loss: float
    val_accuracy: float
    eval_batch_size: int
    seconds_per_epoch: float
    checkpoint: str
    tag: str | None = None
    recipe: str | None = None
    model_kwargs: dict[str, Any] = field(default_factory=dict)
    model_fingerprint: str | None = None
    structure_fingerprint: str | None = None
    reported_params: int | None = None
    reported_accuracy: float | None = None
    batch_dependent: bool = False
    stopped_early: bool = False
    resumed_from_epoch: int = 0
    train_path: str = "eager"
    test_loss: float | None = None
    test_accuracy: float | None = None
    test_per_class_accuracy: list[float] | None = None
    test_confusion: list[list[int]] | None = None
    test_predictions: str | None = None
    inference_images_per_second: float | None = None
    train_seconds: float = 0.0
    wall_seconds: float = 0.0
    device: str = "cpu"
    device_name: str = ""
    torch: str = ""
    cuda: str | None = None
    python: str = ""
    commit: str = ""
    date: str = ""
    replicas: int = 1
    extra: dict[str, Any] = field(default_factory=dict)

    # ------------------------------------------------------------------------------------------ derived
    @property
    def dataset(self) -> str:
        return self.data["dataset"]

    @property
    def median_epoch_seconds(self) -> float:
        """The median epoch's seconds, from the history: the figure the study reports (older records store
        the mean in ``seconds_per_epoch``, which a compiling first epoch or a paused runner stretches)."""
        times = [h["seconds"] for h in self.history if "seconds" in h]
        return statistics.median(times) if times else self.seconds_per_epoch

    @property
    def tested(self) -> bool:
        """Whether the run was evaluated on the test set (a finished run of a study)."""
        return self.test_accuracy is not None

    @property
    def name(self) -> str:
        """The run's file name without suffix (``shao_cnn-improved-full-seed0``)."""
        return Path(self.checkpoint).stem

    @property
    def best_train_accuracy(self) -> float:
        """The (running, with dropout) training accuracy of the selected epoch."""
        return self.history[self.best_epoch - 1]["train_accuracy"]

    # -------------------------------------------------------------------------------------- JSON round trip
    def to_dict(self) -> dict[str, Any]:
        """The JSON's dict: every field, except optional ones that are unset (an untested run's JSON has no
        ``test_accuracy`` key at all), then ``extra``."""
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                  if f.name != "extra" and not (f.default is None and getattr(self, f.name) is None)}
        return {**values, **self.extra}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "RunRecord":
        known = {f.name for f in dataclasses.fields(cls)} - {"extra"}
        return cls(**{k: v for k, v in values.items() if k in known},
                   extra={k: v for k, v in values.items() if k not in known})

    @classmethod
    def read(cls, path: str | Path) -> "RunRecord":
        path = Path(path)
        try:
            return cls.from_dict(json.loads(path.read_text()))
        except (TypeError, json.JSONDecodeError) as exc:
            raise ValueError(f"{path} is not a run record of mnistlib ({exc})") from exc

    def write(self, path: str | Path) -> Path:
        """Write the record as indented JSON, atomically."""
        return write_json(self.to_dict(), path)

    def replace(self, **changes) -> "RunRecord":
        return dataclasses.replace(self, **changes)
