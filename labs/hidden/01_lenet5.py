"""Hidden cases of lab 01 (LeNet-5). Grading side only: never copied into a notebook.

Randomized inputs (the rng is seeded afresh per grading run), other shapes, strides,
rectangular images and kernels that do not tile the image exactly.
"""

from autograder.references.lab01_lenet5 import (
    conv2d_backward_expected,
    conv2d_expected,
    conv_connections,
    conv_params,
    dense_params,
    lenet5_expected,
    reference_output_size,
)
from cnnlabs.checks.counts import count_case
from cnnlabs.checks.lab01_lenet5 import (
    CONV_CONNECTIONS_MISTAKES,
    CONV_PARAMS_MISTAKES,
    DENSE_PARAMS_MISTAKES,
    backward_inputs,
    check_backward,
    check_size,
    conv_case,
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


def _random_backward(rng):
    inputs = _random_conv(rng)
    batch, height, width, _ = inputs["x"].shape
    kernel, stride, out_channels = inputs["w"].shape[0], inputs["stride"], inputs["w"].shape[3]
    out_h, out_w = (height - kernel) // stride + 1, (width - kernel) // stride + 1
    inputs["grad_out"] = rng.normal(size=(batch, out_h, out_w, out_channels))
    return inputs


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
        conv_case("hidden: rectangular 8x5 image, 3x3 kernels, 3 -> 5 channels",
                  conv_inputs(2, 8, 3, 3, 5, width=5), expected=conv2d_expected),
        conv_case("hidden: stride 3 that does not tile the image exactly",
                  conv_inputs(1, 11, 3, 1, 2, stride=3), expected=conv2d_expected),
        conv_case("hidden: 1x1 kernels (a per-pixel channel mix)",
                  conv_inputs(3, 4, 1, 4, 2), expected=conv2d_expected),
        conv_case("hidden: kernel as large as the image",
                  conv_inputs(2, 5, 5, 2, 3), expected=conv2d_expected),
        conv_case("hidden: random shapes and stride 1", _random_conv, expected=conv2d_expected),
        conv_case("hidden: random shapes and strides, again", _random_conv,
                  expected=conv2d_expected),
    ),
    "conv2d_backward": tuple(
        Case(name=name, inputs=inputs, expected=conv2d_backward_expected, check=check_backward)
        for name, inputs in (
            ("hidden: 1x1 kernels, 4 -> 2 channels, batch of 3", backward_inputs(3, 4, 1, 4, 2)),
            ("hidden: kernel as large as the image", backward_inputs(2, 5, 5, 2, 3)),
            ("hidden: stride 3 on a rectangular 10x7 image",
             backward_inputs(2, 10, 3, 3, 2, stride=3, width=7)),
            ("hidden: random shapes and strides", _random_backward),
            ("hidden: random shapes and strides, again", _random_backward),
        )
    ),
    "output_size": (
        Case(name="hidden: 227 pixels, 3x3, stride 2, padding 1",
             inputs=lambda rng: {"n": 227, "k": 3, "stride": 2, "padding": 1},
             expected=reference_output_size, check=check_size),
        Case(name="hidden: 13 pixels, 3x3 pooling, stride 2",
             inputs=lambda rng: {"n": 13, "k": 3, "stride": 2},
             expected=reference_output_size, check=check_size),
        Case(name="hidden: 1x1 kernel", inputs=lambda rng: {"n": 17, "k": 1},
             expected=reference_output_size, check=check_size),
        Case(name="hidden: random sizes", inputs=_random_size, expected=reference_output_size,
             check=check_size),
        Case(name="hidden: random sizes, again", inputs=_random_size,
             expected=reference_output_size, check=check_size),
    ),
    "build_lenet5": (
        lenet5_case("hidden: colour images and 5 classes", input_shape=(32, 32, 3),
                    num_classes=5, expected=lenet5_expected),
        lenet5_case("hidden: 2 channels and 100 classes", input_shape=(32, 32, 2),
                    num_classes=100, expected=lenet5_expected),
    ),
}
