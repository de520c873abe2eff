"""The generated TypeScript and Go SDKs of the enkrypt plugin compile, and programs written against them do.

- TypeScript: sdk/nodejs compiles with `tsc` against @pulumi/pulumi from npm (the toolchain pinned in
  tools/sdk-check/node, installed once with `npm ci` into .tools/sdk-check-node), as the SDK's own postinstall
  compiles it; then examples/typescript-deployment compiles against that build, and a misuse of the SDK's
  types is rejected (so the check reads the SDK's types, not `any`).
- Go: tools/sdk-check/go, a program on sdk/go whose go.mod pins github.com/pulumi/pulumi/sdk/v3 v3.259.0,
  builds with every package of the SDK (`go build`, the Go build cache reused).
The first run downloads the npm packages and the Go modules; later runs reuse both. The SDKs' freshness is
`python sdk/gen/sdks.py --check` (a step of scripts/test).
"""

from __future__ import annotations

import fcntl
import filecmp
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SDK_NODEJS = REPO / "sdk" / "nodejs"
EXAMPLE = REPO / "examples" / "typescript-deployment"
NODE_PINS = REPO / "tools" / "sdk-check" / "node"
NODE_TOOLS = REPO / ".tools" / "sdk-check-node"
GO_CHECK = REPO / "tools" / "sdk-check" / "go"
PINNED_GO_SDK = "github.com/pulumi/pulumi/sdk/v3 v3.259.0"


def run(args: list[str], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)


def need(tool: str) -> str:
    found = shutil.which(tool)
    if found is None:
        pytest.fail(f"{tool} is not on PATH: the SDK compile checks need it", pytrace=False)
    return found


