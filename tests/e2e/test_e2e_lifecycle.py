"""End to end: the real pinned Pulumi CLI, the Model resource and our local Enkrypt server.

Every test gets a fresh server (own SQLite file) and a fresh file:// backend. The program is the lifecycle
program of tests/support/lifecycle.py: Enkrypt's two add-model examples, driven by stack config, with a secret
in each place a secret can come from.

Without the CLI these tests fail (fixture `pulumi_cli`); PULUMI_ENKRYPT_SKIP_E2E=1 skips them explicitly.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest

from pulumi_enkrypt.server.process import RunningServer, start_server
from support.bodies import model_body
from support.cli import MODEL_TYPE, PYTHON, REPO, PulumiProject, Result, output_of
from support.lifecycle import (
    AGENT,
    CONFIG_AWS_SECRET,
    CONFIG_TOGETHER_KEY,
    PROGRAM_CURL_TOKEN,
    PROGRAM_HEADER_TOKEN,
    PROGRAM_HF_KEY,
    TOGETHER,
    lifecycle_project,
)
from support.reinstall import python_prints, venv_with_package
from support.server import identity_headers, model_requests, models_by_id, writes

BAD_PROGRAM = """
import pulumi_enkrypt as enkrypt

enkrypt.Model("bad", {
    "model_saved_name": "Bad Model",
    "model_version": "v1",
    "testing_for": "robots",
    "model_config": {
        "model_provider": "together",
        "endpoint": {"scheme": "https", "host": "api.together.xyz", "port": "not-a-port", "base_path": "/v1"},
        "apikeys": ["k"],
    },
})
"""


# ---------------------------------------------------------------------------------------------- helpers


def config_of(model: Mapping[str, Any]) -> dict[str, Any]:
    config: dict[str, Any] = model.get("model_config") or {}
    return config


def models_in_state(p: PulumiProject) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in p.resources() if r["type"] == MODEL_TYPE}


def summary(result: Result) -> str:
    """The "Resources:" block the CLI prints at the end."""
    text = result.stdout
    return text[text.rfind("Resources:") :] if "Resources:" in text else text


def no_changes(result: Result) -> bool:
    block = summary(result)
    return re.search(r"^\s+\d+ unchanged\s*$", block, re.M) is not None and not re.search(
        r"^\s+(\+|-|~|\+-)\s*\d+ ", block, re.M
    )


def api(server: RunningServer, method: str, path: str, model: str, body: Any = None) -> httpx.Response:
    """One call on the server's public API, out of band of Pulumi."""
    name, _, version = model.rpartition(":")
    with server.client() as c:
        r = c.request(method, path, headers=identity_headers(name, version), json=body)
    r.raise_for_status()
    return r


# ---------------------------------------------------------------------------------------------- tests


@pytest.mark.parametrize("shape", ["sdk", "documented"])
def test_up_creates_exactly_the_programs_models_and_then_nothing_changes(
    pulumi_cli: Path, tmp_path: Path, enkrypt_server: RunningServer, shape: str
) -> None:
    enkrypt_server.admin_config(response_shape=shape, mask_secrets=False)
    p = lifecycle_project(tmp_path, enkrypt_server, bin_dir=pulumi_cli)

    p.up()

    models = models_by_id(enkrypt_server)
    assert set(models) == {TOGETHER, AGENT}
    outputs = p.outputs()
    assert outputs["together_id"] == TOGETHER
    assert outputs["together_model_id"] == models[TOGETHER]["model_id"]
    assert outputs["agent_model_id"] == models[AGENT]["model_id"]
    assert set(models_in_state(p)) == {TOGETHER, AGENT}
    assert config_of(models[AGENT])["endpoint"]["host"] == "api-inference.huggingface.co"
    assert config_of(models[TOGETHER])["apikeys"] == [CONFIG_TOGETHER_KEY]

    enkrypt_server.reset_stats()
    p.preview(expect_no_changes=True)
    # Then the same with the server answering secrets masked ("********"), as the live service may.
    for masked in (False, True):
        enkrypt_server.admin_config(mask_secrets=masked)
        refreshed = p.refresh()
        assert no_changes(refreshed), f"refresh found drift (masked={masked}):\n{summary(refreshed)}"
        p.preview(expect_no_changes=True)
    assert writes(enkrypt_server) == {}, "preview and refresh must only read"
    assert set(models_by_id(enkrypt_server)) == {TOGETHER, AGENT}
    assert config_of(models_by_id(enkrypt_server)[TOGETHER])["apikeys"] != [CONFIG_TOGETHER_KEY], (
        "the server did not mask"
    )


