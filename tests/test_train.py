"""The training loop: a smoke run learns, early stopping restores the best epoch, resume is exact."""
from __future__ import annotations

import dataclasses

import pytest
import torch

from mnistlib.training import checkpoint as ckpt
from mnistlib.training import loop as train_module
from mnistlib.training.config import TrainConfig, resolve_config
from mnistlib.data import DeviceData
from mnistlib.training.evaluate import evaluate, misclassified
from mnistlib.models import get_model
from mnistlib.training.loop import fit


def subset(data: DeviceData, n_train: int, n_val: int = 1000) -> DeviceData:
    t, v = data.train, data.val
    return dataclasses.replace(data, train=type(t)(t.images[:n_train], t.labels[:n_train]),
                               val=type(v)(v.images[:n_val], v.labels[:n_val]))


def test_smoke_run_reaches_a_sane_accuracy(mnist_cpu):
    data = subset(mnist_cpu, 3000)
    config = resolve_config("shao_cnn", "smoke", device="cpu")
    model = get_model("shao_cnn")
    result = fit(model, data, config, quiet=True)
    assert result.best_val_accuracy > 0.75
    test = evaluate(model, mnist_cpu.test)
    assert test.accuracy > 0.75 and len(test.per_class_accuracy) == 10
    assert sum(map(sum, test.confusion)) == 10_000
    wrong = misclassified(test, mnist_cpu.test, limit=5)
    assert len(wrong) == 5 and all(w["true"] != w["predicted"] for w in wrong)
    assert wrong[0]["p_predicted"] >= wrong[-1]["p_predicted"]


def test_early_stopping_restores_the_best_epoch(mnist_cpu, monkeypatch):
    scripted = iter([(0.50, 0.80), (0.30, 0.90), (0.40, 0.91), (0.45, 0.92), (0.10, 0.99)])
    monkeypatch.setattr(train_module, "loss_and_accuracy", lambda *a, **k: next(scripted))
    snapshots = {}
    model = get_model("shao_cnn")
    config = TrainConfig(epochs=5, batch_size=100, patience=2, device="cpu")
    result = fit(model, subset(mnist_cpu, 300), config, quiet=True,
                 on_epoch_end=lambda r: snapshots.__setitem__(r["epoch"], {k: v.clone() for k, v in model.state_dict().items()}))
    assert result.stopped_early and result.epochs_run == 4 and result.best_epoch == 2
    assert result.best_val_loss == 0.30
    assert all(torch.equal(v, snapshots[2][k]) for k, v in model.state_dict().items())
    assert not all(torch.equal(v, snapshots[4][k]) for k, v in model.state_dict().items())


def test_selection_on_validation_accuracy_keeps_the_most_accurate_epoch(mnist_cpu, monkeypatch):
    scripted = iter([(0.50, 0.80), (0.30, 0.90), (0.40, 0.93), (0.45, 0.92), (0.35, 0.93), (0.32, 0.91)])
    monkeypatch.setattr(train_module, "loss_and_accuracy", lambda *a, **k: next(scripted))
    config = TrainConfig(epochs=6, batch_size=100, patience=3, select="val_accuracy", device="cpu")
    result = fit(get_model("shao_cnn"), subset(mnist_cpu, 300), config, quiet=True)
    # epoch 3 reaches 93%; epoch 5 only ties it, so three epochs without a higher accuracy stop the run
    assert result.best_epoch == 3 and result.best_val_accuracy == 0.93 and result.best_val_loss == 0.40
    assert result.stopped_early and result.epochs_run == 6
    with pytest.raises(ValueError, match="select must be one of val_loss, val_accuracy"):
        TrainConfig(select="test_accuracy")


class Interrupt(Exception):
    pass


@pytest.mark.parametrize("ema", [0.0, 0.9], ids=["weights", "weight-average"])
def test_resume_after_interruption_gives_the_same_weights(mnist_cpu, tmp_path, ema):
    data = subset(mnist_cpu, 600, 500)
    config = TrainConfig(epochs=3, batch_size=50, schedule="exponential", gamma=0.9, augment="affine", seed=3,
                         device="cpu", ema=ema)
    torch.manual_seed(123)  # the model's initial weights: the same for both runs
    reference = get_model("shao_cnn")
    initial = {k: v.clone() for k, v in reference.state_dict().items()}
    full = fit(reference, data, config, quiet=True)

    def stop_after_first(record):
        if record["epoch"] == 1:
            raise Interrupt

    interrupted = get_model("shao_cnn")
    interrupted.load_state_dict(initial)
    path = tmp_path / "run.pt"
    with pytest.raises(Interrupt):
        fit(interrupted, data, config, checkpoint=path, quiet=True, on_epoch_end=stop_after_first)
    assert ckpt.load(path)["state"]["epoch"] == 1

    resumed_model = get_model("shao_cnn")  # fresh weights: everything must come from the checkpoint
    resumed = fit(resumed_model, data, config, checkpoint=path, resume=True, quiet=True)
    assert resumed.resumed_from_epoch == 1 and resumed.epochs_run == 3
    for key, value in reference.state_dict().items():
        assert torch.equal(value, resumed_model.state_dict()[key]), key
    assert [h["val_loss"] for h in resumed.history] == [h["val_loss"] for h in full.history]
    assert evaluate(resumed_model, mnist_cpu.test).accuracy == evaluate(reference, mnist_cpu.test).accuracy


