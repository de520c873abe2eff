"""A stack made by the previous release keeps working with this code: no diff, a clean refresh.

The previous release (commit PREVIOUS_RELEASE, the last one landed, taken from this repository's history) is
installed in a venv of its own; it brings the lifecycle program's two models up against the local server, in
each response shape and with masked secrets, and a stack of every kind (a model, a code-of-conduct policy, a
guardrails policy, a guardrail and a deployment naming them) with the server filling in defaults or not. Then
the same stack runs with this checkout's code: `preview --expect-no-changes`, a `refresh` that finds nothing,
another no-change preview, and no write reached the server.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pulumi_enkrypt.kinds import ALL_KINDS
from pulumi_enkrypt.server.process import RunningServer
from support.cli import MODEL_TYPE, PYTHON, PulumiProject, server_project
from support.kinds import EVERY_KIND_PROGRAM
from support.lifecycle import lifecycle_project
from support.reinstall import release_source, venv_with_package
from support.server import writes

PREVIOUS_RELEASE = "4a41ac3"


@pytest.fixture(scope="module")
def previous_release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("previous-release")
    return venv_with_package("0.1.0", root / "install", PYTHON, source=release_source(PREVIOUS_RELEASE, root / "src"))


@pytest.mark.parametrize(
    ("shape", "masked"), [("sdk", False), ("documented", False), ("sdk", True)], ids=["sdk", "documented", "masked"]
)
def test_a_stack_of_the_previous_release_sees_no_change(
    pulumi_cli: Path,
    tmp_path: Path,
    enkrypt_server: RunningServer,
    previous_release: Path,
    shape: str,
    masked: bool,
) -> None:
    enkrypt_server.admin_config(response_shape=shape, mask_secrets=masked)
    p = lifecycle_project(tmp_path / "stack", enkrypt_server, bin_dir=pulumi_cli)
    p.env["PULUMI_PYTHON_CMD"] = str(previous_release)
    _no_change_with_this_checkout(p, enkrypt_server, {MODEL_TYPE: 2})


def _no_change_with_this_checkout(p: PulumiProject, server: RunningServer, counts: dict[str, int]) -> None:
    """Up with the previous release, then preview, refresh and preview again with this checkout: nothing to do.

    ``counts``: how many resources of each type token the stack holds.
    """
    p.up()
    p.refresh()
    before = {r["urn"]: r for r in p.resources() if r["type"] in counts}
    assert {t: sum(r["type"] == t for r in before.values()) for t in counts} == counts
    p.env["PULUMI_PYTHON_CMD"] = PYTHON  # this checkout
    server.reset_stats()
    p.preview(expect_no_changes=True)
    p.run("refresh", "--yes", "--non-interactive", "--skip-preview", "--expect-no-changes")
    p.preview(expect_no_changes=True)
    assert writes(server) == {}
    after = {r["urn"]: r for r in p.resources() if r["type"] in counts}
    assert after.keys() == before.keys()
    for urn, resource in after.items():
        assert resource["inputs"]["__provider"] == before[urn]["inputs"]["__provider"]


@pytest.mark.parametrize("fill_defaults", [True, False], ids=["server-fills-defaults", "server-echoes-as-sent"])
def test_a_stack_of_every_kind_of_the_previous_release_sees_no_change(
    pulumi_cli: Path, tmp_path: Path, enkrypt_server: RunningServer, previous_release: Path, fill_defaults: bool
) -> None:
    enkrypt_server.admin_config(fill_defaults=fill_defaults)
    p = server_project(tmp_path / "stack", enkrypt_server, EVERY_KIND_PROGRAM, pulumi_cli)
    p.env["PULUMI_PYTHON_CMD"] = str(previous_release)
    _no_change_with_this_checkout(p, enkrypt_server, {kind.type_token: 1 for kind in ALL_KINDS})
