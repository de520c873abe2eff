"""The provider's lifecycle through the SDK's own dynamic-provider host, against the local server."""

from __future__ import annotations

import copy
from typing import Any

import grpc
import pytest

from pulumi_enkrypt.client import EnkryptClient
from pulumi_enkrypt.server.process import RunningServer
from support.bodies import enkrypt_examples, merged
from support.provider_host import UNKNOWN, ProviderHost, without_provider
from support.server import PROVIDER_TESTS_KEY, model_requests

EXAMPLES = enkrypt_examples()


def changed(body: dict[str, Any], **config: Any) -> dict[str, Any]:
    """``body`` with these fields of its model_config changed."""
    return merged(body, {"model_config": config})


@pytest.mark.parametrize("shape", ["sdk", "documented"])
@pytest.mark.parametrize("mask", [False, True], ids=["clear", "masked"])
@pytest.mark.parametrize("example", sorted(EXAMPLES))
def test_enkrypt_examples_go_through_the_whole_lifecycle(
    host: ProviderHost, fresh_server: RunningServer, example: str, shape: str, mask: bool
) -> None:
    fresh_server.admin_config(response_shape=shape, mask_secrets=mask)
    body = EXAMPLES[example]

    inputs, failures = host.check({}, body)
    assert failures == []
    id_, outs = host.create(without_provider(inputs))
    assert id_ == f"{body['model_saved_name']}:{body['model_version']}"
    assert isinstance(outs["model_id"], (int, float)) and outs["project_name"] == "default"
    assert outs["created_at"] and outs["updated_at"]
    # Secrets come back under the same key path, with the value the program gave.
    assert outs["model_config"]["apikeys"] == body["model_config"]["apikeys"]
    assert [m["model_saved_name"] for m in fresh_server.models()] == [body["model_saved_name"]]

    olds = without_provider(outs)
    assert host.diff(id_, olds, body) == (False, [])

    read_id, read_outs, read_inputs = host.read(id_, olds)
    assert read_id == id_
    assert read_outs["model_config"]["apikeys"] == body["model_config"]["apikeys"]
    assert host.diff(id_, without_provider(read_outs), body) == (False, []), "refresh must show no drift"
    assert read_inputs == {}, "no drift: read returns no inputs, and the engine keeps the stored ones"

    updated = changed(body, system_prompt="Be terse.", rate_per_min=40)
    assert host.diff(id_, without_provider(read_outs), updated) == (True, [])
    fresh_server.reset_stats()
    new_outs = host.update(id_, without_provider(read_outs), updated)
    assert model_requests(fresh_server) == {"PATCH /models/modify-model": 1}
    assert new_outs["model_config"]["system_prompt"] == "Be terse."
    assert new_outs["model_id"] == outs["model_id"]
    stored = EnkryptClient(fresh_server.url, PROVIDER_TESTS_KEY).get_model(
        body["model_saved_name"], body["model_version"]
    )
    assert stored["model_config"]["system_prompt"] == "Be terse."
    assert host.diff(id_, without_provider(new_outs), updated) == (False, [])

    host.delete(id_, without_provider(new_outs))
    assert fresh_server.models() == []
    gone_id, gone_outs, _ = host.read(id_, without_provider(new_outs))
    assert gone_id == "" and gone_outs == {"__provider": host.pickled}


def test_check_names_each_bad_field_and_sends_nothing(host: ProviderHost, fresh_server: RunningServer) -> None:
    bad = copy.deepcopy(EXAMPLES["Custom Provider"])
    bad["testing_for"] = "foundationModels"  # then model_name is required
    bad["model_config"]["endpoint"]["port"] = 70000
    bad["model_config"]["input_modalities"] = ["text", "smell"]
    bad["model_config"]["tools"] = [{"name": "web_search"}]
    bad["model_config"]["custom_headers"] = [{"key": "X-Token"}]
    bad["model_config"]["custom_payload"] = {"messages": [{"role": "user", "content": "hi"}]}
    bad["model_config"]["model_auth_type"] = "jwt"
    bad["model_config"]["context"] = {"system_description": "x" * 2001}
    del bad["model_config"]["model_provider"]

    _, failures = host.check({}, bad)
    paths = {path for path, _ in failures}
    assert paths == {
        "model_name",
        "model_config.endpoint.port",
        "model_config.input_modalities[1]",
        "model_config.tools[0].description",
        "model_config.custom_headers[0].value",
        "model_config.custom_payload",
        "model_config.model_jwt_config",
        "model_config.context.system_description",
        "model_config.model_provider",
    }
    reasons = dict(failures)
    assert "65535" in reasons["model_config.endpoint.port"]
    assert "{prompt}" in reasons["model_config.custom_payload"]
    assert "required" in reasons["model_config.model_provider"]
    assert model_requests(fresh_server) == {}


