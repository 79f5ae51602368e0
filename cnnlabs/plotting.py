"""Every figure of the labs: training curves, image grids, confusion matrices, filters,
feature maps, gradient norms and effective receptive fields.

Every function returns a `matplotlib.figure.Figure` built without pyplot's global
state: a notebook shows it when it is the cell's last expression, a script saves it
with `fig.savefig(...)`, and tests render it headless. Every figure has a title and
labelled axes with units. The analysis and training modules compute; this module
draws what they return (it is the only module that builds a figure).

Used in: every lab.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator


def _as_runs(runs: Any, labels: Sequence[str] | None) -> list[tuple[str, list[dict[str, list[float]]]]]:
    """Normalizes the accepted inputs to [(label, [history, ...]), ...]."""
    from cnnlabs.training import MultiSeedResult, TrainResult

    def histories(item) -> list[dict[str, list[float]]]:
        if isinstance(item, MultiSeedResult):
            return [r.history for r in item.runs]
        if isinstance(item, TrainResult):
            return [item.history]
        if hasattr(item, "history") and isinstance(item.history, Mapping):  # keras History
            return [dict(item.history)]
        if isinstance(item, Mapping):
            return [dict(item)]
        raise TypeError(
            f"Cannot plot a {type(item).__name__}. Pass a TrainResult, a MultiSeedResult, "
            "a Keras History, a history dict, or a list/dict of those."
        )

    if isinstance(runs, Mapping) and runs and all(
        not isinstance(v, (list, tuple, np.ndarray)) for v in runs.values()
    ):
        items = list(runs.items())  # {"label": result, ...}
    elif isinstance(runs, (list, tuple)):
        names = list(labels) if labels is not None else [f"run {i + 1}" for i in range(len(runs))]
        if len(names) != len(runs):
            raise ValueError(f"Got {len(runs)} runs but {len(names)} labels. Pass one label per run.")
        items = list(zip(names, runs))
    else:
        items = [(labels[0] if labels else "", runs)]
    return [(str(name), histories(item)) for name, item in items]


def plot_history(
    runs: Any,
    metric: str = "loss",
    *,
    labels: Sequence[str] | None = None,
    title: str | None = None,
    validation: bool = True,
    logy: bool = False,
    held_out: str = "validation",
) -> Figure:
    """Training curves of one or several runs; several seeds get a mean line and a band.

    Args:
        runs: a `TrainResult`, a `MultiSeedResult` (plotted as mean +/- one standard
            deviation), a history dict, or a list or `{label: run}` dict of those.
        metric: history key to plot, e.g. `"loss"` or `"accuracy"`. Default `"loss"`.
        labels: legend labels when `runs` is a list.
        title: figure title (default: the metric's name).
        validation: also plot `val_<metric>` (dashed) when recorded. Default True.
        logy: log-scale y axis. Default False.
        held_out: str, the name of the held-out curve in the legend. Default
            `"validation"`; pass `"test"` when `validation_data` was the test set.

    Returns:
        A `matplotlib.figure.Figure`, with integer epoch ticks.

    Raises:
        ValueError: if no run recorded `metric`.
    """
    fig = Figure(figsize=(6.4, 4.0), layout="constrained")
    ax = fig.add_subplot()
    plotted = 0
    for index, (name, hists) in enumerate(_as_runs(runs, labels)):
        color = f"C{index % 10}"
        for key, style in ((metric, "-"), (f"val_{metric}", "--")):
            if key.startswith("val_") and not validation:
                continue
            series = [h[key] for h in hists if key in h]
            if not series:
                continue
            length = min(len(s) for s in series)
            values = np.asarray([s[:length] for s in series], dtype=float)
            epochs = np.arange(1, length + 1)
            mean = values.mean(axis=0)
            label = " ".join(p for p in (name, held_out if key.startswith("val_") else "") if p)
            if len(series) > 1:
                label += f" (mean of {len(series)} seeds)"
                std = values.std(axis=0)
                ax.fill_between(epochs, mean - std, mean + std, color=color, alpha=0.2, linewidth=0)
            ax.plot(epochs, mean, style, color=color, marker="o" if length < 15 else None,
                    label=label or key)
            plotted += 1
    if not plotted:
        raise ValueError(
            f"No run recorded the metric {metric!r}. Plot one of the recorded metrics, "
            "e.g. 'loss' or 'accuracy' (compile with metrics=['accuracy'])."
        )
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel(metric.replace("_", " "))
    if logy:
        ax.set_yscale("log")
    ax.set_title(title or f"{metric.replace('_', ' ')} per epoch")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    return fig


def _grid(n: int, ncols: int) -> tuple[int, int]:
    ncols = max(1, min(ncols, n))
    return math.ceil(n / ncols), ncols


def image_grid(
    images: np.ndarray,
    labels: Sequence[int] | None = None,
    *,
    class_names: Sequence[str] | None = None,
    predictions: Sequence[int] | None = None,
    ncols: int = 8,
    max_images: int = 32,
    title: str = "Examples",
) -> Figure:
    """A grid of images with their labels (and predictions, red when wrong).

    Args:
        images: array `(batch, height, width, channels)` (or `(batch, height, width)`),
            uint8 in [0, 255] or float in [0, 1].
        labels: optional integer labels.
        class_names: optional names indexed by label.
        predictions: optional predicted labels; titles turn red where they differ.
        ncols: columns. Default 8.
        max_images: at most this many images. Default 32.
        title: figure title.

    Returns:
        A `matplotlib.figure.Figure`.
    """
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4:
        raise ValueError(
            f"images must have shape (batch, height, width, channels), got shape {images.shape}. "
            "Add a batch axis with images[None] for a single image."
        )
    n = min(len(images), max_images)
    rows, cols = _grid(n, ncols)
    fig = Figure(figsize=(1.4 * cols, 1.6 * rows + 0.4), layout="constrained")
    fig.suptitle(title)
    axes = fig.subplots(rows, cols, squeeze=False)

    def name(label) -> str:
        label = int(label)
        return class_names[label] if class_names is not None else str(label)

    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= n:
            continue
        img = images[i]
        cmap = "gray" if img.shape[-1] == 1 else None
        ax.imshow(img[..., 0] if img.shape[-1] == 1 else img, cmap=cmap)
        if labels is not None:
            text, color = name(labels[i]), "black"
            if predictions is not None:
                text = f"{name(predictions[i])} ({text})"
                color = "black" if int(predictions[i]) == int(labels[i]) else "red"
            ax.set_title(text, fontsize=8, color=color)
    return fig


def confusion_matrix(
    y_true: Sequence[int],
    y_pred: Sequence[int],
    *,
    class_names: Sequence[str] | None = None,
    normalize: bool = True,
    title: str = "Confusion matrix",
) -> Figure:
    """A confusion matrix: rows are true classes, columns predicted classes.

    Args:
        y_true: integer labels.
        y_pred: integer predictions, same length.
        class_names: optional class names.
        normalize: show each row as fractions of that class (recall on the diagonal).
        title: figure title.

    Returns:
        A `matplotlib.figure.Figure`; the counts are in `fig.matrix`.
    """
    y_true = np.asarray(y_true, dtype=int).ravel()
    y_pred = np.asarray(y_pred, dtype=int).ravel()
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"y_true has {y_true.size} labels but y_pred has {y_pred.size}. "
            "Pass one prediction per label (e.g. y_pred = model.predict(x).argmax(axis=1))."
        )
    k = int(max(y_true.max(initial=0), y_pred.max(initial=0))) + 1
    if class_names is not None:
        k = max(k, len(class_names))
    counts = np.zeros((k, k), dtype=int)
    np.add.at(counts, (y_true, y_pred), 1)
    shown = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1) if normalize else counts
    fig = Figure(figsize=(1.0 + 0.55 * k, 0.8 + 0.5 * k), layout="constrained")
    ax = fig.add_subplot()
    image = ax.imshow(shown, cmap="Blues", vmin=0)
    fig.colorbar(image, ax=ax, label="fraction of true class" if normalize else "count")
    names = list(class_names) if class_names is not None else [str(i) for i in range(k)]
    ax.set_xticks(range(k), names, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(k), names, fontsize=8)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    accuracy = np.trace(counts) / max(counts.sum(), 1)
    ax.set_title(f"{title} (accuracy {accuracy:.1%})")
    if k <= 12:
        for (i, j), value in np.ndenumerate(shown):
            text = f"{value:.2f}" if normalize else str(value)
            ax.text(j, i, text, ha="center", va="center", fontsize=7,
                    color="white" if value > shown.max() / 2 else "black")
    fig.matrix = counts
    return fig


def plot_filters(kernel: np.ndarray, *, title: str = "Filters", max_filters: int = 64,
                 ncols: int = 8) -> Figure:
    """Shows convolution filters, one panel per output channel.

    Args:
        kernel: Conv2D kernel `(kernel_height, kernel_width, in_channels, out_channels)`
            (`layer.get_weights()[0]`). With 3 input channels the filters are shown in
            colour, otherwise the mean over input channels in grey.
        title: figure title.
        max_filters: at most this many filters. Default 64.
        ncols: columns. Default 8.

    Returns:
        A `matplotlib.figure.Figure`.
    """
    kernel = np.asarray(kernel, dtype=float)
    if kernel.ndim != 4:
        raise ValueError(
            f"kernel must have shape (kernel_height, kernel_width, in_channels, out_channels), "
            f"got shape {kernel.shape}. Pass layer.get_weights()[0] of a Conv2D layer."
        )
    n = min(kernel.shape[-1], max_filters)
    rows, cols = _grid(n, ncols)
    fig = Figure(figsize=(1.2 * cols, 1.2 * rows + 0.5), layout="constrained")
    fig.suptitle(f"{title} ({kernel.shape[0]}x{kernel.shape[1]}, {kernel.shape[-1]} filters)")
    axes = fig.subplots(rows, cols, squeeze=False)
    grey = kernel.shape[2] != 3
    scale = max(float(np.abs(kernel[..., :n].mean(axis=2)).max()), 1e-12) if grey else None
    image = None
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= n:
            continue
        f = kernel[..., i]
        if not grey:
            f = (f - f.min()) / max(f.max() - f.min(), 1e-12)
            ax.imshow(f)
        else:  # one shared, symmetric scale: panels can be compared, 0 is mid-grey
            image = ax.imshow(f.mean(axis=-1), cmap="gray", vmin=-scale, vmax=scale)
        ax.set_title(f"filter {i}", fontsize=7)
    if image is not None:
        what = "weight" if kernel.shape[2] == 1 else "weight (mean over input channels)"
        fig.colorbar(image, ax=axes, shrink=0.8, label=what)
    return fig


def plot_feature_maps(maps: np.ndarray, *, title: str = "Feature maps", max_maps: int = 32,
                      ncols: int = 8, panel_titles: Sequence[str] | None = None,
                      value_label: str = "activation") -> Figure:
    """Shows the channels of one example's activations as images.

    Args:
        maps: activations `(height, width, channels)` or `(1, height, width, channels)`.
        title: figure title.
        max_maps: at most this many channels. Default 32.
        ncols: columns. Default 8.
        panel_titles: optional title of each panel (default: "channel i").
        value_label: label of the colour scale, shared by every panel. Default
            `"activation"`.

    Returns:
        A `matplotlib.figure.Figure` with one colour scale for all panels.
    """
    maps = np.asarray(maps, dtype=float)
    if maps.ndim == 4 and maps.shape[0] == 1:
        maps = maps[0]
    if maps.ndim != 3:
        raise ValueError(
            f"maps must have shape (height, width, channels) for one example, got {maps.shape}. "
            "Select one example first, e.g. maps[0]."
        )
    n = min(maps.shape[-1], max_maps)
    rows, cols = _grid(n, ncols)
    fig = Figure(figsize=(1.3 * cols, 1.3 * rows + 0.5), layout="constrained")
    fig.suptitle(f"{title} ({maps.shape[0]}x{maps.shape[1]}, {maps.shape[-1]} channels)")
    axes = fig.subplots(rows, cols, squeeze=False)
    low, high = float(maps[..., :n].min()), float(maps[..., :n].max())
    image = None
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            image = ax.imshow(maps[..., i], cmap="viridis", vmin=low, vmax=max(high, low + 1e-12))
            name = panel_titles[i] if panel_titles is not None and i < len(panel_titles) else None
            ax.set_title(name or f"channel {i}", fontsize=7)
    if image is not None:
        fig.colorbar(image, ax=axes, shrink=0.8, label=value_label)
    return fig


def plot_gradient_norms(norms: Mapping, *, title: str = "Gradient norm per layer") -> Figure:
    """Log-scale line chart of gradient norms by depth.

    Args:
        norms: a dict from `cnnlabs.analysis.gradient_norms`, or ``{label: dict}`` to compare
            several models on one chart.
        title: figure title.

    Returns:
        A `matplotlib.figure.Figure`.
    """
    if norms and all(isinstance(v, dict) for v in norms.values()):
        series = dict(norms)
    else:
        series = {"": norms}
    fig = Figure(figsize=(6.4, 4.0), layout="constrained")
    ax = fig.add_subplot()
    for label, values in series.items():
        depth = np.arange(1, len(values) + 1)
        ax.plot(depth, list(values.values()), marker="o", label=label or None)
    ax.set_yscale("log")
    ax.set_title(title)
    ax.set_xlabel("layer depth (weighted layers, input first)")
    ax.set_ylabel("||dL/dW||_2 (log scale)")
    ax.grid(True, which="both", alpha=0.3)
    if len(series) > 1:
        ax.legend()
    return fig


def plot_effective_receptive_field(erf: Any, *, title: str | None = None) -> Figure:
    """Heat map of an effective receptive field with the theoretical field outlined.

    Args:
        erf: a `cnnlabs.analysis.EffectiveReceptiveField` (its `.map`,
            `.theoretical_box`, `.layer`, `.unit` and `.samples` are drawn).
        title: figure title (default: names the layer, the unit and the inputs).

    Returns:
        ``matplotlib.figure.Figure`` (title, axes in input pixels, colorbar).
    """
    from matplotlib.patches import Rectangle

    fig = Figure(figsize=(5.2, 4.4), layout="constrained")
    ax = fig.add_subplot()
    image = ax.imshow(erf.map, cmap="magma", vmin=0, vmax=1)
    top, left, bottom, right = erf.theoretical_box
    ax.add_patch(Rectangle((left - 0.5, top - 0.5), right - left + 1, bottom - top + 1,
                           fill=False, edgecolor="cyan", linewidth=1.2,
                           label="theoretical receptive field"))
    ax.legend(loc="upper right", fontsize=7)
    ax.set_title(title or f"Effective receptive field of {erf.layer} unit {erf.unit} "
                          f"({erf.samples} inputs)")
    ax.set_xlabel("input column (pixels)")
    ax.set_ylabel("input row (pixels)")
    fig.colorbar(image, ax=ax, label="mean |gradient| (relative to max)")
    return fig
