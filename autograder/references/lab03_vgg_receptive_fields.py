"""Reference answers of lab 03 (VGG, receptive fields): grading side only.

The oracles of the public cases' stored outputs (``cnnlabs expected``) and of the
hidden cases (``labs/hidden/03_vgg_receptive_fields.py``). Never shipped to students.

Reference: Simonyan and Zisserman, "Very deep convolutional networks for large-scale
image recognition", arXiv:1409.1556, 2014.
"""

from __future__ import annotations

from cnnlabs.checks.counts import count_expected
from cnnlabs.checks.lab03_vgg_receptive_fields import (
    STACK_MACS_MISTAKES,
    STACK_PARAMS_MISTAKES,
    STACK_RF_MISTAKES,
)


def reference_receptive_fields(layers):
    """`cnnlabs.arithmetic.receptive_field`, sizes only."""
    from cnnlabs.arithmetic import receptive_field

    return [rf.size for rf in receptive_field([tuple(layer) for layer in layers])]


# Published parameter counts at 224x224x3 with 1000 classes (keras.applications,
# torchvision), by convolutions per block.
PUBLISHED_VGG_PARAMS = {
    (1, 1, 2, 2, 2): 132_863_336,  # VGG-11, configuration A
    (2, 2, 2, 2, 2): 133_047_848,  # VGG-13, configuration B
    (2, 2, 3, 3, 3): 138_357_544,  # VGG-16, configuration D
    (2, 2, 4, 4, 4): 143_667_240,  # VGG-19, configuration E
}
_DEPTHS = {(1, 1, 2, 2, 2): 11, (2, 2, 2, 2, 2): 13, (2, 2, 3, 3, 3): 16, (2, 2, 4, 4, 4): 19}


def reference_vgg_params(convs_per_block, input_size=224, in_channels=3, num_classes=1000):
    """The published count where there is one, else Keras's count of the library's VGG."""
    convs_per_block = tuple(convs_per_block)
    if (input_size, in_channels, num_classes) == (224, 3, 1000):
        if convs_per_block in PUBLISHED_VGG_PARAMS:
            return PUBLISHED_VGG_PARAMS[convs_per_block]
    from cnnlabs.models.vgg import vgg

    model = vgg(
        _DEPTHS[convs_per_block],
        input_shape=(input_size, input_size, in_channels),
        num_classes=num_classes,
    )
    return int(model.count_params())


def vgg_count(
    convs_per_block, input_size=224, in_channels=3, num_classes=1000, biases=True, fc_side=None
):
    """Parameters of a VGG network by the formula (``biases``/``fc_side`` model mistakes)."""
    total, channels, bias = 0, in_channels, int(biases)
    for convs, filters in zip(convs_per_block, (64, 128, 256, 512, 512)):
        for _ in range(convs):
            total += (3 * 3 * channels + bias) * filters
            channels = filters
    side = input_size // 32 if fc_side is None else fc_side
    features = side * side * channels
    for units in (4096, 4096, num_classes):
        total += (features + bias) * units
        features = units
    return total


VGG_MISTAKES = (
    (
        lambda **kw: vgg_count(**kw, biases=False),
        "that leaves out the biases: one per filter and one per FC unit.",
    ),
    (
        lambda **kw: vgg_count(**kw, fc_side=7),
        "fc1 sees the last block's map, (input_size // 32) squared times 512 values; 7 x 7 is "
        "only right for 224x224 inputs.",
    ),
    (
        lambda **kw: vgg_count(**{**kw, "in_channels": 3}),
        "the first convolution sees in_channels channels, not always 3.",
    ),
)


def stack_receptive_field(k, depth):
    """Receptive field of ``depth`` stacked k x k convolutions with stride 1."""
    return 1 + depth * (k - 1)


def stack_params(k, depth, channels):
    """Parameters (with biases) of ``depth`` stacked k x k convolutions, C -> C channels."""
    return depth * (k * k * channels + 1) * channels


def stack_macs(k, depth, channels, size):
    """MACs (no biases) of that stack on a size x size map with "same" padding."""
    return depth * size * size * channels * k * k * channels


# question id -> expected(**inputs) of its public cases
EXPECTED = {
    "receptive_fields": reference_receptive_fields,
    "stack_receptive_field": count_expected(stack_receptive_field, STACK_RF_MISTAKES),
    "stack_params": count_expected(stack_params, STACK_PARAMS_MISTAKES),
    "stack_macs": count_expected(stack_macs, STACK_MACS_MISTAKES),
    "vgg_params": count_expected(vgg_count, VGG_MISTAKES),
}
