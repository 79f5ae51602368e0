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
# The single-GPU AlexNet of `build_model("alexnet")` (227x227x3, 1000 classes):
# (name, parameters, MACs) per layer with weights.
ALEXNET_LAYERS = (
    ("conv1", (11 * 11 * 3 + 1) * 96, 55 * 55 * 96 * 11 * 11 * 3),
    ("conv2", (5 * 5 * 96 + 1) * 256, 27 * 27 * 256 * 5 * 5 * 96),
    ("conv3", (3 * 3 * 256 + 1) * 384, 13 * 13 * 384 * 3 * 3 * 256),
    ("conv4", (3 * 3 * 384 + 1) * 384, 13 * 13 * 384 * 3 * 3 * 384),
    ("conv5", (3 * 3 * 384 + 1) * 256, 13 * 13 * 256 * 3 * 3 * 384),
    ("fc6", (6 * 6 * 256 + 1) * 4096, 6 * 6 * 256 * 4096),
    ("fc7", (4096 + 1) * 4096, 4096 * 4096),
    ("fc8", (4096 + 1) * 1000, 4096 * 1000),
)


def share(prefix: str, column: int) -> float:
    """The share of the parameters (column 1) or MACs (column 2) of the layers named prefix*."""
    total = sum(layer[column] for layer in ALEXNET_LAYERS)
    return sum(layer[column] for layer in ALEXNET_LAYERS if layer[0].startswith(prefix)) / total


EXPECTED = {
    # fixed values, stored as digests; the shares rounded as their check rounds (3 decimals)
    "fc_param_share": lambda: round(share("fc", 1), 3),
    "conv_mac_share": lambda: round(share("conv", 2), 3),
    "pool1_overlapping_size": lambda: (55 - 3) // 2 + 1,
    "pool1_non_overlapping_size": lambda: (55 - 2) // 2 + 1,
    "lrn": reference_lrn,
    "conv_output_shape": conv_output_shape,
    "conv_params": count_expected(conv_params, CONV_PARAMS_MISTAKES),
    "conv_macs": count_expected(conv_macs, CONV_MACS_MISTAKES),
}
