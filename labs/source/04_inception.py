# %% [markdown]
# # Lab 4: Inception modules and 1x1 bottlenecks
#
# GoogLeNet won ILSVRC 2014 with 22 layers and 12 times fewer parameters than AlexNet
# (C. Szegedy et al., "Going deeper with convolutions", *CVPR* 2015). Its building
# block, the **Inception module**, runs 1x1, 3x3 and 5x5 convolutions and a max pooling
# side by side on the same input and concatenates their outputs, so the next layer
# sees features at several scales. Done naively this is ruinously expensive; the trick
# that makes it affordable is to **reduce the channels with 1x1 convolutions** before
# the large kernels (the paper's Figure 2(b) and Section 4).
#
# **After this lab you can**
#
# 1. build the naive and the dimension-reduced Inception module with the Keras
#    functional API;
# 2. count their parameters and multiply-accumulates (MACs) by hand, and check the
#    counts with `cnnlabs.arithmetic` and `cnnlabs.analysis.layer_table`;
# 3. measure whether the MAC savings show up in wall-clock time;
# 4. train a small GoogLeNet against a plain CNN of the same size and compare them at a
#    matched budget.
#
# Run the cells from top to bottom. Cells marked **Exercise** contain `...` for you to
# replace; the cell after each one checks your answer and tells you what to fix.

# %%
import time

import keras
import matplotlib.pyplot as plt
import numpy as np
from keras import layers

from cnnlabs import arithmetic, datasets, plotting
from cnnlabs.analysis import layer_table
from cnnlabs.checks import checker, fallbacks, or_reference
from cnnlabs.env import device_report, seed_everything
from cnnlabs.profiles import get_profile
from cnnlabs.training import train_seeds

# %matplotlib inline
print(device_report())
seed_everything(0)
check = checker("04_inception")

# %% tags=["parameters"]
# The budget of this run. CNNLABS_PROFILE=smoke (CI, a laptop) trains on 2,000
# Fashion-MNIST images padded to 32x32 for 2 epochs; the full profile (the default, for a
# Colab GPU) trains on all 50,000 CIFAR-10 training images; the grade profile (in which
# submissions are graded) trains each network for one step of 64 images with one seed:
# enough to run every cell, not to learn anything.
PROFILE = get_profile()
DATASET = PROFILE.pick(smoke="fashion_mnist", full="cifar10")
TRAIN_EXAMPLES = PROFILE.pick(smoke=2_000, full=None, grade=64)  # None: the whole training split
TEST_EXAMPLES = PROFILE.pick(smoke=1_000, full=None, grade=64)
EPOCHS = PROFILE.pick(smoke=2, full=10)
BATCH_SIZE = PROFILE.pick(smoke=64, full=128, grade=64)  # grade: one (eager) step per epoch
TIMING_BATCH = PROFILE.pick(smoke=8, full=64)
TIMING_REPEATS = PROFILE.pick(smoke=3, full=20)
SEEDS = PROFILE.pick(smoke=(0, 1), full=(0, 1, 2))  # the comparison is repeated per seed

# %% [markdown]
# ## 1. The naive Inception module
#
# The naive module (Figure 2(a) of the paper) applies four operations to the same input
# `x` of shape `(batch, height, width, channels)` and stacks their outputs along the
# channel axis:
#
# 1. a 1x1 convolution with `filters_1x1` filters and ReLU;
# 2. a 3x3 convolution with `filters_3x3` filters and ReLU;
# 3. a 5x5 convolution with `filters_5x5` filters and ReLU;
# 4. a 3x3 max pooling with stride 1.
#
# Every branch uses `padding="same"` (and stride 1) so that all four outputs keep the
# input's height and width and can be concatenated. The output therefore has
# `filters_1x1 + filters_3x3 + filters_5x5 + channels` channels: the pooling branch
# passes all input channels through, so the width grows from module to module.
#
# **Exercise 1.** Write `inception_naive` with the functional API: take the tensor `x`,
# return the output tensor. Concatenate in the order 1x1, 3x3, 5x5, pool
# (`layers.Concatenate()([...])`, channels last). The wrapper below builds a model
# around your block so the check can inspect it.

