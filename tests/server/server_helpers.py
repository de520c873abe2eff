"""Shared constants and body builders for the server tests."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

KEY = "test-key-0123456789"
OTHER_KEY = "other-key-0123456789"
DEFAULTS: dict[str, Any] = {
    "response_shape": "sdk",
    "mask_secrets": False,
    "latency_ms": 0,
    "rate_429": 0.0,
    "retry_after": 1,
    "rate_5xx": 0.0,
    "rate_drop": 0.0,
    "rpm_limit": 0,
    "seed": 0,
}

BASE_BODY: dict[str, Any] = {
    "model_saved_name": "Test Model",
    "model_version": "v1",
    "testing_for": "foundationModels",
    "model_name": "mistralai/Mixtral-8x7B-Instruct-v0.1",
    "certifications": ["GDPR"],
    "model_config": {
        "model_provider": "together",
        "hosting_type": "External",
        "input_modalities": ["text"],
        "output_modalities": ["text"],
        "model_source": "https://together.ai",
        "rate_per_min": 20,
        "system_prompt": "",
        "endpoint": {"scheme": "https", "host": "api.together.xyz", "port": 443, "base_path": "/v1"},
        "paths": {"completions": "/completions", "chat": "/chat/completions"},
        "auth_data": {"header_name": "Authorization", "header_prefix": "Bearer", "space_after_prefix": True},
        "apikeys": ["sk-secret-together"],
        "metadata": {},
        "default_request_options": {},
    },
}

MakeBody = Callable[..., dict[str, Any]]


def make_body(name: str = "Test Model", version: str = "v1", **config_overrides: Any) -> dict[str, Any]:
    body = copy.deepcopy(BASE_BODY)
    body["model_saved_name"] = name
    body["model_version"] = version
    body["model_config"].update(config_overrides)
    return body


def ident(name: str, version: str = "v1") -> dict[str, str]:
    return {"X-Enkrypt-Model": name, "X-Enkrypt-Model-Version": version}
