"""End to end with the real pinned Pulumi CLI: `pulumi package add provider/` (the SDK generated through the
language host, the same as sdk/python), then a program written against that SDK (`pulumi_enkrypt_sdk`):
typed inputs for a model and a guardrails policy, the lookup `get_model_output` served by the plugin's
invoke, secrets kept secret from the program to the state, a no-change preview, a refresh without drift,
and destroy."""

from __future__ import annotations

import json
from pathlib import Path

from pulumi_enkrypt.kinds import MODEL, POLICY
from pulumi_enkrypt.server.process import RunningServer
from support.cli import Result, output_of, server_project

REPO = Path(__file__).resolve().parents[2]
PLUGIN_DIR = REPO / "provider"
SDK_DIR = REPO / "sdk" / "python"
ENDPOINT_KEY = "sk-sdk-endpoint-5b0e2a"

PROGRAM = """
import pulumi
import pulumi_enkrypt_sdk as enkrypt

config = pulumi.Config()
model = enkrypt.Model(
    "sdk-model",
    model_saved_name="SDK Model",
    model_version="v1",
    testing_for="foundationModels",
    model_name="mistralai/Mixtral-8x7B-Instruct-v0.1",
    certifications=[],
    model_config=enkrypt.ModelConfigArgs(
        model_provider="together",
        hosting_type="External",
        endpoint=enkrypt.EndpointArgs(scheme="https", host="api.together.xyz", port=443, base_path="/v1"),
        paths=enkrypt.PathsArgs(completions="/completions", chat="/chat/completions"),
        auth_data=enkrypt.AuthDataArgs(header_name="Authorization", header_prefix="Bearer", space_after_prefix=True),
        apikeys=[config.require_secret("endpointKey")],
        rate_per_min=20,
    ),
)
# An explicit provider instance of the SDK, with its own key and URL (the server's, passed as config).
team = enkrypt.Provider("team", api_key=config.require("teamKey"), base_url=config.require("serverUrl"))
policy = enkrypt.GuardrailsPolicy(
    "sdk-policy",
    name="SDK Policy",
    description="Support chat",
    detectors=enkrypt.DetectorsArgs(
        injection_attack=enkrypt.InjectionAttackDetectorArgs(enabled=True),
        pii=enkrypt.PiiDetectorArgs(enabled=True, entities=["pii", "secrets"]),
    ),
    opts=pulumi.ResourceOptions(provider=team),
)
found = enkrypt.get_model_output(model_saved_name=model.model_saved_name, model_version=model.model_version)
pulumi.export("model_id", model.model_id)
pulumi.export("policy_id", policy.policy_id)
pulumi.export("found_model_id", found.model_id)
pulumi.export("found_host", found.model_config.endpoint.host)
pulumi.export("found_apikeys", found.model_config.apikeys)
"""


def sdk_metadata(site: Path) -> Path:
    """The record pip writes when it installs the SDK, which the SDK reads when it is imported. The venv has
    no wheel builder to install the SDK offline, so the test writes the record on the program's path."""
    version = json.loads((PLUGIN_DIR / "schema.json").read_text())["version"]
    record = site / f"pulumi_enkrypt_sdk-{version}.dist-info"
    record.mkdir(parents=True)
    (record / "METADATA").write_text(f"Metadata-Version: 2.1\nName: pulumi_enkrypt_sdk\nVersion: {version}\n")
    return site


def files_under(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): p.read_text() for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts
    }


def test_plugin_sdk_program(pulumi_cli: Path, tmp_path: Path, enkrypt_server: RunningServer) -> None:
    server = enkrypt_server
    site = sdk_metadata(tmp_path / "site")
    sdk = tmp_path / "project" / "sdks" / "enkrypt"  # where `pulumi package add` writes the SDK
    project = server_project(
        tmp_path,
        server,
        PROGRAM,
        pulumi_cli,
        secrets={"endpointKey": ENDPOINT_KEY},
        # Plain config: the provider's schema makes the key a secret all the same.
        config={"teamKey": server.api_key, "serverUrl": server.url},
        pythonpath=[sdk, site],
    )
    # The user's way in: the CLI asks the plugin for its schema, has the language host generate the SDK, and
    # records the plugin's path in Pulumi.yaml, where the engine finds it to run it.
    added = project.run("package", "add", str(PLUGIN_DIR), stack_flag=False)
    assert f"enkrypt: {PLUGIN_DIR}" in (project.dir / "Pulumi.yaml").read_text(), added.stdout
    assert files_under(sdk) == files_under(SDK_DIR)  # the SDK kept in the repository is what gen-sdk makes
    results: list[Result] = [project.up()]

    (stored,) = server.objects(MODEL)
    assert stored["model_config"]["apikeys"] == [ENDPOINT_KEY]
    assert stored["model_config"]["endpoint"]["port"] == 443
    (policy,) = server.objects(POLICY)
    assert policy["detectors"]["pii"] == {"enabled": True, "entities": ["pii", "secrets"]}
    outs = project.outputs()
    assert outs["model_id"] == stored["model_id"]
    assert outs["policy_id"] == policy["policy_id"]
    # The lookup went through the plugin's invoke: the same model. It holds a secret, so the SDK makes the
    # whole result secret (as the dynamic provider's get_model_output does).
    assert outs["found_apikeys"] == outs["found_model_id"] == "[secret]"
    shown = project.outputs(show_secrets=True)
    assert shown["found_model_id"] == stored["model_id"]
    assert shown["found_host"] == "api.together.xyz"
    assert shown["found_apikeys"] == [ENDPOINT_KEY]

    results.append(project.preview(expect_no_changes=True))
    results.append(project.refresh("--expect-no-changes"))
    exported = json.dumps(project.export())
    assert ENDPOINT_KEY not in exported
    (team,) = [
        r for r in project.resources() if r["type"] == "pulumi:providers:enkrypt" and r["urn"].endswith("::team")
    ]
    assert "ciphertext" in json.dumps(team["inputs"]["apiKey"])

    results.append(project.destroy())
    assert server.objects(MODEL) == [] and server.objects(POLICY) == []
    for result in results:
        assert ENDPOINT_KEY not in output_of(result), f"the key is printed by `{' '.join(result.args)}`"
