"""Chapter 5's batch-dependence audit of the committed networks, measured once and committed.

The audit (:func:`mnistlib.training.batch_dependence_audit`) cuts the 10,000 test images into batches of 1,
16, 64, 256 and 10,000 and into random batches of 64: at batch size 1 alone a GECCO runs 10,000 forward
passes, most of chapter 5's build time (92 of its 121 s in the quick book). Its result depends only on the
committed weights, so it is computed here, once per set of weights, and written to
``<study>/batch_audit.json`` with each network's SHA-256; :func:`load_batch_audits` returns only the audits
whose weights are the ones committed now (a re-exported network is audited again).
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from .configuration import STUDY_OUT

FILE = "batch_audit.json"
AUDITED = {"GECCO (published)": "gecco", "Enhanced GECCO": "gecco_enhanced", "GECCO, complete graph": "gecco_complete",
           "shao_cnn": "shao_cnn"}  # chapter 5's label -> the configuration whose seed 0 is audited


def _weights(study: Path) -> dict:
    from .weights import registry

    names = {label: f"{model}-full-seed0" for label, model in AUDITED.items()}
    committed = registry(study)
    return {label: committed[name] for label, name in names.items() if name in committed}


def load_batch_audits(study: str | Path = STUDY_OUT) -> dict:
    """label -> :class:`~mnistlib.training.evaluate.BatchDependenceAudit` of each audited network whose
    committed weights are those the audit measured (``{}`` when none is)."""
    from ..training import BatchDependenceAudit

    path = Path(study) / FILE
    if not path.exists():
        return {}
    stored = json.loads(path.read_text())
    weights = _weights(Path(study))
    audits = {}
    for label, entry in stored.items():
        if label in weights and weights[label].sha256 == entry["sha256"]:
            audit = dict(entry["audit"], accuracy_by_batch_size={int(k): v for k, v in
                                                                  entry["audit"]["accuracy_by_batch_size"].items()})
            audits[label] = BatchDependenceAudit(**audit)
    return audits


def audit_of(weights: str, study: str | Path = STUDY_OUT):
    """The committed audit of the network whose committed weights are called ``weights`` (None when none is)."""
    names = {label: entry.name for label, entry in _weights(Path(study)).items()}
    return next((audit for label, audit in load_batch_audits(study).items() if names[label] == weights), None)


def write_batch_audits(study: str | Path = STUDY_OUT, device=None, log=print) -> Path:
    """Audit every committed network of :data:`AUDITED` that is not audited at its current weights yet, on
    the full test set; rewrite ``<study>/batch_audit.json``."""
    from ..data import load_data
    from ..models import get_model_info
    from ..training import batch_dependence_audit, resolve_device, write_json
    from .run import normalization

    study = Path(study)
    path = study / FILE
    stored = json.loads(path.read_text()) if path.exists() else {}
    current = load_batch_audits(study)
    dev = resolve_device(device)
    for label, weights in _weights(study).items():
        if label in current:
            continue
        record = weights.record
        data = load_data(record.dataset, device=dev, normalize=normalization(get_model_info(record.model),
                                                                              record.dataset))
        audit = batch_dependence_audit(weights.build(dev), data.test)
        stored[label] = {"weights": weights.name, "sha256": weights.sha256, "audit": dataclasses.asdict(audit)}
        if log:
            log(f"{label}: audited {weights.name} at batch sizes {', '.join(map(str, audit.accuracy_by_batch_size))}")
    return write_json(stored, path)
