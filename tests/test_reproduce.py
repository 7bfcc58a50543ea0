"""The full study: paired statistics against hand-computed values, verdicts, and a smoke-sized study."""
import dataclasses
import json

import numpy as np
import pytest

from mnistlib.cli import main
from mnistlib.models import Claim
from mnistlib.study.device_comparison import compare_devices
from mnistlib.study.provenance import git_commit
from mnistlib.study.record import RunRecord
from mnistlib.study.report import mean_std_text, write_csv
from mnistlib.study.claims import claim_rows, claim_verdict, params_verdict
from mnistlib.study.configuration import Configuration, run_order, study
from mnistlib.study.reproduce import reproduce
from mnistlib.study.summary import load_records, read_summary, summarise_study, write_study
from mnistlib.study.summary import test_labels as labels_of
from mnistlib.study.stats import (bootstrap_accuracy, bootstrap_difference, decode_predictions, encode_predictions,
                            mcnemar, t_interval, welch_interval)


def test_predictions_round_trip_and_reject_other_classes():
    predictions = np.array([0, 9, 3, 3, 7])
    assert encode_predictions(predictions) == "09337"
    assert decode_predictions("09337").tolist() == predictions.tolist()
    with pytest.raises(ValueError, match="0-9"):
        encode_predictions([10])


def test_mcnemar_counts_discordant_pairs_and_exact_p():
    a = np.array([1, 1, 1, 1, 1, 0, 1, 0], dtype=bool)
    b = np.array([0, 0, 0, 0, 1, 1, 1, 0], dtype=bool)
    test = mcnemar(a, b)
    assert (test.b, test.c) == (4, 1)
    # P[X <= 1] for X ~ Bin(5, 1/2) = (1 + 5) / 32; two-sided: 12 / 32
    assert test.p == pytest.approx(12 / 32)
    assert mcnemar(a, a).p == 1.0
    # 20 against 0: p = 2 / 2**20
    assert mcnemar(np.ones(20, bool), np.zeros(20, bool)).p == pytest.approx(2 * 0.5 ** 20)
    with pytest.raises(ValueError, match="one length"):
        mcnemar(a, b[:3])


def test_bootstrap_interval_is_paired_and_covers_the_difference():
    rng = np.random.default_rng(1)
    a = rng.random(4000) < 0.99
    same = bootstrap_difference(a, a)
    assert same == (0.0, 0.0, 0.0)  # paired resampling: identical models never differ
    b = a.copy()
    b[:40] = ~b[:40]  # b is wrong where a was right (and the reverse) on 40 images
    diff, low, high = bootstrap_difference(a, b)
    assert diff == pytest.approx((a.sum() - b.sum()) / 4000)
    assert low < diff < high
    acc, low, high = bootstrap_accuracy(np.stack([a, b]))
    assert acc == pytest.approx((a.mean() + b.mean()) / 2)
    assert low < acc < high and high - low < 0.01


def test_t_interval_against_hand_values():
    assert t_interval([99.0]) is None
    mean, low, high = t_interval([99.0, 99.2, 99.4])  # s = 0.2, t(2) = 4.303, half-width 4.303 * 0.2 / sqrt 3
    assert (mean, high - mean) == pytest.approx((99.2, 4.303 * 0.2 / 3 ** 0.5))
    assert low == pytest.approx(2 * mean - high)


