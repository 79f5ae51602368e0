# %% [markdown]
# # Lab 5: Residual networks and shortcut connections
#
# Stacking more layers should never hurt: a deeper network could copy a shallower one
# and set the extra layers to the identity. Yet He, Zhang, Ren and Sun found that
# deeper *plain* networks reach a higher **training** error than shallower ones (the
# *degradation problem*): the optimizer fails to find that solution. Their fix is to
# let each block learn a residual $F(x)$ and output $F(x) + x$, so that the identity is
# the easy default (K. He et al., "Deep Residual Learning for Image Recognition",
# *CVPR* 2016; Figure 1 shows the degradation, Figure 2 the block, Section 4.2 and
# Figure 6 the CIFAR-10 experiments that this lab follows).
#
# **After this lab you can**
#
# 1. build the residual block with an identity shortcut and with a projection shortcut;
# 2. count what the shortcut options A, B and C of the paper cost in parameters;
# 3. build the bottleneck block of ResNet-50 and compare its cost with the basic block's;
# 4. run the paper's CIFAR-10 experiment (plain vs residual, shallow vs deep) and read
#    the degradation problem in the *training* error;
# 5. measure how large the gradients reaching the first layers of a plain and of a
#    residual network are, and weigh that evidence against the paper's own diagnosis;
# 6. run a lesion study (Veit et al. 2016) and explain why a residual network survives
#    the removal of one block while a plain network does not.
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
from matplotlib.ticker import MaxNLocator

from cnnlabs import datasets, plotting
from cnnlabs.analysis import layer_table
from cnnlabs.checks import checker, fallbacks, or_reference
from cnnlabs.env import device_report, seed_everything
from cnnlabs.models import build_model
from cnnlabs.profiles import get_profile
from cnnlabs.training import train

# %matplotlib inline
print(device_report())
seed_everything(0)
check = checker("05_resnet")

# %% tags=["parameters"]
# The budget of this run. The full profile (the default, for a Colab GPU) runs the paper's
# comparison at depths 20 and 56 on CIFAR-10. CNNLABS_PROFILE=smoke (CI, a laptop) cannot
# train 56-layer networks on 2 CPU cores in two minutes, so it uses depths 8 and 14 on
# 1,000 Fashion-MNIST images padded to 32x32: it checks that every cell runs and that the
# networks learn, not the paper's result. The grade profile (in which submissions are
# graded) trains each network for one step of 64 images: enough to run every cell.
PROFILE = get_profile()
DATASET = PROFILE.pick(smoke="fashion_mnist", full="cifar10")
DEPTHS = PROFILE.pick(smoke=(8, 14), full=(20, 56), grade=(8,))  # grade: the grading budget
TRAIN_EXAMPLES = PROFILE.pick(smoke=1_000, full=None, grade=64)  # None: all 50,000
TEST_EXAMPLES = PROFILE.pick(smoke=500, full=None, grade=64)
EPOCHS = PROFILE.pick(smoke=2, full=10)
BATCH_SIZE = PROFILE.pick(smoke=32, full=128, grade=64)  # grade: one (eager) step per epoch
# BN moving averages need a few hundred steps to forget their initial values (lab 6):
# the smoke run has only ~60 steps, so it averages faster than Keras's default 0.99.
BN_MOMENTUM = PROFILE.pick(smoke=0.9, full=0.99)
LEARNING_RATE = 1e-3  # Adam; the paper uses SGD 0.1 with momentum for 64k iterations
# one forward and backward pass: affordable even on a CPU (the grade profile, in which the
# grader runs every cell in seconds, uses the smallest network; no answer depends on it)
GRADIENT_DEPTH = PROFILE.pick(smoke=56, full=56, grade=8)
GRADIENT_BATCH = PROFILE.pick(smoke=16, full=128, grade=4)
LESION_EXAMPLES = PROFILE.pick(smoke=500, full=2_000, grade=64, dryrun=100)
# how many of plain-20, ResNet-20 and ResNet-56 Section 2 builds to print their sizes
# (grade: the first; no answer depends on the table)
SIZED_NETWORKS = PROFILE.pick(smoke=3, full=3, grade=1)

# %% [markdown]
# ## 1. The residual block
#
# A basic residual block of the CIFAR ResNets (the paper's Figure 2, with batch
# normalization after every convolution as in Section 3.4) computes
#
# $$y = \text{ReLU}\big(F(x) + x\big), \qquad
#   F(x) = \text{BN}(\text{conv}_{3\times3}(\text{ReLU}(\text{BN}(\text{conv}_{3\times3}(x))))).$$
#
# Both convolutions have `filters` filters, `padding="same"` and **no bias**: the BN
# that follows has its own shift $\beta$, so a bias would be redundant. The addition
# needs $F(x)$ and $x$ to have the same shape, so this *identity* block keeps the
# number of channels and the size of the feature map.
#
# **Exercise 1.** Write `identity_block` with the functional API (`layers.Add()([a, b])`
# adds two tensors). The wrapper below builds a model around it for the check.

