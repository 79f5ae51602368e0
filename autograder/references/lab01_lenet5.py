"""Reference answers of lab 01 (LeNet-5): grading side only.

The oracles of the public cases' stored outputs (``cnnlabs expected``) and of the
hidden cases (``labs/hidden/01_lenet5.py``). Never shipped to students.

Reference: LeCun et al., "Gradient-based learning applied to document recognition",
Proc. IEEE 1998.
"""

from __future__ import annotations

import numpy as np

from cnnlabs.checks.counts import count_expected
from cnnlabs.checks.lab01_lenet5 import (
    CONV_CONNECTIONS_MISTAKES,
    CONV_MISTAKES,
    CONV_PARAMS_MISTAKES,
    DENSE_PARAMS_MISTAKES,
)


def reference_conv2d(x, w, stride=1):
    """`tf.nn.conv2d` with valid padding: the oracle for `conv2d_by_hand`."""
    import tensorflow as tf

    x32, w32 = np.asarray(x, dtype="float32"), np.asarray(w, dtype="float32")
    return tf.nn.conv2d(x32, w32, stride, "VALID").numpy().astype("float64")


def conv2d_expected(x, w, stride=1):
    """What ``check_conv`` compares with: the output and the outputs of known mistakes."""
    w = np.asarray(w)
    return {
        "output": reference_conv2d(x, w, stride),
        "mistakes": [[reference_conv2d(x, np.ascontiguousarray(wrong(w)), stride), message]
                     for wrong, message in CONV_MISTAKES],
    }


def conv2d_backward_expected(x, w, grad_out, stride=1):
    """``tf.GradientTape`` gradients of ``sum(conv2d(x, w) * grad_out)``: the backward oracle."""
    import tensorflow as tf

    x64, w64 = tf.constant(np.asarray(x, "float64")), tf.constant(np.asarray(w, "float64"))
    with tf.GradientTape() as tape:
        tape.watch([x64, w64])
        y = tf.nn.conv2d(x64, w64, stride, "VALID")
        loss = tf.reduce_sum(y * np.asarray(grad_out, "float64"))
    grad_x, grad_w = tape.gradient(loss, [x64, w64])
    return {"grad_x": grad_x.numpy(), "grad_w": grad_w.numpy(),
            "positions": int(np.prod(np.shape(grad_out)[:3]))}


def reference_output_size(n, k, stride=1, padding=0):
    """`cnnlabs.arithmetic.conv_output_size` with symmetric integer padding."""
    from cnnlabs.arithmetic import conv_output_size

    return conv_output_size(n, k, stride, padding)


def lenet5_params(input_shape=(32, 32, 1), num_classes=10):
    """Parameters of LeNet-5 with a full C3: C1, C3, C5, F6, output."""
    channels = input_shape[-1]
    return (
        (5 * 5 * channels + 1) * 6
        + (5 * 5 * 6 + 1) * 16
        + (5 * 5 * 16 + 1) * 120
        + (120 + 1) * 84
        + (84 + 1) * num_classes
    )


def lenet5_expected(input_shape, num_classes):
    """What the LeNet-5 check compares with: the arguments and the parameter count."""
    return {
        "input_shape": input_shape,
        "num_classes": num_classes,
        "params": lenet5_params(input_shape, num_classes),
    }


def conv_params(k, c_in, c_out):
    """Parameters of a k x k convolution from c_in to c_out channels, with biases."""
    return (k * k * c_in + 1) * c_out


def conv_connections(out_size, k, c_in, c_out):
    """Connections of that convolution on an out_size x out_size output (bias counted)."""
    return out_size * out_size * c_out * (k * k * c_in + 1)


def dense_params(n_in, n_out):
    """Parameters of a dense layer from n_in inputs to n_out units, with biases."""
    return (n_in + 1) * n_out


# question id -> expected(**inputs) of its public cases
EXPECTED = {
    "conv2d_by_hand": conv2d_expected,
    "conv2d_backward": conv2d_backward_expected,
    "output_size": reference_output_size,
    "build_lenet5": lenet5_expected,
    "conv_params": count_expected(conv_params, CONV_PARAMS_MISTAKES),
    "conv_connections": count_expected(conv_connections, CONV_CONNECTIONS_MISTAKES),
    "dense_params": count_expected(dense_params, DENSE_PARAMS_MISTAKES),
}
