"""Where the secrets of a model body are: walk, copy with, or collect the values at the secret key paths;
and scrub them from text that leaves the process (error messages).

Plain Python over ``schema_facts.SECRET_PATHS``, so the client and the program process use it without
importing the wire models.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Final

from .schema_facts import KNOWN_VALUES, SECRET_PATHS

__all__ = [
    "MIN_SECRET_LENGTH",
    "PLACEHOLDER",
    "SECRET_PATHS",
    "SECRET_PLACEHOLDER",
    "is_masked",
    "map_secrets",
    "not_real_secret",
    "scrub",
    "secret_items",
    "secret_strings",
    "secret_values",
    "secret_values_at",
]

PLACEHOLDER = "REPLACE_ME"
"""What ``pulumi-enkrypt export`` writes where it does not know a secret (the server sent it masked)."""

MASK_CHARS = frozenset("*•x")
"""Characters a server masks a secret with (``********``, ``••••``, ``xxxx``)."""


def is_masked_string(value: str) -> bool:
    """A string that is a mask, not a value: ``********``, ``••••``, ``sk-****abcd``."""
    return (len(value) >= 3 and set(value) <= MASK_CHARS) or "****" in value


# Enum values under a secret path (jwt_method) are not secret: a masking server shows them in clear.
_ENUM_KEYS = frozenset(
    path.rsplit(".", 1)[1] for path in KNOWN_VALUES for secret in SECRET_PATHS if path.startswith(f"{secret}.")
)


def is_masked(value: Any) -> bool:
    """Whether a secret, as a server sent it back, hides its value (a mask, or an empty string) rather than
    showing it. An empty list is a value (no keys), not a mask; so is an empty object."""
    if isinstance(value, str):
        return value == "" or is_masked_string(value)
    if isinstance(value, list):
        return bool(value) and all(is_masked(v) for v in value)
    if isinstance(value, Mapping):
        shown = [v for k, v in value.items() if k not in _ENUM_KEYS]
        return bool(shown) and all(is_masked(v) for v in shown)
    return False


def not_real_secret(value: str) -> str | None:
    """Why a secret value cannot be the real one (our export placeholder, or a server's mask), else None."""
    if value.strip().upper() == PLACEHOLDER:
        # Not quoted: the CLI prints a secret config value as [secret] wherever it appears, this one too.
        return "is the placeholder that pulumi-enkrypt export writes where it could not read a secret; set the real one"
    # Not "xxxx": Enkrypt's own examples use it as a key, and a server masking with x is rare.
    if (len(value) >= 3 and set(value) <= {"*", "•"}) or "****" in value:
        return "is a masked value (as a server shows a secret), not the secret itself; set the real value"
    return None


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


def map_secrets(
    obj: Mapping[str, Any], fn: Callable[[Any], Any], patterns: tuple[str, ...] = SECRET_PATHS
) -> dict[str, Any]:
    """A deep copy of ``obj`` with ``fn`` applied to the value at each secret path that is present."""
    out: dict[str, Any] = copy.deepcopy(dict(obj))
    for path in patterns:
        _map_path(out, path.split("."), fn)
    return out


def _items(node: Any, parts: list[str], path: str) -> Iterator[tuple[str, Any]]:
    if not parts:
        yield path, node
        return
    head, rest = parts[0], parts[1:]
    key = head.removesuffix("[*]")
    if not isinstance(node, Mapping) or node.get(key) is None:
        return
    child = f"{path}.{key}" if path else key
    if head.endswith("[*]"):
        if isinstance(node[key], list):
            for i, item in enumerate(node[key]):
                yield from _items(item, rest, f"{child}[{i}]")
    else:
        yield from _items(node[key], rest, child)


def secret_values_at(obj: Mapping[str, Any], pattern: str) -> list[Any]:
    """The values present at one secret path pattern (one per list element for ``[*]``)."""
    return [value for _, value in _items(obj, pattern.split("."), "")]


def secret_items(obj: Mapping[str, Any], patterns: tuple[str, ...] = SECRET_PATHS) -> Iterator[tuple[str, str]]:
    """(key path, string) for every string held under a secret path, e.g. ``model_config.apikeys[0]``."""
    for pattern in patterns:
        for path, value in _items(obj, pattern.split("."), ""):
            yield from _located_strings(value, path)


def _located_strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for k, v in value.items():
            yield from _located_strings(v, f"{path}.{k}")
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            yield from _located_strings(v, f"{path}[{i}]")


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _strings(v)


def secret_strings(obj: Mapping[str, Any], patterns: tuple[str, ...] = SECRET_PATHS) -> list[str]:
    """Every non-empty string held under a secret path (to scrub from messages)."""
    found: list[str] = []

    def collect(value: Any) -> Any:
        found.extend(_strings(value))
        return value

    map_secrets(obj, collect, patterns)
    return [s for s in found if s]


SECRET_PLACEHOLDER: Final = "[secret]"
"""What :func:`scrub` writes in place of a secret."""
MIN_SECRET_LENGTH: Final = 4
"""Shorter strings are not scrubbed: replacing every "ab" would garble messages and hide nothing."""


def secret_values(body: Any, extra: Iterable[str] = ()) -> set[str]:
    """Every string of length >= 4 found under a secret path of ``body``, plus ``extra``."""
    found = set(secret_strings(body)) if isinstance(body, Mapping) else set()
    found.update(s for s in extra if isinstance(s, str))
    return {s for s in found if len(s) >= MIN_SECRET_LENGTH}


def scrub(text: str, secrets: Iterable[str]) -> str:
    """Replace each secret (and its JSON-escaped form) in ``text`` with ``[secret]``, longest first."""
    variants: set[str] = set()
    for s in secrets:
        if not s:
            continue
        variants.add(s)
        escaped = json.dumps(s)[1:-1]
        if escaped != s:
            variants.add(escaped)
    for s in sorted(variants, key=len, reverse=True):
        text = text.replace(s, SECRET_PLACEHOLDER)
    return text
