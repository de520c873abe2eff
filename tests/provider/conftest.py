"""Fixtures for provider tests: a local server and the SDK's dynamic-provider host, over loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pulumi_enkrypt.server.process import RunningServer, start_server

from provider_host import ProviderHost
from provider_support import API_KEY


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    db = tmp_path_factory.mktemp("db") / "enkrypt.sqlite"
    with start_server(str(db), [API_KEY]) as srv:
        yield srv


@pytest.fixture
def fresh_server(server: RunningServer) -> RunningServer:
    """The module's server, emptied, with default shape and no faults."""
    server.admin_config(
        response_shape="sdk", mask_secrets=False, latency_ms=0, rate_429=0.0, rate_5xx=0.0, rate_drop=0.0, rpm_limit=0
    )
    server.wipe()
    server.reset_stats()
    return server


@pytest.fixture
def host(fresh_server: RunningServer) -> Iterator[ProviderHost]:
    with ProviderHost() as h:
        h.configure({"enkrypt:apiKey": API_KEY, "enkrypt:baseUrl": fresh_server.url})
        yield h
