# %% [markdown]
# # Lab 6: Batch normalization
#
# Ioffe and Szegedy made deep networks much easier to train by normalizing every
# layer's inputs with the statistics of the current mini-batch, then letting the
# network rescale them with two learned parameters per channel
# (S. Ioffe and C. Szegedy, "Batch Normalization: Accelerating Deep Network Training
# by Reducing Internal Covariate Shift", *ICML* 2015; Algorithm 1 is the training
# transform, Algorithm 2 the inference network). With it they trained an Inception
# network 14 times faster and with learning rates up to 30 times larger.
#
# **After this lab you can**
#
# 1. write the batch-normalization transform for training (Algorithm 1) and for
#    inference in NumPy, and match `keras.layers.BatchNormalization` to 1e-5;
# 2. write the backward pass of batch normalization (the paper's Section 3) and check
#    it against automatic differentiation and a numerical gradient;
# 3. write the moving-average update that Keras uses to collect the inference
#    statistics, and say how many steps it needs to forget its initial values;
# 4. measure how batch normalization changes the range of learning rates that train;
# 5. show why small batches make batch statistics noisy;
# 6. explain, with numbers, what goes wrong at test time with batch statistics or with
#    moving averages that were never updated;
# 7. fold a trained batch normalization into the preceding convolution.
#
# Run the cells from top to bottom. Cells marked **Exercise** contain `...` for you to
# replace; the cell after each one checks your answer and tells you what to fix.

# %%
import time

import keras
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf
from keras import layers

from cnnlabs import datasets
from cnnlabs.checks import checker, fallbacks, is_unattempted, or_reference
from cnnlabs.env import device_report, seed_everything
from cnnlabs.layers import fold_bn
from cnnlabs.profiles import get_profile
from cnnlabs.training import compile_model, evaluate, train

# %matplotlib inline
print(device_report())
seed_everything(0)
check = checker("06_batchnorm")

# %% tags=["parameters"]
# The budget of this run. CNNLABS_PROFILE=smoke (CI, a laptop) uses 3,000
# Fashion-MNIST images and a short sweep; the full profile (the default, for a Colab
# GPU) uses CIFAR-10 with 20,000 training images and a wider sweep. The grade profile
# (in which submissions are graded) trains and tests on 64 images (no graded answer
# depends on them).
PROFILE = get_profile()
DATASET = PROFILE.pick(smoke="fashion_mnist", full="cifar10")
# grade: the grader runs every cell in seconds; no graded answer depends on training
TRAIN_EXAMPLES = PROFILE.pick(smoke=3_000, full=20_000, grade=64)
TEST_EXAMPLES = PROFILE.pick(smoke=1_000, full=10_000, grade=64)
EPOCHS = PROFILE.pick(smoke=2, full=5)
BATCH_SIZE = 32
BN_MOMENTUM = 0.9  # Keras's default is 0.99; see Section 3
LEARNING_RATES = PROFILE.pick(smoke=(0.01, 0.1, 1.0), full=(0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0),
                              grade=(0.1,))
EVAL_BATCH_SIZES = PROFILE.pick(smoke=(2, 8, 32, 256), full=(1, 2, 4, 8, 16, 32, 64, 256),
                                grade=(32,))

# %% [markdown]
# ## 1. The training transform (Algorithm 1)
#
# For one channel, a mini-batch holds the values $x_1, \dots, x_m$ (for a
# convolution's output: every example *and every spatial position*, so
# $m = \text{batch} \times \text{height} \times \text{width}$). Batch normalization
# computes
#
# $$\mu_B = \frac{1}{m}\sum_i x_i, \qquad
#   \sigma_B^2 = \frac{1}{m}\sum_i (x_i - \mu_B)^2, \qquad
#   \hat x_i = \frac{x_i - \mu_B}{\sqrt{\sigma_B^2 + \epsilon}}, \qquad
#   y_i = \gamma\, \hat x_i + \beta .$$
#
# $\gamma$ (scale) and $\beta$ (shift) are learned, one per channel, so the layer can
# undo the normalization if that is what the loss wants ($\gamma = \sqrt{\sigma^2 +
# \epsilon}$, $\beta = \mu$ gives back $x$). $\epsilon$ guards against dividing by
# zero; Keras uses $\epsilon = 10^{-3}$ by default.
#
# **Exercise 1.** Write `batchnorm_train` in NumPy. `x` has the channels last and any
# number of leading axes: `(batch, features)` after a dense layer, `(batch, height,
# width, channels)` after a convolution. Reduce over every axis except the last.
# Return the output *and* the batch statistics (the next exercises need them).
# Precision: float64 or float32 (what Keras computes in) both pass; the checks allow
# the rounding that Keras's own float32 layer shows, which grows when the channel
# means lie far from 0, and no more.

# %%
def batchnorm_train(x, gamma, beta, eps=1e-3):
    """Batch normalization in training mode (Ioffe & Szegedy 2015, Algorithm 1).

    Args:
        x: array of shape (..., channels), e.g. (batch, height, width, channels).
        gamma: array of shape (channels,), the learned scale.
        beta: array of shape (channels,), the learned shift.
        eps: float, added to the variance before the square root (default 1e-3).

    Returns:
        A tuple (y, mean, var): y has the shape of x; mean and var have shape
        (channels,) and are the batch mean and the biased (divide by m) batch variance
        over every axis but the last.
    """
    ### BEGIN SOLUTION
    axes = tuple(range(x.ndim - 1))
    mean = x.mean(axis=axes)
    var = ((x - mean) ** 2).mean(axis=axes)
    x_hat = (x - mean) / np.sqrt(var + eps)
    return gamma * x_hat + beta, mean, var
    ### END SOLUTION


# %%
check("batchnorm_train", batchnorm_train)

