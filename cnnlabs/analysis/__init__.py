"""Analysis of built Keras models: tables, receptive fields, gradients, feature maps.

Analytic (``layer_table``, ``count_macs``) and measured
(``empirical_receptive_field``, ``effective_receptive_field``, ``gradient_norms``,
``feature_maps``) views of the same model. See ``docs/analysis.md``.
"""

from cnnlabs.analysis.features import feature_maps, plot_feature_maps
from cnnlabs.analysis.gradients import gradient_norms, plot_gradient_norms
from cnnlabs.analysis.receptive_field import (
    EffectiveReceptiveField,
    EmpiricalReceptiveField,
    effective_receptive_field,
    empirical_receptive_field,
    linearized_copy,
    plot_effective_receptive_field,
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
    "plot_effective_receptive_field",
    "plot_feature_maps",
    "plot_gradient_norms",
]