# %%
def identity_block(x, filters):
    """Residual block with an identity shortcut (He et al. 2016, Figure 2).

    Args:
        x: Keras tensor of shape (batch, height, width, filters).
        filters: int, channels of both 3x3 convolutions (equal to x's channels).

    Returns:
        Keras tensor of the shape of x: ReLU(BN(conv(ReLU(BN(conv(x))))) + x), with 3x3
        convolutions, padding="same", use_bias=False.
    """
    ### BEGIN SOLUTION
    y = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
    y = layers.BatchNormalization()(y)
    y = layers.ReLU()(y)
    y = layers.Conv2D(filters, 3, padding="same", use_bias=False)(y)
    y = layers.BatchNormalization()(y)
    y = layers.Add()([y, x])
    return layers.ReLU()(y)
    ### END SOLUTION


def identity_block_model(input_shape, filters):
    """Your identity block wrapped in a model (None while the exercise is not done)."""
    inputs = keras.Input(input_shape)
    outputs = identity_block(inputs, filters)
    return None if outputs is None else keras.Model(inputs, outputs, name="identity_block")


# %%
check("identity_block", identity_block_model)

# %% [markdown]
# ## 2. Changing the shape: the projection shortcut
#
# At the start of each stage the network halves the feature map (stride 2) and doubles
# the channels, so $x$ no longer matches $F(x)$. The paper offers three options
# (Section 3.3 and Table 3):
#
# - **A**: keep the identity, subsample it and pad the missing channels with zeros (no
#   parameters; the paper's choice for CIFAR-10);
# - **B**: a 1x1 convolution with stride 2 (a *projection*) where the shape changes,
#   identity elsewhere;
# - **C**: projections in every block.
#
# **Exercise 2.** Write `projection_block` (option B): the first 3x3 convolution of
# $F$ uses `strides`; the shortcut is a 1x1 convolution with `filters` filters, the same
# `strides`, no bias, followed by BN.

# %%
def projection_block(x, filters, strides=2):
    """Residual block with a projection shortcut (He et al. 2016, option B).

    Args:
        x: Keras tensor of shape (batch, height, width, channels).
        filters: int, output channels.
        strides: int, stride of the first 3x3 convolution and of the shortcut (default 2).

    Returns:
        Keras tensor of shape (batch, ceil(height / strides), ceil(width / strides),
        filters): ReLU(F(x) + BN(conv1x1(x))), where F is conv3x3(strides)-BN-ReLU-
        conv3x3-BN; every convolution padding="same", use_bias=False.
    """
    ### BEGIN SOLUTION
    y = layers.Conv2D(filters, 3, strides=strides, padding="same", use_bias=False)(x)
    y = layers.BatchNormalization()(y)
    y = layers.ReLU()(y)
    y = layers.Conv2D(filters, 3, padding="same", use_bias=False)(y)
    y = layers.BatchNormalization()(y)
    shortcut = layers.Conv2D(filters, 1, strides=strides, padding="same", use_bias=False)(x)
    shortcut = layers.BatchNormalization()(shortcut)
    return layers.ReLU()(layers.Add()([y, shortcut]))
    ### END SOLUTION


def projection_block_model(input_shape, filters, strides=2):
    """Your projection block wrapped in a model (None while the exercise is not done)."""
    inputs = keras.Input(input_shape)
    outputs = projection_block(inputs, filters, strides)
    return None if outputs is None else keras.Model(inputs, outputs, name="projection_block")


# %%
check("projection_block", projection_block_model)

# %% [markdown]
# Your two blocks are all a ResNet needs. The next cell assembles the paper's CIFAR-10
# networks from them (Section 4.2): a 3x3 convolution with 16 filters, three stages of
# $n$ blocks with 16, 32 and 64 filters (the first block of stages 2 and 3 halves the
# feature map and doubles the channels), global average pooling and a 10-way softmax:
# $6n + 2$ layers with weights ($n = 3$: ResNet-20, $n = 9$: ResNet-56). The *plain*
# baseline has the same layers without the shortcuts. Where the shape changes, the
# shortcut follows option A (zero padding, the paper's choice for CIFAR-10), B (your
# projection block) or C (projections everywhere). Each block is wrapped in a named
# sub-model (`stage2_block1`, ...), so that Section 6 can remove one.

