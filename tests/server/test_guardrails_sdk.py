"""The official enkryptai-sdk's GuardrailsClient, DeploymentClient and CoCClient drive whole lifecycles of
guardrails, deployments and code-of-conduct policies against the local server, over loopback: Enkrypt's
messages, the SDK's parsed objects, errors that name the field, the shared policy_id counter, paging, the
``check_references`` switch, and a restart on the same database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from enkryptai_sdk import (  # type: ignore[import-untyped]
    CoCClient,
    CoCClientError,
    DeploymentClient,
    DeploymentClientError,
    GuardrailsClient,
    GuardrailsClientError,
)

from pulumi_enkrypt.kinds import ALL_KINDS, COC_POLICY, DEPLOYMENT, GUARDRAIL, MODEL, POLICY
from pulumi_enkrypt.server.process import RunningServer, start_server
from support.bodies import model_body
from support.server import SERVER_TESTS_KEY, identity_headers

INPUT = {"injection_attack": {"enabled": True}, "pii": {"enabled": True, "entities": ["pii", "secrets"]}}
OUTPUT = {"nsfw": {"enabled": True}, "toxicity": {"enabled": True}}
RULES = ["Never promise refunds.", "Stay on airline topics."]


def deployment(name: str = "support-prod", *, model: str = "Support Model", policy: str = "Airline Policy") -> Any:
    """A deployment as the SDK's live tests send it (its ``DeploymentInput`` is built from this)."""
    return {
        "name": name,
        "model_saved_name": model,
        "model_version": "v1",
        "input_guardrails_policy": {
            "policy_name": policy,
            "enabled": True,
            "additional_config": {"pii_redaction": False},
            "block": ["injection_attack", "policy_violation"],
        },
        "output_guardrails_policy": {
            "policy_name": policy,
            "enabled": False,
            "additional_config": {"hallucination": False, "adherence": False, "relevancy": False},
            "block": ["nsfw"],
        },
    }


@pytest.fixture
def gd(server: RunningServer) -> RunningServer:
    """The module's server with no object of any kind in the caller's project."""
    for kind in ALL_KINDS:
        server.wipe(kind=kind)
    return server


def guardrails(server: RunningServer) -> GuardrailsClient:
    return GuardrailsClient(api_key=server.api_key, base_url=server.url)


def deployments(server: RunningServer) -> DeploymentClient:
    return DeploymentClient(api_key=server.api_key, base_url=server.url)


def conduct(server: RunningServer) -> CoCClient:
    return CoCClient(api_key=server.api_key, base_url=server.url)


def add_model(server: RunningServer, name: str = "Support Model") -> int:
    with server.client() as c:
        r = c.post(MODEL.api.add, json=model_body(name))
    assert r.status_code == 200, r.text
    model_id: int = r.json()["data"]["model_id"]
    return model_id


def errors_of(response: httpx.Response) -> list[str]:
    return [e["field"] for e in response.json()["errors"]]


# ---------------------------------------------------------------------------------------------- guardrails


