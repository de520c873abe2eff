"""End to end with the real pinned Pulumi CLI: every kind through the plugin, from a program on the generated
Python SDK (sdk/python): a model, a code-of-conduct policy, a guardrails policy naming it, a guardrail and a
deployment naming the model and the policy. Up, a no-change preview, a refresh without drift, an update of
one field of the guardrail whose diff names only that field, `pulumi import` by name of a guardrail made
outside Pulumi, and destroy (the server refuses deletes out of order). The first preview, with the
deployment's references still unknown, passes."""

from __future__ import annotations

import json
import re
from pathlib import Path

from pulumi_enkrypt.kinds import COC_POLICY, DEPLOYMENT, GUARDRAIL, POLICY
from pulumi_enkrypt.server.process import RunningServer
from support import kinds as k
from support.cli import server_project

REPO = Path(__file__).resolve().parents[2]
PLUGIN_DIR = REPO / "provider"
SDK_DIR = REPO / "sdk" / "python"

PROGRAM = """
import json

import pulumi
import pulumi_enkrypt_sdk as enkrypt

config = pulumi.Config()
model = enkrypt.Model(
    "support-model",
    model_saved_name="Support Model",
    model_version="v1",
    testing_for="foundationModels",
    model_name="gpt-4o-mini",
    certifications=[],
    model_config={
        "model_provider": "openai",
        "hosting_type": "External",
        "endpoint": {"scheme": "https", "host": "api.openai.com", "port": 443, "base_path": "/v1"},
        "paths": {"completions": "/completions", "chat": "/chat/completions"},
        "auth_data": {"header_name": "Authorization", "header_prefix": "Bearer", "space_after_prefix": True},
        "apikeys": ["sk-plugin-all-kinds"],
        "rate_per_min": 20,
    },
)
conduct = enkrypt.CodeOfConductPolicy(
    "conduct", name="Airline CoC", rules=["Be polite.", "Never promise refunds."], policy_text="How support behaves."
)
policy = enkrypt.GuardrailsPolicy(
    "airline",
    name="Airline Policy",
    description="Guardrails of the support bot",
    detectors={
        "injection_attack": {"enabled": True},
        "policy_violation": {"enabled": True, "coc_policy_name": conduct.name, "need_explanation": True},
    },
)
guard = enkrypt.Guardrail(
    "prod-guard",
    name="Prod Guardrail",
    description=config.get("guardDescription") or "Prompts and answers of the support bot",
    input=enkrypt.DetectorsArgs(injection_attack=enkrypt.InjectionAttackDetectorArgs(enabled=True)),
    output={"nsfw": {"enabled": True}},
)
deployment = enkrypt.Deployment(
    "support",
    name="support-prod",
    model_saved_name=model.model_saved_name,
    model_version=model.model_version,
    input_guardrails_policy={"policy_name": policy.name, "enabled": True, "block": ["injection_attack"]},
    output_guardrails_policy={"policy_name": policy.name, "enabled": True, "block": ["nsfw"]},
)
pulumi.export("deployment_id", deployment.deployment_id)
if config.get("outsideGuard"):
    enkrypt.Guardrail("outside", **json.loads(config.get("outsideGuard")))
"""


def test_every_kind_through_the_plugin(pulumi_cli: Path, tmp_path: Path, enkrypt_server: RunningServer) -> None:
    server = enkrypt_server
    site = tmp_path / "site"  # the SDK reads its version from an installed distribution's record
    version = json.loads((PLUGIN_DIR / "schema.json").read_text())["version"]
    record = site / f"pulumi_enkrypt_sdk-{version}.dist-info"
    record.mkdir(parents=True)
    (record / "METADATA").write_text(f"Metadata-Version: 2.1\nName: pulumi_enkrypt_sdk\nVersion: {version}\n")
    project = server_project(tmp_path, server, PROGRAM, pulumi_cli, pythonpath=[SDK_DIR, site])
    (project.dir / "Pulumi.yaml").write_text(
        f"name: e2e\nruntime: python\nplugins:\n  providers:\n    - name: enkrypt\n      path: {PLUGIN_DIR}\n"
    )

    # The first preview: the deployment's references to the model and the policy are unknown yet.
    first = project.preview()
    assert re.search(r"^\s+\+ 6 to create$", first.stdout, re.M), first.stdout
    project.up()
    (deployment,) = k.by_name(server, DEPLOYMENT).values()
    assert (deployment["model_saved_name"], deployment["input_guardrails_policy"]["policy_name"]) == (
        "Support Model",
        "Airline Policy",
    )
    assert k.by_name(server, POLICY)["Airline Policy"]["detectors"]["policy_violation"]["coc_policy_name"] == (
        "Airline CoC"
    )
    assert set(k.by_name(server, GUARDRAIL)) == {"Prod Guardrail"}
    assert set(k.by_name(server, COC_POLICY)) == {"Airline CoC"}
    assert project.outputs()["deployment_id"] == deployment["deployment_id"]

    project.preview(expect_no_changes=True)
    project.refresh("--expect-no-changes")

    project.config_set("guardDescription", "Only the support bot")
    diff = project.preview("--diff")
    assert set(re.findall(r"^\s*[~+-]\s+([a-z_]+): ", diff.stdout, re.M)) == {"description"}, diff.stdout
    server.reset_stats()
    project.up()
    assert k.writes(server) == {f"PATCH {GUARDRAIL.api.modify}": 1}
    assert k.by_name(server, GUARDRAIL)["Prod Guardrail"]["description"] == "Only the support bot"

    # import by name of a guardrail made outside Pulumi, then the program declares it: no change
    outside = {"name": "Console Guardrail", "description": "Made by hand", "input": {"nsfw": {"enabled": True}}}
    k.add(server, GUARDRAIL, outside)
    project.run("import", "enkrypt:index:Guardrail", "outside", "Console Guardrail", "--yes", "--non-interactive",
                "--generate-code=false", "--protect=false")  # fmt: skip
    project.config_set("outsideGuard", json.dumps(outside))
    project.preview(expect_no_changes=True)

    project.destroy()
    assert server.models() == []
    for kind in (POLICY, GUARDRAIL, DEPLOYMENT, COC_POLICY):
        assert k.by_name(server, kind) == {}, kind.name
