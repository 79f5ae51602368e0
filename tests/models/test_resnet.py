"""ResNets against He et al. (2016), keras.applications and torchvision's counts."""

import keras
import numpy as np
import pytest

from cnnlabs.layers import ZeroPadShortcut
from cnnlabs.models.resnet import cifar_resnet, lesion, residual_blocks, resnet


def trainable(model):
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


def convs(model):
    return [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]


def cifar_trainable_by_hand(n, classes=10):
    """conv weights (no bias) + BN gamma/beta + dense, Section 4.2 of the paper, option A."""
    total = 3 * 3 * 3 * 16 + 2 * 16  # conv1 + its BN
    channels = 16
    for filters in (16, 32, 64):
        for _ in range(n):
            total += 3 * 3 * channels * filters + 2 * filters  # first conv + BN
            total += 3 * 3 * filters * filters + 2 * filters  # second conv + BN
            channels = filters
    return total + 64 * classes + classes


@pytest.mark.parametrize(
    ("depth", "paper_millions", "digits"),
    [(20, 0.27, 2), (32, 0.46, 2), (44, 0.66, 2), (56, 0.85, 2), (110, 1.7, 1)],
)
def test_cifar_counts_equal_the_hand_count_and_round_to_table_6(depth, paper_millions, digits):
    n = (depth - 2) // 6
    model = cifar_resnet(depth)
    assert trainable(model) == cifar_trainable_by_hand(n)
    assert round(trainable(model) / 1e6, digits) == paper_millions
    # count_params() adds BN's moving mean and variance: 2 per BN channel.
    bn_channels = 16 + 2 * n * (16 + 32 + 64)
    assert model.count_params() == trainable(model) + 2 * bn_channels


@pytest.mark.parametrize("depth", [20])
def test_plain_and_residual_nets_have_the_same_6n_plus_2_weighted_layers(depth):
    residual, plain = cifar_resnet(depth), cifar_resnet(depth, plain=True)
    assert len(convs(residual)) == len(convs(plain)) == depth - 1
    dense = [layer for layer in plain.layers if isinstance(layer, keras.layers.Dense)]
    assert len(convs(plain)) + len(dense) == depth
    # Option A shortcuts have no parameters: the twins have identical counts.
    assert residual.count_params() == plain.count_params()
    assert not any("_add" in layer.name for layer in plain.layers)
    pads = [layer for layer in residual.layers if isinstance(layer, ZeroPadShortcut)]
    assert [layer.name for layer in pads] == ["conv3_block1_0_pad", "conv4_block1_0_pad"]


def test_shortcut_options_add_the_expected_projections():
    n = 3
    a = trainable(cifar_resnet(20, shortcut="A"))
    b = trainable(cifar_resnet(20, shortcut="B"))
    c = trainable(cifar_resnet(20, shortcut="C"))

    def projection(cin, cout):  # 1x1 conv without bias + BN gamma and beta
        return cin * cout + 2 * cout

    # B: a projection only at the two stage transitions (16->32 and 32->64).
    assert b - a == projection(16, 32) + projection(32, 64)
    # C: a projection on every block.
    assert c - a == (
        n * projection(16, 16)
        + projection(16, 32)
        + (n - 1) * projection(32, 32)
        + projection(32, 64)
        + (n - 1) * projection(64, 64)
    )


def test_preact_blocks_have_nothing_after_the_addition():
    model = cifar_resnet(20, preact=True)
    names = [layer.name for layer in model.layers]
    assert "conv1_bn" not in names and names[-4:] == [
        "post_bn",
        "post_relu",
        "avg_pool",
        "predictions",
    ]
    add = model.get_layer("conv2_block1_add")
    consumers = [layer.name for layer in model.layers if add.output in _inputs_of(layer)]
    assert consumers == ["conv2_block2_preact_bn", "conv2_block2_add"]
    assert model.count_params() == cifar_resnet(20).count_params()


def _inputs_of(layer):
    inputs = layer.input if isinstance(layer.input, list) else [layer.input]
    return inputs


def test_resnet50_has_the_keras_applications_layers():
    """Same names, output shapes and per-layer counts as keras.applications.ResNet50 (v1)."""
    reference = keras.applications.ResNet50(weights=None, input_shape=(64, 64, 3), classes=10)
    ours = resnet(50, input_shape=(64, 64, 3), num_classes=10)

    def table(model):
        return [(lyr.name, tuple(lyr.output.shape), lyr.count_params()) for lyr in model.layers[1:]]

    assert table(ours) == table(reference)


@pytest.mark.parametrize(("depth", "torchvision"), [(18, 11_689_512), (34, 21_797_672)])
def test_without_conv_biases_the_counts_equal_torchvision(depth, torchvision):
    assert trainable(resnet(depth, conv_bias=False)) == torchvision


@pytest.mark.slow
@pytest.mark.parametrize(
    ("depth", "torchvision"), [(50, 25_557_032), (101, 44_549_160), (152, 60_192_808)]
)
def test_bottleneck_counts_without_conv_biases_equal_torchvision(depth, torchvision):
    assert trainable(resnet(depth, conv_bias=False)) == torchvision