def test_sdk_guardrail_lifecycle(gd: RunningServer) -> None:
    client = guardrails(gd)

    added = client.add_guardrail("Prod Guardrail", INPUT, OUTPUT, description="Support bot")
    assert added.message == "Guardrail details added successfully"
    data = added.data
    assert (data.name, data.description, data.project_name, data.is_sample) == (
        "Prod Guardrail",
        "Support bot",
        "default",
        False,
    )
    policy_id = data.policy_id  # the SDK keeps a guardrail's id as a string
    assert policy_id.isdigit() and int(policy_id) >= 1
    assert data.created_at == data.updated_at and data.created_at.endswith("+00:00")

    got = client.get_guardrail("Prod Guardrail")
    assert (got.name, got.policy_id, got.description) == ("Prod Guardrail", policy_id, "Support bot")
    assert got.input["pii"] == {"enabled": True, "entities": ["pii", "secrets"]}
    assert got.output["nsfw"] == {"enabled": True}
    # each side comes back with every detector, those left out disabled
    assert got.input["nsfw"] == {"enabled": False} and got.output["injection_attack"]["enabled"] is False
    assert len(got.input) == len(got.output) == 11

    # the SDK re-sends every field: an unspecified side is {} (every detector off), the description "guardrail"
    modified = client.modify_guardrail("Prod Guardrail", input_config=INPUT)
    assert modified.message == "Guardrail details updated successfully"
    assert modified.data.policy_id == policy_id and modified.data.description == "guardrail"
    assert not any(d["enabled"] for d in modified.data.output.values())
    assert modified.data.updated_at >= modified.data.created_at == data.created_at

    # a rename through modify keeps the id; the old name is gone
    renamed = client.modify_guardrail("Prod Guardrail", INPUT, OUTPUT, new_guardrail_name="Prod Guardrail 2")
    assert (renamed.data.name, renamed.data.policy_id) == ("Prod Guardrail 2", policy_id)
    with pytest.raises(GuardrailsClientError, match="Guardrail not found"):
        client.get_guardrail("Prod Guardrail")

    listed = client.list_guardrails()
    assert [(g.name, g.policy_id, g.description) for g in listed.guardrails] == [
        ("Prod Guardrail 2", policy_id, "guardrail")
    ]
    assert listed.pagination.to_dict() == {
        "page": 1,
        "per_page": 10,
        "total_count": 1,
        "total_pages": 1,
        "has_next": False,
        "has_previous": False,
    }

    deleted = client.delete_guardrail("Prod Guardrail 2")
    assert deleted.message == "Guardrail details deleted successfully"
    assert deleted.data.to_dict() == {"policy_id": policy_id, "project_name": "default"}
    with pytest.raises(GuardrailsClientError, match="Guardrail not found"):
        client.delete_guardrail("Prod Guardrail 2")
    assert client.list_guardrails().guardrails == []


def test_guardrail_errors_name_the_field(gd: RunningServer) -> None:
    client = guardrails(gd)
    client.add_guardrail("Prod Guardrail", INPUT, OUTPUT)
    with pytest.raises(GuardrailsClientError, match=r"'status_code': 409.*Guardrail already exists"):
        client.add_guardrail("Prod Guardrail", INPUT, OUTPUT)
    with pytest.raises(GuardrailsClientError, match="'status_code': 422"):
        client.add_guardrail("Other", {"jailbreak": {"enabled": True}})
    with gd.client() as c:
        unknown = c.post(GUARDRAIL.api.add, json={"name": "Other", "input": {"jailbreak": {"enabled": True}}})
        assert unknown.status_code == 422 and errors_of(unknown) == ["input.jailbreak"]
        wrong = c.post(GUARDRAIL.api.add, json={"name": "Other", "output": {"pii": {"entities": "pii"}}})
        assert wrong.status_code == 422 and errors_of(wrong) == ["output.pii.entities"]
        # 404 and 409 bodies carry Enkrypt's message and a request id
        missing = c.get(GUARDRAIL.api.get, headers={"X-Enkrypt-Guardrail": "Nope"})
        assert missing.status_code == 404 and missing.json()["message"] == "Guardrail not found"
        assert missing.json()["request_id"]
        no_header = c.delete(GUARDRAIL.api.delete)
        assert no_header.status_code == 422 and errors_of(no_header) == ["X-Enkrypt-Guardrail"]
        gone = c.patch(GUARDRAIL.api.modify, headers={"X-Enkrypt-Guardrail": "Nope"}, json={"name": "Nope"})
        assert gone.status_code == 404 and gone.json()["message"] == "Guardrail not found"


