"""What the wire refuses, check refuses first: a preview that passes must not be followed by an up that fails.

Each bad value below used to pass the provider's check and then fail (or be silently coerced) at `up`. Now
``wire.validate_request`` and ``spec.check_failures`` reject it, naming the key path and the reason, and the
local server, which validates bodies through the same wire schema, refuses it with the same path. The valid
neighbours of each case (a whole float from the engine, http, IP hosts, a zero rate, ...) still pass.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import pytest

from pulumi_enkrypt import spec, wire
from pulumi_enkrypt.server.app import ApiError, clean_body
from support.bodies import model_body

BODY = model_body(
    model_config={
        "apikeys": ["sk-test"],
        "metadata": {"max_tokens": 500, "input_cost_1M_tokens": 2.5},
        "default_request_options": {"temperature": 1, "top_p": 1, "top_k": 40},
    }
)


def with_value(path: str, value: Any) -> dict[str, Any]:
    body = copy.deepcopy(BODY)
    *parents, last = path.split(".")
    node = body
    for key in parents:
        node = node.setdefault(key, {})
    node[last] = value
    return body


# (key path, bad value, a word the reason must hold)
BAD: list[tuple[str, Any, str]] = [
    # names travel in the X-Enkrypt-Model / X-Enkrypt-Model-Version headers
    ("model_saved_name", "模型", "latin-1"),
    ("model_saved_name", "Modèle ☃", "latin-1"),
    ("model_saved_name", "tab\there", "control"),
    ("model_saved_name", "line\nbreak", "control"),
    ("model_saved_name", "bell\x07", "control"),
    ("model_saved_name", "del\x7f", "control"),
    ("model_saved_name", "c1\x85control", "control"),
    ("model_saved_name", " Test Model", "blank"),
    ("model_version", "v1 ", "blank"),
    ("model_version", "v\r1", "control"),
    # no bool (nor string) where the wire wants an integer
    ("model_config.endpoint.port", True, "integer"),
    ("model_config.endpoint.port", False, "integer"),
    ("model_config.endpoint.port", "443", "integer"),
    ("model_config.endpoint.port", 443.5, "integer"),
    ("model_config.metadata.max_tokens", True, "integer"),
    ("model_config.default_request_options.top_k", False, "integer"),
    # no bool where the wire wants a number, no NaN (JSON has none)
    ("model_config.rate_per_min", True, "number"),
    ("model_config.rate_per_min", "20", "number"),
    ("model_config.rate_per_min", math.nan, "finite"),
    ("model_config.default_request_options.temperature", True, "number"),
    # no coercion to bool
    ("model_config.auth_data.space_after_prefix", "yes", "boolean"),
    ("model_config.auth_data.space_after_prefix", "true", "boolean"),
    ("model_config.auth_data.space_after_prefix", 1, "boolean"),
    ("model_config.auth_data.space_after_prefix", 0.0, "boolean"),
    ("model_config.auth_data.allow_override", "no", "boolean"),
    # counts (and costs) cannot be negative
    ("model_config.rate_per_min", -1, "greater than or equal to 0"),
    ("model_config.rate_per_min", -0.5, "greater than or equal to 0"),
    ("model_config.metadata.max_tokens", -5, "greater than or equal to 0"),
    ("model_config.metadata.input_cost_1M_tokens", -2.5, "greater than or equal to 0"),
    ("model_config.metadata.output_cost_1M_tokens", -1, "greater than or equal to 0"),
    # Enkrypt calls the endpoint over HTTP
    ("model_config.endpoint.scheme", "ftp", "'http' or 'https'"),
    ("model_config.endpoint.scheme", "HTTPS", "'http' or 'https'"),
    ("model_config.endpoint.scheme", "https://", "'http' or 'https'"),
    # a host is a bare host name or IP address
    ("model_config.endpoint.host", "https://api.x.com/v1", "URL"),
    ("model_config.endpoint.host", "api.x.com/v1", "path"),
    ("model_config.endpoint.host", "api.x.com:443", "port"),
    ("model_config.endpoint.host", "10.0.0.7:8080", "port"),
    ("model_config.endpoint.host", "[::1]:443", "port"),
    ("model_config.endpoint.host", "user:pw@api.x.com", "user"),
    ("model_config.endpoint.host", " api.x.com", "blank"),
    ("model_config.endpoint.host", "api x.com", "blank"),
    ("model_config.endpoint.host", "api.x.com?q=1", "path"),
    ("model_config.endpoint.host", "-api.x.com", "label"),
    ("model_config.endpoint.host", "api..x.com", "label"),
    ("model_config.endpoint.host", "a" * 64 + ".x.com", "label"),
    ("model_config.endpoint.host", "bücher.example", "letters"),
    ("model_config.endpoint.host", "999.1.1.1", "IPv4"),
    ("model_config.endpoint.host", "[not:an:ip]", "IPv6"),
]


def _ids(case: tuple[str, Any, str]) -> str:
    return f"{case[0]}={case[1]!r}"


@pytest.mark.parametrize("case", BAD, ids=[_ids(c) for c in BAD])
def test_validate_request_names_the_field_and_the_reason(case: tuple[str, Any, str]) -> None:
    path, value, word = case
    model, errors = wire.validate_request(with_value(path, value))
    assert model is None
    assert [e.path for e in errors] == [path], errors
    assert word.lower() in errors[0].reason.lower(), errors[0]
    if isinstance(value, str) and len(value) > 3:
        assert value not in errors[0].reason, "the reason must not echo the value"


@pytest.mark.parametrize("case", BAD, ids=[_ids(c) for c in BAD])
def test_check_fails_with_the_path(case: tuple[str, Any, str]) -> None:
    path, value, _ = case
    failures = spec.check_failures(with_value(path, value))
    assert [f.path for f in failures] == [path]
    assert str(failures[0]).startswith(f"{path}: ")


@pytest.mark.parametrize("case", BAD, ids=[_ids(c) for c in BAD])
def test_the_local_server_refuses_it_at_the_same_path(case: tuple[str, Any, str]) -> None:
    """The server judges a body with the same rules, so what check lets through the server accepts."""
    path, value, _ = case
    with pytest.raises(ApiError) as refused:
        clean_body(with_value(path, value), strict_providers=False)
    assert refused.value.status == 422
    assert [e.path for e in refused.value.errors or []] == [path]


# (key path, good value, what the wire body holds)
GOOD: list[tuple[str, Any, Any]] = [
    ("model_config.endpoint.port", 443.0, 443),  # the engine hands every number over as a float
    ("model_config.endpoint.port", 8080, 8080),
    ("model_config.endpoint.port", 65535.0, 65535),
    ("model_config.metadata.max_tokens", 500.0, 500),
    ("model_config.metadata.max_tokens", 0, 0),
    ("model_config.default_request_options.top_k", 40.0, 40),
    ("model_config.rate_per_min", 0, 0.0),  # a number field: sent as a float
    ("model_config.rate_per_min", 0.0, 0.0),
    ("model_config.rate_per_min", 20.5, 20.5),
    ("model_config.metadata.input_cost_1M_tokens", 0, 0.0),
    ("model_config.default_request_options.temperature", 0.7, 0.7),
    ("model_config.auth_data.space_after_prefix", False, False),
    ("model_config.auth_data.allow_override", True, True),
    ("model_config.endpoint.scheme", "http", "http"),
    ("model_config.endpoint.scheme", "https", "https"),
    ("model_config.endpoint.host", "api.x.com", "api.x.com"),
    ("model_config.endpoint.host", "api.x.com.", "api.x.com."),
    ("model_config.endpoint.host", "localhost", "localhost"),
    ("model_config.endpoint.host", "my_service.internal", "my_service.internal"),
    ("model_config.endpoint.host", "10.0.0.7", "10.0.0.7"),
    ("model_config.endpoint.host", "::1", "::1"),
    ("model_config.endpoint.host", "2001:db8::8a2e:370:7334", "2001:db8::8a2e:370:7334"),
    ("model_config.endpoint.host", "[2001:db8::1]", "[2001:db8::1]"),
    ("model_config.endpoint.host", "fe80::1%eth0", "fe80::1%eth0"),
    ("model_saved_name", "Modèle de test", "Modèle de test"),  # latin-1 travels in a header
    ("model_saved_name", "team/model: v2 (prod)", "team/model: v2 (prod)"),
    ("model_saved_name", "x", "x"),
    ("model_version", "2024-06-01", "2024-06-01"),
]


@pytest.mark.parametrize("case", GOOD, ids=[_ids(c) for c in GOOD])
def test_valid_neighbours_pass(case: tuple[str, Any, Any]) -> None:
    path, value, sent = case
    body = with_value(path, value)
    assert spec.check_failures(body) == []
    model, errors = wire.validate_request(body)
    assert errors == [] and model is not None
    checked, failures = spec.check(body)  # check types the inputs once; the body sends them as checked
    assert failures == []
    node: Any = spec.request_body(checked)
    for key in path.split("."):
        node = node[key]
    assert node == sent and type(node) is type(sent)
    assert clean_body(body, strict_providers=False)  # and the server takes it


def test_every_failure_of_a_body_is_reported_at_once() -> None:
    """check reports all bad fields together, so one preview shows every mistake."""
    body = with_value("model_config.endpoint.port", True)
    body["model_config"]["endpoint"]["host"] = "https://api.x.com/v1"
    body["model_config"]["endpoint"]["scheme"] = "ftp"
    body["model_config"]["auth_data"]["space_after_prefix"] = "yes"
    body["model_config"]["rate_per_min"] = -1
    body["model_saved_name"] = " Test Model"
    paths = sorted(f.path for f in spec.check_failures(body))
    assert paths == sorted(
        [
            "model_config.endpoint.port",
            "model_config.endpoint.host",
            "model_config.endpoint.scheme",
            "model_config.auth_data.space_after_prefix",
            "model_config.rate_per_min",
            "model_saved_name",
        ]
    )


def test_the_served_openapi_states_the_new_constraints() -> None:
    """The local server documents what it validates: schemathesis and SDK authors see the same rules."""
    schema = wire.ModelRequest.model_json_schema(by_alias=True)
    defs = schema["$defs"]
    endpoint = defs["Endpoint"]["properties"]
    assert endpoint["scheme"]["enum"] == ["http", "https"]
    assert endpoint["host"]["format"] == "host"
    assert endpoint["port"]["minimum"] == 1 and endpoint["port"]["maximum"] == 65535
    assert schema["properties"]["model_saved_name"]["format"] == "header-value"
    rate = defs["ModelConfig"]["properties"]["rate_per_min"]["anyOf"][0]
    assert rate["minimum"] == 0
