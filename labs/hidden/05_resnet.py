"""Hidden cases of lab 05 (ResNet): grading side only.

Randomized input shapes and widths, stride 1 projections (a change of width only),
rectangular and odd-sized inputs.
"""

from __future__ import annotations

from autograder.references.lab05_resnet import (
    bottleneck_expected,
    identity_expected,
    projection_expected,
)
from cnnlabs.checks.lab05_resnet import (
    bottleneck_case,
    identity_case,
    projection_case,
    random_bottleneck_case,
    random_identity_case,
    random_projection_case,
)

HIDDEN = {
    "identity_block": (
        random_identity_case("random input shape", identity_expected),
        random_identity_case("another random input shape", identity_expected),
        identity_case("one channel", (6, 6, 1), expected=identity_expected),
        identity_case("a 1x1 feature map", (1, 1, 8), expected=identity_expected),
    ),
    "bottleneck_block": (
        random_bottleneck_case("random input shape and width", bottleneck_expected),
        bottleneck_case("filters 1 on a 6x6x4 input", (6, 6, 4), expected=bottleneck_expected),
    ),
    "projection_block": (
        random_projection_case("random shape, width and stride", projection_expected),
        random_projection_case("another random shape, width and stride", projection_expected),
        projection_case(
            "stride 1: a change of width only",
            (6, 6, 4),
            12,
            strides=1,
            expected=projection_expected,
        ),
        projection_case(
            "rectangular 9x6x5 -> 10, stride 2", (9, 6, 5), 10, expected=projection_expected
        ),
    ),
}
