"""VGG against Table 1 of Simonyan and Zisserman (2014) and keras.applications."""

import keras
import pytest

from cnnlabs.models import VGG_CONFIGS, vgg16_small
from cnnlabs.models.vgg import vgg


def vgg_params(convs_per_block, input_size=224, num_classes=1000, fc=(4096, 4096)):
    """Parameter count by hand: 3x3 convs with biases, then FC layers."""
    total, channels = 0, 3
    for convs, filters in zip(convs_per_block, (64, 128, 256, 512, 512)):
        for _ in range(convs):
            total += 3 * 3 * channels * filters + filters
            channels = filters
    features = (input_size // 32) ** 2 * channels
    for units in (*fc, num_classes):
        total += features * units + units
        features = units
    return total


def test_table_1_configurations_have_11_13_16_19_weight_layers():
    for depth, convs in VGG_CONFIGS.items():
        assert sum(convs) + 3 == depth


@pytest.mark.parametrize(
    ("depth", "published"),
    # keras.applications VGG16/VGG19 and torchvision vgg11/vgg13 (ImageNet, 1000 classes).
    [(11, 132_863_336), (13, 133_047_848), (16, 138_357_544), (19, 143_667_240)],
)
def test_hand_count_equals_the_published_count(depth, published):
    assert vgg_params(VGG_CONFIGS[depth]) == published


@pytest.mark.parametrize("depth", [16, 19])
def test_same_layers_and_counts_as_keras_applications(depth):
    """Same names, shapes and per-layer counts as keras.applications (at 32x32 to stay cheap)."""
    reference = getattr(keras.applications, f"VGG{depth}")(
        weights=None, input_shape=(32, 32, 3), classes=10
    )
    ours = vgg(depth, input_shape=(32, 32, 3), num_classes=10)

    def table(model):
        return [
            (layer.name, tuple(layer.output.shape), layer.count_params())
            for layer in model.layers[1:]
            if not isinstance(layer, keras.layers.Dropout)
        ]

    assert table(ours) == table(reference)
    assert (
        ours.count_params()
        == reference.count_params()
        == vgg_params(VGG_CONFIGS[depth], input_size=32, num_classes=10)
    )


def test_width_multiplier_scales_every_block():
    model = vgg(11, input_shape=(32, 32, 3), num_classes=10, width_multiplier=0.25, fc_units=(64,))
    filters = [layer.filters for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert filters == [16, 32, 64, 64, 128, 128, 128, 128]


def test_small_variant_uses_batch_norm_and_ends_at_1x1():
    model = vgg16_small()
    assert model.get_layer("block5_pool").output.shape == (None, 1, 1, 256)
    assert len([layer for layer in model.layers if "_bn" in layer.name]) == 13
    assert model.output_shape == (None, 10)


def test_unknown_depth_raises_a_full_message():
    with pytest.raises(ValueError) as info:
        vgg(17)
    assert str(info.value) == (
        "vgg17: depth=17 is not a VGG configuration; expected one of 11 (A), 13 (B), "
        "16 (D) or 19 (E). Use depth=16 for VGG-16."
    )


def test_too_small_input_raises_a_full_message():
    with pytest.raises(ValueError) as info:
        vgg(16, input_shape=(28, 28, 1))
    assert str(info.value) == (
        "vgg16: input_shape=(28, 28, 1) is too small; expected height and width of at least "
        "32 for this architecture. Use e.g. input_shape=(224, 224, 3) or the model's small "
        "variant."
    )
