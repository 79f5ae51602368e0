"""The model zoo: paper-faithful builders and a name registry.

>>> from cnnlabs.models import build_model
>>> build_model("lenet5").count_params()
61706

Every family module is imported here so that the registry is complete.
"""

from cnnlabs.models import lenet
from cnnlabs.models.lenet import LENET5_C3_TABLE, lenet5, lenet5_paper_c3
from cnnlabs.models.registry import build_model, get_builder, list_models, register

__all__ = [
    "LENET5_C3_TABLE",
    "build_model",
    "get_builder",
    "lenet",
    "lenet5",
    "lenet5_paper_c3",
    "list_models",
    "register",
]
