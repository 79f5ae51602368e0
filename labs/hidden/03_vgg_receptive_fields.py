"""Hidden cases of lab 03 (VGG, receptive fields). Grading side only: never in a notebook.

Random chains of convolutions and poolings for the recurrence; other VGG
configurations, input sizes, input channels and class counts.
"""

from autograder.references.lab03_vgg_receptive_fields import (
    VGG_MISTAKES,
    reference_receptive_fields,
    stack_macs,
    stack_params,
    stack_receptive_field,
    vgg_count,
)
from cnnlabs.checks.counts import count_case
from cnnlabs.checks.lab03_vgg_receptive_fields import (
    STACK_MACS_MISTAKES,
    STACK_PARAMS_MISTAKES,
    STACK_RF_MISTAKES,
    rf_case,
    vgg_case,
)
from cnnlabs.checks.spec import Case


def _random_chain(rng):
    depth = int(rng.integers(1, 12))
    layers = [(int(rng.integers(1, 8)), int(rng.integers(1, 4))) for _ in range(depth)]
    return {"layers": layers}


def _random_vgg(rng):
    """Any five block depths, input sizes from 32 to 256, 1-4 channels, 2-1000 classes."""
    return {
        "convs_per_block": tuple(int(c) for c in rng.integers(1, 5, size=5)),
        "input_size": 32 * int(rng.integers(1, 9)),
        "in_channels": int(rng.integers(1, 5)),
        "num_classes": int(rng.integers(2, 1001)),
    }


def _random_stack(rng):
    return {"k": int(rng.choice([1, 3, 5, 7, 9])), "depth": int(rng.integers(1, 6)),
            "channels": int(rng.integers(1, 513)), "size": int(rng.integers(1, 225))}


def _random_stack_rf(rng):
    return {"k": int(rng.integers(1, 12)), "depth": int(rng.integers(1, 10))}


def _random_stack_params(rng):
    inputs = _random_stack(rng)
    del inputs["size"]
    return inputs


HIDDEN = {
    "stack_receptive_field": tuple(
        count_case(f"hidden: random kernel and depth ({i})", _random_stack_rf,
                   stack_receptive_field, STACK_RF_MISTAKES)
        for i in (1, 2, 3)
    ),
    "stack_params": tuple(
        count_case(f"hidden: random kernel, depth and channels ({i})", _random_stack_params,
                   stack_params, STACK_PARAMS_MISTAKES)
        for i in (1, 2, 3)
    ),
    "stack_macs": tuple(
        count_case(f"hidden: random kernel, depth, channels and size ({i})", _random_stack,
                   stack_macs, STACK_MACS_MISTAKES)
        for i in (1, 2, 3)
    ),
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
        vgg_case("hidden: VGG-13 (configuration B), 224x224x3, 1000 classes", (2, 2, 2, 2, 2),
                 formula=vgg_count, mistakes=VGG_MISTAKES),
        vgg_case("hidden: VGG-11 (configuration A), 224x224x3, 1000 classes", (1, 1, 2, 2, 2),
                 formula=vgg_count, mistakes=VGG_MISTAKES),
        vgg_case("hidden: VGG-16 on 96x96 two-channel images, 7 classes", (2, 2, 3, 3, 3),
                 input_size=96, in_channels=2, num_classes=7, formula=vgg_count,
                 mistakes=VGG_MISTAKES),
        *(count_case(f"hidden: a random configuration ({i})", _random_vgg, vgg_count,
                     VGG_MISTAKES) for i in (1, 2, 3)),
    ),
}
