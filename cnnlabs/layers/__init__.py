"""Custom Keras layers of the labs, all registered for ``safe_mode`` loading.

- :class:`PartialConv2D`: LeNet-5's C3 with the paper's connection table.
"""

from cnnlabs.layers.connection_table import PartialConv2D

__all__ = ["PartialConv2D"]
