"""The hyperparameter study: the ablation grid covers the paper's factors; Optuna trials land in one study."""
from __future__ import annotations

import csv
import subprocess
import sys

import optuna
import pytest

from mnistlib.training.config import resolve_config
from mnistlib.study.hyperparameters import FACTORS, PAPER, ablation_variants, settings
from mnistlib.models import count_params, get_model

ISSUE_FACTORS = {"batch_size", "kernel", "batch_norm", "activation", "lr", "decay", "dropout", "downsample"}


def test_paper_settings_build_the_published_model_and_recipe():
    model_kwargs, overrides = settings(PAPER)
    assert count_params(get_model("shao_cnn", **model_kwargs)) == 354_138
    full = resolve_config("shao_cnn", "full")
    assert all(getattr(full, k) == v for k, v in overrides.items())


def test_ablation_varies_one_factor_at_a_time_over_every_factor():
    variants = ablation_variants()
    assert set(FACTORS) == ISSUE_FACTORS and variants[0].tag == "paper"
    assert {v.factor for v in variants[1:]} == ISSUE_FACTORS
    assert len(variants) == 1 + sum(len(values) - 1 for _, values in FACTORS.values())
    assert min(FACTORS["batch_size"][1]) == 32 and max(FACTORS["batch_size"][1]) == 4096
    paper_kwargs, paper_overrides = settings(PAPER)
    for v in variants[1:]:
        changed = {k for k in paper_kwargs if v.model_kwargs[k] != paper_kwargs[k]} | \
                  {k for k in paper_overrides if v.overrides[k] != paper_overrides[k]}
        assert changed, v.tag
        get_model("shao_cnn", **v.model_kwargs)  # every variant builds
    with pytest.raises(ValueError, match="unknown factor"):
        ablation_variants(["momentum"])


