"""cnnlabs.plotting renders headless, with titles and labelled axes."""

from __future__ import annotations

import io

import numpy as np
import pytest
from matplotlib.figure import Figure

from cnnlabs import plotting
from cnnlabs.training import MultiSeedResult, TrainResult


def render(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    data = buffer.getvalue()
    assert data.startswith(b"\x89PNG")
    return data


def fake_run(losses, val=None) -> TrainResult:
    history = {"loss": list(losses)}
    if val is not None:
        history["val_loss"] = list(val)
    return TrainResult(
        history=history,
        epochs=len(losses),
        batch_size=1,
        examples_per_epoch=1,
        epoch_seconds=[1.0] * len(losses),
        examples_per_sec=1.0,
        seconds=1.0,
        params=1,
    )


def test_history_with_seed_band_and_validation():
    seeds = MultiSeedResult(
        [0, 1],
        [fake_run([1.0, 0.5, 0.2], [1.1, 0.7, 0.4]), fake_run([1.2, 0.7, 0.3], [1.3, 0.8, 0.5])],
    )
    fig = plotting.plot_history({"ReLU": seeds, "tanh": fake_run([2.0, 1.5, 1.0])}, "loss")
    render(fig)
    ax = fig.axes[0]
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels == ["ReLU (mean of 2 seeds)", "ReLU validation (mean of 2 seeds)", "tanh"]
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), [1.1, 0.6, 0.25])
    assert len(ax.collections) == 2  # one spread band per multi-seed curve
    assert ax.get_xlabel() == "epoch" and ax.get_ylabel() == "loss"
    assert ax.get_title() == "loss per epoch"


def test_history_errors():
    with pytest.raises(ValueError) as err:
        plotting.plot_history(fake_run([1.0]), "accuracy")
    assert str(err.value) == (
        "No run recorded the metric 'accuracy'. Plot one of the recorded metrics, "
        "e.g. 'loss' or 'accuracy' (compile with metrics=['accuracy'])."
    )
    with pytest.raises(TypeError) as err:
        plotting.plot_history(3.0)
    assert str(err.value) == (
        "Cannot plot a float. Pass a TrainResult, a MultiSeedResult, a Keras History, "
        "a history dict, or a list/dict of those."
    )


def test_image_grid_marks_wrong_predictions():
    images = np.random.default_rng(0).integers(0, 255, size=(5, 28, 28, 1), dtype=np.uint8)
    fig = plotting.image_grid(
        images,
        [0, 1, 2, 3, 4],
        predictions=[0, 1, 2, 3, 9],
        class_names=[str(i) for i in range(10)],
        ncols=3,
    )
    render(fig)
    titles = {ax.get_title(): ax.title.get_color() for ax in fig.axes if ax.get_title()}
    assert titles["9 (4)"] == "red" and titles["0 (0)"] == "black"
    with pytest.raises(ValueError) as err:
        plotting.image_grid(np.zeros((28,)))
    assert str(err.value) == (
        "images must have shape (batch, height, width, channels), got shape (28,). "
        "Add a batch axis with images[None] for a single image."
    )


def test_confusion_matrix_counts():
    fig = plotting.confusion_matrix([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 2, 0])
    render(fig)
    np.testing.assert_array_equal(fig.matrix, [[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    assert fig.axes[0].get_title() == "Confusion matrix (accuracy 66.7%)"
    assert fig.axes[0].get_xlabel() == "predicted class"


def test_filters_and_feature_maps():
    fig = plotting.plot_filters(np.random.rand(5, 5, 1, 6), title="C1")
    render(fig)
    assert fig._suptitle.get_text() == "C1 (5x5, 6 filters)"
    render(plotting.plot_filters(np.random.rand(3, 3, 3, 4)))
    fig = plotting.plot_feature_maps(np.random.rand(1, 28, 28, 6), title="C1 maps")
    render(fig)
    assert fig._suptitle.get_text() == "C1 maps (28x28, 6 channels)"
    with pytest.raises(ValueError) as err:
        plotting.plot_filters(np.zeros((5, 5, 6)))
    assert str(err.value) == (
        "kernel must have shape (kernel_height, kernel_width, in_channels, out_channels), "
        "got shape (5, 5, 6). Pass layer.get_weights()[0] of a Conv2D layer."
    )
