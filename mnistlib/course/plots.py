"""The course's figures: learning curves, confusion matrices, digits, kernels, audits, comparisons.

Each function draws a new matplotlib figure and returns it, with ``fig.alt_text``: what the figure shows in
words (the models and the key numbers), for readers who cannot see it. In a notebook the figure is displayed
as an ``<img>`` carrying that text as its ``alt`` (:func:`figure_html`). Colours come from seaborn's
colour-blind-safe palette, and series are told apart by their markers (or hatches) too, not by colour alone.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator
import torch

sns.set_theme(style="whitegrid", context="notebook", palette="colorblind")
PALETTE = sns.color_palette("colorblind")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
HATCHES = ("", "//", "..", "xx", "\\\\", "--")


def described(fig, alt: str):
    """``fig`` with its text alternative (``fig.alt_text``)."""
    fig.alt_text = " ".join(alt.split())
    _register_html_formatter()
    return fig


def figure_html(fig) -> str | None:
    """A figure as ``<img>`` with its alt text (a PNG inside the page); ``None`` for a figure without one,
    which IPython then shows as a plain image."""
    import base64
    import html
    import io

    alt = getattr(fig, "alt_text", None)
    if not alt:
        return None
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    data = base64.b64encode(buffer.getvalue()).decode()
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}" style="max-width: 100%"/>'


def _register_html_formatter() -> None:
    """In IPython, display figures through :func:`figure_html` (Jupyter Book and Colab render it). Called
    after each figure is made: the inline backend, loaded with the first figure, drops earlier
    registrations for figures."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None:
        from matplotlib.figure import Figure

        shell.display_formatter.formatters["text/html"].for_type(Figure, figure_html)


def learning_curves(history: list[dict], title: str = "", selected: int | None = None):
    """Loss and accuracy per epoch, training and validation, with the selected epoch marked (``selected``,
    by default the epoch of lowest validation loss)."""
    epochs = [h["epoch"] for h in history]
    best = selected if selected is not None else min(history, key=lambda h: h["val_loss"])["epoch"]
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 3.5))
    for (key, label), marker in zip((("train", "training"), ("val", "validation")), MARKERS):
        ax_loss.plot(epochs, [h[f"{key}_loss"] for h in history], marker=marker, label=label)
        ax_acc.plot(epochs, [100 * h[f"{key}_accuracy"] for h in history], marker=marker, label=label)
    for ax, name in ((ax_loss, "loss"), (ax_acc, "accuracy (%)")):
        ax.axvline(best, color="grey", linestyle="--", linewidth=1, label="selected epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("epoch")
        ax.set_ylabel(name)
    ax_loss.legend()
    fig.suptitle(title)
    fig.tight_layout()
    chosen = next(h for h in history if h["epoch"] == best)
    return described(fig, f"Learning curves{': ' + title if title else ''}. Loss and accuracy per epoch over "
                          f"{len(history)} epochs, training and validation; the selected epoch {best} has validation "
                          f"accuracy {100 * chosen['val_accuracy']:.2f}% and validation loss {chosen['val_loss']:.4f}; "
                          f"the last epoch's training accuracy is {100 * history[-1]['train_accuracy']:.2f}%.")


def confusion_matrix(confusion: list[list[int]], classes=None, title: str = "Confusion matrix (test set)"):
    matrix = np.asarray(confusion)
    fig, ax = plt.subplots(figsize=(6, 5))
    off_diagonal = matrix.copy()
    np.fill_diagonal(off_diagonal, 0)
    sns.heatmap(off_diagonal, annot=matrix, fmt="d", cmap="Reds", cbar=False, ax=ax,
                xticklabels=classes or "auto", yticklabels=classes or "auto")
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title + " (colour: errors only)")
    fig.tight_layout()
    true, predicted = np.unravel_index(off_diagonal.argmax(), off_diagonal.shape)
    names = classes or [str(i) for i in range(len(matrix))]
    return described(fig, f"{title}: {np.trace(matrix):,} of {matrix.sum():,} test images correct; the most "
                          f"frequent error is {names[true]} read as {names[predicted]} "
                          f"({off_diagonal[true, predicted]} times).")


def per_class_accuracy(per_class: list[float], classes=None):
    fig, ax = plt.subplots(figsize=(7, 3))
    labels = classes or [str(i) for i in range(len(per_class))]
    sns.barplot(x=labels, y=[100 * a for a in per_class], ax=ax, color=PALETTE[0])
    low = min(100 * a for a in per_class)
    ax.set_ylim(max(0, low - 2), 100)
    ax.set_xlabel("class")
    ax.set_ylabel("test accuracy (%)")
    fig.tight_layout()
    worst, best = int(np.argmin(per_class)), int(np.argmax(per_class))
    return described(fig, f"Test accuracy per class, from {100 * per_class[worst]:.2f}% (class {labels[worst]}) to "
                          f"{100 * per_class[best]:.2f}% (class {labels[best]}); the axis starts at "
                          f"{max(0, low - 2):.0f}%.")


