# %% [markdown]
# # Lab 3: VGG, small kernels and receptive fields
#
# Simonyan and Zisserman asked one question: what happens if a convolutional network
# gets deeper while every convolution stays 3x3? ("Very deep convolutional networks for
# large-scale image recognition", K. Simonyan and A. Zisserman, arXiv:1409.1556, 2014;
# ICLR 2015.) Their 16- and 19-layer networks took second place in ImageNet 2014
# classification and first in localization, and their uniform design (3x3
# convolutions, 2x2 pooling, channels doubling after each pooling) became the default
# backbone for years.
#
# **After this lab you can**
#
# 1. compute a network's receptive field with the recurrence, layer by layer;
# 2. measure it from gradients, and see that the *effective* receptive field is smaller
#    than the theoretical one;
# 3. explain, with parameter and MAC counts, why two 3x3 convolutions beat one 5x5;
# 4. account for VGG-16's 138 million parameters and see where its memory goes;
# 5. train a small VGG and report its budget.

# %%
from cnnlabs.env import quiet_tensorflow

quiet_tensorflow()  # imports TensorFlow without its C++ start-up notices

import time

import keras
import numpy as np
import tensorflow as tf
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from cnnlabs import arithmetic, datasets, plotting
from cnnlabs.analysis import layer_table
from cnnlabs.checks import checker, or_reference
from cnnlabs.env import device_report, seed_everything
from cnnlabs.models import build_model
from cnnlabs.profiles import get_profile
from cnnlabs.training import train, train_seeds

# %matplotlib inline
print(device_report())
seed_everything(0)
check = checker("03_vgg_receptive_fields")

# %% tags=["parameters"]
# The budget. Written for CIFAR-10 on a Colab GPU; CNNLABS_PROFILE=smoke (CI, a
# laptop without CIFAR-10) uses Fashion-MNIST padded to 32x32, with small subsets. The
# grade profile (in which submissions are graded) trains and tests on 32 images (no graded
# answer depends on them).
PROFILE = get_profile()
DATASET = PROFILE.pick(smoke="fashion_mnist", full="cifar10")
TRAIN_EXAMPLES = PROFILE.pick(smoke=4_000, full=None, grade=32)  # None: the whole training split
TEST_EXAMPLES = PROFILE.pick(smoke=1_000, full=None, grade=32)
EPOCHS = PROFILE.pick(smoke=2, full=30)
BATCH_SIZE = PROFILE.pick(smoke=64, full=128)
MODEL = PROFILE.pick(smoke="vgg11_small", full="vgg16_small")
# Smoke: a quarter of the paper's widths and no batch normalization (with a few dozen
# steps, BN's running statistics, used at test time, have not settled; see Lab 6).
MODEL_OPTIONS = PROFILE.pick(smoke={"width_multiplier": 0.25, "batch_norm": False}, full={})
ERF_IMAGES = PROFILE.pick(smoke=8, full=64)  # images averaged for the effective RF
# Does depth help? Configuration A (8 convolutions) against D (13), same budget each
# (the grade profile trains D only: A is the model of Section 5).
DEPTH_MODELS = PROFILE.pick(smoke=("vgg11_small", "vgg16_small"),
                            full=("vgg11_small", "vgg16_small"), grade=("vgg16_small",))
DEPTH_EXAMPLES = PROFILE.pick(smoke=2_000, full=20_000, grade=32)
DEPTH_EPOCHS = PROFILE.pick(smoke=2, full=10)
DEPTH_SEEDS = PROFILE.pick(smoke=(0, 1), full=(0, 1, 2))

# %% [markdown]
# ## 1. Receptive fields by hand
#
# The receptive field (RF) of a unit is the patch of the input that can influence
# it. Follow one axis through a chain of layers (convolutions or poolings) with
# kernel $k_l$ and stride $s_l$. Write $r_l$ for the RF size after layer $l$ and $j_l$
# for the *jump*: the distance, in input pixels, between two neighbouring units of
# layer $l$. Starting from the input ($r_0 = 1$, $j_0 = 1$):
#
# $$r_l = r_{l-1} + (k_l - 1)\, j_{l-1}, \qquad j_l = j_{l-1}\, s_l .$$
#
# A 3x3 kernel adds 2 units of the previous layer, and each of those is $j_{l-1}$
# input pixels apart: after a stride-2 pooling every later layer grows the RF twice
# as fast. (Padding shifts where the RF sits, not its size.)
#
# **Exercise 1.** Write `receptive_fields`.