# %%
def working_block(block, stand_in, what, input_shape, *args):
    """`block` if it builds a block with the right output shape, else `stand_in`, saying why."""
    try:
        got = tuple(block(keras.Input(input_shape), *args).shape)
        want = tuple(stand_in(keras.Input(input_shape), *args).shape)
        if got != want:
            raise ValueError(f"it maps {(None, *input_shape)} to {got}, expected {want}")
        return block
    except Exception as exc:  # a wrong answer must not stop Run All
        print(f"Your {what} cannot build the networks below ({type(exc).__name__}: {exc}); "
              "using the library's block instead so the rest of the lab runs.")
        return stand_in


identity_fn = working_block(
    or_reference(identity_block, lambda: fallbacks.residual_identity_block, "identity_block"),
    fallbacks.residual_identity_block, "identity_block", (8, 8, 16), 16)
projection_fn = working_block(
    or_reference(projection_block, lambda: fallbacks.residual_projection_block,
                 "projection_block"),
    fallbacks.residual_projection_block, "projection_block", (8, 8, 16), 32, 2)


def zero_pad_block(x, filters, strides=2):
    """Option A: the residual branch of projection_block with a parameter-free shortcut
    that keeps every `strides`-th pixel and pads the new channels with zeros."""
    if filters != 2 * x.shape[-1]:
        raise ValueError(f"Option A doubles the channels: expected filters={2 * x.shape[-1]}, "
                         f"got filters={filters}.")
    y = layers.Conv2D(filters, 3, strides=strides, padding="same", use_bias=False)(x)
    y = layers.ReLU()(layers.BatchNormalization()(y))
    y = layers.BatchNormalization()(layers.Conv2D(filters, 3, padding="same", use_bias=False)(y))
    subsampled = layers.MaxPooling2D(1, strides=strides)(x)  # a 1x1 "pooling" = subsampling
    zeros = layers.Subtract()([subsampled, subsampled])  # as many zero channels as x has
    shortcut = layers.Concatenate()([subsampled, zeros])
    return layers.ReLU()(layers.Add()([y, shortcut]))


def plain_block(x, filters, strides=1):
    """The paper's plain baseline: the same two convolutions, no shortcut."""
    y = layers.Conv2D(filters, 3, strides=strides, padding="same", use_bias=False)(x)
    y = layers.ReLU()(layers.BatchNormalization()(y))
    y = layers.Conv2D(filters, 3, padding="same", use_bias=False)(y)
    return layers.ReLU()(layers.BatchNormalization()(y))


def cifar_net(depth, *, residual=True, shortcut="A", input_shape=(32, 32, 3), num_classes=10):
    """The CIFAR-10 network of He et al. (Section 4.2) with depth = 6n + 2 weighted layers."""
    if (depth - 2) % 6:
        raise ValueError(f"depth must be 6n + 2 (8, 14, 20, 32, 44, 56, 110), got {depth}.")
    n = (depth - 2) // 6
    inputs = keras.Input(input_shape, name="image")
    x = layers.Conv2D(16, 3, padding="same", use_bias=False, name="stem_conv")(inputs)
    x = layers.ReLU(name="stem_relu")(layers.BatchNormalization(name="stem_bn")(x))
    for stage, filters in enumerate((16, 32, 64), start=1):
        for index in range(1, n + 1):
            strides = 2 if stage > 1 and index == 1 else 1
            block_input = keras.Input(x.shape[1:])
            if not residual:
                out = plain_block(block_input, filters, strides)
            elif strides == 1 and x.shape[-1] == filters and shortcut != "C":
                out = identity_fn(block_input, filters)
            elif shortcut == "A":
                out = zero_pad_block(block_input, filters, strides)
            else:
                out = projection_fn(block_input, filters, strides)
            x = keras.Model(block_input, out, name=f"stage{stage}_block{index}")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="predictions")(x)
    name = f"resnet{depth}_{shortcut}" if residual else f"plain{depth}"
    model = keras.Model(inputs, outputs, name=name)
    for block in model.layers:
        for layer in getattr(block, "layers", [block]):
            if isinstance(layer, layers.BatchNormalization):
                layer.momentum = BN_MOMENTUM
    return model


# %%
# NBVAL_CHECK_OUTPUT
for depth, residual in ((20, False), (20, True), (56, True))[:SIZED_NETWORKS]:
    model = cifar_net(depth, residual=residual)
    table = layer_table(model)
    print(f"{model.name:<11} {table.total_params:>9,} parameters  {table.total_macs / 1e6:6.1f} M MACs "
          f"per 32x32x3 image, {len(model.layers) - 6} blocks")

