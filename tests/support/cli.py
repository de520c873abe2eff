"""Drive the real, pinned Pulumi CLI (.tools/bin, see scripts/pulumi-cli) against throwaway projects.

Each `PulumiProject` gets its own `file://` backend, PULUMI_HOME and stack inside a temp dir, so tests never
share state, never touch ~/.pulumi and never need the network. `server_project` is one whose provider talks to a
local Enkrypt server.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pulumi_enkrypt.server.process import RunningServer

REPO = Path(__file__).resolve().parents[2]
BIN = REPO / ".tools" / "bin"
ENSURE_SCRIPT = REPO / "scripts" / "pulumi-cli"
_venv_python = REPO / ".venv" / "bin" / "python"
PYTHON = str(_venv_python if _venv_python.exists() else Path(sys.executable))
PASSPHRASE = "pulumi-enkrypt-tests"
DEFAULT_TIMEOUT_S = 300.0
# The Model's type token, written out: existing stacks record it, so it must not change with the code.
MODEL_TYPE = "pulumi-python:dynamic/enkrypt:Model"

Result = subprocess.CompletedProcess[str]


def output_of(result: Result) -> str:
    """Everything a command printed."""
    return f"{result.stdout}\n{result.stderr}"


class PulumiCommandError(AssertionError):
    """A CLI command failed; the message carries the command and everything it printed."""

    def __init__(self, result: Result) -> None:
        self.result = result
        cmd = " ".join(result.args)
        super().__init__(
            f"`{cmd}` exited with {result.returncode}\n--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"
        )


def ensure_cli(timeout: float = 1800.0) -> Path:
    """Run scripts/pulumi-cli (builds on first use, fast after) and return the bin dir; raise if impossible."""
    try:
        done = subprocess.run(
            ["bash", str(ENSURE_SCRIPT)], capture_output=True, text=True, timeout=timeout, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        raise RuntimeError(f"scripts/pulumi-cli could not run: {err}") from err
    if done.returncode != 0:
        raise RuntimeError(f"scripts/pulumi-cli failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return Path(done.stdout.strip().splitlines()[-1])


def pulumi_env(backend_url: str, base: Mapping[str, str] | None = None, bin_dir: Path = BIN) -> dict[str, str]:
    """The environment of scripts/pulumi-env.sh, as a dict: pinned CLI first on PATH, nothing downloaded."""
    env = dict(os.environ if base is None else base)
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    env.update(
        PULUMI_SKIP_UPDATE_CHECK="true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION="true",
        PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK="true",
        PULUMI_BACKEND_URL=backend_url,
        PULUMI_PYTHON_CMD=PYTHON,
    )
    env.setdefault("PULUMI_CONFIG_PASSPHRASE", PASSPHRASE)
    return env


class PulumiProject:
    """A one-stack Pulumi project in `tmp_dir`: program in `project/`, state in `state/`.

    `program` is Python source (written to `__main__.py`) or a directory whose contents are copied in.
    `pythonpath` dirs reach both the program and the dynamic-provider process (which must import the
    provider class by module path). Every command returns the CompletedProcess; with `check=True` (default)
    a failure raises PulumiCommandError carrying the CLI output.
    """

    def __init__(
        self,
        tmp_dir: Path | str,
        program: str | Path,
        stack: str = "dev",
        config: Mapping[str, str] | None = None,
        secrets: Mapping[str, str] | None = None,
        env: Mapping[str, str] | None = None,
        *,
        name: str = "e2e",
        pythonpath: Sequence[Path | str] = (),
        bin_dir: Path = BIN,
        timeout: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        root = Path(tmp_dir)
        self.dir = root / "project"
        self.state_dir = root / "state"
        self.stack = stack
        self.timeout = timeout
        self.bin_dir = bin_dir
        self.dir.mkdir(parents=True, exist_ok=True)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        if isinstance(program, Path) or (isinstance(program, str) and "\n" not in program and Path(program).is_dir()):
            shutil.copytree(program, self.dir, dirs_exist_ok=True)
        else:
            (self.dir / "__main__.py").write_text(program)
        # No per-project virtualenv: the program runs with the interpreter in PULUMI_PYTHON_CMD (the venv).
        (self.dir / "Pulumi.yaml").write_text(f"name: {name}\nruntime: python\n")

        self.env = pulumi_env(f"file://{self.state_dir}", bin_dir=bin_dir)
        self.env["PULUMI_HOME"] = str(root / "pulumi-home")  # keep ~/.pulumi (and its plugin cache) out of it
        if pythonpath:
            paths = [str(Path(p).resolve()) for p in pythonpath]
            self.env["PYTHONPATH"] = os.pathsep.join([*paths, self.env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        self.env.update(env or {})

        self.run("stack", "init", stack, "--non-interactive", stack_flag=False)
        for key, value in (config or {}).items():
            self.config_set(key, value)
        for key, value in (secrets or {}).items():
            self.config_set(key, value, secret=True)

    def run(
        self,
        *args: str,
        check: bool = True,
        timeout: float | None = None,
        stack_flag: bool = True,
        input: str | None = None,  # mirrors subprocess.run
    ) -> Result:
        """Run `pulumi ARGS --stack STACK` in the project dir."""
        flags = list(args)
        if stack_flag:  # before any "--", after which everything is positional
            at = flags.index("--") if "--" in flags else len(flags)
            flags[at:at] = ["--stack", self.stack]
        cmd = [str(self.bin_dir / "pulumi"), *flags]
        try:
            result = subprocess.run(
                cmd,
                cwd=self.dir,
                env=self.env,
                input=input,
                capture_output=True,
                text=True,
                timeout=timeout or self.timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as err:
            out = err.stdout.decode() if isinstance(err.stdout, bytes) else (err.stdout or "")
            errout = err.stderr.decode() if isinstance(err.stderr, bytes) else (err.stderr or "")
            raise PulumiCommandError(subprocess.CompletedProcess(cmd, -9, out, errout)) from err
        if check and result.returncode != 0:
            raise PulumiCommandError(result)
        return result

    def up(self, *args: str, check: bool = True) -> Result:
        return self.run("up", "--yes", "--non-interactive", "--skip-preview", *args, check=check)

    def preview(self, *args: str, expect_no_changes: bool = False, check: bool = True) -> Result:
        flags = ["--expect-no-changes"] if expect_no_changes else []
        return self.run("preview", "--non-interactive", *flags, *args, check=check)

    def refresh(self, *args: str, check: bool = True) -> Result:
        return self.run("refresh", "--yes", "--non-interactive", "--skip-preview", *args, check=check)

    def destroy(self, *args: str, check: bool = True) -> Result:
        return self.run("destroy", "--yes", "--non-interactive", "--skip-preview", *args, check=check)

    def cancel(self, check: bool = True) -> Result:
        return self.run("cancel", "--yes", "--non-interactive", check=check)

    def config_set(self, key: str, value: str, secret: bool = False) -> Result:
        # `--` so values starting with "-" are not read as flags.
        return self.run("config", "set", "--secret" if secret else "--plaintext", key, "--", value)

    def export(self) -> dict[str, Any]:
        """The stack's state as `pulumi stack export` prints it (secrets stay encrypted)."""
        exported: dict[str, Any] = json.loads(self.run("stack", "export").stdout)
        return exported

    def outputs(self, show_secrets: bool = False) -> dict[str, Any]:
        flags = ["--show-secrets"] if show_secrets else []
        outs: dict[str, Any] = json.loads(self.run("stack", "output", "--json", *flags).stdout)
        return outs

    def resources(self) -> list[dict[str, Any]]:
        """The resources in state (from `stack export`)."""
        res: list[dict[str, Any]] = self.export()["deployment"].get("resources") or []
        return res


def server_project(
    tmp_dir: Path | str,
    server: RunningServer,
    program: str | Path,
    bin_dir: Path,
    *,
    api_key: str | None = None,
    config: Mapping[str, str] | None = None,
    secrets: Mapping[str, str] | None = None,
    **options: Any,
) -> PulumiProject:
    """A `PulumiProject` whose provider talks to ``server``: ``enkrypt:baseUrl`` set, ``enkrypt:apiKey`` (the
    server's own key unless ``api_key`` is given) set as a secret, plus ``config`` and ``secrets``."""
    return PulumiProject(
        tmp_dir,
        program,
        config={"enkrypt:baseUrl": server.url, **(config or {})},
        secrets={"enkrypt:apiKey": api_key or server.api_key, **(secrets or {})},
        bin_dir=bin_dir,
        **options,
    )
