"""The study's plan: why a model is pending, with the estimate measured on a GPU where one was."""
import json

import pytest

from mnistlib.study import plan
from mnistlib.training.config import resolve_config


def test_a_pending_model_says_why_with_its_measured_cost_and_never_waits_for_a_gpu(tmp_path, monkeypatch):
    cpu_times = tmp_path / "full" / "epoch_times.json"
    cpu_times.parent.mkdir(parents=True)
    cpu_times.write_text(json.dumps({"after": {"resnet": 600.0, "resnet18": 1200.0}, "before": {}}))
    epochs = resolve_config("resnet", "full").epochs
    assert plan.pending_reason("resnet", tmp_path) == (
        f"the CPU study has not reached it yet (about {600 * epochs / 60:.0f} min a seed on this CPU; "
        "results/full/PLAN.md)")
    assert "not measured yet" in plan.pending_reason("efficient_capsnet_decoder", tmp_path)
    minutes = 1200 * resolve_config("resnet18", "full").epochs / 60
    assert minutes > plan.CPU_LIMIT_MINUTES  # resnet18 is optional: one seed only if it fits in 6 CPU hours
    assert plan.pending_reason("resnet18", tmp_path).startswith(
        f"over the CPU study's budget of 360 min a seed (about {minutes:.0f} min a seed on this CPU)")

    measured = {"resnet": 12.0, "resnet18": 3.0}
    monkeypatch.setattr(plan, "epoch_seconds", lambda item, device: measured[item.model])
    path = plan.measure_gpu(tmp_path, models=["resnet", "resnet18"], device="cpu", log=None)
    written = json.loads(path.read_text())
    assert path == tmp_path / "gpu" / "epoch_times.json" and written["seconds"] == measured
    assert written["device_name"] and written["torch"] and written["commit"]
    assert f"{12 * epochs / 60:.0f} on {written['device_name']}" in plan.pending_reason("resnet", tmp_path)
    for model in plan.gpu_models():
        assert "GPU" not in plan.pending_reason(model, tmp_path).split(" on ")[0]


def test_every_model_of_the_comparison_is_planned_on_the_cpu():
    from mnistlib.models import list_models

    planned = {item.model: item for item in plan.cpu_study()}
    assert set(list_models()) <= set(planned)
    assert planned["efficient_capsnet"].seeds == 5 and planned["efficient_capsnet_decoder"].seeds == 3
    assert planned["spinalnet"].seeds >= 3 and planned["resnet"].seeds == 3 and not planned["resnet"].optional
    assert sorted(plan.gpu_models()) == ["efficient_capsnet", "efficient_capsnet_decoder", "resnet", "resnet18",
                                         "spinalnet", "vgg5"]


def test_a_configuration_not_run_yet_is_estimated_from_runs_under_its_stopping_rule(tmp_path):
    from mnistlib.study.record import RunRecord

    paper, improved = plan.Item("shao_cnn", 2), plan.Item("shao_cnn", 1, "improved")
    variant = plan.Item("shao_cnn", 3, tag="lr=0.003", overrides={"lr": 3e-3}, runs_dir="ablation")
    for seed, epochs in ((0, 12), (1, 16)):  # the paper recipe's two runs stopped early
        RunRecord("shao_cnn", "full", seed, {}, {"dataset": "mnist"}, 1, [], epochs - 2, epochs, 0.1, 0.99, 1000,
                  10.0, "x", test_accuracy=0.99).write(tmp_path / "full" / "runs" / f"{paper.run_names()[seed]}.json")
    times = {"after": {"shao_cnn": 10.0, "shao_cnn (improved)": 20.0, "shao_cnn (lr=0.003)": 12.0}, "before": {}}
    rows = {r["configuration"]: r for r in plan.plan_rows([paper, improved, variant], times, tmp_path)}
    assert rows["shao_cnn"]["epochs a run"] == "14.0" and rows["shao_cnn"]["hours left"] == "0.00"
    assert rows["shao_cnn (lr=0.003)"]["epochs a run"] == "14.0 (est.)"  # the same patience: as its kin stopped
    assert rows["shao_cnn (lr=0.003)"]["hours left"] == f"{3 * 12.0 * 14 / 3600:.2f}"
    assert rows["shao_cnn (improved)"]["epochs a run"] == "30.0 (max)"  # runs every epoch: no estimate to borrow


def test_an_ablation_run_counts_where_ablate_writes_it(tmp_path):
    """``ablate --out results/ablation`` writes its records beside ablation.csv, not in a runs/ folder."""
    from mnistlib.study.record import RunRecord

    item = next(i for i in plan.cpu_study() if i.tag == "lr=0.003")
    RunRecord("shao_cnn", "full", 0, {}, {"dataset": "mnist"}, 1, [], 10, 12, 0.1, 0.99, 1000, 10.0, "x",
              test_accuracy=0.99).write(tmp_path / "ablation" / f"{item.run_names()[0]}.json")
    times = {"after": {item.label: 12.0}, "before": {}}
    assert plan.plan_rows([item], times, tmp_path)[0]["done"] == 1


def test_a_finished_runs_epoch_time_replaces_the_measured_one_only_from_a_cpu_run(tmp_path):
    from mnistlib.study.record import RunRecord

    paper, vgg5 = plan.Item("shao_cnn", 2), plan.Item("vgg5", 3, optional=True)
    history = [{"epoch": e, "seconds": s} for e, s in enumerate((90.0, 20.0, 22.0, 21.0), 1)]  # compiling first
    RunRecord("shao_cnn", "full", 0, {}, {"dataset": "mnist"}, 1, history, 3, 4, 0.1, 0.99, 1000, 38.0, "x",
              test_accuracy=0.99, train_seconds=153.0).write(tmp_path / "full" / "runs" / f"{paper.run_names()[0]}.json")
    RunRecord("vgg5", "full", 0, {}, {"dataset": "mnist"}, 1, [{"epoch": 1, "seconds": 2.0}], 1, 25, 0.1, 0.99,
              128, 2.0, "x", device="cuda", test_accuracy=0.99, train_seconds=50.0).write(
        tmp_path / "full" / "runs" / f"{vgg5.run_names()[0]}.json")
    times = {"after": {"shao_cnn": 10.0, "vgg5": 1000.0}, "before": {}}
    rows = {r["configuration"]: r for r in plan.plan_rows([paper, vgg5], times, tmp_path)}
    assert rows["shao_cnn"]["s/epoch"] == "21.5"  # the run's median epoch, not the measured 10.0
    assert rows["vgg5"]["s/epoch"] == "1000.0" and rows["vgg5"]["where"] == "over budget"  # not the GPU's 2 s
    # the CPU's hours: by the run's clock, and its four epochs at the median epoch; never the GPU run's
    assert plan.hours_spent([paper, vgg5], tmp_path) == pytest.approx((153.0 / 3600, 4 * 21.5 / 3600))
