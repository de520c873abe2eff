"""Secret hygiene: every secret field of the contract (wire.SECRET_PATHS) and the Enkrypt API key, each set to a
distinctive string, must appear nowhere: not in the exported state, not in anything the CLI prints (errors and
`--debug -v=9 --logtostderr` runs included), not in the provider host's stderr, not in an exception message;
also when the server answers with an error that echoes the whole request (body and headers).

The runs hold every kind: the model with the secrets, and a code-of-conduct policy, a guardrails policy, a
guardrail naming the code-of-conduct policy and a deployment naming the model and the policy (through their
outputs). Those kinds hold no secret of their own, but the model's must not leak through them: not through the
deployment's outputs (it names the model), not through any lookup (``get_deployment`` and the others, both
forms, every field exported and logged), not through an echoed error of their writes (the API key is a header).

The echoing server is a loopback proxy in front of the local server that answers writes itself, with a 422 or
a 500 whose ``message`` is the raw request.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import grpc
import pytest
from pulumi.dynamic.dynamic import serialize_provider

from pulumi_enkrypt import wire
from pulumi_enkrypt.client import EnkryptClient, EnkryptError
from pulumi_enkrypt.kinds import ALL_KINDS, DEPLOYMENT
from pulumi_enkrypt.provider import DeploymentProvider
from pulumi_enkrypt.server.process import start_server
from support.bodies import model_body
from support.cli import PulumiProject, output_of
from support.faults import FIGURES, RecordingProxy, counted
from support.provider_host import ProviderHost

TAG = "7d1e"
API_KEY = f"SECRET-enkrypt-api-key-{TAG}"


def s(field: str) -> str:
    return f"SECRET-{field}-{TAG}"


# The custom agent with a distinctive value in every secret field of the contract.
BODY = model_body(
    "hygiene",
    like="agent",
    testing_for="chatbotsAndCopilots",
    model_config={
        "endpoint": {"host": "api.example.test", "base_path": "/v1"},
        "apikeys": [s("apikeys-0"), s("apikeys-1")],
        "model_auth_type": "jwt",
        "model_jwt_config": {
            "jwt_method": "POST",
            "jwt_url": f"https://auth.example.test/{s('jwt_url')}",
            "jwt_headers": [{"key": "X-Client", "value": s("jwt_header")}],
            "jwt_body": json.dumps({"client_secret": s("jwt_body")}),
            "jwt_response_key": f".{s('jwt_response_key')}",
        },
        "auth_data": {
            "azure_client_secret": s("azure_client_secret"),
            "gcp_service_account_json": json.dumps({"private_key": s("gcp_service_account_json")}),
            "aws_access_key_id": s("aws_access_key_id"),
            "aws_secret_access_key": s("aws_secret_access_key"),
            "boxai_client_secret": s("boxai_client_secret"),
            "xactly_password": s("xactly_password"),
            "nutanix_user_session_id": s("nutanix_user_session_id"),
        },
        "custom_headers": [{"key": "X-Token", "value": s("custom_header-0")}, {"key": "X-Other", "value": s("h1")}],
        "custom_curl_command": f"curl -H 'Authorization: Bearer {s('custom_curl_command')}' https://x.test",
    },
)


def _tokens(text: str) -> list[str]:
    return re.findall(rf"SECRET-[A-Za-z0-9_-]+?-{TAG}", text)


ENGINE_RPC_DUMP = re.compile(r'^\{"time":"[^"]+","level":"[A-Z]+","msg":"(Un)?[Mm]arshaling property for RPC\[')
SECRETS = sorted({*_tokens(json.dumps(BODY)), API_KEY})


def test_every_secret_path_has_a_distinctive_value() -> None:
    covered = {p for p in wire.SECRET_PATHS if any(TAG in x for x in wire.secret_strings(_only(BODY, p)))}
    assert covered == set(wire.SECRET_PATHS)


def _only(body: Mapping[str, Any], path: str) -> dict[str, Any]:
    keep = {"model_saved_name": "x", "model_version": "v", "model_config": {}}
    head, _, _tail = path.partition("[*]")
    parts = head.split(".")
    node: Any = body
    for p in parts:
        node = node[p]
    cur = keep
    for p in parts[:-1]:
        cur = cur.setdefault(p, {})
    cur[parts[-1]] = node
    return keep


class Scanner:
    """Counts every place searched and every secret found (by place).

    At ``-v=9`` the Go engine itself logs every property it (un)marshals for gRPC, secrets included, as JSON
    lines ``{"msg": "Marshaling property for RPC[...]: value=...", "v": 9}``. That is Pulumi's logging, not
    ours (and documented as possibly holding secrets), so those lines, and only those, are left out and
    counted in a note.
    """

    def __init__(self) -> None:
        self.found: list[str] = []

    @staticmethod
    def _without_engine_rpc_dumps(where: str, text: str) -> str:
        kept, dropped = [], 0
        for line in text.splitlines():
            if TAG in line and ENGINE_RPC_DUMP.search(line):
                dropped += 1
            else:
                kept.append(line)
        if dropped:
            FIGURES.note(f"hygiene: {where}: {dropped} engine -v=9 RPC property dump line(s) hold secrets (Pulumi's)")
        return "\n".join(kept)

    def scan(self, where: str, text: str) -> None:
        FIGURES.bump("secret_places_searched")
        text = self._without_engine_rpc_dumps(where, text)
        tokens = set(_tokens(text)) | {x for x in SECRETS if x in text}
        if tokens:
            FIGURES.bump("secrets_found", len(tokens))
            lines = [line for line in text.splitlines() if TAG in line][:5]
            self.found.append(f"{where}: {sorted(tokens)}\n    " + "\n    ".join(line[:300] for line in lines))


PROGRAM = """
import json
import os

