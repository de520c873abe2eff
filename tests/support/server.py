"""What the tests share about the local Enkrypt server: the API keys each suite's server accepts, its settings
with every fault off, the identity headers of one model, and reads of what it holds and what it was asked."""

from __future__ import annotations

from typing import Any

from pulumi_enkrypt.server.process import RunningServer

E2E_API_KEY = "e2e-api-key-3f9a7c"
"""The key of the ``enkrypt_server`` fixture (tests/conftest.py); its project is "default"."""
SERVER_TESTS_KEY = "test-key-0123456789"
"""tests/server: the key of the module's shared server (project "default")."""
OTHER_PROJECT_KEY = "other-key-0123456789"
"""tests/server: a second key of the shared server, in project "other"."""
PROVIDER_TESTS_KEY = "test-key-provider"
"""tests/provider: the key of the module's server."""

NO_FAULTS: dict[str, Any] = {
    "response_shape": "sdk",
    "mask_secrets": False,
    "latency_ms": 0,
    "rate_429": 0.0,
    "retry_after": 1,
    "rate_5xx": 0.0,
    "rate_drop": 0.0,
    "rpm_limit": 0,
    "seed": 0,
    "fill_defaults": True,
    "check_references": False,
}
"""The server's settings as it starts: the SDK's response shape, secrets in clear, no fault, defaults filled in,
references unchecked."""


def identity_headers(name: str, version: str = "v1") -> dict[str, str]:
    """The headers that name one model on get, modify and delete."""
    return {"X-Enkrypt-Model": name, "X-Enkrypt-Model-Version": version}


def models_by_id(server: RunningServer, api_key: str | None = None) -> dict[str, dict[str, Any]]:
    """The server's models (of the project of ``api_key``) by resource id, "name:version"."""
    return {f"{m['model_saved_name']}:{m['model_version']}": m for m in server.models(api_key)}


def model_requests(server: RunningServer) -> dict[str, int]:
    """Requests the server saw on its model API ("METHOD /models/..." -> count) since the last reset; admin
    calls are not counted."""
    return {k: v for k, v in server.stats()["requests"].items() if " /models/" in k and v}


def writes(server: RunningServer) -> dict[str, int]:
    """The model requests that change something (all but GET)."""
    return {k: v for k, v in model_requests(server).items() if not k.startswith("GET ")}
