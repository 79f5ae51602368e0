"""cnnlabs.arithmetic against Keras (the oracle) and against published numbers."""

from __future__ import annotations

import itertools

import keras
import numpy as np
import pytest

from cnnlabs import arithmetic as A

L = keras.layers

# ------------------------------------------------------------- Keras as the oracle

GRID = [
    (n, k, s, p, d)
    for n, k, s, p, d in itertools.product((5, 8, 13), (1, 2, 3, 5), (1, 2, 3), ("valid", "same"),
                                           (1, 2))
    if d * (k - 1) + 1 <= n and not (d > 1 and s > 1)  # keras forbids strides>1 with dilation>1
]


@pytest.mark.parametrize("n,k,s,p,d", GRID)
def test_conv_output_size_matches_keras(n, k, s, p, d):
    layer = L.Conv2D(3, k, strides=s, padding=p, dilation_rate=d)
    expected = layer.compute_output_shape((None, n, n + 1, 2))
    assert (A.conv_output_size(n, k, s, p, d), A.conv_output_size(n + 1, k, s, p, d)) == tuple(
        expected[1:3]
    )


@pytest.mark.parametrize("n,k,s,p", [(n, k, s, p) for n, k, s, p, d in GRID if d == 1])
def test_pool_output_size_matches_keras(n, k, s, p):
    for cls in (L.MaxPooling2D, L.AveragePooling2D):
        shape = cls(pool_size=k, strides=s, padding=p).compute_output_shape((None, n, n, 2))
        assert A.pool_output_size(n, k, s, p) == shape[1]


@pytest.mark.parametrize("n,k,s,p,d", [g for g in GRID if g[0] == 13])
def test_depthwise_output_size_and_params_match_keras(n, k, s, p, d):
    layer = L.DepthwiseConv2D(k, strides=s, padding=p, dilation_rate=d, depth_multiplier=2)
    layer.build((None, n, n, 3))
    assert layer.compute_output_shape((None, n, n, 3))[1] == A.conv_output_size(n, k, s, p, d)
    assert layer.count_params() == A.depthwise_conv2d_params(k, 3, depth_multiplier=2)


@pytest.mark.parametrize("k,cin,cout,groups,bias", [
    (3, 4, 8, 1, True), (5, 6, 6, 3, False), (1, 64, 32, 2, True), ((3, 1), 8, 4, 4, True),
    (11, 3, 96, 1, True),
])
def test_conv2d_params_match_keras(k, cin, cout, groups, bias):
    layer = L.Conv2D(cout, k, groups=groups, use_bias=bias)
    layer.build((None, 16, 16, cin))
    assert A.conv2d_params(k, cin, cout, groups=groups, use_bias=bias) == layer.count_params()


@pytest.mark.parametrize("fin,units,bias", [(120, 84, True), (4096, 1000, False), (1, 1, True)])
def test_dense_params_match_keras(fin, units, bias):
    layer = L.Dense(units, use_bias=bias)
    layer.build((None, fin))
    assert A.dense_params(fin, units, use_bias=bias) == layer.count_params()


@pytest.mark.parametrize("center,scale", [(True, True), (False, True), (True, False)])
def test_batchnorm_params_match_keras(center, scale):
    layer = L.BatchNormalization(center=center, scale=scale)
    layer.build((None, 4, 4, 64))
    assert A.batchnorm_params(64, center=center, scale=scale) == layer.count_params()


# ---------------------------------------------------------------- published numbers


def test_alexnet_conv1():
    assert A.conv_output_size(227, 11, 4) == 55
    assert A.conv2d_params(11, 3, 96) == 34_944
    assert A.conv2d_macs(55, 3, 96, 11) == 105_415_200


def test_inception_5x5_branch_per_pixel():
    naive_params = A.conv2d_params(5, 64, 64)
    naive_macs = A.conv2d_macs(1, 64, 64, 5)  # per output pixel
    assert (naive_params, naive_macs) == (102_464, 102_400)
    bottleneck_params = A.conv2d_params(1, 64, 32) + A.conv2d_params(5, 32, 64)
    bottleneck_macs = A.conv2d_macs(1, 64, 32, 1) + A.conv2d_macs(1, 32, 64, 5)
    assert (bottleneck_params, bottleneck_macs) == (53_344, 53_248)


def test_inception_28x28x192_bottleneck():
    naive = A.conv2d_macs(28, 192, 32, 5)
    bottleneck = A.conv2d_macs(28, 192, 16, 1) + A.conv2d_macs(28, 16, 32, 5)
    assert naive == 120_422_400  # "about 120.4M"
    assert bottleneck == 12_443_648  # "about 12.4M"


