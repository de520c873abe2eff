"""A stack made by the previous release keeps working with this code: no diff, a clean refresh.

The previous release (commit PREVIOUS_RELEASE, taken from this repository's history) is installed in a venv of
its own; it brings the lifecycle program's two models up against the local server, in each response shape and
with masked secrets. Then the same stack runs with this checkout's code: `preview --expect-no-changes`, a
`refresh` that finds nothing, another no-change preview, and no write reached the server.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pulumi_enkrypt.server.process import RunningServer
from support.cli import MODEL_TYPE, PYTHON
from support.lifecycle import lifecycle_project
from support.reinstall import release_source, venv_with_package
from support.server import writes

PREVIOUS_RELEASE = "ba90007"


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
    p.up()
    p.refresh()
    before = {r["urn"]: r for r in p.resources() if r["type"] == MODEL_TYPE}
    assert len(before) == 2

    p.env["PULUMI_PYTHON_CMD"] = PYTHON  # this checkout
    enkrypt_server.reset_stats()
    p.preview(expect_no_changes=True)
    p.run("refresh", "--yes", "--non-interactive", "--skip-preview", "--expect-no-changes")
    p.preview(expect_no_changes=True)
    assert writes(enkrypt_server) == {}
    after = {r["urn"]: r for r in p.resources() if r["type"] == MODEL_TYPE}
    assert after.keys() == before.keys()
    for urn, resource in after.items():
        assert resource["inputs"]["__provider"] == before[urn]["inputs"]["__provider"]
