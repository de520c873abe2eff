"""Enkrypt's API as it looks on the wire: the models' paths, the header names, what an identity must be to
travel in a header, and how a body the resource holds becomes the body Enkrypt takes (and back).

The client sends these and the local server answers them, so both read them from here. Plain Python (no
httpx, no pydantic): the server and the program process import it cheaply.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from .schema_facts import header_value_problem

if TYPE_CHECKING:
    from .kinds import Kind

__all__ = [
    "API_KEY_HEADER",
    "HEADER_MODEL",
    "HEADER_REFRESH",
    "HEADER_VERSION",
    "IDENTITY_HEADERS",
    "MODEL_PATHS",
    "PATH_ADD",
    "PATH_DELETE",
    "PATH_GET",
    "PATH_LIST",
    "PATH_MODIFY",
    "form_fields",
    "from_wire",
    "identity_problem",
    "to_wire",
]

PATH_ADD: Final = "/models/add-model"
PATH_GET: Final = "/models/get-model"
PATH_LIST: Final = "/models/list-models"
PATH_MODIFY: Final = "/models/modify-model"
PATH_DELETE: Final = "/models/delete-model"
MODEL_PATHS: Final = frozenset({PATH_ADD, PATH_GET, PATH_LIST, PATH_MODIFY, PATH_DELETE})

API_KEY_HEADER: Final = "apikey"
"""The header that carries the Enkrypt API key, on every call."""
HEADER_MODEL: Final = "X-Enkrypt-Model"
HEADER_VERSION: Final = "X-Enkrypt-Model-Version"
HEADER_REFRESH: Final = "X-Enkrypt-Refresh-Cache"
"""``true`` asks get-model to bypass Enkrypt's cache."""

IDENTITY_HEADERS: Final[dict[str, str]] = {"model_saved_name": HEADER_MODEL, "model_version": HEADER_VERSION}
"""The identity field each header carries (get, modify and delete name their model in headers)."""


def identity_problem(value: object) -> str | None:
    """Why ``value`` cannot be a model name or version (which travel in the identity headers), or None.

    The contract's ``header-value`` format (``schema_facts.header_value_problem``, which the wire schema
    checks too) plus what its ``minLength: 1`` and ``type: string`` say."""
    if not isinstance(value, str):
        return f"must be a string, got {type(value).__name__}"
    if not value:
        return "must not be empty"
    return header_value_problem(value)


def to_wire(kind: Kind, body: Mapping[str, Any]) -> dict[str, Any]:
    """The body Enkrypt takes for what the resource holds: a text list (a code-of-conduct policy's ``rules``)
    travels joined by newlines, with its count."""
    wire = dict(body)
    for key, (text, count) in kind.text_lists.items():
        items = wire.pop(key, None)
        if isinstance(items, list):
            wire[text] = "\n".join(str(item) for item in items)
            wire[count] = len(items)
    return wire


def from_wire(kind: Kind, obj: Mapping[str, Any]) -> dict[str, Any]:
    """What the resource holds for an object Enkrypt sends: a text list read back one trimmed item per line
    (blank lines dropped); its count stays, as Enkrypt says it."""
    held = dict(obj)
    for key, (text, _count) in kind.text_lists.items():
        value = held.pop(text, None)
        if isinstance(value, str):
            held[key] = [line.strip() for line in value.splitlines() if line.strip()]
    return held


def form_fields(body: Mapping[str, Any]) -> dict[str, str]:
    """A wire body as form fields: text as it is, numbers as digits, objects and lists as JSON (the way the
    SDK sends a form; it never sends a null)."""
    fields: dict[str, str] = {}
    for key, value in body.items():
        if value is None:
            continue
        if isinstance(value, str):
            fields[key] = value
        elif isinstance(value, (bool, dict, list)):
            fields[key] = json.dumps(value, separators=(",", ":"))
        else:
            fields[key] = str(value)
    return fields