# %% [markdown]
# ## 2. The inference transform and the moving averages
#
# At test time the output for one image must not depend on the other images in its
# batch, so the batch statistics are replaced by fixed estimates of the population
# mean and variance (the paper's Algorithm 2, steps 8-11):
#
# $$y = \gamma\, \frac{x - \mu}{\sqrt{\sigma^2 + \epsilon}} + \beta .$$
#
# The paper averages the statistics of many training batches after training. Keras
# (like every framework today) keeps **exponential moving averages** during training
# instead, updated after every training step with a `momentum` close to 1 (Keras's
# default is 0.99):
#
# $$\text{moving} \leftarrow \text{momentum} \cdot \text{moving} +
#   (1 - \text{momentum}) \cdot \text{batch statistic}.$$
#
# Careful: PyTorch calls `1 - momentum` "momentum": it updates
# `(1 - m) * running + m * batch`, so its default `momentum=0.1` is Keras's
# `momentum=0.9` (not Keras's default 0.99, which is PyTorch's 0.01).
# Keras updates the moving variance with the biased batch variance; the paper uses the
# unbiased $\frac{m}{m-1}\sigma_B^2$, which for $m$ in the thousands makes no
# difference.
#
# **Exercise 2.** Write `batchnorm_inference` (the transform with given statistics)
# and `update_moving_average` (one step of the exponential moving average).

# %%
def batchnorm_inference(x, gamma, beta, moving_mean, moving_var, eps=1e-3):
    """Batch normalization in inference mode (Ioffe & Szegedy 2015, Algorithm 2).

    Args:
        x: array of shape (..., channels).
        gamma, beta: arrays of shape (channels,), the learned scale and shift.
        moving_mean, moving_var: arrays of shape (channels,), the population estimates.
        eps: float (default 1e-3).

    Returns:
        An array of the shape of x.
    """
    ### BEGIN SOLUTION
    return gamma * (x - moving_mean) / np.sqrt(moving_var + eps) + beta
    ### END SOLUTION


def update_moving_average(moving, batch_value, momentum=0.99):
    """One step of Keras's exponential moving average.

    Args:
        moving: array of shape (channels,), the current moving average.
        batch_value: array of shape (channels,), this batch's statistic.
        momentum: float in [0, 1), the weight kept by the old average (default 0.99).

    Returns:
        The new moving average, an array of shape (channels,).
    """
    ### BEGIN SOLUTION
    return momentum * moving + (1.0 - momentum) * batch_value
    ### END SOLUTION


# %%
check("batchnorm_inference", batchnorm_inference)
check("update_moving_average", update_moving_average)

# %% [markdown]
# ### Your layer against Keras's
#
# A Keras `BatchNormalization` layer called with `training=True` normalizes with the
# batch statistics *and* updates its moving averages; called with `training=False` it
# uses the moving averages. The cell below feeds the same random batch (a
# convolution-shaped `(8, 6, 6, 4)` tensor, channels with different means and
# scales) to both and prints the largest difference.

# %%
bn_train_fn = or_reference(batchnorm_train, lambda: fallbacks.batchnorm_train, "batchnorm_train",
                           probe={"x": np.ones((2, 3)), "gamma": np.ones(3), "beta": np.zeros(3)})
bn_infer_fn = or_reference(
    batchnorm_inference, lambda: fallbacks.batchnorm_inference, "batchnorm_inference",
    probe={"x": np.ones((2, 3)), "gamma": np.ones(3), "beta": np.zeros(3),
           "moving_mean": np.zeros(3), "moving_var": np.ones(3)})
update_fn = or_reference(update_moving_average, lambda: fallbacks.update_moving_average, "update_moving_average",
                         probe={"moving": np.zeros(3), "batch_value": np.ones(3)})

# %%
# NBVAL_CHECK_OUTPUT
rng = np.random.default_rng(0)
x_batch = (rng.normal(size=(8, 6, 6, 4)) * [1.0, 2.0, 0.5, 3.0] + [0.0, 5.0, -2.0, 1.0]).astype("float32")
gamma = rng.uniform(0.5, 2.0, size=4).astype("float32")
beta = rng.normal(size=4).astype("float32")

keras_bn = layers.BatchNormalization(momentum=0.99, epsilon=1e-3)
keras_bn.build(x_batch.shape)
keras_bn.gamma.assign(gamma)
keras_bn.beta.assign(beta)

y_keras_train = keras.ops.convert_to_numpy(keras_bn(x_batch, training=True))  # also updates the moving stats
y_keras_infer = keras.ops.convert_to_numpy(keras_bn(x_batch, training=False))
# The batch statistics the moving averages start from, taken from Keras's own layer so that
# each of your functions is compared on its own.
_, keras_batch_mean, keras_batch_var = fallbacks.batchnorm_train(x_batch, gamma, beta)


def max_difference(compute, reference):
    """max |yours - Keras|, or a sentence saying why it cannot be computed."""
    try:
        yours = np.asarray(compute(), dtype="float64")
    except Exception as exc:  # a wrong answer must not stop Run All
        return f"your function raised {type(exc).__name__}: {exc}"
    if yours.shape != np.shape(reference):
        return f"your result has shape {yours.shape}, Keras's has shape {np.shape(reference)}"
    return float(np.abs(yours - reference).max())


