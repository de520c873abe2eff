"""Data shared by the provider tests (a uniquely named module: several test folders have a conftest)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

API_KEY = "test-key-provider"
OPENAPI = Path(__file__).resolve().parents[2] / "schema" / "add-model.openapi.yaml"


def enkrypt_examples() -> dict[str, dict[str, Any]]:
    """Enkrypt's own request examples from its OpenAPI: the Together model and the custom agent."""
    spec = yaml.safe_load(OPENAPI.read_text())
    examples = spec["paths"]["/models/add-model"]["post"]["requestBody"]["content"]["application/json"]["examples"]
    return {name: json.loads(json.dumps(e["value"])) for name, e in examples.items()}