def test_verdicts():
    SHAO = "Shao et al. 2023"
    average = Claim("test accuracy %", 99.40, "somewhere", source=SHAO)
    assert claim_verdict(average, [99.0]) == "one seed (99): no verdict"
    assert claim_verdict(average, [99.3, 99.5]).startswith("reproduced: 99.4 (95% CI")
    assert claim_verdict(average, [99.00, 99.02, 99.04]) == \
        "not reproduced: 99.02 (95% CI 98.97–99.07), 0.33 points below the claim"
    below = Claim("test accuracy %", 97.45, "x", source=SHAO)
    assert claim_verdict(below, [99.5, 99.6, 99.55]).startswith("exceeded: 99.55")
    best = Claim("best test accuracy %", 99.10, "x", source=SHAO, statistic="best")
    assert claim_verdict(best, [99.0, 99.2]) == "reproduced: best seed 99.20"
    assert claim_verdict(best, [98.9, 99.0]).startswith("not reproduced: best seed 99.00, 0.1 points below")
    loss = Claim("test loss", 0.0171, "x", source=SHAO)
    assert claim_verdict(loss, [0.03, 0.031, 0.032]).startswith("not reproduced: 0.031 (95% CI")  # worse: higher
    assert claim_verdict(loss, [0.010, 0.011, 0.012]).startswith("exceeded: 0.011")  # better: lower
    whole = Claim("test accuracy of digit 6 %", 97, "x", source=SHAO, resolution=0.5)
    assert claim_verdict(whole, [97.4, 97.45, 97.5]).startswith("reproduced")  # "97%" covers 96.5 to 97.5
    epoch = Claim("best validation epoch", 8, "x", source=SHAO, statistic="each")
    assert claim_verdict(epoch, [6.0, 9.0]) == "reproduced: 6–9"
    assert claim_verdict(epoch, [3.0]).startswith("not reproduced: 3–3, 5 below")
    assert claim_verdict(epoch, [12.0, 20.0]).startswith("not reproduced: 12–20, 4 above")  # no better side
    assert params_verdict(None, 10) == "not reported"
    assert params_verdict(100, 100) == "matches exactly"
    assert params_verdict(161_000, 161_824) == "close: +824 (+0.51%)"
    assert params_verdict(50_800, 20_000).startswith("differs: -30,800")


def test_study_lists_every_model_and_the_alternative_recipes():
    configurations = study()
    assert Configuration("shao_cnn") in configurations and Configuration("shao_cnn", "improved") in configurations
    assert len({c.model for c in configurations}) == len(configurations) - 1
    runs = run_order([Configuration("resnet"), Configuration("gecco")], 5, ["mnist"])
    assert sum(c.model == "resnet" for _, c, _ in runs) == 3 and len(runs) == 8
    assert Configuration("shao_cnn", "improved").command("full", 2, "fashion_mnist") == \
        "python -m mnistlib train shao_cnn --profile full --recipe improved --dataset fashion_mnist --seed 2"
    with pytest.raises(KeyError, match="unknown model"):
        study(["shao"])


def _record(model, seed, predictions, labels, recipe=None, dataset="mnist"):
    accuracy = float(np.mean(predictions == labels))
    return RunRecord.from_dict({
            "model": model, "recipe": recipe, "seed": seed, "data": {"dataset": dataset}, "profile": "full",
            "config": {}, "epochs_run": 3, "val_loss": 0.03, "eval_batch_size": 2000, "checkpoint": "x.pt",
            "test_accuracy": accuracy, "test_predictions": encode_predictions(predictions), "params": 354_138,
            "best_epoch": 3, "seconds_per_epoch": 1.0, "history": [{"train_accuracy": 0.99}] * 3,
            "val_accuracy": 0.99, "test_loss": 0.03, "test_per_class_accuracy": [accuracy] * 10,
            "device_name": "NVIDIA H100", "torch": "2.11", "commit": "abc", "date": "2026-11-23"})