x64 = x_batch.astype("float64")
diffs = {
    "training output (batch statistics)": max_difference(
        lambda: bn_train_fn(x64, gamma, beta, eps=1e-3)[0], y_keras_train),
    "moving mean after one step": max_difference(  # Keras starts at mean 0 and variance 1
        lambda: update_fn(np.zeros(4), keras_batch_mean, momentum=0.99),
        keras_bn.moving_mean.numpy()),
    "moving variance after one step": max_difference(
        lambda: update_fn(np.ones(4), keras_batch_var, momentum=0.99),
        keras_bn.moving_variance.numpy()),
    "inference output (moving averages)": max_difference(
        lambda: bn_infer_fn(x64, gamma, beta, keras_bn.moving_mean.numpy(),
                            keras_bn.moving_variance.numpy(), eps=1e-3), y_keras_infer),
}
for what, diff in diffs.items():
    verdict = diff < 1e-5 if isinstance(diff, float) else f"no: {diff}"
    print(f"{what:<38} max |yours - Keras| < 1e-5: {verdict}")
if not all(isinstance(diff, float) and diff < 1e-5 for diff in diffs.values()):
    print("Some of your functions differ from Keras's layer: the check cells above say what to fix.")

# %% [markdown]
# Notice how different the two Keras outputs are for the *same* input: after one
# training step the moving averages are still 99% their initial values (mean 0,
# variance 1), so `training=False` barely normalizes at all. How many steps until the
# moving averages forget where they started? After $t$ steps the initial value keeps
# the weight $\text{momentum}^t$: with 0.99 that is $0.99^{100} \approx 37\%$ after
# 100 steps and $0.99^{460} \approx 1\%$ after 460 steps. The plot runs your
# `update_moving_average` on a stream of noisy batch means of a channel whose true
# mean is 3.

# %%
true_mean, steps = 3.0, 600
stream = true_mean + rng.normal(scale=0.5, size=steps)  # the batch means of 600 training steps
fig, ax = plt.subplots(figsize=(7, 3.8), layout="constrained")
ax.plot(np.arange(1, steps + 1), stream, ".", color="0.75", markersize=3, label="batch mean")
for momentum in (0.9, 0.99, 0.999):
    moving, trace = np.zeros(1), []
    for value in stream:
        moving = update_fn(moving, np.array([value]), momentum=momentum)
        trace.append(float(moving[0]))
    ax.plot(np.arange(1, steps + 1), trace, label=f"moving mean, momentum {momentum}")
ax.axhline(true_mean, color="k", linestyle=":", label="population mean")
ax.set(title="Exponential moving average of batch means, starting from 0",
       xlabel="training step", ylabel="channel mean (activation units)")
ax.legend(fontsize="small")
plt.show()

# %% [markdown]
# Momentum 0.9 follows quickly but stays noisy; 0.999 is smooth but after 600 steps
# it is still far below the truth. Keep this in mind for Section 5: a network trained
# for only a few hundred steps with momentum 0.99 has moving averages that are still
# catching up.

# %% [markdown]
# ## 2b. The backward pass (Section 3 of the paper)
#
# To train through a BN layer, the loss $\ell$ must be differentiated through the batch
# statistics too: $\mu_B$ and $\sigma_B^2$ depend on every $x_i$ of the batch. Section 3
# of the paper gives the chain rule, per channel, with $m$ values in the batch:
#
# $$\frac{\partial \ell}{\partial \hat x_i} = \frac{\partial \ell}{\partial y_i}\,\gamma,
#   \qquad
#   \frac{\partial \ell}{\partial \sigma_B^2} = \sum_i \frac{\partial \ell}{\partial \hat x_i}
#   (x_i - \mu_B)\cdot\frac{-1}{2}(\sigma_B^2 + \epsilon)^{-3/2},$$
#
# $$\frac{\partial \ell}{\partial \mu_B} = -\sum_i \frac{\partial \ell}{\partial \hat x_i}
#   \frac{1}{\sqrt{\sigma_B^2 + \epsilon}}
#   + \frac{\partial \ell}{\partial \sigma_B^2}\,\frac{\sum_i -2(x_i - \mu_B)}{m},$$
#
# $$\frac{\partial \ell}{\partial x_i} = \frac{\partial \ell}{\partial \hat x_i}
#   \frac{1}{\sqrt{\sigma_B^2 + \epsilon}}
#   + \frac{\partial \ell}{\partial \sigma_B^2}\,\frac{2(x_i - \mu_B)}{m}
#   + \frac{\partial \ell}{\partial \mu_B}\,\frac{1}{m},
#   \qquad
#   \frac{\partial \ell}{\partial \gamma} = \sum_i \frac{\partial \ell}{\partial y_i}\,\hat x_i,
#   \qquad
#   \frac{\partial \ell}{\partial \beta} = \sum_i \frac{\partial \ell}{\partial y_i}.$$
#
# The sums run over every axis but the channels, as in Exercise 1.
#
# **Exercise 3.** Write `batchnorm_backward` in NumPy: given the layer's input `x`, its
# `gamma`, `eps` and the gradient `grad_y` of the loss with respect to its output
# (training mode, batch statistics), return the gradients with respect to `x`, `gamma`
# and `beta`. The cell after the check compares it with TensorFlow's automatic
# differentiation (`tf.GradientTape`) and with a numerical gradient.

# %%
def batchnorm_backward(x, gamma, grad_y, eps=1e-3):
    """Gradients of batch normalization in training mode (Ioffe & Szegedy 2015, Section 3).

    Args:
        x: array of shape (..., channels), the layer's input.
        gamma: array of shape (channels,), the learned scale.
        grad_y: array of the shape of x, the gradient of the loss with respect to y.
        eps: float, added to the variance before the square root (default 1e-3).

    Returns:
        A tuple (grad_x, grad_gamma, grad_beta) of shapes x.shape, (channels,) and
        (channels,).
    """
    ### BEGIN SOLUTION
    axes = tuple(range(x.ndim - 1))
    m = x.size // x.shape[-1]
    centred = x - x.mean(axis=axes)
    inv_std = 1.0 / np.sqrt((centred ** 2).mean(axis=axes) + eps)
    x_hat = centred * inv_std
    grad_x_hat = grad_y * gamma
    grad_var = (grad_x_hat * centred).sum(axis=axes) * -0.5 * inv_std ** 3
    grad_mean = -(grad_x_hat * inv_std).sum(axis=axes) + grad_var * (-2.0 * centred).mean(axis=axes)
    grad_x = grad_x_hat * inv_std + grad_var * 2.0 * centred / m + grad_mean / m
    return grad_x, (grad_y * x_hat).sum(axis=axes), grad_y.sum(axis=axes)
    ### END SOLUTION


