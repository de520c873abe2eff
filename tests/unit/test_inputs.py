"""The typed inputs, their plain-dict forms and the resource's secret wrapping."""

from __future__ import annotations

import inspect

import pulumi
import pytest

import pulumi_enkrypt as enkrypt
from pulumi_enkrypt import wire
from pulumi_enkrypt.resource import _plain, secret_wrapped


def typed_config() -> enkrypt.ModelConfigArgs:
    return enkrypt.ModelConfigArgs(
        model_provider=enkrypt.ModelProviderName.CUSTOM,
        endpoint=enkrypt.EndpointArgs(scheme="https", host="agent.example.com", port=8443, base_path="/v1"),
        custom_headers=[enkrypt.CustomHeaderArgs(key="X-Token", value="tok")],
        tools=[enkrypt.ToolArgs(name="search", description="searches")],
        custom_payload={"input": "{prompt}"},
        apikeys=["k"],
    )


def dict_config() -> enkrypt.ModelConfigArgsDict:
    return {
        "model_provider": "custom",
        "endpoint": {"scheme": "https", "host": "agent.example.com", "port": 8443, "base_path": "/v1"},
        "custom_headers": [{"key": "X-Token", "value": "tok"}],
        "tools": [{"name": "search", "description": "searches"}],
        "custom_payload": {"input": "{prompt}"},
        "apikeys": ["k"],
    }


def test_typed_and_plain_dict_inputs_give_the_same_properties() -> None:
    typed = _plain(typed_config())
    assert typed == {**dict_config(), "model_provider": enkrypt.ModelProviderName.CUSTOM}
    body = {"model_saved_name": "a", "model_version": "v1", "model_config": typed}
    model, errors = wire.validate_request(wire.normalize_request(body))
    assert errors == [] and model is not None


def test_model_keyword_arguments_are_exactly_the_model_args() -> None:
    args = set(inspect.signature(enkrypt.ModelArgs.__init__).parameters) - {"__self__"}
    kwargs = {
        name
        for name, p in inspect.signature(enkrypt.Model.__init__).parameters.items()
        if p.kind is inspect.Parameter.KEYWORD_ONLY
    }
    assert kwargs == args


def test_every_wire_field_has_a_typed_input() -> None:
    def walk(model: type[wire.WireModel], args_cls: type) -> None:
        params = set(inspect.signature(args_cls.__init__).parameters) - {"__self__"}
        for name, field in model.model_fields.items():
            key = field.alias or name
            assert key in params, f"{args_cls.__name__} lacks {key}"

    for model in (wire.ModelConfig, wire.Endpoint, wire.AuthData, wire.JwtConfig, wire.Metadata, wire.Context):
        walk(model, getattr(enkrypt, f"{model.__name__}Args"))


def test_every_secret_path_is_wrapped_and_nothing_else() -> None:
    props = {
        "model_saved_name": "a",
        "model_version": "v1",
        "model_config": {
            "model_provider": "azure_openai",
            "apikeys": ["k1", "k2"],
            "model_jwt_config": {"jwt_url": "https://x", "jwt_body": "secret"},
            "auth_data": {"header_name": "Authorization", "azure_client_secret": "s", "aws_access_key_id": "a"},
            "custom_headers": [{"key": "X", "value": "v"}],
            "custom_curl_command": "curl",
        },
    }
    wrapped = secret_wrapped(props)
    config = wrapped["model_config"]
    assert isinstance(config["apikeys"], pulumi.Output)
    assert isinstance(config["model_jwt_config"], pulumi.Output)
    assert isinstance(config["auth_data"]["azure_client_secret"], pulumi.Output)
    assert isinstance(config["auth_data"]["aws_access_key_id"], pulumi.Output)
    assert config["auth_data"]["header_name"] == "Authorization"
    assert isinstance(config["custom_headers"][0]["value"], pulumi.Output)
    assert config["custom_headers"][0]["key"] == "X"
    assert isinstance(config["custom_curl_command"], pulumi.Output)
    assert config["model_provider"] == "azure_openai"
    assert wrapped["model_saved_name"] == "a"


def test_the_old_enum_name_still_works_and_says_it_is_deprecated() -> None:
    with pytest.warns(DeprecationWarning, match="ModelProviderName"):
        old = enkrypt.ModelProvider
    assert old is enkrypt.ModelProviderName
    assert "ModelProvider" not in enkrypt.__all__