def test_summary_compares_with_the_paper_cnn_on_the_same_images():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, 1000)
    wrong = lambda k: np.where(np.arange(1000) < k, (labels + 1) % 10, labels)  # first k images wrong
    records = [_record("shao_cnn", 0, wrong(20), labels), _record("shao_cnn", 1, wrong(10), labels),
               _record("baseline_cnn", 0, wrong(5), labels), _record("baseline_cnn", 1, wrong(5), labels)]
    rows = {r.model: r for r in summarise_study(records, {"mnist": labels})}
    shao, baseline = rows["shao_cnn"], rows["baseline_cnn"]
    assert (shao.mean, shao.std) == pytest.approx((98.5, 0.5 * 2 ** 0.5))
    assert shao.delta is None and shao.mcnemar_p is None  # the reference is not compared with itself
    assert baseline.delta == pytest.approx(1.0) and baseline.delta_low < 1.0 < baseline.delta_high
    assert (baseline.mcnemar_b, baseline.mcnemar_c) == (15, 0) and baseline.mcnemar_p < 1e-3
    # two seeds 1 point apart: t(1) = 12.7 makes the interval wide enough to hold the claim
    assert (shao.t_low, shao.t_high) == pytest.approx((98.5 - 12.706 * 0.5, 98.5 + 12.706 * 0.5))
    assert shao.verdict == "reproduced: 98.5 (95% CI 92.15–104.9)"
    shown = shao.display()
    assert shown["measured test %"] == "98.50 ± 0.71" and shown["95% t-interval %"] == "92.15–104.85"
    assert baseline.display()["McNemar vs shao_cnn (seed 0)"].startswith("b=15, c=0, p=")
    claims = {(r["model"], r["claim"]): r for r in claim_rows(records, {"mnist": labels}, {"gecco": "needs a GPU"})}
    assert claims[("shao_cnn", "training accuracy %")]["measured"] == "99.00 ± 0.00 (n=2)"
    assert claims[("shao_cnn", "training accuracy %")]["verdict"] == \
        "not reproduced: 99 (95% CI 99–99), 0.82 points below the claim"
    assert claims[("shao_cnn", "best validation epoch")]["verdict"] == "not reproduced: 3–3, 5 below the claim"
    assert claims[("shao_cnn", "test accuracy %")]["verdict"] == shao.verdict
    assert claims[("shao_cnn", "test loss")]["measured"] == "0.0300 ± 0.0000 (n=2)"
    assert claims[("shao_cnn", "gain from learning-rate decay (points)")]["verdict"].startswith("measured by the ablation")
    assert claims[("baseline_cnn", "parameters")]["reported"] == "149,418"
    assert claims[("baseline_cnn", "test accuracy %")]["verdict"].startswith("exceeded")
    assert claims[("baseline_cnn", "best test accuracy %")]["where"] == "INT305 report, Table II (best)"
    assert claims[("gecco", "test accuracy %")]["verdict"] == "pending: needs a GPU"
    assert claims[("gecco", "parameters")]["measured"] == "67,338"


def test_smoke_study_writes_runs_summary_and_resumes(tmp_path, capsys):
    out = tmp_path / "full"
    records = reproduce(out, models=["shao_cnn"], seeds=2, profile="smoke", device="cpu", quiet=True, log=None)
    assert len(records) == 4  # paper recipe and improved recipe, two seeds each
    record = json.loads((out / "runs" / "shao_cnn-improved-smoke-seed1.json").read_text())
    assert len(record["test_predictions"]) == 10_000 and record["inference_images_per_second"] > 0
    summary = (out / "summary.md").read_text()
    assert "shao_cnn (improved)" in summary and "training accuracy %" in summary
    # a smoke run is not the paper's recipe: it neither confirms nor refutes the paper's claims
    assert "not tested: the smoke profile is not the source's recipe" in summary and "not reproduced" not in summary
    assert "python -m mnistlib train shao_cnn --profile smoke --recipe improved --seed 0" in summary
    header = (out / "summary.csv").read_text().splitlines()[0]
    assert header.startswith("dataset,model,seeds,mean,std,low,high,t_low,t_high,reported,verdict")
    assert read_summary(out / "summary.csv") == summarise_study(
        load_records(out), {"mnist": labels_of("mnist")}, "smoke")  # numbers survive the CSV exactly
    # a second call reads the finished runs back instead of training them again
    stamp = (out / "runs" / "shao_cnn-smoke-seed0.json").stat().st_mtime_ns
    lines = []
    again = reproduce(out, models=["shao_cnn"], seeds=2, profile="smoke", device="cpu", quiet=True, log=lines.append)
    assert [r.test_accuracy for r in again] == [r.test_accuracy for r in records]
    assert (out / "runs" / "shao_cnn-smoke-seed0.json").stat().st_mtime_ns == stamp
    assert all("finished earlier" in line for line in lines)
    # a run trained elsewhere without a speed measurement (another chapter) gets one from its checkpoint
    stored = out / "runs" / "shao_cnn-smoke-seed1.json"
    record = json.loads(stored.read_text())
    del record["inference_images_per_second"]
    stored.write_text(json.dumps(record))
    reproduce(out, models=["shao_cnn"], seeds=2, profile="smoke", device="cpu", quiet=True, log=None)
    assert json.loads(stored.read_text())["inference_images_per_second"] > 0
    # a study run in parts ends with one summary of every finished run
    reproduce(out, models=["spinalnet_small"], seeds=1, profile="smoke", device="cpu", quiet=True, log=None)
    summary = (out / "summary.md").read_text()
    assert "| mnist | spinalnet_small |" in summary and "| mnist | shao_cnn (improved) |" in summary
    # a run whose recipe changed since is trained again, not read back
    stored = out / "runs" / "shao_cnn-smoke-seed0.json"
    record = json.loads(stored.read_text())
    record["config"]["lr"] = 0.5
    stored.write_text(json.dumps(record))
    lines = []
    reproduce(out, models=["shao_cnn"], seeds=1, profile="smoke", device="cpu", quiet=True, log=lines.append)
    assert "recipe changed since it ran" in lines[0]
    assert json.loads(stored.read_text())["config"]["lr"] == 1e-3


