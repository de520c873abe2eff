"""`pulumi-enkrypt export` round trip: an account of 20 varied models (plus samples) -> a generated program ->
`pulumi up` adopts them all without changing any, and the next preview shows no changes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pulumi_enkrypt.server.process import RunningServer
from support.cli import MODEL_TYPE, REPO, PulumiProject, output_of
from support.server import E2E_API_KEY, writes
from support.varied_models import secret_strings, varied_models

VENV_BIN = REPO / ".venv" / "bin"
CLI = VENV_BIN / "pulumi-enkrypt"
RUFF = VENV_BIN / "ruff"
PROJECT = "enkrypt-export"


def _cli(*args: str, api_key: str = E2E_API_KEY) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ENKRYPTAI_", "ENKRYPT_"))}
    env["ENKRYPTAI_API_KEY"] = api_key
    cmd = [str(CLI)] if CLI.exists() else [sys.executable, "-m", "pulumi_enkrypt.cli"]
    return subprocess.run([*cmd, *args], env=env, capture_output=True, text=True, timeout=120, check=False)


def _by_identity(models: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """Models keyed by (name, version), without updated_at (a modify-model that changes nothing still bumps it)."""
    return {
        (m["model_saved_name"], m["model_version"]): {k: v for k, v in m.items() if k != "updated_at"} for m in models
    }


def _seed(server: RunningServer, bodies: list[dict[str, Any]]) -> None:
    with server.client() as http:
        for body in bodies:
            http.post("/models/add-model", json=body).raise_for_status()


def _ruff(path: Path) -> None:
    """The generated program passes ruff, with its defaults and with this repository's stricter rules."""
    for flags in (["--isolated"], ["--config", str(REPO / "pyproject.toml")]):
        done = subprocess.run(
            [str(RUFF), "check", "--no-cache", *flags, str(path)], capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, f"ruff {flags}:\n{done.stdout}{done.stderr}"


def _exported_stack(out: Path, tmp: Path, cli: Path) -> tuple[PulumiProject, subprocess.CompletedProcess[str]]:
    """The exported program as a dev stack, and the run of its config-commands.sh in it."""
    project = PulumiProject(tmp, out, stack="dev", name=PROJECT, bin_dir=cli)
    shutil.copy(out / "Pulumi.yaml", project.dir / "Pulumi.yaml")  # the harness writes its own: use the export's
    script_env = {**project.env, "ENKRYPTAI_API_KEY": E2E_API_KEY}
    configured = subprocess.run(
        ["bash", "config-commands.sh"], cwd=project.dir, env=script_env, capture_output=True, text=True, check=False
    )
    return project, configured


def test_export_roundtrip(pulumi_cli: Path, enkrypt_server: RunningServer, tmp_path: Path) -> None:
    server = enkrypt_server
    bodies = varied_models()
    assert len(bodies) == 20
    secrets = secret_strings(bodies)
    assert len(secrets) >= 20
    _seed(server, bodies)
    assert server.add_samples(3) == 4  # three sample models and the platform's sample policy
    before = _by_identity(server.models())
    assert len(before) == 23

    out = tmp_path / "exported"
    done = _cli("export", "--output", str(out), "--base-url", server.url, "--stack", "dev", "--project-name", PROJECT)
    assert done.returncode == 0, done.stderr
    assert "Listed 20 models (3 sample models skipped)" in done.stderr
    assert "Wrote 20 of 20 resources" in done.stderr
    assert sorted(p.name for p in out.iterdir()) == ["Pulumi.yaml", "__main__.py", "config-commands.sh"]
    assert (out / "config-commands.sh").stat().st_mode & 0o077 == 0, "the config script holds secrets: 0600"

    main_py = (out / "__main__.py").read_text()
    leaked = [s for s in secrets if s in main_py]
    assert not leaked, f"secrets written into the generated code: {leaked}"
    assert main_py.count("    adopt_existing=True,\n)") == 20
    assert "Sample Model" not in main_py
    for server_field in ("model_id", "created_at", "updated_at", "project_name", "is_sample", "created_by"):
        assert server_field not in main_py
    for typed in ("ModelConfigArgs(", "EndpointArgs(", "AuthDataArgs(", "CustomHeaderArgs(", "ToolArgs(",
                  "GeminiMetadataArgs(", "BedrockMetadataArgs(", "ContextArgs(", "MetadataArgs("):  # fmt: skip
        assert f"enkrypt.{typed}" in main_py, typed
    _ruff(out / "__main__.py")

    project, configured = _exported_stack(out, tmp_path / "pulumi", pulumi_cli)
    assert configured.returncode == 0, configured.stdout + configured.stderr

    project.up()
    after = _by_identity(server.models())
    assert sorted(after) == sorted(before), "models were added or deleted"
    changed = [key for key in before if before[key] != after[key]]
    assert not changed, f"adopting changed these models: {changed}\n" + "\n".join(
        f"before {before[k]}\nafter  {after[k]}" for k in changed[:2]
    )
    samples = [m for m in server.models() if m.get("is_sample")]
    assert len(samples) == 3
    assert all(m["updated_at"] == m["created_at"] for m in samples), "a sample model was touched"

    project.preview(expect_no_changes=True)
    state = json.dumps(project.export())
    leaked = [s for s in secrets if s in state]
    assert not leaked, f"secrets in plain text in the state: {leaked}"
    assert len([r for r in project.resources() if r["type"] == MODEL_TYPE]) == 20


def test_a_forgotten_placeholder_fails_preview_and_keeps_the_real_keys(
    pulumi_cli: Path, enkrypt_server: RunningServer, tmp_path: Path
) -> None:
    """Exported from a server that masks secrets, the config script sets REPLACE_ME. Run as is, preview and
    up refuse it, naming each field, and the real keys in Enkrypt stay as they were."""
    server = enkrypt_server
    bodies = varied_models()[:3]
    _seed(server, bodies)
    before = _by_identity(server.models())
    server.admin_config(mask_secrets=True)
    out = tmp_path / "exported"
    done = _cli("export", "--output", str(out), "--base-url", server.url, "--stack", "dev", "--project-name", PROJECT)
    assert done.returncode == 0, done.stderr
    assert "REPLACE_ME values: preview refuses them, naming each field" in done.stderr

    project, configured = _exported_stack(out, tmp_path / "pulumi", pulumi_cli)
    assert configured.returncode == 0, configured.stdout + configured.stderr
    server.admin_config(mask_secrets=False)
    server.reset_stats()
    for result in (project.preview(check=False), project.up(check=False)):
        assert result.returncode != 0
        text = output_of(result)
        assert "model_config.apikeys[0]: is the placeholder that pulumi-enkrypt export writes" in text
    assert writes(server) == {}
    assert _by_identity(server.models()) == before


# --------------------------------------------------------------------------------------------- fast checks


def test_export_to_stdout_with_masked_secrets(enkrypt_server: RunningServer) -> None:
    """A server that masks secrets: the program is the same, each secret's config line says REPLACE_ME."""
    server = enkrypt_server
    bodies = varied_models()[:8] + varied_models()[12:16]
    _seed(server, bodies)
    server.add_samples(2)
    server.admin_config(mask_secrets=True, response_shape="documented")

    done = _cli("export", "--base-url", server.url, "--include-samples")
    assert done.returncode == 0, done.stderr
    assert f"Listed {len(bodies) + 2} models" in done.stderr
    assert "Sample Model 1" in done.stdout
    assert "********" not in done.stdout
    assert "came back masked" in done.stderr
    assert "REPLACE_ME" in done.stderr and "s3cr3t" not in done.stderr
    # The documented shape lifts model_provider to the top level: it is put back into model_config.
    assert done.stdout.count("model_provider=") == len(bodies) + 2


def test_export_errors_are_one_line(enkrypt_server: RunningServer, tmp_path: Path) -> None:
    done = _cli("export", "--base-url", enkrypt_server.url, api_key="wrong-key")
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("pulumi-enkrypt: error: Enkrypt API: GET /models/list-models -> 401"), done.stderr
    assert "wrong-key" not in done.stderr

    done = _cli("export", "--base-url", enkrypt_server.url, api_key="")
    assert done.returncode == 1
    assert "No Enkrypt API key found" in done.stderr and "ENKRYPTAI_API_KEY" in done.stderr

    (tmp_path / "__main__.py").write_text("# mine\n")
    done = _cli("export", "--base-url", enkrypt_server.url, "--output", str(tmp_path))
    assert done.returncode == 1 and "use --force" in done.stderr
    assert (tmp_path / "__main__.py").read_text() == "# mine\n"


@pytest.mark.parametrize("placeholders", [True, False])
def test_generated_program_runs_as_python(enkrypt_server: RunningServer, tmp_path: Path, placeholders: bool) -> None:
    """The code compiles, and with --placeholders no secret value reaches any file."""
    _seed(enkrypt_server, varied_models()[:10])
    args = ["export", "--base-url", enkrypt_server.url, "--output", str(tmp_path), "--quiet"]
    done = _cli(*args, *(["--placeholders"] if placeholders else []))
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    compile((tmp_path / "__main__.py").read_text(), "__main__.py", "exec")
    script = (tmp_path / "config-commands.sh").read_text()
    assert ("s3cr3t" in script) is not placeholders
    assert E2E_API_KEY not in script
