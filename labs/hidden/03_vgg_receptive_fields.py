"""Hidden cases of lab 03 (VGG, receptive fields). Grading side only: never in a notebook.

Random chains of convolutions and poolings for the recurrence; other VGG
configurations, input sizes, input channels and class counts.
"""

from autograder.references.lab03_vgg_receptive_fields import reference_receptive_fields
from cnnlabs.checks.lab03_vgg_receptive_fields import (
    rf_case,
    vgg_case,
)
from cnnlabs.checks.spec import Case


def _random_chain(rng):
    depth = int(rng.integers(1, 12))
    layers = [(int(rng.integers(1, 8)), int(rng.integers(1, 4))) for _ in range(depth)]
    return {"layers": layers}


HIDDEN = {
    "receptive_fields": (
        rf_case("hidden: one 1x1 convolution", [(1, 1)], expected=reference_receptive_fields),
        rf_case("hidden: VGG-16 up to block3_pool",
                [(3, 1), (3, 1), (2, 2), (3, 1), (3, 1), (2, 2), (3, 1), (3, 1), (3, 1), (2, 2)],
                expected=reference_receptive_fields),
        rf_case("hidden: ResNet stem 7x7/2 then 3x3/2 pool", [(7, 2), (3, 2), (3, 1)],
                expected=reference_receptive_fields),
        Case(name="hidden: random chain", inputs=_random_chain,
             expected=reference_receptive_fields),
        Case(name="hidden: random chain, again", inputs=_random_chain,
             expected=reference_receptive_fields),
    ),
    "vgg_params": (
        vgg_case("hidden: VGG-13 (configuration B), 224x224x3, 1000 classes", (2, 2, 2, 2, 2)),
        vgg_case("hidden: VGG-11 (configuration A), 224x224x3, 1000 classes", (1, 1, 2, 2, 2)),
        vgg_case("hidden: VGG-16 on 64x64 grey images, 200 classes", (2, 2, 3, 3, 3),
                 input_size=64, in_channels=1, num_classes=200),
    ),
}