def test_guardrails_list_a_page_at_a_time(gd: RunningServer) -> None:
    client = guardrails(gd)
    names = [f"Guard {i:02d}" for i in range(23)]
    ids = [int(client.add_guardrail(name, INPUT).data.policy_id) for name in names]
    assert ids == sorted(ids)

    first = client.list_guardrails(page=1, per_page=10)
    assert [g.name for g in first.guardrails] == names[:10]  # in the order of creation
    assert (first.pagination.total_count, first.pagination.total_pages) == (23, 3)
    assert (first.pagination.has_next, first.pagination.has_previous) == (True, False)

    last = client.list_guardrails(page=3, per_page=10)
    assert [g.name for g in last.guardrails] == names[20:]
    assert (last.pagination.page, last.pagination.has_next, last.pagination.has_previous) == (3, False, True)

    walked: list[str] = []
    page = 1
    while True:
        answer = client.list_guardrails(page=page, per_page=7)
        walked += [g.name for g in answer.guardrails]
        if not answer.pagination.has_next:
            break
        page += 1
    assert walked == names and page == 4

    past = client.list_guardrails(page=9, per_page=10)
    assert past.guardrails == [] and past.pagination.has_previous and not past.pagination.has_next
    # per_page is capped at 100
    capped = client.list_guardrails(page=1, per_page=1000)
    assert capped.pagination.per_page == 100 and len(capped.guardrails) == 23
    assert not capped.pagination.has_next
    with gd.client() as c:
        bad = c.get(GUARDRAIL.api.list, params={"page": 0, "per_page": 10})
        assert bad.status_code == 422 and errors_of(bad) == ["page"]
    # the test helper walks every page too
    assert [g["name"] for g in gd.objects(GUARDRAIL)] == names


# ---------------------------------------------------------------------------------------------- deployments


def test_sdk_deployment_lifecycle(gd: RunningServer) -> None:
    add_model(gd)
    guardrails(gd).add_policy("Airline Policy", INPUT, description="")
    client = deployments(gd)

    added = client.add_deployment(deployment())
    assert added.message == "Deployment details added successfully"
    data = added.data
    assert (data.name, data.model_saved_name, data.model_version) == ("support-prod", "Support Model", "v1")
    deployment_id = data.deployment_id
    assert isinstance(deployment_id, int) and deployment_id >= 1
    assert [b.value for b in data.input_guardrails_policy.block] == ["injection_attack", "policy_violation"]
    assert data.output_guardrails_policy.enabled is False

    got = client.get_deployment("support-prod", refresh_cache=True)
    assert got.to_dict() == data.to_dict()

    changed = deployment()
    changed["input_guardrails_policy"] |= {"block": ["pii"], "additional_config": {"pii_redaction": True}}
    changed["output_guardrails_policy"] |= {"enabled": True, "additional_config": {"hallucination": True}}
    modified = client.modify_deployment("support-prod", changed)
    assert modified.message == "Deployment details updated successfully"
    assert modified.data.deployment_id == deployment_id
    got = client.get_deployment("support-prod")
    assert [b.value for b in got.input_guardrails_policy.block] == ["pii"]
    assert got.input_guardrails_policy.additional_config.pii_redaction is True
    assert got.output_guardrails_policy.enabled is True
    assert got.output_guardrails_policy.additional_config.hallucination is True
    assert got.created_at == data.created_at and got.updated_at >= data.updated_at

    listed = client.list_deployments()
    assert [d.to_dict() for d in listed.deployments] == [
        {
            "deployment_id": deployment_id,
            "name": "support-prod",
            "created_at": got.created_at,
            "updated_at": got.updated_at,
            "created_by": got.created_by,
            "updated_by": got.updated_by,
            "model_saved_name": "Support Model",
            "model_version": "v1",
            "project_name": "default",
        }
    ]

    deleted = client.delete_deployment("support-prod")
    assert deleted.message == "Deployment details deleted successfully"
    assert deleted.deployment_id == deployment_id
    with pytest.raises(DeploymentClientError, match="Deployment not found"):
        client.get_deployment("support-prod")
    with pytest.raises(DeploymentClientError, match="'status_code': 404"):
        client.delete_deployment("support-prod")
    assert client.list_deployments().deployments == []


