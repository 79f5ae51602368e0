"""Per-layer tables of a built Keras model: shapes, parameters, MACs, receptive fields.

The table walks the model's functional graph node by node (inputs first), so
every layer knows the layers that feed it: branches and merges (Inception
concatenations, ResNet additions) and nested sub-models are handled.

Conventions (see ``docs/analysis.md``):

* **MACs** count the multiply-accumulates of convolutions and dense layers
  only, for one example: ``Conv2D = H_out * W_out * C_out * k_h * k_w * C_in / groups``,
  ``DepthwiseConv2D = H_out * W_out * C_in * m * k_h * k_w``,
  ``SeparableConv2D = depthwise + H_out * W_out * C_in * m * C_out``,
  ``Dense = in * out`` (times ``H * W`` when applied to every pixel). Bias
  additions, activations, pooling, batch normalization and merges count 0.
* **Receptive field** of a layer = the input pixels seen by one of its units,
  *ignoring the image border* (the recurrence of
  :func:`cnnlabs.arithmetic.receptive_field_step`, padding included in
  coordinates). For each spatial axis the first unit covers input pixels
  ``[lo, hi]``; a layer with kernel span ``k_eff``, stride ``s`` and ``p`` pixels of
  padding before the axis maps it to ``[lo - p*j, hi + (k_eff - 1 - p)*j]`` and
  the jump to ``j*s``.
* **Merges** (``Add``, ``Concatenate``, ``Multiply``...): the units of the output
  see the union of what the incoming units see, so the span is
  ``[min lo, max hi]`` and the receptive field is the largest over the incoming
  paths when their centres agree (always the case for the stride-1 "same"
  branches of Inception and ResNet). The incoming feature maps have the same
  spatial size, so their jumps agree; if they did not, the largest is kept and a
  note is added. Inputs that were pooled to a single pixel and are broadcast
  (squeeze-and-excitation gates) are left out of the union.
* Layers without spatial axes (after ``Flatten`` or global pooling) see the whole
  input; their ``rf`` and ``jump`` are ``None``. The model's
  ``receptive_field`` is the largest receptive field of a spatial layer.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field

import keras

from cnnlabs import arithmetic
from cnnlabs.analysis.graph import functional_graph, nodes

__all__ = ["LayerRow", "ModelTable", "count_macs", "layer_table"]


# Per spatial axis, what the first unit sees (`arithmetic.ReceptiveField`: size, jump and
# centre); None: the unit sees the whole input.
_Spatial = tuple[arithmetic.ReceptiveField, arithmetic.ReceptiveField] | None
_PIXEL = arithmetic.ReceptiveField(size=1, jump=1, start=0.0)  # an input pixel


@dataclass
class LayerRow:
    """One row of a :class:`ModelTable` (one call of one layer)."""

    name: str
    type: str
    output_shape: tuple | list
    trainable_params: int
    non_trainable_params: int
    macs: int
    rf: int | tuple[int, int] | None
    jump: int | tuple[int, int] | None
    inputs: list[str] = field(default_factory=list)
    #: input coordinates ``((top, bottom), (left, right))`` seen by unit ``(0, 0)``,
    #: ignoring the border (negative values lie in the padding); None without
    #: spatial axes.
    span: tuple | None = None

    @property
    def params(self) -> int:
        """Trainable plus non-trainable parameters."""
        return self.trainable_params + self.non_trainable_params

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "type": self.type,
            "output_shape": _jsonable(self.output_shape),
            "params": self.params,
            "trainable_params": self.trainable_params,
            "non_trainable_params": self.non_trainable_params,
            "macs": self.macs,
            "rf": _jsonable(self.rf),
            "jump": _jsonable(self.jump),
            "inputs": list(self.inputs),
        }


def _jsonable(value):
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    return value


@dataclass
class ModelTable:
    """Per-layer analysis of a model; build it with :func:`layer_table`."""

    model_name: str
    input_shape: tuple
    rows: list[LayerRow]
    notes: list[str] = field(default_factory=list)

    @property
    def total_params(self) -> int:
        return sum(row.params for row in self.rows)

    @property
    def trainable_params(self) -> int:
        return sum(row.trainable_params for row in self.rows)

    @property
    def non_trainable_params(self) -> int:
        return sum(row.non_trainable_params for row in self.rows)

    @property
    def total_macs(self) -> int:
        return sum(row.macs for row in self.rows)

    @property
    def receptive_field(self) -> int | tuple[int, int] | None:
        """Largest receptive field (pixels) of a layer that still has spatial axes."""
        sizes = [_as_pair(row.rf) for row in self.rows if row.rf is not None]
        if not sizes:
            return None
        return _square(tuple(max(s[i] for s in sizes) for i in range(2)))

    def row(self, name: str) -> LayerRow:
        """The row of the layer called ``name``."""
        for row in self.rows:
            if row.name == name:
                return row
        import difflib

        names = [r.name for r in self.rows]
        close = difflib.get_close_matches(name, names, n=3)
        hint = f"Did you mean {' or '.join(map(repr, close))}?" if close else (
            "Use [row.name for row in table.rows] to list them."
        )
        raise KeyError(
            f"no layer named {name!r} in {self.model_name!r}; expected one of its "
            f"{len(names)} layer names. {hint}"
        )

    def to_dict(self) -> dict:
        """Plain data (JSON-serializable) with the schema of ``cnnlabs summary --json``."""
        return {
            "model": self.model_name,
            "input_shape": _jsonable(self.input_shape),
            "total_params": self.total_params,
            "trainable_params": self.trainable_params,
            "non_trainable_params": self.non_trainable_params,
            "total_macs": self.total_macs,
            "receptive_field": _jsonable(self.receptive_field),
            "layers": [row.to_dict() for row in self.rows],
            "notes": list(self.notes),
        }

    def render(self, width: int = 120) -> str:
        """A readable text table (rich), one line per layer, totals at the bottom."""
        from rich.console import Console
        from rich.table import Table

        table = Table(title=f"{self.model_name}  input {_fmt_shape(self.input_shape)}")
        for header, justify in (
            ("layer", "left"), ("type", "left"), ("output shape", "left"),
            ("params", "right"), ("MACs", "right"), ("RF", "right"), ("jump", "right"),
        ):
            table.add_column(header, justify=justify, no_wrap=header != "layer")
        for row in self.rows:
            table.add_row(
                row.name, row.type, _fmt_shape(row.output_shape), f"{row.params:,}",
                f"{row.macs:,}", _fmt_rf(row.rf), _fmt_rf(row.jump),
            )
        table.add_section()
        table.add_row(
            "total", "", "", f"{self.total_params:,}", f"{self.total_macs:,}",
            _fmt_rf(self.receptive_field), "",
        )
        buffer = io.StringIO()
        console = Console(file=buffer, width=width, force_terminal=False, color_system=None)
        console.print(table)
        lines = [
            f"params: {self.total_params:,} ({self.trainable_params:,} trainable, "
            f"{self.non_trainable_params:,} non-trainable)",
            f"MACs per example: {self.total_macs:,} ({_human(self.total_macs)})",
        ]
        lines += [f"note: {note}" for note in self.notes]
        return buffer.getvalue() + "\n".join(lines) + "\n"

    def __str__(self) -> str:
        return self.render()


def _human(n: int) -> str:
    for unit, scale in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= scale:
            return f"{n / scale:.2f}{unit}"
    return str(n)


def _fmt_shape(shape) -> str:
    if isinstance(shape, list):
        return ", ".join(_fmt_shape(s) for s in shape)
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"


def _fmt_rf(value) -> str:
    if value is None:
        return "all"
    if isinstance(value, tuple):
        return f"{value[0]}x{value[1]}"
    return str(value)


def _as_pair(value) -> tuple:
    return value if isinstance(value, tuple) else (value, value)


def _square(pair):
    pair = tuple(int(v) if float(v).is_integer() else v for v in pair)
    return pair[0] if pair[0] == pair[1] else pair


# ------------------------------------------------------------------ graph walking
# (the nodes come from cnnlabs.analysis.graph, the one module that reads Keras's
# private graph attributes)


def _spatial_dims(shape, data_format: str = "channels_last"):
    if shape is None or len(shape) != 4:
        return None
    return tuple(shape[2:4]) if data_format == "channels_first" else tuple(shape[1:3])


def _channels(shape, data_format: str = "channels_last"):
    return shape[1] if data_format == "channels_first" else shape[-1]


def _window(state: _Spatial, kernel, strides, pads_before, dilation=(1, 1)) -> _Spatial:
    """One step of `arithmetic.receptive_field_step` per spatial axis."""
    if state is None:
        return None
    return tuple(
        arithmetic.receptive_field_step(axis, k, s, p, d)
        for axis, k, s, p, d in zip(state, kernel, strides, pads_before, dilation)
    )


def _same_before(size, k, s, d) -> int:
    return arithmetic.padding_amounts(size, k, s, "same", d)[0]


def _pads(layer, in_shape, kernel, strides, dilation) -> tuple[int, int]:
    if layer.padding == "valid":
        return 0, 0
    if layer.padding == "same":
        dims = _spatial_dims(in_shape, getattr(layer, "data_format", "channels_last"))
        return tuple(_same_before(n, k, s, d) for n, k, s, d in zip(dims, kernel, strides, dilation))
    raise ValueError(f"unsupported padding {layer.padding!r} in layer {layer.name!r}")


def _hw(dims) -> tuple[int, int]:
    """Spatial sizes as the ``(height, width)`` pair the 2D formulas take.

    A 1D axis is ``(n, 1)``, a 3D volume ``(d * h, w)``: a convolution's MACs depend
    on the product of its spatial sizes (and of its kernel's) only.
    """
    dims = tuple(int(d) for d in dims)
    return (math.prod(dims[:-1]), dims[-1]) if len(dims) > 1 else (dims[0], 1)


def _layer_macs(layer, in_shapes, out_shape) -> int:
    """MACs of one call of ``layer``, by the formulas of :mod:`cnnlabs.arithmetic` (the
    one place they live; this function only reads the sizes off the layer)."""
    in_shape = in_shapes[0] if in_shapes else None
    data_format = getattr(layer, "data_format", "channels_last")
    L = keras.layers
    if isinstance(layer, L.Dense):
        return math.prod(out_shape[1:-1]) * arithmetic.dense_macs(in_shape[-1], layer.units)
    if not hasattr(layer, "kernel_size"):
        return 0

    def spatial(shape):
        return _hw(shape[1:-1] if data_format == "channels_last" else shape[2:])

    kernel, c_in = _hw(layer.kernel_size), _channels(in_shape, data_format)
    if isinstance(layer, L.DepthwiseConv1D | L.DepthwiseConv2D):
        return arithmetic.depthwise_conv2d_macs(
            spatial(out_shape), c_in, kernel, depth_multiplier=layer.depth_multiplier
        )
    if isinstance(layer, L.SeparableConv1D | L.SeparableConv2D):
        return arithmetic.separable_conv2d_macs(
            spatial(out_shape), c_in, layer.filters, kernel, depth_multiplier=layer.depth_multiplier
        )
    if isinstance(layer, L.Conv1DTranspose | L.Conv2DTranspose | L.Conv3DTranspose):
        # Every input pixel scatters one k_h x k_w x C_out kernel per input channel.
        return arithmetic.conv2d_macs(spatial(in_shape), c_in, layer.filters, kernel)
    if isinstance(layer, L.Conv1D | L.Conv2D | L.Conv3D):
        return arithmetic.conv2d_macs(
            spatial(out_shape), c_in, layer.filters, kernel, groups=layer.groups
        )
    if hasattr(layer, "num_connections"):
        # cnnlabs.layers.PartialConv2D (LeNet-5's C3 connection table): one k_h x k_w
        # dot product per connected (input map, output map) pair, i.e. a convolution
        # of one input channel per connection.
        return arithmetic.conv2d_macs(spatial(out_shape), 1, layer.num_connections, kernel)
    return 0


def _layer_rf(layer, in_shapes, in_states, out_shape, notes) -> _Spatial:
    L = keras.layers
    data_format = getattr(layer, "data_format", "channels_last")
    in_shape = in_shapes[0] if in_shapes else None
    state = in_states[0] if in_states else None
    out_dims = _spatial_dims(out_shape, data_format)
    if out_dims is None:
        return None  # flattened or globally pooled: sees the whole input
    if isinstance(layer, L.Conv2DTranspose | L.UpSampling2D | L.Resizing):
        notes.append(
            f"{layer.name}: receptive fields are not tracked through {type(layer).__name__} "
            f"(a fractional jump); later layers show 'all'."
        )
        return None
    if isinstance(layer, L.Conv2D | L.DepthwiseConv2D | L.SeparableConv2D) or (
        all(hasattr(layer, a) for a in ("kernel_size", "strides", "padding"))
        and len(getattr(layer, "kernel_size", ())) == 2
    ):  # keras convolutions and look-alikes such as cnnlabs.layers.PartialConv2D
        kernel, strides = layer.kernel_size, layer.strides
        dilation = getattr(layer, "dilation_rate", (1, 1))
        return _window(state, kernel, strides, _pads(layer, in_shape, kernel, strides, dilation),
                       dilation)
    if isinstance(layer, L.MaxPooling2D | L.AveragePooling2D):
        kernel, strides = layer.pool_size, layer.strides
        return _window(state, kernel, strides, _pads(layer, in_shape, kernel, strides, (1, 1)))
    if isinstance(layer, L.ZeroPadding2D):
        (top, _), (left, _) = layer.padding
        return _window(state, (1, 1), (1, 1), (top, left))
    if isinstance(layer, L.Cropping2D):
        (top, _), (left, _) = layer.cropping
        return _window(state, (1, 1), (1, 1), (-top, -left))
    if len(in_states) > 1:
        return _merge(layer, in_shapes, in_states, out_dims, notes)
    if _spatial_dims(in_shape, data_format) == out_dims:
        return state  # element-wise: BN, activations, dropout, 1-pixel Dense...
    if state is not None:
        notes.append(
            f"{layer.name}: {type(layer).__name__} changes the spatial size in a way the "
            f"table does not model; its receptive field is shown as 'all'."
        )
    return None


def _merge(layer, in_shapes, in_states, out_dims, notes) -> _Spatial:
    kept = []
    for shape, state in zip(in_shapes, in_states):
        dims = _spatial_dims(shape)
        if dims is not None and dims != out_dims and all(d == 1 for d in dims):
            continue  # a broadcast gate (squeeze-and-excitation)
        if state is None:
            return None
        kept.append(state)
    if not kept:
        return None
    out = []
    for i in range(2):
        axes = [state[i] for state in kept]
        jumps = {a.jump for a in axes}
        if len(jumps) > 1:
            notes.append(f"{layer.name}: incoming jumps {sorted(jumps)} differ; kept the largest.")
        lo, hi = min(a.span[0] for a in axes), max(a.span[1] for a in axes)
        out.append(arithmetic.ReceptiveField(size=hi - lo + 1, jump=max(jumps), start=(lo + hi) / 2))
    return tuple(out)


def _span(state: _Spatial):
    if state is None:
        return None
    return tuple((_num(a.span[0]), _num(a.span[1])) for a in state)


def _num(value):
    return int(value) if float(value).is_integer() else value


def _weights_count(weights) -> int:
    return sum(math.prod(w.shape) for w in weights)


def _walk(graph, states: dict, rows: list, seen: set, notes: list, prefix: str,
          names: dict) -> None:
    """Fill ``states`` (tensor id -> spatial state) and ``rows`` for every node of ``graph``."""
    for node in nodes(graph):
        layer = node.operation
        outputs = list(node.output_tensors)
        if isinstance(layer, keras.layers.InputLayer):
            for tensor in outputs:
                if id(tensor) in states:
                    continue  # a nested model's input, already mapped to the outer tensor
                dims = _spatial_dims(tensor.shape)
                states[id(tensor)] = None if dims is None else (_PIXEL, _PIXEL)
                names[id(tensor)] = prefix + layer.name
                if not prefix:
                    rows.append(LayerRow(layer.name, "InputLayer", tuple(tensor.shape), 0, 0, 0,
                                         None if dims is None else 1,
                                         None if dims is None else 1, [],
                                         None if dims is None else ((0, 0), (0, 0))))
            continue
        inputs = list(node.input_tensors)
        in_states = [states.get(id(t)) for t in inputs]
        in_names = [names.get(id(t), "?") for t in inputs]
        if isinstance(layer, keras.Model):
            inner = functional_graph(layer)
            for inner_in, tensor in zip(inner.inputs, inputs):
                states[id(inner_in)] = states.get(id(tensor))
                names[id(inner_in)] = names.get(id(tensor), "?")
            _walk(inner, states, rows, seen, notes, f"{prefix}{layer.name}/", names)
            for inner_out, tensor in zip(inner.outputs, outputs):
                states[id(tensor)] = states.get(id(inner_out))
                names[id(tensor)] = names.get(id(inner_out), "?")
            continue
        in_shapes = [tuple(t.shape) for t in inputs]
        out_shape = tuple(outputs[0].shape)
        first_call = id(layer) not in seen
        seen.add(id(layer))
        # an operation such as keras.ops.add (y + x) has no weights attribute at all
        trainable = _weights_count(getattr(layer, "trainable_weights", [])) if first_call else 0
        frozen = _weights_count(getattr(layer, "non_trainable_weights", [])) if first_call else 0
        macs = _layer_macs(layer, in_shapes, out_shape) if inputs else 0
        state = _layer_rf(layer, in_shapes, in_states, out_shape, notes)
        for tensor in outputs:
            states[id(tensor)] = state
            names[id(tensor)] = prefix + layer.name
        rf = None if state is None else _square(tuple(a.size for a in state))
        jump = None if state is None else _square(tuple(a.jump for a in state))
        shape = out_shape if len(outputs) == 1 else [tuple(t.shape) for t in outputs]
        rows.append(LayerRow(prefix + layer.name, type(layer).__name__, shape, trainable, frozen,
                             int(macs), rf, jump, in_names, _span(state)))


def layer_table(model) -> ModelTable:
    """Per-layer output shapes, parameters, MACs and receptive fields of a built model.

    Walks the functional graph of a Sequential or functional Keras model, so
    branches, merges and nested sub-models are supported. MACs are
    multiply-accumulates of convolutions and dense layers for one example; the
    receptive field follows the recurrence ``r_out = r_in + (k_eff - 1) * j_in``,
    ``j_out = j_in * s``, with the union of the incoming spans at a merge (see the
    module docstring for every convention).

    Args:
        model: a built ``keras.Model`` (Sequential or functional) whose input is
            ``(batch, height, width, channels)``.

    Returns:
        :class:`ModelTable` with ``.rows``, ``.total_params``, ``.total_macs``,
        ``.receptive_field``, ``.to_dict()`` and ``.render()``.

    Raises:
        ValueError: if a Sequential model has not been built.
        TypeError: if ``model`` is a subclassed model without a functional graph.

    Example:
        >>> import keras
        >>> model = keras.Sequential([keras.Input((227, 227, 3)),
        ...                           keras.layers.Conv2D(96, 11, strides=4, name="conv1")])
        >>> table = layer_table(model)
        >>> table.row("conv1").output_shape, table.total_params, table.total_macs
        ((None, 55, 55, 96), 34944, 105415200)
        >>> table.receptive_field
        11

    Reference:
        Araujo, Norris & Sim, "Computing Receptive Fields of Convolutional Neural
        Networks", Distill, 2019.

    Used in: labs 01-06 (the "what did we build" cells).
    """
    graph = functional_graph(model)
    rows: list[LayerRow] = []
    notes: list[str] = []
    _walk(graph, {}, rows, set(), notes, "", {})
    input_shape = tuple(graph.inputs[0].shape[1:]) if len(graph.inputs) == 1 else [
        tuple(t.shape[1:]) for t in graph.inputs
    ]
    return ModelTable(model.name, input_shape, rows, notes)


def count_macs(model) -> int:
    """Multiply-accumulates of one forward pass of one example (see :func:`layer_table`).

    Example:
        >>> import keras
        >>> model = keras.Sequential([keras.Input((120,)), keras.layers.Dense(84)])
        >>> count_macs(model)
        10080
    """
    return layer_table(model).total_macs
