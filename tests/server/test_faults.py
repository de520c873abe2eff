"""Fault injection: each kind, seeded, switched at start and at run time; the rpm limit per key."""

from __future__ import annotations

import time

import httpx
import pytest

from pulumi_enkrypt.server.process import RunningServer, start_server
from support.bodies import model_body
from support.server import OTHER_PROJECT_KEY, SERVER_TESTS_KEY, identity_headers


def _statuses(server: RunningServer, n: int) -> list[int]:
    with server.client() as c:
        return [c.get("/models/list-models").status_code for _ in range(n)]


def test_429_with_retry_after(server: RunningServer) -> None:
    server.admin_config(rate_429=1.0, retry_after=7)
    with server.client() as c:
        r = c.post("/models/add-model", json=model_body())
        assert r.status_code == 429
        assert r.headers["Retry-After"] == "7"
        assert r.json()["message"] and r.json()["request_id"]
        # faults are for the model routes only
        assert c.get("/_emulator/config").status_code == 200
        assert c.get("/openapi.json").status_code == 200
    stats = server.stats()
    assert stats["faults"]["429"] == 1
    assert stats["requests"]["POST /models/add-model"] == 1
    server.admin_config(rate_429=0.0)
    assert server.models() == []  # a 429 writes nothing


def test_5xx(server: RunningServer) -> None:
    server.admin_config(rate_5xx=1.0)
    with server.client() as c:
        for _ in range(8):
            r = c.post("/models/add-model", json=model_body())
            assert r.status_code in (500, 502, 503, 504)
            assert r.json()["message"]
    assert server.stats()["faults"]["5xx"] == 8
    server.admin_config(rate_5xx=0.0)
    assert server.models() == []


def test_seeded_faults_repeat(server: RunningServer) -> None:
    server.admin_config(rate_429=0.3, rate_5xx=0.3, seed=42)
    first = _statuses(server, 30)
    server.admin_config(seed=42)  # same seed: the same sequence again
    assert _statuses(server, 30) == first
    assert {200, 429} <= set(first) and any(s >= 500 for s in first)
    server.admin_config(seed=43)
    assert _statuses(server, 30) != first


def test_drop_commits_then_closes_the_connection(server: RunningServer) -> None:
    server.admin_config(rate_drop=1.0)
    with server.client() as c, pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        c.post("/models/add-model", json=model_body())
    with server.client() as c, pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        c.patch(
            "/models/modify-model",
            json=model_body(model_config={"system_prompt": "changed"}),
            headers=identity_headers("Test Model"),
        )
    server.admin_config(rate_drop=0.0)
    with server.client() as c:
        r = c.get("/models/get-model", headers=identity_headers("Test Model"))
    assert r.status_code == 200  # both writes were committed before the drop
    assert r.json()["model_config"]["system_prompt"] == "changed"
    assert server.stats()["faults"]["drop"] == 2
    assert "without starting response" not in server.log_text()


def test_latency(server: RunningServer) -> None:
    server.admin_config(latency_ms=300)
    with server.client() as c:
        start = time.monotonic()
        assert c.get("/models/list-models").status_code == 200
        assert time.monotonic() - start >= 0.3
        start = time.monotonic()
        c.get("/_emulator/stats")
        assert time.monotonic() - start < 0.3
    assert server.stats()["faults"]["latency"] == 1


def test_rpm_limit_per_key(server: RunningServer) -> None:
    server.admin_config(rpm_limit=3)
    assert _statuses(server, 3) == [200, 200, 200]
    with server.client() as c:
        r = c.get("/models/list-models")
    assert r.status_code == 429
    assert 1 <= int(r.headers["Retry-After"]) <= 60
    with server.client(OTHER_PROJECT_KEY) as other:  # another key has its own window
        assert other.get("/models/list-models").status_code == 200
    assert server.stats()["faults"]["rpm"] == 1


def test_faults_from_the_command_line(db_path: str) -> None:
    args = ["--rate-429", "1", "--retry-after", "3", "--seed", "5", "--latency-ms", "10", "--samples", "2"]
    with start_server(db_path, [SERVER_TESTS_KEY], args) as server:
        config = server.admin_config()
        assert config["rate_429"] == 1.0 and config["retry_after"] == 3 and config["seed"] == 5
        with server.client() as c:
            r = c.get("/models/list-models")
        assert r.status_code == 429 and r.headers["Retry-After"] == "3"
        server.admin_config(rate_429=0.0)
        assert [m["is_sample"] for m in server.models()] == [True, True]
