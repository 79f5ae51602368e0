"""Handler of ``cnnlabs summary MODEL [--input-shape H,W,C] [--num-classes K] [--json PATH]``."""

from __future__ import annotations

import json
from pathlib import Path


def summary(args) -> int:
    """Print the layer table of a registered model; optionally write it as JSON."""
    from cnnlabs.errors import UserError

    try:
        from cnnlabs.models import build_model
    except ImportError as exc:  # pragma: no cover - partial checkouts
        raise UserError(f"the model registry (cnnlabs.models) is not available: {exc}") from None

    from cnnlabs.analysis.table import layer_table

    kwargs = {}
    if args.input_shape is not None:
        kwargs["input_shape"] = tuple(args.input_shape)
    if args.num_classes is not None:
        kwargs["num_classes"] = args.num_classes
    try:
        model = build_model(args.model, **kwargs)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    table = layer_table(model)
    print(table.render())
    if args.json_path:
        data = table.to_dict()
        data["model"] = args.model
        path = Path(args.json_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=2) + "\n")
        print(f"wrote {path}")
    return 0
