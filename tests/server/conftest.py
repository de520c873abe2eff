"""Fixtures: a real server subprocess over loopback (no mocks), reset between tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pulumi_enkrypt.server.process import RunningServer, start_server
from support.server import NO_FAULTS, OTHER_PROJECT_KEY, SERVER_TESTS_KEY


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    db = tmp_path_factory.mktemp("enkrypt") / "models.db"
    with start_server(str(db), [SERVER_TESTS_KEY, f"{OTHER_PROJECT_KEY}=other"]) as server:
        yield server


@pytest.fixture
def server(shared_server: RunningServer) -> RunningServer:
    """The module's server, emptied and back to default settings."""
    shared_server.admin_config(**NO_FAULTS)
    shared_server.wipe(SERVER_TESTS_KEY)
    shared_server.wipe(OTHER_PROJECT_KEY)
    shared_server.reset_stats()
    return shared_server


@pytest.fixture
def db_path(tmp_path: Path) -> str:
    return str(tmp_path / "models.db")
