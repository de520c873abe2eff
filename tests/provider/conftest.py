"""Fixtures for provider tests: a local server and the SDK's dynamic-provider host, over loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pulumi_enkrypt.server.process import RunningServer, start_server
from support.provider_host import ProviderHost
from support.server import NO_FAULTS, PROVIDER_TESTS_KEY


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    db = tmp_path_factory.mktemp("db") / "enkrypt.sqlite"
    with start_server(str(db), [PROVIDER_TESTS_KEY]) as srv:
        yield srv


@pytest.fixture
def fresh_server(server: RunningServer) -> RunningServer:
    """The module's server, emptied, with default shape and no faults."""
    server.admin_config(**NO_FAULTS)
    server.wipe()
    server.reset_stats()
    return server


@pytest.fixture
def host(fresh_server: RunningServer) -> Iterator[ProviderHost]:
    with ProviderHost() as h:
        h.configure({"enkrypt:apiKey": PROVIDER_TESTS_KEY, "enkrypt:baseUrl": fresh_server.url})
        yield h