@pytest.mark.parametrize("layers,k,rf", [(1, 3, 3), (2, 3, 5), (3, 3, 7), (4, 5, 17)])
def test_stacked_receptive_field(layers, k, rf):
    assert A.stacked_receptive_field(layers, k) == rf
    assert A.receptive_field([(k, 1)] * layers)[-1].size == rf


def test_three_3x3_versus_one_7x7_weights():
    c = 64
    stacked = 3 * A.conv2d_params(3, c, c, use_bias=False)
    single = A.conv2d_params(7, c, c, use_bias=False)
    assert (stacked, single) == (27 * c * c, 49 * c * c)
    assert round(1 - stacked / single, 2) == 0.45


def test_receptive_field_recurrence_alexnet_like():
    # conv 11/4, pool 3/2, conv 5/1 pad 2, pool 3/2
    rfs = A.receptive_field([(11, 4), (3, 2), (5, 1, 2), (3, 2)])
    assert [(r.size, r.jump) for r in rfs] == [(11, 4), (19, 8), (51, 8), (67, 16)]


def test_receptive_field_same_padding_needs_input_size():
    with pytest.raises(ValueError) as info:
        A.receptive_field([(3, 1, "same")])
    assert str(info.value) == (
        'layer 0 uses padding="same", which depends on the input size; expected input_size to '
        "be given. Use receptive_field(layers, input_size=224)."
    )
    assert A.receptive_field([(7, 2, "same")], input_size=224)[0].start == 1.0


def test_explicit_padding_and_dilation():
    assert A.conv_output_size(5, 3, padding=1) == 5
    assert A.conv_output_size(5, 3, padding=(0, 2)) == 5
    assert A.conv_output_size(9, 3, dilation=4) == 1
    assert A.padding_amounts(224, 7, 2, "same") == (2, 3)


# -------------------------------------------------------------------------- errors


@pytest.mark.parametrize("call,message", [
    (lambda: A.conv_output_size(5, 7),
     'kernel_size=7 does not fit an input of height 5 with padding="valid". '
     'Use padding="same" or kernel_size <= 5.'),
    (lambda: A.conv_output_size(5, 3, dilation=3, axis="width"),
     'kernel_size=3 with dilation=3 (spanning 7 pixels) does not fit an input of width 5 '
     'with padding="valid". Use padding="same" or a kernel that spans <= 5 pixels.'),
    (lambda: A.conv_output_size(5, 9, padding=1),
     "kernel_size=9 does not fit an input of height 5 with padding=1 (7 pixels after padding). "
     "Use more padding or a kernel that spans <= 7 pixels."),
    (lambda: A.conv_output_size(5, 3, stride=0),
     "stride=0 is not positive; expected a positive integer (1 or more). "
     "Use stride=1 to move the kernel one pixel at a time."),
    (lambda: A.conv_output_size(5, 3, dilation=0),
     "dilation=0 is not positive; expected a positive integer (1 or more). "
     "Use dilation=1 for an ordinary kernel."),
    (lambda: A.receptive_field_step(A.ReceptiveField(1, 1, 0.0), 3, stride=-2),
     "stride=-2 is not positive; expected a positive integer (1 or more). "
     "Use stride=1 to move the kernel one pixel at a time."),
    (lambda: A.pool_output_size(8, 2, strides=0),
     "strides=0 is not positive; expected a positive integer (1 or more). "
     "Use strides=None to step by the window size."),
    (lambda: A.pool_output_size(8, 0),
     "pool_size=0 is not positive; expected a positive integer (1 or more). "
     "Use pool_size=2 for 2x2 windows."),
    (lambda: A.conv2d_macs((55, 0), 3, 96, 11),
     "output_hw[1]=0 is not positive; expected a positive integer (1 or more). "
     "Pass the output height and width in pixels, e.g. output_hw=(55, 55)."),
    (lambda: A.receptive_field([(3, 1), (3, 0)]),
     "layer 1 (3, 0): stride=0 is not positive; expected a positive integer (1 or more). "
     "Use stride=1 to move the kernel one pixel at a time."),
    (lambda: A.conv_output_size(5, 3, padding="full"),
     'padding="full" is not supported; expected "valid", "same", a non-negative integer or a '
     '(before, after) pair of them. Use padding="same" to keep the size (at stride 1) or '
     'padding="valid" for no padding.'),
    (lambda: A.conv_output_size(5, 3, padding=-1),
     'padding=-1 is negative; expected "valid", "same" or a non-negative integer. '
     "Use padding=0 for no padding."),
    (lambda: A.pool_output_size(1, 2),
     'pool_size=2 does not fit an input of height 1 with padding="valid". '
     'Use padding="same" or pool_size <= 1.'),
    (lambda: A.conv2d_params(3, 64, 64, groups=3),
     "groups=3 does not divide in_channels=64; expected groups to divide both in_channels=64 "
     "and filters=64. Use one of groups=1, 2, 4, 8, 16, 32, 64."),
    (lambda: A.conv2d_params(3, 6, 8, groups=3),
     "groups=3 does not divide filters=8; expected groups to divide both in_channels=6 and "
     "filters=8. Use one of groups=1, 2."),
    (lambda: A.conv2d_params((3, 3, 3), 4, 4),
     "kernel_size=(3, 3, 3) has 3 entries; expected one integer or a (height, width) pair. "
     "Use e.g. kernel_size=3 or kernel_size=(3, 3)."),
    (lambda: A.dense_params(0, 10),
     "in_features=0 is not positive; expected a positive integer (1 or more). "
     "Pass the input's last dimension."),
    (lambda: A.receptive_field([(3,)]),
     "layer 0 is (3,); expected (kernel_size, stride), optionally followed by padding and "
     "dilation. Use e.g. (3, 1) for a 3x3 stride-1 convolution."),
])
def test_errors_say_what_and_how_to_fix(call, message):
    with pytest.raises(ValueError) as info:
        call()
    assert str(info.value) == message


