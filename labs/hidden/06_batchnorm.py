"""Hidden cases of lab 06 (batch normalization): grading side only.

Other shapes and ranks, other epsilons and momenta, and edge cases (a constant
channel, momentum 0, a kernel with many output channels). Inputs are randomized
per grading run.
"""

from __future__ import annotations

import numpy as np

from autograder.references.lab06_batchnorm import (
    backward_expected,
    fold_batchnorm,
    inference_expected,
    train_expected,
    update_moving_average,
)
from cnnlabs.checks.lab06_batchnorm import (
    backward_inputs,
    bn_inputs,
    check_bn_backward,
    check_bn_inference,
    check_bn_train,
    check_tuple_of_two,
    constant_channel_inputs,
    fold_inputs,
)
from cnnlabs.checks.spec import Case


def _constant_channel(rng):
    inputs = constant_channel_inputs(rng)
    inputs["x"][..., 0] *= 3.0
    return inputs


HIDDEN = {
    "batchnorm_train": (
        Case(
            "a rank-3 input (5, 7, 4)",
            inputs=bn_inputs((5, 7, 4)),
            expected=train_expected,
            check=check_bn_train,
        ),
        Case(
            "a large batch (64, 8, 8, 6) with big offsets",
            inputs=bn_inputs((64, 8, 8, 6), offset=50.0),
            expected=train_expected,
            check=check_bn_train,
        ),
        Case(
            "eps=1e-5 on (32, 10)",
            inputs=bn_inputs((32, 10), eps=1e-5),
            expected=train_expected,
            check=check_bn_train,
        ),
        Case(
            "a constant channel (variance 0)",
            inputs=_constant_channel,
            expected=train_expected,
            check=check_bn_train,
        ),
    ),
    "batchnorm_backward": (
        Case(
            "a rank-3 input (5, 7, 4)",
            inputs=backward_inputs((5, 7, 4)),
            expected=backward_expected,
            check=check_bn_backward,
        ),
        Case(
            "a large batch (32, 6, 6, 5) with big offsets",
            inputs=backward_inputs((32, 6, 6, 5), offset=30.0),
            expected=backward_expected,
            check=check_bn_backward,
        ),
        Case(
            "eps=1e-5 on (12, 6)",
            inputs=backward_inputs((12, 6), eps=1e-5),
            expected=backward_expected,
            check=check_bn_backward,
        ),
    ),
    "batchnorm_inference": (
        Case(
            "(2, 8, 8, 16) with eps=0.01",
            inputs=lambda rng: {
                "x": rng.normal(size=(2, 8, 8, 16)),
                "gamma": rng.uniform(0.5, 2.0, 16),
                "beta": rng.normal(size=16),
                "moving_mean": rng.normal(size=16),
                "moving_var": rng.uniform(0.1, 5.0, 16),
                "eps": 0.01,
            },
            expected=inference_expected,
            check=check_bn_inference,
        ),
        Case(
            "identity statistics (mean 0, var 1 - eps)",
            inputs=lambda rng: {
                "x": rng.normal(size=(4, 3)),
                "gamma": np.ones(3),
                "beta": np.zeros(3),
                "moving_mean": np.zeros(3),
                "moving_var": np.full(3, 1 - 1e-3),
            },
            expected=inference_expected,
            check=check_bn_inference,
        ),
    ),
    "update_moving_average": (
        Case(
            "momentum 0: the batch value replaces the average",
            inputs=lambda rng: {
                "moving": rng.normal(size=5),
                "batch_value": rng.normal(size=5),
                "momentum": 0.0,
            },
            expected=update_moving_average,
        ),
        Case(
            "momentum 0.999 on 64 channels",
            inputs=lambda rng: {
                "moving": rng.normal(size=64),
                "batch_value": rng.normal(size=64) * 10,
                "momentum": 0.999,
            },
            expected=update_moving_average,
        ),
    ),
    "fold_batchnorm": (
        Case(
            "5x5 kernel, 3 -> 8 channels",
            inputs=fold_inputs(5, 3, 8),
            expected=fold_batchnorm,
            check=check_tuple_of_two,
        ),
        Case(
            "3x3 kernel, 16 -> 1 channel",
            inputs=fold_inputs(3, 16, 1),
            expected=fold_batchnorm,
            check=check_tuple_of_two,
        ),
        Case(
            "eps=1e-5",
            inputs=lambda rng: {**fold_inputs(3, 4, 4)(rng), "eps": 1e-5},
            expected=fold_batchnorm,
            check=check_tuple_of_two,
        ),
    ),
}
