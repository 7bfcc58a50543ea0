"""One training run end to end: config, data, model, ``fit``, the single test evaluation, the result file.

The result JSON is a :class:`~mnistlib.study.record.RunRecord`: model, profile, full config, seed, parameter
count, per-epoch history, best epoch, validation and test accuracy and loss, wall time, seconds per epoch,
and provenance (device name, torch version, git commit). The checkpoint beside it holds the best weights
and everything ``resume`` needs.
"""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from ..training import checkpoint as ckpt
from ..training.config import TrainConfig, config_differences, resolve_config
from ..data import get_spec, load_data
from ..training.distributed import rank_and_world
from ..training.evaluate import evaluate, inference_throughput
from ..models import count_params, get_model, get_model_info
from ..training.device import resolve_device
from .provenance import provenance
from .record import RunRecord
from .stats import encode_predictions
from ..training.loop import eval_batch_size, fit


def run_name(model: str, profile: str, seed: int, dataset: str = "mnist", tag: str | None = None) -> str:
    prefix = "" if dataset == "mnist" else f"{dataset}-"
    suffix = f"-{tag}" if tag else ""
    return f"{prefix}{model}{suffix}-{profile}-seed{seed}"


def normalization(info, dataset: str) -> tuple[float, float] | None:
    """The ``(mean, std)`` a model's inputs are normalised with on ``dataset``: its source's constants on
    MNIST; on another dataset, where the source used MNIST's own mean and std, that dataset's (``None``)."""
    mnist = get_spec("mnist")
    if get_spec(dataset).name != "mnist" and info.normalize == (mnist.mean, mnist.std):
        return None
    return info.normalize


