"""A model answer as data: its JSON config and weights, and the safe rebuild.

The student's kernel writes a model with ``export_model``; the grader (in its
model worker, ``autograder.modeljudge``) rebuilds it with ``rebuild_model``,
``safe_mode=True``, Keras built-ins and registered ``cnnlabs`` layers only. The
check cell makes the same round trip on the student's own model, so that it
judges exactly what the grader will see (a lambda layer fails in both).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from cnnlabs.checks.plain import PlainDataError


def _safe_custom_objects() -> dict:
    """Custom layers a rebuilt model may use: the registered cnnlabs layers only."""
    import keras

    import cnnlabs.layers  # noqa: F401  (registers them)

    registered = keras.saving.get_custom_objects()
    return {name: obj for name, obj in registered.items() if name.startswith("cnnlabs>")}


def export_model(model, folder: str | os.PathLike, stem: str) -> tuple[Path, Path]:
    """Writes ``model`` as ``stem.json`` (config) and ``stem.weights.h5``."""
    import keras

    if not isinstance(model, keras.Model):
        raise PlainDataError(
            f"expected a keras.Model (or a function returning one), got {type(model).__name__}."
        )
    folder = Path(folder)
    config_path, weights_path = folder / f"{stem}.json", folder / f"{stem}.weights.h5"
    config_path.write_text(model.to_json())
    model.save_weights(weights_path)
    return config_path, weights_path


def rebuild_model(config_text: str, weights_path: str | os.PathLike):
    """Rebuilds a model from its JSON config and weights with ``safe_mode=True``.

    Only Keras built-ins and registered ``cnnlabs`` layers are allowed; lambdas and
    arbitrary classes are refused.
    """
    import keras
    from keras.src.saving import serialization_lib

    config = json.loads(config_text)
    if not isinstance(config, dict):
        raise ValueError("the model config is not a JSON object.")
    model = serialization_lib.deserialize_keras_object(
        config, custom_objects=_safe_custom_objects(), safe_mode=True
    )
    if not isinstance(model, keras.Model):
        raise ValueError(f"the config does not describe a keras.Model but {type(model).__name__}.")
    model.load_weights(weights_path)
    return model
