"""Hidden cases of lab 04 (Inception): grading side only.

Randomized widths and input shapes (rectangular and odd-sized inputs, one input
channel, widths of 1), so a module with hard-coded widths or a fixed input fails.
"""

from __future__ import annotations

from autograder.references.lab04_inception import bottleneck_expected, naive_expected
from cnnlabs.checks.lab04_inception import (
    bottleneck_case,
    naive_case,
    random_bottleneck_case,
    random_naive_case,
)

HIDDEN = {
    "inception_naive": (
        random_naive_case("random widths and input shape", naive_expected),
        random_naive_case("other random widths and input shape", naive_expected),
        naive_case("one input channel, widths of 1", (6, 6, 1), 1, 1, 1, expected=naive_expected),
        naive_case("a 3x3 input (smaller than the 5x5 kernel)", (3, 3, 4), 2, 3, 4,
                   expected=naive_expected),
    ),
    "inception_bottleneck": (
        random_bottleneck_case("random widths and input shape", bottleneck_expected),
        random_bottleneck_case("other random widths and input shape", bottleneck_expected),
        bottleneck_case("rectangular 6x10x7 input", (6, 10, 7), (3, 4, 5, 6, 7, 1),
                        expected=bottleneck_expected),
        bottleneck_case("wide reductions (more than the input channels)", (5, 5, 3),
                        (2, 9, 4, 7, 3, 5), expected=bottleneck_expected),
    ),
}
