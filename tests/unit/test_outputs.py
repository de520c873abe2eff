"""The typed outputs (``pulumi_enkrypt.outputs``), the generated part of ``Model`` and ``GetModelResult``: they
match the wire schema field for field, and the SDK's own translation of an engine answer builds them."""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any, Literal, get_args, get_origin

import pulumi
import pytest
from pulumi import _types
from pulumi.runtime.rpc import translate_output_properties

import pulumi_enkrypt as enkrypt
from pulumi_enkrypt import _model_resource, outputs, wire
from pulumi_enkrypt.resource import _plain
from pulumi_enkrypt.secrets import map_secrets

# The fields of the hand-written GetModelResult dataclass that lookup.py had before it was generated.
LOOKUP_FIELDS = {
    "id",
    "model_saved_name",
    "model_version",
    "model_id",
    "testing_for",
    "model_name",
    "certifications",
    "model_config",
    "project_name",
    "created_at",
    "updated_at",
    "is_sample",
}
COMPUTED = {"model_id": int, "created_at": str, "updated_at": str, "project_name": str}


def _without_none(annotation: Any) -> tuple[Any, bool]:
    """``X | None`` -> (X, True); anything else -> (it, False). ``Annotated[X, ...]`` -> X."""
    if get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        assert len(args) == 1, annotation
        return _without_none(args[0])[0], True
    if get_origin(annotation) is typing.Annotated:
        return get_args(annotation)[0], False
    return annotation, False


def expected_output_type(annotation: Any) -> Any:
    """The type a wire field should read back as: nested models as the output type of the same name, lists as
    Sequence, maps as Mapping, enums (Literal) as str."""
    annotation, _ = _without_none(annotation)
    nested, is_list = wire.nested_model(annotation)
    if nested is not None:
        cls = getattr(outputs, nested.__name__)
        return Sequence[cls] if is_list else cls
    if get_origin(annotation) is list:
        return Sequence[expected_output_type(get_args(annotation)[0])]
    if get_origin(annotation) is dict:
        return Mapping[str, Any]
    if get_origin(annotation) is Literal:
        return str
    return annotation


def wire_models(model: type[wire.WireModel] = wire.ModelConfig) -> list[type[wire.WireModel]]:
    found = [model]
    for info in model.model_fields.values():
        nested, _ = wire.nested_model(info.annotation)
        if nested is not None:
            found += [m for m in wire_models(nested) if m not in found]
    return found


def getter_is_optional(cls: type, key: str) -> bool:
    hints = typing.get_type_hints(getattr(cls, key).fget)
    annotation = hints["return"]
    if get_origin(annotation) is pulumi.Output:
        annotation = get_args(annotation)[0]
    return _without_none(annotation)[1]


@pytest.mark.parametrize("model", wire_models(), ids=lambda m: m.__name__)
def test_each_nested_object_has_an_output_type_with_its_fields_and_types(model: type[wire.WireModel]) -> None:
    cls = getattr(outputs, model.__name__)
    assert _types.is_output_type(cls) and issubclass(cls, dict)
    keys = {info.alias or name: info for name, info in model.model_fields.items()}
    params = inspect.signature(cls.__init__).parameters
    assert set(params) - {"__self__"} == set(keys)
    types_ = _types.output_type_types(cls)  # what the SDK uses to build the object: pulumi name -> type
    assert set(types_) == set(keys)
    for key, info in keys.items():
        assert types_[key] == expected_output_type(info.annotation), key
        assert getter_is_optional(cls, key) is not info.is_required(), key
        assert (params[key].default is inspect.Parameter.empty) is info.is_required(), key


def test_output_types_are_named_as_pulumi_names_them_and_clash_with_nothing_exported() -> None:
    names = {m.__name__ for m in wire_models()}
    assert set(outputs.__all__) == names | {"GetModelResult"}
    assert not (names & set(enkrypt.__all__)), "an output type has the name of an enum, input or export"
    assert enkrypt.outputs is outputs


