"""The full study: every model of the registry under its source's recipe, several seeds, one test each.

``python -m mnistlib reproduce --out results/full`` trains, for each dataset asked for, every
*configuration* (a model with its source's ``full`` recipe, plus the course's alternative recipes such as
Shao's ``improved``) with seeds 0..N-1. Each run selects its epoch on the validation split and touches the
test set once; its result JSON lands in ``<out>/runs/``. The study is resumable: a finished run (its JSON
holds a test accuracy) is read back, an interrupted one resumes from its checkpoint.

Then :func:`summarise_study` writes ``<out>/summary.csv`` and ``<out>/summary.md``: per configuration the
reported and measured accuracy (mean ± std, min/max, 95% bootstrap interval over the test images), the
reported and counted parameters, a verdict on each, epochs to best, seconds per epoch, inference speed,
provenance, the command that reruns seed 0, and a paired comparison with the Shao CNN under the paper's
recipe (:mod:`mnistlib.study.stats`: the bootstrap interval of the accuracy difference and McNemar's test).
"""
from __future__ import annotations

import contextlib
from pathlib import Path

from ..data.locate import load_arrays
from ..training import checkpoint as ckpt
from ..training.atomic_files import write_text
from ..training.device import resolve_device
from ..training.evaluate import inference_throughput
from .configuration import DEFAULT_SEEDS, STUDY_OUT, run_order, study
from .lock import results_lock
from .provenance import environment
from .record import RunRecord
from .run import load_trained, run_name, train_run
from .summary import is_study_run, read_runs, refusal, test_labels, write_study
from .weights import write_index


def reproduce(out: str | Path = STUDY_OUT, *, models: list[str] | None = None, seeds: int = DEFAULT_SEEDS,
              datasets: list[str] | None = None, profile: str = "full", device=None, data_root=None,
              seed_limits: dict[str, int] | None = None, cuda_graph: bool = False, compile: bool = False,
              channels_last: bool = False, runs: str | Path | None = None, compare_with: str | Path | None = None,
              quiet: bool = False, log=print, train: bool = True, wait: bool = False) -> list[RunRecord]:
    """Run (or read back) the study's runs, then summarise every finished run of ``profile`` in ``out``
    (so that a study run in parts, a few models per call, ends with one summary); returns this call's records.

    A run whose result file exists is read back when it was made with the config the study asks for now,
    and trained again otherwise (a recipe that changed since). ``cuda_graph``: replay each training step
    from a CUDA graph (fp32, deterministic cuDNN, fused Adam: the eager computation up to rounding,
    without its launch overhead; see :mod:`mnistlib.training.cuda_graphs`). ``compile``: train through ``torch.compile``
    (the CPU's fast path; the same computation up to rounding); ``channels_last``: hold the networks in that layout
    (the large convolutional models' faster one on a CPU). ``train=False``: only rewrite the summary
    from the runs finished so far (what a study running elsewhere has written). ``runs``: the folder of the run files
    (default ``<out>/runs``); the book shares one with its other chapters so that no run is trained twice.
    ``compare_with``: another study's folder (the CPU study's, for the GPU's runs in ``results/gpu``); the summary
    then says, per configuration in both, whether the device changes the verdict (:mod:`.devices`).
    Training holds ``out``'s lock (:mod:`.lock`): a second runner on the same folder stops at once, naming
    this one, or with ``wait`` waits for it.
    """
    out = Path(out)
    study(models)  # an unknown model fails here, before the lock is asked for
    with results_lock(out, wait=wait) if train else contextlib.nullcontext():
        runs_dir = Path(runs) if runs is not None else out / "runs"
        todo = run_order(study(models), seeds, datasets or ["mnist"], seed_limits) if train else []
        if todo:  # the software that trains this call's runs
            write_text(environment(resolve_device(device)), out / "environment.txt")
        records = []
        for i, (dataset, config, seed) in enumerate(todo, 1):
            name = run_name(config.model, profile, seed, dataset, config.recipe)
            counted = (lambda line, i=i: log(f"[{i}/{len(todo)}] {line}")) if log else None
            record = train_run(config.model, profile, out=runs_dir, reuse=True, dataset=dataset, data_root=data_root,
                               recipe=config.recipe, seed=seed, device=device, quiet=quiet, log=counted,
                               measure_throughput=True, cuda_graph=cuda_graph or None, compile=compile or None,
                               channels_last=channels_last or None)
            records.append(_with_throughput(record, runs_dir / f"{name}.json", device))
        refused: list[str] = []  # records that cannot be read: named at the end, the rest still summarised
        finished = [r for r in read_runs(runs_dir, refused) if is_study_run(r, profile)]
        if not finished:
            if refused:
                raise ValueError(refusal(refused, 0))
            return records
        for record in finished:
            export_weights(record, runs_dir)
        if runs is None:  # the study's own folder: its weights' index (the book's runs keep none)
            write_index(out)
        labels = {d: load_arrays(d, data_root)["test_labels"] if d == "mnist" and data_root else test_labels(d)
                  for d in {r.dataset for r in finished}}
        write_study(finished, out, profile, labels, compare_with)
        if refused:
            raise ValueError(refusal(refused, len(finished)))
        return records


WEIGHTS_LIMIT = 2 * 1024 * 1024  # bytes: weights small enough to commit beside the records


def weights_path(runs_dir: Path, record: RunRecord) -> Path:
    """Where the weights-only state dict of a run of the study lives (``<run>.weights.pt``)."""
    return runs_dir / f"{Path(record.checkpoint).stem}.weights.pt"


def export_weights(record: RunRecord, runs_dir: Path) -> Path | None:
    """Seed 0 of each configuration keeps its best weights (a state dict of tensors, under 2 MB) beside its
    record, for the book's chapters to load instead of retraining; larger models and other seeds do not."""
    path, checkpoint = weights_path(runs_dir, record), runs_dir / Path(record.checkpoint).name
    if record.seed != 0 or path.exists() or not checkpoint.exists():
        return None
    state = ckpt.load(checkpoint)["model_state"]
    if sum(t.numel() * t.element_size() for t in state.values()) > WEIGHTS_LIMIT:
        return None
    return ckpt.save_atomic(state, path)


def _with_throughput(record: RunRecord, path: Path, device) -> RunRecord:
    """``record`` with its inference speed, measured from its checkpoint when a run trained elsewhere (another
    chapter of the book) did not measure it; unchanged when the checkpoint is not there."""
    checkpoint = Path(record.checkpoint)
    if record.inference_images_per_second is not None or not checkpoint.is_file():
        return record
    _, model, data, _ = load_trained(checkpoint, device=device)
    record = record.replace(inference_images_per_second=inference_throughput(model, data.test,
                                                                             record.eval_batch_size))
    record.write(path)
    return record
