"""The edges a new user hits, with the real CLI: no sequence of operations loses a model or shows a secret.

Each test drives one sequence users run (rename with and without alias, `--replace`, an interrupted
rename, two resources on one model, placeholders from export, secrets at the wrong level, lookups of a
model the program creates, a missing API key, strict providers, `import_`) against a fresh local server,
and checks the server's models, the requests it saw and every line the CLI printed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pulumi_enkrypt.server.process import RunningServer
from support.bodies import model_body
from support.cli import MODEL_TYPE, PulumiProject, output_of, server_project
from support.server import identity_headers, model_requests, models_by_id

KEY = "sk-edge-s3cret-41c9d2"
HEADER = "hdr-edge-s3cret-77aa10"


def model_source(resource: str, *, name: str = "Edge Model", fields: str = "", opts: str = "") -> str:
    """A program line declaring one Model (its key and header value from config when given there); `fields`
    go into its args dict, `opts` after it."""
    return f"""
{resource.replace("-", "_")} = enkrypt.Model("{resource}", {{
    "model_saved_name": "{name}",
    "model_version": "v1",
    "testing_for": "agents",
    "model_config": {{
        "model_provider": "custom",
        "hosting_type": "External",
        "endpoint": {{"scheme": "https", "host": "api.example.com", "port": 443, "base_path": "/v1"}},
        "paths": {{"chat": "/chat"}},
        "apikeys": [config.get_secret("key") or "{KEY}"],
        "custom_headers": [{{"key": "x-team", "value": config.get_secret("header") or "{HEADER}"}}],
    }},{fields}
}}{opts})
"""


def program(*models: str, tail: str = "") -> str:
    return "import pulumi\nimport pulumi_enkrypt as enkrypt\n\nconfig = pulumi.Config()\n" + "".join(models) + tail


def urn(name: str) -> str:
    return f"urn:pulumi:dev::e2e::{MODEL_TYPE}::{name}"


def state_names(project: PulumiProject) -> list[str]:
    return sorted(r["urn"].rsplit("::", 1)[1] for r in project.resources() if r["type"] == MODEL_TYPE)


def stored_key(server: RunningServer, name: str = "Edge Model") -> Any:
    with server.client() as http:
        answer = http.get("/models/get-model", headers=identity_headers(name))
    answer.raise_for_status()
    return answer.json()["model_config"]["apikeys"]


# ---------------------------------------------------------------------------------------- 1. no model lost


def test_rename_with_adopt_existing_keeps_the_model(pulumi_cli: Path, tmp_path: Path, enkrypt_server: RunningServer):
    """export writes adopt_existing=True: a rename without alias adopts, and the old resource's delete must
    not remove the model the new resource now holds."""
    adopt = ' "adopt_existing": True,'
    project = server_project(tmp_path, enkrypt_server, program(model_source("first", fields=adopt)), pulumi_cli)
    project.up()
    model_id = models_by_id(enkrypt_server)["Edge Model:v1"]["model_id"]

    project.dir.joinpath("__main__.py").write_text(program(model_source("renamed", fields=adopt)))
    project.up()
    assert state_names(project) == ["renamed"]
    assert models_by_id(enkrypt_server)["Edge Model:v1"]["model_id"] == model_id
    project.preview(expect_no_changes=True)
    project.refresh()
    assert state_names(project) == ["renamed"]


def test_rename_without_adopt_fails_safely_then_an_alias_moves_it(
    pulumi_cli: Path, tmp_path: Path, enkrypt_server: RunningServer
):
    project = server_project(tmp_path, enkrypt_server, program(model_source("first")), pulumi_cli)
    project.up()
    model_id = models_by_id(enkrypt_server)["Edge Model:v1"]["model_id"]

    project.dir.joinpath("__main__.py").write_text(program(model_source("renamed")))
    failed = project.up(check=False)
    assert failed.returncode != 0
    assert "409" in output_of(failed) and "aliases=[pulumi.Alias(name=" in output_of(failed)
    assert models_by_id(enkrypt_server)["Edge Model:v1"]["model_id"] == model_id  # nothing lost

    alias = ", opts=pulumi.ResourceOptions(aliases=[pulumi.Alias(name='first')])"
    project.dir.joinpath("__main__.py").write_text(program(model_source("renamed", opts=alias)))
    project.up()
    assert state_names(project) == ["renamed"]
    assert models_by_id(enkrypt_server)["Edge Model:v1"]["model_id"] == model_id
    project.preview(expect_no_changes=True)


def test_forced_replacement_of_the_same_identity(pulumi_cli: Path, tmp_path: Path, enkrypt_server: RunningServer):
    project = server_project(tmp_path, enkrypt_server, program(model_source("m")), pulumi_cli)
    project.up()
    before = models_by_id(enkrypt_server)["Edge Model:v1"]["model_id"]

    project.up("--replace", urn("m"))
    after = models_by_id(enkrypt_server)["Edge Model:v1"]
    assert after["model_id"] != before  # really made again
    state = next(r for r in project.resources() if r["type"] == MODEL_TYPE)
    assert state["outputs"]["model_id"] == after["model_id"]
    project.preview(expect_no_changes=True)


def test_replace_on_changes_is_an_update_that_keeps_the_model(
    pulumi_cli: Path, tmp_path: Path, enkrypt_server: RunningServer
):
    """The engine ignores replace_on_changes for a dynamic provider (no per-property diff): an update."""
    source = program(model_source("m", opts=', opts=pulumi.ResourceOptions(replace_on_changes=["model_config"])'))
    project = server_project(tmp_path, enkrypt_server, source, pulumi_cli)
    project.up()
    before = models_by_id(enkrypt_server)["Edge Model:v1"]["model_id"]
    project.config_set("header", "hdr-rotated-0b7e", secret=True)
    project.up()
    assert models_by_id(enkrypt_server)["Edge Model:v1"]["model_id"] == before
    project.preview(expect_no_changes=True)


def test_two_stacks_on_one_account_do_not_take_each_others_model(
    pulumi_cli: Path, tmp_path: Path, enkrypt_server: RunningServer
):
    first = server_project(tmp_path / "a", enkrypt_server, program(model_source("m")), pulumi_cli)
    first.up()
    model = models_by_id(enkrypt_server)["Edge Model:v1"]
    second = server_project(tmp_path / "b", enkrypt_server, program(model_source("m")), pulumi_cli)
    failed = second.up(check=False)
    assert failed.returncode != 0 and "409" in output_of(failed)
    second.destroy()
    assert models_by_id(enkrypt_server)["Edge Model:v1"] == model
    first.preview(expect_no_changes=True)


def test_adopted_rename_interrupted_between_create_and_delete(
    pulumi_cli: Path, tmp_path: Path, enkrypt_server: RunningServer
):
    """The run that adopts under a new name fails before it deletes the old resource; the next run deletes
    the old resource then, and must still keep the model."""
    adopt = ' "adopt_existing": True,'
    project = server_project(tmp_path, enkrypt_server, program(model_source("first", fields=adopt)), pulumi_cli)
    project.up()
    with enkrypt_server.client() as http:  # a model in the way of a second resource: its create fails
        http.post("/models/add-model", json=model_body("Blocker")).raise_for_status()

    blocked = model_source("blocked", name="Blocker")
    project.dir.joinpath("__main__.py").write_text(program(model_source("renamed", fields=adopt), blocked))
    failed = project.up(check=False)
    assert failed.returncode != 0
    assert state_names(project) == ["first", "renamed"]  # the old one was not deleted yet

    project.dir.joinpath("__main__.py").write_text(program(model_source("renamed", fields=adopt)))
    project.up()
    assert state_names(project) == ["renamed"]
    assert "Edge Model:v1" in models_by_id(enkrypt_server)
    project.preview(expect_no_changes=True)


def test_two_resources_on_one_model_fail_at_preview(pulumi_cli: Path, tmp_path: Path, enkrypt_server: RunningServer):
    project = server_project(tmp_path, enkrypt_server, program(model_source("one"), model_source("two")), pulumi_cli)
    enkrypt_server.reset_stats()
    failed = project.preview(check=False)
    assert failed.returncode != 0
    text = output_of(failed)
    assert "'one'" in text and "'two'" in text and "'Edge Model'" in text
    assert "Traceback" not in text
    assert model_requests(enkrypt_server) == {}


# ------------------------------------------------------------------------------------ 2. no placeholder sent


def test_placeholders_and_masks_fail_check_and_keep_the_real_key(
    pulumi_cli: Path, tmp_path: Path, enkrypt_server: RunningServer
):
    project = server_project(tmp_path, enkrypt_server, program(model_source("m")), pulumi_cli)
    project.up()
    assert stored_key(enkrypt_server) == [KEY]

    project.config_set("key", "REPLACE_ME", secret=True)
    project.config_set("header", "********", secret=True)
    enkrypt_server.reset_stats()
    for result in (project.preview(check=False), project.up(check=False)):
        assert result.returncode != 0
        text = output_of(result)  # the CLI shows config secrets as [secret]: REPLACE_ME itself is not printed
        assert "model_config.apikeys[0]: is the placeholder that pulumi-enkrypt export writes" in text
        assert "model_config.custom_headers[0].value: is a masked value" in text
    assert model_requests(enkrypt_server) == {}
    assert stored_key(enkrypt_server) == [KEY]


# ------------------------------------------------------------------------------------- 3. no secret printed


def test_a_secret_at_the_wrong_level_is_not_printed(pulumi_cli: Path, tmp_path: Path, enkrypt_server: RunningServer):
    misplaced = model_source("m", fields=f' "apikeys": ["{KEY}"], "auth_data": {{"xactly_password": "{HEADER}"}},')
    project = server_project(tmp_path, enkrypt_server, program(misplaced), pulumi_cli)
    for result in (project.preview(check=False), project.preview("--diff", check=False), project.up(check=False)):
        assert result.returncode != 0
        text = output_of(result)
        assert "apikeys: is not a field" in text and "auth_data: is not a field" in text
        assert KEY not in text and HEADER not in text


def test_lookups_keep_secrets_secret(pulumi_cli: Path, tmp_path: Path, enkrypt_server: RunningServer):
    tail = """