import pulumi
from pulumi_enkrypt import CodeOfConductPolicy, Deployment, Guardrail, GuardrailsPolicy, Model

m = Model("hygiene", args=json.load(open("model.json")))
block = json.load(open("block.json")) if os.path.exists("block.json") else ["injection_attack"]
coc = CodeOfConductPolicy("coc", name="hygiene-coc", rules=["Be polite."], policy_text="Support only.")
policy = GuardrailsPolicy("policy", name="hygiene-policy", detectors={"injection_attack": {"enabled": True}})
guard = Guardrail(
    "guard", name="hygiene-guard", input={"policy_violation": {"enabled": True, "coc_policy_name": coc.name}}
)
deployment = Deployment(
    "deployment",
    name="hygiene-deployment",
    model_saved_name=m.model_saved_name,
    model_version=m.model_version,
    input_guardrails_policy={"policy_name": policy.name, "enabled": True, "block": block},
    output_guardrails_policy={"policy_name": guard.name, "enabled": True, "block": ["nsfw"]},
)
for name, resource in {"deployment": deployment, "policy": policy, "guardrail": guard, "coc": coc}.items():
    pulumi.export(name, resource)  # every output
"""

# The same objects, read back by both forms of every lookup, every field of the results exported and logged.
PROGRAM_WITH_LOOKUPS = (
    PROGRAM
    + """
from pulumi_enkrypt import (
    get_code_of_conduct_policy, get_code_of_conduct_policy_output, get_deployment, get_deployment_output,
    get_guardrail, get_guardrail_output, get_guardrails_policy, get_guardrails_policy_output, get_model,
    get_model_output,
)

found = get_model(json.load(open("model.json"))["model_saved_name"], "v1")
pulumi.export("plain", {k: v for k, v in vars(found).items()})
pulumi.log.info(f"looked up {found!r}")
pulumi.export("output", get_model_output(m.model_saved_name, m.model_version).apply(lambda r: dict(vars(r))))
plain = {
    "deployment": get_deployment("hygiene-deployment"),
    "policy": get_guardrails_policy("hygiene-policy"),
    "guardrail": get_guardrail("hygiene-guard"),
    "coc": get_code_of_conduct_policy("hygiene-coc"),
}
for name, result in plain.items():
    pulumi.export(f"plain_{name}", dict(vars(result)))
    pulumi.log.info(f"looked up {result!r}")
