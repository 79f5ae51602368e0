"""Convolution arithmetic as pure functions.

Output sizes, parameter counts, multiply-accumulates (MACs) and the
receptive-field recurrence of the layers used in the labs, written out so that a
student can check a hand calculation and the analysis tables can reuse them.
Nothing here imports TensorFlow.

Conventions (the same as Keras):

* sizes are per spatial axis; a layer with a square kernel applies the same
  formula to the height and the width;
* ``padding`` is ``"valid"`` (no padding), ``"same"`` (Keras ``"same"``: the
  output has ``ceil(n / stride)`` pixels, the extra pixel of an odd total padding
  goes after, i.e. at the bottom/right) or explicit non-negative integers: one
  integer pads both sides, a pair ``(before, after)`` pads each side;
* a dilated kernel of size ``k`` and dilation ``d`` spans ``d * (k - 1) + 1``
  pixels;
* one MAC is one multiplication followed by one addition; bias additions,
  activations, pooling, normalization and element-wise additions count 0 MACs.

Used in: lab 01 (LeNet-5), lab 02 (AlexNet), lab 03 (VGG, receptive fields),
lab 04 (Inception bottlenecks), lab 05 (ResNet).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = [
    "ReceptiveField",
    "batchnorm_params",
    "conv2d_macs",
    "conv2d_params",
    "conv_output_size",
    "dense_macs",
    "dense_params",
    "depthwise_conv2d_macs",
    "depthwise_conv2d_params",
    "effective_kernel_size",
    "padding_amounts",
    "pool_output_size",
    "receptive_field",
    "receptive_field_step",
    "separable_conv2d_macs",
    "separable_conv2d_params",
    "stacked_receptive_field",
]

Padding = str | int | tuple[int, int]


# --------------------------------------------------------------------------- checks


def _positive_int(name: str, value, hint: str) -> int:
    """`value` as an int, or an error naming the parameter `name`, the range and the value.

    Integers (Python or NumPy) pass; bools, floats (even 3.0) and strings (even "3")
    are refused with a `TypeError`, values below 1 with a `ValueError`.
    """
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise TypeError(
            f"{name}={value!r} is not an integer; expected a positive integer (1 or more). {hint}"
        )
    value = int(value)
    if value <= 0:
        raise ValueError(
            f"{name}={value} is not positive; expected a positive integer (1 or more). {hint}"
        )
    return value


def _flag(name: str, value) -> bool:
    """A bool parameter (`use_bias`, `center`, `scale`): True or False, nothing truthy."""
    numpy_bool = type(value).__module__ == "numpy" and type(value).__name__ in ("bool", "bool_")
    if not isinstance(value, bool) and not numpy_bool:
        raise TypeError(f"{name}={value!r} is not a bool; expected True or False.")
    return bool(value)


def _pair(name: str, value, hint: str) -> tuple[int, int]:
    """Accept a positive integer or a pair of them, as Keras does for kernel_size."""
    if isinstance(value, Sequence) and not isinstance(value, str):
        if len(value) != 2:
            raise ValueError(
                f"{name}={tuple(value)!r} has {len(value)} entries; expected one integer or a "
                f"(height, width) pair. Use e.g. {name}=3 or {name}=(3, 3)."
            )
        return (_positive_int(f"{name}[0]", value[0], hint), _positive_int(f"{name}[1]", value[1], hint))
    value = _positive_int(name, value, hint)
    return value, value


_KERNEL_HINT = "Use kernel_size=3 for a 3x3 kernel."
_STRIDE_HINT = "Use stride=1 to move the kernel one pixel at a time."
_DILATION_HINT = "Use dilation=1 for an ordinary kernel."
_OUTPUT_HINT = "Pass the output height and width in pixels, e.g. output_hw=(55, 55)."


def effective_kernel_size(kernel_size: int, dilation: int = 1) -> int:
    """Number of input pixels spanned by a (possibly dilated) kernel along one axis.

    ``k_eff = dilation * (kernel_size - 1) + 1``.

    Args:
        kernel_size: int, kernel size along the axis.
        dilation: int, dilation rate along the axis (default 1, no holes).

    Returns:
        int, the span in pixels.

    Raises:
        ValueError: if ``kernel_size`` or ``dilation`` is not a positive integer.

    Example:
        >>> effective_kernel_size(3, dilation=2)
        5
    """
    kernel_size = _positive_int("kernel_size", kernel_size, _KERNEL_HINT)
    dilation = _positive_int("dilation", dilation, _DILATION_HINT)
    return dilation * (kernel_size - 1) + 1


def _explicit_padding(padding) -> tuple[int, int] | None:
    if isinstance(padding, bool):
        return None
    if isinstance(padding, int):
        if padding < 0:
            raise ValueError(
                f"padding={padding} is negative; expected \"valid\", \"same\" or a non-negative "
                f"integer. Use padding=0 for no padding."
            )
        return padding, padding
    if isinstance(padding, Sequence) and not isinstance(padding, str):
        if len(padding) == 2 and all(isinstance(p, int) and p >= 0 for p in padding):
            return int(padding[0]), int(padding[1])
    return None


def _padding_label(padding) -> str:
    return f'"{padding}"' if isinstance(padding, str) else repr(padding)


def padding_amounts(
    size: int, kernel_size: int, stride: int = 1, padding: Padding = "valid", dilation: int = 1
) -> tuple[int, int]:
    """Pixels of zero padding added before and after an axis, the way Keras pads.

    ``"valid"`` adds none. ``"same"`` adds
    ``total = max((ceil(n / s) - 1) * s + k_eff - n, 0)`` pixels, ``total // 2``
    before and the rest after. Explicit integers are returned as given.

    Args:
        size: int, input size ``n`` along the axis.
        kernel_size: int, kernel size ``k``.
        stride: int, stride ``s`` (default 1).
        padding: ``"valid"``, ``"same"``, an int or a ``(before, after)`` pair.
        dilation: int, dilation rate ``d`` (default 1).

    Returns:
        tuple ``(before, after)`` of ints.

    Raises:
        ValueError: for an unknown padding or a non-positive size, kernel or stride.

    Example:
        >>> padding_amounts(224, 7, stride=2, padding="same")
        (2, 3)
    """
    size = _positive_int("size", size, "Pass the input height or width in pixels.")
    k_eff = effective_kernel_size(kernel_size, dilation)
    stride = _positive_int("stride", stride, _STRIDE_HINT)
    explicit = _explicit_padding(padding)
    if explicit is not None:
        return explicit
    if padding == "valid":
        return 0, 0
    if padding == "same":
        out = -(-size // stride)
        total = max((out - 1) * stride + k_eff - size, 0)
        return total // 2, total - total // 2
    raise ValueError(
        f"padding={_padding_label(padding)} is not supported; expected \"valid\", \"same\", a "
        f"non-negative integer or a (before, after) pair of them. Use padding=\"same\" to keep "
        f"the size (at stride 1) or padding=\"valid\" for no padding."
    )


def conv_output_size(
    size: int,
    kernel_size: int,
    stride: int = 1,
    padding: Padding = "valid",
    dilation: int = 1,
    *,
    axis: str = "height",
) -> int:
    """Output size of a convolution (or pooling) along one spatial axis.

    ``out = floor((n + p_before + p_after - k_eff) / s) + 1`` with
    ``k_eff = d * (k - 1) + 1``. For ``"valid"`` the padding is 0, so
    ``out = floor((n - k_eff) / s) + 1``; for ``"same"`` ``out = ceil(n / s)``.

    Args:
        size: int, input size ``n`` (height or width) in pixels.
        kernel_size: int, kernel (or pool window) size ``k``.
        stride: int, stride ``s`` (default 1).
        padding: ``"valid"`` (default), ``"same"``, an int (both sides) or a
            ``(before, after)`` pair.
        dilation: int, dilation rate ``d`` (default 1).
        axis: str, name of the axis used in error messages (default ``"height"``).

    Returns:
        int, the output size in pixels.

    Raises:
        ValueError: if the kernel does not fit the (padded) input, the stride,
            kernel or dilation is not positive, or the padding is unknown.

    Example:
        >>> conv_output_size(227, 11, stride=4)
        55
        >>> conv_output_size(224, 3, stride=2, padding="same")
        112

    Reference:
        Dumoulin & Visin, "A guide to convolution arithmetic for deep learning", 2016.

    Used in: labs 01-05.
    """
    size = _positive_int("size", size, f"Pass the input {axis} in pixels.")
    k_eff = effective_kernel_size(kernel_size, dilation)
    stride = _positive_int("stride", stride, _STRIDE_HINT)
    before, after = padding_amounts(size, kernel_size, stride, padding, dilation)
    padded = size + before + after
    if k_eff > padded:
        span = (
            f"kernel_size={kernel_size}"
            if dilation == 1
            else f"kernel_size={kernel_size} with dilation={dilation} (spanning {k_eff} pixels)"
        )
        if padding == "valid":
            fix = (
                f"Use padding=\"same\" or kernel_size <= {size}."
                if dilation == 1
                else f"Use padding=\"same\" or a kernel that spans <= {size} pixels."
            )
            raise ValueError(
                f"{span} does not fit an input of {axis} {size} with padding=\"valid\". {fix}"
            )
        raise ValueError(
            f"{span} does not fit an input of {axis} {size} with padding={_padding_label(padding)} "
            f"({padded} pixels after padding). Use more padding or a kernel that spans <= "
            f"{padded} pixels."
        )
    return (padded - k_eff) // stride + 1


def pool_output_size(
    size: int,
    pool_size: int = 2,
    strides: int | None = None,
    padding: Padding = "valid",
    *,
    axis: str = "height",
) -> int:
    """Output size of a max- or average-pooling layer along one axis.

    The same formula as a convolution without dilation:
    ``out = floor((n - k) / s) + 1`` for ``"valid"`` and ``ceil(n / s)`` for
    ``"same"``. As in Keras, ``strides`` defaults to ``pool_size``.

    Args:
        size: int, input size ``n`` in pixels.
        pool_size: int, window size ``k`` (default 2).
        strides: int or None, stride ``s`` (default: ``pool_size``).
        padding: ``"valid"`` (default) or ``"same"``, or explicit integers.
        axis: str, axis name used in error messages.

    Returns:
        int, the output size in pixels.

    Raises:
        ValueError: as :func:`conv_output_size`.

    Example:
        >>> pool_output_size(55, 3, strides=2)
        27
    """
    pool_size = _positive_int("pool_size", pool_size, "Use pool_size=2 for 2x2 windows.")
    strides = pool_size if strides is None else strides
    strides = _positive_int("strides", strides, "Use strides=None to step by the window size.")
    try:
        return conv_output_size(size, pool_size, strides, padding, 1, axis=axis)
    except ValueError as exc:
        raise ValueError(str(exc).replace("kernel_size", "pool_size")) from None


# ----------------------------------------------------------------------- parameters


def _check_groups(in_channels: int, filters: int, groups: int) -> None:
    groups = _positive_int("groups", groups, "Use groups=1 for an ordinary convolution.")
    for name, value in (("in_channels", in_channels), ("filters", filters)):
        if value % groups:
            divisors = [g for g in range(1, min(in_channels, filters) + 1)
                        if in_channels % g == 0 and filters % g == 0]
            raise ValueError(
                f"groups={groups} does not divide {name}={value}; expected groups to divide both "
                f"in_channels={in_channels} and filters={filters}. Use one of groups="
                f"{', '.join(map(str, divisors))}."
            )


def conv2d_params(
    kernel_size, in_channels: int, filters: int, *, groups: int = 1, use_bias: bool = True
) -> int:
    """Number of parameters of a ``Conv2D`` layer.

    ``params = k_h * k_w * (C_in / groups) * C_out + (C_out if use_bias else 0)``.

    Args:
        kernel_size: int or ``(k_h, k_w)``.
        in_channels: int, input channels ``C_in``.
        filters: int, output channels ``C_out``.
        groups: int, channel groups (default 1); must divide ``C_in`` and ``C_out``.
        use_bias: bool, whether the layer has one bias per filter (default True).

    Returns:
        int, trainable parameters.

    Raises:
        ValueError: if ``groups`` does not divide both channel counts or a size is
            not positive.

    Example:
        >>> conv2d_params(11, 3, 96)  # AlexNet conv1
        34944
    """
    k_h, k_w = _pair("kernel_size", kernel_size, _KERNEL_HINT)
    in_channels = _positive_int("in_channels", in_channels, "Pass the input's channel count.")
    filters = _positive_int("filters", filters, "Pass the number of output channels.")
    _check_groups(in_channels, filters, groups)
    use_bias = _flag("use_bias", use_bias)
    return k_h * k_w * (in_channels // groups) * filters + (filters if use_bias else 0)


def depthwise_conv2d_params(
    kernel_size, in_channels: int, *, depth_multiplier: int = 1, use_bias: bool = True
) -> int:
    """Number of parameters of a ``DepthwiseConv2D`` layer.

    Each input channel has its own ``depth_multiplier`` kernels:
    ``params = k_h * k_w * C_in * m + (C_in * m if use_bias else 0)``.

    Args:
        kernel_size: int or ``(k_h, k_w)``.
        in_channels: int, input channels ``C_in``.
        depth_multiplier: int, kernels per input channel ``m`` (default 1).
        use_bias: bool (default True).

    Returns:
        int, trainable parameters.

    Raises:
        ValueError: if a size is not positive.

    Example:
        >>> depthwise_conv2d_params(3, 32, use_bias=False)  # MobileNetV2 block
        288
    """
    k_h, k_w = _pair("kernel_size", kernel_size, _KERNEL_HINT)
    in_channels = _positive_int("in_channels", in_channels, "Pass the input's channel count.")
    m = _positive_int("depth_multiplier", depth_multiplier, "Use depth_multiplier=1.")
    use_bias = _flag("use_bias", use_bias)
    return k_h * k_w * in_channels * m + (in_channels * m if use_bias else 0)


def separable_conv2d_params(
    kernel_size, in_channels: int, filters: int, *, depth_multiplier: int = 1,
    use_bias: bool = True,
) -> int:
    """Number of parameters of a ``SeparableConv2D`` layer (depthwise, then 1x1 pointwise).

    ``params = k_h * k_w * C_in * m + C_in * m * C_out + (C_out if use_bias else 0)``:
    the depthwise kernels (no bias) plus a 1x1 convolution from ``C_in * m`` maps.

    Args:
        kernel_size: int or ``(k_h, k_w)`` of the depthwise step.
        in_channels: int, ``C_in``.
        filters: int, ``C_out``.
        depth_multiplier: int, ``m`` (default 1).
        use_bias: bool, one bias per output map (default True).

    Returns:
        int, trainable parameters.

    Example:
        >>> separable_conv2d_params(3, 728, 728, use_bias=False)  # Xception middle flow
        536536
    """
    depthwise = depthwise_conv2d_params(
        kernel_size, in_channels, depth_multiplier=depth_multiplier, use_bias=False
    )
    m = _positive_int("depth_multiplier", depth_multiplier, "Use depth_multiplier=1.")
    return depthwise + conv2d_params(1, in_channels * m, filters, use_bias=use_bias)


def dense_params(in_features: int, units: int, *, use_bias: bool = True) -> int:
    """Number of parameters of a ``Dense`` layer: ``in * out + (out if use_bias else 0)``.

    Args:
        in_features: int, size of the input's last axis.
        units: int, output units.
        use_bias: bool (default True).

    Returns:
        int, trainable parameters.

    Raises:
        ValueError: if a size is not positive.

    Example:
        >>> dense_params(120, 84)  # LeNet-5 F6
        10164
    """
    in_features = _positive_int("in_features", in_features, "Pass the input's last dimension.")
    units = _positive_int("units", units, "Pass the number of output units.")
    use_bias = _flag("use_bias", use_bias)
    return in_features * units + (units if use_bias else 0)


def batchnorm_params(channels: int, *, center: bool = True, scale: bool = True) -> int:
    """Number of parameters of a ``BatchNormalization`` layer over ``channels`` channels.

    ``gamma`` (if ``scale``) and ``beta`` (if ``center``) are trainable; the moving
    mean and moving variance (``2 * C``) are not, but Keras's ``count_params()``
    includes them: ``params = (scale + center + 2) * C``.

    Args:
        channels: int, channels ``C`` (the normalized axis).
        center: bool, learn ``beta`` (default True).
        scale: bool, learn ``gamma`` (default True).

    Returns:
        int, all parameters (trainable and non-trainable).

    Raises:
        ValueError: if ``channels`` is not positive.

    Example:
        >>> batchnorm_params(64)
        256
    """
    channels = _positive_int("channels", channels, "Pass the number of channels.")
    center, scale = _flag("center", center), _flag("scale", scale)
    return (int(center) + int(scale) + 2) * channels


# ---------------------------------------------------------------------------- MACs


def conv2d_macs(
    output_hw, in_channels: int, filters: int, kernel_size, *, groups: int = 1
) -> int:
    """Multiply-accumulates of a ``Conv2D`` layer for one example.

    ``MACs = H_out * W_out * C_out * (k_h * k_w * C_in / groups)``: every output
    value is a dot product of length ``k_h * k_w * C_in / groups``. The bias
    addition is not a MAC.

    Args:
        output_hw: int or ``(H_out, W_out)``, output spatial size.
        in_channels: int, ``C_in``.
        filters: int, ``C_out``.
        kernel_size: int or ``(k_h, k_w)``.
        groups: int (default 1).

    Returns:
        int, MACs per example.

    Raises:
        ValueError: if ``groups`` does not divide the channels or a size is not
            positive.

    Example:
        >>> conv2d_macs(55, 3, 96, 11)  # AlexNet conv1: 105.4M
        105415200
    """
    h, w = _pair("output_hw", output_hw, _OUTPUT_HINT)
    k_h, k_w = _pair("kernel_size", kernel_size, _KERNEL_HINT)
    weights = conv2d_params((k_h, k_w), in_channels, filters, groups=groups, use_bias=False)
    return h * w * weights


def depthwise_conv2d_macs(output_hw, in_channels: int, kernel_size, *, depth_multiplier: int = 1) -> int:
    """Multiply-accumulates of a ``DepthwiseConv2D`` layer for one example.

    ``MACs = H_out * W_out * C_in * m * k_h * k_w`` (a grouped convolution with
    ``groups = C_in``).

    Args:
        output_hw: int or ``(H_out, W_out)``.
        in_channels: int, ``C_in``.
        kernel_size: int or ``(k_h, k_w)``.
        depth_multiplier: int, ``m`` (default 1).

    Returns:
        int, MACs per example.

    Example:
        >>> depthwise_conv2d_macs(112, 32, 3)
        3612672
    """
    h, w = _pair("output_hw", output_hw, _OUTPUT_HINT)
    return h * w * depthwise_conv2d_params(
        kernel_size, in_channels, depth_multiplier=depth_multiplier, use_bias=False
    )


def separable_conv2d_macs(
    output_hw, in_channels: int, filters: int, kernel_size, *, depth_multiplier: int = 1
) -> int:
    """Multiply-accumulates of a ``SeparableConv2D`` layer for one example.

    ``MACs = H_out * W_out * (k_h * k_w * C_in * m + C_in * m * C_out)``: the
    depthwise step plus the 1x1 pointwise step, ``1/C_out + 1/(k_h k_w)`` of a
    standard convolution when ``m = 1`` (Howard et al. 2017, Eq. 5).

    Args:
        output_hw: int or ``(H_out, W_out)``.
        in_channels: int, ``C_in``.
        filters: int, ``C_out``.
        kernel_size: int or ``(k_h, k_w)``.
        depth_multiplier: int, ``m`` (default 1).

    Returns:
        int, MACs per example.

    Example:
        >>> separable_conv2d_macs(14, 512, 512, 3) / conv2d_macs(14, 512, 512, 3)  # 1/512 + 1/9
        0.1130642361111111

    Used in: lab 07.
    """
    h, w = _pair("output_hw", output_hw, _OUTPUT_HINT)
    return h * w * separable_conv2d_params(
        kernel_size, in_channels, filters, depth_multiplier=depth_multiplier, use_bias=False
    )


def dense_macs(in_features: int, units: int) -> int:
    """Multiply-accumulates of a ``Dense`` layer for one example: ``in * out``.

    Example:
        >>> dense_macs(4096, 1000)
        4096000
    """
    return dense_params(in_features, units, use_bias=False)


# ---------------------------------------------------------------- receptive fields


@dataclass(frozen=True)
class ReceptiveField:
    """Receptive field of the units of one feature map along one axis.

    Attributes:
        size: int, pixels of the input seen by one unit, ``r``.
        jump: int, distance in input pixels between two adjacent units, ``j``.
        start: float, input coordinate of the centre of the first unit's
            receptive field (pixel 0 is the first input pixel; negative values
            lie in the padding).
    """

    size: int
    jump: int
    start: float

    @property
    def span(self) -> tuple[float, float]:
        """Input coordinates ``(first, last)`` covered by the first unit."""
        half = (self.size - 1) / 2
        return self.start - half, self.start + half


def receptive_field_step(
    previous: ReceptiveField,
    kernel_size: int,
    stride: int = 1,
    padding: int = 0,
    dilation: int = 1,
) -> ReceptiveField:
    """One step of the receptive-field recurrence.

    With ``k_eff = d * (k - 1) + 1`` and ``p`` pixels of padding before the axis:

    * ``r_out = r_in + (k_eff - 1) * j_in``
    * ``j_out = j_in * s``
    * ``start_out = start_in + ((k_eff - 1) / 2 - p) * j_in``

    Args:
        previous: :class:`ReceptiveField` of the layer's input.
        kernel_size: int, ``k``.
        stride: int, ``s`` (default 1).
        padding: int, pixels added *before* the axis, ``p`` (default 0; see
            :func:`padding_amounts` for ``"same"``).
        dilation: int, ``d`` (default 1).

    Returns:
        :class:`ReceptiveField` of the layer's output.

    Example:
        >>> receptive_field_step(ReceptiveField(1, 1, 0.0), 3, stride=2)
        ReceptiveField(size=3, jump=2, start=1.0)

    Reference:
        Araujo, Norris & Sim, "Computing Receptive Fields of Convolutional Neural
        Networks", Distill, 2019.
    """
    k_eff = effective_kernel_size(kernel_size, dilation)
    stride = _positive_int("stride", stride, _STRIDE_HINT)
    return ReceptiveField(
        size=previous.size + (k_eff - 1) * previous.jump,
        jump=previous.jump * stride,
        start=previous.start + ((k_eff - 1) / 2 - padding) * previous.jump,
    )


def receptive_field(layers: Iterable, input_size: int | None = None) -> list[ReceptiveField]:
    """Receptive field after each layer of a chain, by the recurrence.

    Args:
        layers: iterable of ``(kernel_size, stride)``,
            ``(kernel_size, stride, padding)`` or
            ``(kernel_size, stride, padding, dilation)`` tuples, input first.
            ``padding`` is the number of pixels before the axis, or
            ``"valid"``/``"same"`` (which then needs ``input_size``).
        input_size: int or None, the input size, needed only to resolve
            ``"same"`` padding into pixels.

    Returns:
        list of :class:`ReceptiveField`, one per layer.

    Raises:
        ValueError: for a malformed layer tuple, or ``"same"`` without ``input_size``.

    Example:
        >>> [rf.size for rf in receptive_field([(3, 1), (3, 1), (3, 1)])]
        [3, 5, 7]
        >>> receptive_field([(11, 4), (3, 2)])[-1]
        ReceptiveField(size=19, jump=8, start=9.0)
    """
    rf = ReceptiveField(1, 1, 0.0)
    size = input_size
    out = []
    for index, spec in enumerate(layers):
        spec = tuple(spec)
        if not 2 <= len(spec) <= 4:
            raise ValueError(
                f"layer {index} is {spec!r}; expected (kernel_size, stride), optionally followed "
                f"by padding and dilation. Use e.g. (3, 1) for a 3x3 stride-1 convolution."
            )
        kernel, stride = spec[0], spec[1]
        padding = spec[2] if len(spec) > 2 else 0
        dilation = spec[3] if len(spec) > 3 else 1
        if isinstance(padding, str) and size is None:
            raise ValueError(
                f"layer {index} uses padding={_padding_label(padding)}, which depends on the "
                f"input size; expected input_size to be given. Use "
                f"receptive_field(layers, input_size=224)."
            )
        try:
            if isinstance(padding, str) or size is not None:
                before, _ = padding_amounts(size, kernel, stride, padding, dilation)
                size = conv_output_size(size, kernel, stride, padding, dilation, axis="size")
            else:
                before = _explicit_padding(padding)
                if before is None:
                    raise TypeError(
                        f"padding={padding!r} is not a number of pixels; expected a non-negative "
                        "integer, \"valid\" or \"same\". Use 0 for no padding."
                    )
                before = before[0]
            rf = receptive_field_step(rf, kernel, stride, before, dilation)
        except (TypeError, ValueError) as exc:  # say which layer, in the tuple's own terms
            raise type(exc)(f"layer {index} {spec!r}: {exc}") from None
        out.append(rf)
    return out


def stacked_receptive_field(num_layers: int, kernel_size: int = 3) -> int:
    """Receptive field of ``L`` stacked stride-1 ``k x k`` convolutions: ``1 + L * (k - 1)``.

    Two 3x3 convolutions see 5x5 pixels, three see 7x7 (VGG's argument): with
    ``C`` channels in and out they use ``3 * 9 * C^2 = 27 C^2`` weights instead of
    ``49 C^2`` for one 7x7, 45% fewer.

    Example:
        >>> stacked_receptive_field(3, 3)
        7
    """
    num_layers = _positive_int("num_layers", num_layers, "Use num_layers=1 for one layer.")
    kernel_size = _positive_int("kernel_size", kernel_size, "Use kernel_size=3.")
    return 1 + num_layers * (kernel_size - 1)