# %%
check("batchnorm_backward", batchnorm_backward)

# %% [markdown]
# ### Your gradients against automatic differentiation and a numerical gradient
#
# The loss here is $\ell = \sum_i y_i r_i$ for a fixed random array $r$, so that
# $\partial \ell / \partial y = r$. `tf.GradientTape` differentiates Keras's own
# `BatchNormalization` layer; the numerical gradient perturbs each input by $\pm h$
# and divides the change of the loss by $2h$ (central differences, float64, on a
# small input so that it takes a moment).

# %%
rng_small = np.random.default_rng(1)
x_small = rng_small.normal(size=(6, 3, 3, 2)) * [1.0, 2.0] + [0.5, -1.0]
gamma_small, r_small = rng_small.uniform(0.5, 2.0, 2), rng_small.normal(size=(6, 3, 3, 2))

bn_tape = layers.BatchNormalization(epsilon=1e-3, dtype="float64")
bn_tape.build(x_small.shape)
bn_tape.gamma.assign(gamma_small)
x_tensor = tf.constant(x_small)
with tf.GradientTape() as tape:
    tape.watch(x_tensor)
    loss = tf.reduce_sum(bn_tape(x_tensor, training=True) * r_small)
tape_x, tape_gamma, tape_beta = (g.numpy() for g in tape.gradient(
    loss, [x_tensor, bn_tape.gamma, bn_tape.beta]))


def bn_loss(x):
    """The same loss computed in NumPy (Algorithm 1), for the numerical gradient."""
    centred = x - x.mean(axis=(0, 1, 2))
    y = gamma_small * centred / np.sqrt((centred ** 2).mean(axis=(0, 1, 2)) + 1e-3)
    return float(np.sum(y * r_small))


h, numerical_x = 1e-5, np.zeros_like(x_small)
for index in np.ndindex(x_small.shape):
    step = np.zeros_like(x_small)
    step[index] = h
    numerical_x[index] = (bn_loss(x_small + step) - bn_loss(x_small - step)) / (2 * h)


def relative_error(a, b):
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


if is_unattempted(batchnorm_backward):
    print("Exercise 'batchnorm_backward' is not done yet: write it above, then re-run this cell.")
else:
    try:
        yours = batchnorm_backward(x_small.copy(), gamma_small, r_small.copy(), eps=1e-3)
        grad_x, grad_gamma, grad_beta = (np.asarray(g, dtype="float64") for g in yours)
        for what, mine, theirs in (("grad_x vs tf.GradientTape", grad_x, tape_x),
                                   ("grad_x vs numerical gradient", grad_x, numerical_x),
                                   ("grad_gamma vs tf.GradientTape", grad_gamma, tape_gamma),
                                   ("grad_beta vs tf.GradientTape", grad_beta, tape_beta)):
            error = relative_error(mine, theirs) if mine.shape == theirs.shape else float("inf")
            print(f"{what:<30} max relative error < 1e-6: {error < 1e-6}")
    except Exception as exc:  # a wrong answer must not stop Run All
        print(f"Your batchnorm_backward raised {type(exc).__name__}: {exc}; the check above "
              "says what to fix.")
print(f"tf.GradientTape vs numerical gradient: max relative error < 1e-6: "
      f"{relative_error(tape_x, numerical_x) < 1e-6}")

# %% [markdown]
# Notice the last two terms of $\partial \ell / \partial x_i$: they come from the batch
# statistics and couple every example of the batch with every other one. If you treat
# $\mu_B$ and $\sigma_B^2$ as constants you get only the first term, and the
# gradient no longer removes the component along $\hat x$ and the mean: that is why
# the paper insists that normalization be part of the network's computation graph
# (Section 2), not a step applied outside it.

# %% [markdown]
# ## 3. Training with and without batch normalization
#
# The same small convolutional network (three convolutions, global average pooling,
# a softmax classifier) in two versions: plain (convolution with bias, ReLU) and with
# batch normalization between each convolution and its ReLU (no bias: BN's $\beta$
# does that job). The BN layers use `momentum=0.9` instead of Keras's 0.99: our runs
# are only a few hundred steps long, and Section 2 showed that 0.99 would leave the
# moving averages far from the truth after so few steps. Both networks are trained
# with the same plain SGD with momentum 0.9, the
# optimizer of the paper's era, over a sweep of learning rates. Every run reads the
# training images through `datasets.pipeline(..., training=True)`: reshuffled every
# epoch and cut into batches of 32 (the last batch of an epoch holds the remainder),
# with the pipeline's fixed seed, so every run sees the same batches in the same order
# and the runs differ only in the network and the learning rate. The paper's claim
# (Section 3.3) is that BN makes training insensitive to the scale of the weights and
# so allows much higher learning rates.
#
# The right-hand plot of the next figure shows Keras's *running* training accuracy: at
# each step, the mean over the batches seen so far in the current epoch. It jumps at
# every epoch boundary (grey lines) because the mean restarts there: the old average
# still carried the poor first batches of the epoch, the new one starts from a batch
# the network, trained for a whole epoch more, already classifies well.
#
# *Budget.* The network costs about 2 million multiply-accumulates (MACs) per 28x28
# image forward (about 2.7 M at 32x32x3). The full profile trains 2 x 7 learning rates
# x 5 epochs x 20,000 CIFAR-10 images x 3 (forward + backward) x 2.7 M = 1.1e13 MACs,
# seconds of arithmetic on a Colab T4; the small model leaves the GPU underused and 14
# separate runs each pay for compilation, so expect about 5 minutes (the whole lab:
# about 6-8 minutes). The smoke profile trains 2 x 3 runs of two epochs over
# 3,000 images (about half a minute on 2 CPU cores).

