"""Hidden cases of lab 02 (AlexNet). Grading side only: never copied into a notebook.

Other channel counts and windows for LRN (randomized constants), other rates and
shapes for dropout.
"""

from autograder.references.lab02_alexnet import reference_lrn
from cnnlabs.checks.lab02_alexnet import dropout_case, lrn_inputs
from cnnlabs.checks.spec import Case


def _random_lrn(rng):
    channels = int(rng.integers(1, 20))
    n = int(rng.choice([1, 3, 5, 7]))
    inputs = lrn_inputs(int(rng.integers(1, 3)), int(rng.integers(1, 5)), channels,
                        scale=float(rng.uniform(0.5, 20.0)))(rng)
    inputs.update(n=n, k=float(rng.uniform(0.5, 3.0)), alpha=float(rng.uniform(1e-4, 1.0)),
                  beta=float(rng.uniform(0.5, 1.0)))
    return inputs


HIDDEN = {
    "lrn": (
        Case(name="hidden: 96 channels with the paper's constants",
             inputs=lrn_inputs(1, 3, 96, scale=50.0), expected=reference_lrn,
             rtol=1e-4, atol=1e-6),
        Case(name="hidden: fewer channels (3) than the window (5)",
             inputs=lrn_inputs(2, 2, 3, alpha=1.0, scale=2.0), expected=reference_lrn,
             rtol=1e-4, atol=1e-6),
        Case(name="hidden: n=1 (each channel alone)",
             inputs=lrn_inputs(1, 2, 6, n=1, alpha=0.3, scale=3.0), expected=reference_lrn,
             rtol=1e-4, atol=1e-6),
        Case(name="hidden: random constants and shapes", inputs=_random_lrn,
             expected=reference_lrn, rtol=1e-4, atol=1e-6),
        Case(name="hidden: random constants and shapes, again", inputs=_random_lrn,
             expected=reference_lrn, rtol=1e-4, atol=1e-6),
    ),
    "dropout": (
        dropout_case("hidden: inference on a 3-D array", (4, 30, 30), 0.7, False),
        dropout_case("hidden: rate 0.7 on a 3-D array", (8, 40, 40), 0.7, True),
        dropout_case("hidden: rate 0.1", (200, 60), 0.1, True),
        dropout_case("hidden: rate 0 keeps everything", (30, 30), 0.0, True),
    ),
}