# %%
def inception_naive(x, filters_1x1, filters_3x3, filters_5x5):
    """The naive Inception module (Szegedy et al. 2015, Figure 2(a)).

    Args:
        x: Keras tensor of shape (batch, height, width, channels).
        filters_1x1, filters_3x3, filters_5x5: int, filters of the three convolutions
            (each with ReLU and padding="same").

    Returns:
        Keras tensor of shape (batch, height, width,
        filters_1x1 + filters_3x3 + filters_5x5 + channels): the branches 1x1, 3x3,
        5x5 and 3x3 max pooling (stride 1), concatenated in this order.
    """
    ### BEGIN SOLUTION
    branch_1x1 = layers.Conv2D(filters_1x1, 1, padding="same", activation="relu")(x)
    branch_3x3 = layers.Conv2D(filters_3x3, 3, padding="same", activation="relu")(x)
    branch_5x5 = layers.Conv2D(filters_5x5, 5, padding="same", activation="relu")(x)
    branch_pool = layers.MaxPooling2D(3, strides=1, padding="same")(x)
    return layers.Concatenate()([branch_1x1, branch_3x3, branch_5x5, branch_pool])
    ### END SOLUTION


def naive_module(input_shape, filters_1x1, filters_3x3, filters_5x5):
    """Your naive module wrapped in a model (None while the exercise is not done)."""
    inputs = keras.Input(input_shape)
    outputs = inception_naive(inputs, filters_1x1, filters_3x3, filters_5x5)
    return None if outputs is None else keras.Model(inputs, outputs, name="naive_module")


# %%
check("inception_naive", naive_module)

# %% [markdown]
# ## 2. The module with dimension reductions
#
# The naive 5x5 branch convolves *all* input channels. The paper's fix (Figure 2(b))
# puts a cheap 1x1 convolution with few filters ("#3x3 reduce", "#5x5 reduce" in its
# Table 1) in front of the 3x3 and 5x5 convolutions, and a 1x1 convolution ("pool
# proj") after the pooling, so the pooling branch no longer carries every input
# channel forward. Every convolution has a ReLU: the reductions are also extra
# non-linearities.
#
# **Exercise 2.** Write `inception_bottleneck`. Same rules as before: functional API,
# `padding="same"`, ReLU after every convolution, concatenation order 1x1, 3x3, 5x5,
# pool.

# %%
def inception_bottleneck(x, filters_1x1, reduce_3x3, filters_3x3, reduce_5x5, filters_5x5,
                         pool_proj):
    """The Inception module with dimension reductions (Szegedy et al. 2015, Figure 2(b)).

    Args:
        x: Keras tensor of shape (batch, height, width, channels).
        filters_1x1: int, filters of the 1x1 branch.
        reduce_3x3, filters_3x3: int, the 1x1 reduction then the 3x3 convolution.
        reduce_5x5, filters_5x5: int, the 1x1 reduction then the 5x5 convolution.
        pool_proj: int, filters of the 1x1 convolution after the 3x3 max pooling
            (stride 1).

    Returns:
        Keras tensor of shape (batch, height, width,
        filters_1x1 + filters_3x3 + filters_5x5 + pool_proj); every convolution has
        ReLU and padding="same"; branches concatenated in the order 1x1, 3x3, 5x5, pool.
    """
    ### BEGIN SOLUTION
    branch_1x1 = layers.Conv2D(filters_1x1, 1, padding="same", activation="relu")(x)
    branch_3x3 = layers.Conv2D(reduce_3x3, 1, padding="same", activation="relu")(x)
    branch_3x3 = layers.Conv2D(filters_3x3, 3, padding="same", activation="relu")(branch_3x3)
    branch_5x5 = layers.Conv2D(reduce_5x5, 1, padding="same", activation="relu")(x)
    branch_5x5 = layers.Conv2D(filters_5x5, 5, padding="same", activation="relu")(branch_5x5)
    branch_pool = layers.MaxPooling2D(3, strides=1, padding="same")(x)
    branch_pool = layers.Conv2D(pool_proj, 1, padding="same", activation="relu")(branch_pool)
    return layers.Concatenate()([branch_1x1, branch_3x3, branch_5x5, branch_pool])
    ### END SOLUTION