# %% [markdown]
# ## 3. What do the shortcut options cost?
#
# Option A adds no parameters. A projection is a 1x1 convolution from `C_in` to
# `C_out` channels without bias (`C_in * C_out` weights) followed by a BN layer, which
# Keras counts as 4 numbers per channel (gamma, beta, moving mean, moving variance):
# `C_in * C_out + 4 * C_out`.
#
# **Exercise 3.** For ResNet-20 (stem with 16 channels; three stages of three blocks
# with 16, 32, 64 filters), how many parameters do option B and option C add to
# option A? Write the integers.

# %%
option_b_extra_params = ...  # an integer
### BEGIN SOLUTION
option_b_extra_params = (16 * 32 + 4 * 32) + (32 * 64 + 4 * 64)
### END SOLUTION
option_c_extra_params = ...  # an integer
### BEGIN SOLUTION
option_c_extra_params = (
    3 * (16 * 16 + 4 * 16)
    + (16 * 32 + 4 * 32) + 2 * (32 * 32 + 4 * 32)
    + (32 * 64 + 4 * 64) + 2 * (64 * 64 + 4 * 64)
)
### END SOLUTION

# %%
check("option_b_extra_params", option_b_extra_params)
check("option_c_extra_params", option_c_extra_params)

# %% [markdown]
# Now count with Keras: build ResNet-20 with each option and compare with your numbers.

# %%
# NBVAL_CHECK_OUTPUT
counts = {option: cifar_net(20, shortcut=option).count_params() for option in "ABC"}
for option, yours in (("B", option_b_extra_params), ("C", option_c_extra_params)):
    keras_extra = counts[option] - counts["A"]
    if yours is ...:
        print(f"option {option}: write your count in Exercise 3 first; this cell then compares "
              "it with Keras's.")
    elif yours == keras_extra:
        print(f"option {option}: your count agrees with Keras's; it adds "
              f"{keras_extra / counts['A']:.1%} to the {counts['A']:,} parameters of option A.")
    else:
        print(f"option {option}: your count {yours!r} differs from Keras's; the check above "
              "says what to look at.")

# %%
# The model zoo's CIFAR ResNets (cnnlabs.models, built independently) should count the same.
zoo_counts = {option: build_model("resnet20", shortcut=option).count_params() for option in "ABC"}
for option in "ABC":
    agree = "agrees" if zoo_counts[option] == counts[option] else "DIFFERS"
    print(f"ResNet-20 option {option}: built from your blocks {counts[option]:,} parameters, "
          f"cnnlabs.models {zoo_counts[option]:,}: {agree}")
if zoo_counts != counts:
    print("Your blocks give networks of another size than the library's: check Exercises 1 "
          "and 2 (biases, the number of layers, the projection's width).")

# %% [markdown]
# The paper found B slightly better than A and C marginally better than B on ImageNet
# (Table 3), but concluded that projections "are not essential for addressing the
# degradation problem": identity shortcuts are free, and they keep the cost of the
# deep bottleneck networks down.
#
# ## 3b. The bottleneck block (ResNet-50/101/152)
#
# For ImageNet networks deeper than 34 layers the paper replaces the basic block by a
# *bottleneck* (Section 4.1, "Deeper Bottleneck Architectures", Figure 5): a 1x1
# convolution reduces the channels to `filters`, a 3x3 convolution works at that
# width, and a second 1x1 convolution restores 4 x `filters` channels, each followed by
# BN (and ReLU, except after the last, where the shortcut is added first):
#
# $$y = \text{ReLU}\big(F(x) + x\big), \qquad
#   F = \text{conv}_{1\times1}^{4f} \circ \text{ReLU}\,\text{BN} \circ
#   \text{conv}_{3\times3}^{f} \circ \text{ReLU}\,\text{BN} \circ \text{conv}_{1\times1}^{f},$$
#
# with BN after the last convolution too, no biases and `padding="same"`.
#
# **Exercise 4.** Write `bottleneck_block` with an identity shortcut: `x` has
# `4 * filters` channels.

# %%
def bottleneck_block(x, filters):
    """Bottleneck residual block with an identity shortcut (He et al. 2016, Figure 5 right).

    Args:
        x: Keras tensor of shape (batch, height, width, 4 * filters).
        filters: int, channels of the 1x1 reduction and of the 3x3 convolution.

    Returns:
        Keras tensor of the shape of x: ReLU(BN(conv1x1(ReLU(BN(conv3x3(ReLU(BN(
        conv1x1(x)))))))) + x), every convolution padding="same", use_bias=False.
    """
    ### BEGIN SOLUTION
    y = x
    for index, (width, size) in enumerate(((filters, 1), (filters, 3), (4 * filters, 1))):
        if index > 0:
            y = layers.ReLU()(y)  # after the first two BNs only: the last one is added to x
        y = layers.Conv2D(width, size, padding="same", use_bias=False)(y)
        y = layers.BatchNormalization()(y)
    return layers.ReLU()(y + x)
    ### END SOLUTION