def test_one_changed_field_is_one_modify_and_a_new_version_replaces(
    pulumi_cli: Path, tmp_path: Path, enkrypt_server: RunningServer
) -> None:
    p = lifecycle_project(tmp_path, enkrypt_server, bin_dir=pulumi_cli)
    p.up()
    before = models_by_id(enkrypt_server)

    p.config_set("systemPrompt", "Answer in one sentence.")
    enkrypt_server.reset_stats()
    planned = p.preview()
    assert re.search(r"~ 1 to update", planned.stdout) and "2 unchanged" in planned.stdout, planned.stdout
    assert writes(enkrypt_server) == {}
    p.up()

    assert writes(enkrypt_server) == {"PATCH /models/modify-model": 1}
    after = models_by_id(enkrypt_server)
    assert set(after) == {TOGETHER, AGENT}
    assert config_of(after[TOGETHER])["system_prompt"] == "Answer in one sentence."
    assert after[TOGETHER]["model_id"] == before[TOGETHER]["model_id"]
    assert after[AGENT] == before[AGENT], "the unchanged model was touched"
    p.preview(expect_no_changes=True)

    p.config_set("togetherVersion", "v2")
    enkrypt_server.reset_stats()
    replaced = p.up()

    assert "+-1 replaced" in summary(replaced), summary(replaced)
    assert writes(enkrypt_server) == {"POST /models/add-model": 1, "DELETE /models/delete-model": 1}
    now = models_by_id(enkrypt_server)
    assert set(now) == {"Test Model:v2", AGENT}
    assert now["Test Model:v2"]["model_id"] != before[TOGETHER]["model_id"]
    assert set(models_in_state(p)) == {"Test Model:v2", AGENT}
    assert p.outputs()["together_model_id"] == now["Test Model:v2"]["model_id"]
    p.preview(expect_no_changes=True)


def test_out_of_band_change_is_refreshed_then_undone_and_out_of_band_delete_comes_back(
    pulumi_cli: Path, tmp_path: Path, enkrypt_server: RunningServer
) -> None:
    p = lifecycle_project(tmp_path, enkrypt_server, bin_dir=pulumi_cli)
    p.up()
    declared = models_by_id(enkrypt_server)

    # Someone edits the Together model in Enkrypt's console.
    edited = dict(declared[TOGETHER])
    edited["model_config"] = {**config_of(edited), "system_prompt": "edited out of band", "rate_per_min": 20}
    edited["model_config"]["endpoint"] = {**config_of(edited)["endpoint"], "host": "rogue.example.com"}
    api(enkrypt_server, "PATCH", "/models/modify-model", TOGETHER, edited)

    refreshed = p.refresh()
    assert "~ 1 updated" in summary(refreshed), summary(refreshed)
    seen = models_in_state(p)[TOGETHER]["outputs"]["model_config"]
    assert seen["system_prompt"] == "edited out of band"
    assert seen["endpoint"]["host"] == "rogue.example.com"
    planned = p.preview(check=False)
    assert planned.returncode == 0 and "~ 1 to update" in planned.stdout, output_of(planned)

    enkrypt_server.reset_stats()
    p.up()
    assert writes(enkrypt_server) == {"PATCH /models/modify-model": 1}
    restored = config_of(models_by_id(enkrypt_server)[TOGETHER])
    assert restored["system_prompt"] == ""
    assert restored["endpoint"]["host"] == "api.together.xyz"
    p.preview(expect_no_changes=True)

    # Someone deletes the agent in Enkrypt's console.
    api(enkrypt_server, "DELETE", "/models/delete-model", AGENT)
    refreshed = p.refresh()
    assert "- 1 deleted" in summary(refreshed), summary(refreshed)
    assert set(models_in_state(p)) == {TOGETHER}, "refresh must drop the model that is gone"

    enkrypt_server.reset_stats()
    p.up()
    assert writes(enkrypt_server) == {"POST /models/add-model": 1}
    back = models_by_id(enkrypt_server)
    assert set(back) == {TOGETHER, AGENT}
    assert back[AGENT]["model_id"] != declared[AGENT]["model_id"]
    assert p.outputs()["agent_model_id"] == back[AGENT]["model_id"]
    p.preview(expect_no_changes=True)


