"""`pipeline`: NumPy arrays to a batched, shuffled, optionally augmented `tf.data.Dataset`;
`to_float`: the same padding and scaling for arrays kept in memory."""

from __future__ import annotations

import numpy as np

PAD = 4  # CIFAR augmentation: pad 4 pixels, crop back (He et al., 2016, section 4.2)


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _check_flag(name: str, value) -> None:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}.")


def _validate(x, y, batch_size, training, seed, augment, pad_to, normalize, subset, cache):
    if not isinstance(x, np.ndarray):
        raise TypeError(
            f"x must be a NumPy array of images, got {type(x).__name__}. Pass data.x_train "
            "(or np.asarray(...) of your images)."
        )
    if x.ndim != 4:
        fix = " Add the channel axis with x[..., None]." if x.ndim == 3 else ""
        raise ValueError(
            f"x must have shape (batch, height, width, channels), got shape {x.shape}.{fix}"
        )
    if normalize and x.dtype != np.uint8:
        raise ValueError(
            f"normalize=True scales uint8 pixels from [0, 255] to [0, 1], but x has dtype "
            f"{x.dtype}. Pass the uint8 arrays from load(), or normalize=False for images "
            "you have already scaled."
        )
    if y is not None:
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.ndim != 1 or len(y) != len(x) or not np.issubdtype(y.dtype, np.integer):
            raise ValueError(
                f"y must hold one integer label per image, shape ({len(x)},), got shape "
                f"{y.shape} and dtype {y.dtype}. Pass the labels that belong to x."
            )
    for name, value in (("training", training), ("augment", augment),
                        ("normalize", normalize), ("cache", cache)):
        _check_flag(name, value)
    if not _is_int(batch_size) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}.")
    if not _is_int(seed):
        raise TypeError(f"seed must be an integer, got {seed!r}.")
    if augment and not training:
        raise ValueError(
            "augment=True only makes sense for training data, but training=False. Pass "
            "training=True for the training pipeline and leave augment=False for test data."
        )
    if pad_to is not None:
        height, width = x.shape[1:3]
        if not _is_int(pad_to) or pad_to < max(height, width):
            raise ValueError(
                f"pad_to={pad_to!r} must be an integer at least as large as the images "
                f"({height} x {width}); e.g. pad_to=32 turns 28 x 28 MNIST into LeNet-5's "
                "32 x 32 input."
            )
    if subset is not None and (not _is_int(subset) or not 1 <= subset <= len(x)):
        raise ValueError(
            f"subset={subset!r} must be an integer from 1 to {len(x):,} (the number of "
            "examples in x), or None to use them all."
        )
    return y


