"""Stand-ins for exercises that are not done yet, built from public Keras and library code.

``or_reference(answer, lambda: fallbacks.X, "exercise")`` lets the rest of a lab
run before the student has written ``X``. None of these is a reference solution:
each calls the Keras layer (``keras.layers.BatchNormalization``) or the library
block (``cnnlabs.models``, ``cnnlabs.layers``) that the exercise asks the student
to re-implement, which the exercise's own rules forbid in an answer. The reference
implementations the grader judges with live in ``autograder/references`` and never
ship to students.
"""

from __future__ import annotations

import itertools

import numpy as np

_names = itertools.count(1)


def _name(prefix: str) -> str:
    return f"{prefix}_{next(_names)}"


# ---------------------------------------------------------------- lab 01: LeNet-5


def conv2d_forward(x, w, stride=1):
    """``tf.nn.conv2d`` with valid padding, in float64: the convolution of ``conv2d_by_hand``."""
    import tensorflow as tf

    x, w = np.asarray(x, "float64"), np.asarray(w, "float64")
    return tf.nn.conv2d(x, w, stride, "VALID").numpy()


def conv2d_backward(x, w, grad_out, stride=1):
    """Gradients of ``sum(tf.nn.conv2d(x, w) * grad_out)`` by ``tf.GradientTape``."""
    import tensorflow as tf

    x, w = tf.constant(np.asarray(x, "float64")), tf.constant(np.asarray(w, "float64"))
    with tf.GradientTape() as tape:
        tape.watch([x, w])
        loss = tf.reduce_sum(tf.nn.conv2d(x, w, stride, "VALID") * np.asarray(grad_out, "float64"))
    return tuple(g.numpy() for g in tape.gradient(loss, [x, w]))


# ---------------------------------------------------------------- lab 04: Inception


def inception_naive_block(x, filters_1x1, filters_3x3, filters_5x5):
    """The naive Inception module of ``cnnlabs.models.inception`` on a Keras tensor."""
    from cnnlabs.models.inception import inception_module

    return inception_module(
        x, filters_1x1, 0, filters_3x3, 0, filters_5x5, 0, _name("naive"), naive=True
    )


def inception_bottleneck_block(
    x, filters_1x1, reduce_3x3, filters_3x3, reduce_5x5, filters_5x5, pool_proj
):
    """The Inception module with reductions of ``cnnlabs.models.inception``."""
    from cnnlabs.models.inception import inception_module

    return inception_module(
        x,
        filters_1x1,
        reduce_3x3,
        filters_3x3,
        reduce_5x5,
        filters_5x5,
        pool_proj,
        _name("inception"),
    )


def _wrap(block, name):
    def build(input_shape, *args, **kwargs):
        import keras

        inputs = keras.Input(input_shape)
        return keras.Model(inputs, block(inputs, *args, **kwargs), name=_name(name))

    return build


inception_naive_module = _wrap(inception_naive_block, "naive_module")
inception_bottleneck_module = _wrap(inception_bottleneck_block, "bottleneck_module")


# ---------------------------------------------------------------- lab 05: ResNet


def residual_identity_block(x, filters):
    """``cnnlabs.models.resnet.basic_block`` with an identity shortcut."""
    from cnnlabs.models.resnet import basic_block

    return basic_block(x, filters, stride=1, shortcut="B", name=_name("identity"))


def residual_projection_block(x, filters, strides=2):
    """``cnnlabs.models.resnet.basic_block`` with a projection shortcut (option B)."""
    from cnnlabs.models.resnet import basic_block

    return basic_block(x, filters, stride=strides, shortcut="C", name=_name("projection"))


# ---------------------------------------------------------------- lab 06: batch normalization


def _keras_bn(shape, eps, momentum=0.0):
    import keras

    layer = keras.layers.BatchNormalization(epsilon=eps, momentum=momentum)
    layer.build((None, *shape[1:]))
    return layer


def batchnorm_train(x, gamma, beta, eps=1e-3):
    """``keras.layers.BatchNormalization`` in training mode: (y, batch mean, batch variance)."""
    x = np.asarray(x, "float32")
    layer = _keras_bn(x.shape, eps)  # momentum 0: the moving statistics become the batch's
    layer.gamma.assign(np.asarray(gamma, "float32"))
    layer.beta.assign(np.asarray(beta, "float32"))
    y = np.asarray(layer(x, training=True), "float64")
    return y, np.asarray(layer.moving_mean, "float64"), np.asarray(layer.moving_variance, "float64")


def batchnorm_inference(x, gamma, beta, moving_mean, moving_var, eps=1e-3):
    """``keras.layers.BatchNormalization`` in inference mode with the given statistics."""
    x = np.asarray(x, "float32")
    layer = _keras_bn(x.shape, eps)
    layer.set_weights([np.asarray(w, "float32") for w in (gamma, beta, moving_mean, moving_var)])
    return np.asarray(layer(x, training=False), "float64")