def test_adopt_existing_takes_over_a_model_without_a_duplicate(
    pulumi_cli: Path, tmp_path: Path, enkrypt_server: RunningServer
) -> None:
    existing = model_body(  # the Together model, made by hand in Enkrypt's console
        model_name="an-older-model",
        model_config={
            "system_prompt": "made by hand",
            "endpoint": {"host": "old.example.com", "base_path": "/v0"},
            "apikeys": ["hand-made-key"],
        },
    )
    with enkrypt_server.client() as c:
        original_id = c.post("/models/add-model", json=existing).raise_for_status().json()["data"]["model_id"]
    p = lifecycle_project(tmp_path, enkrypt_server, bin_dir=pulumi_cli)

    refused = p.up(check=False)
    assert refused.returncode != 0
    assert "adopt_existing" in output_of(refused), output_of(refused)
    assert config_of(models_by_id(enkrypt_server)[TOGETHER])["system_prompt"] == "made by hand"

    p.config_set("adopt", "true")
    enkrypt_server.reset_stats()
    p.up()

    models = enkrypt_server.models()
    assert sorted(f"{m['model_saved_name']}:{m['model_version']}" for m in models) == sorted([TOGETHER, AGENT])
    adopted = models_by_id(enkrypt_server)[TOGETHER]
    assert adopted["model_id"] == original_id, "adopted, not deleted and re-added"
    assert adopted["model_name"] == "mistralai/Mixtral-8x7B-Instruct-v0.1"
    assert config_of(adopted)["endpoint"]["host"] == "api.together.xyz"
    assert config_of(adopted)["system_prompt"] == ""
    assert "DELETE /models/delete-model" not in writes(enkrypt_server)
    assert p.outputs()["together_model_id"] == original_id
    p.preview(expect_no_changes=True)


def test_stack_export_holds_no_secret_string(pulumi_cli: Path, tmp_path: Path, enkrypt_server: RunningServer) -> None:
    secrets = [
        CONFIG_TOGETHER_KEY,
        CONFIG_AWS_SECRET,
        PROGRAM_HF_KEY,
        PROGRAM_HEADER_TOKEN,
        PROGRAM_CURL_TOKEN,
        enkrypt_server.api_key,
    ]
    p = lifecycle_project(tmp_path, enkrypt_server, bin_dir=pulumi_cli)
    printed = [p.up()]
    # The server echoes every secret in clear (its default): refresh reads them all back into state.
    printed.append(p.refresh())
    p.config_set("systemPrompt", "changed")
    printed.append(p.preview("--diff"))
    printed.append(p.up())

    exported = json.dumps(p.export())
    leaks = [s for s in secrets if s in exported]
    assert leaks == [], f"secret strings in `pulumi stack export`: {leaks}"
    # Nor anywhere in the backend's files (checkpoint, backups, history).
    backend = "\n".join(f.read_text(errors="replace") for f in p.state_dir.rglob("*") if f.is_file())
    assert [s for s in secrets if s in backend] == []
    for result in printed:
        assert [s for s in secrets if s in output_of(result)] == [], "a secret was printed"
    assert "changed" in printed[2].stdout, "preview --diff should show the plain field it changes"

    # The search is meaningful: every secret is in state, encrypted.
    shown = p.run("stack", "export", "--show-secrets").stdout
    assert [s for s in secrets[:-1] if s not in shown] == []
    assert set(models_by_id(enkrypt_server)) == {TOGETHER, AGENT}


