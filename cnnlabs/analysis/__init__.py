"""Analysis of built Keras models: tables, receptive fields, gradients, feature maps.

Analytic (``layer_table``, ``count_macs``) and measured
(``empirical_receptive_field``, ``effective_receptive_field``, ``gradient_norms``,
``feature_maps``) views of the same model. See ``docs/analysis.md``. The figures
of these results are drawn by ``cnnlabs.plotting`` (``plot_feature_maps``,
``plot_gradient_norms``, ``plot_effective_receptive_field``).
"""

from cnnlabs.analysis.features import feature_maps
from cnnlabs.analysis.gradients import gradient_norms
from cnnlabs.analysis.receptive_field import (
    EffectiveReceptiveField,
    EmpiricalReceptiveField,
    effective_receptive_field,
    empirical_receptive_field,
    linearized_copy,
)
from cnnlabs.analysis.table import LayerRow, ModelTable, count_macs, layer_table

__all__ = [
    "EffectiveReceptiveField",
    "EmpiricalReceptiveField",
    "LayerRow",
    "ModelTable",
    "count_macs",
    "effective_receptive_field",
    "empirical_receptive_field",
    "feature_maps",
    "gradient_norms",
    "layer_table",
    "linearized_copy",
]

# The figures moved to cnnlabs.plotting; an old import is told where they are.
_MOVED_TO_PLOTTING = ("plot_effective_receptive_field", "plot_feature_maps", "plot_gradient_norms")


def __getattr__(name: str):
    if name in _MOVED_TO_PLOTTING:
        raise AttributeError(
            f"cnnlabs.analysis.{name} moved to cnnlabs.plotting (the module that draws every "
            f"figure): use `from cnnlabs.plotting import {name}`."
        )
    raise AttributeError(f"module 'cnnlabs.analysis' has no attribute {name!r}")