def update_moving_average(moving, batch_value, momentum=0.99):
    """The moving-mean update of ``keras.layers.BatchNormalization`` after one batch."""
    moving, batch_value = np.broadcast_arrays(
        np.asarray(moving, "float32"), np.asarray(batch_value, "float32")
    )
    shape = moving.shape
    moving, batch_value = moving.reshape(-1), batch_value.reshape(-1)
    layer = _keras_bn((1, moving.size), 1e-3, momentum)
    layer.moving_mean.assign(moving)
    layer(batch_value[None, :], training=True)  # one example: its mean is batch_value
    return np.asarray(layer.moving_mean, "float64").reshape(shape)


def fold_batchnorm(kernel, bias, gamma, beta, moving_mean, moving_var, eps=1e-3):
    """``cnnlabs.layers.fold_bn`` on a convolution and a BN holding these weights."""
    import keras

    from cnnlabs.layers import fold_bn

    kernel = np.asarray(kernel, "float32")
    conv = keras.layers.Conv2D(kernel.shape[-1], kernel.shape[:2])
    conv.build((None, None, None, kernel.shape[2]))
    conv.set_weights([kernel, np.asarray(bias, "float32")])
    bn = _keras_bn((1, kernel.shape[-1]), eps)
    bn.set_weights([np.asarray(w, "float32") for w in (gamma, beta, moving_mean, moving_var)])
    return fold_bn(conv, bn)


# ---------------------------------------------------------------- lab 07: efficient convolutions


def resnext_paths_block(x, cardinality=32, width=4):
    """The ResNeXt block in its Figure 3(b) form: ``cardinality`` separate paths, concatenated.

    Equivalent to Figure 3(c) (one grouped convolution), built without ``groups``.
    """
    from keras import layers

    paths = []
    for _ in range(cardinality):
        y = layers.Conv2D(width, 1, use_bias=False)(x)
        y = layers.ReLU()(layers.BatchNormalization()(y))
        y = layers.Conv2D(width, 3, padding="same", use_bias=False)(y)
        paths.append(layers.ReLU()(layers.BatchNormalization()(y)))
    merged = layers.Concatenate()(paths) if cardinality > 1 else paths[0]
    y = layers.BatchNormalization()(layers.Conv2D(x.shape[-1], 1, use_bias=False)(merged))
    return layers.ReLU()(layers.Add()([y, x]))


def resnext_weights(channels, cardinality, width):
    """The convolutions' weights of a ResNeXt block, from ``cnnlabs.arithmetic``."""
    from cnnlabs.arithmetic import conv2d_params

    paths_width = width * cardinality  # the grouped convolution's channels
    return (
        conv2d_params(1, channels, paths_width, use_bias=False)
        + conv2d_params(3, paths_width, paths_width, groups=cardinality, use_bias=False)
        + conv2d_params(1, paths_width, channels, use_bias=False)
    )


def se_parameters(channels, ratio):
    """Parameters of a squeeze-and-excitation block, from ``cnnlabs.arithmetic``."""
    from cnnlabs.arithmetic import dense_params

    return dense_params(channels, channels // ratio) + dense_params(channels // ratio, channels)


def se_block(x, ratio=16):
    """``cnnlabs.models.blocks.se_block``."""
    from cnnlabs.models.blocks import se_block as library_se_block

    return library_se_block(x, ratio=ratio, name=_name("se"))


def dense_block(x, num_layers, growth_rate):
    """``cnnlabs.models.blocks.dense_block`` with the basic composite function."""
    from cnnlabs.models.blocks import dense_block as library_dense_block

    return library_dense_block(x, num_layers, growth_rate, bottleneck=False, name=_name("dense"))


def transition_block(x, compression=0.5):
    """``cnnlabs.models.blocks.transition_block``."""
    from cnnlabs.models.blocks import transition_block as library_transition_block

    return library_transition_block(x, compression, name=_name("transition"))


def _library_dense_layers(in_channels, growth_rate, num_layers):
    import keras

    inputs = keras.Input((1, 1, in_channels))
    model = keras.Model(inputs, dense_block(inputs, num_layers, growth_rate))
    return [[layer for layer in model.layers if f"_layer{index}_" in layer.name]
            for index in range(1, num_layers + 1)]


def dense_block_channels(in_channels, growth_rate, num_layers):
    """Channels after each layer, read from the library block's concatenations."""
    per_layer = _library_dense_layers(in_channels, growth_rate, num_layers)
    return [int(group[-1].output.shape[-1]) for group in per_layer]


def dense_block_layer_params(in_channels, growth_rate, num_layers):
    """Parameters of each layer, counted by Keras on the library block."""
    per_layer = _library_dense_layers(in_channels, growth_rate, num_layers)
    return [sum(layer.count_params() for layer in group) for group in per_layer]


def transfer_model(input_shape, num_classes, trainable_top=0, base=None):
    """``base`` with only its last ``trainable_top`` convolutions trainable, then a new head."""
    import keras

    if base is None:
        raise ValueError(
            "transfer_model: base=None; this stand-in needs the pretrained base. Pass "
            "base=pretrained_base()."
        )
    remaining = trainable_top
    for layer in reversed(base.layers):
        convolution = hasattr(layer, "kernel_size")
        layer.trainable = convolution and remaining > 0
        remaining -= int(convolution)
    head = keras.layers.Dense(num_classes, activation="softmax")
    return keras.Sequential([keras.Input(input_shape), base, head], name=_name("transfer"))
