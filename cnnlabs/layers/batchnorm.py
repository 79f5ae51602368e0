"""Batch normalization from Algorithm 1 of Ioffe and Szegedy (2015), and BN folding.

Training (Algorithm 1), per channel over the batch and spatial positions:

    mu = mean(x),  var = mean((x - mu)**2),  x_hat = (x - mu) / sqrt(var + epsilon),
    y = gamma * x_hat + beta

and the moving statistics follow Keras's convention
``moving = moving * momentum + batch * (1 - momentum)`` (with the biased batch
variance, as ``keras.layers.BatchNormalization`` does; the paper's Algorithm 2
uses the unbiased ``m / (m - 1) * var`` for inference). Inference uses the moving
statistics. Defaults equal Keras's: ``momentum=0.99``, ``epsilon=1e-3``.

Folding: at inference a BN after a convolution is an affine map per channel,
so it can be merged into the convolution:
``w' = w * gamma / sqrt(var + eps)``, ``b' = (b - mean) * gamma / sqrt(var + eps) + beta``.

Reference: S. Ioffe, C. Szegedy, "Batch normalization: accelerating deep network
training by reducing internal covariate shift", ICML 2015, Algorithms 1 and 2.

Used in: lab 06 (batch normalization).
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops


@keras.saving.register_keras_serializable(package="cnnlabs")
class BatchNorm(keras.layers.Layer):
    """Reference batch normalization over the last axis (Algorithm 1 of the paper).

    Args:
        momentum: float, moving-average momentum, default 0.99 (Keras's).
        epsilon: float, added to the variance, default 1e-3 (Keras's).
        center: bool, learn ``beta``, default True.
        scale: bool, learn ``gamma``, default True.
        **kwargs: base ``keras.layers.Layer`` arguments.

    Input shape: ``(batch, ..., channels)``; output shape: the same.
    Weights: ``gamma``, ``beta``, ``moving_mean``, ``moving_variance`` in the order of
    ``keras.layers.BatchNormalization``, so ``set_weights`` works between them.

    Raises:
        ValueError: if ``momentum`` is not in [0, 1) or ``epsilon`` is not positive.

    Example:

    >>> import numpy as np
    >>> x = np.array([[1.0], [3.0]], "float32")
    >>> [round(float(v), 3) for v in np.asarray(BatchNorm(epsilon=0.0)(x, training=True))[:, 0]]
    [-1.0, 1.0]

    Reference: Ioffe and Szegedy, ICML 2015, Algorithm 1.

    Used in: lab 06 (batch normalization).
    """

    def __init__(self, momentum=0.99, epsilon=1e-3, center=True, scale=True, **kwargs):
        super().__init__(**kwargs)
        if not 0.0 <= momentum < 1.0:
            raise ValueError(
                f"momentum={momentum!r} is not valid: expected a number in [0, 1). "
                "Use momentum=0.99 as Keras does."
            )
        if not epsilon >= 0.0:
            raise ValueError(
                f"epsilon={epsilon!r} is not valid: expected a non-negative number. "
                "Use epsilon=1e-3 as Keras does."
            )
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.center = bool(center)
        self.scale = bool(scale)

    def build(self, input_shape):
        shape = (input_shape[-1],)
        self.gamma = (
            self.add_weight(name="gamma", shape=shape, initializer="ones") if self.scale else None
        )
        self.beta = (
            self.add_weight(name="beta", shape=shape, initializer="zeros") if self.center else None
        )
        self.moving_mean = self.add_weight(
            name="moving_mean", shape=shape, initializer="zeros", trainable=False
        )
        self.moving_variance = self.add_weight(
            name="moving_variance", shape=shape, initializer="ones", trainable=False
        )

    def call(self, inputs, training=False):
        axes = tuple(range(len(inputs.shape) - 1))
        if training:
            mean = ops.mean(inputs, axis=axes)
            variance = ops.mean(ops.square(inputs - mean), axis=axes)  # biased, as in Alg. 1
            m = self.momentum
            self.moving_mean.assign(self.moving_mean * m + mean * (1.0 - m))
            self.moving_variance.assign(self.moving_variance * m + variance * (1.0 - m))
        else:
            mean, variance = self.moving_mean, self.moving_variance
        x_hat = (inputs - mean) / ops.sqrt(variance + self.epsilon)
        if self.scale:
            x_hat = x_hat * self.gamma
        if self.center:
            x_hat = x_hat + self.beta
        return x_hat

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "momentum": self.momentum,
                "epsilon": self.epsilon,
                "center": self.center,
                "scale": self.scale,
            }
        )
        return config


def _bn_arrays(bn_layer):
    channels = bn_layer.moving_mean.shape[0]
    gamma = np.asarray(bn_layer.gamma) if bn_layer.gamma is not None else np.ones(channels)
    beta = np.asarray(bn_layer.beta) if bn_layer.beta is not None else np.zeros(channels)
    return (
        gamma.astype("float64"),
        beta.astype("float64"),
        np.asarray(bn_layer.moving_mean, "float64"),
        np.asarray(bn_layer.moving_variance, "float64"),
        float(bn_layer.epsilon),
    )


def fold_bn(conv_layer, bn_layer):
    """Kernel and bias of a convolution with the following inference-mode BN folded in.

    ``w' = w * gamma / sqrt(var + eps)`` (per output channel) and
    ``b' = (b - mean) * gamma / sqrt(var + eps) + beta``.

    Args:
        conv_layer: a built ``keras.layers.Conv2D`` or ``Dense`` with a linear activation.
        bn_layer: a built ``keras.layers.BatchNormalization`` (last axis) or :class:`BatchNorm`.

    Returns:
        ``(kernel, bias)`` NumPy float32 arrays for a layer like ``conv_layer`` with a bias.

    Raises:
        ValueError: if the convolution has a non-linear activation or the widths differ.
    """
    activation = getattr(conv_layer, "activation", None)
    if activation is not None and activation is not keras.activations.linear:
        raise ValueError(
            f"fold_bn: layer {conv_layer.name!r} applies {activation.__name__!r} before the "
            "BatchNormalization, so the BN cannot be folded into it; expected a linear "
            "convolution. Build the convolution with activation=None."
        )
    kernel = np.asarray(conv_layer.kernel, "float64")
    out = kernel.shape[-1]
    bias = np.asarray(conv_layer.bias, "float64") if conv_layer.use_bias else np.zeros(out)
    gamma, beta, mean, var, eps = _bn_arrays(bn_layer)
    if gamma.shape[0] != out:
        raise ValueError(
            f"fold_bn: layer {conv_layer.name!r} has {out} output channels but "
            f"{bn_layer.name!r} normalizes {gamma.shape[0]}; expected the BN that follows the "
            "convolution. Pass the matching pair of layers."
        )
    factor = gamma / np.sqrt(var + eps)
    return (kernel * factor).astype("float32"), ((bias - mean) * factor + beta).astype("float32")


_FOLDABLE = (keras.layers.Conv2D, keras.layers.Dense)
_BN_TYPES = (keras.layers.BatchNormalization, BatchNorm)


def fold_batchnorm(model):
    """An inference model in which every foldable BN is merged into its convolution.

    A BN is folded when its only input is a ``Conv2D`` (``groups=1``) or ``Dense``
    layer with a linear activation whose output feeds nothing else, and it
    normalizes the last axis. The new model has no such BN layers, the
    convolutions gain biases, and ``folded(x) == model(x, training=False)`` up to
    float rounding. The original model is not changed.

    Args:
        model: a functional ``keras.Model``.

    Returns:
        A new functional ``keras.Model`` with the same inputs and outputs.

    Example:

    >>> inputs = keras.Input((8, 8, 3))
    >>> x = keras.layers.Conv2D(4, 3, use_bias=False, name="conv")(inputs)
    >>> x = keras.layers.BatchNormalization(name="bn")(x)
    >>> folded = fold_batchnorm(keras.Model(inputs, keras.layers.ReLU(name="relu")(x)))
    >>> [layer.name for layer in folded.layers]
    ['input_layer', 'conv', 'relu']

    Used in: lab 06 (batch normalization).
    """
    config = model.get_config()
    by_name = {layer["config"]["name"]: layer for layer in config["layers"]}
    consumers = {name: 0 for name in by_name}
    for layer in config["layers"]:
        for source in _sources(layer):
            consumers[source] = consumers.get(source, 0) + 1
    single_output = bool(config["output_layers"]) and isinstance(config["output_layers"][0], str)
    outputs = [config["output_layers"]] if single_output else config["output_layers"]
    for out in outputs:
        consumers[out[0]] = consumers.get(out[0], 0) + 1

    folds = {}  # bn name -> conv name
    for layer in config["layers"]:
        bn = model.get_layer(layer["config"]["name"])
        if not isinstance(bn, _BN_TYPES) or len(layer["inbound_nodes"]) != 1:
            continue
        axis = getattr(bn, "axis", -1)
        if axis not in (-1, len(bn.input.shape) - 1):
            continue
        sources = _sources(layer)
        if len(sources) != 1:
            continue
        conv = model.get_layer(sources[0])
        linear = getattr(conv, "activation", None) is keras.activations.linear
        if (
            isinstance(conv, _FOLDABLE)
            and linear
            and getattr(conv, "groups", 1) == 1
            and consumers[conv.name] == 1
            and len(by_name[conv.name]["inbound_nodes"]) == 1
        ):
            folds[bn.name] = conv.name

    new_layers = []
    for layer in config["layers"]:
        name = layer["config"]["name"]
        if name in folds:
            continue
        if name in folds.values():
            layer["config"]["use_bias"] = True
        _rename_sources(layer, folds)
        new_layers.append(layer)
    config["layers"] = new_layers
    outputs = [[folds.get(o[0], o[0]), *o[1:]] for o in outputs]
    config["output_layers"] = outputs[0] if single_output else outputs
    folded = keras.Model.from_config(config)

    conv_to_bn = {conv: bn for bn, conv in folds.items()}
    for layer in folded.layers:
        if layer.name in conv_to_bn:
            kernel, bias = fold_bn(
                model.get_layer(layer.name), model.get_layer(conv_to_bn[layer.name])
            )
            layer.set_weights([kernel, bias])
        elif layer.weights:
            layer.set_weights(model.get_layer(layer.name).get_weights())
    return folded


def _walk(obj, visit):
    if isinstance(obj, dict):
        if obj.get("class_name") == "__keras_tensor__":
            visit(obj["config"]["keras_history"])
            return
        for value in obj.values():
            _walk(value, visit)
    elif isinstance(obj, (list, tuple)):
        for value in obj:
            _walk(value, visit)


def _sources(layer_config):
    found = []
    _walk(layer_config["inbound_nodes"], lambda history: found.append(history[0]))
    return found


def _rename_sources(layer_config, renames):
    def visit(history):
        if history[0] in renames:
            history[0] = renames[history[0]]

    _walk(layer_config["inbound_nodes"], visit)