def digits(images: torch.Tensor, titles: list[str], columns: int = 8, mean: float = 0.0, std: float = 1.0):
    """A grid of digits ``(N, 1, 28, 28)`` (normalised with ``mean``/``std``) with a title each."""
    n = len(images)
    rows = max(1, -(-n // columns))
    fig, axes = plt.subplots(rows, columns, figsize=(1.4 * columns, 1.7 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, image, title in zip(axes.flat, images, titles):
        ax.imshow((image[0].cpu() * std + mean).numpy(), cmap="gray_r", vmin=0, vmax=1)
        ax.set_title(title, fontsize=8)
    fig.tight_layout()
    return described(fig, f"{n} digit images, each titled: {'; '.join(titles)}.")


def kernels(weight: torch.Tensor, title: str = "First-layer kernels"):
    """The 2-D kernels of a convolution weight ``(C_out, 1, k, k)``."""
    w = weight.detach().cpu()[:, 0]
    fig, axes = plt.subplots(1, len(w), figsize=(1.1 * len(w), 1.4), squeeze=False)
    limit = w.abs().max().item()
    for i, (ax, k) in enumerate(zip(axes.flat, w)):
        ax.imshow(k.numpy(), cmap="RdBu_r", vmin=-limit, vmax=limit)
        ax.set_title(str(i), fontsize=8)
        ax.axis("off")
    fig.suptitle(title)
    fig.tight_layout()
    return described(fig, f"{title}: {len(w)} kernels of {w.shape[-2]} by {w.shape[-1]} weights, from "
                          f"{w.min().item():.2f} to {w.max().item():.2f} (blue negative, red positive).")


def feature_maps(maps: torch.Tensor, title: str):
    """Feature maps ``(C, H, W)`` of one image, numbered as their kernels are (map ``i`` is what kernel ``i``
    made of the image), on one colour scale: a brighter map responds more strongly."""
    m = maps.detach().cpu()
    columns = min(len(m), 12)
    rows = -(-len(m) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(1.1 * columns, 1.2 * rows + 0.6), squeeze=False)
    low, high = m.min().item(), m.max().item()
    for ax in axes.flat:
        ax.axis("off")
    for i, (ax, fmap) in enumerate(zip(axes.flat, m)):
        image = ax.imshow(fmap.numpy(), cmap="viridis", vmin=low, vmax=high)
        ax.set_title(str(i), fontsize=8)
    fig.suptitle(title)
    fig.colorbar(image, ax=axes.ravel().tolist(), shrink=0.8, pad=0.01)
    active = [i for i, fmap in enumerate(m) if fmap.max() > fmap.min()]
    strongest = int(m.flatten(1).max(1).values.argmax())
    return described(fig, f"{title}: {len(m)} feature maps of {m.shape[-2]} by {m.shape[-1]} pixels, numbered 0 to "
                          f"{len(m) - 1} like their kernels, on one colour scale from {low:.2f} to {high:.2f}; "
                          f"{len(active)} of them vary over this digit, map {strongest} responds most strongly.")


def _annotate(ax, values: np.ndarray, limit: float, fmt: str = "{:.2g}") -> None:
    """Write each value of a small matrix drawn by ``imshow`` on its cell, white on the dark ones."""
    for (r, c), value in np.ndenumerate(values):
        ax.text(c, r, fmt.format(value), ha="center", va="center", fontsize=7,
                color="white" if abs(value) > 0.6 * limit else "black")


def filtered(image: torch.Tensor, kernels: dict[str, torch.Tensor]):
    """One digit ``(1, H, W)`` and what each named ``k x k`` kernel makes of it (``F.conv2d``, 'same'
    padding), each output with the kernel drawn above it."""
    import torch.nn.functional as F

    fig, axes = plt.subplots(2, len(kernels) + 1, figsize=(2.0 * (len(kernels) + 1), 4.2),
                             gridspec_kw={"height_ratios": [1, 2]})
    for ax in axes.flat:
        ax.axis("off")
    axes[1, 0].imshow(image[0].cpu().numpy(), cmap="gray_r")
    axes[1, 0].set_title("input", fontsize=9)
    for i, (name, kernel) in enumerate(kernels.items(), 1):
        k = kernel.shape[-1]
        out = F.conv2d(image[None].float().cpu(), kernel.view(1, 1, k, k).float(), padding=k // 2)[0, 0]
        limit = kernel.abs().max().item()
        axes[0, i].imshow(kernel.numpy(), cmap="RdBu_r", vmin=-limit, vmax=limit)
        _annotate(axes[0, i], kernel.numpy(), limit)
        axes[0, i].set_title(name, fontsize=9)
        axes[1, i].imshow(out.numpy(), cmap="RdBu_r", vmin=-out.abs().max().item(), vmax=out.abs().max().item())
    fig.tight_layout()
    return described(fig, f"A digit and its convolution with {len(kernels)} kernels ({', '.join(kernels)}); each "
                          "kernel is drawn with its weights above its output (red positive, blue negative).")


def receptive_fields(image: torch.Tensor, windows: list[tuple[str, tuple[int, int, int, int]]]):
    """A digit ``(1, H, W)`` with the input window of one unit of each layer drawn on it: ``windows`` holds
    ``(label, (top, left, bottom, right))``, inclusive pixel coordinates."""
    from matplotlib.patches import Rectangle

    fig, ax = plt.subplots(figsize=(4.2, 4.2))
    ax.imshow(image[0].cpu().numpy(), cmap="gray_r")
    for (label, (top, left, bottom, right)), colour, style in zip(windows, PALETTE, ("-", "--", ":", "-.")):
        ax.add_patch(Rectangle((left - 0.5, top - 0.5), right - left + 1, bottom - top + 1, fill=False,
                               edgecolor=colour, linewidth=2.5, linestyle=style,
                               label=f"{label}: {bottom - top + 1} x {right - left + 1}"))
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.02), fontsize=8, ncol=1, frameon=False)
    ax.set_xticks([])
    ax.set_yticks([])
    fig.tight_layout()
    return described(fig, "A test digit with what one central unit of each layer sees: " + "; ".join(
        f"{label}, {b - t + 1} by {r - l + 1} pixels" for label, (t, l, b, r) in windows) + ".")


def equivariance(image: torch.Tensor, moved: torch.Tensor, maps: torch.Tensor, moved_maps: torch.Tensor,
                 channel: int, pixels: int):
    """A digit and the same digit moved by ``pixels``, each above its feature map ``channel`` (one colour
    scale): the map moves with the digit."""
    fig, axes = plt.subplots(2, 2, figsize=(5, 5))
    high = max(maps[channel].max().item(), moved_maps[channel].max().item())
    for col, (img, fmap, name) in enumerate(((image, maps, "digit"), (moved, moved_maps, f"moved {pixels} px"))):
        axes[0, col].imshow(img[0].cpu().numpy(), cmap="gray_r")
        axes[0, col].set_title(name, fontsize=9)
        axes[1, col].imshow(fmap[channel].cpu().numpy(), cmap="viridis", vmin=0, vmax=high)
        axes[1, col].set_title(f"its map {channel}", fontsize=9)
    for ax in axes.flat:
        ax.set_xticks(range(0, img.shape[-1], 7))
        ax.set_yticks(range(0, img.shape[-2], 7))
        ax.grid(True, color="white", linewidth=0.5, alpha=0.6)
    fig.tight_layout()
    return described(fig, f"A test digit and the same digit moved {pixels} pixels down and right, each above its "
                          f"feature map {channel} of the first layer: the map moves by the same {pixels} pixels.")


def kernel_learning(fit):
    """What :func:`mnistlib.course.convolution.learn_kernel` did: the loss per step (log scale), the kernel at
    a few steps and the target, on one colour scale."""
    snapshots = sorted(fit.snapshots.items())
    fig = plt.figure(figsize=(2.0 * (len(snapshots) + 1) + 3.5, 2.6))
    grid = fig.add_gridspec(1, len(snapshots) + 2, width_ratios=[2.2] + [1] * (len(snapshots) + 1))
    ax = fig.add_subplot(grid[0])
    ax.semilogy(fit.losses, color=PALETTE[0])
    ax.set_xlabel("step")
    ax.set_ylabel("mean squared error")
    limit = max(fit.target.abs().max().item(), max(k.abs().max().item() for _, k in snapshots))
    for i, (title, kernel) in enumerate([(f"step {s}", k) for s, k in snapshots] + [("target", fit.target)], 1):
        kax = fig.add_subplot(grid[i])
        kax.imshow(kernel.numpy(), cmap="RdBu_r", vmin=-limit, vmax=limit)
        _annotate(kax, kernel.numpy(), limit, "{:.1f}")
        kax.set_title(title, fontsize=9)
        kax.axis("off")
    fig.tight_layout()
    return described(fig, f"Gradient descent learning a {fit.target.shape[-1]} by {fit.target.shape[-1]} kernel: the "
                          f"loss falls from {fit.losses[0]:.3g} to {fit.losses[-1]:.2g} in {len(fit.losses) - 1} steps, "
                          f"and the kernel goes from random numbers to the target (largest difference "
                          f"{fit.error:.3f}).")


def probabilities_and_gradient(probabilities: np.ndarray, label: int, title: str = "",
                                image: torch.Tensor | None = None):
    """Softmax output ``probabilities`` (K,) for one image of class ``label`` (drawn first when ``image``,
    (1, H, W), is given), its one-hot target and the gradient of the loss with respect to the logits,
    ``p - y``, side by side."""
    k = len(probabilities)
    target = np.eye(k)[label]
    panels = 3 + (image is not None)
    fig, axes = plt.subplots(1, panels, figsize=(3.7 * panels, 2.8),
                             gridspec_kw={"width_ratios": [0.6] * (image is not None) + [1, 1, 1]})
    if image is not None:
        axes[0].imshow(image[0].cpu().numpy(), cmap="gray_r")
        axes[0].axis("off")
        axes = axes[1:]
    for ax, values, name, colour in zip(axes, (probabilities, target, probabilities - target),
                                        ("p = softmax(z)", "y (one-hot)", "dL/dz = p - y"), PALETTE):
        ax.bar(range(k), values, color=colour)
        ax.axhline(0, color="black", linewidth=0.8)
        ax.set_title(name, fontsize=10)
        ax.set_xticks(range(k))
        ax.set_xlabel("class")
    fig.suptitle(title)
    fig.tight_layout()
    return described(fig, f"{title}. For an image of class {label}: the predicted probabilities (largest "
                          f"{probabilities.max():.2f}, class {int(probabilities.argmax())}), the one-hot target, and "
                          f"their difference, the gradient: {probabilities[label] - 1:.2f} for the true class, the "
                          "probability itself for every other class.")


def smoothing_curves(margins: np.ndarray, losses: dict[str, np.ndarray]):
    """The loss of one image against the margin of its true logit over the others, one curve per label
    smoothing ``epsilon`` (``losses``: label -> values), with each curve's minimum marked."""
    fig, ax = plt.subplots(figsize=(6.5, 3.5))
    for (name, values), marker, colour in zip(losses.items(), MARKERS, PALETTE):
        ax.plot(margins, values, color=colour, label=name)
        best = int(values.argmin())
        ax.plot(margins[best], values[best], marker=marker, color=colour, markersize=8)
    ax.set_xlabel("margin: true logit minus every other logit")
    ax.set_ylabel("cross-entropy")
    ax.legend()
    fig.tight_layout()
    minima = "; ".join(f"{name}: lowest at margin {margins[v.argmin()]:.1f}" for name, v in losses.items())
    return described(fig, f"Cross-entropy of one image against the margin of its true logit, per label smoothing. "
                          f"{minima}.")


def learning_rate_schedules(schedules: dict[str, tuple[np.ndarray, np.ndarray]]):
    """Learning rate against training progress in epochs, one line per recipe (``schedules``: name ->
    ``(epoch of each step, rate of each step)``)."""
    fig, ax = plt.subplots(figsize=(7, 3.2))
    for (name, (epochs, rates)), colour, style in zip(schedules.items(), PALETTE, ("-", "--", ":")):
        ax.plot(epochs, rates, color=colour, linestyle=style, linewidth=2, label=name)
    ax.set_xlabel("epoch")
    ax.set_ylabel("learning rate")
    ax.legend()
    fig.tight_layout()
    return described(fig, "Learning rate per step: " + "; ".join(
        f"{name} from {rates[0]:.2g} to {rates[-1]:.2g}, peak {rates.max():.2g} at epoch {epochs[rates.argmax()]:.1f}"
        for name, (epochs, rates) in schedules.items()) + ".")


def margins(values: dict[str, np.ndarray], xlabel: str = "largest logit minus the second largest"):
    """Histograms of a per-image quantity (the top-two logit margin), one per network, overlaid."""
    fig, ax = plt.subplots(figsize=(7, 3.2))
    high = max(np.quantile(v, 0.995) for v in values.values())
    bins = np.linspace(0, high, 60)
    for (name, v), colour, hatch in zip(values.items(), PALETTE, HATCHES):
        ax.hist(np.clip(v, 0, high), bins=bins, alpha=0.55, color=colour, hatch=hatch, label=name)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("test images")
    ax.legend()
    fig.tight_layout()
    return described(fig, f"Histogram of the {xlabel} over the test images: " + "; ".join(
        f"{name}, median {np.median(v):.1f}" for name, v in values.items()) + ".")


def reliability(diagrams: dict):
    """Reliability diagrams side by side (``diagrams``: name -> :class:`~mnistlib.course.recipes.Reliability`):
    per confidence bin, the accuracy of its predictions against their mean confidence; a calibrated network
    lies on the diagonal. Bins with fewer than 10 predictions are left out."""
    fig, axes = plt.subplots(1, len(diagrams), figsize=(4.2 * len(diagrams), 4), squeeze=False)
    for ax, (name, r), colour in zip(axes.flat, diagrams.items(), PALETTE):
        keep = r.counts >= 10
        low = r.edges[0]
        ax.plot([low, 1], [low, 1], color="grey", linestyle="--", linewidth=1, label="calibrated")
        ax.plot(r.confidence[keep], r.accuracy[keep], marker="o", color=colour, label="measured")
        for x, y, n in zip(r.confidence[keep], r.accuracy[keep], r.counts[keep]):
            ax.annotate(f"{n:,}", (x, y), textcoords="offset points", xytext=(4, -10), fontsize=7)
        ax.set_xlim(low, 1.005)
        ax.set_ylim(min(low, np.nanmin(r.accuracy[keep], initial=low) - 0.05), 1.02)
        ax.set_xlabel("confidence (top probability)")
        ax.set_ylabel("accuracy")
        ax.set_title(f"{name}\nECE {100 * r.ece:.2f}%", fontsize=10)
        ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    return described(fig, "Reliability diagrams (accuracy against confidence, per bin; numbers: predictions per bin): "
                     + "; ".join(f"{name}: expected calibration error {100 * r.ece:.2f}%, mean confidence on its "
                                 f"mistakes {100 * r.confidence_when_wrong:.0f}%" for name, r in diagrams.items()) + ".")


def spinal_diagram(layers: int, width: int, half: int):
    """SpinalNet's head as boxes and arrows: the input's halves a and b, then ``layers`` spinal layers of
    ``width`` units, each fed one half (alternately) and the layer before it, all feeding the output."""
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    fig, ax = plt.subplots(figsize=(8, 3.4))
    ax.set_xlim(-0.5, layers + 1.5)
    ax.set_ylim(-0.6, 3.2)
    ax.axis("off")

    def box(x, y, text, colour):
        ax.add_patch(FancyBboxPatch((x - 0.38, y - 0.28), 0.76, 0.56, boxstyle="round,pad=0.02", color=colour,
                                    alpha=0.85))
        ax.text(x, y, text, ha="center", va="center", fontsize=9, color="white")

    def arrow(a, b, colour="grey"):
        ax.add_patch(FancyArrowPatch(a, b, arrowstyle="-|>", mutation_scale=10, color=colour, linewidth=1))

    box(0, 2.6, f"a\n({half})", PALETTE[0])
    box(0, 0.4, f"b\n({half})", PALETTE[1])
    for k in range(layers):
        x = k + 1
        box(x, 1.5, f"y{k + 1}\n({width})", PALETTE[2])
        source = (0.38, 2.6) if k % 2 == 0 else (0.38, 0.4)
        arrow(source, (x - 0.3, 1.5 + (0.2 if k % 2 == 0 else -0.2)), PALETTE[0] if k % 2 == 0 else PALETTE[1])
        if k:
            arrow((x - 0.62, 1.5), (x - 0.38, 1.5))
        arrow((x, 1.22), (layers + 1 - 0.2, 0.0 + 0.3))
    box(layers + 1, 0.0, "output\n(10)", PALETTE[3])
    fig.tight_layout()
    return described(fig, f"SpinalNet's head: the input split into halves a and b of {half} features; {layers} spinal "
                          f"layers of {width} units, layer 1 reading a, each later layer reading the other half than "
                          "the layer before it plus that layer's output; all layers feed the 10 outputs.")


def gradient_depth(curves: dict[str, list[float]]):
    """The norm of the gradient at each layer's input, from the first layer to the last (log scale), one
    line per stack (``curves``: name -> norms)."""
    fig, ax = plt.subplots(figsize=(7, 3.4))
    for (name, norms), colour, marker in zip(curves.items(), PALETTE, MARKERS):
        ax.semilogy(range(1, len(norms) + 1), norms, marker=marker, markersize=4, color=colour, label=name)
    ax.set_xlabel("layer (1 = nearest the input)")
    ax.set_ylabel("gradient norm at its input")
    ax.legend()
    fig.tight_layout()
    return described(fig, "Gradient norm at each layer's input of a freshly initialised stack, log scale: " + "; ".join(
        f"{name}: {norms[0]:.2g} at layer 1, {norms[-1]:.2g} at layer {len(norms)}" for name, norms in curves.items())
        + ".")


def capsules(norms: torch.Tensor, lengths: torch.Tensor, routing, title: str):
    """Efficient-CapsNet opened: the squash (input length against output length), the coupling
    coefficients of the self-attention routing for one image (10 output capsules x 16 primary capsules),
    and the lengths of the 10 digit capsules, which are the class scores."""
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6), gridspec_kw={"width_ratios": [1, 1.6, 1]})
    axes[0].plot(norms.numpy(), lengths.numpy(), color=PALETTE[0])
    axes[0].plot(norms.numpy(), np.minimum(norms.numpy(), 1), color="grey", linestyle=":", label="length kept (≤ 1)")
    axes[0].set_xlabel("|s| (before squash)")
    axes[0].set_ylabel("|squash(s)|")
    axes[0].legend(fontsize=8)
    sns.heatmap(routing.coupling.numpy(), ax=axes[1], cmap="viridis", cbar=True, cbar_kws={"format": "%.4f"})
    axes[1].set_xlabel("primary capsule i")
    axes[1].set_ylabel("digit capsule n")
    axes[1].set_title("coupling c[n, i]", fontsize=10)
    scores = routing.lengths.numpy()
    axes[2].bar(range(10), scores, color=[PALETTE[3] if i == scores.argmax() else PALETTE[0] for i in range(10)])
    axes[2].set_xticks(range(10))
    axes[2].set_xlabel("digit capsule")
    axes[2].set_ylabel("length (class score)")
    fig.suptitle(title)
    fig.tight_layout()
    return described(fig, f"{title}. Left: squash maps a vector of length |s| to length 1 - exp(-|s|). Middle: the "
                          f"routing's coupling coefficients, 10 by 16. Right: the digit capsules' lengths; the longest "
                          f"is capsule {int(scores.argmax())} ({scores.max():.2f}).")


def batch_graphs(published: torch.Tensor, complete: torch.Tensor, batch: int):
    """The two graphs over a batch of ``batch`` images, drawn from their ``edge_index`` (2, E): the one
    GECCO's code builds (self-loops only, each repeated; the count is written beside each node) and the
    complete graph its paper describes."""
    from collections import Counter

    angles = np.linspace(0, 2 * np.pi, batch, endpoint=False)
    xy = np.stack([np.cos(angles), np.sin(angles)], 1)
    fig, axes = plt.subplots(1, 2, figsize=(9, 4.4))
    for ax, edges, title in ((axes[0], published, "the graph the code builds"),
                             (axes[1], complete, "the graph the paper describes")):
        counts = Counter(zip(edges[0].tolist(), edges[1].tolist()))
        for (i, j), n in counts.items():
            if i == j:
                ax.add_patch(plt.Circle(xy[i] * 1.18, 0.16, fill=False, color=PALETTE[3], linewidth=1.5))
                ax.text(*(xy[i] * 1.48), f"x{n}", ha="center", va="center", fontsize=8, color=PALETTE[3])
            else:
                ax.plot(*zip(xy[i], xy[j]), color=PALETTE[0], linewidth=0.8, alpha=0.6)
        ax.scatter(xy[:, 0], xy[:, 1], s=260, color=PALETTE[2], zorder=3)
        for k, (x, y) in enumerate(xy):
            ax.text(x, y, str(k), ha="center", va="center", color="white", fontsize=9, zorder=4)
        self_loops = sum(n for (i, j), n in counts.items() if i == j)
        ax.set_title(f"{title}\n{edges.shape[1]} edges, {self_loops} of them self-loops", fontsize=10)
        ax.set_xlim(-1.8, 1.8)
        ax.set_ylim(-1.8, 1.8)
        ax.set_aspect("equal")
        ax.axis("off")
    fig.tight_layout()
    return described(fig, f"Two graphs over a batch of {batch} images. Left, as GECCO's code builds it: "
                          f"{published.shape[1]} edges, every one a self-loop, each image linked only to itself "
                          f"{batch} times. Right, the complete graph of the paper: {complete.shape[1]} edges "
                          "joining every pair of different images.")


def batch_size_audit(audits: dict[str, dict[int, float]]):
    """Test accuracy against evaluation batch size, one line per model (log-scaled batch axis)."""
    fig, ax = plt.subplots(figsize=(7, 3.5))
    for (name, by_size), marker in zip(audits.items(), MARKERS * 4):
        sizes = sorted(by_size)
        ax.plot(sizes, [100 * by_size[s] for s in sizes], marker=marker, label=name)
    ax.set_xscale("log")
    ax.set_xlabel("evaluation batch size")
    ax.set_ylabel("test accuracy (%)")
    ax.legend()
    fig.tight_layout()
    lines = "; ".join(f"{name}: {', '.join(f'{100 * a:.2f}% at {b:,}' for b, a in sorted(by_size.items()))}"
                      for name, by_size in audits.items())
    return described(fig, f"Test accuracy against evaluation batch size (log scale), one line per model. {lines}.")


def params_vs_error(rows: list[dict]):
    """Test error (%) against parameter count, both on log scales; rows hold ``model``, ``params``, ``error``
    and optionally ``reported_params`` / ``reported_error`` (drawn hollow, joined to the measurement). A row
    whose ``error`` is ``None`` is a model not measured yet: only its reported figure is drawn, "(pending)"."""
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for row in rows:
        reported = row.get("reported_error") is not None and row.get("reported_params") is not None
        measured = row["error"] is not None
        if measured:
            ax.scatter(row["params"], row["error"], s=40, color=PALETTE[0])
        if reported:
            ax.scatter(row["reported_params"], row["reported_error"], s=40, facecolors="none", edgecolors="grey",
                       marker="o" if measured else "D")
        if measured and reported:
            ax.plot([row["params"], row["reported_params"]], [row["error"], row["reported_error"]], color="grey",
                    linewidth=0.8, linestyle=":")
        if measured or reported:
            at = (row["params"], row["error"]) if measured else (row["reported_params"], row["reported_error"])
            ax.annotate(row["model"] + ("" if measured else " (pending)"), at, fontsize=8, xytext=(4, 4),
                        textcoords="offset points")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:g}%"))
    ax.set_xlabel("trainable parameters")
    ax.set_ylabel("test error (log scale)")
    ax.set_title("Measured (filled) and reported (hollow; diamonds: not measured yet)")
    fig.tight_layout()

    def words(r: dict) -> str:
        text = (f"{r['model']}: {r['params']:,} parameters, " +
                (f"{100 - r['error']:.2f}% measured" if r["error"] is not None else "pending"))
        return text + ("" if r.get("reported_error") is None else f" ({100 - r['reported_error']:.2f}% reported)")

    points = "; ".join(words(r) for r in sorted(rows, key=lambda r: r["params"]))
    return described(fig, f"Test error against trainable parameters (log scale), measured and reported. {points}.")


