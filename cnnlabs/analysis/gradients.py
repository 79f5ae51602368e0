"""Per-layer gradient norms: vanishing gradients made visible.

Used in: lab 05 (ResNet, shortcuts) and lab 06 (batch normalization).
"""

from __future__ import annotations

import keras
import numpy as np

__all__ = ["gradient_norms"]


def _weighted_layers(model):
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from _weighted_layers(layer)
        elif any("kernel" in w.path.rsplit("/", 1)[-1] for w in layer.trainable_weights):
            yield layer


def _ends_with_softmax(model) -> bool:
    last = model.layers[-1]
    activation = getattr(last, "activation", None)
    return isinstance(last, keras.layers.Softmax) or getattr(activation, "__name__", "") == "softmax"


def _default_loss(model, y, output_shape):
    compiled = getattr(model, "loss", None)
    if compiled is not None:
        return keras.losses.get(compiled) if isinstance(compiled, str) else compiled
    y = np.asarray(y)
    from_logits = not _ends_with_softmax(model)
    if np.issubdtype(y.dtype, np.integer) and output_shape[-1] > 1:
        if y.ndim == len(output_shape) - 1:
            return keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits)
        return keras.losses.CategoricalCrossentropy(from_logits=from_logits)
    if y.shape[1:] == tuple(output_shape[1:]):
        return keras.losses.MeanSquaredError()
    raise ValueError(
        f"y has shape {y.shape} and dtype {y.dtype}, which does not match the model's output "
        f"{tuple(output_shape)}; expected integer class labels (batch,) or targets of the "
        f"output's shape. Pass loss=... explicitly, e.g. loss=\"mse\"."
    )


def gradient_norms(model, x, y, loss=None) -> dict[str, float]:
    """L2 norm of the loss gradient with respect to each layer's kernel, input side first.

    ``norms[layer] = || dL / dW_layer ||_2`` for one batch (``L`` the mean loss over
    the batch), where ``W_layer`` are the
    layer's kernels (``kernel``, ``depthwise_kernel``, ``pointwise_kernel``;
    biases and batch-norm parameters are left out). The forward pass runs in
    training mode (batch statistics for batch normalization, as during ``fit``).

    Args:
        model: a built ``keras.Model``.
        x: array ``(batch, height, width, channels)`` (or the model's input shape).
        y: targets: integer labels ``(batch,)``, one-hot ``(batch, classes)``, or
            any target of the output's shape.
        loss: a Keras loss (name, function or object); default: the compiled loss,
            else sparse/categorical cross-entropy for integer labels (from logits
            unless the last layer is a softmax), else mean squared error.

    Returns:
        dict ``{layer_name: norm}`` ordered from the input to the output.

    Raises:
        ValueError: if the model has no kernels, or ``y`` does not fit the output
            and no ``loss`` was given.

    Example:
        >>> import keras, numpy as np
        >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="d1"),
        ...                           keras.layers.Dense(2, name="d2")])
        >>> sorted(gradient_norms(model, np.ones((2, 4)), np.array([0, 1])))
        ['d1', 'd2']

    Reference:
        Glorot & Bengio, "Understanding the difficulty of training deep feedforward
        neural networks", AISTATS 2010.

    Used in: labs 05 and 06.
    """
    import tensorflow as tf

    layers = list(_weighted_layers(model))
    if not layers:
        raise ValueError(
            f"model {model.name!r} has no layer with a trainable kernel; expected Conv or Dense "
            f"layers. Check that the layers are trainable (layer.trainable = True)."
        )
    loss_fn = keras.losses.get(loss) if loss is not None else _default_loss(
        model, y, model.outputs[0].shape
    )
    kernels = {layer.name: [w for w in layer.trainable_weights
                            if "kernel" in w.path.rsplit("/", 1)[-1]] for layer in layers}
    variables = [w for ws in kernels.values() for w in ws]
    x = tf.convert_to_tensor(x, dtype=model.inputs[0].dtype)
    with tf.GradientTape() as tape:
        # loss functions given by name return one value per example: average them
        value = tf.reduce_mean(loss_fn(tf.convert_to_tensor(y), model(x, training=True)))
    grads = tape.gradient(value, [w.value for w in variables])
    by_id = {id(w): g for w, g in zip(variables, grads)}
    norms = {}
    for name, ws in kernels.items():
        squares = [float(tf.reduce_sum(tf.square(by_id[id(w)]))) for w in ws
                   if by_id[id(w)] is not None]
        norms[name] = float(np.sqrt(sum(squares)))
    return norms