# %%
raw = datasets.load(DATASET)
data = raw if raw.x_train is not None else raw.carve_from_test(TRAIN_EXAMPLES)
data.require_train()
# The training images stay uint8: datasets.pipeline scales them to [0, 1] batch by batch.
# The test images are kept in memory as float32 (datasets.to_float: the pipeline's
# scaling), because Sections 4-6 feed them to the network directly.
x_train, y_train = data.x_train[:TRAIN_EXAMPLES], data.y_train[:TRAIN_EXAMPLES]
x_test, y_test = datasets.to_float(data.x_test, subset=TEST_EXAMPLES), data.y_test[:TEST_EXAMPLES]
num_classes = len(data.class_names)
print(f"Dataset: {data.source}")
print(f"{DATASET}: train {x_train.shape} (uint8), test {x_test.shape} (float32), "
      f"{num_classes} classes")
if PROFILE.is_smoke:
    print("Smoke profile: Fashion-MNIST stands in for CIFAR-10 (the full profile's dataset).")


def small_cnn(batchnorm, input_shape, num_classes=10, name=None):
    """conv16-pool-conv32-pool-conv64-GAP-softmax, with or without BN before each ReLU."""
    inputs = keras.Input(input_shape)
    x = inputs
    for index, filters in enumerate((16, 32, 64), start=1):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=not batchnorm, name=f"conv{index}")(x)
        if batchnorm:
            x = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"bn{index}")(x)
        x = layers.ReLU(name=f"relu{index}")(x)
        if index < 3:
            x = layers.MaxPooling2D(2, name=f"pool{index}")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name=name or ("cnn_bn" if batchnorm else "cnn_plain"))


class StepAccuracy(keras.callbacks.Callback):
    """Records the running training accuracy after every step."""

    def on_train_begin(self, logs=None):
        self.accuracy = []

    def on_train_batch_end(self, batch, logs=None):
        self.accuracy.append(float(logs["accuracy"]))


# %%
sweep = {}
for batchnorm in (False, True):
    for lr in LEARNING_RATES:
        seed_everything(0)
        model = compile_model(small_cnn(batchnorm, x_train.shape[1:], num_classes),
                              optimizer=keras.optimizers.SGD(lr, momentum=0.9))
        steps = StepAccuracy()
        batches = datasets.pipeline(x_train, y_train, batch_size=BATCH_SIZE, training=True)
        result = train(model, batches, test_data=(x_test, y_test), epochs=EPOCHS,
                       batch_size=BATCH_SIZE, verbose=0, callbacks=[steps])
        accuracy = result.test_accuracy if np.isfinite(result.history["loss"][-1]) else 0.0
        sweep[batchnorm, lr] = {"result": result, "steps": steps.accuracy, "test_accuracy": accuracy}
        print(f"{'BN   ' if batchnorm else 'plain'} lr={lr:<6} test accuracy {accuracy:6.1%}  "
              f"({result.budget()})")

# %% tags=["figure:bn_learning_rate"]
target = PROFILE.pick(smoke=0.45, full=0.45, grade=0.0)  # grade: not enforced
best = {bn: max(sweep[bn, lr]["test_accuracy"] for lr in LEARNING_RATES) for bn in (False, True)}
print(f"best test accuracy: plain {best[False]:.1%}, with BN {best[True]:.1%} (chance 10%)")
assert best[True] > target, (
    f"The BN network reached only {best[True]:.1%} at its best learning rate (expected > "
    f"{target:.0%} after {EPOCHS} epoch(s) of {len(x_train):,} images)."
)


def steps_to(trace, level):
    """The first step whose running accuracy reaches `level`, or None."""
    hits = np.flatnonzero(np.asarray(trace) >= level)
    return int(hits[0]) + 1 if hits.size else None


fig, (ax_lr, ax_curve) = plt.subplots(1, 2, figsize=(11, 3.8), layout="constrained")
for batchnorm, label in ((False, "plain"), (True, "with BN")):
    ax_lr.plot(LEARNING_RATES, [sweep[batchnorm, lr]["test_accuracy"] for lr in LEARNING_RATES],
               "o-", label=label)
ax_lr.axhline(0.1, color="k", linestyle=":", label="chance")
ax_lr.set_xscale("log")
ax_lr.set(title=f"Test accuracy after {EPOCHS} epoch(s) of SGD",
          xlabel="learning rate (log scale)", ylabel="test accuracy (fraction)")
ax_lr.legend(fontsize="small")
curve_lr = 0.1
level = PROFILE.pick(smoke=0.5, full=0.4)
for batchnorm, label in ((False, "plain"), (True, "with BN")):
    trace = sweep[batchnorm, curve_lr]["steps"]
    ax_curve.plot(np.arange(1, len(trace) + 1), trace, label=label)
    print(f"{label:<8} lr={curve_lr}: running training accuracy reaches {level:.0%} "
          f"after {steps_to(trace, level) or 'more than ' + str(len(trace))} steps")
epochs_run = len(sweep[True, curve_lr]["result"].history["loss"])
steps_per_epoch = len(sweep[True, curve_lr]["steps"]) // epochs_run
for epoch in range(1, epochs_run):  # Keras restarts its running average at every epoch
    ax_curve.axvline(epoch * steps_per_epoch + 0.5, color="0.6", linewidth=0.8,
                     label="epoch boundary: the running mean restarts" if epoch == 1 else None)
