"""Custom Keras layers of the labs, all registered for ``safe_mode`` loading.

- :class:`PartialConv2D`: LeNet-5's C3 with the paper's connection table.
- :class:`LocalResponseNormalization`: AlexNet's LRN (paper/TF and Caffe conventions).
- :class:`ZeroPadShortcut`: ResNet's parameter-free option-A shortcut.
"""

from cnnlabs.layers.connection_table import PartialConv2D
from cnnlabs.layers.lrn import LocalResponseNormalization
from cnnlabs.layers.shortcut import ZeroPadShortcut

__all__ = ["LocalResponseNormalization", "PartialConv2D", "ZeroPadShortcut"]