def bottleneck_module(input_shape, filters_1x1, reduce_3x3, filters_3x3, reduce_5x5,
                      filters_5x5, pool_proj):
    """Your bottleneck module wrapped in a model (None while the exercise is not done)."""
    inputs = keras.Input(input_shape)
    outputs = inception_bottleneck(inputs, filters_1x1, reduce_3x3, filters_3x3, reduce_5x5,
                                   filters_5x5, pool_proj)
    return None if outputs is None else keras.Model(inputs, outputs, name="bottleneck_module")


# %%
check("inception_bottleneck", bottleneck_module)

# %% [markdown]
# ## 3. What the 1x1 reduction saves: parameters and MACs
#
# A `k x k` convolution from `C_in` to `C_out` channels has
# `k * k * C_in * C_out + C_out` parameters (weights plus one bias per filter) and,
# at every output pixel, `k * k * C_in * C_out` multiply-accumulates (MACs): each of
# the `C_out` outputs is a dot product of length `k * k * C_in`. For a whole
# `H x W` output multiply the MACs by `H * W`.
#
# **Exercise 3.** Take the 5x5 branch of a module whose input has **64 channels** and
# which produces **64 channels**.
#
# - naive: one 5x5 convolution 64 -> 64;
# - bottleneck: a 1x1 convolution 64 -> 32 (with ReLU), then a 5x5 convolution 32 -> 64.
#
# Count the parameters (with biases) and the MACs per output pixel of each. Write the
# numbers (integers), not code that calls a library.

# %%
naive_5x5_params = ...  # an integer
### BEGIN SOLUTION
naive_5x5_params = 5 * 5 * 64 * 64 + 64
### END SOLUTION
naive_5x5_macs_per_pixel = ...  # an integer
### BEGIN SOLUTION
naive_5x5_macs_per_pixel = 5 * 5 * 64 * 64
### END SOLUTION
bottleneck_5x5_params = ...  # an integer
### BEGIN SOLUTION
bottleneck_5x5_params = (1 * 1 * 64 * 32 + 32) + (5 * 5 * 32 * 64 + 64)
### END SOLUTION
bottleneck_5x5_macs_per_pixel = ...  # an integer
### BEGIN SOLUTION
bottleneck_5x5_macs_per_pixel = 1 * 1 * 64 * 32 + 5 * 5 * 32 * 64
### END SOLUTION

# %%
check("naive_5x5_params", naive_5x5_params)
check("naive_5x5_macs_per_pixel", naive_5x5_macs_per_pixel)
check("bottleneck_5x5_params", bottleneck_5x5_params)
check("bottleneck_5x5_macs_per_pixel", bottleneck_5x5_macs_per_pixel)

# %% [markdown]
# Halving the channels before the 5x5 convolution halves its cost; the 1x1 reduction
# itself is cheap (2,048 MACs against 51,200). The savings grow with the ratio of input
# channels to reduced channels. The paper's own example (Section 4 and Table 1,
# module 3a): the input is **28x28x192**, the 5x5 branch produces **32** channels, and
# the reduction uses **16** channels.
#
# **Exercise 4.** Count the MACs of the whole 28x28 output (one image) for the naive
# 5x5 branch (192 -> 32) and for the reduced one (1x1 192 -> 16, then 5x5 16 -> 32).

# %%
naive_macs_28x28 = ...  # an integer
### BEGIN SOLUTION
naive_macs_28x28 = 28 * 28 * 5 * 5 * 192 * 32
### END SOLUTION
bottleneck_macs_28x28 = ...  # an integer
### BEGIN SOLUTION
bottleneck_macs_28x28 = 28 * 28 * (1 * 1 * 192 * 16 + 5 * 5 * 16 * 32)
### END SOLUTION

# %%
check("naive_macs_28x28", naive_macs_28x28)
check("bottleneck_macs_28x28", bottleneck_macs_28x28)

# %% [markdown]
# Now let the library count the same branches: `cnnlabs.arithmetic` has the formulas
# as functions, and `layer_table` walks a real Keras model layer by layer.

# %%
# NBVAL_CHECK_OUTPUT
inputs = keras.Input((28, 28, 192), name="input_28x28x192")
naive_branch = layers.Conv2D(32, 5, padding="same", activation="relu", name="naive_5x5")(inputs)
reduced = layers.Conv2D(16, 1, padding="same", activation="relu", name="reduce_5x5")(inputs)
reduced_branch = layers.Conv2D(32, 5, padding="same", activation="relu", name="bottleneck_5x5")(reduced)
branches = keras.Model(inputs, [naive_branch, reduced_branch], name="two_5x5_branches")
print(layer_table(branches).render())

