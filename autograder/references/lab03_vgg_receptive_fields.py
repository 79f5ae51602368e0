"""Reference answers of lab 03 (VGG, receptive fields): grading side only.

The oracles of the public cases' stored outputs (``cnnlabs expected``) and of the
hidden cases (``labs/hidden/03_vgg_receptive_fields.py``). Never shipped to students.

Reference: Simonyan and Zisserman, "Very deep convolutional networks for large-scale
image recognition", arXiv:1409.1556, 2014.
"""

from __future__ import annotations


def reference_receptive_fields(layers):
    """`cnnlabs.arithmetic.receptive_field`, sizes only."""
    from cnnlabs.arithmetic import receptive_field

    return [rf.size for rf in receptive_field([tuple(layer) for layer in layers])]


# question id -> expected(**inputs) of its public cases
EXPECTED = {
    "receptive_fields": reference_receptive_fields,
}