ax_curve.axhline(level, color="k", linestyle=":", label=f"target {level:.0%}")
ax_curve.set(title=f"Training accuracy per step, learning rate {curve_lr}",
             xlabel=f"training step (batch of {BATCH_SIZE})",
             ylabel="running training accuracy (fraction)")
ax_curve.legend(fontsize="small")
plt.show()

# %% [markdown]
# **Question 1.** Which learning rates train each network? Why can a BN network take
# a learning rate at which the plain network diverges? (Hint: what happens to the
# output of a BN layer if you multiply the weights of the convolution before it by 10?)

# %% [markdown] tags=["student", "answer:bn_learning_rate"]
# *Your answer:* YOUR ANSWER HERE

# %% [markdown] tags=["solution", "answer:bn_learning_rate"]
# *Model answer.* Read the sweep plot: a learning rate "trains" a network when its test
# accuracy is well above chance (10%); a run whose loss became NaN is plotted at 0.
# What to look for is the largest rate at which each network still trains: if BN
# helps as the paper says, that rate is higher for the BN network, and the plain
# network falls to chance (or NaN) first as the rate grows. Each rate was run once
# (one seed) on a short budget, so a difference of a few points between neighbouring
# rates is noise; the pattern across the sweep is what counts. The paper trains its
# BN Inception with a learning rate 30 times larger (BN-x30, Section 4.2.2). Why BN
# allows it: a BN layer's output does not change when the
# weights before it are scaled: $\text{BN}(aWx) = \text{BN}(Wx)$. So a large step that
# inflates some weights does not inflate the activations of the next layer, and the
# gradient with respect to the weights even shrinks as $1/a$ (Section 3.3 of the
# paper), which stabilises the effective step size. Without BN, a too-large step
# multiplies activations layer after layer until the loss overflows.

# %% [markdown]
# ## 4. Batch size: batch statistics are noisy estimates
#
# Each training batch normalizes with its own $\mu_B$ and $\sigma_B^2$: estimates of
# the population statistics from $m$ values. Their noise falls like $1/\sqrt{m}$. The
# next cell takes the trained BN network, computes the input of its first BN layer
# (the output of `conv1`) on test images, and measures how much the batch mean of each
# channel varies from batch to batch, as a function of the batch size. For a
# convolution, $m$ is batch size x height x width, but neighbouring pixels are
# strongly correlated, so the effective $m$ is smaller.

# %%
bn_lr = max(LEARNING_RATES, key=lambda lr: sweep[True, lr]["test_accuracy"])
bn_model = sweep[True, bn_lr]["result"].model
print(f"Sections 4-6 use the BN network trained with learning rate {bn_lr} (its best test accuracy).")
conv1_output = keras.Model(bn_model.input, bn_model.get_layer("conv1").output)
features = keras.ops.convert_to_numpy(conv1_output(x_test))  # (examples, height, width, 16)
population_mean = features.mean(axis=(0, 1, 2))
population_std = features.std(axis=(0, 1, 2)) + 1e-8