def reported_vs_measured(rows: list[dict]):
    """One line per configuration, sorted by measured error: its measured mean test error (filled, with the
    95% t-interval of the mean over seeds; none from one seed) and its source's reported error (hollow
    diamond), on a logarithmic error axis so that 0.4% and 13% are both readable. ``rows`` as
    :func:`mnistlib.study.summary.error_points` gives them; a row with ``error`` None is pending (only its
    reported figure is drawn). An interval that reaches below the axis is drawn to its edge."""
    rows = sorted(rows, key=lambda r: r["error"] if r["error"] is not None else r["reported_error"])
    values = [v for r in rows for v in (r["error"], r.get("reported_error")) if v is not None]
    floor = min(values) / 2
    fig, ax = plt.subplots(figsize=(8, 0.42 * len(rows) + 1.4))
    for y, row in enumerate(rows):
        if row["error"] is not None:
            low, high = row.get("error_interval") or (row["error"], row["error"])
            ax.errorbar(row["error"], y, xerr=[[row["error"] - max(low, floor)], [max(high - row["error"], 0)]],
                        fmt="o", color=PALETTE[0], capsize=3, markersize=6,
                        label="measured (mean, 95% interval)" if y == 0 else None)
        if row.get("reported_error") is not None:
            ax.scatter(row["reported_error"], y, marker="D", s=45, facecolors="none", edgecolors=PALETTE[3],
                       linewidths=1.5, zorder=3, label="reported by its source")
    labels = [f"{r['model']}  ({r['params']:,} params" + (f", n={r['seeds']})" if r["error"] is not None
                                                         else ", pending)") for r in rows]
    ax.set_yticks(range(len(rows)), labels, fontsize=9)
    ax.set_xscale("log")
    ax.set_xlim(floor, max(values) * 2.5)
    from matplotlib.ticker import FixedLocator, NullFormatter

    ax.xaxis.set_major_locator(FixedLocator([t for t in (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50)
                                             if floor <= t <= max(values) * 2.5]))
    ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:g}%"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("test error (log scale): smaller is better")
    ax.invert_yaxis()
    handles, names = ax.get_legend_handles_labels()
    unique = dict(zip(names, handles))
    ax.legend(unique.values(), unique.keys(), loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2,
              fontsize=8, frameon=False)
    fig.tight_layout()

    def words(r: dict) -> str:
        measured = "pending" if r["error"] is None else f"{r['error']:.2f}% measured ({r['seeds']} seeds)"
        reported = "" if r.get("reported_error") is None else f", {r['reported_error']:.2f}% reported"
        return f"{r['model']}: {measured}{reported}"

    return described(fig, "Test error per configuration, measured and reported, on a logarithmic axis: "
                          + "; ".join(words(r) for r in rows) + ".")