def test_model_output_properties_are_typed_from_the_schema() -> None:
    types_ = _types.resource_types(enkrypt.Model)  # what the SDK uses to read the engine's answer
    expected = {
        (info.alias or name): expected_output_type(info.annotation)
        for name, info in wire.ModelRequest.model_fields.items()
    }
    expected.update(COMPUTED, adopt_existing=bool, secret_revisions=dict[str, int])
    assert types_ == expected
    assert types_["model_config"] is outputs.ModelConfig
    for info_name, info in wire.ModelRequest.model_fields.items():
        assert getter_is_optional(enkrypt.Model, info.alias or info_name) is not info.is_required()
    for key in COMPUTED:
        assert not getter_is_optional(enkrypt.Model, key)


def test_required_inputs_are_the_schemas_and_missing_ones_fail_before_anything_is_registered() -> None:
    required = tuple(info.alias or name for name, info in wire.ModelRequest.model_fields.items() if info.is_required())
    assert required == _model_resource.REQUIRED_INPUTS
    assert set(_model_resource.INPUTS) == {*(i.alias or n for n, i in wire.ModelRequest.model_fields.items())} | {
        "adopt_existing"
    }
    with pytest.raises(TypeError, match="Missing required property 'model_config'"):
        enkrypt.Model("m", model_saved_name="a", model_version="v1")
    with pytest.raises(TypeError, match="Missing required property 'model_saved_name'"):
        enkrypt.Model("m", {"model_version": "v1", "model_config": {"model_provider": "openai"}})


def engine_answer() -> dict[str, Any]:
    """A model_config as the engine hands it to the program: every number a float."""
    return {
        "model_provider": "custom",
        "hosting_type": "External",
        "endpoint": {"scheme": "https", "host": "agent.example.com", "port": 8443.0, "base_path": "/v1"},
        "paths": {"chat": "/chat"},
        "auth_data": {"header_name": "Authorization", "aws_secret_access_key": "aws-s3cret"},
        "apikeys": ["k-s3cret"],
        "input_modalities": ["text", "image"],
        "tools": [{"name": "search", "description": "searches"}],
        "custom_headers": [{"key": "X-Team", "value": "hdr-s3cret"}],
        "custom_payload": {"messages": [{"role": "user", "content": "{prompt}"}], "n": 1.0},
        "model_jwt_config": {
            "jwt_method": "POST",
            "jwt_url": "https://auth.example.com",
            "jwt_headers": [{"key": "a", "value": "b"}],
        },
        "metadata": {"max_tokens": 500.0, "input_cost_1M_tokens": 0.5, "gemini": {"project_id": "p"}},
        "default_request_options": {"temperature": 1.0, "top_k": 40.0},
        "rate_per_min": 20.0,
        "model_auth_type": "jwt",
    }


def test_the_sdk_builds_typed_outputs_from_an_engine_answer() -> None:
    typ = _types.resource_types(enkrypt.Model)["model_config"]
    config = translate_output_properties(engine_answer(), lambda key: key, typ, True)
    assert isinstance(config, outputs.ModelConfig)
    assert isinstance(config.endpoint, outputs.Endpoint) and config.endpoint.host == "agent.example.com"
    assert config.endpoint.port == 8443 and type(config.endpoint.port) is int  # the schema says integer
    assert config["endpoint"]["port"] == 8443  # a dict too
    assert isinstance(config.custom_headers, list) and isinstance(config.custom_headers[0], outputs.CustomHeader)
    assert config.custom_headers[0].value == "hdr-s3cret"
    assert isinstance(config.tools[0], outputs.Tool) and config.tools[0].name == "search"
    assert isinstance(config.model_jwt_config.jwt_headers[0], outputs.JwtHeader)
    assert isinstance(config.metadata.gemini, outputs.GeminiMetadata) and config.metadata.gemini.project_id == "p"
    assert type(config.metadata.max_tokens) is int and type(config.default_request_options.top_k) is int
    assert config.custom_payload == {"messages": [{"role": "user", "content": "{prompt}"}], "n": 1.0}  # a map
    assert config.model_provider == "custom" and config.model_auth_type == "jwt"  # enums read back as str
    assert config.system_prompt is None and "system_prompt" not in config  # absent stays absent