def test_wrong_api_key_fails_clearly_then_destroy_removes_everything_once(
    pulumi_cli: Path, tmp_path: Path, enkrypt_server: RunningServer
) -> None:
    wrong_key = "wrong-key-d0e5a7c1"
    p = lifecycle_project(tmp_path, enkrypt_server, bin_dir=pulumi_cli)
    p.up()

    p.config_set("enkrypt:apiKey", wrong_key, secret=True)
    p.config_set("systemPrompt", "needs a write")
    failures = [p.up(check=False), p.destroy(check=False)]
    for failed in failures:
        text = output_of(failed)
        assert failed.returncode != 0
        assert re.search(r"401|unauthori[sz]ed|authori[sz]ation", text, re.I), text
        for secret in (wrong_key, enkrypt_server.api_key, CONFIG_TOGETHER_KEY, PROGRAM_HF_KEY):
            assert secret not in text, "a secret was printed"
    assert set(models_by_id(enkrypt_server)) == {TOGETHER, AGENT}
    assert set(models_in_state(p)) == {TOGETHER, AGENT}

    p.config_set("enkrypt:apiKey", enkrypt_server.api_key, secret=True)
    # Plain `destroy` does not run the program: the engine configures the provider from the config it saved in
    # state at the last `up` (here the wrong key), as for any Pulumi provider. The 401 says so, and
    # `--run-program` configures the provider from the stack as it is now.
    plain = p.destroy(check=False)
    if plain.returncode != 0:
        assert "--run-program" in output_of(plain), output_of(plain)
        p.destroy("--run-program")
    assert models_by_id(enkrypt_server) == {}
    assert models_in_state(p) == {}

    enkrypt_server.reset_stats()
    again = p.destroy()
    assert model_requests(enkrypt_server) == {}, "a second destroy must not call the server"
    assert not re.search(r"^\s+- \d+ deleted", summary(again), re.M), summary(again)
    for failed in failures:
        assert "pulumi config set --secret enkrypt:apiKey" in output_of(failed), output_of(failed)


def test_bad_input_fails_preview_naming_the_field_and_sends_nothing(
    pulumi_cli: Path, tmp_path: Path, enkrypt_server: RunningServer
) -> None:
    p = lifecycle_project(tmp_path, enkrypt_server, program=BAD_PROGRAM, bin_dir=pulumi_cli)

    for failed in (p.preview(check=False), p.up(check=False)):
        text = output_of(failed)
        assert failed.returncode != 0
        assert "model_config.endpoint.port" in text, text
        assert "testing_for" in text, text

    assert model_requests(enkrypt_server) == {}, "bad input must be refused before any request"
    assert models_in_state(p) == {}


def test_reinstalling_at_a_new_version_makes_no_diff(
    pulumi_cli: Path, tmp_path: Path, enkrypt_server: RunningServer
) -> None:
    p = lifecycle_project(tmp_path / "stack", enkrypt_server, bin_dir=pulumi_cli)
    p.up()
    pickled = {id_: r["inputs"]["__provider"] for id_, r in models_in_state(p).items()}
    # By reference: a few bytes naming the class, never its code.
    for blob in pickled.values():
        raw = base64.b64decode(blob)
        assert b"pulumi_enkrypt.provider" in raw and b"ModelProvider" in raw and len(raw) < 400, raw

    new_python = venv_with_package("0.1.1.post7", tmp_path / "release", PYTHON)
    import_log = tmp_path / "imports.log"
    p.env.update(PULUMI_PYTHON_CMD=str(new_python), PULUMI_ENKRYPT_E2E_IMPORT_LOG=str(import_log))

    enkrypt_server.reset_stats()
    p.preview(expect_no_changes=True)
    assert no_changes(p.up())
    p.refresh()
    p.preview(expect_no_changes=True)

    assert writes(enkrypt_server) == {}
    assert {id_: r["inputs"]["__provider"] for id_, r in models_in_state(p).items()} == pickled
    new_site = str(new_python.parent.parent)
    lines = import_log.read_text().splitlines() if import_log.exists() else []
    pids = {line.split()[0] for line in lines if new_site in line}
    # At least one program run and one provider process per command imported the new release.
    assert len(pids) >= 4, f"the new version was not what ran: {lines}"
    version = python_prints(new_python, "import importlib.metadata as m; print(m.version('pulumi-enkrypt'))")
    assert version == "0.1.1.post7"


