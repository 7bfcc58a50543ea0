"""Chapter 4's computations (mnistlib.course.factors): a batch's gradient noise against its formula, how straight
an activation is, and the steps each batch size of the committed ablation took."""
from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from mnistlib.course import factors
from mnistlib.models import get_model

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def pool(mnist_cpu):
    return mnist_cpu.train.head(96)


def test_a_batch_s_gradient_is_the_mean_of_its_images_own_gradients(pool):
    torch.manual_seed(0)
    model = get_model("shao_cnn").eval()
    per_image = torch.cat(list(factors.per_image_gradients(model, pool.images[:40], pool.labels[:40], chunk=16)))
    assert per_image.shape == (40, 354_138)
    batch = factors.full_gradient(model, pool.images[:40], pool.labels[:40])  # PyTorch's backward over the batch
    assert torch.allclose(per_image.mean(0), batch, atol=1e-6, rtol=1e-4)


def test_the_measured_noise_follows_the_formula_and_falls_with_the_batch(pool):
    torch.manual_seed(0)
    noise = factors.gradient_noise(get_model("shao_cnn"), pool.images, pool.labels, [4, 16, 64], draws=64)
    for point in noise:
        assert point.measured == pytest.approx(point.predicted, rel=0.35)
    assert noise[0].measured > noise[1].measured > noise[2].measured
    assert [p.steps_per_epoch for p in noise] == [13_750, 3_438, 860]  # ceil(55,000 / B)


def test_a_batch_size_outside_the_images_is_refused(pool):
    with pytest.raises(ValueError, match="between 2 and 95"):
        factors.gradient_noise(get_model("shao_cnn"), pool.images, pool.labels, [16, 96])


def test_straightness_is_one_for_a_line_and_known_for_relu_on_a_normal():
    normal = torch.randn(200_000, generator=torch.Generator().manual_seed(0))
    assert factors.linearity(lambda x: 3 * x - 1, normal) == pytest.approx(1.0)
    relu = 0.25 / (0.5 - 1 / (2 * math.pi))  # cov(x, relu x)^2 / var(relu x), with var x = 1
    assert factors.linearity(torch.relu, normal) == pytest.approx(relu, abs=0.01)
    assert factors.linearity(torch.sigmoid, normal) > 0.98


def test_each_activation_layer_reports_the_inputs_batch_norm_gave_it(pool):
    torch.manual_seed(0)
    met = factors.activation_inputs(get_model("shao_cnn", activation="sigmoid"), pool.images, sample=5_000)
    assert [m.layer for m in met] == ["features.0.2", "features.1.2", "features.2.2", "classifier.1"]
    for layer in met[:3]:  # after batch norm, in training mode: mean 0, standard deviation 1 (its start)
        assert float(layer.inputs.mean()) == pytest.approx(0, abs=0.1)
        assert float(layer.inputs.std()) == pytest.approx(1, abs=0.1)


def test_the_ablation_s_steps_to_selection_are_its_epochs_times_its_steps():
    import statistics

    from mnistlib.study import hyperparameters as hpo

    runs = hpo.load_ablation(ROOT / "results" / "ablation" / "ablation.csv")
    rows = hpo.steps_to_selection(runs)
    assert [r["batch size"] for r in rows] == ["32", "64", "128", "256", "512", "1000 (paper)", "2048", "4096"]
    for row in rows:
        size = int(row["batch size"].split()[0])
        factor, value = ("paper", "paper") if size == 1000 else ("batch_size", str(size))
        epochs = [r.best_epoch for r in sorted(runs, key=lambda r: r.seed) if (r.factor, r.value) == (factor, value)]
        assert row["selected epoch (each seed)"] == ", ".join(map(str, epochs))
        assert row["steps an epoch"] == f"{math.ceil(55_000 / size):,}"
        assert row["median steps to it"] == f"{int(statistics.median(epochs) * math.ceil(55_000 / size)):,}"


