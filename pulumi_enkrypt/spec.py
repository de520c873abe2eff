"""The validated spec of an object of any kind: from resource properties to a request body, and from a
server answer back.

Data flows one way: properties -> ``check`` (validated once, canonical) -> ``request_body`` -> request;
response -> ``server_view`` (the server's answer projected onto the inputs) -> outputs. Every function takes
the object's ``Kind`` (``kinds.MODEL`` by default) and reads its facts from there.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from pulumi.output import Unknown
from pulumi.runtime.rpc import UNKNOWN

from ._exceptions import FieldError
from .kinds import MODEL, Kind
from .secrets import is_masked, not_real_secret, secret_items, secret_values_at

# The wire models (pydantic) are imported by the steps that validate or compare, not at module level: a
# refresh or a destroy needs none of them, and importing them is most of a provider process's start-up.


SECRET_REVISIONS = "secret_revisions"
"""A computed input: secret key path -> how often its value changed. The engine shows a secret as
``[secret]`` on both sides of a diff, so a rotated key would be an update that names no field; this
counter is what a reviewer sees change instead (``~ secret_revisions: {model_config.apikeys: 1 => 2}``)."""


def resource_id(*identity: str, kind: Kind = MODEL) -> str:
    return kind.resource_id(identity)


def parse_id(id_: str, kind: Kind = MODEL) -> tuple[str, ...]:
    """Invert ``resource_id``: the last parts are after the LAST colons (names may hold colons)."""
    return kind.parse_id(id_)


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


def schema_part(props: Mapping[str, Any], kind: Kind = MODEL) -> dict[str, Any]:
    """Only the fields Enkrypt's schema has (no ``__provider``, ``adopt_existing`` or server fields)."""
    return {k: v for k, v in props.items() if k in kind.facts.top_level_fields}


def check(
    props: Mapping[str, Any], *, kind: Kind = MODEL, strict_providers: bool = False
) -> tuple[dict[str, Any], list[FieldError]]:
    """Validate the properties once: (the canonical inputs, every reason they are not a valid model).

    The canonical inputs are what Enkrypt would store (nulls and empty enum strings dropped, numbers typed by
    the schema) plus our own keys; diff, create and update then work on them as plain data. While anything is
    still unknown (preview), or when invalid, the properties come back as given, and reasons about what is
    unknown are skipped."""
    from . import wire

    facts = kind.facts
    body = wire.normalize(kind, schema_part(props, kind))
    model, errors = wire.validate(kind, body, strict_providers=strict_providers)
    allowed = {*facts.top_level_fields, *facts.server_fields, facts.adopt_input, SECRET_REVISIONS, "__provider"}
    unknown_reason = f"is not a field of the Enkrypt {kind.noun} schema"
    errors += [FieldError(k, unknown_reason) for k in props if k not in allowed]
    errors += secret_failures(body, kind)
    unknown = _unknown_paths(body)
    if unknown:

        def related(error_path: str, unknown_path: str) -> bool:
            return error_path.startswith(unknown_path) or unknown_path.startswith(error_path)

        return dict(props), [e for e in errors if not any(related(e.path, u) for u in unknown)]
    if errors or model is None:
        return dict(props), errors
    ours = {k: v for k, v in props.items() if k not in facts.top_level_fields}
    return {**ours, **model.model_dump(by_alias=True, exclude_none=True)}, []


def secret_failures(body: Mapping[str, Any], kind: Kind = MODEL) -> list[FieldError]:
    """A placeholder or a mask where a secret belongs: sent, it would overwrite the real secret in Enkrypt."""
    return [
        FieldError(path, reason)
        for path, value in secret_items(body, kind.facts.secret_paths)
        if (reason := not_real_secret(value)) is not None
    ]


def check_failures(
    props: Mapping[str, Any], *, kind: Kind = MODEL, strict_providers: bool = False
) -> list[FieldError]:
    """Every reason the properties are not a valid object, skipping what is still unknown."""
    return check(props, kind=kind, strict_providers=strict_providers)[1]


def with_secret_revisions(olds: Mapping[str, Any], news: Mapping[str, Any], kind: Kind = MODEL) -> dict[str, Any]:
    """``news`` plus its ``secret_revisions``: each secret path present keeps its count from ``olds`` while its
    value is the same, and counts one more when it changed. Unknown values (preview) keep the count."""
    old_counts = olds.get(SECRET_REVISIONS)
    old_counts = old_counts if isinstance(old_counts, Mapping) else {}
    old_values, new_values = secret_values_by_path(olds, kind), secret_values_by_path(news, kind)
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


def secret_values_by_path(props: Mapping[str, Any], kind: Kind = MODEL) -> dict[str, list[Any]]:
    """Secret path pattern (``model_config.custom_headers[*].value``) -> the values under it, in order."""
    patterns = kind.facts.secret_paths
    return {pattern: values for pattern in patterns if (values := secret_values_at(props, pattern))}