def test_two_stacks_of_one_program_live_side_by_side(pulumi_cli: Path, tmp_path: Path) -> None:
    dev_key, prod_key = "dev-key-4c1f", "prod-key-8e2a"
    with start_server(str(tmp_path / "enkrypt.sqlite"), [f"{dev_key}=dev", f"{prod_key}=prod"]) as server:
        dev = lifecycle_project(tmp_path, server, stack="dev", api_key=dev_key, bin_dir=pulumi_cli)
        prod = lifecycle_project(
            tmp_path,
            server,
            stack="prod",
            api_key=prod_key,
            config={"systemPrompt": "You are the production assistant."},
            bin_dir=pulumi_cli,
        )
        assert dev.state_dir == prod.state_dir and dev.dir == prod.dir, "one program, one backend"

        dev.up()
        prod.up()

        dev_models, prod_models = models_by_id(server, dev_key), models_by_id(server, prod_key)
        assert set(dev_models) == set(prod_models) == {TOGETHER, AGENT}
        assert config_of(dev_models[TOGETHER])["system_prompt"] == ""
        assert config_of(prod_models[TOGETHER])["system_prompt"] == "You are the production assistant."
        assert dev_models[TOGETHER]["project_name"] != prod_models[TOGETHER]["project_name"]
        assert dev.outputs()["together_model_id"] == dev_models[TOGETHER]["model_id"]
        assert prod.outputs()["together_model_id"] == prod_models[TOGETHER]["model_id"]
        stacks = {s["name"] for s in json.loads(dev.run("stack", "ls", "--json", stack_flag=False).stdout)}
        assert stacks == {"dev", "prod"}
        dev.preview(expect_no_changes=True)
        prod.preview(expect_no_changes=True)

        dev.destroy()
        assert models_by_id(server, dev_key) == {}
        assert models_by_id(server, prod_key) == prod_models, "destroying dev touched prod"
        prod.preview(expect_no_changes=True)


def test_missing_cli_fails_the_suite_loudly_unless_skipped_explicitly(tmp_path: Path) -> None:
    """The `pulumi_cli` fixture: no CLI is a failure, not a silent skip; PULUMI_ENKRYPT_SKIP_E2E=1 skips."""
    plugin = tmp_path / "no_pulumi_cli.py"
    plugin.write_text(
        "from pathlib import Path\n"
        "import support.cli\n"
        "support.cli.ENSURE_SCRIPT = Path('/nonexistent/scripts/pulumi-cli')\n"
    )
    target = f"{Path(__file__).relative_to(REPO)}::test_bad_input_fails_preview_naming_the_field_and_sends_nothing"
    # `-p` loads the plugin before pytest reads its `pythonpath` setting: the tests dir comes from PYTHONPATH.
    path = [str(tmp_path), str(REPO / "tests"), os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path)}
    env.pop("PULUMI_ENKRYPT_SKIP_E2E", None)
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no_pulumi_cli", target]

    missing = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False)
    skipped = subprocess.run(
        cmd, cwd=REPO, env={**env, "PULUMI_ENKRYPT_SKIP_E2E": "1"}, capture_output=True, text=True, timeout=120
    )

    assert missing.returncode != 0, missing.stdout
    assert "the pinned Pulumi CLI is unavailable" in missing.stdout, missing.stdout
    assert "1 error" in missing.stdout and "skipped" not in missing.stdout, missing.stdout
    assert skipped.returncode == 0, skipped.stdout
    assert "1 skipped" in skipped.stdout, skipped.stdout
