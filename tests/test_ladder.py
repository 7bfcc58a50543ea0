"""The ladder past the paper's claim (issue 33): the weight average, test-time views, stored outputs, the table."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from mnistlib.data import Split, tta_views
from mnistlib.models import get_model
from mnistlib.study.ladder import RUNGS, LadderRow, RungResult, RunOutputs, ladder_rows, load_ladder
from mnistlib.training import TrainConfig, fit, predict, probabilities
from mnistlib.training.loop import weight_average

ROOT = Path(__file__).resolve().parents[1]


def test_the_weight_average_decay_is_checked():
    with pytest.raises(ValueError, match="ema must be in"):
        TrainConfig(ema=1.0)


def test_the_weight_average_follows_its_formula():
    model = torch.nn.Linear(2, 1)
    average = weight_average(model, 0.9)
    start = model.weight.detach().clone()
    with torch.no_grad():
        model.weight.add_(1.0)
    average.update_parameters(model)  # the first update copies the weights
    with torch.no_grad():
        model.weight.add_(1.0)
    average.update_parameters(model)  # then w_ema <- 0.9 w_ema + 0.1 w
    assert torch.allclose(average.module.weight, 0.9 * (start + 1) + 0.1 * (start + 2))
    assert weight_average(model, 0.0) is None


def _steps(model, steps, average, seed=0):
    """A few Adam steps of a batch-norm network on random images, the average updated after each."""
    torch.manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(steps):
        loss = torch.nn.functional.cross_entropy(model(torch.randn(16, 1, 28, 28)), torch.randint(0, 10, (16,)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        average.update_parameters(model)


def test_the_weight_average_equals_pytorchs_averaged_model_without_reading_the_device(monkeypatch):
    from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

    torch.manual_seed(1)
    model = get_model("shao_cnn")
    twin = get_model("shao_cnn")
    twin.load_state_dict(model.state_dict())
    ours = weight_average(model, 0.9)
    theirs = AveragedModel(twin, multi_avg_fn=get_ema_multi_avg_fn(0.9), use_buffers=True)
    _steps(twin, 3, theirs)

    def no_reading(tensor):  # AveragedModel's `if n_averaged == 0` and `if n_averaged > 0`: a sync on a GPU
        raise AssertionError("the update read a tensor's value on the host")

    monkeypatch.setattr(torch.Tensor, "__bool__", no_reading)
    _steps(model, 3, ours)
    monkeypatch.undo()
    for (name, a), b in zip(ours.state_dict().items(), theirs.state_dict().values(), strict=True):
        assert torch.equal(a, b), name  # bit for bit, batch-norm statistics and counts included


def test_a_resumed_weight_average_averages_its_next_update_instead_of_copying():
    model = torch.nn.Linear(2, 1)
    first = weight_average(model, 0.9)
    first.update_parameters(model)  # the copy
    saved = {k: v.clone() for k, v in first.state_dict().items()}
    resumed = weight_average(torch.nn.Linear(2, 1), 0.9)
    resumed.load_state_dict(saved)  # as fit() does when a run resumes
    assert resumed.updates == 1
    with torch.no_grad():
        model.weight.add_(1.0)
    resumed.update_parameters(model)
    assert torch.allclose(resumed.module.weight, 0.9 * saved["module.weight"] + 0.1 * model.weight)
    assert resumed.updates == 2 and int(resumed.n_averaged) == 2


def test_a_run_with_a_weight_average_keeps_the_average(mnist_cpu):
    from tests.test_train import subset

    data = subset(mnist_cpu, 300, 200)
    torch.manual_seed(0)
    model = get_model("shao_cnn")
    before = {k: v.clone() for k, v in model.state_dict().items()}
    fit(model, data, TrainConfig(epochs=1, batch_size=50, ema=0.99, device="cpu"), quiet=True)
    # six Adam steps of about lr each; the average copies the first and then moves 1% a step: the kept weights
    # moved about one step's length, the trained ones several
    moved = (model.state_dict()["features.0.0.weight"] - before["features.0.0.weight"]).abs().mean()
    plain = get_model("shao_cnn")
    plain.load_state_dict(before)
    fit(plain, data, TrainConfig(epochs=1, batch_size=50, device="cpu"), quiet=True)
    assert moved < 0.5 * (plain.state_dict()["features.0.0.weight"] - before["features.0.0.weight"]).abs().mean()


def test_tta_views_shift_by_whole_pixels():
    x = torch.zeros(1, 1, 28, 28)
    x[0, 0, 10, 10] = 1.0
    views = tta_views(x, "shifts")
    assert views[0] is x and len(views) == 5
    assert torch.allclose(views[1][0, 0, 10, 11], torch.tensor(1.0), atol=1e-6)  # one pixel to the right
    assert torch.allclose(views[3][0, 0, 11, 10], torch.tensor(1.0), atol=1e-6)  # one pixel down
    assert float(views[1].sum()) == pytest.approx(1.0, abs=1e-5)
    with pytest.raises(ValueError, match="unknown test-time augmentation 'flip'"):
        tta_views(x, "flip")


def test_probabilities_without_views_are_the_softmax_of_the_outputs(mnist_cpu):
    model = get_model("shao_cnn").eval()
    split = Split(mnist_cpu.test.images[:64], mnist_cpu.test.labels[:64])
    assert torch.allclose(probabilities(model, split, 32), torch.softmax(predict(model, split, 32), 1), atol=1e-6)
    averaged = probabilities(model, split, 32, tta="shifts")
    assert averaged.shape == (64, 10) and torch.allclose(averaged.sum(1), torch.ones(64), atol=1e-5)


def test_run_outputs_round_trip(tmp_path):
    arrays = {"val/none": np.full((3, 10), 0.1, np.float16), "test/shifts": np.eye(10, dtype=np.float16)[:4]}
    path = RunOutputs(arrays, {"none": 1.5, "shifts": 2.0}).write(tmp_path / "outputs" / "run.npz")
    back = RunOutputs.read(path)
    assert back.seconds == {"none": 1.5, "shifts": 2.0}
    assert np.array_equal(back.of("test", "shifts"), np.eye(10, dtype=np.float32)[:4])


def test_the_ladder_table_compares_each_rung_with_the_one_below():
    rng = np.random.default_rng(0)
    below = rng.random((5, 2000)) < 0.99
    better = below.copy()
    better[:, :10] = True  # ten more images right in every seed
    ensemble = better[:1].copy()
    results = [RungResult(RUNGS[1], below, [99.0] * 5, 16.0), RungResult(RUNGS[2], better, [99.1] * 5, 33.0),
               RungResult(RUNGS[4], ensemble, [99.2], 165.0, "5 seeds")]
    rows = ladder_rows(results)
    assert rows[0]["Δ vs rung below (points, 95% CI)"] == "-"
    gained = 100 * (better.mean() - below.mean())
    assert rows[1]["Δ vs rung below (points, 95% CI)"].startswith(f"{gained:+.2f}")
    assert rows[2]["test %"].endswith("(one ensemble)") and rows[2]["seeds"] == 5
    low, high = (float(v) for v in rows[2]["95% interval %"].split("–"))
    assert low < 100 * ensemble.mean() < high  # one network: a bootstrap interval over the test images

    read = [LadderRow.from_text({k: str(v) for k, v in row.items()}) for row in rows]  # as the CSV gives them back
    assert [r.rung.key for r in read] == ["improved", "long_ema", "ensemble"] and read[0].gain is None
    assert read[1].gain.difference == pytest.approx(gained, abs=0.005)
    assert read[2].test == pytest.approx(100 * ensemble.mean(), abs=0.005) and read[2].minutes == 165.0


def test_the_committed_ladder_reads_as_numbers_and_refuses_an_unknown_rung():
    rows = load_ladder(ROOT / "results" / "ladder")
    assert [r.rung for r in rows] == list(RUNGS)
    for row in rows:
        assert row.text["test %"].startswith(f"{row.test:.2f}") and row.interval[0] < row.test < row.interval[1]
        assert row.text["validation %"].startswith(f"{row.validation:.2f}")
    assert all(r.gain.low <= r.gain.difference <= r.gain.high for r in rows[1:])
    with pytest.raises(ValueError, match="unknown rung 'rung 9'"):
        LadderRow.from_text({**rows[0].text, "rung": "rung 9"})


def test_ladder_predictions_keep_each_run_s_classes_and_the_prefix_averages(tmp_path):
    from mnistlib.study.ladder import LadderPredictions

    a = {"test/none": np.array([[0.6, 0.4], [0.2, 0.8], [0.45, 0.55]], np.float16)}
    b = {"test/none": np.array([[0.1, 0.9], [0.3, 0.7], [0.7, 0.3]], np.float16)}
    made = LadderPredictions.from_outputs({"a": RunOutputs(a, {"none": 1.0}), "b": RunOutputs(b, {"none": 2.0})})
    back = LadderPredictions.read(made.write(tmp_path / "predictions.json"))
    assert back == made and back.seconds == {"a": {"none": 1.0}, "b": {"none": 2.0}}
    assert back.of("a", "test", "none").tolist() == [0, 1, 1] and back.of("b", "test", "none").tolist() == [1, 1, 0]
    assert back.ensemble("test", "none", 1).tolist() == [0, 1, 1]
    assert back.ensemble("test", "none", 2).tolist() == [1, 1, 0]  # averages (0.35, 0.65), (0.25, 0.75), (0.575, ...)
    assert back.ensemble_accuracy("test", "none", np.array([1, 1, 0])) == pytest.approx([100 / 3, 100.0])


def test_the_committed_ladder_predictions_are_the_runs_own():
    from mnistlib.study import decode_predictions
    from mnistlib.study.ladder import finished_predictions

    runs, predictions = finished_predictions(ROOT / "results" / "ladder")
    if not runs:
        pytest.skip("no rung-3 run committed yet")
    for run in runs:  # without views, a run's stored classes are those its record was tested with
        assert np.array_equal(predictions.of(run.name, "test", "none"), decode_predictions(run.test_predictions))
    assert np.array_equal(predictions.ensemble("test", "none", 1), predictions.of(runs[0].name, "test", "none"))


def test_a_fresh_clone_s_ladder_reads_its_runs_back_from_the_committed_predictions(tmp_path):
    """A new machine has the ladder's records and predictions.json but neither checkpoints nor outputs (both
    ignored): storing a run's outputs then computes nothing, and a run that has neither says how to mend it."""
    import dataclasses
    import shutil

    from mnistlib.study.ladder import _store_outputs, finished_predictions

    runs, predictions = finished_predictions(ROOT / "results" / "ladder")
    if not runs:
        pytest.skip("no rung-3 run committed yet")
    out = tmp_path / "ladder"
    shutil.copytree(ROOT / "results" / "ladder", out, ignore=shutil.ignore_patterns("*.pt", "outputs"))
    _store_outputs(out, runs[0])  # committed: nothing to compute, no checkpoint needed
    assert not (out / "outputs").exists()
    stranger = dataclasses.replace(runs[0], checkpoint=str(out / "runs" / "shao_cnn-long-ema-full-seed9.pt"))
    with pytest.raises(FileNotFoundError, match="delete .*seed9.json"):
        _store_outputs(out, stranger)
