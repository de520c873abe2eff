"""Shared pytest fixtures. The helpers the tests share are the package `support` (tests/support/__init__.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from pulumi_enkrypt.server.process import RunningServer, start_server
from support.cli import ensure_cli
from support.server import E2E_API_KEY


@pytest.fixture(scope="session")
def pulumi_cli() -> Path:
    """Bin dir of the pinned Pulumi CLI; fails loudly if it cannot be had (PULUMI_ENKRYPT_SKIP_E2E=1 skips)."""
    if os.environ.get("PULUMI_ENKRYPT_SKIP_E2E") == "1":
        pytest.skip("PULUMI_ENKRYPT_SKIP_E2E=1")
    try:
        return ensure_cli()
    except RuntimeError as err:
        pytest.fail(f"the pinned Pulumi CLI is unavailable: {err}", pytrace=False)


@pytest.fixture
def enkrypt_server(tmp_path: Path) -> Iterator[RunningServer]:
    """A fresh local Enkrypt server (own SQLite file) on loopback, API key E2E_API_KEY, project "default"."""
    with start_server(str(tmp_path / "enkrypt.sqlite"), [E2E_API_KEY]) as server:
        yield server
