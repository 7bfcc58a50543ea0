"""Every figure the library draws carries a text alternative that says what it shows, with its numbers, and
reaches the page as an <img> with that alt text."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import torch  # noqa: E402

from mnistlib.course import plots  # noqa: E402
from mnistlib.study.hyperparameters import Level  # noqa: E402

HISTORY = [{"epoch": e, "train_loss": 1 / e, "val_loss": 1.2 / e, "train_accuracy": 0.9 + e / 100,
            "val_accuracy": 0.89 + e / 100} for e in (1, 2, 3)]


def figures():
    yield plots.learning_curves(HISTORY, "demo", selected=3), ["epoch 3", "92.00%"]
    confusion = [[98 if i == j else (2 if (i, j) == (4, 9) else 0) for j in range(10)] for i in range(10)]
    yield plots.confusion_matrix(confusion), ["980 of 982", "4 read as 9"]
    yield plots.per_class_accuracy([0.99] * 9 + [0.95]), ["95.00% (class 9)"]
    yield plots.digits(torch.zeros(2, 1, 28, 28), ["7→1 (80%)", "4→9 (60%)"]), ["7→1 (80%)"]
    yield plots.kernels(torch.ones(12, 1, 3, 3)), ["12 kernels of 3 by 3"]
    yield plots.feature_maps(torch.ones(12, 28, 28), "maps"), ["12 feature maps"]
    yield plots.batch_size_audit({"gecco": {1: 0.98, 1000: 0.99}}), ["gecco", "98.00% at 1"]
    yield plots.params_vs_error([{"model": "shao_cnn", "params": 354138, "error": 1.06, "reported_params": 354138,
                                  "reported_error": 0.6}]), ["shao_cnn: 354,138 parameters, 98.94% measured (99.40% reported)"]
    levels = {"decay": [Level("decay", "0.99", 3, 99.1, (99.0, 99.2), 99.0, None, True, (99.0, 99.1, 99.2),
                              (False, False, False)),
                        Level("decay", "none", 3, 96.9, (92.7, 99.1), 98.8, None, False, (93.0, 98.8, 98.9),
                              (True, False, False))]}
    yield plots.ablation(levels), ["0.99 (paper) median 99.10% over 3 runs", "none median 98.80% over 3 runs, 1 collapsed"]
    yield plots.bench([{"model": "shao_cnn", "path": "eager", "epoch_seconds": 0.5}]), ["shao_cnn eager: 500 ms"]


def test_every_figure_says_what_it_shows():
    for figure, phrases in figures():
        for phrase in phrases:
            assert phrase in figure.alt_text, (phrase, figure.alt_text)
        html = plots.figure_html(figure)
        assert html.startswith('<img src="data:image/png;base64,') and 'alt="' in html
        matplotlib.pyplot.close(figure)