def test_an_output_read_back_is_a_valid_input_again() -> None:
    typ = _types.resource_types(enkrypt.Model)["model_config"]
    config = translate_output_properties(engine_answer(), lambda key: key, typ, True)
    plain = _plain(config)
    assert type(plain) is dict and type(plain["endpoint"]) is dict
    body = {"model_saved_name": "a", "model_version": "v1", "model_config": plain}
    model, errors = wire.validate_request(wire.normalize_request(body))
    assert errors == [] and model is not None


def test_an_enum_field_reads_back_any_value_the_server_holds() -> None:
    """An open enum's other names, or a value set in the console, must not fail the program."""
    config = translate_output_properties(
        {"model_provider": "a-provider-enkrypt-added-later", "hosting_type": "Elsewhere"},
        lambda key: key,
        outputs.ModelConfig,
        True,
    )
    assert config.model_provider == "a-provider-enkrypt-added-later" and config.hosting_type == "Elsewhere"


def server_answer() -> dict[str, Any]:
    return {
        "model_saved_name": "Looked Up",
        "model_version": "v1",
        "testing_for": "agents",
        "model_name": None,
        "certifications": [],
        "model_config": engine_answer() | {"endpoint": {"scheme": "https", "host": "h", "port": 443, "base_path": ""}},
        "model_id": 7,
        "project_name": "default",
        "created_at": "2024-10-15T17:22:47+00:00",
        "updated_at": "2024-10-15T17:22:47+00:00",
        "is_sample": False,
    }


def lookup_result(model: Mapping[str, Any]) -> outputs.GetModelResult:
    """What lookup.py does with a server answer: one keyword argument per field."""
    return outputs.GetModelResult(
        id=f"{model['model_saved_name']}:{model['model_version']}",
        **{key: model.get(key) for key in LOOKUP_FIELDS - {"id"}},
    )


def test_the_lookup_result_has_the_fields_it_had_with_a_typed_model_config() -> None:
    params = set(inspect.signature(outputs.GetModelResult.__init__).parameters) - {"__self__"}
    assert params == LOOKUP_FIELDS
    assert set(_types.output_type_types(outputs.GetModelResult)) == LOOKUP_FIELDS
    assert _types.output_type_types(outputs.GetModelResult)["model_config"] is outputs.ModelConfig
    result = lookup_result(server_answer())
    assert result.id == "Looked Up:v1" and result.model_id == 7 and result.is_sample is False
    assert isinstance(result.model_config, outputs.ModelConfig)
    assert result.model_config.endpoint.host == "h" and result.model_config["endpoint"]["port"] == 443
    assert result.model_config.custom_headers[0].key == "X-Team"
    assert result == lookup_result(server_answer())
    with pytest.raises(AttributeError):
        result.model_id = 8  # type: ignore[misc]


def test_the_lookup_result_keeps_secret_outputs_and_shows_no_secret() -> None:
    secret = map_secrets(server_answer(), pulumi.Output.secret)
    result = lookup_result(secret)
    config = result.model_config
    assert isinstance(config, outputs.ModelConfig)
    assert isinstance(config.apikeys, pulumi.Output) and isinstance(config.model_jwt_config, pulumi.Output)
    assert isinstance(config.custom_headers[0], outputs.CustomHeader) and config.custom_headers[0].key == "X-Team"
    assert isinstance(config.custom_headers[0].value, pulumi.Output)
    assert isinstance(config.auth_data.aws_secret_access_key, pulumi.Output)
    assert config.auth_data.header_name == "Authorization"
    shown = repr(lookup_result(server_answer()))
    assert shown.startswith("GetModelResult(id='Looked Up:v1', ") and "model_id=7" in shown
    assert not [s for s in ("k-s3cret", "hdr-s3cret", "aws-s3cret") if s in shown]