outputs = {
    "deployment": get_deployment_output(deployment.name),
    "policy": get_guardrails_policy_output(policy.name),
    "guardrail": get_guardrail_output(guard.name),
    "coc": get_code_of_conduct_policy_output(coc.name),
}
for name, result in outputs.items():
    pulumi.export(f"output_{name}", result.apply(lambda r: dict(vars(r))))
"""
)


def _echo(mode: dict[str, Any]) -> Any:
    def intercept(method: str, path: str, headers: Mapping[str, str], body: bytes) -> Any:
        status = mode.get("status")
        if status is None or method not in ("POST", "PATCH") or path.startswith("/_"):  # writes of every kind
            return None
        message = f"Invalid request {body.decode()} with headers {json.dumps(dict(headers))}"
        payload = {"message": message, "errors": [{"field": "model_config", "reason": message, "input": body.decode()}]}
        return status, {"content-type": "application/json"}, json.dumps(payload).encode()

    return intercept


@pytest.fixture
def echo_setup(tmp_path: Path) -> Any:
    mode: dict[str, Any] = {}
    with start_server(str(tmp_path / "enkrypt.sqlite"), [API_KEY]) as server:
        proxy = RecordingProxy(server.url, intercept=_echo(mode))
        try:
            yield server, proxy, mode
        finally:
            proxy.close()


def test_no_secret_anywhere(pulumi_cli: Path, tmp_path: Path, echo_setup: Any) -> None:
    server, proxy, mode = echo_setup
    scanner = Scanner()
    project = PulumiProject(tmp_path / "p", PROGRAM, env={"ENKRYPTAI_MAX_ATTEMPTS": "2"})
    counted(project.config_set("enkrypt:apiKey", API_KEY, secret=True))
    counted(project.config_set("enkrypt:baseUrl", proxy.url))
    (project.dir / "model.json").write_text(json.dumps(BODY))
    debug = ("--debug", "--logtostderr", "-v=9")

    def step(name: str, *args: str, ok: bool = True) -> None:
        result = counted(project.run(*args, check=False))
        scanner.scan(name, output_of(result))
        assert (result.returncode == 0) == ok, f"{name}: {output_of(result)}"

    yes = ("--yes", "--non-interactive", "--skip-preview")
    step("up (create)", "up", *yes)
    step("preview --diff", "preview", "--diff", "--non-interactive")
    step("refresh --debug -v=9", "refresh", *yes, *debug)
    step("stack output", "stack", "output", "--json")
    scanner.scan("stack export", json.dumps(project.export()))
    FIGURES.bump("cli_runs")

    changed = json.loads(json.dumps(BODY))
    changed["model_config"]["system_prompt"] = "changed"
    (project.dir / "model.json").write_text(json.dumps(changed))
    (project.dir / "block.json").write_text(json.dumps(["injection_attack", "pii"]))  # a deployment update too
    mode["status"] = 422
    step("up (update -> 422 echo)", "up", *yes, ok=False)
    step("up (update -> 422 echo) --debug -v=9", "up", *yes, *debug, ok=False)
    mode["status"] = 500
    step("up (update -> 500 echo) --debug -v=9", "up", *yes, *debug, ok=False)
    mode["status"] = None
    step("preview --diff (pending update)", "preview", "--diff", "--non-interactive")
    step("up (update) --debug -v=9", "up", *yes, *debug)
    scanner.scan("stack export after update", json.dumps(project.export()))
    FIGURES.bump("cli_runs")

    # Lookups: both forms, every field exported and logged.
    (project.dir / "__main__.py").write_text(PROGRAM_WITH_LOOKUPS)
    step("up with lookups", "up", *yes)
    step("stack output with lookups", "stack", "output", "--json")
    scanner.scan("stack export with lookups", json.dumps(project.export()))
    FIGURES.bump("cli_runs")
    (project.dir / "__main__.py").write_text(PROGRAM)

    # Secrets at the wrong level (top level of the args) fail check: not printed with the failure. An
    # unknown provider's warning rides along.
    misplaced = {**changed, "apikeys": changed["model_config"]["apikeys"]}
    misplaced["auth_data"] = changed["model_config"]["auth_data"]
    misplaced["model_config"] = {**changed["model_config"], "model_provider": "not-listed"}
    (project.dir / "model.json").write_text(json.dumps(misplaced))
    step("preview (secrets at the wrong level)", "preview", "--diff", "--non-interactive", ok=False)
    step("up (secrets at the wrong level) --debug", "up", *yes, "--debug", ok=False)
    (project.dir / "model.json").write_text(json.dumps(changed))

    # A new model whose add is answered 422 with the echoed body.
    renamed = {**changed, "model_saved_name": "hygiene-2"}
    (project.dir / "model.json").write_text(json.dumps(renamed))
    mode["status"] = 422
    step("up (replace -> 422 echo) --debug -v=9", "up", *yes, *debug, ok=False)
    mode["status"] = None
    step("destroy --debug -v=9", "destroy", *yes, *debug)
    scanner.scan("stack export after destroy", json.dumps(project.export()))
    FIGURES.bump("cli_runs")
    assert {k.name: server.objects(k, API_KEY) for k in ALL_KINDS} == {k.name: [] for k in ALL_KINDS}
    FIGURES.bump("cases")
    assert scanner.found == [], "secrets leaked:\n" + "\n".join(scanner.found)


@pytest.mark.parametrize("status", [422, 500, 409])
def test_no_secret_in_provider_errors_or_stderr(echo_setup: Any, status: int) -> None:
    _server, proxy, mode = echo_setup
    scanner = Scanner()
    mode["status"] = status
    with ProviderHost(env={"ENKRYPTAI_MAX_ATTEMPTS": "2"}) as host:
        host.configure({"enkrypt:apiKey": API_KEY, "enkrypt:baseUrl": proxy.url})
        with pytest.raises(grpc.RpcError) as err:
            host.create(BODY)
        scanner.scan(f"gRPC error of create ({status})", str(err.value.details()) + repr(err.value))
        with pytest.raises(grpc.RpcError) as err:
            host.update("hygiene:v1", BODY, BODY)
        scanner.scan(f"gRPC error of update ({status})", str(err.value.details()) + repr(err.value))
        stderr = host.close()
    scanner.scan(f"provider host stderr ({status})", stderr)

    # A deployment's write answered with the echo: its body holds no secret, its headers the API key.
    deployment = {
        "name": "hygiene-deployment",
        "model_saved_name": BODY["model_saved_name"],
        "model_version": BODY["model_version"],
        "input_guardrails_policy": {"policy_name": "p", "enabled": True},
        "output_guardrails_policy": {"policy_name": "p", "enabled": True},
    }
    with ProviderHost(env={"ENKRYPTAI_MAX_ATTEMPTS": "2"}) as host:
        host.pickled = serialize_provider(DeploymentProvider())
        host.urn = f"urn:pulumi:test::project::{DEPLOYMENT.type_token}::d"
        host.configure({"enkrypt:apiKey": API_KEY, "enkrypt:baseUrl": proxy.url})
        with pytest.raises(grpc.RpcError) as err:
            host.create(deployment)
        scanner.scan(f"gRPC error of a deployment's create ({status})", str(err.value.details()) + repr(err.value))
        stderr = host.close()
    scanner.scan(f"provider host stderr, deployment ({status})", stderr)

    with EnkryptClient(proxy.url, API_KEY, max_attempts=2, backoff_base=0.01) as api:
        for call in (lambda: api.add_model(BODY), lambda: api.modify_model("hygiene", "v1", BODY)):
            with pytest.raises(EnkryptError) as exc:
                call()
            scanner.scan(f"client exception ({status})", f"{exc.value} {exc.value!r} {vars(exc.value)}")
    FIGURES.bump("cases")
    assert scanner.found == [], "secrets leaked:\n" + "\n".join(scanner.found)
