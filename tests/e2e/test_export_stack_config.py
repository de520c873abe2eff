"""`pulumi-enkrypt export --stack-config STACK`: the settings come from a stack's configuration (read with the
real `pulumi config`), the environment fills in what the stack does not set, as the provider reads them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pulumi_enkrypt.server.process import RunningServer
from support.cli import REPO, PulumiProject
from support.server import E2E_API_KEY
from support.varied_models import varied_models

CLI = REPO / ".venv" / "bin" / "pulumi-enkrypt"


def _export(project: PulumiProject, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The CLI run from elsewhere, with the project's Pulumi environment (pinned CLI first on PATH) and no
    Enkrypt settings in the environment except ``env``."""
    clean = {k: v for k, v in project.env.items() if not k.startswith(("ENKRYPTAI_", "ENKRYPT_"))}
    cmd = [str(CLI)] if CLI.exists() else [sys.executable, "-m", "pulumi_enkrypt.cli"]
    return subprocess.run(
        [*cmd, "export", *args], env={**clean, **env}, capture_output=True, text=True, timeout=300, check=False
    )


def test_export_reads_a_stack_config(pulumi_cli: Path, enkrypt_server: RunningServer, tmp_path: Path) -> None:
    server = enkrypt_server
    body = {**varied_models()[0], "model_saved_name": "From Stack Config"}
    with server.client() as http:
        http.post("/models/add-model", json=body).raise_for_status()
    project = PulumiProject(
        tmp_path / "pulumi",
        "import pulumi\n",
        stack="src",
        config={"enkrypt:baseUrl": server.url},
        secrets={"enkrypt:apiKey": E2E_API_KEY},
        bin_dir=pulumi_cli,
    )
    assert E2E_API_KEY not in (project.dir / "Pulumi.src.yaml").read_text()  # stored encrypted
    out = tmp_path / "exported"

    # The stack's key and URL win over the environment's (wrong) ones.
    done = _export(
        project,
        "--stack-config", "src", "--project-dir", str(project.dir), "--output", str(out),
        ENKRYPTAI_API_KEY="wrong-env-key", ENKRYPTAI_BASE_URL="http://127.0.0.1:9",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    listing = "Listing models, guardrails policies, guardrails, deployments and code-of-conduct policies"
    assert f"{listing} at {server.url} ..." in done.stderr
    assert "Listed 1 model, 0 guardrails policies" in done.stderr
    assert 'model_saved_name="From Stack Config"' in (out / "__main__.py").read_text()
    assert E2E_API_KEY not in done.stdout + done.stderr
    assert f"enkrypt:baseUrl -- {server.url}" in (out / "config-commands.sh").read_text()

    # What the stack does not set comes from the environment.
    project.run("config", "rm", "enkrypt:apiKey")
    args = ("--stack-config", "src", "--project-dir", str(project.dir))
    done = _export(project, *args, ENKRYPTAI_API_KEY=E2E_API_KEY)
    assert done.returncode == 0, done.stderr
    assert "From Stack Config" in done.stdout
    done = _export(project, *args)
    assert done.returncode == 1
    assert "No Enkrypt API key found" in done.stderr

    # An unknown stack: one line naming the option, and the CLI's reason.
    done = _export(project, "--stack-config", "nope", "--project-dir", str(project.dir), ENKRYPTAI_API_KEY=E2E_API_KEY)
    assert done.returncode == 1
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("pulumi-enkrypt: error: --stack-config nope: `pulumi config` failed in ") and "nope" in line


def test_project_dir_needs_stack_config(tmp_path: Path) -> None:
    cmd = [str(CLI)] if CLI.exists() else [sys.executable, "-m", "pulumi_enkrypt.cli"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ENKRYPTAI_", "ENKRYPT_"))}
    done = subprocess.run(
        [*cmd, "export", "--project-dir", str(tmp_path)], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 1
    assert "--project-dir names the project of --stack-config STACK" in done.stderr
