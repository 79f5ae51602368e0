"""Measured receptive fields: backpropagate from one unit to the input.

Two measurements complement the analytic recurrence of :func:`layer_table`:

* :func:`empirical_receptive_field` answers "which input pixels can change
  this unit at all?" exactly. It backpropagates from one unit through a
  *linearized positive copy* of the model, where a gradient can only be zero if
  no path connects the pixel to the unit:

  - every activation (ReLU, sigmoid, softmax...) becomes the identity, so no
    unit is switched off;
  - max-pooling becomes average pooling of the same window, so every pixel of
    the window passes gradient, not only the arg-max;
  - every kernel is set to the positive constant ``1 / sqrt(fan_in)`` and every
    bias to 0, so contributions add and never cancel;
  - batch normalization runs in inference mode with ``gamma = 1``,
    ``beta = 0``, ``mean = 0``, ``variance = 1`` (a positive scale);
  - dropout is inactive (inference), rescaling/normalization layers become the
    identity, local response normalization is removed;
  - the copy computes in float64 on an input of ones, so even products of a
    hundred layers neither overflow nor underflow.

  The support of the gradient is then exactly the set of input pixels connected
  to the unit. The analytic span of :func:`layer_table`, clipped to the image,
  equals its bounding box. It can contain holes when a stride exceeds the
  kernel (a 1x1 stride-2 convolution skips every other pixel); ``dense``
  reports that.

* :func:`effective_receptive_field` uses the real weights and random inputs:
  the average gradient magnitude is concentrated in the middle of the
  theoretical field (roughly Gaussian, Luo et al. 2016).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import keras
import numpy as np

from cnnlabs.analysis.graph import layer_output, single_input
from cnnlabs.analysis.table import layer_table

__all__ = [
    "EffectiveReceptiveField",
    "EmpiricalReceptiveField",
    "effective_receptive_field",
    "empirical_receptive_field",
    "linearized_copy",
]

_ACTIVATION_LAYERS = ("ReLU", "LeakyReLU", "ELU", "PReLU", "Softmax", "Activation", "Rescaling",
                      "Normalization", "LocalResponseNormalization")


@dataclass
class EmpiricalReceptiveField:
    """Support of the gradient of one unit with respect to the input.

    Attributes:
        layer: str, the layer measured.
        unit: tuple ``(row, column)`` of the unit in the layer's feature map.
        box: tuple ``(top, left, bottom, right)``, inclusive input pixels of the
            bounding box of the non-zero gradient.
        size: tuple ``(height, width)`` of the box in pixels.
        analytic_box: the same box predicted by :func:`layer_table` (the span of
            the unit clipped to the image).
        dense: bool, True when every pixel of the box has a non-zero gradient.
        gradient: ``(height, width)`` float64 array, the gradient summed over input
            channels.
    """

    layer: str
    unit: tuple[int, int]
    box: tuple[int, int, int, int]
    size: tuple[int, int]
    analytic_box: tuple[int, int, int, int]
    dense: bool
    gradient: np.ndarray

    @property
    def matches_analytic(self) -> bool:
        return self.box == self.analytic_box


def _fan_in(shape) -> int:
    return max(1, math.prod(shape[:-1]))


def _clone_layer(layer):
    L = keras.layers
    name = type(layer).__name__
    config = layer.get_config()
    if name in _ACTIVATION_LAYERS:
        return L.Activation("linear", name=layer.name, dtype="float64")
    if isinstance(layer, L.Dropout | L.SpatialDropout2D | L.GaussianNoise | L.GaussianDropout):
        return L.Activation("linear", name=layer.name, dtype="float64")
    cls = type(layer)
    if isinstance(layer, L.MaxPooling2D):
        cls = L.AveragePooling2D
    elif isinstance(layer, L.GlobalMaxPooling2D):
        cls = L.GlobalAveragePooling2D
    if "activation" in config:
        config["activation"] = "linear"
    config["dtype"] = "float64"
    return cls.from_config(config)


def linearized_copy(model) -> keras.Model:
    """A float64 copy of ``model`` in which no gradient is zero by accident.

    See the module docstring for each substitution. The copy's input is float64.

    Args:
        model: a built Sequential or functional ``keras.Model``.

    Returns:
        ``keras.Model`` with the same graph and layer names.
    """
    inputs = [keras.Input(batch_shape=t.shape, dtype="float64", name=f"{t.name}_f64")
              for t in model.inputs]
    copy = keras.models.clone_model(
        model, input_tensors=inputs if len(inputs) > 1 else inputs[0],
        clone_function=_clone_layer, recursive=True,
    )
    for layer in _all_layers(copy):
        if isinstance(layer, keras.layers.BatchNormalization):
            for weight, value in (("gamma", 1.0), ("beta", 0.0), ("moving_mean", 0.0),
                                  ("moving_variance", 1.0)):
                variable = getattr(layer, weight, None)
                if variable is not None:
                    variable.assign(np.full(variable.shape, value))
            continue
        for variable in layer.weights:
            path = variable.path.rsplit("/", 1)[-1]
            if "bias" in path:
                variable.assign(np.zeros(variable.shape))
            elif "kernel" in path:
                variable.assign(np.full(variable.shape, 1.0 / math.sqrt(_fan_in(variable.shape))))
    return copy


def _all_layers(model):
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from _all_layers(layer)
        else:
            yield layer


def _unit_gradient(model, output, x, unit, channel):
    import tensorflow as tf

    probe = keras.Model(single_input(model.inputs), output)
    x = tf.convert_to_tensor(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = probe(x, training=False)
        if len(y.shape) == 4:
            y = y[:, unit[0], unit[1], :]
        target = y[..., channel] if channel is not None else tf.reduce_sum(y, axis=-1)
        target = tf.reduce_sum(target)
    return tape.gradient(target, x).numpy()


def _centre_unit(shape, unit):
    if len(shape) != 4:
        return (0, 0) if unit is None else tuple(unit[:2])
    h, w = shape[1], shape[2]
    if unit is None:
        return (h // 2, w // 2)
    row, col = int(unit[0]), int(unit[1])
    if not (0 <= row < h and 0 <= col < w):
        raise ValueError(
            f"unit={tuple(unit)!r} is outside the layer's {h}x{w} feature map; expected "
            f"0 <= row < {h} and 0 <= column < {w}. Use unit=None for the centre unit "
            f"({h // 2}, {w // 2})."
        )
    return row, col


def _analytic_box(model, layer_name, unit, hw) -> tuple[int, int, int, int]:
    row = layer_table(model).row(layer_name)
    if row.span is None:
        return (0, 0, hw[0] - 1, hw[1] - 1)
    (top, bottom), (left, right) = row.span
    jump = row.jump if isinstance(row.jump, tuple) else (row.jump, row.jump)
    top, bottom = top + unit[0] * jump[0], bottom + unit[0] * jump[0]
    left, right = left + unit[1] * jump[1], right + unit[1] * jump[1]
    return (int(max(top, 0)), int(max(left, 0)), int(min(bottom, hw[0] - 1)),
            int(min(right, hw[1] - 1)))


def empirical_receptive_field(model, layer_name: str | None = None, unit=None,
                              channel: int | None = None) -> EmpiricalReceptiveField:
    """Input pixels that one unit depends on, measured by backpropagation.

    Backpropagates from unit ``unit`` of layer ``layer_name`` (summed over its
    channels unless ``channel`` is given) to the input of
    :func:`linearized_copy` ``(model)`` and reports the bounding box of the
    non-zero gradient. With that setup the box equals the analytic receptive
    field of :func:`layer_table` clipped to the image, near borders included.

    Args:
        model: a built Sequential or functional ``keras.Model`` with input
            ``(batch, height, width, channels)``.
        layer_name: str or None, the layer whose unit is measured (default: the
            model's output).
        unit: ``(row, column)`` in that layer's feature map, or None for the centre
            unit ``(H // 2, W // 2)``.
        channel: int or None, one channel of the unit (default: their sum).

    Returns:
        :class:`EmpiricalReceptiveField` (``.box``, ``.size``, ``.analytic_box``,
        ``.dense``, ``.gradient``).

    Raises:
        ValueError: for an unknown layer name, a unit outside the feature map, or a
            model so deep that the float64 gradient is not finite.

    Example:
        >>> import keras
        >>> model = keras.Sequential([keras.Input((16, 16, 1))] +
        ...     [keras.layers.Conv2D(2, 3, activation="relu", name=f"c{i}") for i in range(3)])
        >>> erf = empirical_receptive_field(model, "c2")
        >>> erf.size, erf.matches_analytic
        ((7, 7), True)

    Reference:
        Araujo, Norris & Sim, "Computing Receptive Fields of Convolutional Neural
        Networks", Distill, 2019.

    Used in: lab 03 (VGG and receptive fields).
    """
    _, name = layer_output(model, layer_name)
    copy = linearized_copy(model)
    output, _ = layer_output(copy, name)
    unit = _centre_unit(output.shape, unit)
    shape = (1,) + tuple(copy.inputs[0].shape[1:])
    grad = _unit_gradient(copy, output, np.ones(shape, "float64"), unit, channel)[0]
    if not np.all(np.isfinite(grad)):
        raise ValueError(
            f"the gradient of layer {name!r} is not finite even in float64; expected a model "
            f"of at most a few hundred layers. Measure an earlier layer with layer_name=..."
        )
    grad = grad.sum(axis=-1) if grad.ndim == 3 else grad
    support = grad != 0
    rows, cols = np.nonzero(support)
    hw = grad.shape[:2]
    box = (int(rows.min()), int(cols.min()), int(rows.max()), int(cols.max()))
    inside = support[box[0]:box[2] + 1, box[1]:box[3] + 1]
    return EmpiricalReceptiveField(
        layer=name, unit=unit, box=box, size=(box[2] - box[0] + 1, box[3] - box[1] + 1),
        analytic_box=_analytic_box(model, name, unit, hw), dense=bool(inside.all()),
        gradient=grad,
    )


@dataclass
class EffectiveReceptiveField:
    """Mean gradient magnitude of one unit over the input, with the real weights.

    Attributes:
        layer: str; unit: ``(row, column)``.
        map: ``(height, width)`` array, mean ``|d unit / d input|`` summed over input
            channels, scaled so that its maximum is 1.
        theoretical_box: ``(top, left, bottom, right)`` of the analytic receptive
            field clipped to the image.
        samples: int, number of random inputs averaged.
    """

    layer: str
    unit: tuple[int, int]
    map: np.ndarray
    theoretical_box: tuple[int, int, int, int]
    samples: int

    def mass_fraction_inside(self, half_width: int) -> float:
        """Fraction of the gradient mass within ``half_width`` pixels of the unit's centre."""
        top, left, bottom, right = self.theoretical_box
        cy, cx = (top + bottom) / 2, (left + right) / 2
        yy, xx = np.mgrid[: self.map.shape[0], : self.map.shape[1]]
        inside = (np.abs(yy - cy) <= half_width) & (np.abs(xx - cx) <= half_width)
        return float(self.map[inside].sum() / self.map.sum())


def effective_receptive_field(model, layer_name: str | None = None, unit=None, *,
                              samples: int = 8, seed: int = 0) -> EffectiveReceptiveField:
    """Average gradient magnitude of one unit with respect to the input.

    ``ERF(p) = mean over inputs x of sum over channels |d y_unit / d x_p|`` with the
    model's real weights (inference mode), inputs drawn from a standard normal.
    The map is scaled to a maximum of 1.

    Args:
        model: a built ``keras.Model`` with input ``(batch, height, width, channels)``.
        layer_name: str or None (default: the model's output).
        unit: ``(row, column)`` or None for the centre unit.
        samples: int, random inputs averaged (default 8).
        seed: int, seed of the random inputs (default 0).

    Returns:
        :class:`EffectiveReceptiveField`.

    Raises:
        ValueError: for an unknown layer or a unit outside the feature map.

    Reference:
        Luo, Li, Urtasun & Zemel, "Understanding the Effective Receptive Field in
        Deep Convolutional Neural Networks", NeurIPS 2016.

    Used in: lab 03 (VGG and receptive fields).
    """
    import tensorflow as tf

    output, name = layer_output(model, layer_name)
    unit = _centre_unit(output.shape, unit)
    probe = keras.Model(single_input(model.inputs), output)
    rng = np.random.default_rng(seed)
    shape = (samples,) + tuple(model.inputs[0].shape[1:])
    x = tf.convert_to_tensor(rng.standard_normal(shape).astype(model.inputs[0].dtype))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = probe(x, training=False)
        if len(y.shape) == 4:
            y = y[:, unit[0], unit[1], :]
        target = tf.reduce_sum(y)
    grad = np.abs(tape.gradient(target, x).numpy()).sum(axis=-1).mean(axis=0)
    peak = grad.max()
    erf = grad / peak if peak > 0 else grad
    return EffectiveReceptiveField(name, unit, erf, _analytic_box(model, name, unit, erf.shape),
                                   samples)