def ablation(levels: dict):
    """Every run of each factor's levels (``mnistlib.study.hyperparameters.levels``): one dot per seed's
    validation accuracy, a cross for a run that collapsed (stopped in its first epochs), a bar at the level's
    median (what the verdicts' rank test compares); the paper's value in orange. Each factor has its own
    axis, spanning its data; the paper's value, in every panel, is the common reference."""
    factors = list(levels)
    columns = min(4, max(1, len(factors)))  # at most four panels a row: the book's page width
    rows = max(1, -(-len(factors) // columns))
    fig, axes = plt.subplots(rows, columns, figsize=(2.6 * columns, 3.2 * rows), squeeze=False)
    for ax in axes.flat[len(factors):]:
        ax.set_visible(False)
    for ax, factor in zip(axes.flat, factors):
        for x, level in enumerate(levels[factor]):
            colour = PALETTE[1] if level.paper else PALETTE[0]
            spread = np.linspace(-0.18, 0.18, len(level.val_runs)) if len(level.val_runs) > 1 else [0.0]
            for dx, value, fell in zip(spread, level.val_runs, level.collapsed_runs):
                ax.plot(x + dx, value, "x" if fell else "o", color="black" if fell else colour,
                        markersize=7 if fell else 4, alpha=0.9)
            ax.hlines(level.median, x - 0.3, x + 0.3, color=colour, linewidth=2)
        ax.set_xticks(range(len(levels[factor])), [level.value for level in levels[factor]], rotation=45)
        ax.set_title(factor)
    for row in axes:
        row[0].set_ylabel("validation accuracy (%)")
    fig.legend(handles=[Line2D([], [], marker="o", linestyle="", color=PALETTE[0], label="a run (seed)"),
                        Line2D([], [], marker="x", linestyle="", color="black", label="a run that collapsed"),
                        Line2D([], [], color=PALETTE[0], linewidth=2, label="median"),
                        Line2D([], [], color=PALETTE[1], linewidth=2, label="the paper's value")],
               loc="lower center", ncol=4, frameon=False, bbox_to_anchor=(0.5, -0.02))
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    text = "; ".join(f"{factor}: " + ", ".join(
        f"{level.value}{' (paper)' if level.paper else ''} median {level.median:.2f}% over {level.seeds} runs"
        + (f", {level.collapses} collapsed" if level.collapses else "") for level in levels[factor])
        for factor in factors)
    return described(fig, f"Every run's validation accuracy for each value of each factor, collapsed runs "
                          f"crossed, with the median. {text}.")


def bench(rows: list[dict]):
    """Milliseconds per training epoch of each path (log scale), one group of bars per model; rows are
    :func:`mnistlib.study.bench.bench` rows."""
    data = {"model": [r["model"] for r in rows], "path": [r["path"] for r in rows],
            "ms": [1000 * r["epoch_seconds"] for r in rows]}
    fig, ax = plt.subplots(figsize=(8, 3.5))
    sns.barplot(data=data, x="ms", y="model", hue="path", orient="h", ax=ax)
    paths = list(dict.fromkeys(data["path"]))
    for container, hatch in zip(ax.containers, HATCHES * 4):  # each path has its hatch as well as its colour
        for bar in container:
            bar.set_hatch(hatch)
    ax.legend(title="path")  # rebuilt, so that its keys show the hatches
    ax.set_xscale("log")
    ax.set_xlabel("milliseconds per training epoch (log scale)")
    ax.set_ylabel("")
    ax.set_title("Same model, same recipe: where the time goes")
    fig.tight_layout()
    text = "; ".join(f"{m} {p}: {ms:,.0f} ms" for m, p, ms in zip(data["model"], data["path"], data["ms"]))
    return described(fig, f"Milliseconds per training epoch, by model and input path ({', '.join(paths)}). {text}.")


def noisy_descent(run: dict, beta: float):
    """The iterates of noisy gradient descent on a bowl and their moving average
    (:func:`mnistlib.course.ensembles.noisy_descent`): the path in the plane, and the distance to the minimum
    against the step (log scale)."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.plot(*run["iterates"].T, ".", markersize=2, alpha=0.35, color=PALETTE[0], label="iterates")
    left.plot(*run["average"].T, "-", linewidth=1.5, color=PALETTE[1], label=f"moving average (β = {beta})")
    left.plot(0, 0, "k*", markersize=12, label="minimum")
    left.set_aspect("equal")
    left.set_title("The path")
    left.legend(loc="upper left", fontsize=8)
    steps = np.arange(1, len(run["iterate_distance"]) + 1)
    right.plot(steps, run["iterate_distance"], color=PALETTE[0], linewidth=0.6, label="iterates")
    right.plot(steps, run["average_distance"], "--", color=PALETTE[1], linewidth=1.5, label="moving average")
    right.set_yscale("log")
    right.set_xlabel("step")
    right.set_ylabel("distance to the minimum")
    right.set_title("How far from the minimum")
    right.legend(fontsize=8)
    fig.tight_layout()
    half = len(steps) // 2
    return described(fig, f"Noisy gradient descent on a bowl: over the last {len(steps) - half} steps the iterates "
                          f"stay {np.mean(run['iterate_distance'][half:]):.2f} from the minimum on average, their "
                          f"moving average (beta {beta}) {np.mean(run['average_distance'][half:]):.2f}.")


def views(images: list, probabilities: np.ndarray, names: list[str]):
    """Each test-time view of one digit with the network's probability of its most likely class, and the
    averaged prediction."""
    winner = int(probabilities.mean(0).argmax())
    columns = min(4, len(images))
    rows = -(-len(images) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(2.2 * columns, 2.5 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, image, p, name in zip(axes.flat, images, probabilities, names):
        ax.imshow(image.squeeze().cpu().numpy(), cmap="gray_r")
        ax.set_title(f"{name}\nP({winner}) = {p[winner]:.3f}", fontsize=11)
    fig.suptitle(f"average over the views: P({winner}) = {probabilities.mean(0)[winner]:.3f}", fontsize=12)
    fig.tight_layout()
    return described(fig, f"{len(images)} views of one test digit ({', '.join(names)}); the network's probability "
                          f"of a {winner} in each: {', '.join(f'{p[winner]:.3f}' for p in probabilities)}; "
                          f"their average {probabilities.mean(0)[winner]:.3f}.")


def ensemble_sizes(curves: dict[str, list[float]]):
    """Accuracy of the average of the first k networks against k, one line per split."""
    fig, ax = plt.subplots(figsize=(5.5, 3.5))
    for (name, values), marker, colour in zip(curves.items(), MARKERS, PALETTE):
        ax.plot(range(1, len(values) + 1), values, marker=marker, color=colour, label=name)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("networks averaged (seeds 0 .. k-1)")
    ax.set_ylabel("accuracy (%)")
    ax.legend()
    fig.tight_layout()
    text = "; ".join(f"{name}: " + ", ".join(f"{v:.2f}" for v in values) for name, values in curves.items())
    return described(fig, f"Accuracy of the averaged probabilities of the first k networks, k = 1 to "
                          f"{max(len(v) for v in curves.values())}. {text}.")


def ladder(rows, claim: float, anchors, goals: dict[str, float]):
    """The ladder: each rung's test accuracy (dots: its seeds' mean with the 95% interval) against the paper's
    claim, the public anchors (grey, dashed) and the goals (dotted); ``rows``: ``study.load_ladder``'s."""
    fig, ax = plt.subplots(figsize=(9, 4.2))
    means = [r.test for r in rows]
    lows, highs = zip(*(r.interval for r in rows))
    x = np.arange(len(rows))
    ax.errorbar(x, means, yerr=[np.subtract(means, lows), np.subtract(highs, means)], fmt="o", color=PALETTE[0],
                capsize=4, label="measured: mean, 95% interval")
    ax.axhline(claim, color=PALETTE[1], linewidth=2, label=f"the paper's claim ({claim:.2f}%)")
    for anchor, style in zip(anchors, ("--", "-.", ":")):
        ax.axhline(anchor.accuracy, color="grey", linestyle=style, linewidth=1,
                   label=f"{anchor.label}: {anchor.accuracy:.2f}%")
    ax.set_xticks(x, [r.rung.label for r in rows], rotation=20, ha="right")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title("One network, five recipes")
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    text = "; ".join(f"{r.rung.label}: {r.text['test %']} (interval {r.text['95% interval %']})" for r in rows)
    return described(fig, f"Test accuracy of each rung of the ladder against the paper's claim of {claim:.2f}% and "
                          f"public anchors ({', '.join(f'{a.label} {a.accuracy:.2f}%' for a in anchors)}). {text}. "
                          f"The goals: a single network at {goals['single']:.2f}%, the ensemble at "
                          f"{goals['ensemble']:.2f}%.")


def gradient_noise(points):
    """A minibatch gradient's squared distance from the full gradient (relative to the full gradient's squared
    norm) against the batch size, log-log: measured by drawing batches (dots) beside the formula
    ``(1 - B/N) S^2 / B`` (line). ``points``: :class:`~mnistlib.course.factors.GradientNoise`."""
    sizes = np.array([p.batch_size for p in points])
    fig, ax = plt.subplots(figsize=(6, 3.4))
    ax.loglog(sizes, [p.predicted for p in points], color=PALETTE[0], label="predicted: (1 - B/N) S² / B")
    ax.loglog(sizes, [p.measured for p in points], "o", color=PALETTE[1], label="measured: batches drawn")
    ax.set_xticks(sizes, [str(s) for s in sizes])
    ax.minorticks_off()
    ax.set_xlabel("batch size B")
    ax.set_ylabel("noise / signal")
    ax.legend()
    fig.tight_layout()
    return described(fig, "A minibatch gradient's noise relative to the full gradient, against the batch size, log-log: "
                     + "; ".join(f"batch {p.batch_size}: measured {p.measured:.3g}, predicted {p.predicted:.3g}"
                                 for p in points) + ".")


def activations_on_their_inputs(panels: dict[str, tuple[object, torch.Tensor, float]], where: str = "a layer"):
    """One panel per activation (two to a row): the function over the inputs ``where`` (a layer of the network)
    met, their histogram shaded, with the best straight line through it on those inputs. ``panels``: name ->
    (function, inputs, R^2 of that line)."""
    rows = -(-len(panels) // 2)
    fig, axes = plt.subplots(rows, 2, figsize=(7, 2.9 * rows), squeeze=False)
    for ax in axes.flat[len(panels):]:
        ax.set_visible(False)
    for ax, (name, (function, inputs, r2)), colour in zip(axes.flat, panels.items(), PALETTE):
        x = inputs.flatten().double()
        grid = torch.linspace(-4, 4, 200, dtype=torch.float64)
        y = function(x)
        slope = float(((x - x.mean()) * (y - y.mean())).mean() / x.var(unbiased=False))
        line = float(y.mean()) + slope * (grid - float(x.mean()))
        twin = ax.twinx()
        twin.hist(x.clamp(-4, 4).numpy(), bins=40, density=True, color="0.88")
        twin.set_yticks([])
        ax.set_zorder(twin.get_zorder() + 1)
        ax.patch.set_visible(False)
        ax.plot(grid, function(grid), color=colour, linewidth=2, label=name)
        ax.plot(grid, line, "--", color="0.3", linewidth=1, label="best line")
        ax.set_title(f"{name}: R² = {r2:.2f}", fontsize=10)
        ax.set_xlabel("input")
    axes.flat[0].legend(fontsize=8, loc="upper left")
    fig.suptitle(f"Each activation over the inputs it met at {where} (histogram)", fontsize=11)
    fig.tight_layout()
    return described(fig, f"Each activation over the inputs it met at {where} (their histogram shaded), with the "
                     "best straight line through it on those inputs: " + "; ".join(
                         f"{name} R² {r2:.2f}" for name, (_, _, r2) in panels.items()) + ".")
