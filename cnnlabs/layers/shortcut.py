"""The parameter-free "option A" shortcut of He et al. (2016).

When a residual block halves the resolution and widens the maps, option A keeps
the shortcut parameter free: it subsamples the input with stride ``s`` (takes
every ``s``-th pixel, as a 1x1 convolution with stride ``s`` and an identity
kernel would) and appends zero maps to reach the new width:

    y[:, i, j, c] = x[:, s*i, s*j, c]  for c < C_in,   0 for C_in <= c < C_out

Reference: K. He, X. Zhang, S. Ren, J. Sun, "Deep residual learning for image
recognition", CVPR 2016, Section 3.3 ("(A) zero-padding shortcuts") and 4.2.

Used in: lab 05 (ResNet and shortcuts).
"""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="cnnlabs")
class ZeroPadShortcut(keras.layers.Layer):
    """Identity shortcut with stride-``s`` subsampling and zero-padded extra channels.

    Args:
        filters: int, the number of output channels (at least the input's).
        strides: int, the subsampling step in height and width, default 1.
        **kwargs: base ``keras.layers.Layer`` arguments (``name``, ``dtype``...).

    Input shape: ``(batch, height, width, channels)``.
    Output shape: ``(batch, ceil(height / strides), ceil(width / strides), filters)``.

    Raises:
        ValueError: if ``filters`` is smaller than the input's channels, or not positive.

    Example:

    >>> import numpy as np
    >>> x = np.arange(16, dtype="float32").reshape(1, 4, 4, 1)
    >>> y = np.asarray(ZeroPadShortcut(filters=2, strides=2)(x))
    >>> y.shape, y[0, :, :, 0].tolist(), float(abs(y[..., 1]).sum())
    ((1, 2, 2, 2), [[0.0, 2.0], [8.0, 10.0]], 0.0)
    """

    def __init__(self, filters, strides=1, **kwargs):
        super().__init__(**kwargs)
        for arg, value in (("filters", filters), ("strides", strides)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(
                    f"{arg}={value!r} is not valid: expected a positive int. "
                    "Use e.g. ZeroPadShortcut(filters=32, strides=2)."
                )
        self.filters = filters
        self.strides = strides

    def build(self, input_shape):
        if input_shape[-1] is None or input_shape[-1] > self.filters:
            raise ValueError(
                f"ZeroPadShortcut got an input with {input_shape[-1]} channels but "
                f"filters={self.filters}; expected filters >= input channels (option A only "
                "adds zero maps). Use a projection shortcut (option B) to reduce channels."
            )

    def call(self, inputs):
        s = self.strides
        x = inputs[:, ::s, ::s, :] if s > 1 else inputs
        extra = self.filters - inputs.shape[-1]
        if extra:
            x = ops.pad(x, [[0, 0], [0, 0], [0, 0], [0, extra]])
        return x

    def compute_output_shape(self, input_shape):
        def out(size):
            return None if size is None else -(-size // self.strides)

        return (input_shape[0], out(input_shape[1]), out(input_shape[2]), self.filters)

    def get_config(self):
        config = super().get_config()
        config.update({"filters": self.filters, "strides": self.strides})
        return config