def bottleneck_block_model(input_shape, filters):
    """Your bottleneck block wrapped in a model (None while the exercise is not done)."""
    inputs = keras.Input(input_shape)
    outputs = bottleneck_block(inputs, filters)
    return None if outputs is None else keras.Model(inputs, outputs, name="bottleneck_block")


# %%
check("bottleneck_block", bottleneck_block_model)

# %% [markdown]
# Why bother? Figure 5 of the paper puts a basic block on 64 channels (two 3x3
# convolutions, 64 -> 64) next to a bottleneck block on **256** channels (1x1 256 -> 64,
# 3x3 64 -> 64, 1x1 64 -> 256) and says the two have similar time complexity.
#
# **Exercise 5.** How many convolution weights (no BN, no biases) does that bottleneck
# block on 256 channels have? Write the integer.

# %%
bottleneck_256_weights = ...  # an integer
### BEGIN SOLUTION
bottleneck_256_weights = 256 * 64 + 3 * 3 * 64 * 64 + 64 * 256
### END SOLUTION

# %%
check("bottleneck_256_weights", bottleneck_256_weights)

# %%
# Keras counts both blocks of Figure 5, weights and MACs per position, with your blocks
# (the basic block is your identity block of Exercise 1, or the library's).
try:
    bottleneck_256 = bottleneck_block_model((8, 8, 256), 64)
except Exception as exc:  # a wrong answer must not stop Run All
    print(f"Your bottleneck_block raised {type(exc).__name__}: {exc}; the check above says "
          "what to fix.")
    bottleneck_256 = None
basic_input = keras.Input((8, 8, 64))
basic_64 = keras.Model(basic_input, identity_fn(basic_input, 64), name="basic_block_64")
blocks = {"basic block on 64 channels": basic_64}
if bottleneck_256 is None:
    print("Exercise 'bottleneck_block' is not done yet (or raised): only the basic block is "
          "counted.")
else:
    blocks["bottleneck block on 256 channels"] = bottleneck_256
for name, block in blocks.items():
    table = layer_table(block)
    weights = sum(row.params for row in table.rows if row.type == "Conv2D")
    print(f"{name:<34} {weights:>7,} convolution weights  "
          f"{table.total_macs / 64:>8,.0f} MACs per position (8x8 map)")

# %% [markdown]
# The bottleneck block works on four times as many channels for about the same
# arithmetic: the expensive 3x3 convolution runs at the reduced width. That is how
# ResNet-50 (16 bottleneck blocks) costs 3.8 billion FLOPs (the paper's multiply-adds)
# against 3.6 billion for ResNet-34 (Table 1), while being deeper and more accurate.
#
# ## 4. The degradation problem
#
# The paper's Figure 6 trains plain and residual networks of 20, 32, 44, 56 and 110
# layers on CIFAR-10: the deeper *plain* networks have a higher **training** error
# (so this is not overfitting), while deeper ResNets have a lower one. We train four
# networks with the same optimizer (Adam), data and epochs: plain and residual
# (option A, as in the paper), at the depths in `DEPTHS`.
#
# *Budget.* ResNet-56 costs about 125 M MACs per 32x32 image forward and ResNet-20
# about 41 M (printed above); training is about 3x that. The full profile trains 4
# networks x 10 epochs x 50,000 images: (2 x 125 + 2 x 41) M x 3 x 50,000 x 10 =
# 5e14 MACs, about 10 minutes on a Colab T4 (roughly 1 TMAC/s achieved), plus about
# a minute for Sections 5 and 6: the whole lab takes about 12-15 minutes. The paper
# trains for 64,000 iterations of batch 128 (164 epochs), 16x longer: our curves show
# the start of its Figure 6. The smoke profile trains depths 8 and 14 on 1,000 images
# for 2 epochs, far too little to show degradation: there the cell only checks that
# everything runs and learns, and says so.

# %%
raw = datasets.load(DATASET)
data = raw if raw.x_train is not None else raw.carve_from_test(8_000)
data.require_train()
print(f"Dataset: {data.source}")
# uint8 arrays in; cnnlabs.datasets.pipeline pads them to 32x32 (Fashion-MNIST is 28x28),
# scales them to [0, 1] in float32 and batches them (shuffled every epoch for training).
# Sections 5 and 6 take images into memory with cnnlabs.datasets.to_float, which pads
# and scales them the same way.
x_train, y_train = data.x_train[:TRAIN_EXAMPLES], data.y_train[:TRAIN_EXAMPLES]
train_ds = datasets.pipeline(x_train, y_train, batch_size=BATCH_SIZE, training=True, pad_to=32)
test_ds = datasets.pipeline(data.x_test, data.y_test, batch_size=BATCH_SIZE, pad_to=32,
                            subset=TEST_EXAMPLES)
