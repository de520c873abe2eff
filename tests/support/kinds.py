"""What the end-to-end tests of several kinds share: the local server's objects of a kind by name, its write
requests, the order in which it saw requests (its access log), out-of-band calls on Enkrypt's official paths
(what a console user or a script does), and what a CLI run's summary says."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import httpx

from pulumi_enkrypt._api import form_fields, from_wire, to_wire
from pulumi_enkrypt.kinds import Kind
from pulumi_enkrypt.server.process import RunningServer, start_server

from .cli import PulumiProject, Result
from .server import E2E_API_KEY

ACCESS_LOG = ("--access-log", "--log-level", "info")
"""Server arguments that log each request, in the order served, to the log ``request_log`` reads."""

_REQUEST_LINE = re.compile(r'"(GET|POST|PATCH|PUT|DELETE) (/[^ ?"]*)[^"]*" (\d{3})')


def logging_server(tmp_path: Path) -> RunningServer:
    """A fresh server like the ``enkrypt_server`` fixture's, logging every request (``request_log``)."""
    return start_server(str(tmp_path / "enkrypt.sqlite"), [E2E_API_KEY], ACCESS_LOG)


def request_log(server: RunningServer) -> list[tuple[str, str, int]]:
    """(method, path, status) of each API request a ``logging_server`` served, in order; admin calls left out."""
    found = [(m, p, int(s)) for m, p, s in _REQUEST_LINE.findall(server.log_text())]
    return [entry for entry in found if not entry[1].startswith("/_emulator/")]


def by_name(server: RunningServer, kind: Kind) -> dict[str, dict[str, Any]]:
    """The server's objects of ``kind`` (a one-field identity) by name, as its list call answers."""
    found: dict[str, dict[str, Any]] = {}
    page = 1
    while True:  # guardrails are listed a page at a time
        with server.client() as http:
            answer = http.get(kind.api.list, params={"page": page, "per_page": 100}).raise_for_status().json()
        found.update({item[kind.identity[0]]: item for item in answer[kind.api.list_key]})
        if not answer.get("pagination", {}).get("has_next"):
            return found
        page += 1


def writes(server: RunningServer) -> dict[str, int]:
    """The API requests that change something ("METHOD /path" -> count) since the last reset of the counters."""
    requests: dict[str, int] = server.stats()["requests"]
    return {k: v for k, v in requests.items() if v and not k.startswith("GET ") and " /_emulator/" not in k}


def _headers(kind: Kind, name: str) -> dict[str, str]:
    return {kind.api.identity_headers[kind.identity[0]]: name}


def _send(http: httpx.Client, method: str, path: str, kind: Kind, body: Mapping[str, Any], **kw: Any) -> httpx.Response:
    """A body the way the official SDK sends it for ``kind``: JSON, or form fields (a CoC policy)."""
    wire = to_wire(kind, body)
    if kind.api.body_encoding == "multipart":
        return http.request(method, path, files={k: (None, v) for k, v in form_fields(wire).items()}, **kw)
    return http.request(method, path, json=wire, **kw)


def add(server: RunningServer, kind: Kind, body: Mapping[str, Any]) -> dict[str, Any]:
    """Create an object outside Pulumi; what the server saved."""
    with server.client() as http:
        saved: dict[str, Any] = _send(http, "POST", kind.api.add, kind, body).raise_for_status().json()["data"]
    return saved


