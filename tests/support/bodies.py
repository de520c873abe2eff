"""Model request bodies: Enkrypt's two documented examples, and the one factory every test makes its bodies with.

``model_body()`` is Enkrypt's Together example (schema/add-model.openapi.yaml) with a usable API key in place of
the placeholder; ``model_body(like="agent")`` is its custom-agent example. What a test changes is an override:

    model_body("B", "v2")                                      # another identity
    model_body(model_config={"system_prompt": "Be brief."})    # one field of model_config
    model_body(model_config={"endpoint": {"port": 8080}})      # a dict merges into the dict it meets
    model_body(certifications=DROP)                            # a key left out

A dict merges into the dict it meets, key by key (recursively); ``DROP`` removes the key; any other value (a list,
a string, ``None``) replaces what was there. Every call returns a fresh copy.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

OPENAPI = Path(__file__).resolve().parents[2] / "schema" / "add-model.openapi.yaml"
DOCUMENTED = {"together": "Standard Provider (Together)", "agent": "Custom Provider"}
# The documented examples hold placeholders ("xxxxx"); a body that travels needs a key that reads as one.
API_KEYS = {"together": "sk-secret-together", "agent": "hf-secret-agent"}


class _Drop:
    def __repr__(self) -> str:
        return "DROP"


DROP: Any = _Drop()
"""An override value that removes the key."""


@functools.cache
def _documented() -> dict[str, dict[str, Any]]:
    doc = yaml.safe_load(OPENAPI.read_text())
    examples = doc["paths"]["/models/add-model"]["post"]["requestBody"]["content"]["application/json"]["examples"]
    return {name: example["value"] for name, example in examples.items()}


def enkrypt_examples() -> dict[str, dict[str, Any]]:
    """Enkrypt's own request examples, exactly as its OpenAPI gives them (placeholders included), by name."""
    return copy.deepcopy(_documented())


def merged(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``base`` with ``overrides`` merged in (the rules are in the module docstring)."""
    out = copy.deepcopy(dict(base))
    for key, value in overrides.items():
        if value is DROP:
            out.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merged(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def model_body(
    name: str | None = None, version: str | None = None, *, like: str = "together", **overrides: Any
) -> dict[str, Any]:
    """Enkrypt's documented example ``like`` ("together" or "agent") with a usable key, named ``name`` and
    ``version`` when given, with ``overrides`` (top-level fields) merged in."""
    body = merged(_documented()[DOCUMENTED[like]], {"model_config": {"apikeys": [API_KEYS[like]]}})
    identity = {"model_saved_name": name, "model_version": version}
    return merged(body, {**{k: v for k, v in identity.items() if v is not None}, **overrides})
