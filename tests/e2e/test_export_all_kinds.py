"""`pulumi-enkrypt export` of an account holding every kind: a model, a code-of-conduct policy, a guardrails
policy and a guardrail naming it, a deployment naming the model, the policy and the guardrail, and a deployment
naming objects the account does not hold, plus the platform's samples. The program it writes declares every
object once, after what it names, with the names written as the other resources' outputs; `pulumi up` takes
them all over without changing any, and the next preview and refresh show no change."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from test_export_roundtrip import PROJECT, _cli, _exported_stack, _ruff

from pulumi_enkrypt.client import EnkryptClient
from pulumi_enkrypt.kinds import ALL_KINDS, COC_POLICY, DEPLOYMENT, GUARDRAIL, MODEL, POLICY
from pulumi_enkrypt.server.process import RunningServer
from support.bodies import model_body
from support.server import E2E_API_KEY

CONDUCT = {"name": "Airline Conduct", "rules": ["Be polite", "Never promise a refund"], "policy_text": "Airline"}
POLICY_BODY = {
    "name": "Airline Policy",
    "description": "What the support bot's prompts may not do",
    "detectors": {
        "injection_attack": {"enabled": True},
        "pii": {"enabled": True, "entities": ["pii", "secrets"]},
        # need_explanation: true is the service's default: the export leaves it out
        "policy_violation": {"enabled": True, "coc_policy_name": "Airline Conduct", "need_explanation": True},
    },
}
GUARDRAIL_BODY = {
    "name": "Prod Guard",
    "input": {"nsfw": {"enabled": True}, "policy_violation": {"enabled": True, "coc_policy_name": "Airline Conduct"}},
    "output": {"toxicity": {"enabled": True}},
}
DEPLOYMENT_BODY = {
    "name": "support-prod",
    "model_saved_name": "Support Bot",
    "model_version": "v2",
    # pii_redaction: false is the service's default: the export leaves additional_config out
    "input_guardrails_policy": {
        "policy_name": "Airline Policy",
        "enabled": True,
        "block": ["injection_attack", "pii"],
        "additional_config": {"pii_redaction": False},
    },
    "output_guardrails_policy": {"policy_name": "Prod Guard", "enabled": True, "block": ["nsfw"]},
}
DANGLING_BODY = {  # names a model and a policy this account does not hold (the service does not check)
    "name": "legacy-route",
    "model_saved_name": "Retired Model",
    "model_version": "v7",
    "input_guardrails_policy": {"policy_name": "Retired Policy", "enabled": False},
    "output_guardrails_policy": {"policy_name": "Airline Policy", "enabled": True},
}


def _seed(server: RunningServer) -> None:
    """Everything made through the server's public API, the way a console user would have."""
    with EnkryptClient(server.url, E2E_API_KEY) as api:
        api.add(MODEL, model_body("Support Bot", "v2"))
        api.add(COC_POLICY, CONDUCT)
        api.add(POLICY, POLICY_BODY)
        api.add(GUARDRAIL, GUARDRAIL_BODY)
        api.add(DEPLOYMENT, DEPLOYMENT_BODY)
        api.add(DEPLOYMENT, DANGLING_BODY)


def _held(server: RunningServer) -> dict[str, dict[tuple[str, ...], dict[str, Any]]]:
    """Every object by kind and identity, without updated_at (a modify that changes nothing still bumps it)."""
    return {
        kind.name: {
            kind.identity_of(o): {k: v for k, v in o.items() if k != "updated_at"} for o in server.objects(kind)
        }
        for kind in ALL_KINDS
    }


def _defined_at(main_py: str, variable: str) -> int:
    match = re.search(rf"^{variable} = enkrypt\.", main_py, re.MULTILINE)
    assert match, f"{variable} is not defined in the program"
    return match.start()


