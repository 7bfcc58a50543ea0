"""The "draw a digit" page's files, put into the built book's static folder by the build.

- ``book/demo/shao_cnn.onnx`` and its ``.json``: of the committed seed-0 networks of the paper's CNN in
  :data:`PAGE_CANDIDATES` (the improved recipe's, the ladder's best single-network rung), the one with the best
  validation accuracy (:func:`page_network`), exported by ``python -m mnistlib export ... --layers`` with every
  conv block's maps as outputs (committed, 1.4 MB);
  ``book/demo/gecco.onnx`` and its ``.json``: the committed GECCO (seed 0, 0.3 MB), whose answer depends on
  its batch; ``book/demo/draw.js`` / ``draw.css``: the page's code;
- ``digits.json``: one MNIST test digit per class, the :data:`MISTAKES` test digits the exported network gets
  wrong most confidently (with that confidence, computed here from the committed weights), and the
  :data:`COMPANIONS` test digits that share GECCO's batch with the reader's digit; pixels read from the MNIST
  files at build time (never committed);
- onnxruntime-web's WebAssembly build, pinned, fetched once with npm (:func:`assets.npm_package`); without
  npm the page says what to install.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import torch

from ..data.locate import load_arrays
from .assets import VENDOR, npm_package
from ..data import REPOSITORY_ROOT as ROOT, Split
from ..study import LADDER_OUT, STUDY_OUT, Weights, audit_of, load_for_export, registry
from ..training import probabilities as probabilities_of

ORT_WEB_VERSION = "1.30.0"
ORT_FILES = ("ort.wasm.min.js", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm")
DEMO = Path("book") / "demo"
# The networks the page may run: (study folder, name in its weights' registry); the page runs the one with the
# best validation accuracy (chosen on validation, never on the test set; ties keep the first).
PAGE_CANDIDATES = ((STUDY_OUT, "shao_cnn-improved-full-seed0"), (LADDER_OUT, "shao_cnn-long-ema-full-seed0"))
GECCO_WEIGHTS = "gecco-full-seed0"  # what gecco.onnx is
PAGE_FILES = ("shao_cnn.onnx", "shao_cnn.json", "gecco.onnx", "gecco.json", "draw.js", "draw.css")
MISTAKES = 10
COMPANIONS = 63  # the test digits beside the reader's in GECCO's batch of 64 (its training batch)


def page_network(root: Path = ROOT) -> Weights:
    """The committed network of :data:`PAGE_CANDIDATES` with the best validation accuracy: what ``shao_cnn.onnx``
    must be (a test checks it; re-export with ``python -m mnistlib export <its file> --onnx ... --layers``)."""
    committed = [registry(root / folder).get(name) for folder, name in PAGE_CANDIDATES]
    return max((w for w in committed if w is not None), key=lambda w: w.record.val_accuracy)


def probabilities_on_test_set(weights: Weights, dataset: str = "mnist") -> np.ndarray:
    """(10000, 10): the softmax of the committed network ``weights`` on every test digit, as the page computes it
    (raw pixels in, the normalisation inside the network)."""
    network, _ = load_for_export(weights.file)
    arrays = load_arrays(dataset)
    test = Split(torch.from_numpy(arrays["test_images"][:, None].astype(np.float32)),
                 torch.from_numpy(arrays["test_labels"].astype(np.int64)))
    return probabilities_of(network, test).numpy()


def demo_digits(probabilities: np.ndarray, dataset: str = "mnist") -> dict:
    """One test digit per class (the first of each); the :data:`MISTAKES` test digits the network (its test
    ``probabilities``, (10000, 10)) misclassifies most confidently, most confident first, with what it predicted
    and that probability; and the first :data:`COMPANIONS` test digits. Pixels 0-255, row-major."""
    arrays = load_arrays(dataset)
    images, labels = arrays["test_images"], arrays["test_labels"]
    predicted, confidence = probabilities.argmax(1), probabilities.max(1)
    samples = [{"index": int(i), "label": int(labels[i]), "caption": f"{labels[i]}",
                "pixels": images[i].reshape(-1).tolist()} for i in (int(np.argmax(labels == d)) for d in range(10))]
    wrong = np.flatnonzero(predicted != labels)
    wrong = wrong[np.argsort(-confidence[wrong], kind="stable")][:MISTAKES]
    mistakes = [{"index": int(i), "label": int(labels[i]), "predicted": int(predicted[i]),
                 "confidence": float(confidence[i]), "caption": f"{labels[i]}→{predicted[i]} ({100 * confidence[i]:.0f}%)",
                 "pixels": images[i].reshape(-1).tolist()} for i in wrong]
    companions = [{"index": i, "label": int(labels[i]), "pixels": images[i].reshape(-1).tolist()}
                  for i in range(COMPANIONS)]
    return {"samples": samples, "mistakes": mistakes, "companions": companions}


def prepare_demo(source: Path, root: Path = ROOT, *, log=print) -> bool:
    """Copy the page's files into ``<source>/_vendor/demo`` and onnxruntime-web into ``<source>/_vendor/ort``;
    returns ``False`` when onnxruntime-web could not be had (the page then says so)."""
    log = log or (lambda *_: None)
    target = source / VENDOR / "demo"
    target.mkdir(parents=True, exist_ok=True)
    for name in PAGE_FILES:
        shutil.copy(root / DEMO / name, target / name)
    digits = demo_digits(probabilities_on_test_set(page_network(root)))
    audit = audit_of(GECCO_WEIGHTS, root / STUDY_OUT)  # chapter 5's measurement, for the page's GECCO sentence
    if audit is not None:
        digits["gecco_audit"] = {str(b): a for b, a in audit.accuracy_by_batch_size.items()}
    (target / "digits.json").write_text(json.dumps(digits))
    package = npm_package("onnxruntime-web", ORT_WEB_VERSION, log=log)
    if package is None:
        log("note: onnxruntime-web is missing (install npm: apt-get install npm); the 'draw a digit' page will say so")
        return False
    (source / VENDOR / "ort").mkdir(parents=True, exist_ok=True)
    for name in ORT_FILES:
        shutil.copy(package / "dist" / name, source / VENDOR / "ort" / name)
    return True
