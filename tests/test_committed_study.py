"""The committed study itself: its summary is what its run records give, every record is a run of today's
recipe and model definition with its provenance, and the seeds are those the plan promises. It fails when a
number is edited by hand, or when a recipe or a model changes without new runs."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from mnistlib.training.config import config_differences, resolve_config
from mnistlib.study.plan import cpu_study
from mnistlib.study.summary import is_study_run, read_runs, read_summary, summarise_study
from mnistlib.study.summary import test_labels as labels_of
from mnistlib.study.record import RunRecord
from mnistlib.study.run import same_model

STUDY = Path(__file__).resolve().parents[1] / "results" / "full"
RECORDS = [r for r in read_runs(STUDY / "runs") if is_study_run(r, "full")] if (STUDY / "runs").is_dir() else []
needs_records = pytest.mark.skipif(not RECORDS, reason="no run of the study is committed yet")


def _label(r: RunRecord) -> str:
    return f"{r.dataset}/{r.model}/{r.recipe}/seed{r.seed}"


@needs_records
@pytest.mark.parametrize("record", RECORDS, ids=_label)
def test_each_record_is_a_run_of_todays_recipe_and_model(record):
    wanted = resolve_config(record.model, "full", record.recipe, seed=record.seed)
    assert config_differences(record.config, wanted) == [], "the recipe changed since this run: rerun it"
    assert same_model(record), "the model changed: rerun it"
    assert record.commit and not record.commit.endswith("-dirty") and record.commit != "unknown"
    assert record.device_name and record.torch and record.date
    assert len(record.test_predictions) == 10_000 and 0 < record.test_accuracy <= 1


@needs_records
def test_the_seeds_are_those_the_plan_promises():
    promised = {(item.dataset, item.model, item.recipe): item.seeds for item in cpu_study() if item.runs_dir == "full/runs"}
    seeds: dict[tuple, list[int]] = {}
    for r in RECORDS:
        seeds.setdefault((r.dataset, r.model, r.recipe), []).append(r.seed)
    for key, found in seeds.items():
        limit = promised.get(key, 5)  # a configuration left to the GPU: the GPU issue's five seeds at most
        assert sorted(found) == list(range(len(found))) and len(found) <= limit, (key, found)


@needs_records
def test_the_summary_is_what_the_records_give():
    labels = {d: labels_of(d) for d in {r.dataset for r in RECORDS}}
    expected = summarise_study(RECORDS, labels, "full")
    committed = read_summary(STUDY / "summary.csv")
    key = lambda row: (row.dataset, row.model)
    assert sorted(committed, key=key) == sorted(expected, key=key), "summary.csv is not what the records give"


@needs_records
def test_the_summary_page_with_its_claims_is_what_the_records_and_the_ablation_give(tmp_path):
    """summary.md, the sources' figures included (the decay claim is judged on results/ablation's runs)."""
    import shutil

    from mnistlib.study.summary import write_study

    ablation = STUDY.parent / "ablation" / "ablation.csv"
    if ablation.exists():
        (tmp_path / "ablation").mkdir()
        shutil.copy(ablation, tmp_path / "ablation" / "ablation.csv")
    labels = {d: labels_of(d) for d in {r.dataset for r in RECORDS}}
    written = write_study(RECORDS, tmp_path / "full", "full", labels)
    assert written.read_text() == (STUDY / "summary.md").read_text(), \
        "results/full/summary.md is stale: python -m mnistlib reproduce --summary-only --out results/full"


@pytest.mark.parametrize("path", sorted(STUDY.parent.glob("*/runs/*.json")), ids=lambda p: p.name)
def test_every_committed_record_reads_back_as_a_run_record(path):
    """The JSON on disk and the dataclass agree both ways: reading loses nothing, writing adds nothing."""
    stored = json.loads(path.read_text())
    record = RunRecord.read(path)
    assert record.extra == {}, f"keys RunRecord does not know: {sorted(record.extra)}"
    unset_dropped = lambda values: {k: v for k, v in values.items() if v is not None}
    assert unset_dropped(record.to_dict()) == unset_dropped(stored)


GPU_STUDY = STUDY.parent / "gpu"
GPU_RECORDS = [r for r in read_runs(GPU_STUDY / "runs") if is_study_run(r, "full")] if (GPU_STUDY / "runs").is_dir() else []


@pytest.mark.skipif(not GPU_RECORDS, reason="no GPU run of the CPU study's configurations is committed yet")
def test_the_gpu_runs_are_the_cpu_studys_configurations_and_their_summary_is_theirs(tmp_path):
    """results/gpu holds the same recipes trained on a GPU; its summary (with the device comparison) is what
    its records and the CPU study's summary give."""
    from mnistlib.study.summary import write_study

    cpu_configurations = {(r.dataset, r.model, r.recipe) for r in RECORDS}
    for record in GPU_RECORDS:
        assert (record.dataset, record.model, record.recipe) in cpu_configurations
        assert "cuda" in record.device and not record.commit.endswith("-dirty") and record.commit != "unknown"
        assert config_differences(record.config, resolve_config(record.model, "full", record.recipe, seed=record.seed)) == []
        assert same_model(record), "the model changed: rerun it"
    labels = {d: labels_of(d) for d in {r.dataset for r in GPU_RECORDS}}
    write_study(GPU_RECORDS, tmp_path, "full", labels, compare_with=STUDY)
    for name in ("summary.csv", "summary.md"):
        assert (tmp_path / name).read_text() == (GPU_STUDY / name).read_text(), \
            f"results/gpu/{name} is stale: python -m mnistlib reproduce --summary-only --out results/gpu --compare-with results/full"


BENCH = STUDY.parent / "bench" / "bench.json"


