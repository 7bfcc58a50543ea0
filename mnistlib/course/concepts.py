"""The course's map of ideas: for each concept, the chapter and section that explain it, the computation or
figure that shows it, and the exercise that practises it.

``book/concepts.md`` includes the table :func:`write_concepts` generates at build time; a test checks every
row against the notebooks (the section heading exists, the chapter calls the function that shows it, the
exercise label exists), so the map cannot drift from the chapters.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..study.report import markdown_table
from ..training.atomic_files import write_text


@dataclass(frozen=True)
class Concept:
    """One idea of the course: where it is explained (``chapter`` stem and ``section`` heading), what shows
    it (``shown_by``: a function or figure the chapter calls), and the exercise label that practises it
    (``None`` where the section's computation is the practice)."""

    name: str
    chapter: str
    section: str
    shown_by: str
    exercise: str | None = None


CONCEPTS = (
    Concept("locality and weight sharing (dense vs convolution)", "01_convolution", "Why convolution?",
            "convolution.dense_vs_conv", "ex-conv-matrix"),
    Concept("the convolution's weighted sum, checked against PyTorch", "01_convolution", "The weighted sum, by hand",
            "conv2d_by_hand", "ex-conv-matrix"),
    Concept("stride, padding, output sizes; where the parameters are", "01_convolution",
            "Stride, padding and where the parameters are", "layer_shapes", "ex-conv-size"),
    Concept("receptive field", "01_convolution", "What one unit sees: the receptive field",
            "plots.receptive_fields", "ex-conv-field"),
    Concept("translation equivariance (and what stride does to it)", "01_convolution",
            "Move the digit, move the maps: equivariance", "plots.equivariance"),
    Concept("pooling vs stride", "01_convolution", "Pooling or stride?", "convolution.multiply_adds"),
    Concept("learning a kernel by gradient descent", "01_convolution", "Learning a kernel by gradient descent",
            "plots.kernel_learning", "ex-conv-lr"),
    Concept("feature maps, numbered like their kernels", "01_convolution", "What a trained first layer has learned",
            "plots.feature_maps"),
    Concept("softmax and cross-entropy", "02_cross_entropy", "From logits to probabilities, and the loss as surprise",
            "log_softmax_stable"),
    Concept("overflow and underflow: why log-softmax", "02_cross_entropy", "Why log-softmax, not log(softmax)",
            "softmax_naive"),
    Concept("the gradient dL/dz = p - y, by autograd and finite differences", "02_cross_entropy",
            "The gradient: $\\partial L / \\partial z = p - y$", "gradients.numerical_grad", "ex-ce-dense"),
    Concept("backpropagation through a convolution", "02_cross_entropy", "Backpropagation through a convolution, by hand",
            "gradients.conv2d_backward_by_hand", "ex-ce-dense"),
    Concept("the initial-loss sanity check", "02_cross_entropy", "The first sanity check: the loss before training",
            "gradients.initial_loss"),
    Concept("label smoothing and its gradient", "02_cross_entropy", "Label smoothing", "plots.smoothing_curves",
            "ex-ce-margin"),
    Concept("a training recipe: optimiser, schedule, early stopping", "03_paper_cnn", "The paper's recipe",
            "recipes.recipe_settings"),
    Concept("augmentation, one-cycle, label smoothing's margins", "03_paper_cnn", "What each change does",
            "plots.learning_rate_schedules"),
    Concept("batch norm and dropout in training vs evaluation mode", "03_paper_cnn", "What each change does",
            "recipes.mode_difference", "ex-cnn-dropout"),
    Concept("calibration: reliability diagrams, temperature scaling", "03_paper_cnn",
            "How confident is it when it is wrong?", "plots.reliability", "ex-cnn-temperature"),
    Concept("batch size: a step's gradient noise, and the steps in an epoch", "04_hyperparameters",
            "Batch size: how many images a step averages", "plots.gradient_noise", "ex-hp-noise"),
    Concept("how bent an activation is on the inputs batch norm gives it", "04_hyperparameters",
            "Activation: how bent each layer is", "plots.activations_on_their_inputs", "ex-hp-linear"),
    Concept("how far an exponential learning-rate decay goes", "04_hyperparameters", "What each factor changes",
            "recipes.learning_rates", "ex-hp-decay"),
    Concept("one factor at a time vs a grid, and how many seeds", "04_hyperparameters", "One factor at a time",
            "plots.ablation", "ex-hp-inconclusive"),
    Concept("a gated graph convolution and the graph GECCO builds", "05_gecco", "A graph convolution",
            "plots.batch_graphs", "ex-gecco-edges"),
    Concept("where GECCO's batch dependence comes from", "05_gecco", "Where the batch dependence comes from",
            "architectures.batch_mixing", "ex-gecco-attention"),
    Concept("SpinalNet's spinal head", "06_comparison", "SpinalNet: a head that reads its input in halves",
            "plots.spinal_diagram", "ex-cmp-spinal"),
    Concept("the residual block and the gradient", "06_comparison", "The residual block", "plots.gradient_depth"),
    Concept("capsules, squash and routing", "06_comparison", "Capsules and routing", "plots.capsules",
            "ex-cmp-squash"),
    Concept("intervals over seeds; measured vs reported", "06_comparison", "The committed study",
            "plots.reported_vs_measured", "ex-cmp-interval"),
    Concept("why early-stopped runs collapse: batch-norm lag, tested", "04_hyperparameters", "Why do runs collapse?",
            "load_collapses"),
    Concept("a moving average of the weights (EMA)", "07_ladder", "Averaging the weights", "plots.noisy_descent",
            "ex-ladder-horizon"),
    Concept("test-time augmentation", "07_ladder", "Test-time augmentation", "plots.views", "ex-ladder-views"),
    Concept("ensembles and correlated errors", "07_ladder", "Ensembles: why averaging networks helps, and why less "
            "than you might hope", "plots.ensemble_sizes", "ex-ladder-vote"),
    Concept("paired comparisons on the same test images; the cost of a tenth of a point", "07_ladder",
            "The ladder, measured", "plots.ladder"),
)


def exercise_titles(root: Path) -> dict[str, str]:
    """Every exercise's label and title, read from the chapters under ``root``/notebooks."""
    import json
    import re

    found = {}
    for path in sorted((Path(root) / "notebooks").glob("*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            for title, label in re.findall(r"```\{exercise\} ([^\n]+)\n:label: (\S+)", "".join(cell["source"])):
                found[label] = title
    return found


def _plain(heading: str) -> str:
    """A heading as link text: its inline maths in plain Unicode (a role's text renders no maths)."""
    return heading.replace("$", "").replace("\\partial ", "∂").replace(" / ", "/")


def concept_rows(root: Path) -> list[dict]:
    """The map as table rows, each section and exercise a link (MyST, relative to ``book/``)."""
    titles = exercise_titles(root)
    return [{"concept": c.name, "ch.": str(int(c.chapter[:2])),
             "explained in": f"{{doc}}`{_plain(c.section)} <../notebooks/{c.chapter}>`", "shown by": f"`{c.shown_by}`",
             "practised in": f"{{ref}}`{titles[c.exercise]} <{c.exercise}>`" if c.exercise else "its section"}
            for c in CONCEPTS]


def write_concepts(folder: Path, root: Path) -> Path:
    """Write ``concepts.md`` (the table, from the chapters under ``root``) into ``folder``; returns its path."""
    return write_text(markdown_table(concept_rows(root)) + "\n", Path(folder) / "concepts.md")
