"""Hidden cases of lab 01 (LeNet-5). Grading side only: never copied into a notebook.

Randomized inputs (the rng is seeded afresh per grading run), other shapes, strides,
rectangular images and kernels that do not tile the image exactly.
"""

from autograder.references.lab01_lenet5 import (
    conv_connections,
    conv_params,
    dense_params,
    lenet5_expected,
    reference_conv2d,
    reference_output_size,
)
from cnnlabs.checks.counts import count_case
from cnnlabs.checks.lab01_lenet5 import (
    CONV_CONNECTIONS_MISTAKES,
    CONV_PARAMS_MISTAKES,
    DENSE_PARAMS_MISTAKES,
    conv_inputs,
    lenet5_case,
)
from cnnlabs.checks.spec import Case


def _random_conv(rng):
    batch = int(rng.integers(1, 4))
    kernel = int(rng.integers(1, 5))
    stride = int(rng.integers(1, 4))
    height = int(rng.integers(kernel, kernel + 8))
    width = int(rng.integers(kernel, kernel + 8))
    in_channels, out_channels = (int(c) for c in rng.integers(1, 5, size=2))
    return {
        "x": rng.normal(size=(batch, height, width, in_channels)),
        "w": rng.normal(size=(kernel, kernel, in_channels, out_channels)),
        "stride": stride,
    }


def _random_size(rng):
    k = int(rng.integers(1, 12))
    padding = int(rng.integers(0, 4))
    n = int(rng.integers(max(1, k - 2 * padding), 300))
    return {"n": n, "k": k, "stride": int(rng.integers(1, 5)), "padding": padding}


def _random_layer(rng):
    return {"out_size": int(rng.integers(1, 64)), "k": int(rng.integers(1, 8)),
            "c_in": int(rng.integers(1, 513)), "c_out": int(rng.integers(1, 513))}


def _random_conv_params(rng):
    inputs = _random_layer(rng)
    del inputs["out_size"]
    return inputs


def _random_dense(rng):
    return {"n_in": int(rng.integers(1, 50_000)), "n_out": int(rng.integers(1, 5_000))}


HIDDEN = {
    "conv_params": tuple(
        count_case(f"hidden: random kernel size and channels ({i})", _random_conv_params,
                   conv_params, CONV_PARAMS_MISTAKES)
        for i in (1, 2, 3)
    ),
    "conv_connections": tuple(
        count_case(f"hidden: random output size, kernel and channels ({i})", _random_layer,
                   conv_connections, CONV_CONNECTIONS_MISTAKES)
        for i in (1, 2, 3)
    ),
    "dense_params": tuple(
        count_case(f"hidden: random layer widths ({i})", _random_dense, dense_params,
                   DENSE_PARAMS_MISTAKES)
        for i in (1, 2, 3)
    ),
    "conv2d_by_hand": (
        Case(name="hidden: rectangular 7x10 image, 3x3 kernels, 3 -> 5 channels",
             inputs=conv_inputs(2, 7, 3, 3, 5, width=10), expected=reference_conv2d,
             rtol=1e-4, atol=1e-4),
        Case(name="hidden: stride 3 that does not tile the image exactly",
             inputs=conv_inputs(1, 11, 3, 1, 2, stride=3), expected=reference_conv2d,
             rtol=1e-4, atol=1e-4),
        Case(name="hidden: 1x1 kernels (a per-pixel channel mix)",
             inputs=conv_inputs(3, 4, 1, 4, 2), expected=reference_conv2d,
             rtol=1e-4, atol=1e-4),
        Case(name="hidden: kernel as large as the image",
             inputs=conv_inputs(2, 5, 5, 2, 3), expected=reference_conv2d,
             rtol=1e-4, atol=1e-4),
        Case(name="hidden: random shapes and stride 1", inputs=_random_conv,
             expected=reference_conv2d, rtol=1e-4, atol=1e-4),
        Case(name="hidden: random shapes and strides, again", inputs=_random_conv,
             expected=reference_conv2d, rtol=1e-4, atol=1e-4),
    ),
    "output_size": (
        Case(name="hidden: 224 pixels, 7x7, stride 2, padding 3",
             inputs=lambda rng: {"n": 224, "k": 7, "stride": 2, "padding": 3},
             expected=reference_output_size),
        Case(name="hidden: 13 pixels, 3x3 pooling, stride 2",
             inputs=lambda rng: {"n": 13, "k": 3, "stride": 2},
             expected=reference_output_size),
        Case(name="hidden: 1x1 kernel", inputs=lambda rng: {"n": 17, "k": 1},
             expected=reference_output_size),
        Case(name="hidden: random sizes", inputs=_random_size, expected=reference_output_size),
        Case(name="hidden: random sizes, again", inputs=_random_size,
             expected=reference_output_size),
    ),
    "build_lenet5": (
        lenet5_case("hidden: 5 classes", num_classes=5, expected=lenet5_expected),
        lenet5_case("hidden: 32x32 colour images", input_shape=(32, 32, 3),
                    expected=lenet5_expected),
    ),
}
