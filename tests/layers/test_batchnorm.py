"""Reference BatchNorm against keras.layers.BatchNormalization, and BN folding."""

import keras
import numpy as np
import pytest

from cnnlabs.layers.batchnorm import BatchNorm, fold_batchnorm, fold_bn


def _pair(momentum=0.9):
    inputs = keras.Input((6, 6, 4))
    ours = keras.Model(inputs, BatchNorm(momentum=momentum, name="bn")(inputs))
    inputs = keras.Input((6, 6, 4))
    ref = keras.Model(inputs, keras.layers.BatchNormalization(momentum=momentum, name="bn")(inputs))
    return ours, ref


def test_matches_keras_in_training_and_inference_after_several_steps():
    ours, ref = _pair()
    rng = np.random.default_rng(0)
    weights = [rng.normal(size=4).astype("float32") for _ in range(2)]
    ours.get_layer("bn").set_weights(weights + [np.zeros(4, "float32"), np.ones(4, "float32")])
    ref.get_layer("bn").set_weights(ours.get_layer("bn").get_weights())
    for step in range(5):
        x = rng.normal(loc=step, scale=3.0, size=(8, 6, 6, 4)).astype("float32")
        np.testing.assert_allclose(ours(x, training=True), ref(x, training=True), atol=1e-5)
    for a, b in zip(ours.get_layer("bn").get_weights(), ref.get_layer("bn").get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-5)
    assert not np.allclose(ours.get_layer("bn").moving_mean.numpy(), 0.0)
    x = rng.normal(size=(3, 6, 6, 4)).astype("float32")
    np.testing.assert_allclose(ours(x, training=False), ref(x, training=False), atol=1e-5)


def test_training_output_is_normalized_per_channel():
    x = np.random.default_rng(1).normal(loc=5.0, scale=4.0, size=(16, 3, 3, 2)).astype("float32")
    y = np.asarray(BatchNorm(epsilon=0.0)(x, training=True))
    np.testing.assert_allclose(y.mean(axis=(0, 1, 2)), 0.0, atol=1e-5)
    np.testing.assert_allclose(y.std(axis=(0, 1, 2)), 1.0, atol=1e-4)


def test_round_trips_through_json():
    ours, _ = _pair(momentum=0.8)
    rebuilt = keras.models.model_from_json(ours.to_json())
    assert rebuilt.get_layer("bn").get_config() == ours.get_layer("bn").get_config()


def test_bad_momentum_raises_a_full_message():
    with pytest.raises(ValueError) as info:
        BatchNorm(momentum=1.0)
    assert str(info.value) == (
        "momentum=1.0 is not valid: expected a number in [0, 1). Use momentum=0.99 as Keras does."
    )


@pytest.mark.parametrize("bn_class", [keras.layers.BatchNormalization, BatchNorm])
def test_folded_model_equals_the_inference_model(bn_class):
    keras.utils.set_random_seed(0)
    inputs = keras.Input((12, 12, 3))
    x = keras.layers.Conv2D(8, 3, use_bias=False, name="conv1")(inputs)
    x = bn_class(name="bn1")(x)
    x = keras.layers.ReLU(name="relu1")(x)
    x = keras.layers.Conv2D(8, 3, strides=2, name="conv2")(x)
    x = bn_class(name="bn2")(x)
    x = keras.layers.ReLU(name="relu2")(x)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    x = keras.layers.Dense(5, name="fc")(x)
    outputs = bn_class(name="bn3")(x)
    model = keras.Model(inputs, outputs)
    rng = np.random.default_rng(2)
    for name in ("bn1", "bn2", "bn3"):  # non-trivial statistics, as after training
        bn = model.get_layer(name)
        n = bn.moving_mean.shape[0]
        bn.set_weights([rng.uniform(0.5, 2, n), rng.normal(size=n), rng.normal(size=n),
                        rng.uniform(0.5, 3, n)])  # fmt: skip
    folded = fold_batchnorm(model)
    names = [layer.name for layer in folded.layers][1:]
    assert names == ["conv1", "relu1", "conv2", "relu2", "gap", "fc"]
    assert folded.get_layer("conv1").use_bias
    x = rng.normal(size=(4, 12, 12, 3)).astype("float32")
    np.testing.assert_allclose(folded(x), model(x, training=False), rtol=1e-4, atol=1e-4)
    assert not np.allclose(folded(x), model(x, training=True), atol=1e-2)


def test_fold_bn_rejects_a_nonlinear_convolution():
    conv = keras.layers.Conv2D(2, 1, activation="relu", name="c")
    conv.build((None, 4, 4, 1))
    bn = keras.layers.BatchNormalization(name="b")
    bn.build((None, 4, 4, 2))
    with pytest.raises(ValueError) as info:
        fold_bn(conv, bn)
    assert str(info.value) == (
        "fold_bn: layer 'c' applies 'relu' before the BatchNormalization, so the BN cannot be "
        "folded into it; expected a linear convolution. Build the convolution with "
        "activation=None."
    )


def test_fold_keeps_a_bn_that_follows_an_activation():
    inputs = keras.Input((6, 6, 2))
    x = keras.layers.Conv2D(3, 3, activation="relu", name="conv")(inputs)
    model = keras.Model(inputs, keras.layers.BatchNormalization(name="bn")(x))
    folded = fold_batchnorm(model)
    assert "bn" in [layer.name for layer in folded.layers]
    x = np.random.default_rng(3).normal(size=(2, 6, 6, 2)).astype("float32")
    np.testing.assert_allclose(folded(x), model(x), atol=1e-6)