@pytest.fixture(scope="module")
def node_modules() -> Path:
    """The pinned TypeScript toolchain's node_modules, installed with `npm ci` when the lock file changed."""
    npm = need("npm")
    need("node")
    NODE_TOOLS.mkdir(parents=True, exist_ok=True)
    # One install at a time, should two test processes start together.
    with open(NODE_TOOLS / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        installed = NODE_TOOLS / "package-lock.json"
        fresh = installed.exists() and filecmp.cmp(installed, NODE_PINS / "package-lock.json", shallow=False)
        if not (fresh and (NODE_TOOLS / "node_modules" / ".bin" / "tsc").exists()):
            for name in ("package.json", "package-lock.json"):
                shutil.copyfile(NODE_PINS / name, NODE_TOOLS / name)
            done = run([npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"], NODE_TOOLS)
            assert done.returncode == 0, f"npm ci of tools/sdk-check/node failed:\n{done.stdout}{done.stderr}"
    return NODE_TOOLS / "node_modules"


def tsc(node_modules: Path, project: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return run([str(node_modules / ".bin" / "tsc"), "-p", str(project), "--pretty", "false", *extra], project)


@dataclass
class Built:
    sdk: Path
    result: subprocess.CompletedProcess[str]


@pytest.fixture(scope="module")
def built_sdk(node_modules: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    """sdk/nodejs copied out and compiled as its postinstall script does (tsc, then package.json into bin/)."""
    sdk = tmp_path_factory.mktemp("ts") / "enkrypt"
    shutil.copytree(SDK_NODEJS, sdk, ignore=shutil.ignore_patterns("node_modules", "bin"))
    (sdk / "node_modules").symlink_to(node_modules)
    result = tsc(node_modules, sdk)
    if result.returncode == 0:
        shutil.copyfile(sdk / "package.json", sdk / "bin" / "package.json")
    yield Built(sdk, result)


def test_typescript_sdk_compiles_against_pulumi_from_npm(built_sdk: Built) -> None:
    result = built_sdk.result
    assert result.returncode == 0, f"tsc of sdk/nodejs:\n{result.stdout}{result.stderr}"
    assert result.stdout == result.stderr == ""
    # What a program imports: the compiled entry point with its declarations, for every resource kind.
    bin_dir = built_sdk.sdk / "bin"
    for name in ("index", "model", "guardrailsPolicy", "deployment", "provider"):
        assert (bin_dir / f"{name}.js").is_file() and (bin_dir / f"{name}.d.ts").is_file(), name
    assert json.loads((bin_dir / "package.json").read_text())["pulumi"]["name"] == "enkrypt"


def example_project(tmp: Path, node_modules: Path, built: Built) -> Path:
    """The example copied out, with the node_modules `npm install` would give it: @pulumi/enkrypt from its
    package.json's `file:` dependency on sdk/nodejs (here the build of it), the rest from the pinned tools."""
    declared = json.loads((EXAMPLE / "package.json").read_text())["dependencies"]["@pulumi/enkrypt"]
    assert (EXAMPLE / declared.removeprefix("file:")).resolve() == SDK_NODEJS
    project = tmp / "example"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("node_modules", "bin"))
    modules = project / "node_modules"
    (modules / "@pulumi").mkdir(parents=True)
    (modules / "@types").mkdir()
    (modules / "@pulumi" / "enkrypt").symlink_to(built.sdk)
    (modules / "@pulumi" / "pulumi").symlink_to(node_modules / "@pulumi" / "pulumi")
    (modules / "@types" / "node").symlink_to(node_modules / "@types" / "node")
    return project


def test_typescript_example_compiles_against_the_sdk(node_modules: Path, built_sdk: Built, tmp_path: Path) -> None:
    assert built_sdk.result.returncode == 0, "sdk/nodejs does not compile (see the test above)"
    project = example_project(tmp_path, node_modules, built_sdk)
    result = tsc(node_modules, project)
    assert result.returncode == 0, f"tsc of examples/typescript-deployment:\n{result.stdout}{result.stderr}"
    assert result.stdout == result.stderr == ""
    assert (project / "bin" / "index.js").is_file()


def test_typescript_misuse_of_the_sdk_is_rejected(node_modules: Path, built_sdk: Built, tmp_path: Path) -> None:
    """The check sees the SDK's own types: a name given as a number, and a model without its version, fail."""
    assert built_sdk.result.returncode == 0, "sdk/nodejs does not compile (see the test above)"
    project = example_project(tmp_path, node_modules, built_sdk)
    (project / "index.ts").write_text(
        'import * as enkrypt from "@pulumi/enkrypt";\n'
        'new enkrypt.GuardrailsPolicy("p", { name: 42, detectors: {} });\n'
        'new enkrypt.Model("m", { model_saved_name: "M", model_config: { model_provider: "openai" } });\n'
    )
    result = tsc(node_modules, project, "--noEmit")
    assert result.returncode != 0
    errors = result.stdout.splitlines()
    assert any(
        e.startswith("index.ts(2,") and "'number' is not assignable to type 'Input<string>'" in e for e in errors
    )
    assert any(e.startswith("index.ts(3,") and "'ModelArgs'" in e for e in errors), result.stdout
    assert "Property 'model_version' is missing" in result.stdout


def test_go_sdk_builds_against_the_pinned_go_sdk() -> None:
    go = need("go")
    env = {**os.environ, "GOFLAGS": "-mod=readonly"}  # the pins in go.mod and go.sum, never rewritten

    def go_run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [go, *args], cwd=GO_CHECK, env=env, capture_output=True, text=True, timeout=900, check=False
        )

    # The SDK's own go.mod asks for v3.256.0 or later; the program's pin is the version the build uses.
    selected = go_run("list", "-m", "github.com/pulumi/pulumi/sdk/v3")
    assert selected.stdout.strip() == PINNED_GO_SDK, selected.stderr
    packages = go_run("list", "example.com/pulumi-enkrypt/sdk/go/...")
    assert packages.returncode == 0, packages.stderr
    assert set(packages.stdout.split()) >= {
        "example.com/pulumi-enkrypt/sdk/go/enkrypt",
        "example.com/pulumi-enkrypt/sdk/go/enkrypt/config",
    }
    built = go_run("build", "./...", "example.com/pulumi-enkrypt/sdk/go/...")
    assert built.returncode == 0, f"go build:\n{built.stdout}{built.stderr}"
    assert built.stdout == built.stderr == ""
