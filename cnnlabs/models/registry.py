"""A name -> builder registry for the model zoo.

Every family module decorates its public builders with :func:`register`, and
``cnnlabs.models`` imports every family module, so ``build_model("vgg16")``
works as soon as ``cnnlabs.models`` is imported.

Example:

>>> from cnnlabs.models import build_model, list_models
>>> "lenet5" in list_models()
True
>>> build_model("lenet5", num_classes=10).output_shape
(None, 10)

Used in: every lab (the check cells and ``cnnlabs train``/``cnnlabs summary``).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable

_REGISTRY: dict[str, Callable] = {}


def register(name: str) -> Callable[[Callable], Callable]:
    """Register a model builder under ``name``.

    Args:
        name: str, the registry name (lower case, e.g. ``"resnet20"``).

    Returns:
        A decorator that records the builder and returns it unchanged.

    Raises:
        TypeError: if ``name`` is not a string.
        ValueError: if ``name`` is already registered to another builder.
    """
    if not isinstance(name, str) or not name:
        raise TypeError(
            f"register(name) expects a non-empty string name, got {name!r}. "
            'Pass the registry name, e.g. @register("lenet5").'
        )

    def decorator(builder: Callable) -> Callable:
        existing = _REGISTRY.get(name)
        if existing is not None and existing is not builder:
            raise ValueError(
                f"Model name {name!r} is already registered to "
                f"{existing.__module__}.{existing.__qualname__}; names must be unique. "
                "Choose another name for the new builder."
            )
        _REGISTRY[name] = builder
        return builder

    return decorator


def list_models() -> list[str]:
    """Return the registered model names, sorted.

    Returns:
        list of str.
    """
    return sorted(_REGISTRY)


def get_builder(name: str) -> Callable:
    """Return the builder registered under ``name``.

    Raises:
        TypeError: if ``name`` is not a string.
        ValueError: if ``name`` is not registered; the message lists close matches.
    """
    if not isinstance(name, str):
        raise TypeError(
            f"Model name must be a string, got {type(name).__name__} {name!r}. "
            'Pass a registered name such as "lenet5".'
        )
    try:
        return _REGISTRY[name]
    except KeyError:
        pass
    key = name.strip().lower()
    if key in _REGISTRY:
        hint = f"Did you mean {key!r}?"
    else:
        # Names that extend what was typed ("lenet" -> "lenet5") first, then look-alikes.
        prefixed = [n for n in _REGISTRY if n.startswith(key)] if len(key) >= 3 else []
        close = sorted(prefixed, key=_natural)[:3]
        close = close or difflib.get_close_matches(key, list(_REGISTRY), n=3, cutoff=0.6)
        if close:
            hint = "Did you mean " + " or ".join(repr(c) for c in close) + "?"
        else:
            hint = "No registered name is close to it."
    raise ValueError(
        f"Unknown model name {name!r}. {hint} "
        "Call cnnlabs.models.list_models() to see every registered name."
    )


def _natural(name: str) -> list:
    """Sort key putting resnet18 before resnet101."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def build_model(name: str, /, **kwargs):
    """Build the registered model ``name``.

    Args:
        name: str, a name from :func:`list_models` (e.g. ``"vgg16"``); positional
            only, so that ``name=`` can be passed on to the builder (the model name).
        **kwargs: passed to the builder: every builder accepts ``input_shape``
            (tuple ``(height, width, channels)``) and ``num_classes`` (int).

    Returns:
        A functional ``keras.Model``.

    Raises:
        ValueError: if ``name`` is not registered (with close-match suggestions).

    Example:

    >>> build_model("lenet5", num_classes=10).name
    'lenet5'
    """
    return get_builder(name)(**kwargs)
