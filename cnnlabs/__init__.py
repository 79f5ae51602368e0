"""cnnlabs: course labs for convolutional networks in TensorFlow/Keras.

Submodules are imported on demand (``from cnnlabs import datasets``) so that
importing the package, or running ``cnnlabs --help``, does not load TensorFlow.
"""

__version__ = "0.1.0"