def test_a_deployment_without_a_model_version_is_stored_as_v1(gd: RunningServer) -> None:
    """The SDK sends a missing model_version as "" (section 6.2): the service takes it as left out."""
    body = deployment()
    del body["model_version"]
    added = deployments(gd).add_deployment(body)
    assert added.data.model_version == "v1"
    assert deployments(gd).get_deployment("support-prod").model_version == "v1"
    with gd.client() as c:
        blank_name = c.post(DEPLOYMENT.api.add, json={**deployment("other"), "model_saved_name": ""})
        assert blank_name.status_code == 422 and errors_of(blank_name) == ["model_saved_name"]
        block = deployment("other")
        block["output_guardrails_policy"]["block"] = ["jailbreak"]
        bad_block = c.post(DEPLOYMENT.api.add, json=block)
        assert bad_block.status_code == 422 and errors_of(bad_block) == ["output_guardrails_policy.block[0]"]
        taken = c.post(DEPLOYMENT.api.add, json=deployment())
        assert taken.status_code == 409 and taken.json()["message"] == "Deployment already exists"


# ---------------------------------------------------------------------------------------------- code of conduct


def test_sdk_code_of_conduct_lifecycle(gd: RunningServer) -> None:
    client = conduct(gd)

    added = client.add_policy("Airline CoC", policy_rules=RULES, total_rules=2, policy_text="Be an airline.")
    assert added.message == "Policy details added successfully"
    data = added.data
    assert (data.name, data.policy_rules, data.total_rules) == ("Airline CoC", "\n".join(RULES), 2)
    assert (data.project_name, data.is_v2, data.pdf_name) == ("default", False, "")
    assert isinstance(data.policy_id, int) and data.policy_id >= 1

    got = client.get_policy("Airline CoC")
    assert got.to_dict() == data.to_dict()

    # a string of rules is sent as it is, one rule per line
    modified = client.modify_policy("Airline CoC", policy_rules="A\nB\nC", total_rules=3, policy_text="v2")
    assert modified.message == "Policy details updated successfully"
    assert (modified.data.policy_id, modified.data.policy_rules, modified.data.total_rules) == (
        data.policy_id,
        "A\nB\nC",
        3,
    )

    listed = client.get_policy_list()
    assert [(p.name, p.total_rules) for p in listed.policies] == [("Airline CoC", 3)]

    deleted = client.delete_policy("Airline CoC")
    assert deleted.message == "Policy details deleted successfully"
    # (the SDK's CoCDeletePolicyData.to_dict reads a missing attribute: read the fields)
    assert (deleted.data.policy_id, deleted.data.project_name) == (data.policy_id, "default")
    with pytest.raises(CoCClientError, match="Policy not found"):
        client.get_policy("Airline CoC")
    assert client.get_policy_list().policies == []


def test_code_of_conduct_bodies_the_server_takes_and_refuses(gd: RunningServer, tmp_path: Path) -> None:
    client = conduct(gd)
    with pytest.raises(CoCClientError, match=r"'status_code': 422.*total_rules"):
        client.add_policy("Airline CoC", policy_rules=RULES, total_rules=3, policy_text="Be an airline.")

    # A PDF is write-only on the service; this server keeps no files and says so, naming the field.
    pdf = tmp_path / "policy.pdf"
    pdf.write_bytes(b"%PDF-1.4\n%%EOF\n")
    with pytest.raises(CoCClientError, match=r"'status_code': 422.*policy_file"):
        client.add_policy("Airline CoC", policy_rules=RULES, total_rules=2, policy_file=str(pdf))
    # The Policy Wizard (v2) form is not modelled: the 422 names the v1 fields it lacks, as the wire names them.
    with pytest.raises(CoCClientError, match=r"'status_code': 422.*policy_rules, policy_text"):
        client.add_policy("Airline CoC", v2_questionnaire={"purpose": "support"}, v2_config={"status": "done"})
    assert client.get_policy_list().policies == []

    with gd.client() as c:
        file_upload = c.post(
            COC_POLICY.api.add,
            data={"name": "Airline CoC", "policy_rules": "A", "total_rules": "1"},
            files={"policy_file": ("policy.pdf", b"%PDF-1.4", "application/pdf")},
        )
        assert file_upload.status_code == 422 and errors_of(file_upload) == ["policy_file"]
        # urlencoded (Enkrypt's quickstart) and JSON both work; the rules are trimmed, blank lines dropped
        form = {"name": "Form CoC", "policy_rules": " A \n\nB", "total_rules": "2", "policy_text": "t"}
        urlencoded = c.post(COC_POLICY.api.add, data=form)
        assert urlencoded.status_code == 200, urlencoded.text
        assert urlencoded.json()["data"]["policy_rules"] == "A\nB"
        as_json = c.post(COC_POLICY.api.add, json={**form, "name": "JSON CoC", "total_rules": 2})
        assert as_json.status_code == 200 and as_json.json()["data"]["total_rules"] == 2
        no_rules = c.post(COC_POLICY.api.add, json={"name": "Empty CoC", "policy_text": "t"})
        assert no_rules.status_code == 422 and errors_of(no_rules) == ["policy_rules"]
        taken = c.post(COC_POLICY.api.add, data=form)
        assert taken.status_code == 409 and taken.json()["message"] == "Policy already exists"


