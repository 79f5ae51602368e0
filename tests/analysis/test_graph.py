"""cnnlabs.analysis.graph: the one module that reads Keras's private graph attributes.

These tests pin what `functional_graph` and `nodes` must give (every call of every
layer, inputs first, with its tensors), so a Keras release that changes the
private attributes fails here rather than deep inside a table.
"""

from __future__ import annotations

import keras
import pytest

from cnnlabs.analysis.graph import functional_graph, layer_output, nodes, single_input

L = keras.layers


def branchy() -> keras.Model:
    inp = keras.Input((8, 8, 3), name="image")
    shared = L.Conv2D(3, 1, name="shared")
    a = shared(inp)
    b = shared(a)  # the same layer called twice: two nodes
    out = L.Add(name="add")([a, b])
    return keras.Model(inp, out, name="branchy")


def test_nodes_are_every_call_inputs_first_with_their_tensors():
    model = branchy()
    order = [node.operation.name for node in nodes(functional_graph(model))]
    assert order == ["image", "shared", "shared", "add"]
    add = list(nodes(model))[-1]
    assert [tuple(t.shape) for t in add.input_tensors] == [(None, 8, 8, 3)] * 2
    assert add.output_tensors[0] is model.outputs[0]


def test_a_built_sequential_model_has_a_functional_graph():
    model = keras.Sequential([keras.Input((4,)), L.Dense(2, name="d")], name="seq")
    graph = functional_graph(model)
    assert [node.operation.name for node in nodes(graph)][-1] == "d"
    assert graph.outputs[0] is model.outputs[0]


# The refusals (unbuilt Sequential, subclassed model) are tested through layer_table in
# test_table.py.


def test_layer_output_and_close_matches():
    model = branchy()
    assert layer_output(model, None) == (model.outputs[0], "add")
    assert layer_output(model, "add")[1] == "add"
    with pytest.raises(ValueError) as info:
        layer_output(model, "Shared")
    assert str(info.value) == (
        "layer_name='Shared' is not a layer of model 'branchy'; expected one of its 3 layer "
        "names. Did you mean 'shared'?"
    )
    assert single_input(model.inputs) is model.inputs[0]
