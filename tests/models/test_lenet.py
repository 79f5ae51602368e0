"""LeNet-5 against LeCun et al. (1998): layer sizes, Table I, parameter counts."""

import numpy as np
import pytest

from cnnlabs.models import LENET5_C3_TABLE, lenet5, lenet5_paper_c3


def test_layer_output_shapes_follow_the_paper():
    model = lenet5()
    shapes = {name: model.get_layer(name).output.shape for name in ("C1", "S2", "C3", "S4", "C5")}
    assert shapes == {
        "C1": (None, 28, 28, 6),
        "S2": (None, 14, 14, 6),
        "C3": (None, 10, 10, 16),
        "S4": (None, 5, 5, 16),
        "C5": (None, 1, 1, 120),
    }
    assert model.get_layer("F6").output.shape == (None, 84)
    assert model.output_shape == (None, 10)


def test_parameter_counts_per_layer():
    model = lenet5()
    counts = {layer.name: layer.count_params() for layer in model.layers if layer.weights}
    # (5*5*in + 1) * out for the convolutions, (in + 1) * out for the dense layers.
    assert counts == {
        "C1": (25 * 1 + 1) * 6,  # 156, as in the paper
        "C3": (25 * 6 + 1) * 16,  # 2,416 with every S2 map connected
        "C5": (25 * 16 + 1) * 120,  # 48,120, as in the paper
        "F6": (120 + 1) * 84,  # 10,164, as in the paper
        "output": (84 + 1) * 10,  # 850 (the paper's RBF layer has 840 fixed centres)
    }
    assert model.count_params() == 61_706


def test_paper_connection_table_has_60_connections_and_1516_parameters():
    assert len(LENET5_C3_TABLE) == 16
    assert sum(len(row) for row in LENET5_C3_TABLE) == 60
    # Table I by rows (S2 map -> C3 maps marked X in the paper).
    rows = {i: sorted(j for j, col in enumerate(LENET5_C3_TABLE) if i in col) for i in range(6)}
    assert rows == {
        0: [0, 4, 5, 6, 9, 10, 11, 12, 14, 15],
        1: [0, 1, 5, 6, 7, 10, 11, 12, 13, 15],
        2: [0, 1, 2, 6, 7, 8, 11, 13, 14, 15],
        3: [1, 2, 3, 6, 7, 8, 9, 12, 14, 15],
        4: [2, 3, 4, 7, 8, 9, 10, 12, 13, 15],
        5: [3, 4, 5, 8, 9, 10, 11, 13, 14, 15],
    }
    model = lenet5_paper_c3()
    assert model.get_layer("C3").count_params() == 1_516  # the paper's figure
    assert model.count_params() == 61_706 - 2_416 + 1_516 == 60_806


def test_paper_c3_ignores_unconnected_maps():
    """Changing an S2 map that C3 map j does not see leaves map j unchanged."""
    layer = lenet5_paper_c3().get_layer("C3")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1, 14, 14, 6)).astype("float32")
    y = np.asarray(layer(x))
    x2 = x.copy()
    x2[..., 3] += rng.normal(size=(1, 14, 14)).astype("float32")
    y2 = np.asarray(layer(x2))
    changed = [j for j in range(16) if not np.allclose(y[..., j], y2[..., j])]
    assert changed == [j for j, col in enumerate(LENET5_C3_TABLE) if 3 in col]


def test_options_change_the_layers():
    model = lenet5(activation="relu", pooling="max", num_classes=3, classifier_activation=None)
    assert type(model.get_layer("S2")).__name__ == "MaxPooling2D"
    assert model.get_layer("C1").activation.__name__ == "relu"
    assert model.get_layer("output").activation.__name__ == "linear"
    assert model.output_shape == (None, 3)


def test_28x28_input_with_padding_matches_the_32x32_model():
    model = lenet5(input_shape=(28, 28, 1), input_padding=2)
    assert model.get_layer("pad").output.shape == (None, 32, 32, 1)
    assert model.count_params() == 61_706


def test_too_small_input_raises_with_a_fix():
    with pytest.raises(ValueError) as info:
        lenet5(input_shape=(28, 28, 1))
    assert str(info.value) == (
        "lenet5: input_shape=(28, 28, 1) with input_padding=0 leaves S4 maps of size 4, "
        "but C5 needs 5x5; expected inputs of at least 32x32 (the paper pads 28x28 MNIST "
        "digits to 32x32). Use input_padding=2 or input_shape=(32, 32, 1)."
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"activation": "gelu"},
            "lenet5: activation='gelu' is not supported; expected one of 'tanh', 'sigmoid', "
            "'relu'. Use e.g. activation='tanh'.",
        ),
        (
            {"pooling": "sum"},
            "lenet5: pooling='sum' is not supported; expected one of 'average', 'max'. "
            "Use e.g. pooling='average'.",
        ),
        (
            {"c3_connections": "partial"},
            "lenet5: c3_connections='partial' is not supported; expected one of 'full', "
            "'paper'. Use e.g. c3_connections='full'.",
        ),
        (
            {"num_classes": 0},
            "lenet5: num_classes=0 is not valid; expected a positive int. "
            "Use e.g. num_classes=10 for MNIST or CIFAR-10.",
        ),
        (
            {"input_shape": (32, 32)},
            "lenet5: input_shape=(32, 32) is not valid; expected (height, width, channels) "
            "with positive ints, without the batch dimension. Use e.g. input_shape=(32, 32, 1).",
        ),
        (
            {"input_padding": -1},
            "lenet5: input_padding=-1 is not valid; expected a non-negative int (zeros added "
            "on each side). Use input_padding=2 to feed 28x28 MNIST.",
        ),
    ],
)
def test_bad_arguments_raise_full_messages(kwargs, message):
    with pytest.raises(ValueError) as info:
        lenet5(**kwargs)
    assert str(info.value) == message