def test_check_skips_unknown_values_during_preview(host: ProviderHost, fresh_server: RunningServer) -> None:
    body = copy.deepcopy(EXAMPLES["Standard Provider (Together)"])
    body["model_config"]["endpoint"] = UNKNOWN
    body["model_name"] = UNKNOWN
    body["model_config"]["apikeys"] = [UNKNOWN]
    _, failures = host.check({}, body)
    assert failures == []
    # A genuinely bad field beside an unknown one is still reported.
    body["model_config"]["hosting_type"] = "Cloud"
    _, failures = host.check({}, body)
    assert [p for p, _ in failures] == ["model_config.hosting_type"]
    assert model_requests(fresh_server) == {}


def test_check_takes_stored_inputs_back_unchanged_and_judges_any_change_in_full(
    fresh_server: RunningServer,
) -> None:
    """A no-change preview hands check the inputs the engine stored, and the program gives the same: they stand
    as they are, even with a value today's rules refuse (Enkrypt took it, perhaps before a later release added
    the rule). Any change, a mask where a secret belongs, or enkrypt:strictProviders brings back every rule."""
    stored = copy.deepcopy(EXAMPLES["Standard Provider (Together)"])
    stored["model_config"]["endpoint"]["port"] = 70000  # refused by check today
    stored["model_config"]["model_provider"] = "not-a-provider"  # refused only with strictProviders
    with ProviderHost() as host:
        host.configure({"enkrypt:apiKey": PROVIDER_TESTS_KEY, "enkrypt:baseUrl": fresh_server.url})
        revisions = host.check({}, EXAMPLES["Standard Provider (Together)"])[0]["secret_revisions"]
        olds = {**stored, "secret_revisions": revisions, "__provider": host.pickled}
        inputs, failures = host.check(olds, stored)
        assert (inputs, failures) == (olds, [])

        _, failures = host.check(olds, changed(stored, system_prompt="Be terse."))
        assert [path for path, _ in failures] == ["model_config.endpoint.port"]

        masked = changed(stored, apikeys=["sk-****abcd"])
        _, failures = host.check({**masked, "secret_revisions": revisions, "__provider": host.pickled}, masked)
        assert [path for path, _ in failures] == ["model_config.apikeys[0]"]

    with ProviderHost() as strict:
        settings = {"enkrypt:apiKey": PROVIDER_TESTS_KEY, "enkrypt:baseUrl": fresh_server.url}
        strict.configure({**settings, "enkrypt:strictProviders": "true"})
        _, failures = strict.check(olds, stored)
        assert {path for path, _ in failures} == {"model_config.endpoint.port", "model_config.model_provider"}
    assert model_requests(fresh_server) == {}


def test_diff_counts_an_unknown_as_a_change(host: ProviderHost) -> None:
    body = EXAMPLES["Standard Provider (Together)"]
    _, outs = host.create(body)
    olds = without_provider(outs)
    assert host.diff("Test Model:v1", olds, {**body, "model_name": UNKNOWN}) == (True, [])
    assert host.diff("Test Model:v1", olds, {**body, "model_version": UNKNOWN}) == (True, ["model_version"])
    assert host.diff("Test Model:v1", olds, {**body, "model_saved_name": "Other"}) == (True, ["model_saved_name"])
    # adopt_existing and server-computed outputs never count.
    assert host.diff("Test Model:v1", {**olds, "model_id": 5}, {**body, "adopt_existing": True}) == (False, [])


def test_refresh_sees_an_out_of_band_change_and_update_restores_it(
    host: ProviderHost, fresh_server: RunningServer
) -> None:
    body = EXAMPLES["Custom Provider"]
    id_, outs = host.create(body)
    api = EnkryptClient(fresh_server.url, PROVIDER_TESTS_KEY)
    drifted = changed(body, system_prompt="changed in the console")
    api.modify_model(body["model_saved_name"], body["model_version"], drifted)

    _, read_outs, read_inputs = host.read(id_, without_provider(outs))
    assert read_inputs["model_config"]["system_prompt"] == "changed in the console"
    assert host.diff(id_, without_provider(read_outs), body) == (True, [])

    host.update(id_, without_provider(read_outs), body)
    stored = api.get_model(body["model_saved_name"], body["model_version"])
    assert "system_prompt" not in stored["model_config"] or stored["model_config"]["system_prompt"] == ""


