"""``python -m mnistlib``: the tables, a smoke training run with its result file, exit codes on bad input."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from mnistlib.cli import main

PROVENANCE = ("device_name", "torch", "commit", "date")


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_models_lists_exact_and_reported_counts(capsys):
    code, out, _ = run_cli(capsys, "models")
    assert code == 0
    shao = next(line for line in out.splitlines() if line.startswith("shao_cnn"))
    baseline = next(line for line in out.splitlines() if line.startswith("baseline_cnn"))
    assert "354,138" in shao and "99.40" in shao
    assert "3,390,634" in baseline and "149,418" in baseline and "97.45" in baseline
    rows = {line.split()[0]: line for line in out.splitlines()[2:]}
    assert "67,338" in rows["gecco"] and "50,800" in rows["gecco"] and " yes " in rows["gecco"]
    assert "68,394" in rows["gecco_enhanced"] and "49,900" in rows["gecco_enhanced"]
    assert " yes " in rows["gecco_complete"] and " no " in rows["shao_cnn"]


def test_train_writes_the_result_json_and_evaluate_reads_the_checkpoint(capsys, tmp_path):
    code, out, _ = run_cli(capsys, "train", "shao_cnn", "--profile", "smoke", "--out", str(tmp_path), "--quiet")
    assert code == 0, out
    record = json.loads((tmp_path / "shao_cnn-smoke-seed0.json").read_text())
    for key in ("model", "config", "seed", "params", "history", "best_epoch", "val_accuracy", "val_loss",
                "test_accuracy", "test_loss", "wall_seconds", "seconds_per_epoch", *PROVENANCE):
        assert key in record, key
    assert record["params"] == 354_138 and record["config"]["train_subset"] == 3000
    assert record["data"]["train"] == 3000 and record["data"]["val"] == 1000 and record["config"]["val_subset"] == 1000
    assert len(record["history"]) == 1 and record["test_accuracy"] > 0.75

    code, out, _ = run_cli(capsys, "evaluate", str(tmp_path / "shao_cnn-smoke-seed0.pt"))
    assert code == 0
    assert f"test accuracy {100 * record['test_accuracy']:.2f}%" in out

    code, _, err = run_cli(capsys, "train", "shao_cnn", "--profile", "smoke", "--out", str(tmp_path))
    assert code == 1 and "--resume" in err and len(err.strip().splitlines()) == 1

    code, out, _ = run_cli(capsys, "audit", "shao_cnn", str(tmp_path / "shao_cnn-smoke-seed0.pt"))
    assert code == 0
    assert "change when only their batch-mates change: 0 of 10,000 (0.00%)" in out
    assert out.count(f"{100 * record['test_accuracy']:.2f}") >= 5  # the same accuracy at every batch size
    code, _, err = run_cli(capsys, "audit", "gecco", str(tmp_path / "shao_cnn-smoke-seed0.pt"))
    assert code == 1 and "holds a shao_cnn model, not gecco" in err


@pytest.mark.parametrize("argv, code, fragment", [
    (["train", "no_such_model"], 1, "unknown model 'no_such_model'"),
    (["train", "shao_cnn", "--epochs", "0"], 1, "epochs must be at least 1"),
    (["train", "shao_cnn", "--profile", "huge"], 2, "invalid choice: 'huge'"),
    (["train", "shao_cnn", "--batch-size", "many"], 2, "invalid int value"),
    (["train", "shao_cnn", "--device", "cuda:7"], 1, "'cuda:7' asked for"),
    (["train", "shao_cnn", "--device", "tpu"], 1, "use cpu, cuda or cuda:N"),
    (["evaluate", "/nonexistent.pt"], 1, "does not exist"),
    (["fly"], 2, "invalid choice"),
])
def test_bad_input_exits_non_zero_with_one_line(capsys, argv, code, fragment):
    got, out, err = run_cli(capsys, *argv)
    assert got == code
    assert fragment in err and len(err.strip().splitlines()) == 1


def test_corrupted_mnist_data_names_the_file(capsys, tmp_path, monkeypatch):
    folder = tmp_path / "mnist"
    folder.mkdir()
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte"):
        (folder / name).write_bytes(b"\0" * 10)
    (folder / "t10k-labels-idx1-ubyte").write_bytes(b"\0" * 10)
    monkeypatch.setenv("MNIST_DATA", str(folder))
    code, _, err = run_cli(capsys, "train", "shao_cnn", "--profile", "smoke", "--out", str(tmp_path / "o"))
    assert code == 1 and "train-images-idx3-ubyte" in err and "expected 47,040,016 bytes" in err


def test_module_entry_point_exit_code(tmp_path):
    done = subprocess.run([sys.executable, "-m", "mnistlib", "train"], capture_output=True, text=True)
    assert done.returncode == 2 and "model" in done.stderr


