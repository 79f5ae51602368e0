"""Reference answers of lab 02 (AlexNet): grading side only.

The oracles of the public cases' stored outputs (``cnnlabs expected``) and of the
hidden cases (``labs/hidden/02_alexnet.py``). Never shipped to students.

Reference: Krizhevsky, Sutskever and Hinton, "ImageNet classification with deep
convolutional neural networks", NIPS 2012.
"""

from __future__ import annotations

import numpy as np


def reference_lrn(a, n=5, k=2.0, alpha=1e-4, beta=0.75):
    """`tf.nn.local_response_normalization` with the paper's parameters."""
    import tensorflow as tf

    out = tf.nn.local_response_normalization(
        np.asarray(a, dtype="float32"), depth_radius=n // 2, bias=k, alpha=alpha, beta=beta
    )
    return out.numpy().astype("float64")


# question id -> expected(**inputs) of its public cases
EXPECTED = {
    "lrn": reference_lrn,
}
