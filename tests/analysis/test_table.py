"""layer_table / count_macs against Keras (shapes, params) and published totals."""

from __future__ import annotations

import json
import re

import keras
import pytest

from cnnlabs import arithmetic as A
from cnnlabs.analysis import count_macs, layer_table
from cnnlabs.models import build_model, list_models

L = keras.layers
REGISTRY = list_models()


def _registry_param(name: str):
    # Deep (ResNet-44 and up) and full-size VGG-13/16/19 models take 5-20 s each just to
    # build on a CPU: they run with -m slow; every other registered model runs by default.
    match = re.search(r"(\d+)$", name)
    depth = int(match.group(1)) if match else 0
    heavy = depth >= 44 or (name.startswith("vgg") and depth >= 13)
    return pytest.param(name, marks=pytest.mark.slow) if heavy else name


@pytest.mark.parametrize("name", [_registry_param(n) for n in REGISTRY])
def test_every_registered_model(name):
    model = build_model(name)
    table = layer_table(model)
    assert table.total_params == model.count_params()
    assert table.total_macs > 0
    assert table.receptive_field is not None
    by_name = {row.name: row for row in table.rows}
    for layer in model.layers:
        if not isinstance(layer, keras.Model):
            assert by_name[layer.name].output_shape == tuple(layer.output.shape)
    json.dumps(table.to_dict())


def test_lenet5_totals():
    table = layer_table(build_model("lenet5"))
    assert table.total_params == 61_706
    # C1 117,600 + C3 240,000 + C5 48,000 + F6 10,080 + output 840
    assert table.total_macs == 416_520
    assert table.receptive_field == 32


# Exact figures measured with keras 3 (weights=None); the parameter counts are the
# published keras.applications numbers, the MACs follow the documented convention.
APPLICATIONS = [
    ("VGG16", 138_357_544, 15_470_264_320, 212),
    ("ResNet50", 25_636_712, 3_857_973_248, 483),
    ("MobileNetV2", 3_538_984, 300_774_272, 491),
    ("InceptionV3", 23_851_784, 5_713_216_096, 1311),
    pytest.param("DenseNet121", 8_062_504, 2_834_161_664, 2071, marks=pytest.mark.slow),
]


@pytest.mark.parametrize("name,params,macs,rf", APPLICATIONS)
def test_keras_applications(name, params, macs, rf):
    model = getattr(keras.applications, name)(weights=None)
    table = layer_table(model)
    assert table.total_params == model.count_params() == params
    assert table.total_macs == macs
    assert table.receptive_field == rf  # Araujo et al. (Distill 2019) list 212, 483, 491, 1311
    assert not table.notes
    for layer in model.layers:
        assert table.row(layer.name).output_shape == tuple(layer.output.shape)


def test_vgg16_and_resnet50_headline_numbers():
    # the lecture's "15.5 GMACs" and "3.9 GMACs"
    assert round(15_470_264_320 / 1e9, 1) == 15.5
    assert round(3_857_973_248 / 1e9, 1) == 3.9


def test_per_layer_macs_follow_the_formulas():
    inp = keras.Input((32, 32, 16))
    x = L.Conv2D(32, 3, padding="same", groups=4, name="grouped")(inp)
    x = L.DepthwiseConv2D(5, strides=2, depth_multiplier=2, name="dw")(x)
    x = L.SeparableConv2D(8, 3, name="sep")(x)
    x = L.Dense(10, name="pixelwise")(x)
    x = L.GlobalAveragePooling2D()(x)
    x = L.Dense(3, name="fc")(x)
    table = layer_table(keras.Model(inp, x))
    assert table.row("grouped").macs == A.conv2d_macs(32, 16, 32, 3, groups=4)
    assert table.row("dw").macs == A.depthwise_conv2d_macs(14, 32, 5, depth_multiplier=2)
    assert table.row("sep").macs == A.depthwise_conv2d_macs(12, 64, 3) + A.conv2d_macs(12, 64, 8, 1)
    assert table.row("pixelwise").macs == 12 * 12 * A.dense_macs(8, 10)
    assert table.row("fc").macs == A.dense_macs(10, 3)
    assert table.row("fc").rf is None


