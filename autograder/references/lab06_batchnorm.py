"""Reference answers of lab 06 (batch normalization): grading side only.

The oracles of the public cases' stored outputs (``cnnlabs expected``) and of the
hidden cases (``labs/hidden/06_batchnorm.py``). Never shipped to students.

Reference: Ioffe & Szegedy, "Batch Normalization: Accelerating Deep Network Training
by Reducing Internal Covariate Shift", ICML 2015 (Algorithms 1 and 2).
"""

from __future__ import annotations

import numpy as np


def batchnorm_train(x, gamma, beta, eps=1e-3):
    """Reference of Algorithm 1: (output, batch mean, biased batch variance)."""
    x = np.asarray(x, dtype="float64")
    axes = tuple(range(x.ndim - 1))
    mean, var = x.mean(axis=axes), x.var(axis=axes)
    return gamma * (x - mean) / np.sqrt(var + eps) + beta, mean, var


def batchnorm_inference(x, gamma, beta, moving_mean, moving_var, eps=1e-3):
    """Reference of the inference transform with fixed statistics."""
    x = np.asarray(x, dtype="float64")
    return gamma * (x - moving_mean) / np.sqrt(moving_var + eps) + beta


def update_moving_average(moving, batch_value, momentum=0.99):
    """Reference of Keras's moving-average update."""
    return momentum * np.asarray(moving, "float64") + (1.0 - momentum) * np.asarray(batch_value)


def fold_batchnorm(kernel, bias, gamma, beta, moving_mean, moving_var, eps=1e-3):
    """Reference fold: (kernel * s, (bias - mean) * s + beta) with s = gamma / sqrt(var + eps)."""
    scale = np.asarray(gamma, "float64") / np.sqrt(np.asarray(moving_var, "float64") + eps)
    return np.asarray(kernel, "float64") * scale, (np.asarray(bias) - moving_mean) * scale + beta


def train_expected(x, gamma, beta, eps=1e-3):
    """What the batchnorm_train check compares with: (y, mean, var) and the outputs of two
    typical mistakes, so that the check names the mistake actually made."""
    y, mean, var = batchnorm_train(x, gamma, beta, eps)
    return {
        "y": y,
        "mean": mean,
        "var": var,
        "eps": eps,
        "y_without_eps": batchnorm_train(x, gamma, beta, 0.0)[0] if np.all(var > 0) else None,
        "y_default_eps": batchnorm_train(x, gamma, beta)[0] if eps != 1e-3 else None,
    }


def inference_expected(x, gamma, beta, moving_mean, moving_var, eps=1e-3):
    """What the batchnorm_inference check compares with, with the outputs of the typical
    mistakes: no eps, eps left at its default, and the statistics of x instead of the
    moving averages."""
    x64 = np.asarray(x, dtype="float64")
    return {
        "y": batchnorm_inference(x, gamma, beta, moving_mean, moving_var, eps),
        "eps": eps,
        "y_without_eps": batchnorm_inference(x, gamma, beta, moving_mean, moving_var, 0.0),
        "y_default_eps": (
            batchnorm_inference(x, gamma, beta, moving_mean, moving_var) if eps != 1e-3 else None
        ),
        "y_batch_statistics": batchnorm_train(x64, gamma, beta, eps)[0],
    }


def batchnorm_backward(x, gamma, grad_y, eps=1e-3):
    """Reference of the backward pass (Section 3), in the compact form
    grad_x = gamma / (m sigma) * (m grad_y - sum(grad_y) - x_hat * sum(grad_y * x_hat))."""
    x, grad_y = np.asarray(x, "float64"), np.asarray(grad_y, "float64")
    axes = tuple(range(x.ndim - 1))
    m = x.size // x.shape[-1]
    inv_std = 1.0 / np.sqrt(x.var(axis=axes) + eps)
    x_hat = (x - x.mean(axis=axes)) * inv_std
    grad_beta = grad_y.sum(axis=axes)
    grad_gamma = (grad_y * x_hat).sum(axis=axes)
    grad_x = gamma * inv_std / m * (m * grad_y - grad_beta - x_hat * grad_gamma)
    return grad_x, grad_gamma, grad_beta


def backward_expected(x, gamma, grad_y, eps=1e-3):
    """What the batchnorm_backward check compares with, and grad_x with the batch statistics
    treated as constants (the typical mistake), so that the check can name it."""
    grad_x, grad_gamma, grad_beta = batchnorm_backward(x, gamma, grad_y, eps)
    x = np.asarray(x, "float64")
    axes = tuple(range(x.ndim - 1))
    return {
        "grad_x": grad_x,
        "grad_gamma": grad_gamma,
        "grad_beta": grad_beta,
        "grad_x_constant_statistics": gamma * np.asarray(grad_y) / np.sqrt(x.var(axis=axes) + eps),
    }


# question id -> expected(**inputs) of its public cases
EXPECTED = {
    "batchnorm_backward": backward_expected,
    "batchnorm_train": train_expected,
    "batchnorm_inference": inference_expected,
    "update_moving_average": update_moving_average,
    "fold_batchnorm": fold_batchnorm,
}