def test_imagenet_stage_shapes_follow_table_1():
    model = resnet(34, input_shape=(224, 224, 3))
    shapes = {s: tuple(model.get_layer(s).output.shape[1:]) for s in (
        "conv1_relu", "pool1_pool", "conv2_block3_out", "conv3_block4_out",
        "conv4_block6_out", "conv5_block3_out")}  # fmt: skip
    assert shapes == {
        "conv1_relu": (112, 112, 64),
        "pool1_pool": (56, 56, 64),
        "conv2_block3_out": (56, 56, 64),
        "conv3_block4_out": (28, 28, 128),
        "conv4_block6_out": (14, 14, 256),
        "conv5_block3_out": (7, 7, 512),
    }


@pytest.fixture(scope="module")
def batch():
    return np.random.default_rng(0).normal(size=(4, 32, 32, 3)).astype("float32")


def test_lesion_of_nothing_shares_layers_and_outputs(batch):
    model = cifar_resnet(20, classifier_activation=None)
    same = lesion(model, [])
    np.testing.assert_array_equal(np.asarray(same(batch)), np.asarray(model(batch)))
    assert {id(w) for w in same.weights} == {id(w) for w in model.weights}


def test_lesioned_resnet_bypasses_the_residual_branch(batch):
    model = cifar_resnet(20, classifier_activation=None)
    assert len(residual_blocks(model)) == 9
    lesioned = lesion(model, "conv3_block2")
    assert lesioned.output_shape == model.output_shape
    assert not np.allclose(np.asarray(lesioned(batch)), np.asarray(model(batch)))
    # The block's two convolutions are gone; everything else is the same object.
    missing = {layer.name for layer in model.layers} - {layer.name for layer in lesioned.layers}
    assert missing == {f"conv3_block2_{s}" for s in (
        "1_conv", "1_bn", "1_relu", "2_conv", "2_bn", "add")}  # fmt: skip
    assert all(lesioned.get_layer(layer.name) is layer for layer in lesioned.layers[1:]
               if layer.name in {x.name for x in model.layers})  # fmt: skip
    # Oracle: zeroing the last BN's gamma and beta silences the residual branch,
    # so relu(shortcut + 0) is what the lesioned block computes.
    silenced = keras.models.clone_model(model)
    silenced.set_weights(model.get_weights())
    bn = silenced.get_layer("conv3_block2_2_bn")
    bn.gamma.assign(np.zeros(32, "float32"))
    bn.beta.assign(np.zeros(32, "float32"))
    np.testing.assert_allclose(
        np.asarray(lesioned(batch)), np.asarray(silenced(batch)), rtol=1e-5, atol=1e-6
    )
    # Training the original changes the lesioned model too (shared weights).
    model.get_layer("predictions").bias.assign(np.ones(10, "float32"))
    np.testing.assert_allclose(
        np.asarray(lesioned(batch)) - np.asarray(lesion(model, "conv3_block2")(batch)), 0.0
    )


def test_lesioned_plain_net_replaces_a_block_by_its_input(batch):
    model = cifar_resnet(20, plain=True, classifier_activation=None)
    lesioned = lesion(model, -1)  # conv4_block3
    # Oracle: the model's own head applied to the output of conv4_block2.
    inner = keras.Model(model.input, model.get_layer("conv4_block2_out").output)
    head = model.get_layer("predictions")(model.get_layer("avg_pool")(inner(batch)))
    np.testing.assert_allclose(np.asarray(lesioned(batch)), np.asarray(head), rtol=1e-5)
    assert not np.allclose(np.asarray(lesioned(batch)), np.asarray(model(batch)))
    with pytest.raises(ValueError) as info:
        lesion(model, "conv3_block1")
    assert str(info.value) == (
        "lesion: block 'conv3_block1' of the plain net 'plain20' changes the shape from "
        "(32, 32, 16) to (16, 16, 32), so its output cannot be replaced by its input; expected "
        "a block that keeps the shape. Choose a block other than the first of a stage."
    )


def test_lesion_of_an_unknown_block_raises_a_full_message():
    with pytest.raises(ValueError) as info:
        lesion(cifar_resnet(20), "conv9_block1")
    assert str(info.value) == (
        "lesion: block 'conv9_block1' is not a block of model 'resnet20'; expected a name "
        "such as 'conv2_block1' or an index below 9. Call residual_blocks(model) to list them."
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"depth": 21},
            "resnet21: depth=21 is not valid; expected 6n+2 weighted layers with n >= 1 "
            "(20, 32, 44, 56, 110, ...). Use depth=20.",
        ),
        (
            {"shortcut": "D"},
            "resnet20: shortcut='D' is not supported; expected one of 'A', 'B', 'C'. "
            "Use e.g. shortcut='A'.",
        ),
        (
            {"plain": True, "preact": True},
            "plain20: plain=True and preact=True cannot be combined; pre-activation is a "
            "property of residual blocks. Use plain=True with preact=False.",
        ),
    ],
)
def test_bad_cifar_arguments_raise_full_messages(kwargs, message):
    with pytest.raises(ValueError) as info:
        cifar_resnet(**kwargs)
    assert str(info.value) == message


def test_unknown_imagenet_depth_raises_a_full_message():
    with pytest.raises(ValueError) as info:
        resnet(20)
    assert str(info.value) == (
        "resnet20: depth=20 is not an ImageNet ResNet of Table 1; expected one of 18, 34, 50, "
        "101, 152. Use cifar_resnet(depth) for the 6n+2 CIFAR networks."
    )
