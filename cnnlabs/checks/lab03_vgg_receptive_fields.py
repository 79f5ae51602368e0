"""Questions of lab 03 (VGG, receptive fields): the RF recurrence, 3x3 stacks, VGG params.

The public cases run in the student's check cells; `labs/hidden/03_vgg_receptive_fields.py`
adds hidden cases on the grading side.

Reference: Simonyan and Zisserman, "Very deep convolutional networks for large-scale
image recognition", arXiv:1409.1556, 2014.
"""

from __future__ import annotations

from cnnlabs.checks.spec import Case, Question
from cnnlabs.checks.stored import STORED, with_stored

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


def rf_case(name, layers, hint="", expected=STORED):
    return Case(name=name, inputs=lambda rng: {"layers": [tuple(x) for x in layers]},
                expected=expected, hint=hint)


def vgg_case(name, convs_per_block, hint="", **kwargs):
    return Case(
        name=name,
        inputs=lambda rng: {"convs_per_block": tuple(convs_per_block), **kwargs},
        expected=reference_vgg_params,
        rtol=0,
        atol=0,
        hint=hint,
    )


def _value(id_, title, expected, hint, points=0.5):
    return Question(id=id_, points=points, answer=id_, kind="value", title=title,
                    public=(Case(name=title, expected=lambda: expected, rtol=0, atol=0,
                                 hint=hint),))


QUESTIONS = (
    Question(
        id="receptive_fields",
        points=3,
        answer="receptive_fields",
        kind="function",
        title="Receptive fields by the recurrence",
        public=(
            rf_case("three 3x3 convolutions, stride 1", [(3, 1)] * 3,
                    hint="Each 3x3 layer adds (3 - 1) x jump pixels; with stride 1 the jump "
                    "stays 1: 3, 5, 7."),
            rf_case("AlexNet's conv1 (11x11/4) then pool1 (3x3/2)", [(11, 4), (3, 2)],
                    hint="After a stride-4 layer neighbouring units are 4 pixels apart, so a "
                    "3x3 window adds (3 - 1) x 4 pixels."),
            rf_case("VGG block: 3x3, 3x3, 2x2/2 pool, then 3x3", [(3, 1), (3, 1), (2, 2), (3, 1)],
                    hint="Update the jump after computing the size: j_l = j_(l-1) x s_l."),
        ),
    ),
    _value("rf_two_3x3", "receptive field of two stacked 3x3 convolutions", 5,
           "Each 3x3 layer with stride 1 adds 2 pixels to the receptive field."),
    _value("params_two_3x3", "parameters of two 3x3 convolutions, 64 -> 64 channels",
           2 * (3 * 3 * 64 + 1) * 64,
           "Each layer has 3 x 3 x 64 weights per filter, 64 filters, plus 64 biases."),
    _value("params_one_5x5", "parameters of one 5x5 convolution, 64 -> 64 channels",
           (5 * 5 * 64 + 1) * 64, "5 x 5 x 64 weights per filter, 64 filters, plus 64 biases."),
    _value("macs_two_3x3", "MACs of two 3x3 convolutions on a 56x56x64 map",
           2 * 56 * 56 * 64 * 3 * 3 * 64,
           "Per layer: 56 x 56 x 64 output values, each a dot product of 3 x 3 x 64 MACs."),
    _value("macs_one_5x5", "MACs of one 5x5 convolution on a 56x56x64 map",
           56 * 56 * 64 * 5 * 5 * 64,
           "56 x 56 x 64 output values, each a dot product of 5 x 5 x 64 MACs."),
    Question(
        id="vgg_params",
        points=3,
        answer="vgg_params",
        kind="function",
        title="Parameters of a VGG network",
        public=(
            vgg_case("VGG-16 (configuration D), 224x224x3, 1000 classes", (2, 2, 3, 3, 3),
                     hint="The published count is 138,357,544: 14,714,688 in the convolutions "
                     "and 123,642,856 in the three FC layers."),
            vgg_case("VGG-19 (configuration E), 224x224x3, 1000 classes", (2, 2, 4, 4, 4),
                     hint="Count every convolution of a block: the first one sees the previous "
                     "block's channels, the others the block's own filters."),
            vgg_case("VGG-11 (configuration A) for 32x32x3 images and 10 classes",
                     (1, 1, 2, 2, 2), input_size=32, num_classes=10,
                     hint="After five 2x2 poolings a 32x32 image is 1x1, so fc1 sees 512 "
                     "values; use input_size and num_classes."),
        ),
    ),
)

# The public cases marked STORED read their expected outputs from cnnlabs/checks/expected.
QUESTIONS = with_stored("03_vgg_receptive_fields", QUESTIONS)
