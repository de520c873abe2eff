"""Each example under examples/ (but the quickstart, tested with the root Pulumi.yaml) runs against the local
server: up, the server holds what it should, a preview with --expect-no-changes, no secret string in the
exported state, destroy."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from pulumi_enkrypt.kinds import ALL_KINDS, DEPLOYMENT, MODEL, POLICY
from pulumi_enkrypt.server.process import RunningServer, start_server
from support.bodies import model_body
from support.cli import MODEL_TYPE, REPO, PulumiProject
from support.server import E2E_API_KEY, models_by_id

EXAMPLES = REPO / "examples"


def _project(tmp: Path, example: str, server_url: str, secrets: dict[str, str], cli: Path) -> PulumiProject:
    """The example's dev stack as it is (its own Pulumi.yaml and Pulumi.dev.yaml), its secrets set with --secret."""
    project = _stack(tmp, example, "dev", cli)
    _configure(project, server_url, secrets)
    return project


def _stack(tmp: Path, example: str, stack: str, cli: Path) -> PulumiProject:
    """A stack of the example (making one copies the example's files into the project dir again)."""
    source = EXAMPLES / example
    name = yaml.safe_load((source / "Pulumi.yaml").read_text())["name"]
    project = PulumiProject(tmp, source, stack=stack, name=name, bin_dir=cli)
    shutil.copy(source / "Pulumi.yaml", project.dir / "Pulumi.yaml")  # the harness writes a minimal one
    return project


def _configure(project: PulumiProject, server_url: str, secrets: dict[str, str]) -> None:
    project.config_set("enkrypt:baseUrl", server_url)
    for key, value in secrets.items():
        project.config_set(key, value, secret=True)


def _assert_no_secrets(project: PulumiProject, secrets: list[str]) -> None:
    state = json.dumps(project.export())
    leaked = [s for s in secrets if s in state]
    assert not leaked, f"secrets in plain text in `pulumi stack export`: {leaked}"
    assert '"ciphertext"' in state


def _finish(project: PulumiProject, server: RunningServer, api_key: str | None = None, keep: int = 0) -> None:
    """A no-change preview, then destroy leaves nothing of any kind (but ``keep`` models made outside)."""
    project.preview(expect_no_changes=True)
    project.destroy()
    left = {kind.name: len(server.objects(kind, api_key)) for kind in ALL_KINDS}
    assert left == {kind.name: keep if kind is MODEL else 0 for kind in ALL_KINDS}


# --------------------------------------------------------------------------------------------- multi-env

ENV_KEYS = {"dev": "ek-dev-4b1f", "staging": "ek-staging-8c2d", "prod": "ek-prod-9e3a"}


@pytest.fixture
def per_env_server(tmp_path: Path) -> Iterator[RunningServer]:
    """One server, one Enkrypt project per environment (an API key each)."""
    keys = [f"{key}={env}" for env, key in ENV_KEYS.items()]
    with start_server(str(tmp_path / "enkrypt.sqlite"), keys) as server:
        yield server


