"""The plugin's own pieces, in process: which kinds it serves and that the schema describes exactly those,
how values cross between the engine's property values and the core's plain data (secrets kept and marked),
the detailed diff, and the configuration of one provider instance."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from pulumi.provider.experimental import provider as p
from pulumi.provider.experimental.property_value import PropertyValue

from pulumi_enkrypt import kinds
from pulumi_enkrypt.kinds import MODEL
from pulumi_enkrypt.plugin import EnkryptProvider, all_kinds, function_token, resource_token
from pulumi_enkrypt.plugin.values import plain_map, wrap_map
from support.bodies import model_body

SCHEMA = Path(__file__).resolve().parents[2] / "provider" / "schema.json"
URN = "urn:pulumi:dev::e2e::enkrypt:index:Model::m"


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def configured(**variables: str) -> EnkryptProvider:
    provider = EnkryptProvider(SCHEMA, "0.0.0")
    run(
        provider.configure(p.ConfigureRequest({f"enkrypt:config:{k}": v for k, v in variables.items()}, {}, True, True))
    )
    return provider


def test_serves_every_kind_of_kinds_py_and_the_schema_describes_exactly_those() -> None:
    declared = getattr(kinds, "ALL_KINDS", None) or (kinds.MODEL, kinds.POLICY)
    assert all_kinds() == tuple(declared)
    schema = json.loads(SCHEMA.read_text())
    assert set(schema["resources"]) == {resource_token(k) for k in all_kinds()}
    assert set(schema["functions"]) == {function_token(k) for k in all_kinds()}
    assert schema["config"]["variables"]["apiKey"]["secret"] is True


def test_secret_paths_are_marked_and_secrets_from_the_engine_stay_secret() -> None:
    body = model_body(model_config={"custom_headers": [{"key": "X-Team", "value": "hdr-secret"}]})
    wrapped = wrap_map(body, MODEL.facts.secret_paths)
    config = wrapped["model_config"].value
    assert isinstance(config, Mapping)
    assert config["apikeys"].is_secret
    (header,) = config["custom_headers"].value
    assert header.value["value"].is_secret and not header.value["key"].is_secret
    assert not config["endpoint"].is_secret and not wrapped["model_name"].is_secret
    # A value the engine sent as secret stays secret, wherever it is.
    like = {"model_name": PropertyValue("x", is_secret=True)}
    assert wrap_map(body, (), like)["model_name"].is_secret
    # And the plain form is the body again (numbers are floats on the wire).
    back = plain_map(wrapped)
    assert back["model_config"]["endpoint"]["port"] == 443.0
    assert back["model_config"]["custom_headers"] == [{"key": "X-Team", "value": "hdr-secret"}]


def test_diff_names_each_changed_property_and_replaces_on_identity() -> None:
    provider = configured(apiKey="k", baseUrl="http://127.0.0.1:9")
    olds = model_body("A", "v1")
    news = {**olds, "model_name": "other", "model_version": "v2"}
    diff = run(provider.diff(p.DiffRequest(URN, "A:v1", wrap_map(olds), wrap_map(news), [])))
    assert diff.changes is True
    assert set(diff.detailed_diff) == {"model_name", "model_version"}
    assert diff.detailed_diff["model_name"].kind == p.PropertyDiffKind.UPDATE
    assert diff.detailed_diff["model_version"].kind == p.PropertyDiffKind.UPDATE_REPLACE
    assert diff.replaces == ["model_version"]
    same = run(provider.diff(p.DiffRequest(URN, "A:v1", wrap_map(olds), wrap_map(olds), [])))
    assert same.changes is False and same.detailed_diff == {}


def test_check_fails_naming_the_setting_and_the_field(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ENKRYPTAI_API_KEY", "ENKRYPT_API_KEY", "ENKRYPTAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    no_key = run(configured().check(p.CheckRequest(URN, {}, wrap_map(model_body()), b"")))
    (missing,) = no_key.failures or []
    assert "enkrypt:apiKey" in missing.reason and "ENKRYPTAI_API_KEY" in missing.reason

    bad_url = configured(apiKey="k", baseUrl="ftp://x")
    failures = run(bad_url.check(p.CheckRequest(URN, {}, wrap_map(model_body()), b""))).failures or []
    assert any("enkrypt:baseUrl" in f.reason for f in failures)

    provider = configured(apiKey="k", baseUrl="http://127.0.0.1:9")
    bad = model_body(model_config={"endpoint": {"port": 70000}})
    failures = run(provider.check(p.CheckRequest(URN, {}, wrap_map(bad), b""))).failures or []
    assert [f.reason for f in failures] == ["model_config.endpoint.port: input should be less than or equal to 65535"]


def test_provider_arguments_win_over_variables_and_typed_values_are_read() -> None:
    provider = EnkryptProvider(SCHEMA, "0.0.0")
    args = {"apiKey": PropertyValue("from-args", is_secret=True), "maxAttempts": PropertyValue(3.0)}
    run(provider.configure(p.ConfigureRequest({"enkrypt:config:apiKey": "from-variables"}, args, True, True)))
    settings = provider._providers[resource_token(MODEL)]._settings()
    assert settings.api_key == "from-args"
    assert settings.max_attempts == 3
