"""The collapse check (issue 30): a collapsed ablation run trained again without early stopping."""
from __future__ import annotations

from pathlib import Path

from mnistlib.study.collapse import CollapseCheck, check_collapse, load_collapses, write_collapses
from mnistlib.study.record import RunRecord

COLLAPSED = Path(__file__).parents[1] / "results" / "ablation" / "shao_cnn-lr=0.003-full-seed2.json"


def test_a_collapsed_run_is_measured_at_its_selected_epoch_and_beyond(mnist_dir):
    record = RunRecord.read(COLLAPSED)
    assert record.epochs_run <= 5 and record.best_epoch == 1  # the committed run collapsed
    small = record.replace(config={**record.config, "train_subset": 1000, "batch_size": 100, "compile": False})
    check = check_collapse(small, "lr", "0.003", device="cpu", epochs=2)
    assert check.selected_epoch == 1 and check.stopped_after == record.epochs_run
    assert 0 < check.retrained <= 100 and 0 < check.batch_statistics <= 100
    assert check.continued_epoch in (1, 2) and check.continued >= check.retrained


def test_collapse_checks_round_trip(tmp_path):
    checks = [CollapseCheck("lr", "0.01", 2, 3, 1, 91.46, 91.46, 98.1, 98.7, 12),
              CollapseCheck("dropout", "0.0", 2, 3, 1, 93.51, 93.5, 93.9, 98.6, 11)]
    write_collapses(checks, tmp_path)
    assert load_collapses(tmp_path) == checks
    assert checks[0].lagged and not checks[1].lagged
