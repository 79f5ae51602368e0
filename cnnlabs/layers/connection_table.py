"""A convolution with a fixed input->output connection table (LeNet-5's C3).

LeCun et al. (1998) connect each of C3's 16 feature maps to only a subset of
S2's 6 maps (Table I): 60 connections instead of 6 x 16 = 96, which "keeps the
number of connections within reasonable bounds" and "forces a break of
symmetry". :class:`PartialConv2D` stores only the weights of the connections
that exist, so ``count_params()`` reports exactly the paper's count
(60 x 5 x 5 + 16 biases = 1,516 for C3), and rebuilds the dense
``(kh, kw, in_channels, filters)`` kernel with zeros elsewhere at call time:

    y[..., j] = b[j] + sum_{i in connections[j]} conv(x[..., i], w[:, :, i, j])

Reference: Y. LeCun, L. Bottou, Y. Bengio, P. Haffner, "Gradient-based learning
applied to document recognition", Proc. IEEE 86(11), 1998, Section II.B, Table I.

Used in: lab 01 (LeNet-5).
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops


def _normalize_pair(value, name: str) -> tuple[int, int]:
    if isinstance(value, int):
        value = (value, value)
    value = tuple(value)
    if len(value) != 2 or not all(isinstance(v, int) and v > 0 for v in value):
        raise ValueError(
            f"{name}={value!r} is not valid: expected a positive int or a pair of positive "
            f"ints. Use e.g. {name}=5 or {name}=(5, 5)."
        )
    return value


@keras.saving.register_keras_serializable(package="cnnlabs")
class PartialConv2D(keras.layers.Layer):
    """2D convolution in which output map ``j`` sees only input maps ``connections[j]``.

    Args:
        filters: int, number of output maps; must equal ``len(connections)``.
        kernel_size: int or pair of ints, e.g. ``5``.
        connections: sequence of sequences of int; ``connections[j]`` lists the
            input channels connected to output map ``j`` (no duplicates).
        strides: int or pair, default ``1``.
        padding: ``"valid"`` (default) or ``"same"``.
        activation: activation name or callable, default ``None``.
        use_bias: bool, default ``True`` (one bias per output map).
        kernel_initializer: initializer for the ``(kh, kw, n_connections)`` kernel.
        bias_initializer: initializer for the ``(filters,)`` bias.
        **kwargs: base ``keras.layers.Layer`` arguments (``name``, ``dtype``...).

    Input shape: ``(batch, height, width, in_channels)``.
    Output shape: ``(batch, new_height, new_width, filters)``.

    Raises:
        ValueError: if ``connections`` is empty, has duplicates, does not match
            ``filters``, or names an input channel that does not exist.

    Example:

    >>> import numpy as np
    >>> layer = PartialConv2D(2, 3, connections=[[0], [0, 1]])
    >>> tuple(layer(np.zeros((1, 5, 5, 2), "float32")).shape)
    (1, 3, 3, 2)
    >>> layer.count_params()  # 3 connections x 3 x 3 weights + 2 biases
    29
    """

    def __init__(
        self,
        filters,
        kernel_size,
        connections,
        strides=1,
        padding="valid",
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        connections = [[int(i) for i in row] for row in connections]
        if not connections or any(len(row) == 0 for row in connections):
            raise ValueError(
                f"connections={connections!r} is not valid: every output map needs at least "
                "one input channel. Give one non-empty list of input channels per filter."
            )
        if len(connections) != filters:
            raise ValueError(
                f"filters={filters} but connections lists {len(connections)} output maps; "
                "expected one list of input channels per filter. "
                f"Use filters={len(connections)} or add rows to connections."
            )
        for j, row in enumerate(connections):
            if len(set(row)) != len(row) or min(row) < 0:
                raise ValueError(
                    f"connections[{j}]={row!r} is not valid: expected distinct, non-negative "
                    "input channel indices. Remove the duplicates or negative entries."
                )
        padding = padding.lower()
        if padding not in ("valid", "same"):
            raise ValueError(
                f'padding={padding!r} is not supported; expected "valid" or "same". '
                'Use padding="valid" as in LeNet-5.'
            )
        self.filters = int(filters)
        self.kernel_size = _normalize_pair(kernel_size, "kernel_size")
        self.strides = _normalize_pair(strides, "strides")
        self.connections = connections
        self.padding = padding
        self.activation = keras.activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.input_spec = keras.layers.InputSpec(ndim=4)

    @property
    def num_connections(self) -> int:
        """The number of (input map, output map) pairs that are connected."""
        return sum(len(row) for row in self.connections)

    def build(self, input_shape):
        in_channels = input_shape[-1]
        highest = max(max(row) for row in self.connections)
        if in_channels is None or highest >= in_channels:
            raise ValueError(
                f"connections refers to input channel {highest}, but the input has "
                f"{in_channels} channels (shape {tuple(input_shape)}). "
                "Use channel indices between 0 and in_channels - 1."
            )
        self.in_channels = int(in_channels)
        # One-hot selection matrix: connection k -> position (i, j) of the dense kernel.
        select = np.zeros((self.num_connections, self.in_channels * self.filters), "float32")
        k = 0
        for j, row in enumerate(self.connections):
            for i in row:
                select[k, i * self.filters + j] = 1.0
                k += 1
        self._select = select
        kh, kw = self.kernel_size
        self.kernel = self.add_weight(
            name="kernel",
            shape=(kh, kw, self.num_connections),
            initializer=self.kernel_initializer,
        )
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias", shape=(self.filters,), initializer=self.bias_initializer
            )
        else:
            self.bias = None
        self.input_spec = keras.layers.InputSpec(ndim=4, axes={-1: self.in_channels})

    def dense_kernel(self):
        """The ``(kh, kw, in_channels, filters)`` kernel, zero where not connected."""
        kh, kw = self.kernel_size
        select = ops.convert_to_tensor(self._select, dtype=self.kernel.dtype)
        flat = ops.matmul(self.kernel, select)
        return ops.reshape(flat, (kh, kw, self.in_channels, self.filters))

    def call(self, inputs):
        kernel = ops.cast(self.dense_kernel(), inputs.dtype)
        outputs = ops.conv(inputs, kernel, strides=self.strides, padding=self.padding)
        if self.use_bias:
            outputs = outputs + ops.cast(self.bias, outputs.dtype)
        return self.activation(outputs)

    def compute_output_shape(self, input_shape):
        def out(size, k, s):
            if size is None:
                return None
            return -(-size // s) if self.padding == "same" else (size - k) // s + 1

        return (
            input_shape[0],
            out(input_shape[1], self.kernel_size[0], self.strides[0]),
            out(input_shape[2], self.kernel_size[1], self.strides[1]),
            self.filters,
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "filters": self.filters,
                "kernel_size": self.kernel_size,
                "connections": self.connections,
                "strides": self.strides,
                "padding": self.padding,
                "activation": keras.activations.serialize(self.activation),
                "use_bias": self.use_bias,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            }
        )
        return config
