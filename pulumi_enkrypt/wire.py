"""The wire schema of a model: generated pydantic models plus the rules and key-path helpers around them.

Everything that knows the shape of a model body goes through here, so the provider's check and the local
server judge a body the same way.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any, get_args, get_origin

import pydantic

from ._exceptions import FieldError
from ._wire_gen import (
    AuthData,
    BedrockMetadata,
    Context,
    CustomHeader,
    DefaultRequestOptions,
    Endpoint,
    EnkryptaiMetadata,
    GeminiMetadata,
    JwtConfig,
    JwtHeader,
    Metadata,
    ModelConfig,
    ModelRequest,
    Paths,
    Tool,
    WireModel,
    XactlyMetadata,
)
from .kinds import MODEL, Kind
from .schema_facts import KNOWN_VALUES, REPLACE_ON_CHANGE, SECRET_PATHS, SERVER_FIELDS
from .secrets import map_secrets, secret_strings

__all__ = [
    "KNOWN_VALUES",
    "REPLACE_ON_CHANGE",
    "SECRET_PATHS",
    "SERVER_FIELDS",
    "AuthData",
    "BedrockMetadata",
    "Context",
    "CustomHeader",
    "DefaultRequestOptions",
    "Endpoint",
    "EnkryptaiMetadata",
    "FieldError",
    "GeminiMetadata",
    "JwtConfig",
    "JwtHeader",
    "Metadata",
    "ModelConfig",
    "ModelRequest",
    "Paths",
    "Tool",
    "WireModel",
    "XactlyMetadata",
    "canonical",
    "map_secrets",
    "nested_model",
    "normalize_request",
    "secret_strings",
    "strip_unknown",
    "validate_request",
]

PROMPT_PLACEHOLDER = "{prompt}"


# --------------------------------------------------------------------------------------------- structure


def nested_model(annotation: Any) -> tuple[type[WireModel] | None, bool]:
    """The wire model a field holds (directly or as list items), and whether it is a list."""
    origin = get_origin(annotation)
    if origin is list:
        inner, _ = nested_model(get_args(annotation)[0])
        return inner, True
    if origin is not None:  # Optional[...] / X | None
        for arg in get_args(annotation):
            inner, is_list = nested_model(arg)
            if inner is not None or is_list:
                return inner, is_list
        return None, False
    if isinstance(annotation, type) and issubclass(annotation, WireModel):
        return annotation, False
    return None, False


def _fields(model: type[WireModel]) -> dict[str, tuple[type[WireModel] | None, bool]]:
    """Wire key -> (nested model, is list) for a model's declared fields."""
    return {(f.alias or name): nested_model(f.annotation) for name, f in model.model_fields.items()}


_FIELDS: dict[type[WireModel], dict[str, tuple[type[WireModel] | None, bool]]] = {}


def _declared(model: type[WireModel]) -> dict[str, tuple[type[WireModel] | None, bool]]:
    if model not in _FIELDS:
        _FIELDS[model] = _fields(model)
    return _FIELDS[model]


def _walk_declared(
    obj: Mapping[str, Any], model: type[WireModel], path: str, visit: Callable[[str, str, Any], bool]
) -> dict[str, Any]:
    """Rebuild ``obj`` keeping declared keys for which ``visit(path, key, value)`` is true, recursing."""
    out: dict[str, Any] = {}
    declared = _declared(model)
    for key, value in obj.items():
        if key not in declared:
            if visit(path, key, value):
                out[key] = value
            continue
        child_path = f"{path}.{key}" if path else key
        if not visit(path, key, value):
            continue
        nested, is_list = declared[key]
        if nested is not None and is_list and isinstance(value, list):
            value = [
                _walk_declared(v, nested, child_path + "[*]", visit) if isinstance(v, Mapping) else v for v in value
            ]
        elif nested is not None and isinstance(value, Mapping):
            value = _walk_declared(value, nested, child_path, visit)
        out[key] = value
    return out


def normalize_request(obj: Mapping[str, Any]) -> dict[str, Any]:
    """Treat null declared fields and empty enum strings as absent, as Enkrypt does (the official SDK sends
    them). Free-form objects (``custom_payload``, ...) keep their nulls."""
    return normalize(MODEL, obj)


def request_model(kind: Kind) -> type[WireModel]:
    """The generated pydantic model of a kind's request body."""
    module, _, name = kind.wire_model.partition(":")
    model: type[WireModel] = getattr(importlib.import_module(module), name)
    return model


def normalize(kind: Kind, obj: Mapping[str, Any]) -> dict[str, Any]:
    """``normalize_request`` for any kind."""
    known = kind.facts.known_values

    def keep(path: str, key: str, value: Any) -> bool:
        child = f"{path}.{key}" if path else key
        if value is None:
            return False
        return not (value == "" and child in known)

    return _walk_declared(obj, request_model(kind), "", keep)


def strip_unknown(obj: Mapping[str, Any], kind: Kind = MODEL) -> dict[str, Any]:
    """Drop keys the schema does not declare, at every depth (the server ignores them rather than failing),
    except in the objects the kind declares closed (``kind.closed``): there they stay, for validation to
    reject."""
    return _declared_only(request_model(kind), obj, "", frozenset(kind.closed))


def _declared_only(
    model: type[WireModel], obj: Mapping[str, Any], path: str, closed: frozenset[str]
) -> dict[str, Any]:
    declared = _declared(model)
    out: dict[str, Any] = {}
    for key, value in obj.items():
        child = f"{path}.{key}" if path else key
        if key not in declared:
            if path in closed:
                out[key] = value
            continue
        nested, is_list = declared[key]
        if nested is not None and is_list and isinstance(value, list):
            value = [_declared_only(nested, v, child + "[*]", closed) if isinstance(v, Mapping) else v for v in value]
        elif nested is not None and isinstance(value, Mapping):
            value = _declared_only(nested, value, child, closed)
        out[key] = value
    return out


