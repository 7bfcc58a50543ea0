"""The "draw a digit" page's files, put into the built book's static folder by the build.

- ``book/demo/shao_cnn.onnx`` and its ``.json``: the study's ``shao_cnn (improved)`` seed-0 run, exported by
  ``python -m mnistlib export`` (committed, 1.4 MB), and ``book/demo/draw.js`` / ``draw.css``: the page's code;
- ``digits.json``: one MNIST test digit per class and ten test digits the exported run gets wrong, their
  pixels read from the MNIST files at build time (never committed);
- onnxruntime-web's WebAssembly build, pinned, fetched once with npm (:func:`assets.npm_package`); without
  npm the page says what to install.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

from ..data.locate import load_arrays
from ..study.record import RunRecord
from ..study.stats import decode_predictions
from .assets import VENDOR, npm_package
from ..data import REPOSITORY_ROOT as ROOT
from ..study import STUDY_OUT, get_weights

ORT_WEB_VERSION = "1.30.0"
ORT_FILES = ("ort.wasm.min.js", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm")
DEMO = Path("book") / "demo"
EXPORTED_WEIGHTS = "shao_cnn-improved-full-seed0"  # what shao_cnn.onnx is: its name in the weights' registry
PAGE_FILES = ("shao_cnn.onnx", "shao_cnn.json", "draw.js", "draw.css")
MISTAKES = 10


def demo_digits(record: RunRecord, dataset: str = "mnist") -> dict:
    """One test digit per class (the first of each), and the first :data:`MISTAKES` test digits ``record``'s
    network misclassifies, with their pixels (0-255, row-major) and what it predicted."""
    arrays = load_arrays(dataset)
    images, labels = arrays["test_images"], arrays["test_labels"]
    predicted = decode_predictions(record.test_predictions)
    samples = [{"index": int(i), "label": int(labels[i]), "caption": f"{labels[i]}",
                "pixels": images[i].reshape(-1).tolist()} for i in (int(np.argmax(labels == d)) for d in range(10))]
    wrong = np.flatnonzero(predicted != labels)[:MISTAKES]
    mistakes = [{"index": int(i), "label": int(labels[i]), "predicted": int(predicted[i]),
                 "caption": f"{labels[i]}→{predicted[i]}", "pixels": images[i].reshape(-1).tolist()} for i in wrong]
    return {"samples": samples, "mistakes": mistakes}


def prepare_demo(source: Path, root: Path = ROOT, *, log=print) -> bool:
    """Copy the page's files into ``<source>/_vendor/demo`` and onnxruntime-web into ``<source>/_vendor/ort``;
    returns ``False`` when onnxruntime-web could not be had (the page then says so)."""
    log = log or (lambda *_: None)
    target = source / VENDOR / "demo"
    target.mkdir(parents=True, exist_ok=True)
    for name in PAGE_FILES:
        shutil.copy(root / DEMO / name, target / name)
    record = get_weights(EXPORTED_WEIGHTS, root / STUDY_OUT).record
    (target / "digits.json").write_text(json.dumps(demo_digits(record)))
    package = npm_package("onnxruntime-web", ORT_WEB_VERSION, log=log)
    if package is None:
        log("note: onnxruntime-web is missing (install npm: apt-get install npm); the 'draw a digit' page will say so")
        return False
    (source / VENDOR / "ort").mkdir(parents=True, exist_ok=True)
    for name in ORT_FILES:
        shutil.copy(package / "dist" / name, source / VENDOR / "ort" / name)
    return True
