"""End to end with the real pinned Pulumi CLI: a GuardrailsPolicy's whole life against the local server.

Create, a no-change preview, a refresh that finds no drift (the server fills in every detector the program
left out), an update of one detector (one modify call), a change made out of band seen by refresh and undone
by the next up, a rename (a replacement), and destroy. Whether the service fills in defaults is [unknown]
(guardrails contract 10.2): the server shows both behaviours, and neither may show up as drift.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from pulumi_enkrypt.kinds import POLICY
from pulumi_enkrypt.server.process import RunningServer
from support.cli import PulumiProject, Result, server_project

PROGRAM = """
import json

import pulumi
import pulumi_enkrypt as enkrypt

config = pulumi.Config()
policy = enkrypt.GuardrailsPolicy(
    "airline",
    name=config.get("policyName") or "Airline Policy",
    description="Guardrails of the support bot",
    detectors=enkrypt.DetectorsArgs(
        injection_attack=enkrypt.InjectionAttackDetectorArgs(enabled=True),
        pii={"enabled": True, "entities": json.loads(config.get("piiEntities") or '["pii", "secrets"]')},
        policy_violation={"enabled": True, "policy_text": "Only flights and bookings.", "need_explanation": True},
    ),
)
pulumi.export("policy_id", policy.policy_id)
pulumi.export("pii_entities", policy.detectors.apply(lambda d: d.pii.entities))
looked_up = enkrypt.get_guardrails_policy_output(policy.name)
pulumi.export("looked_up_id", looked_up.apply(lambda r: r.policy_id))
"""
POLICY_TYPE = POLICY.type_token


def policies(server: RunningServer) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in server.objects(POLICY)}


def policy_writes(server: RunningServer) -> dict[str, int]:
    """The requests that change a policy since the last reset of the server's counters."""
    requests: dict[str, int] = server.stats()["requests"]
    return {k: v for k, v in requests.items() if " /guardrails/" in k and not k.startswith("GET ") and v}


def state_of(project: PulumiProject) -> dict[str, Any]:
    (resource,) = [r for r in project.resources() if r["type"] == POLICY_TYPE]
    return resource


def unchanged(result: Result) -> bool:
    """The run's summary names no change, only unchanged resources."""
    text = result.stdout
    block = text[text.rfind("Resources:") :]
    return re.search(r"^\s+\d+ unchanged\s*$", block, re.M) is not None and not re.search(
        r"^\s+(\+|-|~|\+-)\s*\d+ ", block, re.M
    )


@pytest.mark.parametrize("fill_defaults", [True, False], ids=["server-fills-defaults", "server-echoes-as-sent"])
def test_policy_lifecycle(pulumi_cli: Path, tmp_path: Path, enkrypt_server: RunningServer, fill_defaults: bool) -> None:
    server = enkrypt_server
    server.admin_config(fill_defaults=fill_defaults)
    project = server_project(tmp_path, server, PROGRAM, pulumi_cli)

    # create
    project.up()
    stored = policies(server)["Airline Policy"]
    assert stored["detectors"]["pii"] == {"enabled": True, "entities": ["pii", "secrets"]}
    assert len(stored["detectors"]) == (11 if fill_defaults else 3)  # filled in, or as sent
    state = state_of(project)
    assert state["id"] == "Airline Policy"
    assert state["outputs"]["policy_id"] == stored["policy_id"]
    assert "toxicity" not in state["outputs"]["detectors"]
    outputs = project.outputs()
    assert outputs["pii_entities"] == ["pii", "secrets"]
    assert outputs["looked_up_id"] == stored["policy_id"]

    # nothing changed: no change to preview, no drift to refresh
    project.preview(expect_no_changes=True)
    server.reset_stats()
    assert unchanged(project.refresh())
    assert state_of(project)["outputs"]["detectors"] == state["outputs"]["detectors"]
    assert policy_writes(server) == {}
    project.preview(expect_no_changes=True)

    # an update of one detector: one modify call with the full body
    project.config_set("piiEntities", '["pii"]')
    server.reset_stats()
    project.up()
    assert policy_writes(server) == {"PATCH /guardrails/modify-policy": 1}
    stored = policies(server)["Airline Policy"]
    assert stored["detectors"]["pii"]["entities"] == ["pii"]
    assert stored["detectors"]["injection_attack"]["enabled"] is True  # the full body, not a patch
    assert stored["policy_id"] == state["outputs"]["policy_id"]
    project.preview(expect_no_changes=True)

    # out of band: a detector the program set is changed, one it left out is enabled
    detectors = json.loads(json.dumps(stored["detectors"]))
    console = {"name": stored["name"], "description": stored["description"], "detectors": detectors}
    console["detectors"]["pii"]["entities"] = ["pii", "url"]
    console["detectors"]["toxicity"] = {"enabled": True}
    with server.client() as http:
        http.patch(POLICY.api.modify, headers={"X-Enkrypt-Policy": "Airline Policy"}, json=console).raise_for_status()
    refreshed = project.refresh()
    assert not unchanged(refreshed)
    drifted = state_of(project)["outputs"]["detectors"]
    assert drifted["pii"]["entities"] == ["pii", "url"] and drifted["toxicity"] == {"enabled": True}
    assert not unchanged(project.preview())  # the next up undoes it
    server.reset_stats()
    project.up()
    assert policy_writes(server) == {"PATCH /guardrails/modify-policy": 1}
    restored = policies(server)["Airline Policy"]["detectors"]
    assert restored["pii"]["entities"] == ["pii"]
    assert restored.get("toxicity") == ({"enabled": False} if fill_defaults else None)
    project.preview(expect_no_changes=True)

    # a rename is a replacement: the new name made, the old one deleted
    old_id = policies(server)["Airline Policy"]["policy_id"]
    project.config_set("policyName", "Airline Policy v2")
    server.reset_stats()
    project.up()
    assert list(policies(server)) == ["Airline Policy v2"]
    assert policies(server)["Airline Policy v2"]["policy_id"] != old_id
    assert policy_writes(server) == {"POST /guardrails/add-policy": 1, "DELETE /guardrails/delete-policy": 1}
    assert state_of(project)["id"] == "Airline Policy v2"
    project.preview(expect_no_changes=True)

    # destroy
    project.destroy()
    assert policies(server) == {}
    assert [r for r in project.resources() if r["type"] == POLICY_TYPE] == []
