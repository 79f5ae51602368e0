"""`pipeline`: order, shuffling, augmentation, padding, subsets, scaling and argument checks."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from cnnlabs.datasets import pipeline


def numbered(n=64, size=8, channels=1):
    """Images whose every pixel holds the example's index, so batches reveal their order."""
    x = np.broadcast_to(
        np.arange(n, dtype=np.uint8)[:, None, None, None], (n, size, size, channels)
    ).copy()
    return x, np.arange(n) % 10


def epochs(ds, count):
    """The example indices seen in each epoch, batch by batch."""
    result = []
    for _ in range(count):
        result.append([tuple(np.round(xb.numpy()[:, 0, 0, 0] * 255).astype(int)) for xb, _ in ds])
    return result


def test_evaluation_pipeline_keeps_order_and_scales_to_unit_range():
    x, y = numbered(10)
    batches = list(pipeline(x, y, batch_size=4))
    assert [len(b[0]) for b in batches] == [4, 4, 2]
    images = np.concatenate([b[0].numpy() for b in batches])
    labels = np.concatenate([b[1].numpy() for b in batches])
    assert images.dtype == np.float32 and labels.dtype == np.int64
    np.testing.assert_allclose(images, x / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(labels, y)


def test_real_images_are_scaled_into_zero_one(shared_mnist, isolated):
    from cnnlabs.datasets import load

    data = load("mnist", data_dir=shared_mnist, download=False)
    images = np.concatenate([b[0].numpy() for b in pipeline(data.x_test, data.y_test, subset=512)])
    assert images.min() == 0.0 and images.max() == 1.0
    np.testing.assert_allclose(images * 255.0, data.x_test[:512], atol=1e-4)


def test_shuffling_changes_batches_every_epoch_but_is_reproducible():
    x, y = numbered(64)
    first = epochs(pipeline(x, y, batch_size=16, training=True, seed=3), 3)
    again = epochs(pipeline(x, y, batch_size=16, training=True, seed=3), 3)
    other = epochs(pipeline(x, y, batch_size=16, training=True, seed=4), 1)
    assert first == again  # the same seed gives the same sequence of epochs
    assert first[0] != first[1] != first[2]  # a new order (and batch composition) each epoch
    assert set(first[0][0]) != set(first[1][0])
    assert other[0] != first[0]
    for epoch in first:  # each epoch is a permutation: every example exactly once
        assert sorted(i for batch in epoch for i in batch) == list(range(64))


def test_shuffle_happens_before_batching():
    """Shuffling whole batches would keep 0..15 together; a full shuffle mixes them."""
    x, y = numbered(64)
    (epoch,) = epochs(pipeline(x, y, batch_size=16, training=True, seed=0), 1)
    blocks = [set(range(i, i + 16)) for i in range(0, 64, 16)]
    assert all(set(batch) not in blocks for batch in epoch)


def test_augmentation_changes_images_keeps_shape_dtype_range_and_is_seeded():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (32, 32, 32, 3), dtype=np.uint8)
    y = np.arange(32)  # one label per image, so labels identify their images

    def run(seed):
        ds = pipeline(x, y, batch_size=32, training=True, seed=seed, augment=True, cache=False)
        return [next(iter(ds)) for _ in range(2)]

    (a1, la1), (a2, la2) = run(7)
    (b1, lb1), _ = run(7)
    assert a1.shape == (32, 32, 32, 3) and a1.dtype == tf.float32
    assert float(tf.reduce_min(a1)) >= 0.0 and float(tf.reduce_max(a1)) <= 1.0
    np.testing.assert_array_equal(a1.numpy(), b1.numpy())  # reproducible under the seed
    np.testing.assert_array_equal(la1.numpy(), lb1.numpy())
    # Every output is a crop (maybe flipped) of its zero-padded source, and keeps its label.
    sources = _sources(x, a1.numpy())
    np.testing.assert_array_equal(la1.numpy(), y[sources])
    changed = sum(not np.allclose(image, x[i] / 255.0) for image, i in zip(a1.numpy(), sources))
    assert changed >= 16  # most crops moved or flipped (p(unchanged) = 1/81 * 1/2 each)
    assert not np.array_equal(a1.numpy(), a2.numpy())  # a new augmentation each epoch


def _sources(x, augmented):
    """For each augmented image, the index of the source image it is a crop/flip of."""
    padded = np.pad(x, ((0, 0), (4, 4), (4, 4), (0, 0)))
    found = []
    for image in np.round(augmented * 255).astype(np.uint8):
        match = None
        for i, source in enumerate(padded):
            for candidate in (source, source[:, ::-1]):
                for dy in range(9):
                    for dx in range(9):
                        if np.array_equal(candidate[dy : dy + 32, dx : dx + 32], image):
                            match = i
                            break
                    if match is not None:
                        break
                if match is not None:
                    break
            if match is not None:
                break
        assert match is not None, "an augmented image is not a crop of any padded source"
        found.append(match)
    return found


