"""Argument checks shared by the builders (messages students can act on)."""

from __future__ import annotations


def check_input_shape(input_shape, *, model: str, min_size: int, example: str) -> tuple:
    """Validate ``input_shape=(height, width, channels)`` for builder ``model``.

    Raises:
        ValueError: if the shape is not 3 positive ints, or height/width < ``min_size``.
    """
    try:
        shape = tuple(int(d) for d in input_shape)
    except (TypeError, ValueError):
        shape = None
    if shape is None or len(shape) != 3 or min(shape) <= 0:
        raise ValueError(
            f"{model}: input_shape={input_shape!r} is not valid; expected "
            f"(height, width, channels) with positive ints, without the batch dimension. "
            f"Use e.g. input_shape={example}."
        )
    if shape[0] < min_size or shape[1] < min_size:
        raise ValueError(
            f"{model}: input_shape={shape} is too small; expected height and width of at "
            f"least {min_size} for this architecture. Use e.g. input_shape={example} "
            "or the model's small variant."
        )
    return shape


def check_num_classes(num_classes, *, model: str) -> int:
    """Validate ``num_classes`` (a positive int)."""
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(
            f"{model}: num_classes={num_classes!r} is not valid; expected a positive int. "
            "Use e.g. num_classes=10 for MNIST or CIFAR-10."
        )
    return num_classes


def check_choice(value, *, name: str, model: str, choices: tuple) -> str:
    """Validate that ``value`` is one of ``choices``."""
    if value not in choices:
        options = ", ".join(repr(c) for c in choices)
        raise ValueError(
            f"{model}: {name}={value!r} is not supported; expected one of {options}. "
            f"Use e.g. {name}={choices[0]!r}."
        )
    return value
