"""The model zoo: paper-faithful builders and a name registry.

>>> from cnnlabs.models import build_model
>>> build_model("lenet5").count_params()
61706

Every family module is imported here so that the registry is complete. The
builders are re-exported, except those named like their module
(``cnnlabs.models.alexnet.alexnet``, ``cnnlabs.models.vgg.vgg``,
``cnnlabs.models.resnet.resnet``, ``densenet.densenet``, ``resnext.resnext``,
``xception.xception``): re-exporting
them would hide the module. Use ``build_model("alexnet")`` or import them from
their module. See docs/models.md for the table of registered names.
"""

from cnnlabs.models import (
    alexnet,
    blocks,
    densenet,
    inception,
    lenet,
    mobilenet,
    resnet,
    resnext,
    senet,
    separable,
    vgg,
    xception,
)
from cnnlabs.models.alexnet import alexnet_grouped, alexnet_small
from cnnlabs.models.blocks import dense_block, se_block, transition_block
from cnnlabs.models.densenet import (
    densenet121,
    densenet169,
    densenet201,
    densenet_bc_cifar,
    densenet_cifar,
)
from cnnlabs.models.inception import GOOGLENET_WIDTHS, googlenet, googlenet_small, inception_module
from cnnlabs.models.lenet import LENET5_C3_TABLE, lenet5, lenet5_paper_c3
from cnnlabs.models.mobilenet import mobilenet_cifar, mobilenet_v1, mobilenet_v2
from cnnlabs.models.registry import build_model, get_builder, list_models, register
from cnnlabs.models.resnet import (
    cifar_resnet,
    lesion,
    plain20,
    plain32,
    plain44,
    plain56,
    plain110,
    preact_resnet20,
    preact_resnet56,
    preact_resnet110,
    residual_blocks,
    resnet18,
    resnet20,
    resnet32,
    resnet34,
    resnet44,
    resnet50,
    resnet56,
    resnet101,
    resnet110,
    resnet152,
)
from cnnlabs.models.resnext import cifar_resnext, resnext50_32x4d, resnext_block, resnext_cifar
from cnnlabs.models.senet import (
    se_basic_block,
    se_bottleneck_block,
    se_resnet50,
    se_resnet_cifar,
)
from cnnlabs.models.separable import (
    depthwise_separable_block,
    grouped_conv,
    inverted_residual_block,
    make_divisible,
)
from cnnlabs.models.vgg import (
    VGG_CONFIGS,
    vgg11,
    vgg11_small,
    vgg13,
    vgg16,
    vgg16_small,
    vgg19,
    vgg_small,
)

__all__ = [
    "blocks",
    "dense_block",
    "se_block",
    "transition_block",
    "GOOGLENET_WIDTHS",
    "LENET5_C3_TABLE",
    "googlenet",
    "googlenet_small",
    "inception",
    "inception_module",
    "VGG_CONFIGS",
    "alexnet",
    "alexnet_grouped",
    "alexnet_small",
    "build_model",
    "get_builder",
    "lenet",
    "lenet5",
    "lenet5_paper_c3",
    "list_models",
    "cifar_resnet",
    "lesion",
    "residual_blocks",
    "resnet",
    "plain20",
    "plain32",
    "plain44",
    "plain56",
    "plain110",
    "preact_resnet20",
    "preact_resnet56",
    "preact_resnet110",
    "resnet18",
    "resnet20",
    "resnet32",
    "resnet34",
    "resnet44",
    "resnet50",
    "resnet56",
    "resnet101",
    "resnet110",
    "resnet152",
    "register",
    "vgg",
    "vgg11",
    "vgg11_small",
    "vgg13",
    "vgg16",
    "vgg16_small",
    "vgg19",
    "vgg_small",
    "cifar_resnext",
    "densenet",
    "densenet121",
    "densenet169",
    "densenet201",
    "densenet_bc_cifar",
    "densenet_cifar",
    "depthwise_separable_block",
    "grouped_conv",
    "inverted_residual_block",
    "make_divisible",
    "mobilenet",
    "mobilenet_cifar",
    "mobilenet_v1",
    "mobilenet_v2",
    "resnext",
    "resnext50_32x4d",
    "resnext_block",
    "resnext_cifar",
    "se_basic_block",
    "se_bottleneck_block",
    "se_resnet50",
    "se_resnet_cifar",
    "senet",
    "separable",
    "xception",
]