def pipeline(
    x,
    y=None,
    *,
    batch_size: int = 128,
    training: bool = False,
    seed: int = 0,
    augment: bool = False,
    pad_to: int | None = None,
    normalize: bool = True,
    subset: int | None = None,
    cache: bool = True,
):
    """Builds the `tf.data` input pipeline the labs train and evaluate with.

    The steps, in order: keep the first `subset` examples; zero-pad to `pad_to`;
    cache; when `training`, shuffle the whole set before batching (a new order each
    epoch, the same orders for the same `seed`); when `augment`, pad by 4 pixels with
    zeros, crop a random `height x width` window and flip left-right with
    probability 1/2 (CIFAR augmentation, He et al. 2016; seeded, and different each
    epoch); batch; convert to float32, divided by 255 when `normalize`; prefetch.

    Args:
        x: uint8 array, shape `(batch, height, width, channels)`.
        y: int array, shape `(batch,)` (or `(batch, 1)`), or None for images only.
        batch_size: int, default 128. The last batch may be smaller.
        training: bool, default False. Shuffle (and allow `augment`).
        seed: int, default 0. Seed of the shuffle and of the augmentation.
        augment: bool, default False. Random crop and horizontal flip; needs
            `training=True`. Meant for natural images (CIFAR), not for digits.
        pad_to: int or None, default None. Zero-pad images to `pad_to x pad_to`,
            centred (`pad_to=32` gives LeNet-5 its 32 x 32 input from 28 x 28 MNIST).
        normalize: bool, default True. Scale pixels to float32 in [0, 1]; with False
            they are cast to float32 unchanged. (Per-channel mean/std is left to a
            `keras.layers.Normalization` layer in the model.)
        subset: int or None, default None. Use only the first `subset` examples.
        cache: bool, default True. Keep the (padded) uint8 examples in memory after
            the first epoch.

    Returns:
        A `tf.data.Dataset` of `(images, labels)` batches (images only when `y` is
        None): images `float32 (batch, height, width, channels)`, labels `int64 (batch,)`.

    Raises:
        ValueError, TypeError: for arguments of the wrong shape, type or range.

    Example:

    >>> import numpy as np
    >>> from cnnlabs.datasets import pipeline
    >>> x = np.zeros((10, 28, 28, 1), np.uint8); y = np.arange(10)
    >>> images, labels = next(iter(pipeline(x, y, batch_size=4, pad_to=32)))
    >>> tuple(images.shape), images.dtype.name, tuple(labels.shape)
    ((4, 32, 32, 1), 'float32', (4,))

    Reference: He et al., "Deep Residual Learning for Image Recognition", CVPR 2016
    (the augmentation); LeCun et al., "Gradient-Based Learning Applied to Document
    Recognition", 1998 (32 x 32 inputs).

    Used in: every lab's training data: 01 (LeNet-5, `pad_to=32`), 02 (AlexNet,
    `pad_to=32`; `augment=True` in its data-augmentation section), 03 (VGG), 04
    (Inception) and 05 (ResNet) with `pad_to=32`, 06 (batch normalization), 07 (the
    source task's pretraining).
    """
    y = _validate(x, y, batch_size, training, seed, augment, pad_to, normalize, subset, cache)
    import tensorflow as tf

    autotune = tf.data.AUTOTUNE
    if subset is not None:
        x = x[:subset]
        y = None if y is None else y[:subset]
    height, width, channels = x.shape[1:]
    has_labels = y is not None
    ds = tf.data.Dataset.from_tensor_slices((x, y.astype(np.int64)) if has_labels else (x,))
    if pad_to is not None and (pad_to, pad_to) != (height, width):
        top, left = (pad_to - height) // 2, (pad_to - width) // 2
        paddings = [[top, pad_to - height - top], [left, pad_to - width - left], [0, 0]]
        ds = ds.map(lambda image, *rest: (tf.pad(image, paddings), *rest),
                    num_parallel_calls=autotune)
        height = width = pad_to
    if cache:
        ds = ds.cache()
    if training:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    if augment:
        seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)

        def _augment(example, pair):
            image, *rest = example
            padded = tf.pad(image, [[PAD, PAD], [PAD, PAD], [0, 0]])
            image = tf.image.stateless_random_crop(padded, [height, width, channels], seed=pair)
            image = tf.image.stateless_random_flip_left_right(image, seed=pair[::-1])
            return (image, *rest)

        ds = tf.data.Dataset.zip((ds, seeds)).map(_augment, num_parallel_calls=autotune)
    ds = ds.batch(batch_size)
    scale = 1.0 / 255.0 if normalize else 1.0

    def _to_float(image, *rest):
        image = tf.cast(image, tf.float32) * scale
        return (image, *rest) if rest else image

    ds = ds.map(_to_float, num_parallel_calls=autotune)
    return ds.prefetch(autotune)


def to_float(x, *, pad_to: int | None = None, subset: int | None = None) -> np.ndarray:
    """uint8 images to float32 in [0, 1], zero-padded as `pipeline` pads them, as one array.

    For what needs the images in memory rather than as a stream: a gradient taken on a
    fixed batch, `model.predict` on the test set, a figure. The padding (centred, zeros)
    and the scaling (divided by 255) are `pipeline`'s, so a model trained on a pipeline
    sees the same pixels here.

    Args:
        x: uint8 NumPy array, shape (batch, height, width, channels), e.g. `data.x_test`.
        pad_to: int or None, default None. Zero-pad to `pad_to x pad_to`, centred.
        subset: int or None, default None. Keep the first `subset` examples only.

    Returns:
        float32 array of shape (subset or batch, pad_to or height, pad_to or width, channels).

    Raises:
        TypeError, ValueError: the messages of `pipeline` (not an array, not 4-D, not
            uint8, `pad_to` smaller than the images, `subset` out of range).

    Example:

    >>> import numpy as np
    >>> from cnnlabs.datasets import to_float
    >>> x = np.full((5, 28, 28, 1), 255, dtype=np.uint8)
    >>> images = to_float(x, pad_to=32, subset=3)
    >>> images.shape, images.dtype, float(images[0, 0, 0, 0]), float(images[0, 2, 2, 0])
    ((3, 32, 32, 1), dtype('float32'), 0.0, 1.0)

    Used in: labs 01-03 (test images for predictions and figures), 05 (ResNet: the
    gradient batch and the lesion study's images), 06 (batch normalization: the test
    set) and 07 (the MNIST target set), which train on `pipeline`.
    """
    _validate(x, None, batch_size=1, training=False, seed=0, augment=False, pad_to=pad_to,
              normalize=True, subset=subset, cache=False)  # pipeline's checks of x, pad_to, subset
    if subset is not None:
        x = x[:subset]
    images = x.astype(np.float32) * np.float32(1.0 / 255.0)  # as pipeline computes it
    height, width = x.shape[1:3]
    if pad_to is None or (pad_to, pad_to) == (height, width):
        return images
    top, left = (pad_to - height) // 2, (pad_to - width) // 2
    return np.pad(images, ((0, 0), (top, pad_to - height - top), (left, pad_to - width - left),
                           (0, 0)))
