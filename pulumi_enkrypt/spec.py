"""The validated model spec: from resource properties to a request body, and from a server answer back.

Data flows one way: properties (inputs or state) -> ``request_body`` -> request; response -> ``server_view``
(the server's answer projected onto the inputs) -> outputs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pulumi.output import Unknown
from pulumi.runtime.rpc import UNKNOWN

from .schema_facts import (
    ADOPT_EXISTING,
    COMPUTED_OUTPUTS,
    HOISTED_FIELDS,
    INTEGER_PATHS,
    SECRET_PATHS,
    SERVER_FIELDS,
    TOP_LEVEL_FIELDS,
)
from .secrets import is_masked, not_real_secret, secret_items

if TYPE_CHECKING:
    from .wire import FieldError

# The wire models (pydantic) are imported by the steps that validate or compare, not at module level: a
# refresh or a destroy needs none of them, and importing them is most of a provider process's start-up.


SECRET_REVISIONS = "secret_revisions"
"""A computed input: secret key path -> how often its value changed. The engine shows a secret as
``[secret]`` on both sides of a diff, so a rotated key would be an update that names no field; this
counter is what a reviewer sees change instead (``~ secret_revisions: {model_config.apikeys: 1 => 2}``)."""


def resource_id(name: str, version: str) -> str:
    return f"{name}:{version}"


def parse_id(id_: str) -> tuple[str, str]:
    """Invert ``resource_id``: the version is after the LAST colon (names may hold colons)."""
    name, sep, version = id_.rpartition(":")
    if not sep:
        return id_, "v1"
    return name, version


def is_unknown(value: Any) -> bool:
    """True if the value, or anything inside it, is unknown (preview before a dependency exists)."""
    if _is_unknown_leaf(value):
        return True
    if isinstance(value, Mapping):
        return any(is_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(is_unknown(v) for v in value)
    return False


def _is_unknown_leaf(value: Any) -> bool:
    # The provider host hands unknowns over as Unknown objects; the wire form is a sentinel string.
    return isinstance(value, Unknown) or (isinstance(value, str) and value == UNKNOWN)


def _unknown_paths(value: Any, path: str = "") -> list[str]:
    if _is_unknown_leaf(value):
        return [path]
    found: list[str] = []
    if isinstance(value, Mapping):
        for k, v in value.items():
            found += _unknown_paths(v, f"{path}.{k}" if path else str(k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += _unknown_paths(v, f"{path}[{i}]")
    return found


def schema_part(props: Mapping[str, Any]) -> dict[str, Any]:
    """Only the fields Enkrypt's schema has (no ``__provider``, ``adopt_existing`` or server fields)."""
    return {k: v for k, v in props.items() if k in TOP_LEVEL_FIELDS}


def check(props: Mapping[str, Any], *, strict_providers: bool = False) -> tuple[dict[str, Any], list[FieldError]]:
    """Validate the properties once: (the canonical inputs, every reason they are not a valid model).

    The canonical inputs are what Enkrypt would store (nulls and empty enum strings dropped, numbers typed by
    the schema) plus our own keys; diff, create and update then work on them as plain data. While anything is
    still unknown (preview), or when invalid, the properties come back as given, and reasons about what is
    unknown are skipped."""
    from . import wire

    body = wire.normalize_request(schema_part(props))
    model, errors = wire.validate_request(body, strict_providers=strict_providers)
    allowed = {*TOP_LEVEL_FIELDS, *SERVER_FIELDS, ADOPT_EXISTING, SECRET_REVISIONS, "__provider"}
    errors += [wire.FieldError(k, "is not a field of the Enkrypt model schema") for k in props if k not in allowed]
    # A placeholder or a mask sent as a secret would overwrite the real secret in Enkrypt.
    for path, value in secret_items(body):
        if (reason := not_real_secret(value)) is not None:
            errors.append(wire.FieldError(path, reason))
    unknown = _unknown_paths(body)
    if unknown:

        def related(error_path: str, unknown_path: str) -> bool:
            return error_path.startswith(unknown_path) or unknown_path.startswith(error_path)

        return dict(props), [e for e in errors if not any(related(e.path, u) for u in unknown)]
    if errors or model is None:
        return dict(props), errors
    ours = {k: v for k, v in props.items() if k not in TOP_LEVEL_FIELDS}
    return {**ours, **model.model_dump(by_alias=True, exclude_none=True)}, []


def check_failures(props: Mapping[str, Any], *, strict_providers: bool = False) -> list[FieldError]:
    """Every reason the properties are not a valid model, skipping what is still unknown."""
    return check(props, strict_providers=strict_providers)[1]


def with_secret_revisions(olds: Mapping[str, Any], news: Mapping[str, Any]) -> dict[str, Any]:
    """``news`` plus its ``secret_revisions``: each secret path present keeps its count from ``olds`` while its
    value is the same, and counts one more when it changed. Unknown values (preview) keep the count."""
    old_counts = olds.get(SECRET_REVISIONS)
    old_counts = old_counts if isinstance(old_counts, Mapping) else {}
    old_values, new_values = secret_values_by_path(olds), secret_values_by_path(news)
    counts: dict[str, int] = {}
    for pattern, values in new_values.items():
        count = int(old_counts.get(pattern) or 1)
        if pattern in old_values and old_values[pattern] != values and not is_unknown(values):
            count += 1
        counts[pattern] = count
    out = dict(news)
    out.pop(SECRET_REVISIONS, None)
    if counts:
        out[SECRET_REVISIONS] = counts
    return out