INPUT_SHAPE = tuple(train_ds.element_spec[0].shape[1:])
num_classes = len(data.class_names)
print(f"{DATASET}: {len(x_train):,} training and {len(data.x_test[:TEST_EXAMPLES]):,} test "
      f"images, in batches of {BATCH_SIZE} of shape {INPUT_SHAPE}")
if PROFILE.is_smoke:
    print(f"Smoke profile: Fashion-MNIST padded to 32x32 stands in for CIFAR-10, depths {DEPTHS} "
          "stand in for (20, 56).")

# %%
runs = {}
for residual in (False, True):
    for depth in DEPTHS:
        seed_everything(0)
        model = cifar_net(depth, residual=residual, input_shape=INPUT_SHAPE,
                          num_classes=num_classes)
        print(f"training {model.name} ({EPOCHS} epochs of {len(x_train):,} images) ...",
              flush=True)
        result = train(model, train_ds, test_data=test_ds, epochs=EPOCHS, batch_size=BATCH_SIZE,
                       learning_rate=LEARNING_RATE, verbose=0)
        runs[model.name] = result
        print(f"{model.name:<11} training error {1 - result.history['accuracy'][-1]:6.1%}  "
              f"test error {1 - result.test_accuracy:6.1%}  ({result.budget()})")

target = PROFILE.pick(smoke=0.3, full=0.6, grade=0.0)  # grade: not enforced
for name, result in runs.items():
    assert result.test_accuracy > target, (
        f"{name} reached only {result.test_accuracy:.1%} test accuracy (chance 10%, expected > "
        f"{target:.0%} after {result.budget()})."
    )

# %% tags=["figure:degradation"]
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), layout="constrained", sharey=True)
for ax, residual in zip(axes, (False, True)):
    for depth, style in zip(DEPTHS, ("-", "--")):
        name = f"resnet{depth}_A" if residual else f"plain{depth}"
        history = runs[name].history
        epochs = np.arange(1, len(history["accuracy"]) + 1)
        ax.plot(epochs, 100 * (1 - np.asarray(history["accuracy"])), style, marker="o",
                label=f"{name}: training error")
    ax.set(title=f"{'Residual' if residual else 'Plain'} networks on {DATASET}",
           xlabel="epoch", ylabel="training error (%)")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(fontsize="small")
plt.show()
if PROFILE.is_smoke:
    print("Smoke budget: far too short to show the degradation problem. The full profile "
          "(10 epochs of the 50,000 CIFAR-10 images at depths 20 and 56) shows it.")

# %% [markdown]
# **Question 1.** Why does the paper look at the *training* error to argue that deeper
# plain networks are harder to optimize, rather than at the test error? What does your
# run show for the deeper vs the shallower plain network, and for the two ResNets?

# %% [markdown] tags=["student", "answer:degradation"]
# *Your answer:* YOUR ANSWER HERE

# %% [markdown] tags=["solution", "answer:degradation"]
# *Model answer.* A higher test error of a deeper network could be overfitting; a
# higher *training* error cannot be, because the deeper network could represent the
# shallower one exactly (extra layers as identities) and so reach at least the same
# training error. If it does not, the optimizer fails to find that solution: an
# optimization problem, which is what the paper calls degradation. What to look for
# in the figure: degradation shows as the deeper *plain* curve lying above the
# shallower one (a higher training error after the same epochs), while the deeper
# *residual* curve lies at or below the shallower one. Read your own run: each network
# was trained once, so a gap of a point or two may be luck of the initialization, and
# the smoke profile (2 epochs of 1,000 images, depths 8 and 14) is far too short to
# show it at all. The paper (Figure 6, Table 6) reports the effect after full training:
# the 56-layer plain net has a higher training and test error than the 20-layer one,
# while ResNet-56 (6.97% test error) beats ResNet-20 (8.75%).

# %% [markdown]
# ## 5. How large are the gradients that reach the first layers?
#
# A tempting explanation of degradation is vanishing gradients. The paper rules it
# out (Section 4.1): its plain networks use batch normalization, which keeps the
# forward signals at non-zero variance, and the authors "verify that the backward
# propagated gradients exhibit healthy norms with BN", so degradation is "unlikely to
# be caused by vanishing gradients". They conjecture instead that deep plain networks
# have exponentially low convergence rates, and leave the reason open.
#
# Here is evidence to weigh against that view. At initialization, how large is the
# gradient of the loss with respect to each layer's kernel? In a plain network the
# gradient reaching the first layers is a product of one Jacobian per layer, so its
# size *can* drift with depth; in a residual network each block adds an identity term
# to its Jacobian, so there is always a direct path back. The next cell measures the
# gradient norm of every kernel of freshly initialized networks of depth
# `GRADIENT_DEPTH` on one batch. Whether the plain network's norms vanish, explode or
# stay healthy is what you read off the plot, not what you assume.

