"""Enkrypt's models API as it looks on the wire: the paths, the header names, and what a model's identity
must be to travel in a header.

The client sends these and the local server answers them, so both read them from here. Plain Python (no
httpx, no pydantic): the server and the program process import it cheaply.
"""

from __future__ import annotations

from typing import Final

from .schema_facts import header_value_problem

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
    "identity_problem",
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