def test_resume_with_another_config_is_refused(mnist_cpu, tmp_path):
    data = subset(mnist_cpu, 200, 100)
    path = tmp_path / "run.pt"
    fit(get_model("shao_cnn"), data, TrainConfig(epochs=1, batch_size=100, device="cpu"), checkpoint=path, quiet=True)
    with pytest.raises(ValueError, match="batch_size: 100 then, 50 now"):
        fit(get_model("shao_cnn"), data, TrainConfig(epochs=1, batch_size=50, device="cpu"), checkpoint=path,
            resume=True, quiet=True)


@pytest.mark.parametrize("schedule, expected", [("exponential", [1e-3, 5e-4, 2.5e-4]), ("step", [1e-3, 1e-3, 5e-4]),
                                                ("none", [1e-3, 1e-3, 1e-3])])
def test_schedules_step_per_epoch(mnist_cpu, schedule, expected):
    config = TrainConfig(epochs=3, batch_size=100, schedule=schedule, gamma=0.5, step_size=2, device="cpu")
    result = fit(get_model("shao_cnn"), subset(mnist_cpu, 200, 100), config, quiet=True)
    assert [h["lr"] for h in result.history] == pytest.approx(expected)


def test_checkpoint_write_is_atomic_and_loads_weights_only(tmp_path):
    path = tmp_path / "a.pt"
    ckpt.save_atomic({"x": torch.ones(2), "n": 1}, path)
    ckpt.save_atomic({"x": torch.zeros(2), "n": 2}, path)
    assert ckpt.load(path)["n"] == 2 and list(tmp_path.iterdir()) == [path]
    torch.save({"bad": object()}, tmp_path / "evil.pt")
    with pytest.raises(RuntimeError, match="evil.pt"):
        ckpt.load(tmp_path / "evil.pt")


def test_batch_statistics_are_recomputed_over_the_split_without_touching_the_model():
    from mnistlib.data import Split
    from mnistlib.training.evaluate import with_batch_statistics

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 3, 3), torch.nn.BatchNorm2d(3, momentum=0.01),
                                torch.nn.Dropout(0.5), torch.nn.Flatten(), torch.nn.LazyLinear(10))
    split = Split(torch.randn(40, 1, 28, 28) * 2 + 1, torch.zeros(40, dtype=torch.long))
    model(split.images[:2])  # materialise the lazy layer
    stale_mean = model[1].running_mean.clone()
    fresh = with_batch_statistics(model, split, batch_size=10)
    features = model[0](split.images).detach()
    assert torch.allclose(fresh[1].running_mean, features.mean((0, 2, 3)), atol=1e-5)  # the split's own mean
    assert torch.equal(model[1].running_mean, stale_mean) and not fresh.training  # the original is untouched
    with pytest.raises(ValueError, match="no batch-norm layer"):
        with_batch_statistics(torch.nn.Linear(784, 10), split)


def test_seconds_per_epoch_is_the_median_epoch_not_stretched_by_a_pause():
    from mnistlib.study.record import RunRecord
    from mnistlib.training.loop import FitResult

    history = [{"seconds": s} for s in (45.0, 20.0, 21.0, 620.0, 19.0)]  # compiling first epoch, a paused one
    result = FitResult(history=history, best_epoch=3, best_val_loss=0.1, best_val_accuracy=0.9, epochs_run=5,
                       stopped_early=False, seconds=725.0, device="cpu", eval_batch_size=1000)
    assert result.seconds_per_epoch == 21.0
    old = RunRecord("shao_cnn", "full", 0, {}, {"dataset": "mnist"}, 1, history, 3, 5, 0.1, 0.9, 1000, 145.0, "x")
    assert old.median_epoch_seconds == 21.0  # an older record stored the mean (145 s); the study reads the median


@pytest.mark.parametrize("seed", [0, 1])
def test_train_run_decides_the_device_the_seed_and_the_model_once(mnist_dir, tmp_path, monkeypatch, seed):
    """One device resolution and one model build per run; seed 0's build is also its fingerprint's, so that
    a study of seeds 0..4 builds each configuration five times, not fifteen; the fingerprint is unchanged."""
    from mnistlib.study import run as run_module

    run_module.forget_fingerprints()
    if seed:
        run_module.fingerprints("shao_cnn")  # an earlier seed of the study computed it (one build per process)
    expected = run_module.Fingerprints.of(run_module.initial_model("shao_cnn"))
    builds, resolutions = [], []
    real_get_model, real_resolve = run_module.get_model, run_module.resolve_device
    monkeypatch.setattr(run_module, "get_model", lambda *a, **k: builds.append(a) or real_get_model(*a, **k))
    monkeypatch.setattr(run_module, "resolve_device", lambda *a: resolutions.append(a) or real_resolve(*a))
    record = run_module.train_run("shao_cnn", "smoke", out=tmp_path, seed=seed, data_root=mnist_dir, quiet=True,
                                  log=None, device="cpu", epochs=1, train_subset=256)
    assert len(builds) == 1 and len(resolutions) == 1
    assert (record.model_fingerprint, record.structure_fingerprint) == (expected.exact, expected.structure)
    assert record.params == 354_138