# %% tags=["figure:gradient_norms"]
def kernel_gradient_norms(model, x, y):
    """||dL/dW|| of every convolution and dense kernel, from the input to the output."""
    loss_fn = keras.losses.SparseCategoricalCrossentropy()
    with tf.GradientTape() as tape:
        loss = loss_fn(y, model(x, training=True))
    kernels = [w for w in model.trainable_weights if w.path.endswith("kernel")]
    return {w.path: float(tf.norm(g)) for w, g in zip(kernels, tape.gradient(loss, kernels))}


batch_x = datasets.to_float(x_train, pad_to=32, subset=GRADIENT_BATCH)  # the pipeline's pixels
batch_y = y_train[:GRADIENT_BATCH]
norms = {}
start = time.perf_counter()
for residual in (False, True):
    seed_everything(0)
    model = cifar_net(GRADIENT_DEPTH, residual=residual, input_shape=INPUT_SHAPE,
                      num_classes=num_classes)
    norms[model.name] = kernel_gradient_norms(model, batch_x, batch_y)
print(f"gradient norms of 2 networks of depth {GRADIENT_DEPTH} on one batch of {len(batch_x)} "
      f"images in {time.perf_counter() - start:.1f} s")

fig, ax = plt.subplots(figsize=(8, 3.8), layout="constrained")
for name, values in norms.items():
    ax.semilogy(np.arange(1, len(values) + 1), list(values.values()), "o-", markersize=3,
                label=name)
ax.set(title=f"Gradient norm of each kernel at initialization (depth {GRADIENT_DEPTH})",
       xlabel="layer with weights (1 = the stem, closest to the input)",
       ylabel="||dL/dW|| (log scale)")
ax.legend(fontsize="small")
plt.show()
for name, values in norms.items():
    v = np.asarray(list(values.values()))
    print(f"{name:<11} first 5 conv layers / last 5 conv layers: {v[:5].mean() / v[-6:-1].mean():8.3g}; "
          f"largest / smallest over all layers: {v.max() / v.min():8.3g}")

# %% [markdown]
# **Question 2.** Describe the two curves, using the two printed ratios. Do the plain
# network's first layers receive vanishing gradients? Does your measurement support
# the paper's statement that the gradients of its BN plain networks have healthy
# norms, and does it explain degradation by itself?

# %% [markdown] tags=["student", "answer:gradient_norms"]
# *Your answer:* YOUR ANSWER HERE

# %% [markdown] tags=["solution", "answer:gradient_norms"]
# *Model answer.* Read the answer from the printed ratios (first five / last five conv
# layers, largest / smallest). If the plain network's ratio of first to last layers is
# 1 or above, its first layers do not receive vanishing gradients: with batch
# normalization the gradients of a plain network typically stay as large or grow
# towards the input at initialization, which agrees with the paper's "healthy norms"
# and its conclusion that vanishing gradients do not explain degradation. A large
# spread (largest / smallest far from 1) in the plain network but not in the residual
# one would mean its layers see badly scaled gradients, so one learning rate suits
# them less well; that is a possible contributor to slow optimization, but the
# measurement is one batch at initialization of one seed, and it does not show that
# this is what makes the deeper plain network train worse later on (the paper leaves
# the cause open: "exponentially low convergence rates"). In the residual network
# every block has an identity term in its Jacobian, so the gradient at any layer
# includes the gradient at the output passed straight back, and its norms stay within
# a small factor of each other.

# %% [markdown]
# ## 6. Lesion study: remove one block at a time
#
# Veit, Wilber and Belongie (*NeurIPS* 2016, "Residual networks behave like ensembles
# of relatively shallow networks") deleted single blocks from a trained ResNet at test
# time: the error barely moved, except for the blocks that downsample, while deleting
# any layer of a plain network (VGG) destroyed it. Their reading: a ResNet is an
# ensemble of many paths of different lengths, and removing one block removes only
# half of the paths. Removing block $i$ of a residual network keeps its shortcut
# ($y = x$); removing a block of a plain network connects its input straight to the next
# block. Only blocks whose input and output shapes agree can be removed. The lesioned
# networks share the trained weights: nothing is retrained.

