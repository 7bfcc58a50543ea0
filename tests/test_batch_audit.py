"""Chapter 5's committed batch-dependence audit is read only for the weights it measured."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from mnistlib.study.batch_audit import FILE, load_batch_audits

STUDY = Path(__file__).parents[1] / "results" / "full"


def test_an_audit_is_read_back_only_for_the_weights_it_measured(tmp_path):
    (tmp_path / "runs").mkdir()
    for name in ("shao_cnn-full-seed0", "gecco-full-seed0"):
        for suffix in (".json", ".weights.pt"):
            shutil.copy(STUDY / "runs" / f"{name}{suffix}", tmp_path / "runs")
    index = json.loads((STUDY / "weights.json").read_text())
    (tmp_path / "weights.json").write_text(json.dumps({k: index[k] for k in ("shao_cnn-full-seed0", "gecco-full-seed0")}))
    audit = {"accuracy_by_batch_size": {"1": 0.99, "64": 0.99}, "fixed_batch_size": 64,
             "composition_accuracies": [0.99, 0.99], "changed_fraction": 0.0, "changed_count": 0, "n": 10000}
    (tmp_path / FILE).write_text(json.dumps({
        "shao_cnn": {"weights": "shao_cnn-full-seed0", "sha256": index["shao_cnn-full-seed0"], "audit": audit},
        "GECCO (published)": {"weights": "gecco-full-seed0", "sha256": "0" * 64, "audit": audit}}))  # stale
    audits = load_batch_audits(tmp_path)
    assert list(audits) == ["shao_cnn"]
    assert audits["shao_cnn"].accuracy_by_batch_size == {1: 0.99, 64: 0.99}
    assert load_batch_audits(tmp_path / "nowhere") == {}
