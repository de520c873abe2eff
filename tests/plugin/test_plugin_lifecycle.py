"""End to end with the real pinned Pulumi CLI: the `enkrypt` provider plugin (provider/, served from the
dynamic provider's core) against the local server.

The project names the plugin by path (Pulumi.yaml `plugins.providers`), so the engine starts it through the
bundled Python language host's RunPlugin. One stack goes through: up, a no-change preview, a refresh without
drift, an update whose `preview --diff` names only the changed property, `pulumi import` by id of a model made
outside Pulumi and then a no-change preview, two explicit provider instances writing to two projects of the
server in one `up`, secrets encrypted in `pulumi stack export` and absent from every output, and destroy.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pulumi_enkrypt.server.process import RunningServer, start_server
from support.bodies import API_KEYS, model_body
from support.cli import PulumiProject, Result, output_of, server_project
from support.server import writes

REPO = Path(__file__).resolve().parents[2]
PLUGIN_DIR = REPO / "provider"
MODEL_TYPE = "enkrypt:index:Model"
ALPHA_KEY, BETA_KEY = "plugin-alpha-key-7c1d", "plugin-beta-key-92e4"

# A raw CustomResource of the plugin's type (what a generated SDK's class is): outputs declared as None.
PROGRAM = """
import json

import pulumi

config = pulumi.Config()


class Model(pulumi.CustomResource):
    def __init__(self, name, props, opts=None):
        outputs = {"model_id": None, "project_name": None, "created_at": None, "updated_at": None}
        super().__init__("enkrypt:index:Model", name, {**props, **outputs}, opts)


main = Model("main", json.loads(config.require("main")))
pulumi.export("model_id", main.model_id)
pulumi.export("model_config", main.model_config)  # holds the endpoint's key: must stay a secret

outside = config.get("outside")
if outside:
    Model("outside", json.loads(outside))

if config.get_bool("explicit"):
    url = config.require("serverUrl")
    for team, key in (("alpha", "alphaKey"), ("beta", "betaKey")):
        provider = pulumi.ProviderResource("enkrypt", f"{team}-provider", {"apiKey": config.require_secret(key),
                                                                           "baseUrl": url})
        body = json.loads(config.require("main"))
        body["model_saved_name"] = f"Team {team}"
        made = Model(f"team-{team}", body, pulumi.ResourceOptions(provider=provider))
        pulumi.export(f"team_{team}_project", made.project_name)
