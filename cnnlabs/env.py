"""Environment: seeds, determinism, devices, mixed precision.

A lab's setup cell calls `seed_everything` and prints `device_report()`:

    Running on GPU (Tesla T4, 1 device) in Google Colab, TensorFlow 2.19.0, profile full.

On a CPU it adds one line of advice (switch the Colab runtime to a GPU, or use the
smoke profile).

Used in: every lab's setup cell; `cnnlabs doctor`.
"""

from __future__ import annotations

import os
import random
import sys
from dataclasses import dataclass

import numpy as np

CPU_ADVICE = (
    "This lab runs on the CPU, which is 10-50x slower than a GPU for these networks. "
    "In Colab choose Runtime > Change runtime type > T4 GPU, then run all cells again; "
    "on a laptop set CNNLABS_PROFILE=smoke for a quick, smaller run."
)


def seed_everything(seed: int = 0, deterministic: bool = False) -> None:
    """Seeds Python, NumPy and TensorFlow (and Keras) random number generators.

    Args:
        seed: int, the seed. Default 0.
        deterministic: bool, also make TensorFlow ops deterministic
            (`tf.config.experimental.enable_op_determinism`). Slower on GPUs;
            use it when two runs must match bit for bit. Default False.

    Raises:
        TypeError: if `seed` is not an integer.

    Example:

    >>> seed_everything(0)
    >>> a = np.random.rand()
    >>> seed_everything(0)
    >>> a == np.random.rand()
    True
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(
            f"seed must be an integer, got {seed!r} of type {type(seed).__name__}. "
            "Pass a whole number such as seed=0."
        )
    seed = int(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    random.seed(seed)
    np.random.seed(seed)
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)  # Python, NumPy and the backend.
    tf.random.set_seed(seed)
    if deterministic:
        tf.config.experimental.enable_op_determinism()


def in_colab() -> bool:
    """True when running inside Google Colab."""
    return "google.colab" in sys.modules or "COLAB_RELEASE_TAG" in os.environ


@dataclass(frozen=True)
class DeviceInfo:
    """What TensorFlow will compute on.

    Attributes:
        kind: `"tpu"`, `"gpu"` or `"cpu"`.
        name: human-readable device name (e.g. `"Tesla T4"`).
        count: number of devices of that kind.
        colab: running in Google Colab.
        compute_capability: `(major, minor)` for NVIDIA GPUs, else None.
    """

    kind: str
    name: str
    count: int
    colab: bool
    compute_capability: tuple[int, int] | None = None


def _tpu_available() -> bool:
    import tensorflow as tf

    if tf.config.list_logical_devices("TPU"):
        return True
    return bool(os.environ.get("COLAB_TPU_ADDR") or os.environ.get("TPU_NAME"))


def detect_device() -> DeviceInfo:
    """Detects the accelerator TensorFlow sees: TPU, then GPU, else CPU."""
    import tensorflow as tf

    colab = in_colab()
    if _tpu_available():
        count = len(tf.config.list_logical_devices("TPU")) or 1
        return DeviceInfo("tpu", "TPU", count, colab)
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        details = tf.config.experimental.get_device_details(gpus[0])
        name = details.get("device_name", "GPU")
        capability = details.get("compute_capability")
        return DeviceInfo("gpu", name, len(gpus), colab, tuple(capability) if capability else None)
    import platform

    name = platform.processor() or platform.machine() or "CPU"
    return DeviceInfo("cpu", name, os.cpu_count() or 1, colab)


def device_report(advice: bool = True) -> str:
    """One friendly line saying where the lab runs, plus advice on a CPU.

    Args:
        advice: bool, append advice when running on the CPU. Default True.

    Returns:
        The report as a string (print it).
    """
    import tensorflow as tf

    from cnnlabs.profiles import get_profile

    info = detect_device()
    unit = "device" if info.count == 1 else "devices"
    if info.kind == "cpu":
        unit = "core" if info.count == 1 else "cores"
    where = " in Google Colab" if info.colab else ""
    line = (
        f"Running on {info.kind.upper()} ({info.name}, {info.count} {unit}){where}, "
        f"TensorFlow {tf.__version__}, profile {get_profile().name}."
    )
    if get_profile().is_dryrun:
        line += "\n" + dryrun_banner()
    elif advice and info.kind == "cpu":
        line += "\n" + CPU_ADVICE
    return line


def dryrun_banner() -> str:
    """What the dryrun profile runs, and on which data (synthetic where the marker says so)."""
    from cnnlabs.datasets.sources import DATA_DIR_ENV
    from cnnlabs.datasets.synthetic import DEFAULT_DATASETS, dataset_folder, read_marker
    from cnnlabs.profiles import DRYRUN_EPOCHS, DRYRUN_EVAL_BATCHES, DRYRUN_STEPS

    root = os.environ.get(DATA_DIR_ENV)
    if root and any(read_marker(dataset_folder(root, n)) is not None for n in DEFAULT_DATASETS):
        data = f"SYNTHETIC datasets from ${DATA_DIR_ENV}={root}"
    else:
        data = f"whatever datasets are found (no synthetic data in ${DATA_DIR_ENV})"
    return (
        "*** DRY RUN of the full profile: its datasets, models, depths and seeds, each "
        f"training capped to {DRYRUN_EPOCHS} epochs of {DRYRUN_STEPS} steps and each "
        f"evaluation to {DRYRUN_EVAL_BATCHES} batches, on {data}. Accuracies mean nothing. ***"
    )


def enable_mixed_precision() -> bool:
    """Turns on the `mixed_float16` Keras policy where the GPU profits from it.

    Mixed precision pays off on NVIDIA GPUs with tensor cores (compute capability
    7.0 or newer, e.g. the T4 in Colab). On CPUs and older GPUs it would be slower,
    so the policy stays `float32`. Keep the last layer in float32
    (`dtype="float32"`) for a numerically stable softmax.

    Returns:
        True if mixed precision was enabled.
    """
    import keras

    info = detect_device()
    if info.kind == "gpu" and info.compute_capability and info.compute_capability >= (7, 0):
        keras.mixed_precision.set_global_policy("mixed_float16")
        return True
    if info.kind == "tpu":
        keras.mixed_precision.set_global_policy("mixed_bfloat16")
        return True
    return False


def quiet_tensorflow() -> None:
    """Imports TensorFlow with its C++ start-up notices silenced.

    At import, TensorFlow's C++ runtime writes lines such as absl's "All log messages
    before absl::InitializeLog() is called are written to STDERR", oneDNN and CPU
    instruction-set notices, or (on a CPU machine with a CUDA build) failed CUDA
    library registrations. They are harmless and look like errors to a student. Call
    this in a lab's setup cell before the first `import keras`: it sets
    `TF_CPP_MIN_LOG_LEVEL=2` (unless already set) and sends file descriptor 2 to
    /dev/null while TensorFlow is imported. An import error still raises, with its
    traceback. Does nothing when TensorFlow is already imported.

    Used in: labs 01-03 (the setup cell).
    """
    if "tensorflow" in sys.modules:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import tensorflow  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(devnull)
        os.close(saved)