batch_sizes = [b for b in (1, 2, 4, 8, 16, 32, 64, 128, 256) if b <= len(features) // 4]
noise = []
for b in batch_sizes:
    n_batches = len(features) // b
    batch_means = features[: n_batches * b].reshape(n_batches, b, -1, features.shape[-1]).mean(axis=(1, 2))
    noise.append(float(np.mean(np.std(batch_means - population_mean, axis=0) / population_std)))

fig, ax = plt.subplots(figsize=(6.4, 4), layout="constrained")
ax.loglog(batch_sizes, noise, "o-", label="measured (mean over 16 channels)")
ax.loglog(batch_sizes, noise[0] / np.sqrt(batch_sizes), ":", color="k", label="1/sqrt(batch size)")
ax.set(title="Noise of the batch mean of conv1's channels",
       xlabel="batch size (images, log scale)",
       ylabel="std of batch mean / population std")
ax.legend(fontsize="small")
plt.show()
for b, value in zip(batch_sizes, noise):
    print(f"batch size {b:>4}: batch means scatter by {value:.3f} population standard deviations")

# %% [markdown]
# ## 5. Moving averages at test time
#
# What does the network predict if we evaluate it
#
# - with the **moving averages** (the right way: `training=False`, what `evaluate` does);
# - with the **batch statistics** of the test batch (`training=True`, a common bug when
#   a custom loop forgets the flag), for several test batch sizes;
# - with moving averages that were **never updated** (mean 0, variance 1: what you get
#   if you copy only the trainable weights, or train with the BN layers frozen);
# - with statistics **re-estimated after training** over the training set with the
#   final weights, as the paper's Algorithm 2 does?
#
# The batch-statistics evaluation runs on a copy of the network, so that it does not
# update the moving averages of the trained one.

# %% tags=["figure:test_time_statistics"]
def twin_of(model):
    """A compiled copy of `model` with its weights, to change without touching the original.

    The copy runs as the original does: in graph mode, except in the grade profile, where
    `train` left the trained network running eagerly (a few calls cost less than tracing).
    """
    twin = keras.models.clone_model(model)
    twin.set_weights(model.get_weights())
    compile_model(twin)
    twin.run_eagerly = model.run_eagerly
    return twin


def accuracy_with_batch_statistics(model, x, y, batch_size):
    """Test accuracy when every test batch is normalized with its own statistics."""
    twin = twin_of(model)
    n_batches = min(len(x) // batch_size, 200)  # at most 200 forward passes
    correct = 0
    for start in range(0, n_batches * batch_size, batch_size):
        probs = twin(x[start:start + batch_size], training=True)
        correct += int(np.sum(np.argmax(keras.ops.convert_to_numpy(probs), axis=1)
                              == y[start:start + batch_size]))
    return correct / (n_batches * batch_size)


def with_reset_moving_averages(model):
    """A copy whose BN layers have moving mean 0 and variance 1 (never updated)."""
    twin = twin_of(model)
    for layer in twin.layers:
        if isinstance(layer, layers.BatchNormalization):
            layer.moving_mean.assign(np.zeros(layer.moving_mean.shape, "float32"))
            layer.moving_variance.assign(np.ones(layer.moving_variance.shape, "float32"))
    return twin


def with_population_statistics(model, batches):
    """A copy whose BN statistics are re-estimated over `batches` (images, batch by batch)
    with the trained weights (the paper's Algorithm 2, steps 8-10: the average of the
    batch statistics)."""
    twin = twin_of(model)
    bns = [layer for layer in twin.layers if isinstance(layer, layers.BatchNormalization)]
    for k, images in enumerate(batches):
        for layer in bns:
            layer.momentum = k / (k + 1)  # a running (cumulative) average of the batch statistics
        twin(images, training=True)  # updates the statistics, not the weights
    return twin


start = time.perf_counter()
print("evaluating with the moving averages, never-updated and re-estimated statistics ...",
      flush=True)
moving_accuracy = evaluate(bn_model, (x_test, y_test))["accuracy"]
reset_accuracy = evaluate(with_reset_moving_averages(bn_model), (x_test, y_test))["accuracy"]
# the training images in their stored order, in batches of 256 (no shuffling, no labels)
training_images = datasets.pipeline(x_train, batch_size=256)
population_accuracy = evaluate(with_population_statistics(bn_model, training_images),
                               (x_test, y_test))["accuracy"]
batch_stat_accuracy = {}
for b in EVAL_BATCH_SIZES:
    print(f"evaluating with the batch statistics of test batches of {b} ...", flush=True)
    batch_stat_accuracy[b] = accuracy_with_batch_statistics(bn_model, x_test, y_test, b)
print(f"evaluated {len(x_test):,} test images {3 + len(EVAL_BATCH_SIZES)} ways "
      f"in {time.perf_counter() - start:.1f} s")
print(f"moving averages (correct):     {moving_accuracy:.1%}")
for b, acc in batch_stat_accuracy.items():
    print(f"batch statistics, batch {b:>4}:  {acc:.1%}")
print(f"never-updated moving averages: {reset_accuracy:.1%}")
print(f"re-estimated (Algorithm 2):    {population_accuracy:.1%}")
steps_trained = len(sweep[True, bn_lr]["steps"])  # the training steps this network ran
print(f"(the moving averages saw {steps_trained} updates with momentum {BN_MOMENTUM}: the "
      f"initial values keep {BN_MOMENTUM ** steps_trained:.1%} of the weight; with Keras's "
      f"default 0.99 they would keep {0.99 ** steps_trained:.0%})")

labels_ = (["moving\naverages"] + [f"batch stats\nb={b}" for b in EVAL_BATCH_SIZES]
           + ["never\nupdated", "re-estimated\n(Alg. 2)"])
values = [moving_accuracy, *batch_stat_accuracy.values(), reset_accuracy, population_accuracy]
fig, ax = plt.subplots(figsize=(8, 3.8), layout="constrained")
ax.bar(range(len(values)), values, color=["C2"] + ["C0"] * len(EVAL_BATCH_SIZES) + ["C3", "C1"])
ax.set_xticks(range(len(values)), labels_, fontsize="small")
ax.axhline(0.1, color="k", linestyle=":", label="chance")
ax.set(title="Test accuracy of the BN network, by the statistics used at test time",
       xlabel="normalization statistics at test time", ylabel="test accuracy (fraction)")
ax.legend(fontsize="small")
plt.show()

# %% [markdown]
# **Question 2.** Explain each bar. Why does evaluating with batch statistics get
# worse as the test batch gets smaller, and why is it a problem even when the accuracy
# is fine (think of one user sending one image)? Why do never-updated moving averages
# hurt so much more than the others?

# %% [markdown] tags=["student", "answer:test_time_statistics"]
# *Your answer:* YOUR ANSWER HERE

# %% [markdown] tags=["solution", "answer:test_time_statistics"]
# *Model answer.* With moving averages each image is normalized with fixed population
# estimates, as the network expects. With batch statistics the normalization of one
# image depends on the other images of its batch: with large batches those statistics
# are close to the population's (Section 4 showed their noise falls like
# $1/\sqrt{b}$) so the accuracy is close, but with a handful of images the
# statistics are noisy and biased by whichever classes happen to be in the batch, and
# the same image gets different predictions in different batches: a deployed model
# must not do that. Never-updated moving averages (mean 0, variance 1) do not
# normalize at all: the activations keep their raw scale and offset, which after
# training can be far from 0 and 1, so every later layer sees inputs it was never
# trained on. A subtler version of the same bug: after only a few hundred steps with
# momentum 0.99 the moving averages still remember their initial values (the last
# printed line says how much weight they would keep in this run), which is why short
# runs with the default momentum often evaluate much worse than their training
# accuracy suggests; that is why this lab uses momentum 0.9. Even so, in a run this
# short the moving averages are *stale*: the weights still change quickly, and an
# average over the last steps describes slightly older weights. That is why
# large-batch statistics can score higher than the moving averages here, and why the
# statistics re-estimated after training with the final weights (the paper's
# Algorithm 2) recover that accuracy without making a prediction depend on the rest of
# its batch. What to expect from a longer run with a decaying learning rate: the
# weights change more slowly at the end, so the moving averages catch up and this gap
# should shrink; this lab does not measure it, so check it in your own full run.

# %% [markdown]
# ## 6. Folding batch normalization into the convolution
#
# At inference BN is an affine map per channel, so it can be merged into the
# convolution before it: for output channel $o$ with scale
# $s_o = \gamma_o / \sqrt{\sigma_o^2 + \epsilon}$,
#
# $$\text{BN}(W * x + b)_o = s_o (W_o * x + b_o - \mu_o) + \beta_o
#   = (s_o W_o) * x + \big(s_o (b_o - \mu_o) + \beta_o\big).$$
#
# Deployment tools (TensorFlow Lite, TensorRT) do this so that BN costs nothing at
# inference.
#
# **Exercise 4.** Write `fold_batchnorm`: it returns the kernel and bias of one
# convolution equivalent to the convolution followed by BN in inference mode.

# %%
def fold_batchnorm(kernel, bias, gamma, beta, moving_mean, moving_var, eps=1e-3):
    """Folds an inference-mode batch normalization into the convolution before it.

    Args:
        kernel: array of shape (kernel_height, kernel_width, in_channels, out_channels).
        bias: array of shape (out_channels,); zeros if the convolution has no bias.
        gamma, beta, moving_mean, moving_var: arrays of shape (out_channels,), the BN
            layer's parameters and statistics.
        eps: float, the BN layer's epsilon (default 1e-3).

    Returns:
        A tuple (folded_kernel, folded_bias) of shapes (kernel_height, kernel_width,
        in_channels, out_channels) and (out_channels,).
    """
    ### BEGIN SOLUTION
    scale = gamma / np.sqrt(moving_var + eps)
    return kernel * scale, (bias - moving_mean) * scale + beta
    ### END SOLUTION


# %%
check("fold_batchnorm", fold_batchnorm)

# %% [markdown]
# Fold the trained network's `conv1` + `bn1` with your function and compare the folded
# convolution with the original pair on test images.

# %%
fold_fn = or_reference(fold_batchnorm, lambda: fallbacks.fold_batchnorm, "fold_batchnorm",
                       probe={"kernel": np.ones((1, 1, 1, 2)), "bias": np.zeros(2),
                              "gamma": np.ones(2), "beta": np.zeros(2),
                              "moving_mean": np.zeros(2), "moving_var": np.ones(2)})

conv, bn = bn_model.get_layer("conv1"), bn_model.get_layer("bn1")
kernel = conv.get_weights()[0]
bias = np.zeros(kernel.shape[-1], "float32")  # conv1 has no bias: BN's beta replaces it
gamma_, beta_, mean_, var_ = bn.get_weights()
library_kernel, library_bias = fold_bn(conv, bn)  # cnnlabs.layers' own implementation
folded_conv = layers.Conv2D(kernel.shape[-1], 3, padding="same", name="conv1_folded")
folded_conv.build((None, *x_test.shape[1:]))
try:
    folded_kernel, folded_bias = fold_fn(kernel, bias, gamma_, beta_, mean_, var_, eps=bn.epsilon)
    folded_conv.set_weights([np.asarray(folded_kernel, "float32"),
                             np.asarray(folded_bias, "float32")])
except Exception as exc:  # a wrong answer must not stop Run All
    print(f"Your fold_batchnorm cannot be used here ({type(exc).__name__}: {exc}); "
          "using cnnlabs.layers.fold_bn instead so the rest of the lab runs.")
    folded_kernel, folded_bias = library_kernel, library_bias
    folded_conv.set_weights([folded_kernel, folded_bias])
pair = keras.Model(bn_model.input, bn_model.get_layer("bn1").output)
reference_out = keras.ops.convert_to_numpy(pair(x_test[:256], training=False))
folded_out = keras.ops.convert_to_numpy(folded_conv(x_test[:256]))
gap = float(np.abs(reference_out - folded_out).max())
print(f"conv1 + bn1 vs one folded conv1 on {len(folded_out)} test images: max |difference| = "
      f"{gap:.1e} (activations range over {np.ptp(reference_out):.1f})")
library_gap = max(float(np.abs(library_kernel - folded_kernel).max()),
                  float(np.abs(library_bias - folded_bias).max()))
print(f"your fold vs cnnlabs.layers.fold_bn: max |difference| = {library_gap:.1e}")
if gap > 1e-3 * max(1.0, float(np.ptp(reference_out))) or library_gap > 1e-4:
    print("Your folded convolution differs from conv1 + bn1: the check of Exercise 4 says what "
          "to fix.")

# %% [markdown]
# **Question 3.** Can you fold BN into the convolution during *training*? What about
# a BN layer placed *before* the convolution (as in pre-activation ResNets)?

# %% [markdown] tags=["student", "answer:fold_bn_training"]
# *Your answer:* YOUR ANSWER HERE

# %% [markdown] tags=["solution", "answer:fold_bn_training"]
# *Model answer.* Not during training: there the statistics are the current batch's,
# which change with every batch and depend on the convolution's output, so there is
# no fixed scale and shift to fold (quantization-aware training simulates the fold but
# still computes batch statistics). A BN before a convolution can be folded too when
# the padding is "valid": the per-input-channel scale multiplies the kernel along its
# input-channel axis and the shift becomes a bias term $\sum W \cdot \text{shift}$. With
# "same" zero padding it is not exact, because the padded zeros are not shifted.

# %% [markdown]
# ## Summary
#
# - Training BN normalizes each channel with the batch's mean and biased variance,
#   over batch, height and width, then scales by $\gamma$ and shifts by $\beta$.
# - Inference BN uses moving averages collected during training
#   (`moving = momentum * moving + (1 - momentum) * batch`); they need a few hundred
#   steps to forget their initial values.
# - BN lets a network train at learning rates where the plain network diverges.
# - Batch statistics are estimates whose noise grows as the batch shrinks; evaluate
#   with `training=False`.
# - At inference BN is an affine map and folds into the preceding convolution.