def test_non_integer_kernel_is_a_type_error():
    with pytest.raises(TypeError) as info:
        A.conv_output_size(5, 2.5)
    assert str(info.value) == (
        "kernel_size=2.5 is not an integer; expected a positive integer (1 or more). "
        "Use kernel_size=3 for a 3x3 kernel."
    )


KERNEL = "Use kernel_size=3 for a 3x3 kernel."


@pytest.mark.parametrize("call,message", [
    # a float is never rounded down (2.5 was once a 2x2 kernel), a string never parsed
    (lambda: A.conv2d_params(2.5, 3, 8),
     f"kernel_size=2.5 is not an integer; expected a positive integer (1 or more). {KERNEL}"),
    (lambda: A.conv2d_params(3.0, 3, 8),
     f"kernel_size=3.0 is not an integer; expected a positive integer (1 or more). {KERNEL}"),
    (lambda: A.conv2d_params("3", 3, 8),
     f"kernel_size='3' is not an integer; expected a positive integer (1 or more). {KERNEL}"),
    (lambda: A.conv2d_params("a", 3, 8),
     f"kernel_size='a' is not an integer; expected a positive integer (1 or more). {KERNEL}"),
    (lambda: A.conv2d_params(True, 3, 8),
     f"kernel_size=True is not an integer; expected a positive integer (1 or more). {KERNEL}"),
    (lambda: A.conv2d_params((3, 2.5), 3, 8),
     f"kernel_size[1]=2.5 is not an integer; expected a positive integer (1 or more). {KERNEL}"),
    (lambda: A.depthwise_conv2d_params("3", 32),
     f"kernel_size='3' is not an integer; expected a positive integer (1 or more). {KERNEL}"),
    (lambda: A.conv2d_params(3, "64", 8),
     "in_channels='64' is not an integer; expected a positive integer (1 or more). "
     "Pass the input's channel count."),
    (lambda: A.conv_output_size(5, 3, stride=1.5),
     "stride=1.5 is not an integer; expected a positive integer (1 or more). "
     "Use stride=1 to move the kernel one pixel at a time."),
    (lambda: A.conv_output_size(5, 3, dilation="2"),
     "dilation='2' is not an integer; expected a positive integer (1 or more). "
     "Use dilation=1 for an ordinary kernel."),
    (lambda: A.conv_output_size(5.0, 3),
     "size=5.0 is not an integer; expected a positive integer (1 or more). "
     "Pass the input height in pixels."),
    (lambda: A.conv2d_macs(55.5, 3, 96, 11),
     "output_hw=55.5 is not an integer; expected a positive integer (1 or more). "
     "Pass the output height and width in pixels, e.g. output_hw=(55, 55)."),
    (lambda: A.dense_params(120, 84, use_bias="no"),
     "use_bias='no' is not a bool; expected True or False."),
    (lambda: A.batchnorm_params(64, center=1),
     "center=1 is not a bool; expected True or False."),
    (lambda: A.receptive_field([(3, 1, 1.5)]),
     "layer 0 (3, 1, 1.5): padding=1.5 is not a number of pixels; expected a non-negative "
     'integer, "valid" or "same". Use 0 for no padding.'),
])
def test_wrong_types_are_refused_with_the_parameter_name(call, message):
    with pytest.raises(TypeError) as info:
        call()
    assert str(info.value) == message


def test_numpy_integers_and_bools_are_accepted():
    assert A.conv2d_params(np.int64(3), np.int32(3), 8, use_bias=np.bool_(False)) == 216
    assert A.conv_output_size(np.int64(227), 11, stride=np.int64(4)) == 55


def test_keras_agrees_the_kernel_does_not_fit():
    # the configuration we reject is one Keras cannot build either
    with pytest.raises(ValueError):
        L.Conv2D(1, 7).compute_output_shape((None, 5, 5, 1))