def test_multi_env(pulumi_cli: Path, per_env_server: RunningServer, tmp_path: Path) -> None:
    server = per_env_server
    openai_keys = {env: f"sk-{env}-openai-7d41a0" for env in ENV_KEYS}
    # The same project dir and backend: one program, three stacks side by side. (Each stack is created before
    # any config is set: making a PulumiProject copies the example's files in again.)
    projects = {env: _stack(tmp_path, "multi-env", env, pulumi_cli) for env in ENV_KEYS}
    for env, project in projects.items():
        _configure(project, server.url, {"enkrypt:apiKey": ENV_KEYS[env], "openaiKey": openai_keys[env]})
    stacks = projects["dev"].run("stack", "ls", "--json", stack_flag=False).stdout
    assert sorted(s["name"] for s in json.loads(stacks)) == ["dev", "prod", "staging"]

    for project in projects.values():
        project.up()

    dev, staging, prod = (models_by_id(server, ENV_KEYS[env]) for env in ("dev", "staging", "prod"))
    assert sorted(dev) == ["dev-experimental-agent:v1", "dev-support-bot:v3-beta"]
    assert sorted(staging) == ["staging-summarizer:v1", "staging-support-bot:v2"]
    assert sorted(prod) == ["summarizer:v1", "support-bot:v2"]
    assert {m["project_name"] for m in [*dev.values(), *staging.values(), *prod.values()]} == set(ENV_KEYS)
    rates = {name: m["model_config"]["rate_per_min"] for env in (dev, staging, prod) for name, m in env.items()}
    assert rates == {
        "dev-experimental-agent:v1": 5,
        "dev-support-bot:v3-beta": 5,
        "staging-summarizer:v1": 20,
        "staging-support-bot:v2": 50,
        "summarizer:v1": 100,
        "support-bot:v2": 200,
    }
    assert prod["support-bot:v2"]["model_name"] == "gpt-4o"
    assert dev["dev-support-bot:v3-beta"]["model_config"]["system_prompt"].endswith("(development build).")
    for env, models in (("dev", dev), ("staging", staging), ("prod", prod)):
        assert all(m["model_config"]["apikeys"] == [openai_keys[env]] for m in models.values()), env
    assert projects["prod"].outputs()["models"] == {"summarizer": "summarizer:v1", "support-bot": "support-bot:v2"}

    # One policy everywhere; what each environment's deployments block differs.
    blocks: dict[str, tuple[list[str], list[str]]] = {}
    for env in ENV_KEYS:
        [policy] = server.objects(POLICY, ENV_KEYS[env])
        assert sorted(d for d, on in policy["detectors"].items() if on["enabled"]) == [
            "injection_attack", "nsfw", "pii", "toxicity",
        ]  # fmt: skip
        for route in server.objects(DEPLOYMENT, ENV_KEYS[env]):
            assert route["input_guardrails_policy"]["policy_name"] == policy["name"]
            assert route["output_guardrails_policy"]["policy_name"] == policy["name"]
            identity = f"{route['model_saved_name']}:{route['model_version']}"
            assert identity in {"dev": dev, "staging": staging, "prod": prod}[env], f"{route['name']} names no model"
            blocks[route["name"]] = (
                route["input_guardrails_policy"]["block"],
                route["output_guardrails_policy"]["block"],
            )
    assert blocks == {
        "dev-experimental-agent": (["injection_attack"], []),
        "dev-support-bot": (["injection_attack"], []),
        "staging-summarizer": (["injection_attack", "pii"], ["nsfw"]),
        "staging-support-bot": (["injection_attack", "pii"], ["nsfw"]),
        "summarizer": (["injection_attack", "pii", "nsfw", "toxicity"], ["pii", "nsfw", "toxicity"]),
        "support-bot": (["injection_attack", "pii", "nsfw", "toxicity"], ["pii", "nsfw", "toxicity"]),
    }
    assert projects["dev"].outputs()["deployments"] == {
        "experimental-agent": "dev-experimental-agent",
        "support-bot": "dev-support-bot",
    }

    for env, project in projects.items():
        _assert_no_secrets(project, [*openai_keys.values(), *ENV_KEYS.values()])
        _finish(project, server, ENV_KEYS[env])


# --------------------------------------------------------------------------------------------- guarded deployment


