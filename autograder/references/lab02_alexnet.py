"""Reference answers of lab 02 (AlexNet): grading side only.

The oracles of the public cases' stored outputs (``cnnlabs expected``) and of the
hidden cases (``labs/hidden/02_alexnet.py``). Never shipped to students.

Reference: Krizhevsky, Sutskever and Hinton, "ImageNet classification with deep
convolutional neural networks", NIPS 2012.
"""

from __future__ import annotations

import numpy as np

from cnnlabs.checks.counts import count_expected
from cnnlabs.checks.lab02_alexnet import CONV_MACS_MISTAKES, CONV_PARAMS_MISTAKES


def reference_lrn(a, n=5, k=2.0, alpha=1e-4, beta=0.75):
    """`tf.nn.local_response_normalization` with the paper's parameters."""
    import tensorflow as tf

    out = tf.nn.local_response_normalization(
        np.asarray(a, dtype="float32"), depth_radius=n // 2, bias=k, alpha=alpha, beta=beta
    )
    return out.numpy().astype("float64")


def conv_output_shape(size, k, stride, filters, padding=0):
    """(height, width, channels) of a convolution on a square size x size input."""
    side = (size + 2 * padding - k) // stride + 1
    return (side, side, filters)


def conv_params(k, c_in, c_out):
    """Parameters of a k x k convolution from c_in to c_out channels, with biases."""
    return (k * k * c_in + 1) * c_out


def conv_macs(out_size, k, c_in, c_out):
    """Multiply-accumulates of that convolution for one image (biases not counted)."""
    return out_size * out_size * c_out * k * k * c_in


# question id -> expected(**inputs) of its public cases
EXPECTED = {
    "lrn": reference_lrn,
    "conv_output_shape": conv_output_shape,
    "conv_params": count_expected(conv_params, CONV_PARAMS_MISTAKES),
    "conv_macs": count_expected(conv_macs, CONV_MACS_MISTAKES),
}
