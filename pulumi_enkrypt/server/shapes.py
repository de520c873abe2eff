"""How a stored object is sent back: the official SDK's shape or the documented one, secrets masked or not."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, Literal

from pulumi_enkrypt.kinds import Kind
from pulumi_enkrypt.secrets import map_secrets, secret_values_at

from .store import Stored

Shape = Literal["sdk", "documented"]
SHAPES: tuple[Shape, ...] = ("sdk", "documented")
MASK = "********"


def _mask_strings(value: Any) -> Any:
    if isinstance(value, str):
        return MASK
    if isinstance(value, dict):
        return {k: _mask_strings(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_strings(v) for v in value]
    return value


def _holders(obj: dict[str, Any], path: str) -> list[Any]:
    """The objects found at a key path pattern (``a.b[*]``), as references; the body itself for ``""``."""
    return secret_values_at(obj, path) if path else [obj]


def mask(kind: Kind, body: dict[str, Any]) -> dict[str, Any]:
    """Every string under a secret path becomes ``********``, except enum values (``jwt_method``): they are
    no secret, and masking them would break the SDK's parser and the schema."""
    masked = map_secrets(body, _mask_strings, kind.facts.secret_paths)
    for path in kind.facts.known_values:
        parent, _, leaf = path.rpartition(".")
        if "[*]" in path:
            continue
        for value in secret_values_at(body, path):
            for holder in _holders(masked, parent):
                if isinstance(holder, dict):
                    holder[leaf] = value
    return masked


def server_fields(kind: Kind, stored: Stored) -> dict[str, Any]:
    """What the server adds to a body: its identity as stored, the id, the project and the audit fields."""
    return {
        **dict(zip(kind.identity, stored.identity, strict=True)),
        kind.api.id_field: stored.object_id,
        "created_at": stored.created_at,
        "updated_at": stored.updated_at,
        "project_name": stored.project,
        "created_by": stored.created_by,
        "updated_by": stored.updated_by,
        "is_sample": stored.is_sample,
    }


def with_defaults(body: dict[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    """The body with what the service fills in for a field or an object left out (section 8 of the
    guardrails contract: every detector, with its default fields)."""
    out = dict(body)
    for key, default in defaults.items():
        if out.get(key) is None:
            out[key] = copy.deepcopy(default)
        elif isinstance(default, Mapping) and isinstance(out[key], dict):
            out[key] = with_defaults(out[key], default)
    return out


def drop(body: dict[str, Any], path: str) -> None:
    """Remove the key at a dotted path (nothing when a parent is missing)."""
    *parents, leaf = path.split(".")
    for part in parents:
        body = body.get(part, {})
        if not isinstance(body, dict):
            return
    body.pop(leaf, None)


def render(
    kind: Kind, stored: Stored, shape: Shape, mask_secrets: bool, *, fill_defaults: bool = True
) -> dict[str, Any]:
    """The object as get/list/add/modify return it.

    The stored body is already normalized (no null declared fields), which the SDK's parser needs:
    ``ModelJwtConfig.from_dict(None)`` crashes, so absent must stay absent.
    """
    body = mask(kind, stored.body) if mask_secrets else copy.deepcopy(stored.body)
    if fill_defaults:
        body = with_defaults(body, kind.facts.server_defaults)
    server = server_fields(kind, stored)
    if shape == "sdk":
        merged = {**body, **server}
        return {k: merged[k] for k in kind.sdk_fields if k in merged} if kind.sdk_fields else merged
    # Enkrypt's documented example: the server fields every shape carries, some keys of one object copied
    # to the top level, and what the service never echoes left out.
    carried = (*kind.identity, kind.api.id_field, *kind.facts.computed_outputs)
    out = {**body, **{k: server[k] for k in carried if k in server}}
    nested = out.get(kind.hoisted_into) if kind.hoisted_into else None
    if isinstance(nested, dict):
        for key in kind.facts.hoisted_fields:
            if key in nested:
                out[key] = nested.pop(key)
    for path in kind.unechoed:
        drop(out, path)
    return out
