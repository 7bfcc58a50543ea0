"""The test-selection audit (issue 30): runs that select on validation and watch the test set every epoch."""
from __future__ import annotations

import pytest

from mnistlib.study.selection_audit import AuditedRun, audit_selection, load_audit


def test_watching_the_test_set_changes_nothing_and_measures_what_selection_on_it_adds(mnist_dir, tmp_path,
                                                                                     monkeypatch):
    monkeypatch.setenv("MNIST_DATA", str(mnist_dir))
    audited = audit_selection({"shao_cnn": 1}, tmp_path, profile="smoke", device="cpu", log=None)
    assert len(audited) == 1
    run = audited[0]
    assert run.best >= run.selected and run.gain == pytest.approx(run.best - run.selected)
    assert load_audit(tmp_path) == audited  # the CSV round-trips
    assert "| shao_cnn | 1 |" in (tmp_path / "audit.md").read_text()
    from mnistlib.study import RunRecord

    record = RunRecord.read(tmp_path / "runs" / "shao_cnn-test-audit-smoke-seed0.json")
    watched = {h["epoch"]: 100 * h["watch_accuracy"] for h in record.history}
    assert watched[record.best_epoch] == pytest.approx(100 * record.test_accuracy)  # the same weights, the same test
    # a run that did not watch every epoch cannot be audited
    with pytest.raises(ValueError, match="did not watch the test set every epoch"):
        AuditedRun.of(record.replace(history=[{k: v for k, v in h.items() if k != "watch_accuracy"}
                                              for h in record.history]))
