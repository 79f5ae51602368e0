"""`cnnlabs doctor`: versions, devices, profile, and where each dataset is found.

Run it first when something does not work, and paste its output into a bug report.
"""

from __future__ import annotations

import platform
import sys

DATASETS = ("mnist", "fashion_mnist", "cifar10", "cifar100")


def report(data_dir: str | None = None) -> str:
    """The doctor's report as text."""
    import keras
    import numpy as np
    import tensorflow as tf

    import cnnlabs
    from cnnlabs.env import device_report
    from cnnlabs.profiles import PROFILE_ENV, get_profile

    lines = [
        f"cnnlabs {cnnlabs.__version__}",
        f"Python {platform.python_version()} ({sys.executable})",
        f"TensorFlow {tf.__version__}, Keras {keras.__version__} (backend {keras.backend.backend()}), "
        f"NumPy {np.__version__}",
        device_report(advice=True),
        f"Profile: {get_profile().name} (set {PROFILE_ENV}=smoke, grade or full)",
        "Datasets:",
    ]
    from cnnlabs.datasets import locate

    for name in DATASETS:
        location = locate(name, data_dir=data_dir)
        text = location.describe().rstrip().splitlines() or [""]
        lines.append(f"  {text[0]}")
        lines.extend(f"    {line}" for line in text[1:])
    return "\n".join(lines)


def main(args) -> int:
    print(report(getattr(args, "data_dir", None)))
    return 0
