"""Inception modules and GoogLeNet against Table 1 of Szegedy et al. (2015)."""

import keras
import pytest

from cnnlabs.models.inception import GOOGLENET_WIDTHS, googlenet, googlenet_small, inception_module


def module_params(cin, n1, r3, n3, r5, n5, proj):
    """Weights + biases of a bottleneck module, branch by branch."""
    return (
        (cin * n1 + n1)
        + (cin * r3 + r3) + (9 * r3 * n3 + n3)
        + (cin * r5 + r5) + (25 * r5 * n5 + n5)
        + (cin * proj + proj)
    )  # fmt: skip


@pytest.fixture(scope="module")
def net():
    return googlenet()


def test_output_widths_and_sizes_follow_table_1(net):
    expected = {
        "3a": (28, 256), "3b": (28, 480), "4a": (14, 512), "4b": (14, 512), "4c": (14, 512),
        "4d": (14, 528), "4e": (14, 832), "5a": (7, 832), "5b": (7, 1024),
    }  # fmt: skip
    for key, (size, maps) in expected.items():
        n1, _, n3, _, n5, proj = GOOGLENET_WIDTHS[key]
        assert n1 + n3 + n5 + proj == maps
        assert net.get_layer(f"inception_{key}_output").output.shape == (None, size, size, maps)


def test_every_module_has_the_hand_count(net):
    cin = 192
    total = 0
    for key, widths in GOOGLENET_WIDTHS.items():
        layers = [lyr for lyr in net.layers if lyr.name.startswith(f"inception_{key}_")]
        count = sum(lyr.count_params() for lyr in layers)
        assert count == module_params(cin, *widths), key
        total += count
        cin = widths[0] + widths[2] + widths[4] + widths[5]
    stem = (7 * 7 * 3 * 64 + 64) + (64 * 64 + 64) + (9 * 64 * 192 + 192)
    head = 1024 * 1000 + 1000
    assert net.count_params() == stem + total + head == 6_998_552


def test_branches_concatenate_in_the_paper_order():
    x = keras.Input((8, 8, 16))
    y = inception_module(x, 1, 2, 3, 4, 5, 6, name="m")
    model = keras.Model(x, y)
    concat = model.get_layer("m_output")
    assert [t.shape[-1] for t in concat.input] == [1, 3, 5, 6]
    assert y.shape == (None, 8, 8, 15)


def test_naive_module_is_costlier_than_the_bottleneck_module():
    x = keras.Input((28, 28, 192))
    naive = keras.Model(x, inception_module(x, *GOOGLENET_WIDTHS["3a"], name="n", naive=True))
    reduced = keras.Model(x, inception_module(x, *GOOGLENET_WIDTHS["3a"], name="r"))
    assert naive.output_shape == (None, 28, 28, 64 + 128 + 32 + 192)
    n1, n3, n5 = 64, 128, 32
    assert naive.count_params() == (192 * n1 + n1) + (9 * 192 * n3 + n3) + (25 * 192 * n5 + n5)
    assert naive.count_params() > 2 * reduced.count_params()


def test_auxiliary_classifiers():
    model = googlenet(input_shape=(224, 224, 3), num_classes=10, aux_classifiers=True)
    assert model.output_shape == [(None, 10), (None, 10), (None, 10)]
    assert model.get_layer("aux1_pool").output.shape == (None, 4, 4, 512)
    assert model.get_layer("aux1_dropout").rate == 0.7
    aux1 = sum(lyr.count_params() for lyr in model.layers if lyr.name.startswith("aux1_"))
    assert aux1 == (512 * 128 + 128) + (4 * 4 * 128 * 1024 + 1024) + (1024 * 10 + 10)


def test_small_variant_sizes():
    model = googlenet_small()
    assert model.get_layer("inception_3a_output").output.shape == (None, 32, 32, 64)
    assert model.get_layer("inception_4e_output").output.shape == (None, 16, 16, 208)
    assert model.output_shape == (None, 10)


def test_small_variant_rejects_aux_classifiers():
    from cnnlabs.models.inception import _googlenet

    with pytest.raises(ValueError) as info:
        _googlenet(True, (32, 32, 3), 10, True, False, False, 0.25, 0.4, "softmax", "g")
    assert str(info.value) == (
        "g: aux_classifiers=True needs the 14x14 maps of the 224x224 network; expected "
        "aux_classifiers=False for the small variant. Use googlenet() instead."
    )


def test_bad_width_multiplier_raises_a_full_message():
    with pytest.raises(ValueError) as info:
        googlenet_small(width_multiplier=0)
    assert str(info.value) == (
        "googlenet_small: width_multiplier=0 is not valid; expected a positive number that "
        "scales every branch. Use width_multiplier=1.0 for Table 1."
    )