library_naive = arithmetic.conv2d_macs(28, 192, 32, 5)
library_bottleneck = arithmetic.conv2d_macs(28, 192, 16, 1) + arithmetic.conv2d_macs(28, 16, 32, 5)
print(f"\n{'':<22}{'naive':>14}{'bottleneck':>14}{'ratio':>8}")
print(f"{'MACs (arithmetic)':<22}{library_naive:>14,}{library_bottleneck:>14,}"
      f"{library_naive / library_bottleneck:>8.1f}")
print(f"MACs (yours) match the library: naive "
      f"{naive_macs_28x28 == library_naive if naive_macs_28x28 is not ... else 'not done yet'}, "
      f"bottleneck "
      f"{bottleneck_macs_28x28 == library_bottleneck if bottleneck_macs_28x28 is not ... else 'not done yet'}")

# %% [markdown]
# ## 4. Do fewer MACs mean less time?
#
# MACs are a proxy. Wall-clock time also depends on memory traffic, on how well each
# kernel shape is implemented, and on how many small layers the framework launches. The
# next cell builds the full module 3a of GoogLeNet both ways (naive with 64/128/32
# filters, and with the paper's reductions 64, 96->128, 16->32, pool proj 32) on a
# 28x28x192 input, and times their forward pass on the same batch in the same run: the
# median of several repeats after one warm-up call.

# %% tags=["figure:time_vs_macs"]
naive_fn = or_reference(naive_module, lambda: fallbacks.inception_naive_module, "inception_naive",
                        probe={"input_shape": (8, 8, 4), "filters_1x1": 2, "filters_3x3": 2,
                               "filters_5x5": 2})
bottleneck_fn = or_reference(
    bottleneck_module, lambda: fallbacks.inception_bottleneck_module, "inception_bottleneck",
    probe={"input_shape": (8, 8, 4), "filters_1x1": 2, "reduce_3x3": 2, "filters_3x3": 2,
           "reduce_5x5": 2, "filters_5x5": 2, "pool_proj": 2})

module_3a = {
    "naive": naive_fn((28, 28, 192), 64, 128, 32),
    "bottleneck": bottleneck_fn((28, 28, 192), 64, 96, 128, 16, 32, 32),
}
batch = np.random.default_rng(0).normal(size=(TIMING_BATCH, 28, 28, 192)).astype("float32")
timings = {}
for name, module in module_3a.items():
    module.predict_on_batch(batch)  # warm-up: builds and traces the graph
    seconds = []
    for _ in range(TIMING_REPEATS):
        start = time.perf_counter()
        module.predict_on_batch(batch)
        seconds.append(time.perf_counter() - start)
    timings[name] = {
        "ms": 1e3 * float(np.median(seconds)),
        "macs": layer_table(module).total_macs,
        "params": module.count_params(),
        "channels": module.output_shape[-1],
    }
for name, t in timings.items():
    print(f"{name:<11} {t['params']:>9,} params  {t['macs'] / 1e6:>7.1f} M MACs/image  "
          f"{t['channels']} output channels  {t['ms']:>8.1f} ms per batch of {TIMING_BATCH} "
          f"(median of {TIMING_REPEATS}, {TIMING_BATCH / t['ms'] * 1e3:,.0f} images/s)")
mac_ratio = timings["naive"]["macs"] / timings["bottleneck"]["macs"]
time_ratio = timings["naive"]["ms"] / timings["bottleneck"]["ms"]
print(f"naive / bottleneck: {mac_ratio:.2f}x the MACs, {time_ratio:.2f}x the time")

fig, (ax_macs, ax_time) = plt.subplots(1, 2, figsize=(9, 3.5), layout="constrained")
names = list(timings)
ax_macs.bar(names, [timings[n]["macs"] / 1e6 for n in names], color=["C3", "C2"])
ax_macs.set(title="Module 3a: arithmetic", xlabel="module",
            ylabel="MACs per image (millions)")
ax_time.bar(names, [timings[n]["ms"] for n in names], color=["C3", "C2"])
ax_time.set(title=f"Module 3a: forward time, batch of {TIMING_BATCH}", xlabel="module",
            ylabel="median wall-clock time (ms)")