def test_pad_to_centres_the_original():
    x, y = numbered(4, size=28)
    x[:, 0, 0, 0] = 255  # mark the top-left corner of each digit
    ((images, labels),) = list(pipeline(x, y, batch_size=4, pad_to=32))
    images = images.numpy()
    assert images.shape == (4, 32, 32, 1)
    np.testing.assert_allclose(images[:, 2:30, 2:30], x / 255.0, rtol=1e-6)
    assert images[:, :2].max() == 0 and images[:, 30:].max() == 0
    assert images[:, :, :2].max() == 0 and images[:, :, 30:].max() == 0


def test_subset_takes_the_first_examples():
    x, y = numbered(50)
    seen = np.concatenate([b[1].numpy() for b in pipeline(x, y, subset=12, batch_size=5)])
    np.testing.assert_array_equal(seen, y[:12])
    images = np.concatenate([b[0].numpy() for b in pipeline(x, y, subset=12, training=True)])
    assert sorted(np.round(images[:, 0, 0, 0] * 255).astype(int)) == list(range(12))


def test_normalize_false_keeps_pixel_values_and_labels_may_be_omitted():
    x, _ = numbered(6)
    (batch,) = list(pipeline(x, batch_size=8, normalize=False))
    assert batch.dtype == tf.float32
    np.testing.assert_array_equal(batch.numpy(), x.astype(np.float32))


def test_labels_of_shape_n_by_one_are_accepted():
    x, y = numbered(6)
    ((_, labels),) = list(pipeline(x, y[:, None], batch_size=8))
    np.testing.assert_array_equal(labels.numpy(), y)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (
            {"x": np.zeros((4, 28, 28), np.uint8)},
            ValueError,
            "x must have shape (batch, height, width, channels), got shape (4, 28, 28). Add the "
            "channel axis with x[..., None].",
        ),
        (
            {"x": np.zeros((4, 8, 8, 1), np.float32)},
            ValueError,
            "normalize=True scales uint8 pixels from [0, 255] to [0, 1], but x has dtype float32. "
            "Pass the uint8 arrays from load(), or normalize=False for images you have already "
            "scaled.",
        ),
        (
            {"x": [[1]]},
            TypeError,
            "x must be a NumPy array of images, got list. Pass data.x_train (or np.asarray(...) of "
            "your images).",
        ),
        (
            {"y": np.arange(3)},
            ValueError,
            "y must hold one integer label per image, shape (4,), got shape (3,) and dtype int64. "
            "Pass the labels that belong to x.",
        ),
        ({"batch_size": 0}, ValueError, "batch_size must be a positive integer, got 0."),
        (
            {"augment": True},
            ValueError,
            "augment=True only makes sense for training data, but training=False. Pass "
            "training=True for the training pipeline and leave augment=False for test data.",
        ),
        (
            {"pad_to": 6},
            ValueError,
            "pad_to=6 must be an integer at least as large as the images (8 x 8); e.g. pad_to=32 "
            "turns 28 x 28 MNIST into LeNet-5's 32 x 32 input.",
        ),
        (
            {"subset": 5},
            ValueError,
            "subset=5 must be an integer from 1 to 4 (the number of examples in x), or None to use "
            "them all.",
        ),
        ({"training": "yes"}, TypeError, "training must be True or False, got 'yes'."),
        ({"seed": 1.5}, TypeError, "seed must be an integer, got 1.5."),
    ],
)
def test_bad_arguments_get_kind_errors(kwargs, error, message):
    args = {"x": np.zeros((4, 8, 8, 1), np.uint8), "y": np.arange(4)}
    args.update(kwargs)
    with pytest.raises(error) as info:
        pipeline(args.pop("x"), args.pop("y"), **args)
    assert str(info.value) == message


def test_to_float_gives_the_pipelines_pixels_as_one_array():
    from cnnlabs.datasets import to_float

    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(7, 28, 28, 1), dtype=np.uint8)
    y = np.arange(7)
    streamed = np.concatenate(
        [images.numpy() for images, _ in pipeline(x, y, batch_size=3, pad_to=32, subset=5)]
    )
    in_memory = to_float(x, pad_to=32, subset=5)
    assert in_memory.dtype == np.float32 and in_memory.shape == (5, 32, 32, 1)
    np.testing.assert_array_equal(in_memory, streamed)
    np.testing.assert_allclose(to_float(x), x.astype(np.float32) / 255, rtol=1e-6)


def test_to_float_refuses_what_pipeline_refuses_with_the_same_message():
    from cnnlabs.datasets import to_float

    x = np.zeros((4, 28, 28, 1), dtype=np.uint8)
    with pytest.raises(ValueError) as error:
        to_float(x, pad_to=20)
    assert str(error.value) == (
        "pad_to=20 must be an integer at least as large as the images (28 x 28); e.g. "
        "pad_to=32 turns 28 x 28 MNIST into LeNet-5's 32 x 32 input."
    )
    with pytest.raises(ValueError, match=r"normalize=True scales uint8 pixels.*float32"):
        to_float(x.astype(np.float32))
    with pytest.raises(ValueError, match=r"subset=9 must be an integer from 1 to 4"):
        to_float(x, subset=9)