@pytest.mark.skipif(not BENCH.exists(), reason="no benchmark is committed yet")
def test_the_committed_benchmark_is_what_its_json_gives(tmp_path):
    from mnistlib.study.bench import write_bench

    result = json.loads(BENCH.read_text())
    assert result["provenance"]["device"].startswith("cuda") and not result["provenance"]["commit"].endswith("-dirty")
    assert {r["path"] for r in result["rows"]} == {"dataloader-0", "dataloader-4", "device-eager", "device-fast"}
    for check in result["agreement"]:  # every model either trains identically from its graph or says why not
        assert check["fallback"] or (check["equal"] and len(check["eager_losses"]) == check["steps"])
    write_bench(result, tmp_path)
    for name in ("bench.md", "bench.csv"):
        assert (tmp_path / name).read_text() == (BENCH.parent / name).read_text(), f"results/bench/{name} is stale"


def test_the_committed_weights_give_their_records_validation_accuracy():
    """The paper recipe's seed-0 weights, evaluated as training evaluated them (running batch-norm
    statistics), give the validation accuracy their record holds; recomputed statistics are a different
    evaluation (chapter 6), never the one the record was selected on."""
    from mnistlib.course.committed import batch_norm_checks

    checks, missing = batch_norm_checks("shao_cnn", datasets=("mnist",), profile="smoke")  # statistics of 5,000
    assert checks, missing
    for check in checks:
        assert check.running[1] == pytest.approx(check.record.val_accuracy, abs=1e-4)
        assert check.running != check.recomputed


def test_a_seed_trained_twice_on_this_cpu_gives_the_same_network():
    """The ablation's paper runs retrain the study's shao_cnn seeds (another commit, resumed at other epochs):
    on the same CPU and torch, training is deterministic and resuming changes nothing."""
    from mnistlib.course.committed import paper_reruns

    reruns = paper_reruns()
    assert reruns, "the ablation's paper runs are committed"
    for rerun in reruns:
        if rerun.same_machine:
            assert rerun.identical, rerun.row()


ABLATION = STUDY.parent / "ablation"


@pytest.mark.skipif(not (ABLATION / "ablation.csv").exists(), reason="no run of the ablation is committed yet")
def test_the_committed_ablation_is_what_its_records_give(tmp_path):
    """Each row of results/ablation/ablation.csv is its committed record, a run of today's recipe and model
    with that one factor changed; each variant holds seeds 0, 1, ... up to STUDY_SEEDS; summary.md is what
    the rows give."""
    from mnistlib.study.hyperparameters import (STUDY_SEEDS, AblationRun, ablation_variants, load_ablation,
                                                write_ablation_summary)
    from mnistlib.study.run import run_name

    variants = {(v.factor, str(v.value)): v for v in ablation_variants()}
    rows = load_ablation(ABLATION / "ablation.csv")
    seeds: dict[str, list[int]] = {}
    for row in rows:
        variant = variants[(row.factor, row.value)]
        record = RunRecord.read(ABLATION / f"{run_name('shao_cnn', 'full', row.seed, tag=variant.tag)}.json")
        assert AblationRun.of(row.factor, row.value, record) == row, f"{variant.tag} seed {row.seed}: edited by hand"
        wanted = resolve_config("shao_cnn", "full", seed=row.seed, **variant.overrides)
        assert config_differences(record.config, wanted) == [], f"{variant.tag}: the recipe changed, rerun it"
        assert record.model_kwargs == variant.model_kwargs and same_model(record), f"{variant.tag}: rerun it"
        assert record.commit and not record.commit.endswith("-dirty") and record.device_name and record.torch
        seeds.setdefault(variant.tag, []).append(row.seed)
    for tag, found in seeds.items():
        assert sorted(found) == list(range(len(found))) and len(found) <= STUDY_SEEDS, (tag, found)
    written = write_ablation_summary(rows, tmp_path, "full")
    assert written.read_text() == (ABLATION / "summary.md").read_text(), \
        "results/ablation/summary.md is stale: python -m mnistlib ablate --summary-only"


def test_a_configuration_with_seeds_from_two_devices_is_judged_against_its_seed_spread():
    import dataclasses

    from mnistlib.study import mixed_devices

    gpu = [RunRecord("spinalnet", "full", seed, {}, {"dataset": "mnist"}, 1, [], 20, 25, 0.02, 0.996, 100, 2.0, "x",
                     device="cuda", device_name="NVIDIA H100 80GB HBM3", test_accuracy=acc)
           for seed, acc in ((0, 0.9961), (1, 0.9955))]
    cpu = dataclasses.replace(gpu[0], seed=2, device="cpu", device_name="cpu (AMD EPYC, 2 threads)", test_accuracy=0.9950)
    assert mixed_devices(gpu) == []  # one device: nothing to judge
    (mixed,) = mixed_devices([*gpu, cpu])
    assert [d.label for d in mixed.devices] == ["CPU (AMD EPYC, 2 threads)", "GPU (NVIDIA H100 80GB HBM3)"]
    assert mixed.spread == pytest.approx(((0.03 ** 2 + 0.03 ** 2) / 1) ** 0.5)  # the GPU's two seeds, points
    assert mixed.difference == pytest.approx(0.08) and mixed.agree  # 0.08 <= 2 x 0.0424
    assert mixed.sentence().endswith("(0.08 points): the devices agree.")
    far = dataclasses.replace(cpu, test_accuracy=0.9930)
    (apart,) = mixed_devices([*gpu, far])
    assert not apart.agree and "the devices disagree by more than seeds do" in apart.sentence()
    (alone,) = mixed_devices([gpu[0], far])
    assert alone.agree is None and "no device has two seeds yet" in alone.sentence()