# ---------------------------------------------------------------------------------------------- across kinds


def test_policies_guardrails_and_coc_policies_share_one_policy_id_counter(gd: RunningServer) -> None:
    policy = guardrails(gd).add_policy("Airline Policy", INPUT, description="").data.policy_id
    guardrail = int(guardrails(gd).add_guardrail("Prod Guardrail", INPUT, OUTPUT).data.policy_id)
    coc = conduct(gd).add_policy("Airline CoC", policy_rules=RULES, total_rules=2, policy_text="t").data.policy_id
    assert policy < guardrail < coc
    # an id is never handed out twice, even once its object is gone
    conduct(gd).delete_policy("Airline CoC")
    again = int(guardrails(gd).add_guardrail("Prod Guardrail 2", INPUT).data.policy_id)
    assert again > coc
    # one name may be a policy, a guardrail and a CoC policy at once: three collections
    assert guardrails(gd).add_guardrail("Airline Policy", INPUT).message == "Guardrail details added successfully"
    assert conduct(gd).add_policy("Airline Policy", policy_rules=RULES, total_rules=2, policy_text="t").data.name


def test_references_are_not_checked_by_default(gd: RunningServer) -> None:
    assert gd.admin_config()["check_references"] is False
    assert deployments(gd).add_deployment(deployment(model="No Model", policy="No Policy")).data.deployment_id
    add_model(gd)
    guardrails(gd).add_policy("Airline Policy", INPUT, description="")
    deployments(gd).add_deployment(deployment("uses-both"))
    # the service lets a deployment dangle (the SDK's live suites delete in this order)
    assert guardrails(gd).delete_policy("Airline Policy").message == "Policy details deleted successfully"
    with gd.client() as c:
        assert c.delete(MODEL.api.delete, headers=identity_headers("Support Model")).status_code == 200
    assert deployments(gd).get_deployment("uses-both").model_saved_name == "Support Model"


