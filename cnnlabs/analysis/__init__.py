"""Analysis of built Keras models: tables, receptive fields, gradients, feature maps.

Analytic (``layer_table``, ``count_macs``) and measured
(``empirical_receptive_field``, ``effective_receptive_field``, ``gradient_norms``,
``feature_maps``) views of the same model. See ``docs/analysis.md``.
"""

from cnnlabs.analysis.table import LayerRow, ModelTable, count_macs, layer_table

__all__ = ["LayerRow", "ModelTable", "count_macs", "layer_table"]