def test_the_activations_orders_are_set_side_by_side_once_every_one_is_measured():
    straightness = {"relu": 0.63, "gelu": 0.62, "tanh": 0.88, "sigmoid": 0.98}
    assert factors.straightness_beside_accuracy(straightness, {"relu": 98.7}) is None
    agree = factors.straightness_beside_accuracy(straightness, {"relu": 98.7, "gelu": 98.8, "tanh": 98.1, "sigmoid": 96.5})
    assert "sigmoid, tanh, relu, gelu" in agree and agree.endswith("The two orders agree.")
    differ = factors.straightness_beside_accuracy(straightness, {"relu": 98.9, "gelu": 98.8, "tanh": 98.1, "sigmoid": 96.5})
    assert differ.endswith("straightness is not the whole story.")


def test_the_ablation_names_every_device_and_commit_its_runs_came_from():
    import dataclasses

    from mnistlib.study import hyperparameters as hpo

    runs = hpo.load_ablation(ROOT / "results" / "ablation" / "ablation.csv")[:2]
    one = dataclasses.replace(runs[0], device_name="cpu (AMD EPYC, 2 threads)", commit="f" * 40, date="2026-12-03T20:00")
    line = hpo.provenance_line([runs[0], one])
    assert line.startswith(f"2 of {len(hpo.ablation_variants()) * hpo.STUDY_SEEDS} runs on {runs[0].device_name} and "
                           "cpu (AMD EPYC, 2 threads)")
    assert line.endswith(f"2 commits, {runs[0].date[:10]} to 2026-12-03")
    assert hpo.provenance_line([runs[0]]).endswith(f"commit `{runs[0].commit[:12]}`, {runs[0].date[:10]}")


def test_optuna_s_importances_stand_beside_what_the_ablation_measured_of_each_factor():
    from mnistlib.study import hyperparameters as hpo

    runs = hpo.load_ablation(ROOT / "results" / "ablation" / "ablation.csv")
    importances = [{"hyperparameter": "activation", "importance": "0.600"}, {"hyperparameter": "kernel", "importance": "0.100"}]
    rows = hpo.importances_beside_ablation(importances, runs)
    assert [r["importance"] for r in rows] == ["0.600", "0.100"]
    activation = {level.value: level for level in hpo.levels(runs)["activation"]}
    far = max(("gelu", "sigmoid", "tanh"), key=lambda v: abs(activation[v].median - activation["relu"].median))
    shift = activation[far].median - activation["relu"].median  # the paper's value is relu
    assert rows[0]["ablation: furthest value (median, points from the paper's)"] == f"{far}: {shift:+.2f}"
    assert rows[0]["ablation: collapsed runs"] == sum(activation[v].collapses for v in ("gelu", "sigmoid", "tanh"))
    assert hpo.importances_beside_ablation(importances, [])[0]["ablation: collapsed runs"] == "-"


def test_an_ablation_extended_to_more_seeds_keeps_the_rows_it_has_not_reached_yet(tmp_path, monkeypatch):
    """The runner's `ablate --seeds 5` rewrote ablation.csv with only the runs it had read back so far (3 of 78)."""
    import dataclasses

    from mnistlib.study import hyperparameters as hpo
    from mnistlib.study.record import RunRecord

    record = RunRecord.read(ROOT / "results" / "ablation" / "shao_cnn-paper-full-seed0.json")
    trained = []
    monkeypatch.setattr(hpo, "train_run", lambda *a, seed, tag, **k: trained.append((tag, seed))
                        or dataclasses.replace(record, seed=seed))
    earlier = hpo.load_ablation(ROOT / "results" / "ablation" / "ablation.csv")
    hpo.write_ablation_csv(earlier, tmp_path / "ablation.csv")
    runs = hpo.run_ablation("full", 2, tmp_path, ["batch_norm"], log=None)
    assert trained == [("paper", 0), ("batch_norm=False", 0), ("paper", 1), ("batch_norm=False", 1)]  # seed by seed
    kept = hpo.load_ablation(tmp_path / "ablation.csv")
    assert len(kept) == len(earlier) and len(runs) == 4
    assert {(r.factor, r.value, r.seed) for r in kept} == {(r.factor, r.value, r.seed) for r in earlier}
