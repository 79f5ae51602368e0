"""feature_maps returns the real activations of a layer."""

from __future__ import annotations

import io

import keras
import numpy as np
import pytest

from cnnlabs.analysis import feature_maps
from cnnlabs.plotting import plot_feature_maps

L = keras.layers


def model():
    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input((10, 10, 2)), L.Conv2D(3, 3, name="c1"),
                             L.ReLU(name="relu"), L.Conv2D(2, 3, name="c2")], name="tiny")


def test_matches_a_direct_convolution():
    m = model()
    x = np.random.default_rng(0).normal(size=(2, 10, 10, 2)).astype("float32")
    maps = feature_maps(m, "c1", x)
    kernel, bias = (np.asarray(w) for w in m.get_layer("c1").get_weights())
    expected = np.zeros((2, 8, 8, 3))
    for i in range(8):
        for j in range(8):
            expected[:, i, j] = np.einsum("bhwc,hwcf->bf", x[:, i:i + 3, j:j + 3], kernel) + bias
    np.testing.assert_allclose(maps, expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(feature_maps(m, "relu", x), np.maximum(expected, 0), atol=1e-5)


def test_last_layer_equals_the_model_output_and_one_example_gets_a_batch_axis():
    m = model()
    x = np.ones((10, 10, 2), "float32")
    out = feature_maps(m, "c2", x)
    assert out.shape == (1, 6, 6, 2)
    np.testing.assert_allclose(out, np.asarray(m(x[None])), rtol=1e-6)


def test_plot_has_a_title_and_one_panel_per_channel():
    fig = plot_feature_maps(feature_maps(model(), "c1", np.ones((1, 10, 10, 2))), title="C1")
    assert fig._suptitle.get_text().startswith("C1")
    panels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert sum(ax.has_data() for ax in panels) == 3  # one per channel, beside a shared colorbar
    fig.savefig(io.BytesIO(), format="png")


def test_errors():
    m = model()
    with pytest.raises(ValueError) as info:
        feature_maps(m, "C1", np.ones((1, 10, 10, 2)))
    assert str(info.value) == (
        "layer_name='C1' is not a layer of model 'tiny'; expected one of its 3 layer names. "
        "Did you mean 'c1'?"
    )
    with pytest.raises(ValueError) as info:
        feature_maps(m, "c1", np.ones((1, 12, 12, 2)))
    assert str(info.value) == (
        "x has shape (1, 12, 12, 2); expected (batch,) + (10, 10, 2) for model 'tiny'. "
        "Resize or reshape the images, e.g. x.reshape((-1,) + (10, 10, 2))."
    )


@pytest.mark.parametrize(
    "name", ["plot_feature_maps", "plot_gradient_norms", "plot_effective_receptive_field"]
)
def test_the_figures_moved_to_plotting_and_an_old_name_says_where(name):
    import cnnlabs.analysis
    import cnnlabs.plotting

    assert callable(getattr(cnnlabs.plotting, name))
    with pytest.raises(AttributeError) as info:
        getattr(cnnlabs.analysis, name)
    assert str(info.value) == (
        f"cnnlabs.analysis.{name} moved to cnnlabs.plotting (the module that draws every "
        f"figure): use `from cnnlabs.plotting import {name}`."
    )
