"""From properties to request body and back: normalization, drift rules, ids."""

from __future__ import annotations

from pulumi_enkrypt import spec, wire
from support.bodies import DROP, model_body

# With a null and an empty enum, which check drops; no certifications, so the body has only what was given.
BODY = model_body(
    model_name="m",
    certifications=DROP,
    model_config={
        "endpoint": {"host": "h"},
        "apikeys": ["key-1"],
        "custom_response_content_type": "",
        "model_jwt_config": None,
    },
)


def test_check_drops_nulls_and_empty_enums_and_types_numbers_and_the_body_keeps_them() -> None:
    props = {**BODY, "adopt_existing": True, "__provider": "x"}
    props["model_config"] = {**BODY["model_config"], "endpoint": {**BODY["model_config"]["endpoint"], "port": 443.0}}
    checked, errors = spec.check(props)
    assert errors == []
    assert checked["adopt_existing"] is True and checked["__provider"] == "x"
    assert "custom_response_content_type" not in checked["model_config"]
    assert "model_jwt_config" not in checked["model_config"]
    port = checked["model_config"]["endpoint"]["port"]
    assert port == 443 and isinstance(port, int)
    # The engine hands the checked inputs back with every number a float: the body types them again.
    checked["model_config"]["endpoint"]["port"] = 443.0
    body = spec.request_body({**checked, "model_id": 3})
    assert set(body) == {"model_saved_name", "model_version", "testing_for", "model_name", "model_config"}
    assert "custom_response_content_type" not in body["model_config"]
    assert "model_jwt_config" not in body["model_config"]
    assert body["model_config"]["endpoint"]["port"] == 443 and isinstance(body["model_config"]["endpoint"]["port"], int)


def test_server_view_folds_the_documented_shape_and_keeps_unechoed_fields() -> None:
    config = {
        k: v for k, v in BODY["model_config"].items() if k not in ("model_provider", "hosting_type", "rate_per_min")
    }
    documented = {
        **BODY,
        "model_config": config,
        "model_provider": "together",
        "hosting_type": "External",
        "model_id": 1,
    }
    view = spec.server_view(documented, BODY)
    assert view["model_config"]["model_provider"] == "together"
    assert view["model_config"]["rate_per_min"] == 20
    assert "model_id" not in view
    assert spec.changed_fields(BODY, view) == []


def test_masked_secrets_keep_their_state_value_but_clear_changes_are_drift() -> None:
    masked = {**BODY, "model_config": {**BODY["model_config"], "apikeys": ["********"]}}
    assert spec.server_view(masked, BODY)["model_config"]["apikeys"] == ["key-1"]
    rotated = {**BODY, "model_config": {**BODY["model_config"], "apikeys": ["key-2"]}}
    view = spec.server_view(rotated, BODY)
    assert spec.changed_fields(BODY, view) == ["model_config"]


def test_identity_changes_are_replacements_and_ids_round_trip() -> None:
    assert spec.changed_fields(BODY, {**BODY, "model_version": "v2"}) == ["model_version"]
    assert spec.parse_id(spec.resource_id("a:b", "v1")) == ("a:b", "v1")
    assert wire.REPLACE_ON_CHANGE == ("model_saved_name", "model_version")