def test_export_every_kind_roundtrip(pulumi_cli: Path, enkrypt_server: RunningServer, tmp_path: Path) -> None:
    server = enkrypt_server
    _seed(server)
    assert server.add_samples(1) == 2  # a sample model and the platform's sample policy
    before = _held(server)
    assert {name: len(objects) for name, objects in before.items()} == {
        "Model": 2,
        "GuardrailsPolicy": 2,
        "Guardrail": 1,
        "Deployment": 2,
        "CodeOfConductPolicy": 1,
    }

    out = tmp_path / "exported"
    done = _cli("export", "--output", str(out), "--base-url", server.url, "--stack", "dev", "--project-name", PROJECT)
    assert done.returncode == 0, done.stderr
    assert (
        "Listed 1 model (1 sample model skipped), 1 guardrails policy (1 sample guardrails policy skipped), "
        "1 guardrail, 2 deployments, 1 code-of-conduct policy"
    ) in done.stderr
    assert "Wrote 6 of 6 resources" in done.stderr
    main_py = (out / "__main__.py").read_text()
    _ruff(out / "__main__.py")

    # One resource per object of the account, each adopted; no sample.
    for kind, count in ((MODEL, 1), (COC_POLICY, 1), (POLICY, 1), (GUARDRAIL, 1), (DEPLOYMENT, 2)):
        assert len(re.findall(rf"^\w+ = enkrypt\.{kind.name}\($", main_py, re.MULTILINE)) == count, kind.name
    assert main_py.count("    adopt_existing=True,\n)") == 6
    assert "Sample" not in main_py

    # References as code, each object after what it names.
    model, conduct = "support_bot_v2", "airline_conduct_code_of_conduct_policy"
    policy, guard, deployment = "airline_guardrails_policy", "prod_guard_guardrail", "support_prod_deployment"
    assert f"model_saved_name={model}.model_saved_name,\n    model_version={model}.model_version," in main_py
    assert f"policy_name={policy}.name," in main_py
    assert f"policy_name={guard}.name," in main_py
    assert _defined_at(main_py, model) < _defined_at(main_py, deployment)
    assert _defined_at(main_py, policy) < _defined_at(main_py, deployment)
    assert _defined_at(main_py, guard) < _defined_at(main_py, deployment)
    assert _defined_at(main_py, conduct) < _defined_at(main_py, guard)
    assert main_py.count(f"coc_policy_name={conduct}.name,") == 2  # the guardrail's and the policy's
    assert _defined_at(main_py, conduct) < _defined_at(main_py, policy)

    # What the account does not hold stays a string, and a comment says so.
    dangling = main_py[main_py.index("# model_saved_name, model_version: names a model named 'Retired Model'") :]
    dangling = dangling[: dangling.index("adopt_existing=True")]
    assert "# input_guardrails_policy.policy_name: names a guardrails policy named 'Retired Policy'" in dangling
    assert 'model_saved_name="Retired Model",\n    model_version="v7",' in dangling
    assert 'policy_name="Retired Policy",' in dangling
    assert f"policy_name={policy}.name," in dangling  # its output side names an exported policy

    # Neither what the server computes nor what it fills in by default.
    for server_field in ("policy_id", "deployment_id", "created_at", "project_name", "total_rules", "policy_rules"):
        assert server_field not in main_py, server_field
    for default in ("additional_config", "need_explanation", "topic_detector", "Do not allow any illegal"):
        assert default not in main_py, default

    project, configured = _exported_stack(out, tmp_path / "pulumi", pulumi_cli)
    assert configured.returncode == 0, configured.stdout + configured.stderr
    project.up()

    after = _held(server)
    for kind in ALL_KINDS:
        assert sorted(after[kind.name]) == sorted(before[kind.name]), f"{kind.plural} were added or deleted"
        changed = [key for key in before[kind.name] if before[kind.name][key] != after[kind.name][key]]
        assert not changed, f"adopting changed these {kind.plural}: {changed}\n" + "\n".join(
            f"before {before[kind.name][k]}\nafter  {after[kind.name][k]}" for k in changed
        )
    project.preview(expect_no_changes=True)
    project.refresh("--expect-no-changes")

    by_type: dict[str, int] = {}
    for resource in project.resources():
        by_type[resource["type"]] = by_type.get(resource["type"], 0) + 1
    assert {kind.name: by_type.get(kind.type_token, 0) for kind in ALL_KINDS} == {
        "Model": 1,
        "GuardrailsPolicy": 1,
        "Guardrail": 1,
        "Deployment": 2,
        "CodeOfConductPolicy": 1,
    }
    [route] = [r for r in project.resources() if r["urn"].endswith("::support-prod")]
    named = sorted(urn.split("::")[2].rsplit(":", 1)[1] for urn in route["dependencies"])
    assert named == ["Guardrail", "GuardrailsPolicy", "Model"], "the deployment depends on what it names"