def modify(server: RunningServer, kind: Kind, name: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """Change an object outside Pulumi with a full body (a modify is a full replace)."""
    with server.client() as http:
        answer = _send(http, "PATCH", kind.api.modify, kind, body, headers=_headers(kind, name))
        saved: dict[str, Any] = answer.raise_for_status().json()["data"]
    return saved


def delete(server: RunningServer, kind: Kind, name: str) -> httpx.Response:
    """Delete an object outside Pulumi; the answer, whatever its status."""
    with server.client() as http:
        return http.delete(kind.api.delete, headers=_headers(kind, name))


def body_of(kind: Kind, stored: Mapping[str, Any]) -> dict[str, Any]:
    """What a client sends to make ``stored`` again: the server's own fields left out, rules as a list."""
    held = from_wire(kind, stored)
    return {k: v for k, v in held.items() if k in kind.facts.top_level_fields}


def resources_by_type(project: PulumiProject) -> dict[str, dict[str, Any]]:
    """The stack's Enkrypt resources in state by type token (each type at most once in these stacks); the
    stack and the provider resources left out."""
    return {r["type"]: r for r in project.resources() if not r["type"].startswith("pulumi:")}


def unchanged(result: Result) -> bool:
    """The run's summary names no change, only unchanged resources."""
    text = result.stdout
    block = text[text.rfind("Resources:") :]
    return re.search(r"^\s+\d+ unchanged\s*$", block, re.M) is not None and not re.search(
        r"^\s+(\+|-|~|\+-)\s*\d+ ", block, re.M
    )


def set_config(project: PulumiProject, values: Mapping[str, str]) -> Result:
    """Set several plaintext config values with one CLI command."""
    flags: list[str] = []
    for key, value in values.items():
        flags += ["--plaintext", f"{key}={value}"]
    return project.run("config", "set-all", *flags)


def positions(log: Iterable[tuple[str, str, int]], method: str, path: str) -> list[int]:
    """Where in ``log`` the requests ``method path`` are."""
    return [i for i, (m, p, _s) in enumerate(log) if m == method and p == path]


# A program with one object of every kind, the deployment naming the model, the policy and (through the policy)
# the code-of-conduct policy; its config keys vary names, rules and blocks between runs.
EVERY_KIND_PROGRAM = """
import json

import pulumi
import pulumi_enkrypt as enkrypt

config = pulumi.Config()
# Every kind replaces delete-first by default (so `pulumi up --replace` of one name works); renames of what a
# deployment names can ask for create-first.
create_first = pulumi.ResourceOptions(delete_before_replace=False) if config.get_bool("createFirst") else None
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
        "apikeys": ["sk-guarded-deployment-e2e"],
        "rate_per_min": 20,
    },
)
conduct = enkrypt.CodeOfConductPolicy(
    "conduct",
    name="Airline CoC",
    rules=json.loads(config.get("cocRules") or '["Be polite.", "Never promise refunds."]'),
    policy_text="How the airline's support assistant behaves.",
)
policy = enkrypt.GuardrailsPolicy(
    "airline",
    name=config.get("policyName") or "Airline Policy",
    description="Guardrails of the support bot",
    detectors={
        "injection_attack": {"enabled": True},
        "policy_violation": {"enabled": True, "coc_policy_name": conduct.name, "need_explanation": True},
    },
    opts=create_first,
)
guard = enkrypt.Guardrail(
    "prod-guard",
    name="Prod Guardrail",
    description=config.get("guardDescription") or "Prompts and answers of the support bot",
    input=enkrypt.DetectorsArgs(
        injection_attack=enkrypt.InjectionAttackDetectorArgs(enabled=True),
        pii={"enabled": True, "entities": ["pii", "secrets"]},
    ),
    output={"nsfw": {"enabled": True}, "toxicity": {"enabled": True}},
)
model_version = model.model_version
output_policy = policy.name
if config.get_bool("viaLookups"):
    # What a lookup of an object the program creates says is unknown in the first preview.
    model_version = enkrypt.get_model_output(model.model_saved_name, model.model_version).apply(
        lambda m: m.model_version
    )
    output_policy = enkrypt.get_guardrails_policy_output(policy.name).apply(lambda p: p.name)
deployment = enkrypt.Deployment(
    "support",
    name=config.get("deploymentName") or "support-prod",
    model_saved_name=model.model_saved_name,
    model_version=model_version,
    input_guardrails_policy={
        "policy_name": policy.name,
        "enabled": True,
        "block": json.loads(config.get("inputBlock") or '["injection_attack"]'),
        "additional_config": {"pii_redaction": False},
    },
    output_guardrails_policy=enkrypt.OutputGuardrailsPolicyArgs(
        policy_name=output_policy,
        enabled=True,
        block=["nsfw"],
        additional_config=enkrypt.OutputAdditionalConfigArgs(hallucination=False, adherence=False, relevancy=False),
    ),
    opts=create_first,
)
pulumi.export("deployment_id", deployment.deployment_id)
"""
