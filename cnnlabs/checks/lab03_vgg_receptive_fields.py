"""Questions of lab 03 (VGG, receptive fields): the RF recurrence, 3x3 stacks, VGG params.

The public cases run in the student's check cells; `labs/hidden/03_vgg_receptive_fields.py`
adds hidden cases on the grading side.

Reference: Simonyan and Zisserman, "Very deep convolutional networks for large-scale
image recognition", arXiv:1409.1556, 2014.
"""

from __future__ import annotations

from cnnlabs.checks.apirules import ARITHMETIC_RULE
from cnnlabs.checks.counts import count_case
from cnnlabs.checks.manual import ManualQuestion
from cnnlabs.checks.spec import Case, Question
from cnnlabs.checks.stored import STORED, with_stored


def rf_case(name, layers, hint="", expected=STORED):
    return Case(name=name, inputs=lambda rng: {"layers": [tuple(x) for x in layers]},
                expected=expected, hint=hint)


def vgg_case(name, convs_per_block, hint="", formula=None, mistakes=(), **kwargs):
    """A VGG configuration; public cases (``formula=None``) read their count from stored data."""
    inputs = {"convs_per_block": tuple(convs_per_block), **kwargs}
    return count_case(name, inputs, formula, mistakes, hint=hint)


# Recognised wrong counts (the right formulas live in
# autograder/references/lab03_vgg_receptive_fields.py).
STACK_RF_MISTAKES = (
    (lambda k, depth: depth * k, "layers overlap: each adds k - 1 pixels to the first one's k."),
    (lambda k, depth: depth * (k - 1), "start from one pixel: 1 + depth * (k - 1)."),
)
STACK_PARAMS_MISTAKES = (
    (lambda k, depth, channels: depth * k * k * channels * channels,
     "those are the weights; add one bias per filter in every layer."),
    (lambda k, depth, channels: (k * k * channels + 1) * channels,
     "that is one layer; multiply by depth."),
)
STACK_MACS_MISTAKES = (
    (lambda k, depth, channels, size: depth * size * size * channels * (k * k * channels + 1),
     "biases are additions, not multiply-accumulates; leave them out."),
    (lambda k, depth, channels, size: size * size * channels * k * k * channels,
     "that is one layer; multiply by depth."),
    (lambda k, depth, channels, size: depth * channels * k * k * channels,
     "that is per pixel; multiply by the size x size output positions."),
)

QUESTIONS = (
    Question(
        id="receptive_fields",
        points=3,
        answer="receptive_fields",
        kind="function",
        title="Receptive fields by the recurrence",
        api=ARITHMETIC_RULE,
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
    Question(
        id="stack_receptive_field", points=0.5, answer="stack_receptive_field",
        kind="function", title="Receptive field of a stack of convolutions",
        api=ARITHMETIC_RULE,
        public=(
            count_case("two 3x3 convolutions", {"k": 3, "depth": 2},
                       mistakes=STACK_RF_MISTAKES,
                       hint="Each k x k layer with stride 1 adds k - 1 pixels."),
            count_case("three 3x3 convolutions", {"k": 3, "depth": 3},
                       mistakes=STACK_RF_MISTAKES, hint="Start from one pixel; every layer widens the field."),
        ),
    ),
    Question(
        id="stack_params", points=1, answer="stack_params", kind="function",
        title="Parameters of a stack of convolutions", api=ARITHMETIC_RULE,
        public=(
            count_case("two 3x3 convolutions, 64 -> 64 channels",
                       {"k": 3, "depth": 2, "channels": 64}, mistakes=STACK_PARAMS_MISTAKES,
                       hint="Each layer has k x k x C weights per filter, C filters, C biases."),
            count_case("one 5x5 convolution, 64 -> 64 channels",
                       {"k": 5, "depth": 1, "channels": 64}, mistakes=STACK_PARAMS_MISTAKES,
                       hint="Count the biases too: one per filter, in every layer."),
        ),
    ),
    Question(
        id="stack_macs", points=1, answer="stack_macs", kind="function",
        title="MACs of a stack of convolutions", api=ARITHMETIC_RULE,
        public=(
            count_case("two 3x3 convolutions on a 56x56x64 map",
                       {"k": 3, "depth": 2, "channels": 64, "size": 56},
                       mistakes=STACK_MACS_MISTAKES,
                       hint="Per layer: size x size x C output values, each a dot product of "
                       "k x k x C MACs."),
            count_case("one 5x5 convolution on a 56x56x64 map",
                       {"k": 5, "depth": 1, "channels": 64, "size": 56},
                       mistakes=STACK_MACS_MISTAKES, hint="Use every argument."),
        ),
    ),
    Question(
        id="vgg_params",
        points=3,
        answer="vgg_params",
        kind="function",
        title="Parameters of a VGG network",
        api=ARITHMETIC_RULE,
        public=(
            vgg_case("VGG-16 (configuration D), 224x224x3, 1000 classes", (2, 2, 3, 3, 3),
                     hint="Thirteen convolutions in five blocks, then fc1, fc2 and the output "
                     "layer; count the biases too."),
            vgg_case("VGG-19 (configuration E), 224x224x3, 1000 classes", (2, 2, 4, 4, 4),
                     hint="Count every convolution of a block: the first one sees the previous "
                     "block's channels, the others the block's own filters."),
            vgg_case("VGG-11 (configuration A) for 32x32x3 images and 10 classes",
                     (1, 1, 2, 2, 2), input_size=32, num_classes=10,
                     hint="After five 2x2 poolings a 32x32 image is 1x1, so fc1 sees 512 "
                     "values; use input_size and num_classes."),
            vgg_case("VGG-13 (configuration B) for 64x64 grey images and 200 classes",
                     (2, 2, 2, 2, 2), input_size=64, in_channels=1, num_classes=200,
                     hint="Use every argument: in_channels feeds the first convolution, "
                     "input_size // 32 is the side of the last block's maps."),
        ),
    ),
)

# The public cases marked STORED read their expected outputs from cnnlabs/checks/expected.
QUESTIONS = with_stored("03_vgg_receptive_fields", QUESTIONS)

# The reflection questions, graded by a TA: `cnnlabs grade` collects the answers
# (autograder/manual.py); the model answers stay in the lab source's solution cells.
MANUAL = (
    ManualQuestion(id="stack_vs_7x7", points=1, title="Three 3x3 convolutions or one 7x7"),
    ManualQuestion(id="effective_rf", points=1, title="Why the effective receptive field is smaller"),
    ManualQuestion(id="memory_batch_limit", points=1, title="What limits the batch size on one GPU"),
)
