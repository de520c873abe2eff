"""End-to-end: the pinned Pulumi CLI, our language host and a Python dynamic provider, all offline."""

from __future__ import annotations

import json
from pathlib import Path

from support.cli import REPO, PulumiCommandError, PulumiProject

SECRET = "smoke-secret-7f3a91c2"

PROGRAM = """
import pulumi
from support.smoke_provider import Echo

config = pulumi.Config()
echo = Echo("echo", label=config.require("label"), token=config.require_secret("token"))
pulumi.export("label", echo.label)
pulumi.export("length", echo.length)
pulumi.export("token", echo.token)
"""

FAILING_PROGRAM = """
raise RuntimeError("smoke-failure-marker: the program blew up")
"""


def test_dynamic_resource_lifecycle(pulumi_cli: Path, tmp_path: Path) -> None:
    project = PulumiProject(
        tmp_path,
        PROGRAM,
        config={"label": "hello"},
        secrets={"token": SECRET},
        pythonpath=[REPO / "tests"],
        bin_dir=pulumi_cli,
    )

    project.up()
    assert project.outputs() == {"label": "hello", "length": len(SECRET), "token": "[secret]"}
    assert project.outputs(show_secrets=True)["token"] == SECRET
    [echo] = [r for r in project.resources() if r["type"] == "pulumi-python:dynamic/smoke:Echo"]
    assert echo["outputs"]["label"] == "hello"

    project.preview(expect_no_changes=True)
    project.refresh()
    project.preview(expect_no_changes=True)

    exported = json.dumps(project.export())
    assert SECRET not in exported, "the secret input leaked into state in plain text"

    project.destroy()
    assert [r for r in project.resources() if r["type"] != "pulumi:pulumi:Stack"] == []


def test_failing_program_fails_up(pulumi_cli: Path, tmp_path: Path) -> None:
    project = PulumiProject(tmp_path, FAILING_PROGRAM, bin_dir=pulumi_cli)

    result = project.up(check=False)

    assert result.returncode != 0
    assert "smoke-failure-marker: the program blew up" in result.stdout + result.stderr
    try:
        project.up()
    except PulumiCommandError as err:
        assert "smoke-failure-marker" in str(err)
    else:
        raise AssertionError("up should have failed")
