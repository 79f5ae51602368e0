"""count_macs against TensorFlow's own profiler (FLOPs of the frozen graph)."""

from __future__ import annotations

import math

import keras
import pytest

from cnnlabs.analysis import count_macs, layer_table
from cnnlabs.analysis.profiler import mac_flops, profiler_flops

L = keras.layers


def small_models():
    inp = keras.Input((16, 16, 3))
    x = L.Conv2D(8, 3, padding="same", use_bias=False)(inp)
    x = L.BatchNormalization()(x)
    x = L.ReLU()(x)
    a = L.DepthwiseConv2D(3, padding="same")(x)
    b = L.Conv2D(8, 1)(x)  # groups > 1 is not costed by the profiler (unknown shapes)
    x = L.Add()([a, b])
    x = L.MaxPooling2D(2)(x)
    x = L.GlobalAveragePooling2D()(x)
    branchy = keras.Model(inp, L.Dense(5, activation="softmax")(x), name="branchy")
    plain = keras.Sequential([keras.Input((12, 12, 2)), L.Conv2D(4, 5, strides=2),
                              L.Flatten(), L.Dense(3)], name="plain")
    return [branchy, plain]


@pytest.mark.parametrize("index", [0, 1])
def test_convolutions_and_matmuls_cost_two_flops_per_mac(index):
    model = small_models()[index]
    assert mac_flops(profiler_flops(model)) == 2 * count_macs(model)


def test_lenet5_every_profiler_flop_is_accounted_for():
    from cnnlabs import models
    model = models.build_model("lenet5")
    flops = profiler_flops(model)
    table = layer_table(model)
    rows = {row.name: row for row in table.rows}
    bias_adds = sum(
        int(math.prod(row.output_shape[1:]))
        for row in table.rows if row.type in ("Conv2D", "Dense")
    )
    pool = sum(4 * int(math.prod(rows[n].output_shape[1:])) for n in ("S2", "S4"))
    softmax = 5 * 10
    # 833,040 (2 x MACs) + 6,518 (bias) + 6,304 (2x2 average pooling) + 50 (softmax)
    assert (2 * table.total_macs, bias_adds, pool) == (833_040, 6_518, 6_304)
    assert sum(flops.values()) == 2 * table.total_macs + bias_adds + pool + softmax == 845_912


@pytest.mark.slow
def test_mobilenetv2_depthwise():
    model = keras.applications.MobileNetV2(weights=None, input_shape=(96, 96, 3), alpha=0.35)
    flops = profiler_flops(model)
    assert mac_flops(flops) == 2 * count_macs(model) == 23_868_256
    assert sum(flops.values()) == 24_994_768  # + BN, bias, adds, pooling, softmax: +4.7%


@pytest.mark.slow
def test_resnet50_and_vgg16():
    for build, macs in ((keras.applications.ResNet50, 3_857_973_248),
                        (keras.applications.VGG16, 15_470_264_320)):
        model = build(weights=None)
        assert mac_flops(profiler_flops(model)) == 2 * count_macs(model) == 2 * macs