plt.show()

# %% [markdown]
# **Question 1.** Is the measured time ratio equal to the MAC ratio? Give two reasons
# why they can differ, and say which of them matter more on a GPU.

# %% [markdown] tags=["student", "answer:time_vs_macs"]
# *Your answer:* YOUR ANSWER HERE

# %% [markdown] tags=["solution", "answer:time_vs_macs"]
# *Model answer.* Usually not exactly. On a CPU the ratio of times is close to, but
# often below, the ratio of MACs: the bottleneck module launches seven convolutions
# instead of three, each with fixed overhead, and 1x1 convolutions do little arithmetic
# per byte moved, so they run below peak; the naive module also writes a much wider
# output (416 channels including the 192 pooled ones, against 256), which costs memory
# traffic that MACs do not count. On a GPU these effects matter more: small kernels
# leave most of the chip idle and the time is dominated by memory bandwidth and kernel
# launches, so the speed-up in time is smaller than in MACs unless the batch is large.
# The paper's argument is mostly about the *budget*: with the reductions, a module can
# be wider and the network deeper at the same cost (the paper designs its models for
# a budget of 1.5 billion multiply-adds at inference, Section 1).

# %% [markdown]
# ## 5. A small GoogLeNet against a plain CNN of the same size
#
# Your `inception_bottleneck` is all it takes to build a GoogLeNet. The next cells
# assemble a scaled-down one for 32x32 images with the layout of the paper's Table 1: a
# convolutional stem, two stages of two Inception modules with max pooling between
# them, and global average pooling instead of fully connected layers (Section 5).
# The branch widths keep the paper's proportions (a quarter to a half of the outputs
# in the 3x3 branch, small 5x5 and pool-projection branches). We compare it with a
# plain VGG-style CNN whose width is chosen so that it has about the same number of
# parameters (counted with the formulas of Section 3), trained with the same optimizer,
# epochs and data, once per seed in `SEEDS`: one run per network cannot tell a real
# difference from the luck of the initialization, so we report the mean and the
# standard deviation over seeds. Every run reads the same images from one
# `cnnlabs.datasets.pipeline`, which shuffles them anew each epoch; the seed sets the
# initialization (and the dropout masks).

# %%
raw = datasets.load(DATASET)
data = raw if raw.x_train is not None else raw.carve_from_test(8_000)
data.require_train()
print(f"Dataset: {data.source}")
# uint8 arrays in; cnnlabs.datasets.pipeline pads them to 32x32 (Fashion-MNIST is 28x28),
# scales them to [0, 1] in float32 and batches them (shuffled every epoch for training).
train_ds = datasets.pipeline(data.x_train, data.y_train, batch_size=BATCH_SIZE, training=True,
                             pad_to=32, subset=TRAIN_EXAMPLES)
test_ds = datasets.pipeline(data.x_test, data.y_test, batch_size=BATCH_SIZE, pad_to=32,
                            subset=TEST_EXAMPLES)
INPUT_SHAPE = tuple(train_ds.element_spec[0].shape[1:])
num_classes = len(data.class_names)
print(f"{DATASET}: {len(data.x_train[:TRAIN_EXAMPLES]):,} training and "
      f"{len(data.x_test[:TEST_EXAMPLES]):,} test images, in batches of {BATCH_SIZE} "
      f"of shape {INPUT_SHAPE}")
if PROFILE.is_smoke:
    print("Smoke profile: Fashion-MNIST padded to 32x32 stands in for CIFAR-10 "
          "(the full profile's dataset).")

PLAIN_STAGES = ((1, 2), (2, 2), (4, 1))  # (filters as a multiple of the width, 3x3 convs)


def plain_cnn(width, input_shape, num_classes):
    """A plain VGG-style CNN: 2 x conv(w), pool, 2 x conv(2w), pool, conv(4w), GAP, softmax."""
    inputs = keras.Input(input_shape)
    x = inputs
    for stage, (multiple, convs) in enumerate(PLAIN_STAGES, start=1):
        for index in range(1, convs + 1):
            x = layers.Conv2D(multiple * width, 3, padding="same", activation="relu",
                              name=f"block{stage}_conv{index}")(x)
        if stage < len(PLAIN_STAGES):
            x = layers.MaxPooling2D(2, name=f"block{stage}_pool")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name=f"plain_cnn_w{width}")


