"""Floating-point operations counted by TensorFlow's own profiler, to cross-check MACs.

TensorFlow's v1 profiler (``tf.compat.v1.profiler``) counts the floating-point
operations of each op of a frozen graph from its registered cost functions:
a convolution, depthwise convolution or matrix product costs ``2 * MACs``
(one multiply and one add per MAC), a bias addition one FLOP per output
element, a pooling window ``k_h * k_w`` FLOPs per output element, softmax 5 per
element, inference batch normalization a multiply and an add per element;
ReLU, concatenation and reshapes are not counted. Functions called from the
graph (Keras compiles grouped convolutions with XLA on CPU) are profiled at
their call site's shapes. :func:`count_macs` counts
only the multiply-accumulates, so ``2 * count_macs(model)`` equals the
profiler's FLOPs of the convolution and matrix-product ops exactly.
"""

from __future__ import annotations

from collections import defaultdict

__all__ = ["MAC_OP_SUFFIXES", "mac_flops", "profiler_flops"]

#: Op names (last path component) of the ops whose FLOPs are 2 * MACs.
MAC_OP_SUFFIXES = (
    "convolution", "Conv2D", "MatMul", "depthwise", "BatchMatMulV2",
    "separable_conv2d",  # the pointwise step of tf.nn.separable_conv2d
)  # fmt: skip


def profiler_flops(model) -> dict[str, int]:
    """FLOPs of one inference pass of one example, per op, from TensorFlow's profiler.

    Args:
        model: a built ``keras.Model`` with a fixed input shape.

    Returns:
        dict ``{op_name: flops}`` of every op the profiler costs, in the frozen graph
        of ``model(x, training=False)`` with ``x`` of shape ``(1,) + input_shape``.
        Sum the values for the total.

    Example:
        >>> import keras
        >>> model = keras.Sequential([keras.Input((8, 8, 3)),
        ...                           keras.layers.Conv2D(4, 3, use_bias=False)])
        >>> sum(profiler_flops(model).values()) == 2 * 6 * 6 * 4 * 3 * 3 * 3
        True
    """
    import numpy as np
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import (
        convert_variables_to_constants_v2,
    )

    spec = tf.TensorSpec((1,) + tuple(model.inputs[0].shape[1:]), model.inputs[0].dtype)
    concrete = tf.function(lambda x: model(x, training=False)).get_concrete_function(spec)
    frozen = convert_variables_to_constants_v2(concrete)
    graph_def = frozen.graph.as_graph_def()
    library = {f.signature.name: f for f in graph_def.library.function}
    calls = [op for op in frozen.graph.get_operations() if op.type in _CALL_OPS]
    flops: dict[str, int] = defaultdict(int)
    if not calls:
        _add_profile(frozen.graph, None, "", flops)
        return dict(flops)
    # Keras runs some ops inside a called function (grouped convolutions are compiled
    # with XLA on CPU). The profiler does not look into calls, and the ops after a call
    # have no static shape; one traced run gives every shape, and each called function
    # is rebuilt with its call site's shapes and profiled too.
    graph = tf.Graph()
    with graph.as_default():
        tf.import_graph_def(graph_def, name="")
    run_meta = tf.compat.v1.RunMetadata()
    trace = tf.compat.v1.RunOptions(trace_level=tf.compat.v1.RunOptions.FULL_TRACE)
    feed = {frozen.inputs[0].name: np.zeros(spec.shape, spec.dtype.as_numpy_dtype)}
    with tf.compat.v1.Session(graph=graph) as session:
        session.run(frozen.outputs[0].name, feed, options=trace, run_metadata=run_meta)
    shapes = {
        f"{node.node_name}:{out.slot}": [d.size for d in out.tensor_description.shape.dim]
        for device in run_meta.step_stats.dev_stats
        for node in device.node_stats
        for out in node.output
    }
    _add_profile(graph, run_meta, "", flops)
    for op in calls:
        inputs = [tf.TensorShape(shapes.get(t.name, t.shape)) for t in op.inputs]
        _add_function(library, op.get_attr("f").name, inputs, f"{op.name}/", flops)
    return dict(flops)


_CALL_OPS = ("PartitionedCall", "StatefulPartitionedCall")


def _add_profile(graph, run_meta, prefix, flops) -> None:
    import tensorflow as tf

    builder = tf.compat.v1.profiler.ProfileOptionBuilder
    options = builder(builder.float_operation()).with_empty_output().build()
    profile = tf.compat.v1.profiler.profile(graph, run_meta=run_meta, options=options)

    def walk(node):
        for child in node.children:
            if child.float_ops:
                flops[prefix + child.name] += int(child.float_ops)
            walk(child)

    walk(profile)


def _add_function(library, name, input_shapes, prefix, flops) -> None:
    """Profile the called function ``name`` built with ``input_shapes`` (and its own calls)."""
    from tensorflow.python.framework.function_def_to_graph import function_def_to_graph

    inner = function_def_to_graph(library[name], input_shapes=input_shapes)
    _add_profile(inner, None, prefix, flops)
    for op in inner.get_operations():
        if op.type in _CALL_OPS:
            shapes = [t.shape for t in op.inputs]
            _add_function(library, op.get_attr("f").name, shapes, f"{prefix}{op.name}/", flops)


def mac_flops(flops: dict[str, int]) -> int:
    """Sum of the profiler FLOPs of convolution and matrix-product ops (``2 * MACs``)."""
    return sum(v for k, v in flops.items() if k.rsplit("/", 1)[-1] in MAC_OP_SUFFIXES)