"""


@pytest.fixture
def two_project_server(tmp_path: Path) -> Iterator[RunningServer]:
    """The local server with two API keys, each its own project (alpha is the stack's default provider's)."""
    with start_server(str(tmp_path / "enkrypt.sqlite"), [f"{ALPHA_KEY}=alpha", f"{BETA_KEY}=beta"]) as server:
        yield server


def plugin_project(tmp_path: Path, server: RunningServer, bin_dir: Path, main: dict[str, Any]) -> PulumiProject:
    project = server_project(
        tmp_path,
        server,
        PROGRAM,
        bin_dir,
        config={"main": json.dumps(main), "serverUrl": server.url},
        secrets={"alphaKey": ALPHA_KEY, "betaKey": BETA_KEY},
    )
    # The plugin by path: the engine finds PulumiPlugin.yaml there and asks the language host to run it.
    (project.dir / "Pulumi.yaml").write_text(
        f"name: e2e\nruntime: python\nplugins:\n  providers:\n    - name: enkrypt\n      path: {PLUGIN_DIR}\n"
    )
    return project


def models(server: RunningServer, key: str) -> dict[str, dict[str, Any]]:
    return {f"{m['model_saved_name']}:{m['model_version']}": m for m in server.models(key)}


def state_of(project: PulumiProject, name: str) -> dict[str, Any]:
    (resource,) = [r for r in project.resources() if r["type"] == MODEL_TYPE and r["urn"].endswith(f"::{name}")]
    return resource


def changed_properties(diff: Result) -> set[str]:
    """The top-level properties `preview --diff` shows as changed (`~ name:`, `+ name:`, `- name:`)."""
    return set(re.findall(r"^\s*[~+-]\s+([a-z_]+): ", diff.stdout, re.M))


def test_plugin_lifecycle(pulumi_cli: Path, tmp_path: Path, two_project_server: RunningServer) -> None:
    server = two_project_server
    main = model_body("Plugin Model", "v1")
    project = plugin_project(tmp_path, server, pulumi_cli, main)
    outputs: list[Result] = []

    # up: the model is made in the default provider's project, with the plugin's outputs
    outputs.append(project.up())
    stored = models(server, ALPHA_KEY)["Plugin Model:v1"]
    assert stored["model_config"]["apikeys"] == [API_KEYS["together"]]
    state = state_of(project, "main")
    assert state["id"] == "Plugin Model:v1"
    assert state["outputs"]["model_id"] == stored["model_id"]
    assert project.outputs()["model_id"] == stored["model_id"]

    # no-change preview and a refresh that finds no drift
    outputs.append(project.preview(expect_no_changes=True))
    outputs.append(project.refresh("--expect-no-changes"))

    # an update of one property: the diff names it alone, and one modify is sent
    project.config_set("main", json.dumps({**main, "model_name": "mistralai/Mixtral-8x22B-Instruct-v0.1"}))
    diff = project.preview("--diff")
    outputs.append(diff)
    assert changed_properties(diff) == {"model_name"}, diff.stdout
    server.reset_stats()
    outputs.append(project.up())
    assert writes(server) == {"PATCH /models/modify-model": 1}
    assert models(server, ALPHA_KEY)["Plugin Model:v1"]["model_name"] == "mistralai/Mixtral-8x22B-Instruct-v0.1"
    outputs.append(project.preview(expect_no_changes=True))

    # import by id of a model made outside Pulumi, then the program declares it: no change
    outside = model_body("Outside Model", "v2", model_config={"system_prompt": "Made in the console."})
    with server.client(ALPHA_KEY) as api:
        api.post("/models/add-model", json=outside).raise_for_status()
    imported = project.run(
        "import", MODEL_TYPE, "outside", "Outside Model:v2", "--yes", "--non-interactive", "--generate-code=false"
    )
    outputs.append(imported)
    assert state_of(project, "outside")["inputs"]["model_config"]["system_prompt"] == "Made in the console."
    project.config_set("outside", json.dumps(outside))
    outputs.append(project.preview(expect_no_changes=True))

    # two explicit providers, each with its own key, write to their own project in one up
    project.config_set("explicit", "true")
    outputs.append(project.up())
    assert set(models(server, ALPHA_KEY)) == {"Plugin Model:v1", "Outside Model:v2", "Team alpha:v1"}
    assert set(models(server, BETA_KEY)) == {"Team beta:v1"}
    assert project.outputs()["team_beta_project"] == "beta"
    outputs.append(project.preview(expect_no_changes=True))

    # secrets: encrypted in state (the provider marks the model's key; the providers' keys stay secret)
    exported = json.dumps(project.export())
    secrets = [API_KEYS["together"], ALPHA_KEY, BETA_KEY]
    for secret in secrets:
        assert secret not in exported
    main_state = state_of(project, "main")
    assert "ciphertext" in json.dumps(main_state["outputs"]["model_config"]["apikeys"])
    assert "ciphertext" in json.dumps(main_state["inputs"]["model_config"]["apikeys"])
    assert project.outputs()["model_config"] == "[secret]"

    # destroy: every model of both projects is gone
    outputs.append(project.destroy())
    assert models(server, ALPHA_KEY) == {}
    assert models(server, BETA_KEY) == {}

    for result in outputs:
        text = output_of(result)
        for secret in secrets:
            assert secret not in text, f"a secret is printed by `{' '.join(result.args)}`"


def test_plugin_errors_name_the_problem(pulumi_cli: Path, tmp_path: Path, two_project_server: RunningServer) -> None:
    """The core's messages reach the user as they are: a bad field fails the preview naming it, and a model
    that exists already fails the create with the core's advice (not the SDK's `Unexpected <class ...>`)."""
    server = two_project_server
    main = model_body("Taken Model", "v1")
    project = plugin_project(
        tmp_path, server, pulumi_cli, {**main, "model_config": {**main["model_config"], "endpoint": {"port": 70000}}}
    )
    bad = project.preview(check=False)
    assert bad.returncode != 0
    assert "model_config.endpoint.port: input should be less than or equal to 65535" in bad.stdout
    assert models(server, ALPHA_KEY) == {}

    with server.client(ALPHA_KEY) as api:
        api.post("/models/add-model", json=main).raise_for_status()
    project.config_set("main", json.dumps(main))
    taken = project.up(check=False)
    assert taken.returncode != 0
    assert "Enkrypt already has a model named 'Taken Model' version 'v1' in this project" in taken.stdout
    assert "adopt_existing=True" in taken.stdout
    assert "Unexpected <class" not in output_of(taken)