def test_cli_reproduce_rejects_unknown_model(capsys):
    assert main(["reproduce", "--models", "nope", "--profile", "smoke"]) != 0
    assert "unknown model 'nope'" in capsys.readouterr().err


def test_fashion_mnist_uses_its_own_statistics_where_a_source_used_mnists():
    from mnistlib.models import get_model_info
    from mnistlib.study.run import normalization

    assert normalization(get_model_info("shao_cnn"), "mnist") == (0.1307, 0.3081)
    assert normalization(get_model_info("shao_cnn"), "fashion_mnist") is None  # the dataset's own
    assert normalization(get_model_info("gecco"), "fashion_mnist") == (0.5, 0.5)  # GECCO's fixed constants


def test_one_seed_is_one_figure_never_plus_minus_zero():
    assert mean_std_text([98.9]) == "98.90 (one seed)"
    assert mean_std_text([99.0, 99.2], unit="%") == "99.10 ± 0.14% (n=2)"
    assert mean_std_text([0.0171, 0.01712], digits=4) == "0.0171 ± 0.0000 (n=2)"  # a real spread, rounded


def test_welch_interval_against_hand_values():
    assert welch_interval((99.0, 0.1, 1), (99.1, 0.1, 3)) is None  # one seed: a figure, not an interval
    # equal variances and sizes: Welch's df = 2(n - 1) = 4, t(4) = 2.776, se = sqrt(2 * 0.2^2 / 3)
    difference, low, high = welch_interval((99.0, 0.2, 3), (99.3, 0.2, 3))
    assert difference == pytest.approx(0.3) and high - difference == pytest.approx(2.776 * (2 * 0.04 / 3) ** 0.5)
    # unequal: (98.94, 0.09, 5) against (98.88, 0.05, 2) gives df = 3.7, so the table's next lower t(3)
    va, vb = 0.09 ** 2 / 5, 0.05 ** 2 / 2
    difference, low, high = welch_interval((98.94, 0.09, 5), (98.88, 0.05, 2))
    assert (va + vb) ** 2 / (va ** 2 / 4 + vb ** 2 / 1) == pytest.approx(3.71, abs=0.01)
    assert high - difference == pytest.approx(3.182 * (va + vb) ** 0.5)


def test_the_device_comparison_pairs_configurations_and_compares_verdict_kinds(tmp_path):

    rng = np.random.default_rng(1)
    labels = rng.integers(0, 10, 1000)
    wrong = lambda k: np.where(np.arange(1000) < k, (labels + 1) % 10, labels)
    cpu = summarise_study([_record("shao_cnn", s, wrong(k), labels) for s, k in enumerate((10, 12, 14))], {"mnist": labels})
    gpu_records = [_record("shao_cnn", s, wrong(k), labels) for s, k in enumerate((11, 13))]
    gpu = summarise_study(gpu_records + [_record("baseline_cnn", 0, wrong(5), labels)], {"mnist": labels})
    (comparison,) = compare_devices(cpu, gpu)  # baseline_cnn has no CPU row: nothing to compare
    assert comparison.model == "shao_cnn" and comparison.difference == pytest.approx(98.8 - 98.8)
    assert comparison.cpu == "98.80 ± 0.20 (n=3)" and comparison.gpu == "98.80 ± 0.14 (n=2)"
    # the same mean, but two seeds give a wider interval than three: it reaches the claim (99.40) on the GPU only
    assert comparison.cpu_verdict.startswith("not reproduced") and comparison.gpu_verdict.startswith("reproduced")
    assert not comparison.same_verdict and comparison.display()["same verdict"] == (
        "no: CPU not reproduced, GPU reproduced")
    (tmp_path / "cpu").mkdir()
    write_csv([dataclasses.asdict(r) for r in cpu], tmp_path / "cpu" / "summary.csv")
    text = write_study(gpu_records, tmp_path / "gpu", "full", {"mnist": labels}, compare_with=tmp_path / "cpu").read_text()
    assert "## Does the device change the verdict?" in text and "Answer: **yes, for shao_cnn**" in text
    with pytest.raises(FileNotFoundError, match="no summary.csv in"):
        write_study(gpu_records, tmp_path / "gpu", "full", {"mnist": labels}, compare_with=tmp_path / "missing")


