"""Where the secrets of a model body are: walk, copy with, or collect the values at the secret key paths.

Plain Python over ``schema_facts.SECRET_PATHS``, so the client and the program process use it without
importing the wire models.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from .schema_facts import SECRET_PATHS

__all__ = ["SECRET_PATHS", "map_secrets", "secret_strings"]


def _map_path(node: Any, parts: list[str], fn: Callable[[Any], Any]) -> Any:
    if not parts:
        return fn(node)
    head, rest = parts[0], parts[1:]
    key = head.removesuffix("[*]")
    if not isinstance(node, dict) or key not in node:
        return node
    if head.endswith("[*]"):
        if isinstance(node[key], list):
            node[key] = [_map_path(v, rest, fn) for v in node[key]]
    else:
        node[key] = _map_path(node[key], rest, fn)
    return node


def map_secrets(obj: Mapping[str, Any], fn: Callable[[Any], Any]) -> dict[str, Any]:
    """A deep copy of ``obj`` with ``fn`` applied to the value at each secret path that is present."""
    out: dict[str, Any] = copy.deepcopy(dict(obj))
    for path in SECRET_PATHS:
        _map_path(out, path.split("."), fn)
    return out


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _strings(v)


def secret_strings(obj: Mapping[str, Any]) -> list[str]:
    """Every non-empty string held under a secret path (to scrub from messages)."""
    found: list[str] = []

    def collect(value: Any) -> Any:
        found.extend(_strings(value))
        return value

    map_secrets(obj, collect)
    return [s for s in found if s]
