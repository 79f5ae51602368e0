"""The registry: names, lookups and the messages students see for typos."""

import pytest

from cnnlabs.models import build_model, get_builder, list_models, register
from cnnlabs.models import registry as registry_module


def test_list_models_is_sorted_and_contains_lenet5():
    names = list_models()
    assert names == sorted(names)
    assert "lenet5" in names


def test_build_model_passes_kwargs_to_the_builder():
    model = build_model("lenet5", num_classes=7, name="my_lenet")
    assert model.output_shape == (None, 7)
    assert model.name == "my_lenet"


def test_unknown_name_suggests_close_matches():
    with pytest.raises(ValueError) as info:
        build_model("lenet")
    assert str(info.value) == (
        "Unknown model name 'lenet'. Did you mean 'lenet5' or 'lenet5_paper_c3'? "
        "Call cnnlabs.models.list_models() to see every registered name."
    )


def test_unknown_name_with_wrong_case_suggests_the_lower_case_name():
    with pytest.raises(ValueError) as info:
        get_builder("LeNet5")
    assert str(info.value) == (
        "Unknown model name 'LeNet5'. Did you mean 'lenet5'? "
        "Call cnnlabs.models.list_models() to see every registered name."
    )


def test_unknown_name_without_close_match():
    with pytest.raises(ValueError) as info:
        build_model("transformer")
    assert str(info.value) == (
        "Unknown model name 'transformer'. No registered name is close to it. "
        "Call cnnlabs.models.list_models() to see every registered name."
    )


def test_non_string_name_raises_type_error():
    with pytest.raises(TypeError) as info:
        build_model(5)
    assert str(info.value) == (
        'Model name must be a string, got int 5. Pass a registered name such as "lenet5".'
    )


def test_register_rejects_a_duplicate_name():
    with pytest.raises(ValueError) as info:

        @register("lenet5")
        def other_lenet(input_shape=(32, 32, 1), num_classes=10):
            return None

    assert str(info.value) == (
        "Model name 'lenet5' is already registered to cnnlabs.models.lenet.lenet5; "
        "names must be unique. Choose another name for the new builder."
    )
    assert get_builder("lenet5").__module__ == "cnnlabs.models.lenet"


def test_register_rejects_a_non_string_name():
    with pytest.raises(TypeError) as info:
        register(None)
    assert str(info.value) == (
        "register(name) expects a non-empty string name, got None. "
        'Pass the registry name, e.g. @register("lenet5").'
    )


def test_register_adds_a_new_name():
    name = "test_only_tiny_model"
    try:

        @register(name)
        def tiny(input_shape=(4, 4, 1), num_classes=2):
            return ("built", input_shape, num_classes)

        assert name in list_models()
        assert build_model(name, num_classes=3) == ("built", (4, 4, 1), 3)
    finally:
        registry_module._REGISTRY.pop(name, None)
    assert name not in list_models()