def test_tune_smoke_runs_four_trials_into_sqlite(tmp_path):
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    done = subprocess.run([sys.executable, "-m", "mnistlib", "tune", "--profile", "smoke", "--trials", "4",
                           "--storage", storage, "--out", str(tmp_path), "--final-seeds", "2",
                           "--sampler-seed", "11"],  # four cheap draws (no max-pooling, batches of 64 or more)
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    study = optuna.load_study(study_name="shao_cnn", storage=storage)
    assert len(study.trials) == 4 and "best validation accuracy" in done.stdout
    states = [t.state for t in study.trials]
    complete = states.count(optuna.trial.TrialState.COMPLETE)
    assert complete + states.count(optuna.trial.TrialState.PRUNED) == 4  # the median pruner may stop some
    trial_results = list((tmp_path / "trials").glob("*.json"))  # one per finished trial, none tested
    assert len(trial_results) == complete and all("test_accuracy" not in p.read_text() for p in trial_results)
    best = list(csv.DictReader(open(tmp_path / "best.csv")))
    assert [(row["factor"], row["seed"]) for row in best] == [("tuned", "0"), ("tuned", "1")]
    assert all(0 <= float(row["test_accuracy"]) <= 1 for row in best)
    from mnistlib.course.committed import tuned_against_recipes
    from mnistlib.study.hyperparameters import load_ablation, tuning_summary

    headline, importances = tuning_summary(tmp_path / "study.db")
    assert headline.startswith(f"4 trials ({complete} completed, {4 - complete} stopped early by the median pruner); "
                               "best validation accuracy")
    assert {row["hyperparameter"] for row in importances} <= set(FACTORS)
    rows = tuned_against_recipes(load_ablation(tmp_path / "best.csv"))
    assert rows[0] == {"configuration": "Shao et al., as reported", "test %": "99.40"}
    assert rows[-1]["configuration"] == "Optuna's best configuration" and rows[-1]["test %"].endswith("(n=2)")


def test_two_workers_add_trials_to_the_same_study(tmp_path):
    storage = f"sqlite:///{tmp_path / 'shared.db'}"
    optuna.create_study(study_name="shared", storage=storage, direction="maximize")  # no creation race
    command = [sys.executable, "-m", "mnistlib", "tune", "--profile", "smoke", "--trials", "1", "--storage", storage,
               "--study", "shared", "--out", str(tmp_path)]
    workers = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    for worker in workers:
        _, err = worker.communicate(timeout=600)
        assert worker.returncode == 0, err
    trials = optuna.load_study(study_name="shared", storage=storage).trials
    assert len(trials) == 2
    assert len({t.user_attrs["pid"] for t in trials}) == 2  # both workers contributed


def test_ablate_writes_one_row_per_variant(tmp_path):
    done = subprocess.run([sys.executable, "-m", "mnistlib", "ablate", "--profile", "smoke", "--seeds", "1",
                           "--factors", "batch_norm", "--out", str(tmp_path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    summary = (tmp_path / "summary.md").read_text()
    assert "| batch_norm | True (paper) | 1 |" in summary and "| batch_norm | False | 1 |" in summary
    rows = (tmp_path / "ablation.csv").read_text().splitlines()
    assert (tmp_path / "shao_cnn-batch_norm=False-smoke-seed0.json").exists()  # where the plan looks for it
    assert rows[0].startswith("factor,value,seed,val_accuracy") and rows[2].startswith("batch_norm,False,0,")
    (tmp_path / "summary.md").unlink()
    again = subprocess.run([sys.executable, "-m", "mnistlib", "ablate", "--summary-only", "--out", str(tmp_path)],
                           capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    rewritten = (tmp_path / "summary.md").read_text()
    from mnistlib.study.hyperparameters import STUDY_SEEDS

    assert "| batch_norm | False | 1 |" in rewritten
    assert f"2 runs ({len(ablation_variants()) * STUDY_SEEDS} planned" in rewritten
    assert "No verdicts: the smoke profile is not the paper's recipe." in rewritten
    missing = subprocess.run([sys.executable, "-m", "mnistlib", "ablate", "--summary-only", "--out",
                              str(tmp_path / "nowhere")], capture_output=True, text=True)
    assert missing.returncode == 1 and "nowhere/ablation.csv does not exist" in missing.stderr


def test_verdicts_and_decay_effect_from_rows():
    from mnistlib.study.hyperparameters import AblationRun, ablation_table, decay_effect, verdicts

    def row(factor, value, seed, val, test):
        return AblationRun(factor, value, seed, val, test, 5, 7, 15.0, "cpu", "2.14.1", "abc", "2026-11-26", "full")

    seeds = range(5)
    rows = [row("paper", "paper", s, 0.990 + 0.001 * s, 0.991 + 0.0005 * s) for s in seeds]  # val 99.0-99.4
    rows += [row("batch_norm", "False", s, 0.980 + 0.001 * s, 0.981) for s in seeds]  # every seed below
    rows += [row("dropout", "0.2", s, 0.995 + 0.0001 * s, 0.996) for s in seeds]  # every seed above
    rows += [row("dropout", value, s, 0.985, 0.985) for value in ("0.0", "0.6") for s in seeds]
    rows += [row("kernel", "5", s, 0.9905 + 0.002 * s, 0.99) for s in seeds]  # interleaved with the paper's
    rows += [row("kernel", value, s, 0.98 + 0.0001 * s, 0.98) for value in ("3", "7") for s in seeds]
    rows += [row("activation", value, s, 0.9905 + 0.001 * s, 0.99) for value in ("gelu", "sigmoid", "tanh")
             for s in seeds]  # every value interleaved with the paper's: nothing to detect
    rows += [row("decay", "none", s, 0.990, 0.962 + 0.001 * s) for s in seeds]
    lines = {line.split("**")[1]: line for line in verdicts(rows, "full")}
    assert lines["batch_norm"].startswith("- **batch_norm**: matters (rank test over its values, p = 0.0")
    assert "no value separated above the paper's True" in lines["batch_norm"]
    assert lines["batch_norm"].endswith("in points: False -1.00 (separated).")
    assert "the paper's 0.4 is beaten by 0.2" in lines["dropout"] and "0.2 +0.32 (separated)" in lines["dropout"]
    assert "kernel**: matters" in lines["kernel"] and "no value separated above the paper's 6" in lines["kernel"]
    assert "3 -1.18 (separated)" in lines["kernel"] and lines["kernel"].endswith("5 +0.25.")  # 5: not separated
    assert lines["activation"].startswith("- **activation**: no difference detected at 5 seeds (rank test")
    assert lines["decay"] == "- **decay**: no verdict yet: 2 of its 4 values measured."  # the study still runs
    assert verdicts(rows, "quick") == ["- *No verdicts: the quick profile is not the paper's recipe.*"]
    assert verdicts(rows[:5] + [row("batch_norm", "False", 0, 0.995, 0.996)], "full") == \
        ["- **batch_norm**: no verdict yet: False has 1 of 5 seeds."]  # the study is still running
    assert verdicts(rows[:1] + [row("batch_norm", "False", 0, 0.995, 0.996)], "full") == \
        ["- **batch_norm**: no verdict: one seed per value gives no test."]
    three = [r for r in rows if r.seed < 3 and r.factor in ("paper", "batch_norm")]
    assert verdicts(three, "full")[0].startswith("- **batch_norm**: no verdict: with 3 seeds a two-valued factor "
                                                 "cannot reach p < 0.05 (the smallest possible p is 0.10)")
    diff, (low, high) = decay_effect(rows)
    assert diff == pytest.approx(99.2 - 96.4) and low < diff < high
    assert decay_effect(rows[:3]) is None

    # the study's summary judges Shao et al.'s "+2.9 points from decay" on these runs, once every seed is in
    from mnistlib.models import get_model_info
    from mnistlib.study.claims import DECAY_GAIN, decay_gain

    claim = get_model_info("shao_cnn").claim(DECAY_GAIN)
    measured, verdict = decay_gain(claim, rows, "full")
    assert measured == "+2.80 (n=5 with, 5 without)" and verdict.startswith("reproduced: +2.80 (95% CI +2.")
    no_gain = [r for r in rows if r.factor != "decay"] + [row("decay", "none", s, 0.99, 0.991 + 0.0005 * s)
                                                          for s in seeds]
    assert decay_gain(claim, no_gain, "full")[1].startswith("not reproduced: +0.00 (95% CI")
    assert decay_gain(claim, rows[:-1], "full") == ("-", "measured by the ablation (chapter 4): 9 of 10 runs committed")
    assert decay_gain(claim, rows, "quick") == ("-", "measured by the ablation (chapter 4)")  # another profile's
    assert decay_gain(claim, rows, "full", on_cpu=False)[1] == "measured by the ablation (chapter 4)"  # a GPU study
    table = {(r["factor"], r["value"]): r for r in ablation_table(rows)}
    assert table[("dropout", "0.4 (paper)")]["seeds"] == 5 and table[("dropout", "0.2")]["val % (95% CI)"].startswith("99.52 (")
    assert table[("dropout", "0.2")]["median val %"] == "99.52" and table[("dropout", "0.2")]["collapsed"] == 0


def test_ablation_csv_round_trips_and_names_a_missing_column(tmp_path):
    from mnistlib.study.hyperparameters import AblationRun, load_ablation, write_ablation_csv

    runs = [AblationRun("lr", "0.003", s, 0.99, 0.9912, 4, 6, 21.5, "Intel Xeon", "2.14.1", "abc", "2026-11-26", "full")
            for s in range(2)]
    path = write_ablation_csv(runs, tmp_path / "ablation.csv")
    assert load_ablation(path) == runs
    path.write_text(path.read_text().replace(",profile", ",profil"))
    with pytest.raises(ValueError, match="lacks profile"):
        load_ablation(path)


def test_a_study_cut_off_in_one_session_continues_to_its_total_in_the_next(tmp_path):
    from mnistlib.study.hyperparameters import finished_trials, retrain_best, tune

    storage = f"sqlite:///{tmp_path / 'study.db'}"
    study = tune("smoke", 1, storage=storage, out=tmp_path, log=None, sampler_seed=11)
    cut_off = study.ask()  # a trial whose session ended under it: it never finishes
    study.tell(cut_off, state=optuna.trial.TrialState.FAIL)
    study = tune("smoke", 0, until=3, storage=storage, out=tmp_path, log=None, sampler_seed=0)
    assert finished_trials(study) == 3 and len(study.trials) == 4
    assert len(tune("smoke", 5, until=3, storage=storage, out=tmp_path, log=None).trials) == 4  # nothing lacks
    first = retrain_best(study, "smoke", 1, tmp_path, log=None)
    (record,) = tmp_path.glob("shao_cnn-tuned-smoke-seed0.json")
    written = record.read_text()
    assert retrain_best(study, "smoke", 1, tmp_path, log=None) == first and record.read_text() == written  # read back


def test_a_seeded_sampler_proposes_alike_from_the_same_history_and_anew_after_it(tmp_path):
    from mnistlib.study.hyperparameters import suggest, tune

    def first_proposal(name: str, done: int = 0) -> dict:
        storage = f"sqlite:///{tmp_path / name}.db"
        study = tune("smoke", 0, storage=storage, out=tmp_path, log=None, sampler_seed=0)
        for _ in range(done):  # a history of cut-off trials: what an earlier session left
            study.tell(study.ask(), state=optuna.trial.TrialState.FAIL)
        study = tune("smoke", 0, storage=storage, out=tmp_path, log=None, sampler_seed=0)
        return suggest(study.ask())

    fresh = first_proposal("a")
    assert first_proposal("b") == fresh  # the same (empty) history: the same trial
    assert first_proposal("c", done=1) != fresh  # a later session does not draw it again