def test_refresh_keeps_masked_secrets_and_reports_a_changed_clear_one(
    host: ProviderHost, fresh_server: RunningServer
) -> None:
    body = EXAMPLES["Custom Provider"]
    id_, outs = host.create(body)
    fresh_server.admin_config(mask_secrets=True)
    _, read_outs, _ = host.read(id_, without_provider(outs))
    assert read_outs["model_config"]["apikeys"] == ["hf_xxxxx"]
    assert read_outs["model_config"]["custom_headers"] == [{"key": "test", "value": "test"}]

    fresh_server.admin_config(mask_secrets=False)
    EnkryptClient(fresh_server.url, PROVIDER_TESTS_KEY).modify_model(
        body["model_saved_name"], body["model_version"], changed(body, apikeys=["rotated-by-hand"])
    )
    _, read_outs, _ = host.read(id_, without_provider(outs))
    assert read_outs["model_config"]["apikeys"] == ["rotated-by-hand"]
    assert host.diff(id_, without_provider(read_outs), body) == (True, [])


def test_create_conflict_explains_adoption_and_adopt_existing_takes_over(
    host: ProviderHost, fresh_server: RunningServer
) -> None:
    body = EXAMPLES["Standard Provider (Together)"]
    EnkryptClient(fresh_server.url, PROVIDER_TESTS_KEY).add_model(changed(body, system_prompt="clicked by hand"))

    with pytest.raises(grpc.RpcError) as err:
        host.create(body)
    message = str(err.value.details())
    assert "already has a model named 'Test Model' version 'v1'" in message
    assert "adopt_existing=True" in message

    _, outs = host.create({**body, "adopt_existing": True})
    models = fresh_server.models()
    assert len(models) == 1
    assert models[0]["model_config"].get("system_prompt", "") == ""
    assert outs["adopt_existing"] is True


def test_a_dropped_add_is_read_back_not_duplicated(host: ProviderHost, fresh_server: RunningServer) -> None:
    fresh_server.admin_config(rate_drop=1.0, seed=7)  # every write commits, then the connection drops
    id_, outs = host.create(EXAMPLES["Standard Provider (Together)"])
    fresh_server.admin_config(rate_drop=0.0)
    assert id_ == "Test Model:v1"
    assert len(fresh_server.models()) == 1
    assert fresh_server.stats()["faults"]["drop"] >= 1
    assert outs["model_id"] == fresh_server.models()[0]["model_id"]


def test_update_of_a_model_deleted_out_of_band_recreates_it(host: ProviderHost, fresh_server: RunningServer) -> None:
    body = EXAMPLES["Standard Provider (Together)"]
    id_, outs = host.create(body)
    EnkryptClient(fresh_server.url, PROVIDER_TESTS_KEY).delete_model("Test Model", "v1")
    host.update(id_, without_provider(outs), changed(body, rate_per_min=30))
    assert [m["model_config"]["rate_per_min"] for m in fresh_server.models()] == [30]


def test_delete_of_a_missing_model_succeeds(host: ProviderHost, fresh_server: RunningServer) -> None:
    body = EXAMPLES["Standard Provider (Together)"]
    host.delete("Test Model:v1", body)
    assert model_requests(fresh_server) == {"DELETE /models/delete-model": 1}


def test_a_missing_api_key_is_a_clear_error(fresh_server: RunningServer, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ENKRYPTAI_API_KEY", "ENKRYPT_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    with ProviderHost() as h:
        h.configure({"enkrypt:baseUrl": fresh_server.url})
        with pytest.raises(grpc.RpcError) as err:
            h.create(EXAMPLES["Standard Provider (Together)"])
    assert "pulumi config set --secret enkrypt:apiKey" in str(err.value.details())
    assert model_requests(fresh_server) == {}


def test_a_wrong_api_key_is_an_authorization_error_without_the_key(fresh_server: RunningServer) -> None:
    with ProviderHost() as h:
        h.configure({"enkrypt:apiKey": "wrong-key-0123456789", "enkrypt:baseUrl": fresh_server.url})
        with pytest.raises(grpc.RpcError) as err:
            h.create(EXAMPLES["Standard Provider (Together)"])
        stderr = h.close()
    details = str(err.value.details())
    assert "401" in details and "Unauthorized" in details
    assert "wrong-key-0123456789" not in details and "wrong-key-0123456789" not in stderr
    assert "xxxxx" not in details
