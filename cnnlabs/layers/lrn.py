"""Local response normalization across channels (Krizhevsky et al. 2012).

AlexNet's "brightness normalization", Section 3.3 of the paper:

    b[..., i] = a[..., i] / (k + alpha * sum_{j=max(0, i-n//2)}^{min(N-1, i+n//2)} a[..., j]**2)**beta

with N channels, a window of ``n`` adjacent channels centred on ``i`` (cut off at
the first and last channel) and the paper's ``k=2, n=5, alpha=1e-4, beta=0.75``.

Two conventions exist for ``alpha``; this layer supports both:

* Paper and TensorFlow: ``alpha`` multiplies the plain sum of squares.
  ``tf.nn.local_response_normalization(a, depth_radius=(n - 1) // 2, bias=k,
  alpha=alpha, beta=beta)`` computes exactly the formula above (TF sums over
  ``[i - depth_radius, i + depth_radius]`` and does not divide by ``n``).
* Caffe (``LRN`` layer, ``ACROSS_CHANNELS``) and PyTorch
  (``torch.nn.LocalResponseNorm``): ``alpha`` multiplies the *mean* of the
  squares, ``k + (alpha / n) * sum``. Caffe's reference AlexNet uses
  ``local_size=5, alpha=1e-4`` and ``k=1``, which is the paper's formula with
  ``alpha = 2e-5`` and ``k = 1``. Pass ``alpha_is_mean=True`` to use this
  convention; the TF equivalent is then ``alpha=alpha / n``.

Reference: A. Krizhevsky, I. Sutskever, G. E. Hinton, "ImageNet classification
with deep convolutional neural networks", NIPS 2012, Section 3.3.

Used in: lab 02 (AlexNet).
"""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="cnnlabs")
class LocalResponseNormalization(keras.layers.Layer):
    """Normalize each activation by the energy of ``size`` neighbouring channels.

    ``b_i = a_i / (k + alpha * sum_{|j - i| <= size // 2} a_j**2)**beta`` over the
    last (channel) axis; see the module docstring for the two alpha conventions.
    The layer has no weights.

    Args:
        size: int, odd, the paper's ``n`` (number of channels in the window),
            default 5. TensorFlow's ``depth_radius`` is ``(size - 1) // 2``.
        k: float, the additive constant (TensorFlow's ``bias``), default 2.0.
        alpha: float, default 1e-4.
        beta: float, default 0.75.
        alpha_is_mean: bool, default False (paper/TensorFlow). True uses the
            Caffe/PyTorch convention ``k + (alpha / size) * sum``.
        **kwargs: base ``keras.layers.Layer`` arguments (``name``, ``dtype``...).

    Input shape: ``(batch, height, width, channels)`` (any rank; the last axis
    is normalized). Output shape: the same.

    Raises:
        ValueError: if ``size`` is not a positive odd int, or ``k``/``alpha``/``beta``
            are negative.

    Example:

    >>> import numpy as np
    >>> lrn = LocalResponseNormalization(size=3, k=1.0, alpha=1.0, beta=1.0)
    >>> x = np.array([[1.0, 2.0, 0.0]], "float32")
    >>> [round(float(v), 4) for v in np.asarray(lrn(x))[0]]  # 1/(1+1+4), 2/(1+1+4+0), 0
    [0.1667, 0.3333, 0.0]

    Reference: Krizhevsky et al., NIPS 2012, Section 3.3.

    Used in: lab 02 (AlexNet).
    """

    def __init__(self, size=5, k=2.0, alpha=1e-4, beta=0.75, alpha_is_mean=False, **kwargs):
        super().__init__(**kwargs)
        if isinstance(size, bool) or not isinstance(size, int) or size < 1 or size % 2 == 0:
            raise ValueError(
                f"size={size!r} is not valid: expected a positive odd int (a window centred "
                "on each channel). Use size=5 as in AlexNet."
            )
        for arg, value in (("k", k), ("alpha", alpha), ("beta", beta)):
            if not isinstance(value, (int, float)) or value < 0:
                raise ValueError(
                    f"{arg}={value!r} is not valid: expected a non-negative number. "
                    "Use AlexNet's k=2.0, alpha=1e-4, beta=0.75."
                )
        self.size = size
        self.k = float(k)
        self.alpha = float(alpha)
        self.beta = float(beta)
        self.alpha_is_mean = bool(alpha_is_mean)

    @property
    def depth_radius(self) -> int:
        """TensorFlow's ``depth_radius`` for this window: ``(size - 1) // 2``."""
        return (self.size - 1) // 2

    @property
    def tf_alpha(self) -> float:
        """The ``alpha`` to pass to ``tf.nn.local_response_normalization`` for the same result."""
        return self.alpha / self.size if self.alpha_is_mean else self.alpha

    def call(self, inputs):
        radius = self.depth_radius
        squares = ops.square(inputs)
        channels = inputs.shape[-1]
        padding = [[0, 0]] * (len(inputs.shape) - 1) + [[radius, radius]]
        padded = ops.pad(squares, padding)
        window_sum = padded[..., 0:channels]
        for offset in range(1, self.size):
            window_sum = window_sum + padded[..., offset : offset + channels]
        denominator = ops.power(self.k + self.tf_alpha * window_sum, self.beta)
        return inputs / denominator

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "size": self.size,
                "k": self.k,
                "alpha": self.alpha,
                "beta": self.beta,
                "alpha_is_mean": self.alpha_is_mean,
            }
        )
        return config
