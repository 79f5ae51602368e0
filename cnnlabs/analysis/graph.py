"""The functional graph of a built Keras model: its nodes in order, a layer's output.

The analysis tables need every call of every layer with the tensors it took and
gave (branches, merges, shared layers, nested models). Keras 3 has no public API
for the nodes of a functional graph, so this module is the one place that reads
Keras's private attributes: `Sequential._functional` (the functional graph a
built Sequential model keeps) and `Functional._nodes_by_depth` (the nodes by
depth). Everything else here is public API (`model.inputs`, `model.outputs`,
`model.get_layer`, `layer.output`). `tests/analysis/test_graph.py` pins what these
attributes must give, so a Keras upgrade that changes them fails there, not deep
inside a table.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator

import keras

__all__ = ["functional_graph", "layer_output", "nodes", "single_input"]


def functional_graph(model) -> keras.Model:
    """The functional model behind `model` (a built Sequential keeps one; a functional
    model is its own graph).

    Raises:
        ValueError: if a Sequential model has not been built.
        TypeError: if `model` is a subclassed model without a functional graph.
    """
    if isinstance(model, keras.Sequential):
        functional = getattr(model, "_functional", None)  # private: no public equivalent
        if functional is None:
            raise ValueError(
                f"model {model.name!r} is a Sequential model that has not been built, so its "
                f"layers have no shapes yet; expected a built model. Start it with "
                f"keras.Input(shape=(height, width, channels)) or call "
                f"model.build((None, height, width, channels)) first."
            )
        return functional
    if not isinstance(model, keras.Model) or not hasattr(model, "_nodes_by_depth"):
        raise TypeError(
            f"layer_table needs a Sequential or functional keras.Model; got "
            f"{type(model).__name__}. Build the model with keras.Input and layer calls "
            f"(functional API) or keras.Sequential."
        )
    return model


def nodes(graph: keras.Model) -> Iterator:
    """Every node (one call of one layer) of a functional `graph`, inputs first.

    Each node has `.operation` (the layer), `.input_tensors` and `.output_tensors`.
    """
    by_depth = graph._nodes_by_depth  # private: Keras has no public node list
    for depth in sorted(by_depth, reverse=True):
        yield from by_depth[depth]


def layer_output(model: keras.Model, layer_name: str | None):
    """`(tensor, name)`: the symbolic output of layer `layer_name` (the model's output
    when None).

    Raises:
        ValueError: for a name that is not a layer of `model`, with close matches.
    """
    if layer_name is None:
        return model.outputs[0], model.layers[-1].name
    try:
        layer = model.get_layer(layer_name)
    except ValueError:
        names = [layer.name for layer in model.layers]
        lower = {name.lower(): name for name in names}
        close = [lower[n] for n in difflib.get_close_matches(layer_name.lower(), list(lower), n=3)]
        hint = (
            f"Did you mean {' or '.join(map(repr, close))}?"
            if close
            else "Use [l.name for l in model.layers] to list them."
        )
        raise ValueError(
            f"layer_name={layer_name!r} is not a layer of model {model.name!r}; expected one of "
            f"its {len(names)} layer names. {hint}"
        ) from None
    return layer.output, layer.name


def single_input(inputs):
    """A model's input structure: the tensor itself for single-input models."""
    return inputs[0] if len(inputs) == 1 else inputs