# %%
def receptive_fields(layers):
    """Receptive-field size after each layer of a chain, by the recurrence.

    Args:
        layers: list of (kernel_size, stride) pairs, input side first.

    Returns:
        list of int: r_1, ..., r_L, the receptive field (in input pixels, along one
        axis) of a unit after each layer.
    """
    ### BEGIN SOLUTION
    size, jump, sizes = 1, 1, []
    for kernel, stride in layers:
        size += (kernel - 1) * jump
        jump *= stride
        sizes.append(size)
    return sizes
    ### END SOLUTION


# %%
check("receptive_fields", receptive_fields)

# %% [markdown]
# VGG-16, layer by layer: your recurrence next to `cnnlabs.analysis.layer_table`, which
# walks the Keras graph of `build_model("vgg16")`.

# %%
# NBVAL_CHECK_OUTPUT
vgg16 = build_model("vgg16")
table = layer_table(vgg16)
spatial = [row for row in table.rows if row.type in ("Conv2D", "MaxPooling2D")]
chain = [(3, 1) if row.type == "Conv2D" else (2, 2) for row in spatial]
rf_fn = or_reference(receptive_fields,
                     lambda: lambda layers: [rf.size for rf in arithmetic.receptive_field(layers)],
                     "your receptive_fields", probe={"layers": [(3, 1), (2, 2)]},
                     accept=lambda sizes: len(sizes) == 2)
print(f"{'layer':<14}{'output':<23}{'RF (yours)':>11}{'RF (library)':>14}{'jump':>6}")
for row, yours in zip(spatial, rf_fn(chain)):
    print(f"{row.name:<14}{str(row.output_shape):<23}{yours:>11}{str(row.rf):>14}{str(row.jump):>6}")

# %% [markdown]
# A unit of `block5_conv3` sees 196x196 pixels of a 224x224 image: almost all of it.
# Without the poolings, 13 stacked 3x3 convolutions would see only 27x27 pixels.

# %% [markdown]
# ## 2. Measuring the receptive field
#
# The recurrence gives the *theoretical* RF: the pixels that can influence a unit at
# all. How much each pixel actually matters is measured by the gradient of the unit
# with respect to the input: $|\partial y / \partial x_{u,v}|$ for the unit $y$ at the
# centre of a feature map, averaged over many images. Luo et al. ("Understanding the
# effective receptive field in deep convolutional neural networks", NIPS 2016)
# showed that this gradient is roughly Gaussian and occupies only a fraction of the
# theoretical RF: the *effective* receptive field.
#
# The two functions below do the measurement with `tf.GradientTape`: read them, they
# are the whole method.

