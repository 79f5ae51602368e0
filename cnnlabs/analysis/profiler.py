"""Floating-point operations counted by TensorFlow's own profiler, to cross-check MACs.

TensorFlow's v1 profiler (``tf.compat.v1.profiler``) counts the floating-point
operations of each op of a frozen graph from its registered cost functions:
a convolution, depthwise convolution or matrix product costs ``2 * MACs``
(one multiply and one add per MAC), a bias addition one FLOP per output
element, a pooling window ``k_h * k_w`` FLOPs per output element, softmax 5 per
element, inference batch normalization a multiply and an add per element;
ReLU, concatenation and reshapes are not counted. :func:`count_macs` counts
only the multiply-accumulates, so ``2 * count_macs(model)`` equals the
profiler's FLOPs of the convolution and matrix-product ops exactly.
"""

from __future__ import annotations

from collections import defaultdict

__all__ = ["MAC_OP_SUFFIXES", "mac_flops", "profiler_flops"]

#: Op names (last path component) of the ops whose FLOPs are 2 * MACs.
MAC_OP_SUFFIXES = ("convolution", "Conv2D", "MatMul", "depthwise", "BatchMatMulV2")


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
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import (
        convert_variables_to_constants_v2,
    )

    spec = tf.TensorSpec((1,) + tuple(model.inputs[0].shape[1:]), model.inputs[0].dtype)
    concrete = tf.function(lambda x: model(x, training=False)).get_concrete_function(spec)
    frozen = convert_variables_to_constants_v2(concrete)
    builder = tf.compat.v1.profiler.ProfileOptionBuilder
    options = builder(builder.float_operation()).with_empty_output().build()
    profile = tf.compat.v1.profiler.profile(frozen.graph, options=options)
    flops: dict[str, int] = defaultdict(int)

    def walk(node):
        for child in node.children:
            if child.float_ops:
                flops[child.name] += int(child.float_ops)
            walk(child)

    walk(profile)
    return dict(flops)


def mac_flops(flops: dict[str, int]) -> int:
    """Sum of the profiler FLOPs of convolution and matrix-product ops (``2 * MACs``)."""
    return sum(v for k, v in flops.items() if k.rsplit("/", 1)[-1] in MAC_OP_SUFFIXES)