def test_a_named_commit_wins_over_the_checkout_it_finds(monkeypatch):
    monkeypatch.setenv("MNISTLIB_COMMIT", "0123abc")
    assert git_commit() == "0123abc"
    monkeypatch.delenv("MNISTLIB_COMMIT")
    assert git_commit() != "0123abc"


def test_the_structure_fingerprint_ignores_how_torch_prints_a_layer_but_not_its_settings(monkeypatch):
    from torch import nn

    from mnistlib.models import keras_defaults
    from mnistlib.study.run import forget_fingerprints, model_fingerprint, structure_fingerprint

    exact, structure = model_fingerprint("shao_cnn"), structure_fingerprint("shao_cnn")
    # torch 2.11 printed BatchNorm2d without 2.14's "bias=True": the exact fingerprint moves, the structure's not
    monkeypatch.setattr(nn.BatchNorm2d, "extra_repr", lambda self: f"{self.num_features}, eps={self.eps}")
    forget_fingerprints()  # the definition changed in this process: computed once per process otherwise
    assert model_fingerprint("shao_cnn") != exact and structure_fingerprint("shao_cnn") == structure
    monkeypatch.setattr(keras_defaults, "BN_EPS", 1e-5)  # PyTorch's eps instead of Keras's: another model
    forget_fingerprints()
    assert structure_fingerprint("shao_cnn") != structure
    assert structure_fingerprint("shao_cnn", {"dropout": 0.5}) != structure_fingerprint("shao_cnn")
    monkeypatch.undo()
    forget_fingerprints()  # the next test sees today's definition


def test_a_record_of_another_torch_version_is_judged_by_its_structure():
    import torch

    from mnistlib.study.run import model_fingerprint, same_model, structure_fingerprint

    labels = np.zeros(10, dtype=np.int64)
    record = _record("shao_cnn", 0, labels, labels).replace(
        torch=torch.__version__, model_fingerprint=model_fingerprint("shao_cnn"))
    assert same_model(record) and not same_model(record.replace(model_fingerprint="0" * 16))
    other = record.replace(torch="2.11.0+cu130", model_fingerprint="0" * 16)
    assert not same_model(other)  # no structure fingerprint: nothing proves it is today's model
    assert same_model(other.replace(structure_fingerprint=structure_fingerprint("shao_cnn")))
    assert not same_model(other.replace(structure_fingerprint=structure_fingerprint("shao_cnn", {"dropout": 0.5})))


def test_the_rank_tests_against_hand_values():
    from mnistlib.study.stats import holm, kruskal_wallis_p, rank_sum_p

    assert rank_sum_p([1, 2, 3], [4, 5, 6]) == pytest.approx(0.1)  # 2 of the 20 splits are as extreme
    assert rank_sum_p([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]) == pytest.approx(2 / 252)
    assert rank_sum_p([90.0, 2, 3, 4, 5], [6, 7, 8, 9, 10]) == rank_sum_p([11.0, 2, 3, 4, 5], [6, 7, 8, 9, 10])
    assert rank_sum_p([5, 5, 5], [5, 5, 5]) == 1.0  # all tied: nothing to tell apart
    assert holm([0.001, 0.04, 0.03]) == [True, False, False] and holm([0.01, 0.02, 0.03]) == [True, True, True]
    apart = kruskal_wallis_p([[1, 2, 3, 4, 5], [6, 7, 8, 9, 10], [11, 12, 13, 14, 15]])
    assert apart < 0.001 and apart == kruskal_wallis_p([[1, 2, 3, 4, 5], [6, 7, 8, 9, 10], [11, 12, 13, 14, 15]])
    assert kruskal_wallis_p([[1, 2, 3], [1, 2, 3], [1, 2, 3]]) == 1.0
    with pytest.raises(ValueError, match="at least one value"):
        rank_sum_p([], [1.0])