def request_body(props: Mapping[str, Any], kind: Kind = MODEL) -> dict[str, Any]:
    """The add / modify body for checked properties: their schema fields, as they are. The engine hands every
    number over as a float: the integer fields of the schema go out as integers again."""
    body: dict[str, Any] = _integers(schema_part(props, kind), "", kind.facts.integer_paths)
    return body


def _integers(value: Any, path: str, integer_paths: frozenset[str]) -> Any:
    if isinstance(value, float) and path in integer_paths and value.is_integer():
        return int(value)
    if isinstance(value, Mapping):
        return {k: _integers(v, f"{path}.{k}" if path else k, integer_paths) for k, v in value.items()}
    if isinstance(value, list):
        return [_integers(v, f"{path}[*]", integer_paths) for v in value]
    return value


def identity(props: Mapping[str, Any], kind: Kind = MODEL) -> tuple[str, ...]:
    return kind.identity_of(props)


def known_identity(props: Mapping[str, Any], kind: Kind = MODEL) -> tuple[str, ...] | None:
    """The identity when every part is a known string (not during a preview that awaits one)."""
    values = [props.get(field) for field in kind.identity]
    if all(isinstance(v, str) and not is_unknown(v) for v in values):
        return tuple(str(v) for v in values)
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


def unhoisted(obj: Mapping[str, Any], kind: Kind = MODEL) -> dict[str, Any]:
    """The object with the fields a response shape copied to the top level (and may have dropped from their
    object: the documented shape does) put back where they belong."""
    out = dict(obj)
    if kind.hoisted_into:
        holder = dict(out.get(kind.hoisted_into) or {})
        for key in kind.facts.hoisted_fields:
            if key not in holder and key in out:
                holder[key] = out[key]
        out[kind.hoisted_into] = holder
    return out


def server_view(model: Mapping[str, Any], state: Mapping[str, Any], kind: Kind = MODEL) -> dict[str, Any]:
    """The inputs as the server now holds them, tolerating both response shapes of the contract.

    What the server does not echo (``kind.unechoed``: a model's ``rate_per_min``) or echoes masked
    (secrets) keeps its value from ``state``, so neither shows up as drift; a secret the server returns in
    clear and different is drift. What it fills in by default (``kind.facts.server_defaults``: a policy's
    detectors left out) is left out again where ``state`` has nothing; any other value there is drift.
    """
    view = {k: v for k, v in unhoisted(model, kind).items() if k in kind.facts.top_level_fields}
    if kind.facts.server_defaults:
        view = copy.deepcopy(view)
        _drop_defaults(view, state, kind.facts.server_defaults)
    for path in kind.unechoed:
        parts = path.split(".")
        has_state, state_value = _get_path(state, parts)
        if has_state and state_value is not None and not _get_path(view, parts)[0]:
            _set_path(view, parts, state_value)

    for path in kind.facts.secret_paths:
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


def _drop_defaults(view: dict[str, Any], state: Mapping[str, Any], defaults: Mapping[str, Any]) -> None:
    """Remove from ``view`` each value the server filled in: equal to its default where ``state`` has none
    (an object: each of its fields so, and then the object if nothing else is left)."""
    for key, default in defaults.items():
        if key not in view:
            continue
        given = state.get(key)
        if isinstance(default, Mapping) and isinstance(view[key], dict):
            _drop_defaults(view[key], given if isinstance(given, Mapping) else {}, default)
            if given is None and not view[key]:
                del view[key]
        elif given is None and view[key] == default:
            del view[key]


def same_model(a: Mapping[str, Any], b: Mapping[str, Any], kind: Kind = MODEL) -> bool:
    """Whether two bodies describe the same object, as Enkrypt would store it."""
    from .wire import canonical

    return canonical(a, kind) == canonical(b, kind)


def changed_fields(olds: Mapping[str, Any], news: Mapping[str, Any], kind: Kind = MODEL) -> list[str]:
    """Top-level schema fields that differ; an unknown new value counts as a change.

    ``news`` are checked, canonical inputs and ``olds`` the outputs in state, so plain equality decides
    (443.0 == 443). Only a field that looks different is compared in canonical form: outputs stored by a
    release that kept inputs as given (nulls, empty enum strings) must not show a change."""
    new_props = schema_part(news, kind)
    changed = [key for key in kind.facts.top_level_fields if olds.get(key) != new_props.get(key)]
    if not changed:
        return []
    from .wire import canonical

    old = canonical(schema_part(olds, kind), kind)
    new = canonical({k: v for k, v in new_props.items() if not is_unknown(v)}, kind)
    return [
        key
        for key in changed
        if (key in new_props and is_unknown(new_props[key])) or old.get(key) != new.get(key)
    ]


def outputs(inputs: Mapping[str, Any], model: Mapping[str, Any], kind: Kind = MODEL) -> dict[str, Any]:
    """Outputs are the inputs (secrets at the same key paths, so the engine keeps them secret) plus what
    the server computed."""
    outs = {k: v for k, v in inputs.items() if k != "__provider"}
    for key in kind.facts.computed_outputs:
        if key in model:
            outs[key] = model[key]
    return outs
