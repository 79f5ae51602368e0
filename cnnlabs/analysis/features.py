"""Activations of any layer (feature maps) and their plot.

Used in: lab 01 (LeNet-5) and lab 02 (AlexNet).
"""

from __future__ import annotations

import keras
import numpy as np

__all__ = ["feature_maps"]


def feature_maps(model, layer_name: str, x) -> np.ndarray:
    """Activations of layer ``layer_name`` for inputs ``x`` (inference mode).

    Args:
        model: a built Sequential or functional ``keras.Model``.
        layer_name: str, a layer of ``model``.
        x: array ``(batch, height, width, channels)``, or one example
            ``(height, width, channels)`` (a batch axis is added).

    Returns:
        ``np.ndarray`` of the layer's output, e.g. ``(batch, height, width, channels)``.

    Raises:
        ValueError: for an unknown layer name (with close matches) or an input
            whose shape does not fit the model.

    Example:
        >>> import keras, numpy as np
        >>> model = keras.Sequential([keras.Input((8, 8, 1)),
        ...                           keras.layers.Conv2D(4, 3, name="c1")])
        >>> feature_maps(model, "c1", np.zeros((8, 8, 1))).shape
        (1, 6, 6, 4)

    Used in: labs 01 and 02.
    """
    from cnnlabs.analysis.graph import layer_output, single_input

    output, _ = layer_output(model, layer_name)
    x = np.asarray(x)
    expected = tuple(model.inputs[0].shape[1:])
    if x.ndim == len(expected):
        x = x[None]
    if tuple(x.shape[1:]) != tuple(d if d is not None else x.shape[i + 1]
                                   for i, d in enumerate(expected)):
        raise ValueError(
            f"x has shape {x.shape}; expected (batch,) + {expected} for model {model.name!r}. "
            f"Resize or reshape the images, e.g. x.reshape((-1,) + {expected})."
        )
    probe = keras.Model(single_input(model.inputs), output)
    return np.asarray(probe(x.astype(model.inputs[0].dtype), training=False))