def test_check_references_refuses_dangling_names(gd: RunningServer) -> None:
    assert gd.admin_config(check_references=True)["check_references"] is True
    client = deployments(gd)
    with gd.client() as c:
        r = c.post(DEPLOYMENT.api.add, json=deployment(model="No Model", policy="No Policy"))
        assert r.status_code == 422
        assert r.json()["errors"] == [
            {"field": "model_saved_name", "reason": "names no model of this project"},
            {"field": "input_guardrails_policy.policy_name", "reason": "names no guardrails policy or guardrail "
             "of this project"},
            {"field": "output_guardrails_policy.policy_name", "reason": "names no guardrails policy or guardrail "
             "of this project"},
        ]  # fmt: skip
        add_model(gd)
        r = c.post(DEPLOYMENT.api.add, json=deployment())
        assert r.status_code == 422 and errors_of(r) == [
            "input_guardrails_policy.policy_name",
            "output_guardrails_policy.policy_name",
        ]
        # a guardrail's name is accepted where a policy's is ([unknown] 5.6: policies are looked up first)
        guardrails(gd).add_guardrail("Airline Policy", INPUT, OUTPUT)
        assert client.add_deployment(deployment()).message == "Deployment details added successfully"
        # the SDK's "" model_version is v1, and v1 of the model exists
        no_version = deployment("no-version")
        no_version["model_version"] = ""
        assert client.add_deployment(no_version).data.model_version == "v1"
        with pytest.raises(DeploymentClientError, match=r"'status_code': 422.*model_saved_name"):
            client.modify_deployment("no-version", deployment("no-version", model="No Model"))

        # what a deployment names cannot be deleted, nor renamed, while it does
        used = c.delete(MODEL.api.delete, headers=identity_headers("Support Model"))
        assert used.status_code == 409
        assert used.json()["message"] == "Model is used by deployment 'no-version', deployment 'support-prod'"
        with pytest.raises(GuardrailsClientError, match=r"409.*Guardrail is used by deployment 'no-version'"):
            guardrails(gd).delete_guardrail("Airline Policy")
        with pytest.raises(GuardrailsClientError, match=r"409.*Guardrail is used by"):
            guardrails(gd).modify_guardrail("Airline Policy", INPUT, new_guardrail_name="Renamed")
        # a modify that keeps the name is no rename
        assert guardrails(gd).modify_guardrail("Airline Policy", INPUT).data.name == "Airline Policy"

        # once a policy of that name exists, the deployments name the policy, not the guardrail
        guardrails(gd).add_policy("Airline Policy", INPUT, description="")
        assert guardrails(gd).delete_guardrail("Airline Policy").message == "Guardrail details deleted successfully"
        with pytest.raises(GuardrailsClientError, match=r"409.*Policy is used by deployment"):
            guardrails(gd).delete_policy("Airline Policy")
        # a missing object is still a 404, whatever names it
        missing = c.delete(POLICY.api.delete, headers={"X-Enkrypt-Policy": "Never There"})
        assert missing.status_code == 404

        # a guardrail naming a CoC policy holds it too
        guard = {"name": "CoC Guard", "input": {"policy_violation": {"enabled": True, "coc_policy_name": "No CoC"}}}
        r = c.post(GUARDRAIL.api.add, json=guard)
        assert r.status_code == 422 and errors_of(r) == ["input.policy_violation.coc_policy_name"]
        conduct(gd).add_policy("No CoC", policy_rules=RULES, total_rules=2, policy_text="t")
        assert c.post(GUARDRAIL.api.add, json=guard).status_code == 200
        with pytest.raises(CoCClientError, match=r"409.*Policy is used by guardrail 'CoC Guard'"):
            conduct(gd).delete_policy("No CoC")

        # deleting the users first frees what they named
        for name in ("support-prod", "no-version"):
            client.delete_deployment(name)
        assert c.delete(MODEL.api.delete, headers=identity_headers("Support Model")).status_code == 200
        assert guardrails(gd).delete_policy("Airline Policy").message == "Policy details deleted successfully"
        guardrails(gd).delete_guardrail("CoC Guard")
        assert conduct(gd).delete_policy("No CoC").message == "Policy details deleted successfully"


def test_a_restart_on_the_same_database_keeps_every_kind(db_path: str) -> None:
    with start_server(db_path, [SERVER_TESTS_KEY]) as server:
        add_model(server)
        guardrails(server).add_policy("Airline Policy", INPUT, description="")
        for i in range(12):  # more than a page
            guardrails(server).add_guardrail(f"Guard {i:02d}", INPUT, OUTPUT)
        conduct(server).add_policy("Airline CoC", policy_rules=RULES, total_rules=2, policy_text="t")
        deployments(server).add_deployment(deployment())
        before = {kind.name: server.objects(kind) for kind in ALL_KINDS}
        assert [len(objects) for objects in before.values()] == [1, 1, 12, 1, 1]

        server.restart()
        assert {kind.name: server.objects(kind) for kind in ALL_KINDS} == before
        server.restart(hard=True)  # SIGKILL, as a crash
        assert {kind.name: server.objects(kind) for kind in ALL_KINDS} == before

        # the shared counter survives too: no id is handed out twice
        highest = max(int(o["policy_id"]) for kind in (POLICY, GUARDRAIL, COC_POLICY) for o in before[kind.name])
        assert int(guardrails(server).add_guardrail("After", INPUT).data.policy_id) == highest + 1
        assert deployments(server).get_deployment("support-prod").model_version == "v1"
