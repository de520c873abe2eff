"""How a stored model is sent back: the official SDK's shape or the documented one, secrets masked or not."""

from __future__ import annotations

import copy
from typing import Any, Literal

from pulumi_enkrypt import wire
from pulumi_enkrypt.schema_facts import HOISTED_FIELDS

from .store import StoredModel

Shape = Literal["sdk", "documented"]
SHAPES: tuple[Shape, ...] = ("sdk", "documented")
MASK = "********"

# Exactly the init fields of enkryptai_sdk.dto.ModelConfig (its from_dict raises on any other key).
_SDK_TOP_LEVEL = (
    "created_at",
    "updated_at",
    "created_by",
    "updated_by",
    "model_id",
    "model_saved_name",
    "model_version",
    "testing_for",
    "project_name",
    "model_name",
    "certifications",
    "model_config",
    "is_sample",
)
# Copied to the top level (and removed from model_config) in Enkrypt's documented example.


def _mask_strings(value: Any) -> Any:
    if isinstance(value, str):
        return MASK
    if isinstance(value, dict):
        return {k: _mask_strings(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_strings(v) for v in value]
    return value


def _get(obj: Any, path: str) -> tuple[bool, Any]:
    for part in path.split("."):
        if not isinstance(obj, dict) or part not in obj:
            return False, None
        obj = obj[part]
    return True, obj


def mask(body: dict[str, Any]) -> dict[str, Any]:
    """Every string under a secret path becomes ``********``, except enum values (``jwt_method``): they are
    no secret, and masking them would break the SDK's parser and the schema."""
    masked = wire.map_secrets(body, _mask_strings)
    for path in wire.KNOWN_VALUES:
        found, value = _get(body, path)
        if found and "[*]" not in path:
            parent, _, leaf = path.rpartition(".")
            holder = _get(masked, parent)[1] if parent else masked
            if isinstance(holder, dict):
                holder[leaf] = value
    return masked


def _server_fields(model: StoredModel) -> dict[str, Any]:
    return {
        "model_id": model.model_id,
        "created_at": model.created_at,
        "updated_at": model.updated_at,
        "project_name": model.project,
        "created_by": model.created_by,
        "updated_by": model.updated_by,
        "is_sample": model.is_sample,
    }


def render(model: StoredModel, shape: Shape, mask_secrets: bool) -> dict[str, Any]:
    """The model object as get/list/add/modify return it.

    The stored body is already normalized (no null declared fields), which the SDK's parser needs:
    ``ModelJwtConfig.from_dict(None)`` crashes, so absent must stay absent.
    """
    body = mask(model.body) if mask_secrets else copy.deepcopy(model.body)
    body["model_saved_name"] = model.model_saved_name
    body["model_version"] = model.model_version
    config: dict[str, Any] = body.get("model_config", {})
    server = _server_fields(model)
    if shape == "sdk":
        merged = {**body, **server}
        return {k: merged[k] for k in _SDK_TOP_LEVEL if k in merged}
    out: dict[str, Any] = {**body}
    for key in ("model_id", "created_at", "updated_at", "project_name"):
        out[key] = server[key]
    for key in HOISTED_FIELDS:
        if key in config:
            out[key] = config.pop(key)
    config.pop("rate_per_min", None)
    return out