# %% tags=["figure:lesion"]
def without_block(model, removed):
    """The trained network with the block `removed` replaced by the identity."""
    inputs = keras.Input(model.input_shape[1:])
    x = inputs
    for layer in model.layers[1:]:  # the top level is a chain: stem, blocks, head
        if layer.name != removed:
            x = layer(x)
    return keras.Model(inputs, x, name=f"{model.name}_without_{removed}")


def accuracy(model, x, y, batch_size=250):
    """Test accuracy in inference mode (plain forward passes: no compilation needed)."""
    predictions = [np.argmax(keras.ops.convert_to_numpy(model(x[i:i + batch_size], training=False)),
                             axis=1) for i in range(0, len(x), batch_size)]
    return float(np.mean(np.concatenate(predictions) == y))


x_lesion = datasets.to_float(data.x_test, pad_to=32, subset=LESION_EXAMPLES)
y_lesion = data.y_test[:LESION_EXAMPLES]
lesion_results = {}
start = time.perf_counter()
for name in (f"plain{DEPTHS[-1]}", f"resnet{DEPTHS[-1]}_A"):
    trained = runs[name].model
    removable = [layer.name for layer in trained.layers
                 if layer.name.startswith("stage") and layer.input_shape == layer.output_shape]
    baseline = accuracy(trained, x_lesion, y_lesion)
    accuracies = {block: accuracy(without_block(trained, block), x_lesion, y_lesion)
                  for block in removable}
    lesion_results[name] = (baseline, accuracies)
print(f"lesion study: {sum(len(a) for _, a in lesion_results.values())} lesioned networks "
      f"evaluated on {len(x_lesion):,} test images in {time.perf_counter() - start:.1f} s")

fig, ax = plt.subplots(figsize=(9, 3.8), layout="constrained")
for index, (name, (baseline, accuracies)) in enumerate(lesion_results.items()):
    color = f"C{index}"
    ax.plot(range(len(accuracies)), list(accuracies.values()), "o-", color=color,
            label=f"{name}, one block removed")
    ax.axhline(baseline, color=color, linestyle="--", label=f"{name}, intact")
    ax.set_xticks(range(len(accuracies)), list(accuracies), rotation=30, fontsize="small")
ax.axhline(0.1, color="k", linestyle=":", label="chance")
ax.set(title="Test accuracy after removing one block (no retraining)",
       xlabel="removed block", ylabel="test accuracy (fraction)")
ax.legend(fontsize="small")
plt.show()
for name, (baseline, accuracies) in lesion_results.items():
    values = list(accuracies.values())
    print(f"{name:<11} intact {baseline:.1%}; one block removed: mean {np.mean(values):.1%}, "
          f"worst {min(values):.1%}")

# %% [markdown]
# **Question 3.** Which network survives the removal of a block, and why? Which blocks
# of the ResNet hurt most when removed?

# %% [markdown] tags=["student", "answer:lesion"]
# *Your answer:* YOUR ANSWER HERE

# %% [markdown] tags=["solution", "answer:lesion"]
# *Model answer.* The residual network keeps most of its accuracy when one identity
# block is removed; the plain network drops sharply, often to near chance, because
# every later layer was trained on the exact output of the removed one and there is no
# other path. In the ResNet, removing block $i$ only removes the paths through its
# residual branch; the shortcut still delivers $x$, which the following blocks were
# trained to receive (plus small residual corrections), so the network behaves like an
# ensemble that lost some members (Veit et al. 2016). Which blocks hurt most is read
# from the plot: look for the removed blocks with the lowest accuracy; Veit et al.
# found them to be the blocks whose residual branch does most of the work (large
# $F(x)$ relative to $x$), notably the downsampling blocks, which cannot be removed
# here because their input and output shapes differ. (In the smoke profile both
# networks are trained for two epochs of 1,000 images and once each, so the contrast
# may be weak; the full profile is the run to judge.)

# %% [markdown]
# ## Summary
#
# - A residual block outputs ReLU(F(x) + x); when shapes change, a projection (1x1
#   convolution with stride) or zero-padding (option A) makes them match.
# - Projections cost parameters (Exercise 3 counted them for ResNet-20) and bring
#   little; identity shortcuts are free.
# - The bottleneck block (1x1-3x3-1x1) works on four times the channels of a basic
#   block for about the same number of weights (Exercise 5): the 3x3 convolution runs
#   at the reduced width.
# - Deeper plain networks train worse (degradation); residual networks do not.
# - The paper finds that degradation is not caused by vanishing gradients (its BN plain
#   networks have healthy gradient norms); gradients reach the first layers of a
#   residual network through the shortcuts.
# - A trained ResNet survives the removal of single blocks, a plain network does not.