def test_guarded_deployment(pulumi_cli: Path, enkrypt_server: RunningServer, tmp_path: Path) -> None:
    openai_key = "sk-guarded-openai-2f6c"
    secrets = {"enkrypt:apiKey": E2E_API_KEY, "openaiKey": openai_key}
    project = _project(tmp_path, "guarded-deployment", enkrypt_server.url, secrets, pulumi_cli)
    project.up()

    [model] = enkrypt_server.models()
    [policy] = enkrypt_server.objects(POLICY)
    [route] = enkrypt_server.objects(DEPLOYMENT)
    assert model["model_config"]["apikeys"] == [openai_key]
    assert policy["name"] == "Acme Support Policy"
    assert sorted(d for d, on in policy["detectors"].items() if on["enabled"]) == [
        "injection_attack", "nsfw", "pii", "policy_violation", "toxicity",
    ]  # fmt: skip
    assert route["name"] == "support-dev"  # from Pulumi.dev.yaml
    assert (route["model_saved_name"], route["model_version"]) == ("Acme Support Bot", "v1")
    assert route["input_guardrails_policy"] == {
        "policy_name": "Acme Support Policy",
        "enabled": True,
        "block": ["injection_attack", "pii"],
        "additional_config": {"pii_redaction": True},
    }
    assert route["output_guardrails_policy"]["policy_name"] == "Acme Support Policy"
    assert route["output_guardrails_policy"]["block"] == ["nsfw", "toxicity", "policy_violation"]
    outputs = project.outputs()
    assert (outputs["deployment"], outputs["deployment_id"]) == ("support-dev", route["deployment_id"])
    assert outputs["policy_id"] == policy["policy_id"]
    # The deployment depends on what it names: Pulumi deletes it first.
    [state] = [r for r in project.resources() if r["type"] == DEPLOYMENT.type_token]
    assert sorted(urn.rsplit("::", 1)[1] for urn in state["dependencies"]) == ["support-bot", "support-policy"]

    _assert_no_secrets(project, [openai_key, E2E_API_KEY])
    _finish(project, enkrypt_server)


# --------------------------------------------------------------------------------------------- custom agent


def test_custom_agent(pulumi_cli: Path, enkrypt_server: RunningServer, tmp_path: Path) -> None:
    token = "agent-token-5c09e7f1"
    secrets = {"enkrypt:apiKey": E2E_API_KEY, "agentToken": token}
    project = _project(tmp_path, "custom-agent", enkrypt_server.url, secrets, pulumi_cli)
    project.up()

    [agent] = enkrypt_server.models()
    assert (agent["model_saved_name"], agent["model_version"], agent["testing_for"]) == (
        "Acme Support Agent",
        "v1",
        "agents",
    )
    config = agent["model_config"]
    assert config["model_provider"] == "custom"
    assert config["endpoint"]["host"] == "agent.acme.example"
    assert config["custom_headers"] == [
        {"key": "Authorization", "value": f"Bearer {token}"},
        {"key": "X-Tenant-Id", "value": "acme-support"},
    ]
    assert config["custom_payload"]["messages"] == [{"role": "user", "content": "{prompt}"}]
    assert config["custom_response_format"] == ".data.reply.text"
    assert [t["name"] for t in config["tools"]] == ["lookup_order", "issue_refund"]
    assert config["context"]["policy_description"].startswith("Never refund")
    assert project.outputs()["id"] == "Acme Support Agent:v1"

    _assert_no_secrets(project, [token, E2E_API_KEY])
    _finish(project, enkrypt_server)


# --------------------------------------------------------------------------------------------- cloud credentials

SERVICE_ACCOUNT = json.dumps(
    {
        "type": "service_account",
        "project_id": "acme-ml",
        "private_key_id": "0123456789abcdef",
        "private_key": "-----BEGIN PRIVATE KEY-----\\nMIIEv-gcp-private-key-0f3c\\n-----END PRIVATE KEY-----\\n",
        "client_email": "red-team@acme-ml.iam.gserviceaccount.com",
    },
    indent=2,
)