def plain_cnn_params(width, channels, num_classes):
    """The parameters of plain_cnn(width, ...), counted with the formulas of Section 3."""
    params = 0
    for multiple, convs in PLAIN_STAGES:
        for _ in range(convs):
            params += arithmetic.conv2d_params(3, channels, multiple * width)
            channels = multiple * width
    return params + arithmetic.dense_params(channels, num_classes)


module_fn = or_reference(inception_bottleneck, lambda: fallbacks.inception_bottleneck_block,
                         "inception_bottleneck")

# (filters_1x1, reduce_3x3, filters_3x3, reduce_5x5, filters_5x5, pool_proj) per module
SMALL_GOOGLENET = {"3a": (16, 16, 24, 4, 8, 8), "3b": (24, 24, 32, 4, 12, 12),
                   "4a": (32, 32, 48, 8, 16, 16), "4b": (48, 32, 64, 8, 16, 16)}


def small_googlenet(input_shape, num_classes):
    """A GoogLeNet for 32x32 images built from your Inception module."""
    inputs = keras.Input(input_shape)
    x = layers.Conv2D(32, 3, padding="same", activation="relu", name="stem_conv")(inputs)
    x = layers.MaxPooling2D(2, name="stem_pool")(x)  # 16x16
    for name, widths in SMALL_GOOGLENET.items():
        if name == "4a":
            x = layers.MaxPooling2D(2, name="pool3")(x)  # 8x8
        x = module_fn(x, *widths)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    x = layers.Dropout(0.4, name="dropout")(x)  # the paper's 40% dropout before the classifier
    outputs = layers.Dense(num_classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name="small_googlenet")


googlenet = small_googlenet(INPUT_SHAPE, num_classes)
target_params = googlenet.count_params()
# The width whose plain CNN comes closest to GoogLeNet's parameters, counted by formula:
# building the 63 candidate networks to ask Keras would take several seconds.
width = min(range(8, 257, 4), key=lambda w: abs(
    plain_cnn_params(w, INPUT_SHAPE[-1], num_classes) - target_params))
plain = plain_cnn(width, INPUT_SHAPE, num_classes)
for model in (googlenet, plain):
    table = layer_table(model)
    print(f"{model.name:<18} {table.total_params:>10,} parameters  "
          f"{table.total_macs / 1e6:>8.1f} M MACs per image")
formula = plain_cnn_params(width, INPUT_SHAPE[-1], num_classes)
if formula != plain.count_params():
    raise RuntimeError(
        f"plain_cnn_params counts {formula:,} parameters for width {width}, Keras "
        f"{plain.count_params():,}: the formula no longer describes plain_cnn. Make it follow "
        "PLAIN_STAGES again.")
print(f"(plain CNN width {width}: the formulas of Section 3 count its {formula:,} parameters, "
      "as Keras does)")

# %% [markdown]
# *Budget.* Both networks are small: about 8 M (GoogLeNet) and 16 M (plain) MACs per
# 32x32 image, as printed above. The full profile trains each for 10 epochs on 50,000
# CIFAR-10 images: 16 M x 3 (forward and backward) x 50,000 x 10 = 2.4e13 MACs, well
# under a minute of arithmetic on a Colab T4; many small layers and the input pipeline
# make it about 2-4 minutes per network and seed in practice (3 seeds: about 15-20
# minutes). The smoke profile trains each on 2,000 images for 2 epochs with 2 seeds: a
# sanity check that both learn, not a comparison.

# %% tags=["figure:inception_vs_plain"]
builders = {googlenet.name: lambda: small_googlenet(INPUT_SHAPE, num_classes),
            plain.name: lambda: plain_cnn(width, INPUT_SHAPE, num_classes)}
results = {}
for name, build in builders.items():
    print(f"training {name} with seeds {list(PROFILE.cap_seeds(SEEDS))} ...", flush=True)
    results[name] = train_seeds(build, train_ds, seeds=SEEDS, validation_data=test_ds,
                                test_data=test_ds, epochs=EPOCHS, batch_size=BATCH_SIZE,
                                verbose=0)
    runs_ = results[name].runs
    print(f"{name:<18} test accuracy {results[name].mean('test_accuracy'):6.1%} "
          f"+/- {results[name].std('test_accuracy'):.1%} (mean +/- std over {len(runs_)} "
          f"seeds: {', '.join(f'{r.test_accuracy:.1%}' for r in runs_)}; each {runs_[0].budget()})")