# --------------------------------------------------------------------------------------------- validation


def _format_loc(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "(body)"


_REASONS = {
    "missing": "is required",
    "extra_forbidden": "is not a field of the Enkrypt model schema",
}


def _contains(value: Any, needle: str) -> bool:
    if isinstance(value, str):
        return needle in value
    if isinstance(value, Mapping):
        return any(_contains(v, needle) or _contains(k, needle) for k, v in value.items())
    if isinstance(value, list):
        return any(_contains(v, needle) for v in value)
    return False


def _model_rules(body: Mapping[str, Any], strict_providers: bool) -> list[FieldError]:
    """Rules across fields that the OpenAPI states in prose, not in its types."""
    errors: list[FieldError] = []
    config = body.get("model_config")
    config = config if isinstance(config, Mapping) else {}
    if body.get("testing_for") == "foundationModels" and not body.get("model_name"):
        errors.append(FieldError("model_name", "is required when testing_for is foundationModels"))
    if config.get("model_auth_type") == "jwt":
        jwt = config.get("model_jwt_config")
        if not isinstance(jwt, Mapping) or not jwt.get("jwt_url"):
            errors.append(
                FieldError("model_config.model_jwt_config", "needs at least jwt_url when model_auth_type is jwt")
            )
    payload = config.get("custom_payload")
    if isinstance(payload, Mapping) and payload and not _contains(payload, PROMPT_PLACEHOLDER):
        errors.append(FieldError("model_config.custom_payload", "must contain the placeholder {prompt}"))
    provider = config.get("model_provider")
    known = KNOWN_VALUES["model_config.model_provider"]
    if strict_providers and isinstance(provider, str) and provider not in known:
        errors.append(FieldError("model_config.model_provider", f"unknown provider {provider!r} (strict checking)"))
    return errors


def validate_request(
    obj: Mapping[str, Any], *, strict_providers: bool = False
) -> tuple[ModelRequest | None, list[FieldError]]:
    """Validate a (normalized) model body; every failure names its key path and never echoes a value."""
    model, errors = validate(MODEL, obj, strict_providers=strict_providers)
    assert model is None or isinstance(model, ModelRequest)
    return model, errors


def _errors_of(exc: pydantic.ValidationError, kind: Kind = MODEL) -> list[FieldError]:
    errors = []
    reasons = {**_REASONS, "extra_forbidden": f"is not a field of the Enkrypt {kind.noun} schema"}
    for err in exc.errors(include_input=False, include_url=False):
        reason = reasons.get(err["type"], err["msg"][:1].lower() + err["msg"][1:])
        errors.append(FieldError(_format_loc(tuple(err["loc"])), reason))
    return errors


# Rules across fields, per kind (what the schema states in prose, not in its types).
RULES: dict[str, Callable[[Mapping[str, Any], bool], list[FieldError]]] = {"Model": _model_rules}


def validate(
    kind: Kind, obj: Mapping[str, Any], *, strict_providers: bool = False
) -> tuple[WireModel | None, list[FieldError]]:
    """``validate_request`` for any kind: its generated model, then its rules."""
    errors: list[FieldError] = []
    model: WireModel | None = None
    try:
        model = request_model(kind).model_validate(obj)
    except pydantic.ValidationError as exc:
        errors += _errors_of(exc, kind)
    rules = RULES.get(kind.name)
    if rules is not None:
        errors += rules(obj, strict_providers)
    errors += _blank_where_defaulted(obj, kind.facts.server_defaults)
    return (model if not errors else None), errors


def defaulted_blanks(obj: Mapping[str, Any], defaults: Mapping[str, Any], path: str = "") -> list[str]:
    """Key paths of ``obj`` that hold an empty text where the service fills in a text of its own (a deployment's
    model_version, a policy_violation's policy_text, a system_prompt's index): Enkrypt takes each as left out
    and answers its default. The provider refuses them (drift on every refresh otherwise); the local server
    takes them as left out, as the service does with the SDK's blanks."""
    found = []
    for key, default in defaults.items():
        given, at = obj.get(key), f"{path}.{key}" if path else key
        if isinstance(default, Mapping) and isinstance(given, Mapping):
            found += defaulted_blanks(given, default, at)
        elif given == "" and isinstance(default, str) and default:
            found.append(at)
    return found


def _blank_where_defaulted(obj: Mapping[str, Any], defaults: Mapping[str, Any]) -> list[FieldError]:
    return [
        FieldError(at, f"must not be empty: leave it out for Enkrypt's default ({_at(defaults, at)!r})")
        for at in defaulted_blanks(obj, defaults)
    ]


def _at(obj: Mapping[str, Any], path: str) -> Any:
    for key in path.split("."):
        obj = obj[key]
    return obj


def canonical(obj: Mapping[str, Any], kind: Kind = MODEL) -> dict[str, Any]:
    """A comparable form of a body: normalized, numbers typed by the schema (the engine sends floats)."""
    normalized = normalize(kind, {k: v for k, v in obj.items() if k in kind.facts.top_level_fields})
    try:
        dumped: dict[str, Any] = (
            request_model(kind).model_validate(normalized).model_dump(by_alias=True, exclude_none=True)
        )
        return dumped
    except pydantic.ValidationError:
        return normalized
