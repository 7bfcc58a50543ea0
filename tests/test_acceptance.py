"""The spine's acceptance runs through the real command line (slowest tests: about a minute)."""
from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from mnistlib.training import checkpoint as ckpt

CLI = [sys.executable, "-m", "mnistlib"]


def test_quick_profile_reaches_98_5_percent(tmp_path):
    # compiled: the same training to rounding (test_cpu_fast_path), about 40 % less time on one core
    done = subprocess.run([*CLI, "train", "shao_cnn", "--profile", "quick", "--out", str(tmp_path), "--quiet",
                           "--compile"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    record = json.loads((tmp_path / "shao_cnn-quick-seed0.json").read_text())
    assert record["data"]["train"] == 55_000 and record["epochs_run"] <= 3
    assert record["test_accuracy"] >= 0.985, record["test_accuracy"]


@pytest.mark.parametrize("model", ["gecco", "gecco_complete", "gecco_enhanced"])
def test_gecco_quick_runs_finish_on_the_cpu(model, tmp_path):
    done = subprocess.run([*CLI, "train", model, "--profile", "quick", "--out", str(tmp_path), "--quiet"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    record = json.loads((tmp_path / f"{model}-quick-seed0.json").read_text())
    assert record["batch_dependent"] and record["eval_batch_size"] == record["config"]["batch_size"] == 64
    assert "validation uses batches of 64 (the training batch size)" in done.stdout
    assert record["test_accuracy"] > 0.5


def test_killed_run_resumes_to_the_same_test_accuracy(tmp_path):
    args = ["train", "shao_cnn", "--profile", "smoke", "--epochs", "3", "--seed", "7", "--quiet"]
    reference = subprocess.run([*CLI, *args, "--out", str(tmp_path / "ref")], capture_output=True, text=True)
    assert reference.returncode == 0, reference.stderr

    out = tmp_path / "killed"
    checkpoint = out / "shao_cnn-smoke-seed7.pt"
    proc = subprocess.Popen([*CLI, *args, "--out", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not checkpoint.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    proc.kill()  # SIGKILL: no cleanup code runs
    proc.wait()
    state = ckpt.load(checkpoint)["state"]
    assert not state["finished"] and 1 <= state["epoch"] < 3, "the run was not interrupted mid-way"
    assert not (out / "shao_cnn-smoke-seed7.json").exists()

    resumed = subprocess.run([*CLI, *args, "--out", str(out), "--resume"], capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    a = json.loads((tmp_path / "ref" / "shao_cnn-smoke-seed7.json").read_text())
    b = json.loads((out / "shao_cnn-smoke-seed7.json").read_text())
    assert b["resumed_from_epoch"] >= 1
    assert b["test_accuracy"] == a["test_accuracy"] and b["test_loss"] == a["test_loss"]
    assert [h["val_loss"] for h in b["history"]] == [h["val_loss"] for h in a["history"]]