def test_merges_take_the_union_of_the_paths():
    inp = keras.Input((32, 32, 3))
    stem = L.Conv2D(8, 3, strides=2, name="stem")(inp)  # rf 3, jump 2
    a = L.Conv2D(4, 1, name="b1x1")(stem)
    b = L.Conv2D(4, 5, padding="same", name="b5x5")(stem)  # rf 3 + 4*2 = 11
    cat = L.Concatenate(name="cat")([a, b])
    c = L.Conv2D(8, 3, padding="same", name="c")(cat)
    add = L.Add(name="add")([c, L.Conv2D(8, 1, name="shortcut")(cat)])
    table = layer_table(keras.Model(inp, add))
    assert (table.row("b1x1").rf, table.row("b5x5").rf, table.row("cat").rf) == (3, 11, 11)
    assert table.row("cat").jump == 2
    assert table.row("c").rf == 15
    assert table.row("add").rf == 15
    assert table.row("add").inputs == ["c", "shortcut"]


def test_asymmetric_kernels_report_height_and_width():
    model = keras.Sequential([keras.Input((20, 20, 1)), L.Conv2D(2, (1, 7), name="row"),
                              L.Conv2D(2, (3, 1), strides=(2, 1), name="col")])
    table = layer_table(model)
    assert table.row("row").rf == (1, 7)
    assert (table.row("col").rf, table.row("col").jump) == ((3, 7), (2, 1))


def test_nested_submodels_are_expanded():
    block = keras.Sequential([keras.Input((16, 16, 4)), L.Conv2D(4, 3, padding="same", name="c1"),
                              L.BatchNormalization(name="bn")], name="block")
    inp = keras.Input((16, 16, 3))
    x = L.Conv2D(4, 3, padding="same", name="stem")(inp)
    x = block(x)
    x = L.Conv2D(2, 3, name="head")(x)
    model = keras.Model(inp, x)
    table = layer_table(model)
    assert table.total_params == model.count_params()
    assert table.non_trainable_params == 8  # BN moving mean and variance
    assert table.row("block/c1").rf == 5
    assert table.row("head").rf == 7
    assert table.row("head").inputs == ["block/bn"]


def test_shared_layers_count_their_parameters_once():
    inp = keras.Input((8, 8, 2))
    conv = L.Conv2D(2, 3, padding="same", name="shared")
    model = keras.Model(inp, conv(conv(inp)))
    table = layer_table(model)
    assert table.total_params == model.count_params()
    assert table.total_macs == 2 * A.conv2d_macs(8, 2, 2, 3)


def test_count_macs_and_render():
    model = keras.Sequential([keras.Input((227, 227, 3)),
                              L.Conv2D(96, 11, strides=4, name="conv1")], name="alexnet_conv1")
    assert count_macs(model) == 105_415_200
    text = layer_table(model).render()
    assert "conv1" in text and "105,415,200" in text and "34,944" in text
    data = json.loads(json.dumps(layer_table(model).to_dict()))
    assert data["layers"][1] | {} == data["layers"][1]
    assert data["receptive_field"] == 11 and data["input_shape"] == [227, 227, 3]


def test_unbuilt_sequential_is_explained():
    with pytest.raises(ValueError) as info:
        layer_table(keras.Sequential([L.Conv2D(2, 3)], name="unbuilt"))
    assert str(info.value) == (
        "model 'unbuilt' is a Sequential model that has not been built, so its layers have no "
        "shapes yet; expected a built model. Start it with keras.Input(shape=(height, width, "
        "channels)) or call model.build((None, height, width, channels)) first."
    )


def test_subclassed_model_is_explained():
    class Tiny(keras.Model):
        def call(self, x):
            return x

    with pytest.raises(TypeError) as info:
        layer_table(Tiny())
    assert str(info.value) == (
        "layer_table needs a Sequential or functional keras.Model; got Tiny. Build the model "
        "with keras.Input and layer calls (functional API) or keras.Sequential."
    )


def test_unknown_row_name():
    table = layer_table(keras.Sequential([keras.Input((4,)), L.Dense(2, name="dense_out")],
                                         name="m"))
    with pytest.raises(KeyError) as info:
        table.row("dense_ot")
    assert info.value.args[0] == (
        "no layer named 'dense_ot' in 'm'; expected one of its 2 layer names. "
        "Did you mean 'dense_out'?"
    )
    with pytest.raises(KeyError) as info:
        table.row("zzz")
    assert info.value.args[0] == (
        "no layer named 'zzz' in 'm'; expected one of its 2 layer names. "
        "Use [row.name for row in table.rows] to list them."
    )