def test_cloud_credentials(pulumi_cli: Path, enkrypt_server: RunningServer, tmp_path: Path) -> None:
    secrets = {
        "enkrypt:apiKey": E2E_API_KEY,
        "azureClientSecret": "azure-client-secret-3e8b",
        "awsAccessKeyId": "AKIAEXAMPLE9F2D",
        "awsSecretAccessKey": "aws-secret-access-key-71c4/xyz",
        "jwtClientSecret": "jwt-client-secret-a92f",
    }
    project = _project(tmp_path, "cloud-credentials", enkrypt_server.url, secrets, pulumi_cli)
    # As the README says: the key file on stdin.
    project.run("config", "set", "--secret", "gcpServiceAccountJson", input=SERVICE_ACCOUNT)
    project.up()

    models = models_by_id(enkrypt_server)
    assert sorted(models) == [
        "Acme Chatbot (JWT):v1",
        "Acme Claude (Bedrock):v1",
        "Acme GPT-4o (Azure):v1",
        "Acme Gemini (Vertex):v1",
    ]
    azure = models["Acme GPT-4o (Azure):v1"]["model_config"]
    assert azure["auth_data"]["azure_client_secret"] == secrets["azureClientSecret"]
    assert azure["auth_data"]["azure_tenant_id"] == "00000000-1111-2222-3333-444444444444"
    assert azure["metadata"]["azure_instance"] == "acme-openai"
    bedrock = models["Acme Claude (Bedrock):v1"]["model_config"]
    assert bedrock["auth_data"] == {
        "aws_access_key_id": secrets["awsAccessKeyId"],
        "aws_secret_access_key": secrets["awsSecretAccessKey"],
    }
    assert bedrock["metadata"]["bedrock"] == {"aws_region": "eu-west-1"}
    gemini = models["Acme Gemini (Vertex):v1"]["model_config"]
    assert json.loads(gemini["auth_data"]["gcp_service_account_json"]) == json.loads(SERVICE_ACCOUNT)
    assert gemini["metadata"]["gemini"]["api_endpoint"] == "europe-west4-aiplatform.googleapis.com"
    jwt = models["Acme Chatbot (JWT):v1"]["model_config"]
    assert jwt["model_auth_type"] == "jwt"
    jwt_body = json.loads(jwt["model_jwt_config"]["jwt_body"])
    assert jwt_body["client_secret"] == secrets["jwtClientSecret"]
    assert jwt["model_jwt_config"]["jwt_url"] == "https://auth.acme.example/oauth/token"

    # Every cloud credential, the service-account JSON (and its private key alone) and the JWT body.
    _assert_no_secrets(
        project,
        [
            *secrets.values(),
            "MIIEv-gcp-private-key-0f3c",
            "private_key_id",
            jwt["model_jwt_config"]["jwt_body"],
            json.dumps(jwt["model_jwt_config"]["jwt_body"])[1:-1],  # as it would appear inside JSON
        ],
    )
    _finish(project, enkrypt_server)


# --------------------------------------------------------------------------------------------- lookup

# Made outside Pulumi, e.g. in the Enkrypt console.
EXISTING = model_body(model_config={"apikeys": ["together-key-made-in-the-console-41d2"]})


def test_lookup(pulumi_cli: Path, enkrypt_server: RunningServer, tmp_path: Path) -> None:
    with enkrypt_server.client() as http:  # made outside Pulumi, e.g. in the Enkrypt console
        http.post("/models/add-model", json=EXISTING).raise_for_status()
    [existing] = enkrypt_server.models()
    canary_key = "canary-key-0b7e"
    secrets = {"enkrypt:apiKey": E2E_API_KEY, "canaryApiKey": canary_key}
    project = _project(tmp_path, "lookup", enkrypt_server.url, secrets, pulumi_cli)
    project.up()

    models = models_by_id(enkrypt_server)
    assert sorted(models) == ["Test Model:v1", "Test Model:v1-canary"]
    assert models["Test Model:v1"] == existing, "a lookup must not change the looked-up model"
    canary = models["Test Model:v1-canary"]["model_config"]
    assert canary["endpoint"] == EXISTING["model_config"]["endpoint"]
    assert canary["apikeys"] == [canary_key]
    assert canary["rate_per_min"] == 5
    outputs = project.outputs()
    assert outputs["existing_id"] == "Test Model:v1"
    assert outputs["existing_model_id"] == existing["model_id"]
    assert outputs["existing_provider"] == "together"
    assert outputs["existing_project"] == "default"
    assert outputs["existing_endpoint_host"] == "[secret]"  # the looked-up model holds an API key
    assert project.outputs(show_secrets=True)["existing_endpoint_host"] == "api.together.xyz"
    # Only the canary is managed; the looked-up model is not in the state.
    assert [r["id"] for r in project.resources() if r["type"] == MODEL_TYPE] == ["Test Model:v1-canary"]

    _assert_no_secrets(project, [canary_key, "together-key-made-in-the-console-41d2"])
    _finish(project, enkrypt_server, keep=1)
    assert enkrypt_server.models() == [existing]
