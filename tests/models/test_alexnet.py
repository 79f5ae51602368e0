"""AlexNet against Krizhevsky et al. (2012): map sizes, LRN placement, grouping, counts."""

import pytest

from cnnlabs.layers import LocalResponseNormalization
from cnnlabs.models import alexnet_small, build_model

# Weights + biases per layer of the one-tower (groups=1) ImageNet model.
UNGROUPED = {
    "conv1": 11 * 11 * 3 * 96 + 96,
    "conv2": 5 * 5 * 96 * 256 + 256,
    "conv3": 3 * 3 * 256 * 384 + 384,
    "conv4": 3 * 3 * 384 * 384 + 384,
    "conv5": 3 * 3 * 384 * 256 + 256,
    "fc6": 6 * 6 * 256 * 4096 + 4096,
    "fc7": 4096 * 4096 + 4096,
    "fc8": 4096 * 1000 + 1000,
}


@pytest.fixture(scope="module")
def grouped():
    return build_model("alexnet_grouped")


def test_ungrouped_and_grouped_parameter_counts(grouped):
    assert sum(UNGROUPED.values()) == 62_378_344
    # The two-GPU layout halves the input maps seen by conv2, conv4 and conv5.
    halved = {"conv2": 5 * 5 * 48 * 256, "conv4": 3 * 3 * 192 * 384, "conv5": 3 * 3 * 192 * 256}
    expected = {name: count - halved.get(name, 0) for name, count in UNGROUPED.items()}
    counts = {layer.name: layer.count_params() for layer in grouped.layers if layer.weights}
    assert counts == expected
    assert grouped.count_params() == 60_965_224
    assert {
        n: grouped.get_layer(n).groups for n in ("conv1", "conv2", "conv3", "conv4", "conv5")
    } == {
        "conv1": 1,
        "conv2": 2,
        "conv3": 1,
        "conv4": 2,
        "conv5": 2,
    }


def test_feature_map_sizes_follow_figure_2(grouped):
    sizes = {
        name: tuple(grouped.get_layer(name).output.shape[1:])
        for name in ("conv1", "pool1", "conv2", "pool2", "conv3", "conv4", "conv5", "pool5")
    }
    assert sizes == {
        "conv1": (55, 55, 96),
        "pool1": (27, 27, 96),
        "conv2": (27, 27, 256),
        "pool2": (13, 13, 256),
        "conv3": (13, 13, 384),
        "conv4": (13, 13, 384),
        "conv5": (13, 13, 256),
        "pool5": (6, 6, 256),
    }


def test_lrn_pooling_and_dropout_settings(grouped):
    names = [layer.name for layer in grouped.layers]
    assert names == [
        "input", "conv1", "norm1", "pool1", "conv2", "norm2", "pool2", "conv3", "conv4",
        "conv5", "pool5", "flatten", "fc6", "drop6", "fc7", "drop7", "fc8",
    ]  # fmt: skip
    for name in ("norm1", "norm2"):
        lrn = grouped.get_layer(name)
        assert isinstance(lrn, LocalResponseNormalization)
        assert (lrn.size, lrn.k, lrn.alpha, lrn.beta, lrn.alpha_is_mean) == (
            5,
            2.0,
            1e-4,
            0.75,
            False,
        )
    for name in ("pool1", "pool2", "pool5"):
        pool = grouped.get_layer(name)
        assert (pool.pool_size, pool.strides) == ((3, 3), (2, 2))  # overlapping pooling
    assert grouped.get_layer("drop6").rate == grouped.get_layer("drop7").rate == 0.5


def test_options_remove_lrn_and_dropout():
    model = alexnet_small(lrn=False, dropout=0.0, num_classes=100)
    names = {layer.name for layer in model.layers}
    assert not names & {"norm1", "norm2", "drop6", "drop7"}
    assert model.output_shape == (None, 100)


def test_small_alexnet_map_sizes():
    model = alexnet_small()
    assert model.get_layer("pool1").output.shape == (None, 15, 15, 64)
    assert model.get_layer("pool5").output.shape == (None, 3, 3, 128)
    assert model.count_params() == 1_842_570


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"groups": 4},
            "alexnet_small: groups=4 is not supported; expected 1 (one GPU) or 2 (the paper's "
            "two-GPU layout). Use groups=2 to reproduce the paper's 60,965,224 parameters.",
        ),
        (
            {"dropout": 1.0},
            "alexnet_small: dropout=1.0 is not valid; expected a rate in [0, 1). "
            "Use dropout=0.5 as in the paper, or 0.0 to switch it off.",
        ),
        (
            {"input_shape": (14, 14, 3)},
            "alexnet_small: input_shape=(14, 14, 3) is too small; expected height and width "
            "of at least 15 for this architecture. Use e.g. input_shape=(32, 32, 3) or the "
            "model's small variant.",
        ),
    ],
)
def test_bad_arguments_raise_full_messages(kwargs, message):
    with pytest.raises(ValueError) as info:
        alexnet_small(**kwargs)
    assert str(info.value) == message