def secret_values_by_path(props: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Secret path pattern (``model_config.custom_headers[*].value``) -> the values under it, in order."""
    from .secrets import secret_values_at

    return {pattern: values for pattern in SECRET_PATHS if (values := secret_values_at(props, pattern))}


def request_body(props: Mapping[str, Any]) -> dict[str, Any]:
    """The add-model / modify-model body for checked properties: their schema fields, as they are. The engine
    hands every number over as a float: the integer fields of the schema go out as integers again."""
    body: dict[str, Any] = _integers(schema_part(props), "")
    return body


def _integers(value: Any, path: str) -> Any:
    if isinstance(value, float) and path in INTEGER_PATHS and value.is_integer():
        return int(value)
    if isinstance(value, Mapping):
        return {k: _integers(v, f"{path}.{k}" if path else k) for k, v in value.items()}
    if isinstance(value, list):
        return [_integers(v, f"{path}[*]") for v in value]
    return value


def identity(props: Mapping[str, Any]) -> tuple[str, str]:
    return str(props["model_saved_name"]), str(props["model_version"])


def known_identity(props: Mapping[str, Any]) -> tuple[str, str] | None:
    """The identity when both parts are known strings (not during a preview that awaits them)."""
    name, version = props.get("model_saved_name"), props.get("model_version")
    if isinstance(name, str) and isinstance(version, str) and not (is_unknown(name) or is_unknown(version)):
        return name, version
    return None


def _get_path(node: Any, parts: list[str]) -> tuple[bool, Any]:
    for part in parts:
        if not isinstance(node, Mapping) or part not in node:
            return False, None
        node = node[part]
    return True, node


def _set_path(node: dict[str, Any], parts: list[str], value: Any) -> None:
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[parts[-1]] = value


def server_view(model: Mapping[str, Any], state: Mapping[str, Any]) -> dict[str, Any]:
    """The inputs as the server now holds them, tolerating both response shapes of the contract.

    What the server does not echo (``rate_per_min``) or echoes masked (secrets) keeps its value from
    ``state``, so neither shows up as drift; a secret the server returns in clear and different is drift.
    """
    view = {k: v for k, v in model.items() if k in TOP_LEVEL_FIELDS}
    config = dict(view.get("model_config") or {})
    # The documented shape moves these two to the top level.
    for key in HOISTED_FIELDS:
        if key not in config and key in model:
            config[key] = model[key]
    state_config = state.get("model_config") if isinstance(state.get("model_config"), Mapping) else {}
    assert isinstance(state_config, Mapping)
    if "rate_per_min" not in config and state_config.get("rate_per_min") is not None:
        config["rate_per_min"] = state_config["rate_per_min"]
    view["model_config"] = config

    for path in SECRET_PATHS:
        head, _, tail = path.partition("[*]")
        parts = head.split(".")
        has_state, state_value = _get_path(state, parts)
        if not has_state:
            continue
        has_server, server_value = _get_path(view, parts)
        if tail:  # a field of each list element, e.g. custom_headers[*].value: match elements by index
            if not has_server or not isinstance(server_value, list) or not isinstance(state_value, list):
                continue
            key = tail.lstrip(".")
            for element, state_element in zip(server_value, state_value, strict=False):
                if not (isinstance(element, dict) and isinstance(state_element, Mapping)) or key not in state_element:
                    continue
                if key not in element or is_masked(element[key]):
                    element[key] = state_element[key]
            continue
        if not has_server or is_masked(server_value):
            _set_path(view, parts, state_value)
    return view


def same_model(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Whether two bodies describe the same model, as Enkrypt would store it."""
    from .wire import canonical

    return canonical(a) == canonical(b)


def changed_fields(olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[str]:
    """Top-level schema fields that differ; an unknown new value counts as a change.

    ``news`` are checked, canonical inputs and ``olds`` the outputs in state, so plain equality decides
    (443.0 == 443). Only a field that looks different is compared in canonical form: outputs stored by a
    release that kept inputs as given (nulls, empty enum strings) must not show a change."""
    new_props = schema_part(news)
    changed = [key for key in TOP_LEVEL_FIELDS if olds.get(key) != new_props.get(key)]
    if not changed:
        return []
    from .wire import canonical

    old = canonical(schema_part(olds))
    new = canonical({k: v for k, v in new_props.items() if not is_unknown(v)})
    return [
        key
        for key in changed
        if (key in new_props and is_unknown(new_props[key])) or old.get(key) != new.get(key)
    ]


def outputs(inputs: Mapping[str, Any], model: Mapping[str, Any]) -> dict[str, Any]:
    """Outputs are the inputs (secrets at the same key paths, so the engine keeps them secret) plus what
    the server computed."""
    outs = {k: v for k, v in inputs.items() if k != "__provider"}
    for key in COMPUTED_OUTPUTS:
        if key in model:
            outs[key] = model[key]
    return outs
