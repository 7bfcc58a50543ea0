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


def test_an_unmeasured_configuration_with_seeds_left_is_not_counted_as_done(tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "epoch_times.json").write_text(json.dumps({"after": {}, "before": {}}))
    row = plan.plan_rows([plan.Item("resnet", 3)], {"after": {}, "before": {}}, tmp_path)[0]
    assert (row["s/epoch"], row["hours left"]) == ("-", "?")  # unknown, never "0.00"
    text = plan.write_plan(tmp_path, log=None).read_text()
    assert "{" not in text  # every figure formatted
    headline = text.split("**")[1]
    assert headline.split(" of ")[0] == "0" and "CPU runs done; about 0.0 CPU hours left, besides shao_cnn, " in headline
    assert headline.endswith(", spinalnet, resnet (not measured yet: `plan --measure-paths`); then the collapse checks "
                             "and the Optuna study, not estimated until an ablation run has finished.")


def test_path_timings_merge_and_give_each_configuration_its_own_paths_seconds(tmp_path, monkeypatch):
    monkeypatch.setattr(plan, "timed_epoch", lambda item, steps, compile, channels_last:
                        (100.0 * (2 if compile else 3) / (2 if channels_last else 1), 10.0))
    import importlib

    monkeypatch.setattr(importlib.import_module("mnistlib.study.bench"), "epoch_flops", lambda model, n, device: 5e12)
    first = plan.measure_paths(["resnet"], log=None)
    assert [(t.path, t.train_seconds, t.epoch_seconds) for t in first] == [
        ("eager", 300.0, 310.0), ("eager, channels-last", 150.0, 160.0), ("compiled", 200.0, 210.0),
        ("compiled, channels-last", 100.0, 110.0)]
    assert first[3].gflops == pytest.approx(5e12 / 100.0 / 1e9)
    path = plan.write_path_timings(first, tmp_path)
    again = [plan.PathTiming("resnet", "compiled", 190.0, 10.0, 26.3)]
    times = json.loads(plan.write_path_timings(again, tmp_path).read_text())
    assert path == tmp_path / "full" / "epoch_times.json" and len(times["paths"]["timings"]) == 4
    assert plan.measured_seconds(plan.Item("resnet", 3), times) == 200.0  # re-measured: replaced, not added
    assert plan.measured_seconds(plan.Item("resnet", 3, channels_last=True), times) == 110.0
    assert plan.measured_seconds(plan.Item("spinalnet", 3), times) is None
    section = "\n".join(plan.paths_section(times, [plan.Item("resnet", 3, channels_last=True)]))
    assert "| resnet | compiled, channels-last (the runner's) | 110 | 10 | 50 |" in section
    # the study's path for resnet: compiled, channels-last
    assert f"about {110.0 * 25 / 60:.0f} min a seed" in plan.pending_reason("resnet", tmp_path)


def test_the_runner_trains_in_channels_last_exactly_the_configurations_the_plan_times_so():
    import re
    from mnistlib.data import REPOSITORY_ROOT

    script = (REPOSITORY_ROOT / "tools" / "cpu_study.sh").read_text()
    runner = {m for line in script.splitlines() if "--channels-last" in line.split("#")[0]
              for m in re.search(r"--models ([\w ]+?) --", line).group(1).split()}
    assert runner == {item.model for item in plan.cpu_study() if item.channels_last and not item.optional}


def test_the_other_work_counts_the_unchecked_collapses_and_the_trials_left(tmp_path):
    from mnistlib.data import REPOSITORY_ROOT
    from mnistlib.study.collapse import CONTINUED_EPOCHS
    from mnistlib.study.hyperparameters import AblationRun, write_ablation_csv

    def run(seed, epochs_run, seconds):
        return AblationRun("lr", "0.01", seed, 0.9, 0.9, 1, epochs_run, seconds, "cpu", "2", "x", "d", "full")

    write_ablation_csv([run(0, 3, 20.0), run(1, 14, 20.0), run(2, 2, 30.0)], tmp_path / "ablation" / "ablation.csv")
    item = plan.Item("shao_cnn", 5, tag="lr=0.01", overrides={"lr": 1e-2}, runs_dir="ablation")
    rows = [plan.PlanRow(item, 3, 24.0, 10.0, "", True)]  # 4 minutes a run
    checks, trials, tuned = (w.display() for w in plan.other_work(rows, tmp_path))
    assert (checks["count"], checks["done"]) == (2, 0)  # the runs that stopped by epoch 5
    assert checks["hours left"] == f"{(20.0 + 30.0) * CONTINUED_EPOCHS / 3600:.2f}"
    assert (trials["count"], trials["done"], trials["hours left"]) == (plan.TUNING_TRIALS, 0, f"{4 * 50 / 60:.2f}")
    assert (tuned["count"], tuned["hours left"]) == (plan.TUNING_SEEDS, f"{4 * 5 / 60:.2f}")
    script = (REPOSITORY_ROOT / "tools" / "cpu_study.sh").read_text()
    assert f"tune --profile full --until {plan.TUNING_TRIALS} --final-seeds {plan.TUNING_SEEDS} " in script


def test_a_configuration_that_changed_layout_is_counted_at_its_new_layouts_epoch(tmp_path):
    from mnistlib.study.record import RunRecord

    decoder = plan.Item("efficient_capsnet_decoder", 3, channels_last=True)
    history = [{"epoch": e, "seconds": 156.0} for e in range(1, 4)]
    # trained before its layout changed: its config has no channels_last
    RunRecord("efficient_capsnet_decoder", "full", 0, {"compile": True}, {"dataset": "mnist"}, 1, history, 3, 3, 0.1,
              0.99, 1000, 156.0, "x", test_accuracy=0.99).write(
        tmp_path / "full" / "runs" / f"{decoder.run_names()[0]}.json")
    timed = {"after": {}, "before": {}, "paths": {"timings": [
        {"model": "efficient_capsnet_decoder", "path": "compiled, channels-last", "train_seconds": 133.0,
         "val_seconds": 4.0, "gflops": 75.0}]}}
    assert plan.plan_rows([decoder], timed, tmp_path)[0]["s/epoch"] == "137.0"  # the remaining seeds' layout
    assert plan.plan_rows([decoder], {"after": {}, "before": {}}, tmp_path)[0]["s/epoch"] == "156.0"  # all it has
