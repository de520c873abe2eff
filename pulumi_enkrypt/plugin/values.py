"""Between the engine's property values and the plain data the dynamic provider's core works on.

The core (``KindProvider``, ``spec``) takes and returns plain dicts, as the dynamic-provider host hands them
over; the plugin protocol carries ``PropertyValue`` trees that say which values are secret. Going in, values
are unwrapped (an unknown value becomes the engine's sentinel string, which ``spec.is_unknown`` knows); coming
out, a value is secret where the kind's schema says so (``facts.secret_paths``) and wherever the engine sent
it as a secret, so nothing the program marked secret loses it on the way through the provider.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pulumi.provider.experimental.property_value import Computed, PropertyValue, ResourceReference
from pulumi.runtime.rpc import UNKNOWN

__all__ = ["plain", "plain_map", "wrap_map"]


def plain(value: PropertyValue) -> Any:
    """The plain Python form of one property value (secrets unwrapped, unknowns as the sentinel string)."""
    inner = value.value
    if isinstance(inner, Computed):
        return UNKNOWN
    if isinstance(inner, Mapping):
        return {k: plain(v) for k, v in inner.items()}
    if isinstance(inner, Sequence) and not isinstance(inner, str):
        return [plain(v) for v in inner]
    if isinstance(inner, ResourceReference):
        return inner.urn  # no kind takes a resource; the URN at least names what was given
    return inner


def plain_map(values: Mapping[str, PropertyValue]) -> dict[str, Any]:
    return {k: plain(v) for k, v in values.items()}


def _wrap(value: Any, path: str, secret_paths: frozenset[str], like: PropertyValue | None) -> PropertyValue:
    secret = path in secret_paths or (like is not None and like.is_secret)
    like_inner = like.value if like is not None else None
    out: PropertyValue
    if isinstance(value, Mapping):
        like_map = like_inner if isinstance(like_inner, Mapping) else {}
        out = PropertyValue(
            {
                str(k): _wrap(v, f"{path}.{k}" if path else str(k), secret_paths, like_map.get(str(k)))
                for k, v in value.items()
            }
        )
    elif isinstance(value, (list, tuple)):
        like_seq = like_inner if isinstance(like_inner, Sequence) and not isinstance(like_inner, str) else ()
        out = PropertyValue(
            [
                _wrap(v, f"{path}[*]", secret_paths, like_seq[i] if i < len(like_seq) else None)
                for i, v in enumerate(value)
            ]
        )
    elif isinstance(value, bool) or value is None or isinstance(value, str):
        out = PropertyValue(value)
    elif isinstance(value, (int, float)):
        out = PropertyValue(float(value))  # the protocol has one number type
    else:
        out = PropertyValue(str(value))  # timestamps and the like, as the JSON the server sent
    return out.with_secret(True) if secret else out


def wrap_map(
    values: Mapping[str, Any],
    secret_paths: Iterable[str] = (),
    like: Mapping[str, PropertyValue] | None = None,
) -> dict[str, PropertyValue]:
    """``values`` as property values: secret at each of ``secret_paths`` (``a.b``, ``a.list[*].c``) and
    wherever ``like`` (what the engine sent) holds a secret at the same place."""
    paths = frozenset(secret_paths)
    like = like or {}
    return {str(k): _wrap(v, str(k), paths, like.get(str(k))) for k, v in values.items()}