# %%
def input_gradient(model, layer_name, images):
    """Mean |d(centre unit of layer_name) / d(input)| over images, summed over channels.

    Returns an array (height, width) over the input pixels.
    """
    features = keras.Model(model.inputs, model.get_layer(layer_name).output)
    x = tf.convert_to_tensor(images)
    with tf.GradientTape() as tape:
        tape.watch(x)
        maps = features(x, training=False)
        centre = maps[:, maps.shape[1] // 2, maps.shape[2] // 2, :]
        total = tf.reduce_sum(centre)
    gradient = tape.gradient(total, x).numpy()
    return np.abs(gradient).sum(axis=-1).mean(axis=0)


def effective_extent(gradient_map, mass=0.95):
    """Side (pixels) of the smallest window around the gradient's peak holding `mass`
    of its total, along the rows' profile."""
    profile = gradient_map.sum(axis=0)
    peak, total = int(np.argmax(profile)), profile.sum()
    for half in range(len(profile)):
        if profile[max(0, peak - half) : peak + half + 1].sum() >= mass * total:
            return 2 * half + 1
    return len(profile)


def plot_gradient_map(gradient_map, theory, title):
    """Heat map of the input gradient with the theoretical RF drawn as a square."""
    fig = Figure(figsize=(9, 3.8), layout="constrained")
    ax, profile_ax = fig.subplots(1, 2)
    image = ax.imshow(gradient_map / gradient_map.max(), cmap="viridis")
    centre = np.array(np.unravel_index(np.argmax(gradient_map), gradient_map.shape))
    half = theory / 2
    ax.add_patch(Rectangle((centre[1] - half, centre[0] - half), theory, theory, fill=False,
                           edgecolor="white", linestyle="--", label=f"theoretical RF {theory}px"))
    ax.set_xlabel("input column (pixels)")
    ax.set_ylabel("input row (pixels)")
    ax.set_title("|gradient| of the centre unit (normalized)", fontsize="medium")
    ax.legend(loc="lower right", fontsize="small")
    fig.colorbar(image, ax=ax, label="fraction of the maximum")
    profile = gradient_map.sum(axis=0)
    profile_ax.plot(np.arange(len(profile)), profile / profile.max(), marker=".")
    profile_ax.axvspan(centre[1] - half, centre[1] + half, alpha=0.15, color="gray",
                       label="theoretical RF")
    profile_ax.set_xlabel("input column (pixels)")
    profile_ax.set_ylabel("summed |gradient| (fraction of the maximum)")
    profile_ax.set_title("profile along the columns", fontsize="medium")
    profile_ax.legend(fontsize="small")
    fig.suptitle(title)
    return fig


# %%
seed_everything(0)
probe = build_model(MODEL, input_shape=(64, 64, 1), num_classes=10, **MODEL_OPTIONS)
LAYER = "block3_pool"
rng = np.random.default_rng(0)
noise = rng.normal(size=(ERF_IMAGES, 64, 64, 1)).astype("float32")
start = time.perf_counter()
untrained_map = input_gradient(probe, LAYER, noise)
theory = layer_table(probe).row(LAYER).rf
print(f"{MODEL} (untrained), centre unit of {LAYER}: theoretical RF {theory} px; 95% of the "
      f"gradient within {effective_extent(untrained_map)} px "
      f"({ERF_IMAGES} noise images, {time.perf_counter() - start:.1f} s)")
plot_gradient_map(untrained_map, theory,
                  f"Effective receptive field of {LAYER} in an untrained {MODEL}, 64x64 input")

# %% [markdown]
# ## 3. Two 3x3 convolutions or one 5x5?
#
# Section 2.3 of the paper: a stack of two 3x3 convolutions (stride 1, no pooling in
# between) has a 5x5 receptive field, and three have 7x7. Why not one large kernel?
# With $C$ channels in and out, one $k \times k$ layer has $k^2 C^2$ weights; the
# stack has fewer, and it puts a ReLU after each layer, so the function is more
# non-linear ("more discriminative").
#
# **Exercise 2.** Write the three as functions of the kernel size $k$, the depth of
# the stack, the channels $C$ (in and out) and the map's side ("same" padding, so the
# maps keep their size): the receptive field, the parameters (with biases) and the
# MACs (without biases). Python arithmetic only. The check tries two 3x3 layers and
# one 5x5 layer with 64 channels on a 56x56 map; the grader tries other stacks.

# %%
def stack_receptive_field(k, depth):
    """Receptive field (pixels, one axis) of depth stacked k x k convolutions, stride 1."""
    ### BEGIN SOLUTION
    return 1 + depth * (k - 1)
    ### END SOLUTION


def stack_params(k, depth, channels):
    """Parameters, biases included, of depth k x k convolutions from C to C channels."""
    ### BEGIN SOLUTION
    return depth * (k * k * channels + 1) * channels
    ### END SOLUTION


def stack_macs(k, depth, channels, size):
    """MACs of that stack on one size x size map (biases not counted)."""
    ### BEGIN SOLUTION
    return depth * size * size * channels * (k * k * channels)
    ### END SOLUTION


# %%
check("stack_receptive_field", stack_receptive_field)
check("stack_params", stack_params)
check("stack_macs", stack_macs)

# %% [markdown]
# The same comparison for every stack depth, from the library's formulas
# (`cnnlabs.arithmetic`), 64 channels on a 56x56 map:

# %%
# NBVAL_CHECK_OUTPUT
C, SIDE = 64, 56
print(f"{'design':<18}{'RF':>4}{'ReLUs':>7}{'parameters':>12}{'MACs':>15}{'params vs one kxk':>19}")
for depth in (2, 3):
    rf = arithmetic.stacked_receptive_field(depth, 3)
    params_3x3 = depth * arithmetic.conv2d_params(3, C, C)
    macs_3x3 = depth * arithmetic.conv2d_macs((SIDE, SIDE), C, C, 3)
    big_params = arithmetic.conv2d_params(rf, C, C)
    big_macs = arithmetic.conv2d_macs((SIDE, SIDE), C, C, rf)
    print(f"{f'{depth} x 3x3':<18}{rf:>4}{depth:>7}{params_3x3:>12,}{macs_3x3:>15,}"
          f"{params_3x3 / big_params:>18.0%}")
    print(f"{f'1 x {rf}x{rf}':<18}{rf:>4}{1:>7}{big_params:>12,}{big_macs:>15,}{1:>18.0%}")

# %% [markdown]
# ## 4. VGG-16: 138 million parameters, and where the memory goes
#
# Table 1 of the paper lists configurations A (11 weight layers) to E (19). Each has
# five blocks of 3x3 "same" convolutions with 64, 128, 256, 512 and 512 filters,
# each block closed by a 2x2 max pooling with stride 2, then three fully connected
# layers: 4096, 4096 and one unit per class.
#
# **Exercise 3.** Write `vgg_params`: the total number of parameters (weights and
# biases) of a VGG network given the number of convolutions in each block.

# %%
def vgg_params(convs_per_block, input_size=224, in_channels=3, num_classes=1000):
    """Parameters of a VGG network (Simonyan and Zisserman 2014, Table 1).

    Args:
        convs_per_block: 5 ints, the number of 3x3 convolutions in each block,
            e.g. (2, 2, 3, 3, 3) for VGG-16 (configuration D). The blocks have 64,
            128, 256, 512 and 512 filters and end with a 2x2/2 max pooling.
        input_size: int, side of the square input image (a multiple of 32).
        in_channels: int, channels of the input image.
        num_classes: int, units of the last fully connected layer.

    Returns:
        int, the number of parameters, including the three fully connected layers
        (4096, 4096, num_classes).
    """
    ### BEGIN SOLUTION
    total, channels = 0, in_channels
    for convs, filters in zip(convs_per_block, (64, 128, 256, 512, 512)):
        for _ in range(convs):
            total += (3 * 3 * channels + 1) * filters
            channels = filters
    features = (input_size // 32) ** 2 * channels
    for units in (4096, 4096, num_classes):
        total += (features + 1) * units
        features = units
    return total
    ### END SOLUTION


# %%
check("vgg_params", vgg_params)

# %% [markdown]
# Parameters are one cost; memory during training is another. Every activation of
# the forward pass is kept for the backward pass. Per layer, compare the activations
# one image produces with the layer's weights (float32: 4 bytes each).

# %%
# NBVAL_CHECK_OUTPUT
params_fn = or_reference(vgg_params, lambda: lambda *a, **k: table.total_params,
                         "your vgg_params", probe={"convs_per_block": (2, 2, 3, 3, 3)},
                         accept=lambda count: isinstance(count, (int, np.integer)))
print(f"VGG-16 parameters: yours {params_fn((2, 2, 3, 3, 3)):,}, "
      f"Keras model {vgg16.count_params():,}")
weights = np.array([row.params for row in table.rows], dtype=float)
acts = np.array([np.prod(row.output_shape[1:]) for row in table.rows], dtype=float)
print(f"weights:     {weights.sum() * 4 / 2**20:8.1f} MiB (float32)")
print(f"activations: {acts.sum() * 4 / 2**20:8.1f} MiB per image (forward pass, float32)")
early = [row.name.startswith(("block1", "block2")) for row in table.rows]
share = acts[early].sum() / acts.sum()
print(f"blocks 1-2 produce {share:.0%} of the activations; "
      f"fc1 holds {table.row('fc1').params / weights.sum():.0%} of the weights")

# %%
fig = Figure(figsize=(9, 4), layout="constrained")
ax = fig.add_subplot()
positions = np.arange(len(table.rows))
ax.bar(positions - 0.2, acts * 4 / 2**20, 0.4, label="activations of one image")
ax.bar(positions + 0.2, weights * 4 / 2**20, 0.4, label="weights")
ax.set_yscale("log")
ax.set_xticks(positions, [row.name for row in table.rows], rotation=90, fontsize="small")
ax.set_xlabel("layer")
ax.set_ylabel("memory (MiB, float32, log scale)")
ax.set_title("VGG-16 at 224x224: activations early, weights late")
ax.legend()
fig

# %% [markdown]
# With a batch of 64 images the activations alone need 64 times the per-image figure
# (plus as much again for their gradients), which is why VGG was trained with batches
# of 256 split across 4 GPUs, and why later networks shrink the maps early (ResNet's
# stride-2 7x7 stem) and drop the big FC layers.

# %% [markdown]
# ## 5. A small VGG
#
# `build_model("vgg11_small")` and `build_model("vgg16_small")` keep the paper's
# configurations A and D with half the filters (32-64-128-256-256), batch
# normalization after each convolution (not in the paper; it lets the network
# train from scratch with Adam in a few epochs, see Lab 6) and two FC layers of 256
# units, for 32x32 images.
#
# *Budget (full profile).* vgg16_small costs about 0.08 GMACs per 32x32 image forward,
# about 0.25 GMACs with the backward pass: 30 epochs x 50,000 images = 3.7e14 MACs,
# about 8-12 minutes on a Colab T4. Section 6 trains A and D three times each on 20,000
# images for 10 epochs (about 600,000 images through vgg16_small, a quarter of the
# run above, and less for A): about 5-7 minutes more. The whole lab takes about 20-25
# minutes on a T4.

# %%
data = datasets.load(DATASET)
data.require_train()
# uint8 images; cnnlabs.datasets.pipeline pads them to 32x32 (Fashion-MNIST is 28x28),
# scales them to [0, 1] in float32, batches them and shuffles them every epoch.
x_train, y_train = data.x_train[:TRAIN_EXAMPLES], data.y_train[:TRAIN_EXAMPLES]
train_ds = datasets.pipeline(x_train, y_train, batch_size=BATCH_SIZE, training=True, pad_to=32)
test_ds = datasets.pipeline(data.x_test[:TEST_EXAMPLES], data.y_test[:TEST_EXAMPLES],
                            batch_size=BATCH_SIZE, pad_to=32)
x_test = datasets.to_float(data.x_test, pad_to=32, subset=TEST_EXAMPLES)  # for the gradients
INPUT_SHAPE = x_test.shape[1:]
print(f"{data.name}: train {x_train.shape} (uint8; the pipeline pads to 32x32), "
      f"test {x_test.shape} ({data.source})")
if DATASET != "cifar10":
    print("Note: this run uses Fashion-MNIST, not CIFAR-10 (the smoke profile).")

# %%
seed_everything(0)
model = build_model(MODEL, input_shape=INPUT_SHAPE, num_classes=10, **MODEL_OPTIONS)
result = train(model, train_ds, validation_data=test_ds, test_data=test_ds, epochs=EPOCHS,
               batch_size=BATCH_SIZE, verbose=2)
print(f"{MODEL} on {data.name}: test accuracy {result.test_accuracy:.2%} after {result.budget()}")
target = PROFILE.pick(smoke=0.5, full=0.80, grade=0.0)  # grade: not enforced
assert result.test_accuracy > target, (
    f"{MODEL} reached {result.test_accuracy:.2%} test accuracy, expected > {target:.0%} "
    f"(chance is 10%) with this budget: {result.budget()}."
)
plotting.plot_history(result, "accuracy", held_out="test",
                      title=f"{MODEL} on {data.name}: accuracy per epoch")

# %% [markdown]
# Does training change the effective receptive field? Measure it on the trained
# network, on real test images, and compare with the same network before training
# (same 32x32 input size).

# %% tags=["figure:effective_rf"]
seed_everything(0)
untrained = build_model(MODEL, input_shape=INPUT_SHAPE, num_classes=10, **MODEL_OPTIONS)
theory = layer_table(model).row(LAYER).rf
for label, net in (("before training", untrained), ("after training", model)):
    grad_map = input_gradient(net, LAYER, x_test[:ERF_IMAGES])
    print(f"{label:<16} theoretical RF {theory} px; 95% of the gradient within "
          f"{effective_extent(grad_map)} px")
plot_gradient_map(grad_map, theory,
                  f"{LAYER} of {MODEL} after training on {data.name} ({EPOCHS} epochs)")

# %% [markdown]
# ## 6. Does depth help?
#
# The paper's question, tested: with every kernel fixed at 3x3, does a deeper stack
# classify better? Its Table 3 says yes on ImageNet (top-1 error falls from A, 11
# weight layers, to D and E, 16 and 19), after about 74 epochs, with the deeper nets
# started from A's trained layers (Section 3.1; the authors note that Glorot's random
# initialization also works). Here configuration A (`vgg11_small`, 8 convolutions)
# and D (`vgg16_small`, 13) get the same budget: the same examples, epochs and
# optimizer, several seeds each. Predict first: which wins at this budget?

# %%
depth_ds = datasets.pipeline(x_train, y_train, batch_size=BATCH_SIZE, training=True, pad_to=32,
                             subset=DEPTH_EXAMPLES)
depth = {}
start = time.perf_counter()
for name in DEPTH_MODELS:
    depth[name] = train_seeds(
        lambda name=name: build_model(name, input_shape=INPUT_SHAPE, num_classes=10,
                                      **MODEL_OPTIONS),
        depth_ds, seeds=DEPTH_SEEDS, validation_data=test_ds, test_data=test_ds,
        epochs=DEPTH_EPOCHS, batch_size=BATCH_SIZE, verbose=0,
    )
    runs = depth[name]
    print(f"{name:<12} ({runs.runs[0].params:,} parameters): {runs.summary('test_accuracy')}; "
          f"{np.mean([r.examples_per_sec for r in runs.runs]):,.0f} examples/s")
print(f"Budget: {len(DEPTH_MODELS)} models x {len(DEPTH_SEEDS)} seed(s) x {DEPTH_EPOCHS} epochs x "
      f"{len(x_train[:DEPTH_EXAMPLES]):,} examples, {time.perf_counter() - start:.0f} s")
plotting.plot_history(depth, "accuracy", held_out="test",
                      title="VGG configuration A (vgg11_small) vs D (vgg16_small): accuracy "
                      "per epoch, mean +/- 1 std over seeds")

# %% [markdown]
# What your numbers can support: if the difference of the mean test accuracies is
# smaller than the standard deviations, this budget does not separate the two. A
# deeper plain network (no batch normalization in the smoke profile) often trains
# *more slowly* at first: it has more layers for the gradient to cross and more
# parameters to fit, which is why the paper trained A first. Depth pays off when the
# training runs long enough and the data are rich enough to use the capacity.

# %% [markdown]
# ## 7. Reflection
#
# Write each answer in the cell below its question; a TA reads it, with the figure
# it refers to as your notebook shows it.
#
# **Question 1.** Three stacked 3x3 convolutions and one 7x7 convolution have the same receptive
# field. Give two reasons to prefer the stack, and one situation where the stack
# is worse.

# %% [markdown] tags=["student", "answer:stack_vs_7x7"]
# *Your answer:* YOUR ANSWER HERE

# %% [markdown] tags=["solution", "answer:stack_vs_7x7"]
# **Model answer.** The stack has 27 C^2 weights instead of 49 C^2 (45% fewer; a regularization in
# itself, the paper argues) and three ReLUs instead of one, so it can represent
# more non-linear functions of the same patch. It is worse where latency matters
# more than arithmetic (three sequential layers, three activation maps to store for
# the backward pass) and it cannot represent every 7x7 linear filter.

# %% [markdown]
# **Question 2.** Your measured (effective) receptive field was smaller than the theoretical one. Why do pixels
# at the edge of the theoretical RF contribute so little to the centre unit?

# %% [markdown] tags=["student", "answer:effective_rf"]
# *Your answer:* YOUR ANSWER HERE

# %% [markdown] tags=["solution", "answer:effective_rf"]
# **Model answer.** A centre pixel reaches the unit along very many paths through the stacked
# kernels, an edge pixel along very few: the number of paths follows a
# binomial-like distribution, so the gradient's magnitude decays roughly like a
# Gaussian from the centre (Luo et al. 2016) and the effective RF grows like the
# square root of the depth, not linearly.

# %% [markdown]
# **Question 3.** Most of VGG-16's weights are in fc1, most of its activations in block 1. Which of
# the two limits the batch size you can train with on one GPU, and why?

# %% [markdown] tags=["student", "answer:memory_batch_limit"]
# *Your answer:* YOUR ANSWER HERE

# %% [markdown] tags=["solution", "answer:memory_batch_limit"]
# **Model answer.** The activations: they grow with the batch size (every image keeps its own maps,
# and their gradients, for the backward pass), while the weights and their
# gradients and optimizer state are stored once whatever the batch size.
