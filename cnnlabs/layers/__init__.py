"""Custom Keras layers of the labs, all registered for ``safe_mode`` loading.

- :class:`PartialConv2D`: LeNet-5's C3 with the paper's connection table.
- :class:`LocalResponseNormalization`: AlexNet's LRN (paper/TF and Caffe conventions).
- :class:`ZeroPadShortcut`: ResNet's parameter-free option-A shortcut.
- :class:`BatchNorm`, :func:`fold_bn`, :func:`fold_batchnorm`: batch normalization
  from the paper's Algorithm 1 and folding BN into the preceding convolution.
"""

from cnnlabs.layers.batchnorm import BatchNorm, fold_batchnorm, fold_bn
from cnnlabs.layers.connection_table import PartialConv2D
from cnnlabs.layers.lrn import LocalResponseNormalization
from cnnlabs.layers.shortcut import ZeroPadShortcut

__all__ = [
    "BatchNorm",
    "fold_batchnorm",
    "fold_bn",
    "LocalResponseNormalization",
    "PartialConv2D",
    "ZeroPadShortcut",
]