def initial_model(model_name: str, model_kwargs: dict | None = None, seed: int = 0) -> torch.nn.Module:
    """``model_name`` built with its initial weights under ``seed`` (the weights depend on the seed alone; the
    global random state outside this call is left as it was)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return get_model(model_name, **(model_kwargs or {}))


@dataclass(frozen=True)
class Fingerprints:
    """What builds a model, in 16 hex digits each, both read off its build under seed 0.

    ``exact``: a hash of the module's structure (its ``repr``: layers, their shapes and settings such as batch
    norm's eps and momentum) and of its initial weights (the initialisation). It holds only between runs of
    one torch version: another version may print a layer differently (2.14's ``BatchNorm2d`` repr gained
    ``bias=True``) or draw the same initialiser's sample differently (``trunc_normal_``).

    ``structure``: independent of the torch version: every submodule's path, class and hyperparameters
    (:func:`_settings`), and every parameter's and buffer's name, shape and dtype, without the initial values.
    Across versions it decides (:func:`same_model`)."""

    exact: str
    structure: str

    @classmethod
    def of(cls, model: torch.nn.Module) -> "Fingerprints":
        """The fingerprints of ``model`` as built (before any training)."""
        digest = hashlib.sha256(repr(model).encode())
        for name, tensor in model.state_dict().items():
            digest.update(name.encode())
            digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
        lines = [f"{path}: {type(m).__qualname__} {_settings(m)!r}" for path, m in model.named_modules()]
        lines += [f"{name} {tuple(t.shape)} {t.dtype}" for name, t in model.state_dict().items()]
        return cls(digest.hexdigest()[:16], hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16])


_FINGERPRINTS: dict[str, Fingerprints] = {}  # one seed-0 build per model definition and process


def fingerprints(model_name: str, model_kwargs: dict | None = None, *,
                 seed0_model: torch.nn.Module | None = None) -> Fingerprints:
    """The :class:`Fingerprints` of ``model_name`` built with ``model_kwargs`` under seed 0, computed once per
    process. ``seed0_model``: that very build, when the caller has one (a seed-0 run's model before training),
    so that it is not built again."""
    key = f"{model_name} {sorted((model_kwargs or {}).items())!r}"
    if key not in _FINGERPRINTS:
        model = seed0_model if seed0_model is not None else initial_model(model_name, model_kwargs, 0)
        _FINGERPRINTS[key] = Fingerprints.of(model)
    return _FINGERPRINTS[key]


def forget_fingerprints() -> None:
    """Empty the per-process cache of :func:`fingerprints` (after changing a model's definition in place,
    as a test does)."""
    _FINGERPRINTS.clear()


def model_fingerprint(model_name: str, model_kwargs: dict | None = None) -> str:
    """:attr:`Fingerprints.exact`: the structure and the seed-0 initial weights (one torch version)."""
    return fingerprints(model_name, model_kwargs).exact


def _settings(module: torch.nn.Module) -> dict:
    """A layer's hyperparameters: a torch layer's ``__constants__`` (channels, kernel, stride, eps, momentum,
    p...), a course module's own public settings of plain types."""
    cls = type(module)
    if cls.__module__.startswith("torch."):
        names = getattr(cls, "__constants__", [])
    else:
        names = [k for k, v in vars(module).items() if not k.startswith("_") and k != "training"
                 and isinstance(v, (bool, int, float, str, tuple, type(None)))]
    return {name: getattr(module, name, None) for name in sorted(names)}


def structure_fingerprint(model_name: str, model_kwargs: dict | None = None) -> str:
    """:attr:`Fingerprints.structure`: the structure alone, independent of the torch version."""
    return fingerprints(model_name, model_kwargs).structure


def same_model(record: RunRecord, model_kwargs: dict | None = None) -> bool:
    """Whether ``record`` was made by today's definition of its model: its exact fingerprint when it ran under
    this torch version, else its structure's (a record of another version without one does not qualify)."""
    if record.torch == torch.__version__:
        return record.model_fingerprint == model_fingerprint(record.model, model_kwargs or record.model_kwargs)
    return (record.structure_fingerprint is not None and
            record.structure_fingerprint == structure_fingerprint(record.model, model_kwargs or record.model_kwargs))


def finished_run(json_path: Path, config: TrainConfig, model_kwargs: dict | None = None) -> tuple[RunRecord | None, str | None]:
    """Whether the run recorded at ``json_path`` can be read back instead of trained: ``(record, None)``
    when it finished (it holds a test accuracy) with ``config`` (execution-only fields aside) and the model
    definition of today; ``(None, why)`` when a record exists but is stale; ``(None, None)`` when none does."""
    if not json_path.exists():
        return None, None
    record = RunRecord.read(json_path)
    if not record.tested:
        return None, None
    changed = config_differences(record.config, config)
    if changed:
        return None, f"its recipe changed since it ran ({'; '.join(changed)})"
    if not same_model(record, model_kwargs):
        return None, "its model definition changed since it ran"
    return record, None


def train_run(model_name: str, profile: str = "quick", *, out: str | Path = "runs", resume: bool = False,
              overwrite: bool = False, reuse: bool = False, dataset: str = "mnist", data_root=None,
              quiet: bool = False, log=print, model_kwargs: dict | None = None, tag: str | None = None,
              recipe: str | None = None, evaluate_test: bool = True, on_epoch_end=None,
              measure_throughput: bool = False, watch_test: bool = False, **overrides) -> RunRecord:
    """Train ``model_name`` under ``profile`` (``overrides`` replace config fields), evaluate it once on the
    test set and write ``<out>/<run>.json`` and ``<out>/<run>.pt``. Returns the :class:`RunRecord`.

    ``reuse``: a study's mode. A finished run of the same experiment (:func:`finished_run`) is read back
    instead of trained; a stale one is trained again from scratch; an interrupted one resumes.

    ``model_kwargs`` go to the model's builder (an ablation, say); ``tag`` names such a variant in the
    file names so that it does not overwrite the plain run. ``evaluate_test=False`` leaves the test set
    alone (hyperparameter search selects on validation only). ``on_epoch_end`` is passed to :func:`fit`.
    ``measure_throughput``: also time inference over the test set (``inference_images_per_second``).
    ``watch_test``: also record the test accuracy after every epoch (``watch_accuracy`` in the history), for
    the test-selection audit only: selection and stopping still use the validation split alone.
    The record keeps the test predictions (``test_predictions``, one digit per image) for paired tests.
    """
    info = get_model_info(model_name)
    config: TrainConfig = resolve_config(model_name, profile, recipe, **overrides)
    rank, world = rank_and_world()
    log = log if rank == 0 else None  # under torchrun, replica 0 speaks and writes
    tag = tag or recipe
    device = resolve_device(config.device)  # decided here, once: the data goes there and fit follows the data
    name = run_name(model_name, profile, config.seed, dataset, tag)
    model_kwargs = dict(model_kwargs or {})
    out = Path(out)
    ckpt_path, json_path = out / f"{name}.pt", out / f"{name}.json"
    model = initial_model(model_name, model_kwargs, config.seed)  # built once; seed 0's build is also the
    prints = fingerprints(model_name, model_kwargs, seed0_model=model if config.seed == 0 else None)  # fingerprint's
    fingerprint = prints.exact
    if reuse:
        record, stale = finished_run(json_path, config, model_kwargs)
        if record is not None:
            if log:
                log(f"{name}: finished earlier, test {100 * record.test_accuracy:.2f}%")
            return record
        if stale and log:
            log(f"{name}: {stale}: training it again")
        resume = _resumable(ckpt_path, config, fingerprint)
        overwrite = not resume
    if ckpt_path.exists() and not (resume or overwrite):
        raise FileExistsError(f"{ckpt_path} exists: pass --resume to continue that run or --overwrite to start again")
    if overwrite and not resume:
        ckpt_path.unlink(missing_ok=True)

    t0 = time.perf_counter()
    data = load_data(dataset, device=device, root=data_root, normalize=normalization(info, dataset),
                     train_subset=config.train_subset,
                     val_subset=config.val_subset)
    meta = {"model": model_name, "model_kwargs": model_kwargs, "profile": profile, "data": data.describe(),
            "model_fingerprint": fingerprint}
    if log:
        log(f"{name}: {count_params(model):,} parameters, profile {profile}, {len(data.train):,} training "
            f"images on {device}")
    result = fit(model, data, config, checkpoint=ckpt_path, resume=resume, quiet=quiet, meta=meta, log=log,
                 on_epoch_end=on_epoch_end, watch=data.test if watch_test else None)
    test = evaluate(model, data.test, result.eval_batch_size) if evaluate_test else None
    speed = inference_throughput(model, data.test, result.eval_batch_size) if measure_throughput else None
    tested = {} if test is None else dict(
        test_loss=test.loss, test_accuracy=test.accuracy, test_per_class_accuracy=test.per_class_accuracy,
        test_confusion=test.confusion, test_predictions=encode_predictions(test.predictions))
    record = RunRecord(
        model=model_name, tag=tag, recipe=recipe, model_kwargs=model_kwargs, profile=profile, seed=config.seed,
        config=config.to_dict(), params=count_params(model), model_fingerprint=fingerprint,
        structure_fingerprint=prints.structure,
        reported_params=info.reported_params, reported_accuracy=info.reported_accuracy,
        batch_dependent=info.batch_dependent, data=meta["data"], history=result.history,
        best_epoch=result.best_epoch, epochs_run=result.epochs_run, stopped_early=result.stopped_early,
        resumed_from_epoch=result.resumed_from_epoch, train_path=result.train_path,
        val_loss=result.best_val_loss, val_accuracy=result.best_val_accuracy, **tested,
        inference_images_per_second=speed, eval_batch_size=result.eval_batch_size,
        train_seconds=sum(h["seconds"] for h in result.history), seconds_per_epoch=result.seconds_per_epoch,
        wall_seconds=time.perf_counter() - t0, checkpoint=str(ckpt_path), replicas=world, **provenance(device))
    if rank == 0:
        record.write(json_path)
    if log:
        tested = f", test {100 * test.accuracy:.2f}% (loss {test.loss:.4f})" if test is not None else ""
        log(f"{model_name}: best epoch {result.best_epoch}, val {100 * result.best_val_accuracy:.2f}%{tested}; "
            f"wrote {json_path}")
    return record


def _resumable(path: Path, config: TrainConfig, fingerprint: str) -> bool:
    """Whether an interrupted run's checkpoint at ``path`` continues the run asked for (same config and
    model definition); a missing or damaged checkpoint does not."""
    try:
        saved = ckpt.load(path)
    except (FileNotFoundError, RuntimeError):
        return False
    return (saved.get("meta", {}).get("model_fingerprint") == fingerprint
            and not config_differences(saved.get("config", {}), config))


def load_trained(path: str | Path, *, dataset: str | None = None, data_root=None, device=None):
    """Rebuild the model saved in a checkpoint written by :func:`train_run`, with its data on ``device``.

    Returns ``(meta, model, data, config)``; the data uses the normalisation and split of the run.
    """
    saved = ckpt.load(path)
    meta = saved.get("meta", {})
    if "model" not in meta:
        raise ValueError(f"{path} holds no model name: it was not written by mnistlib's train command")
    info = get_model_info(meta["model"])
    config = TrainConfig.from_dict(saved["config"])
    dev = resolve_device(device)
    data_meta = meta.get("data", {})
    name = dataset or data_meta.get("dataset", "mnist")
    data = load_data(name, device=dev, root=data_root, normalize=normalization(info, name),
                     split_seed=data_meta.get("split_seed", 0))
    model = get_model(meta["model"], **meta.get("model_kwargs", {}))
    model.load_state_dict(saved["model_state"])
    return meta, model.to(dev), data, config


def evaluate_checkpoint(path: str | Path, *, batch_size: int | None = None, **load_kwargs):
    """Evaluate a checkpoint on the test set: ``(meta, EvalResult)``."""
    meta, model, data, config = load_trained(path, **load_kwargs)
    return meta, evaluate(model, data.test, batch_size or eval_batch_size(model, config))
