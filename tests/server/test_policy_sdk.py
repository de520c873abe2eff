"""The official enkryptai-sdk's GuardrailsClient drives a whole policy lifecycle against the local server: the
five calls, Enkrypt's messages, the defaults the service fills in, and its errors."""

from __future__ import annotations

import httpx
import pytest
from enkryptai_sdk import GuardrailsClient, GuardrailsConfig  # type: ignore[import-untyped]
from enkryptai_sdk.guardrails import GuardrailsClientError  # type: ignore[import-untyped]

from pulumi_enkrypt.kinds import POLICY
from pulumi_enkrypt.server.process import RunningServer

DETECTORS = {
    "injection_attack": {"enabled": True},
    "pii": {"enabled": True, "entities": ["pii", "secrets"]},
    "policy_violation": {"enabled": True, "policy_text": "Only flights and bookings.", "need_explanation": True},
}


@pytest.fixture
def policies(server: RunningServer) -> RunningServer:
    server.wipe(kind=POLICY)
    server.admin_config(fill_defaults=True)
    return server


def test_sdk_policy_lifecycle(policies: RunningServer) -> None:
    client = GuardrailsClient(api_key=policies.api_key, base_url=policies.url)

    added = client.add_policy("Airline Policy", DETECTORS, description="Support bot")
    assert added.message == "Policy details added successfully"
    assert added.data.name == "Airline Policy" and added.data.description == "Support bot"
    policy_id = added.data.policy_id
    assert isinstance(policy_id, int) and policy_id >= 1

    got = client.get_policy("Airline Policy")
    assert got.name == "Airline Policy" and got.policy_id == policy_id and got.project_name == "default"
    served = got.to_dict()["detectors"]
    assert served["pii"] == {"enabled": True, "entities": ["pii", "secrets"]}
    # the detectors left out come back disabled, with their defaults filled in
    assert served["toxicity"] == {"enabled": False}
    assert served["system_prompt"] == {"enabled": False, "index": "system"}

    # the SDK's own helper sends all eleven detectors
    modified = client.modify_policy("Airline Policy", GuardrailsConfig.injection_attack(), description="v2")
    assert modified.message == "Policy details updated successfully"
    assert modified.data.policy_id == policy_id and modified.data.description == "v2"
    again = client.get_policy("Airline Policy").to_dict()["detectors"]
    assert again["injection_attack"]["enabled"] is True and again["pii"]["enabled"] is False

    listed = client.get_policy_list()
    assert [p.name for p in listed.policies] == ["Airline Policy"]

    deleted = client.delete_policy("Airline Policy")
    assert deleted.message == "Policy details deleted successfully"
    assert deleted.data.policy_id == policy_id and deleted.data.project_name == "default"
    with pytest.raises(GuardrailsClientError, match="Policy not found"):
        client.get_policy("Airline Policy")


def test_policy_errors_name_the_path_and_follow_the_contract(policies: RunningServer) -> None:
    headers = {"X-Enkrypt-Policy": "Airline Policy"}
    with policies.client() as c:
        body = {"name": "Airline Policy", "description": "", "detectors": DETECTORS}
        assert c.post(POLICY.api.add, json=body).status_code == 200
        duplicate = c.post(POLICY.api.add, json=body)
        assert duplicate.status_code == 409 and duplicate.json()["message"] == "Policy already exists"
        unknown = c.patch(POLICY.api.modify, headers=headers, json={**body, "detectors": {"jailbreak": {}}})
        assert unknown.status_code == 422
        assert unknown.json()["errors"] == [
            {"field": "detectors.jailbreak", "reason": "is not a field of the Enkrypt guardrails policy schema"}
        ]
        wrong = c.post(POLICY.api.add, json={"name": "Other", "detectors": {"nsfw": {"enabled": "yes"}}})
        assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "detectors.nsfw.enabled"
        missing = c.get(POLICY.api.get, headers={"X-Enkrypt-Policy": "Nope"})
        assert missing.status_code == 404 and missing.json()["message"] == "Policy not found"
        assert c.delete(POLICY.api.delete, headers={"X-Enkrypt-Policy": "Nope"}).status_code == 404
    assert isinstance(httpx.get(policies.url + "/openapi.json").json()["paths"][POLICY.api.add], dict)


def test_the_sample_policy(policies: RunningServer) -> None:
    policies.add_samples(1)
    samples = [p for p in policies.objects(POLICY) if p["is_sample"]]
    assert [p["name"] for p in samples] == ["Sample Airline Guardrail"]
    assert samples[0]["detectors"]["injection_attack"]["enabled"] is True


def test_defaults_can_be_switched_off_to_echo_a_body_as_sent(policies: RunningServer) -> None:
    """Whether the service fills in defaults is [unknown]: the server can show either behaviour."""
    body = {"name": "Airline Policy", "description": "", "detectors": DETECTORS}
    assert policies.admin_config(fill_defaults=False)["fill_defaults"] is False
    with policies.client() as c:
        added = c.post(POLICY.api.add, json=body).json()["data"]
        got = c.get(POLICY.api.get, headers={"X-Enkrypt-Policy": "Airline Policy"}).json()
    assert added["detectors"] == got["detectors"] == DETECTORS
    policies.admin_config(fill_defaults=True)
    assert len(policies.objects(POLICY)[0]["detectors"]) == 11  # stored as sent, filled in on output