gap = results[googlenet.name].mean("test_accuracy") - results[plain.name].mean("test_accuracy")
spread = max(r.std("test_accuracy") for r in results.values())
print(f"GoogLeNet - plain: {gap:+.1%} test accuracy; the larger std over seeds is {spread:.1%}"
      + ("" if len(results[plain.name].runs) > 1 else " (one seed: no spread measured)"))

target = PROFILE.pick(smoke=0.3, full=0.5, grade=0.0)  # grade: not enforced
for name, multi in results.items():
    for result in multi.runs:
        assert result.test_accuracy > target, (
            f"{name} reached only {result.test_accuracy:.1%} test accuracy (chance 10%, "
            f"expected > {target:.0%} after {result.budget()})."
        )
# the training accuracy per epoch; the test accuracy after training is printed above
plotting.plot_history(results, "accuracy", validation=False,
                      title=f"Small GoogLeNet vs plain CNN on {DATASET}: training accuracy "
                      "(mean +/- std over seeds)")

# %% [markdown]
# **Question 2.** At the same number of parameters, which network needs more
# arithmetic per image, and which learned more in the budget? Why does GoogLeNet put
# most of its parameters in 1x1 and 3x3 convolutions and none in fully connected layers?

# %% [markdown] tags=["student", "answer:inception_vs_plain"]
# *Your answer:* YOUR ANSWER HERE

# %% [markdown] tags=["solution", "answer:inception_vs_plain"]
# *Model answer.* Compare the MAC counts printed above: parameters and MACs are
# different budgets, because a convolution's MACs scale with the spatial size it runs
# at while its parameters do not. Which one learned more is read from the printed mean
# +/- std over seeds, not from one run: call a difference real only when the gap
# between the means is clearly larger than the standard deviations (with 2 or 3 seeds,
# at least two to three times). In the smoke run the budget is far too small and the
# spread over seeds is of the same order as the gap, so it does not separate them;
# the full profile's 10 epochs on CIFAR-10 are the run to judge, and its answer is
# whatever the printed numbers say. GoogLeNet replaces the fully connected layers with
# global average pooling (Section 5) because in AlexNet and VGG those layers hold most
# of the parameters (VGG-16's three fully connected layers hold 123.6 M of its 138 M,
# fc1 alone 102.8 M) while adding little: the paper reports that moving from fully
# connected layers to average pooling *improved* top-1 accuracy by about 0.6%, though
# dropout remained essential.

# %% [markdown]
# **Question 3.** The 1x1 reduction is a linear projection to fewer channels followed by
# a ReLU. Why does it not destroy the information the 5x5 convolution needs? When would
# it?

# %% [markdown] tags=["student", "answer:reduction_1x1"]
# *Your answer:* YOUR ANSWER HERE

# %% [markdown] tags=["solution", "answer:reduction_1x1"]
# *Model answer.* Neighbouring channels of a deep feature map are strongly correlated,
# so the useful information lives in a lower-dimensional subspace; a learned 1x1
# projection can keep that subspace (the paper's argument: "even low dimensional
# embeddings might contain a lot of information about a relatively large image patch").
# It fails when the reduction is narrower than the information the branch needs, for
# example very aggressive reductions early in the network where the features are not
# yet redundant; that is why Table 1 reduces the 5x5 branch far more than the 3x3
# branch (16 of 192 channels against 96 in module 3a), where the 5x5 outputs are few.
# (The paper keeps the first layers a conventional convolutional stem for a different
# reason: "technical reasons (memory efficiency during training)", Section 4.)

# %% [markdown]
# ## Summary
#
# - An Inception module runs 1x1, 3x3, 5x5 convolutions and a pooling in parallel and
#   concatenates them along the channels ("same" padding keeps the sizes equal).
# - 1x1 reductions before the large kernels cut the cost by the ratio of input to
#   reduced channels: 120.4 M -> 12.4 M MACs for the 5x5 branch of module 3a.
# - MACs predict time only roughly: memory traffic and many small layers matter too.
# - GoogLeNet spends its budget on width and depth in convolutions, not on fully
#   connected layers.