found = enkrypt.get_model("Edge Model", "v1") if config.get_bool("lookup") else None
if found is not None:
    pulumi.export("plain_config", found.model_config)
    pulumi.export("plain_keys", found.model_config["apikeys"])
pulumi.export("output_config", enkrypt.get_model_output(m.model_saved_name, m.model_version).model_config)
"""
    project = server_project(tmp_path, enkrypt_server, program(model_source("m"), tail=tail), pulumi_cli)
    preview = project.preview()  # the lookup waits for a model this program creates: unknown, not a 404
    assert "404" not in output_of(preview)
    project.up()
    project.config_set("lookup", "true")
    shown = [project.up(), project.run("stack", "output", "--json"), project.preview()]
    outputs = project.outputs()
    assert outputs["plain_keys"] == "[secret]" and outputs["output_config"] == "[secret]"
    assert (
        outputs["plain_config"]["custom_headers"] == "[secret]"
        or outputs["plain_config"]["custom_headers"][0]["value"] == "[secret]"
    )
    exported = json.dumps(project.export())
    for text in [*map(output_of, shown), exported]:
        assert KEY not in text and HEADER not in text
    revealed = project.outputs(show_secrets=True)
    assert revealed["plain_keys"] == [KEY]


# ----------------------------------------------------------------------------------- 7. messages at preview


def test_preview_without_an_api_key_fails(pulumi_cli: Path, tmp_path: Path, enkrypt_server: RunningServer):
    project = PulumiProject(
        tmp_path,
        program(model_source("m")),
        config={"enkrypt:baseUrl": enkrypt_server.url},
        env={"ENKRYPTAI_API_KEY": "", "ENKRYPT_API_KEY": ""},
        bin_dir=pulumi_cli,
    )
    failed = project.preview(check=False)
    assert failed.returncode != 0
    assert "enkrypt:apiKey" in output_of(failed)
    assert model_requests(enkrypt_server) == {}


@pytest.mark.parametrize("strict", [True, False])
def test_strict_providers_warning(pulumi_cli: Path, tmp_path: Path, enkrypt_server: RunningServer, strict: bool):
    source = program(model_source("m")).replace('"model_provider": "custom"', '"model_provider": "not-a-provider"')
    strictness = {"enkrypt:strictProviders": str(strict).lower()}
    project = server_project(tmp_path, enkrypt_server, source, pulumi_cli, config=strictness)
    result = project.preview(check=False)
    text = output_of(result)
    if strict:
        assert result.returncode != 0 and "unknown provider 'not-a-provider'" in text
        assert "set enkrypt:strictProviders=true" not in text
    else:
        assert result.returncode == 0 and "set enkrypt:strictProviders=true" in text


def test_import_option_points_to_adoption(pulumi_cli: Path, tmp_path: Path, enkrypt_server: RunningServer):
    source = program(model_source("m", opts=', opts=pulumi.ResourceOptions(import_="Edge Model:v1")'))
    project = server_project(tmp_path, enkrypt_server, source, pulumi_cli)
    failed = project.preview(check=False)
    assert failed.returncode != 0
    text = output_of(failed)
    assert "adopt_existing=True" in text and "pulumi-enkrypt export" in text
    assert "__provider" not in text and "Traceback" not in text
