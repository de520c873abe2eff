"""EnkryptClient against real HTTP servers on loopback: a scripted fault server, and the local Enkrypt server."""

from __future__ import annotations

import email.utils
import json
import logging
import pickle
import re
import socket
import ssl
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from pulumi_enkrypt.client import (
    PATH_ADD,
    EnkryptAuthError,
    EnkryptClient,
    EnkryptConflictError,
    EnkryptConnectionError,
    EnkryptError,
    EnkryptMaybeCommittedError,
    EnkryptNotFoundError,
    EnkryptRateLimitError,
    EnkryptServerError,
    EnkryptValidationError,
    parse_retry_after,
    scrub,
    secret_values,
)
from support.bodies import model_body

pytestmark = pytest.mark.timeout(60)

API_KEY = "ek-test-KEY-0123456789abcdef"
SECRET_APIKEY = "sk-live-TOPSECRET-42"
SECRET_HEADER = "Bearer hdr-token-xyz"
SECRET_JWT = "grant_type=client_credentials&client_secret=jwt-777"
SECRET_AWS = "AKIA-SECRET-ACCESS"
ALL_SECRETS = (API_KEY, SECRET_APIKEY, SECRET_HEADER, SECRET_JWT, SECRET_AWS)


def secret_body(name: str = "Test Model", version: str = "v1") -> dict[str, Any]:
    """The Together model with a secret in each kind of secret field."""
    return model_body(
        name,
        version,
        model_config={
            "auth_data": {"aws_access_key_id": SECRET_AWS},
            "apikeys": [SECRET_APIKEY],
            "custom_headers": [{"key": "X-Auth", "value": SECRET_HEADER}],
            "model_jwt_config": {"jwt_url": "https://auth.example.com/token", "jwt_body": SECRET_JWT},
        },
    )


def stored(body: dict[str, Any]) -> dict[str, Any]:
    return {**body, "model_id": 7, "project_name": "default", "created_at": "2024-01-01T00:00:00Z"}


# ---------------------------------------------------------------------------------------------------------
# A scripted fault server
# ---------------------------------------------------------------------------------------------------------


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # sleep before answering (for read timeouts)
    drop: bool = False  # close the connection without any answer


@dataclass
class Seen:
    at: float  # time.time() when the request was read
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class FaultServer:
    """ThreadingHTTPServer on 127.0.0.1:0 answering each request with the next scripted Reply."""

    def __init__(self) -> None:
        self.script: deque[Reply] = deque()
        self.default = Reply(200, {"message": "ok", "data": stored(secret_body())})
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with owner._lock:
                    owner.seen.append(Seen(time.time(), self.command, self.path, dict(self.headers.items()), body))
                    reply = owner.script.popleft() if owner.script else owner.default
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.drop:
                    self.close_connection = True
                    return
                payload = b"" if reply.body is None else json.dumps(reply.body).encode()
                try:
                    self.send_response(reply.status)
                    for k, v in reply.headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:  # the client gave up (read timeout)
                    self.close_connection = True

            do_GET = do_POST = do_PATCH = do_DELETE = _serve

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05})
        self._thread.daemon = True
        self._thread.start()

    def push(self, *replies: Reply) -> None:
        self.script.extend(replies)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[FaultServer]:
    srv = FaultServer()
    yield srv
    srv.close()


class CountingTransport(httpx.BaseTransport):
    """httpx's own transport, counting what crosses it: how many attempts a call made, what the server answered
    to each, and how many failed in transport. The client keeps no counters: this is the evidence instead."""

    def __init__(self) -> None:
        self._inner = httpx.HTTPTransport()
        self._lock = threading.Lock()
        self.statuses: list[int] = []
        self.transport_errors = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            response = self._inner.handle_request(request)
        except httpx.TransportError:
            with self._lock:
                self.transport_errors += 1
            raise
        with self._lock:
            self.statuses.append(response.status_code)
        return response

    @property
    def attempts(self) -> int:
        return len(self.statuses) + self.transport_errors

    def close(self) -> None:
        self._inner.close()


def logged_waits(caplog: pytest.LogCaptureFixture) -> list[float]:
    """The back-off waits, in seconds, from the client's own "retrying in X s" log lines."""
    found = (re.search(r"retrying in ([\d.]+) s", r.getMessage()) for r in caplog.records if r.name == CLIENT_LOG)
    return [float(m.group(1)) for m in found if m]


CLIENT_LOG = "pulumi_enkrypt.client"
BACKOFF_MAX = 0.05  # make_client's: a longer wait was set by a Retry-After


def make_client(url: str, **kwargs: Any) -> EnkryptClient:
    options: dict[str, Any] = {"max_attempts": 4, "backoff_base": 0.01, "backoff_max": BACKOFF_MAX}
    options.update(kwargs)
    return EnkryptClient(url, API_KEY, **options)


@pytest.fixture
def counted() -> CountingTransport:
    return CountingTransport()


@pytest.fixture
def waits(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """caplog, catching the client's INFO lines (one per back-off wait); read them with logged_waits."""
    caplog.set_level(logging.INFO, logger=CLIENT_LOG)
    return caplog


@pytest.fixture
def client(server: FaultServer, counted: CountingTransport) -> Iterator[EnkryptClient]:
    with make_client(server.url, transport=counted) as c:
        yield c


def assert_clean(exc: BaseException) -> None:
    for text in (str(exc), repr(exc), *map(str, exc.args)):
        for secret in ALL_SECRETS:
            assert secret not in text, f"secret leaked into {text!r}"
        assert "\n" not in text


# ---------------------------------------------------------------------------------------------------------
# Requests on the wire
# ---------------------------------------------------------------------------------------------------------


def test_calls_send_the_documented_requests(
    server: FaultServer, client: EnkryptClient, counted: CountingTransport, waits: pytest.LogCaptureFixture
) -> None:
    body = secret_body("Modèle été", "v1")  # latin-1 but not ASCII: must travel as latin-1 bytes
    server.push(
        Reply(200, {"message": "Model details added successfully", "data": stored(body)}),
        Reply(200, stored(body)),
        Reply(200, {"models": [stored(body)]}),
        Reply(200, {"message": "Model details updated successfully", "data": stored(body)}),
        Reply(200, {"message": "Model details deleted successfully", "data": {}}),
    )
    assert client.add_model(body)["model_id"] == 7
    assert client.get_model("Modèle été", "v1")["model_saved_name"] == "Modèle été"
    assert [m["model_id"] for m in client.list_models()] == [7]
    assert client.modify_model("Modèle été", "v1", body)["model_version"] == "v1"
    assert client.delete_model("Modèle été", "v1") is None

    add, get, lst, mod, dele = server.seen
    assert (add.method, add.path) == ("POST", "/models/add-model")
    assert json.loads(add.body) == body
    assert add.headers["Content-Type"] == "application/json"
    assert add.headers["apikey"] == API_KEY
    assert add.headers["User-Agent"].startswith("pulumi-enkrypt/")
    assert "X-Enkrypt-Model" not in add.headers
    assert (get.method, get.path) == ("GET", "/models/get-model")
    # http.server decodes header bytes as latin-1, so equality proves the wire encoding
    assert get.headers["X-Enkrypt-Model"] == "Modèle été"
    assert get.headers["X-Enkrypt-Model-Version"] == "v1"
    assert get.headers["X-Enkrypt-Refresh-Cache"] == "true"
    assert (lst.method, lst.path) == ("GET", "/models/list-models")
    assert (mod.method, mod.path, mod.headers["X-Enkrypt-Model"]) == ("PATCH", "/models/modify-model", "Modèle été")
    assert json.loads(mod.body) == body
    assert (dele.method, dele.path, dele.headers["X-Enkrypt-Model-Version"]) == (
        "DELETE",
        "/models/delete-model",
        "v1",
    )
    assert all(s.headers["apikey"] == API_KEY for s in server.seen)
    assert (counted.attempts, logged_waits(waits)) == (5, [])  # five calls, one attempt each, no wait


def test_get_without_refresh_cache_omits_the_header(server: FaultServer, client: EnkryptClient) -> None:
    server.push(Reply(200, stored(secret_body())))
    client.get_model("Test Model", "v1", refresh_cache=False)
    assert "X-Enkrypt-Refresh-Cache" not in server.seen[0].headers


@pytest.mark.parametrize(
    ("name", "version", "field_name"),
    [
        ("模型", "v1", "model_saved_name"),
        ("ok", "v1\r\nX-Evil: 1", "model_version"),
        ("", "v1", "model_saved_name"),
        (" padded", "v1", "model_saved_name"),
        # The contract's header-value rule, as the server applies it to a body's name: tabs and C1 controls too.
        ("tab\there", "v1", "model_saved_name"),
        ("ok", "v1\x85", "model_version"),
    ],
)
def test_identity_headers_are_checked_before_sending(
    server: FaultServer, client: EnkryptClient, name: str, version: str, field_name: str
) -> None:
    for call in (
        lambda: client.get_model(name, version),
        lambda: client.modify_model(name, version, secret_body()),
        lambda: client.delete_model(name, version),
        lambda: client.find_model(name, version),
    ):
        with pytest.raises(EnkryptValidationError) as info:
            call()
        assert info.value.status is None
        assert field_name in str(info.value)
        assert info.value.field_errors[0].path == field_name
    assert server.seen == []


# ---------------------------------------------------------------------------------------------------------
# Retries, Retry-After, bounded attempts
# ---------------------------------------------------------------------------------------------------------


def test_429_retry_after_seconds_is_waited_in_full(
    server: FaultServer, client: EnkryptClient, counted: CountingTransport, waits: pytest.LogCaptureFixture
) -> None:
    server.push(
        Reply(429, {"message": "Too many requests"}, {"Retry-After": "1"}),
        Reply(200, {"models": []}),
    )
    assert client.list_models() == []
    first, second = server.seen
    assert second.at - first.at >= 1.0
    assert counted.statuses == [429, 200]
    [wait] = logged_waits(waits)
    assert wait >= 1.0  # far above BACKOFF_MAX: the Retry-After decided it


def test_503_retry_after_http_date_is_not_called_early(
    server: FaultServer, client: EnkryptClient, waits: pytest.LogCaptureFixture
) -> None:
    not_before = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(seconds=2)
    server.push(
        Reply(503, {"message": "busy"}, {"Retry-After": email.utils.format_datetime(not_before, usegmt=True)}),
        Reply(200, stored(secret_body())),
    )
    assert client.get_model("Test Model", "v1")["model_id"] == 7
    assert server.seen[1].at >= not_before.timestamp()
    [wait] = logged_waits(waits)
    assert wait > BACKOFF_MAX  # the Retry-After decided it


def test_503_is_retried_a_bounded_number_of_times(
    server: FaultServer, counted: CountingTransport, waits: pytest.LogCaptureFixture
) -> None:
    for _ in range(10):
        server.push(Reply(503, {"message": "down for maintenance", "request_id": "abc123"}))
    with make_client(server.url, max_attempts=3, transport=counted) as c, pytest.raises(EnkryptServerError) as info:
        c.list_models()
    exc = info.value
    assert len(server.seen) == 3
    assert (exc.status, exc.attempts, exc.request_id, exc.message) == (503, 3, "abc123", "down for maintenance")
    assert str(exc) == (
        "Enkrypt API: GET /models/list-models -> 503 Service Unavailable: down for maintenance "
        "(after 3 attempts; request_id abc123)"
    )
    assert (counted.statuses, len(logged_waits(waits))) == ([503, 503, 503], 2)


def test_429_exhausted_raises_rate_limit_error(server: FaultServer, counted: CountingTransport) -> None:
    server.push(*[Reply(429, {"message": "slow down"}, {"Retry-After": "0"}) for _ in range(3)])
    with make_client(server.url, max_attempts=2, transport=counted) as c, pytest.raises(EnkryptRateLimitError) as info:
        c.find_model("Test Model", "v1")
    assert (info.value.status, info.value.attempts, info.value.retry_after) == (429, 2, 0.0)
    assert len(server.seen) == 2
    assert counted.statuses == [429, 429]


def test_retry_after_beyond_the_cap_gives_up_at_once(server: FaultServer) -> None:
    server.push(Reply(429, {"message": "quota"}, {"Retry-After": "120"}))
    started = time.monotonic()
    with make_client(server.url, max_retry_after=5) as c, pytest.raises(EnkryptRateLimitError) as info:
        c.list_models()
    assert time.monotonic() - started < 1.0
    assert len(server.seen) == 1
    assert info.value.retry_after == 120.0
    assert "max_retry_after=5" in str(info.value)


def test_client_errors_are_not_retried(server: FaultServer, client: EnkryptClient) -> None:
    server.push(Reply(401, {"message": "Unauthorized", "request_id": "r1"}))
    with pytest.raises(EnkryptAuthError) as info:
        client.list_models()
    assert (info.value.status, info.value.request_id, info.value.attempts) == (401, "r1", 1)
    server.push(Reply(403, {"message": "Forbidden"}))
    with pytest.raises(EnkryptAuthError):
        client.list_models()
    assert len(server.seen) == 2


def test_not_found(server: FaultServer, client: EnkryptClient) -> None:
    server.push(*[Reply(404, {"message": "Model not found"}) for _ in range(4)])
    assert client.find_model("Gone", "v1") is None
    with pytest.raises(EnkryptNotFoundError) as info:
        client.get_model("Gone", "v1")
    assert info.value.status == 404 and info.value.message == "Model not found"
    client.delete_model("Gone", "v1", missing_ok=True)
    with pytest.raises(EnkryptNotFoundError):
        client.delete_model("Gone", "v1")
    assert len(server.seen) == 4


def test_validation_error_keeps_field_errors_without_inputs(server: FaultServer, client: EnkryptClient) -> None:
    server.push(
        Reply(
            422,
            {
                "message": "Invalid request",
                "errors": [
                    {"loc": ["body", "model_config", "apikeys", 0], "msg": "too short", "input": SECRET_APIKEY},
                    {"field": "model_name", "reason": "required"},
                    "free text error",
                ],
            },
        )
    )
    with pytest.raises(EnkryptValidationError) as info:
        client.add_model(secret_body())
    exc = info.value
    assert exc.status == 422
    assert [(e.path, e.reason) for e in exc.field_errors] == [
        ("model_config.apikeys.0", "too short"),
        ("model_name", "required"),
        ("", "free text error"),
    ]
    assert "model_config.apikeys.0: too short" in str(exc)
    assert_clean(exc)


def test_unexpected_shapes_raise_enkrypt_error(server: FaultServer, client: EnkryptClient) -> None:
    server.push(Reply(200, {"message": "ok"}), Reply(200, ["not", "an", "object"]))
    with pytest.raises(EnkryptError, match="unexpected response body"):
        client.add_model(secret_body())
    with pytest.raises(EnkryptError, match="unexpected response body"):
        client.get_model("Test Model", "v1")


# ---------------------------------------------------------------------------------------------------------
# Dropped connections, timeouts and the write-retry policy
# ---------------------------------------------------------------------------------------------------------


def test_reads_are_retried_after_a_dropped_connection(
    server: FaultServer, client: EnkryptClient, counted: CountingTransport
) -> None:
    server.push(Reply(drop=True), Reply(200, stored(secret_body())))
    assert client.get_model("Test Model", "v1")["model_id"] == 7
    assert len(server.seen) == 2
    assert counted.transport_errors == 1 and counted.attempts == 2


def test_deletes_are_retried_after_a_dropped_connection(server: FaultServer, client: EnkryptClient) -> None:
    # The first DELETE may have been applied: the retry's 404 is "already gone" for the caller.
    server.push(Reply(drop=True), Reply(404, {"message": "Model not found"}))
    client.delete_model("Test Model", "v1", missing_ok=True)
    assert [s.method for s in server.seen] == ["DELETE", "DELETE"]


def test_a_write_dropped_after_sending_is_not_retried(
    server: FaultServer, client: EnkryptClient, counted: CountingTransport
) -> None:
    server.push(Reply(drop=True), Reply(200, {"data": stored(secret_body())}))
    with pytest.raises(EnkryptMaybeCommittedError) as info:
        client.add_model(secret_body())
    exc = info.value
    assert isinstance(exc, EnkryptConnectionError)
    assert exc.maybe_committed and exc.status is None and exc.attempts == 1
    assert str(exc).startswith("Enkrypt API: POST /models/add-model -> failed: RemoteProtocolError")
    assert len(server.seen) == 1
    assert (counted.transport_errors, counted.attempts) == (1, 1)
    assert_clean(exc)


def test_the_read_back_recipe_for_a_maybe_committed_add(server: FaultServer, client: EnkryptClient) -> None:
    """What the provider does: on EnkryptMaybeCommittedError read the model back; equal to what was sent = done."""
    body = secret_body()
    server.push(Reply(drop=True), Reply(200, stored(body)))
    try:
        created = client.add_model(body)
    except EnkryptMaybeCommittedError:
        found = client.find_model(body["model_saved_name"], body["model_version"])
        assert found is not None
        assert {k: found[k] for k in body} == body
        created = found
    assert created["model_id"] == 7
    assert [s.method for s in server.seen] == ["POST", "GET"]


def test_a_write_may_be_retried_when_the_caller_allows(server: FaultServer, client: EnkryptClient) -> None:
    server.push(Reply(drop=True), Reply(200, {"data": stored(secret_body())}))
    assert client.add_model(secret_body(), retry_writes_on_disconnect=True)["model_id"] == 7
    assert [s.method for s in server.seen] == ["POST", "POST"]


def test_a_retried_write_flags_its_final_error_maybe_committed(server: FaultServer, client: EnkryptClient) -> None:
    # The first POST committed but its answer was lost; the retry then meets the model it created.
    server.push(Reply(drop=True), Reply(409, {"message": "Model Test Model:v1 already exists"}))
    with pytest.raises(EnkryptConflictError) as info:
        client.add_model(secret_body(), retry_writes_on_disconnect=True)
    exc = info.value
    assert exc.maybe_committed and exc.attempts == 2 and exc.status == 409
    assert "the write may have been applied" in str(exc)


@pytest.mark.parametrize("status", [500, 502, 504])
def test_a_write_answered_with_a_gateway_error_is_maybe_committed(
    server: FaultServer, counted: CountingTransport, status: int
) -> None:
    server.push(Reply(status, {"message": "upstream failed", "request_id": "gw1"}), Reply(200, {"data": {}}))
    with make_client(server.url, transport=counted) as c, pytest.raises(EnkryptMaybeCommittedError) as info:
        c.modify_model("Test Model", "v1", secret_body())
    assert (info.value.status, info.value.request_id, info.value.maybe_committed) == (status, "gw1", True)
    assert len(server.seen) == 1
    assert counted.statuses == [status]  # one attempt: not retried


def test_503_on_a_write_is_retried_it_was_not_processed(server: FaultServer, client: EnkryptClient) -> None:
    server.push(
        Reply(503, {"message": "busy"}, {"Retry-After": "0"}),
        Reply(429, {"message": "slow"}),
        Reply(200, {"data": stored(secret_body())}),
    )
    assert client.modify_model("Test Model", "v1", secret_body())["model_id"] == 7
    assert len(server.seen) == 3


def test_read_timeout_on_a_read_is_retried_and_bounded(server: FaultServer) -> None:
    server.push(Reply(200, {"models": []}, delay=1.5), Reply(200, {"models": []}, delay=1.5))
    started = time.monotonic()
    with make_client(server.url, timeout=0.3, max_attempts=2) as c, pytest.raises(EnkryptConnectionError) as info:
        c.list_models()
    assert time.monotonic() - started < 1.5
    exc = info.value
    assert not isinstance(exc, EnkryptMaybeCommittedError) and not exc.maybe_committed
    assert exc.attempts == 2 and "ReadTimeout" in str(exc)
    assert len(server.seen) == 2


def test_read_timeout_on_a_write_is_maybe_committed(server: FaultServer) -> None:
    server.push(Reply(200, {"data": stored(secret_body())}, delay=1.5))
    with make_client(server.url, timeout=0.3) as c, pytest.raises(EnkryptMaybeCommittedError) as info:
        c.add_model(secret_body())
    assert "ReadTimeout" in str(info.value) and info.value.attempts == 1
    assert len(server.seen) == 1


def test_refused_connections_are_retried_even_for_writes(counted: CountingTransport) -> None:
    with socket.socket() as s:  # a port that nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with (
        make_client(f"http://127.0.0.1:{port}", max_attempts=3, transport=counted) as c,
        pytest.raises(EnkryptConnectionError) as info,
    ):
        c.add_model(secret_body())
    exc = info.value
    assert not isinstance(exc, EnkryptMaybeCommittedError) and not exc.maybe_committed
    assert exc.attempts == 3 and "ConnectError" in str(exc)
    assert counted.transport_errors == 3 and counted.attempts == 3


def closed_port() -> int:
    with socket.socket() as s:  # bound then closed: nothing listens on it
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_connection_error_names_the_url_tried(server: FaultServer) -> None:
    port = closed_port()
    with make_client(f"http://127.0.0.1:{port}/api/", max_attempts=2) as c:
        with pytest.raises(EnkryptConnectionError) as info:
            c.get_model("Test Model", "v1")
        assert f"could not connect to http://127.0.0.1:{port}/api/models/get-model" in str(info.value)
        assert "ConnectError" in str(info.value) and info.value.attempts == 2
        assert_clean(info.value)
        with pytest.raises(EnkryptConnectionError) as info:
            c.add_model(secret_body())
        assert f"http://127.0.0.1:{port}/api/models/add-model" in str(info.value)
        assert_clean(info.value)
    # A connection dropped after sending names the URL too.
    server.push(Reply(drop=True))
    with make_client(server.url) as c, pytest.raises(EnkryptMaybeCommittedError) as dropped:
        c.add_model(secret_body())
    assert f"the connection to {server.url}/models/add-model broke" in str(dropped.value)
    assert_clean(dropped.value)


class CountingListener:
    """A loopback TCP server that counts the connections it accepts: independent evidence of attempts.

    Without ``tls`` it answers like a plain HTTP server would to anything (400); with ``tls`` it runs the
    server side of the handshake with that context.
    """

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.connections = 0
        self._tls = tls
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._sock.getsockname()[1])
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:  # closed by close()
                return
            self.connections += 1
            with conn:
                try:
                    if self._tls is not None:
                        with self._tls.wrap_socket(conn, server_side=True):
                            pass
                    else:
                        conn.recv(4096)
                        conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                except OSError:  # the client refused our certificate, or hung up
                    pass

    def close(self) -> None:
        self._sock.close()
        self._thread.join(5)


def test_https_to_a_plain_http_server_fails_at_once_naming_tls(
    enkrypt_server: Any, counted: CountingTransport, waits: pytest.LogCaptureFixture
) -> None:
    """WRONG_VERSION_NUMBER never goes away on retry: one attempt, and a message that points at the scheme."""
    port = int(enkrypt_server.url.rsplit(":", 1)[1])
    url = f"https://127.0.0.1:{port}"
    with EnkryptClient(url, API_KEY, max_attempts=6, backoff_base=0.01, backoff_max=0.05, transport=counted) as c:
        for call, path in [(c.list_models, "/models/list-models"), (lambda: c.add_model(secret_body()), PATH_ADD)]:
            with pytest.raises(EnkryptConnectionError) as info:
                call()
            exc = info.value
            assert "TLS" in str(exc) and f"{url}{path}" in str(exc)
            assert f"enkrypt:baseUrl (or ENKRYPTAI_BASE_URL) meant to be http://127.0.0.1:{port}?" in str(exc)
            assert exc.attempts == 1 and not exc.maybe_committed
            assert not isinstance(exc, EnkryptMaybeCommittedError)
            assert_clean(exc)
        assert (counted.attempts, logged_waits(waits)) == (2, [])  # two calls, one attempt each
    # The same scheme mix-up, counted on the listener's side: one connection, not max_attempts.
    listener = CountingListener()
    try:
        with (
            EnkryptClient(
                f"https://127.0.0.1:{listener.port}", API_KEY, max_attempts=6, backoff_base=0.01, backoff_max=0.05
            ) as c,
            pytest.raises(EnkryptConnectionError) as info,
        ):
            c.get_model("Test Model", "v1")
        assert "did not speak TLS" in str(info.value)
        assert listener.connections == 1
    finally:
        listener.close()


# A throwaway self-signed certificate for 127.0.0.1 (EC P-256, valid until 2126): no client trusts it.
SELF_SIGNED_KEY = """-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgxmrFKjJLnVJvu4LV
YyNIYAsoC+bW66+ixthM4dkF5buhRANCAASr4iixUU/xog759zkb1QfQ4J7+byT7
WK1lgG1AiuiONwndoP3pDxguABEvZr5F8fqSrwyp+qslR1euUjG67/Me
-----END PRIVATE KEY-----
"""
SELF_SIGNED_CERT = """-----BEGIN CERTIFICATE-----
MIIBkDCCATagAwIBAgIUBOdpJfdPD8iAqVNzAERsaGA9Fb0wCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJMTI3LjAuMC4xMCAXDTI2MTEyMzEzMzIyOFoYDzIxMjYxMDMw
MTMzMjI4WjAUMRIwEAYDVQQDDAkxMjcuMC4wLjEwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAASr4iixUU/xog759zkb1QfQ4J7+byT7WK1lgG1AiuiONwndoP3pDxgu
ABEvZr5F8fqSrwyp+qslR1euUjG67/Meo2QwYjAdBgNVHQ4EFgQU9qbWhlr0FI55
r+myoZGTGCADHOowHwYDVR0jBBgwFoAU9qbWhlr0FI55r+myoZGTGCADHOowDwYD
VR0TAQH/BAUwAwEB/zAPBgNVHREECDAGhwR/AAABMAoGCCqGSM49BAMCA0gAMEUC
IBkvIiX9mHv+TpGhbpWrnP1T87hTC92e7ttud5yIlxkUAiEAlfGRlHBYtXhmfoCM
waeXpfNuP4zZ2ursIXIEzeV4YBA=
-----END CERTIFICATE-----
"""


def test_a_rejected_certificate_fails_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    (tmp_path / "key.pem").write_text(SELF_SIGNED_KEY)
    (tmp_path / "cert.pem").write_text(SELF_SIGNED_CERT)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    listener = CountingListener(tls)
    url = f"https://127.0.0.1:{listener.port}"
    try:
        with (
            EnkryptClient(url, API_KEY, max_attempts=6, backoff_base=0.01, backoff_max=0.05) as c,
            pytest.raises(EnkryptConnectionError) as info,
        ):
            c.get_model("Test Model", "v1")
        exc = info.value
        assert "TLS failed: the certificate of the server at" in str(exc) and f"{url}/models/get-model" in str(exc)
        assert "certificate verify failed" in str(exc) and "enkrypt:baseUrl" in str(exc)
        assert exc.attempts == 1 and listener.connections == 1
        assert_clean(exc)
    finally:
        listener.close()


# ---------------------------------------------------------------------------------------------------------
# Secrets never leak
# ---------------------------------------------------------------------------------------------------------


def test_conflict_echoing_secrets_is_scrubbed(
    server: FaultServer, client: EnkryptClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    echoed = (
        f"Model exists with apikeys [{SECRET_APIKEY}], header {SECRET_HEADER!r}, jwt "
        f"{json.dumps({'jwt_body': SECRET_JWT})}, aws {SECRET_AWS}, your key {API_KEY}\nsecond line"
    )
    server.push(Reply(409, {"message": echoed, "request_id": "req-9"}))
    with pytest.raises(EnkryptConflictError) as info:
        client.modify_model("Test Model", "v1", secret_body())
    exc = info.value
    assert (exc.status, exc.request_id, exc.method, exc.path) == (409, "req-9", "PATCH", "/models/modify-model")
    assert str(exc).startswith("Enkrypt API: PATCH /models/modify-model -> 409 Conflict: Model exists with")
    assert str(exc).endswith("(request_id req-9)")
    assert exc.message.count("[secret]") == 5
    assert_clean(exc)
    for secret in ALL_SECRETS:
        assert secret not in caplog.text
        assert secret not in exc.message


def test_extra_secrets_are_scrubbed_too(server: FaultServer) -> None:
    server.push(Reply(400, {"message": "bad value other-secret-value and ctor-secret-value"}))
    with (
        EnkryptClient(server.url, API_KEY, secrets=["ctor-secret-value"]) as c,
        pytest.raises(EnkryptValidationError) as info,
    ):
        c.add_model({"model_saved_name": "x"}, secrets=["other-secret-value"])
    assert str(info.value).count("[secret]") == 2


def test_api_key_never_appears_in_repr_or_logs(
    server: FaultServer, client: EnkryptClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server.push(Reply(503, {"message": "busy"}, {"Retry-After": "0"}), Reply(200, {"models": []}))
    client.list_models()
    assert "retrying" in caplog.text  # our own log line is there ...
    assert API_KEY not in caplog.text  # ... and httpx's, without the key
    assert API_KEY not in repr(client) and "api_key=***" in repr(client)
    assert API_KEY not in repr(client._http.headers)
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(client)


def test_secret_values_follow_the_contract_paths() -> None:
    body = secret_body()
    body["model_config"]["auth_data"]["gcp_service_account_json"] = {"private_key": "-----KEY-----"}
    body["model_config"]["custom_curl_command"] = "curl -H 'x: curl-token'"
    body["model_config"]["apikeys"].append("abc")  # shorter than 4: not scrubbed (would garble messages)
    found = secret_values(body, ["extra-1"])
    assert found == {
        SECRET_APIKEY,
        SECRET_HEADER,
        SECRET_JWT,
        "https://auth.example.com/token",  # the whole model_jwt_config is secret
        SECRET_AWS,
        "-----KEY-----",
        "curl -H 'x: curl-token'",
        "extra-1",
    }
    assert "X-Auth" not in found and "Authorization" not in found
    assert scrub('say "a\\"b" a"b', ['a"b']) == 'say "[secret]" [secret]'


# ---------------------------------------------------------------------------------------------------------
# Threads and construction
# ---------------------------------------------------------------------------------------------------------


def test_one_client_shared_by_threads(server: FaultServer, client: EnkryptClient, counted: CountingTransport) -> None:
    server.default = Reply(200, {"models": []})
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(10):
                client.list_models()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(server.seen) == 40
    assert counted.attempts == 40 and counted.statuses == [200] * 40  # 40 calls, one attempt each


def test_constructor_checks() -> None:
    with pytest.raises(ValueError, match="http"):
        EnkryptClient("ftp://example.com", API_KEY)
    with pytest.raises(ValueError, match="credentials"):
        EnkryptClient("https://user:pw@example.com", API_KEY)
    with pytest.raises(ValueError, match="empty"):
        EnkryptClient("https://example.com", " ")
    with pytest.raises(ValueError) as info:
        EnkryptClient("https://example.com", "kéy-with-accent")
    assert "kéy" not in str(info.value)
    with EnkryptClient("https://example.com/", API_KEY, timeout=2.0) as c:
        assert c.base_url == "https://example.com"
        assert c.timeout.connect == 2.0 and c.timeout.read == 2.0
    with EnkryptClient("https://example.com", API_KEY) as c:
        assert c.timeout.connect == 5.0 and c.timeout.read == 30.0


def test_parse_retry_after() -> None:
    now = datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone.utc)
    assert parse_retry_after("7", now=now) == 7.0
    assert parse_retry_after(" 1.5 ", now=now) == 1.5
    assert parse_retry_after("Wed, 01 May 2024 12:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("Wed, 01 May 2024 11:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("-3", now=now) is None
    assert parse_retry_after("soon", now=now) is None
    assert parse_retry_after(None) is None
    assert parse_retry_after("") is None


# ---------------------------------------------------------------------------------------------------------
# The happy path against the team's local Enkrypt server
# ---------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def enkrypt_server() -> Iterator[Any]:
    process = pytest.importorskip("pulumi_enkrypt.server.process", reason="local Enkrypt server not ready yet")
    with process.start_server(":memory:", [API_KEY]) as srv:
        yield srv


def test_happy_path_against_the_local_enkrypt_server(enkrypt_server: Any, counted: CountingTransport) -> None:
    enkrypt_server.admin_config(rate_429=0.0, rate_5xx=0.0, rate_drop=0.0)
    with EnkryptClient(enkrypt_server.url, API_KEY, backoff_base=0.01, backoff_max=0.05, transport=counted) as c:
        body = secret_body("Happy Path", "v1")
        created = c.add_model(body)
        assert created["model_saved_name"] == "Happy Path" and "model_id" in created
        got = c.get_model("Happy Path", "v1")
        assert got["model_id"] == created["model_id"]
        assert any(m["model_saved_name"] == "Happy Path" for m in c.list_models())
        with pytest.raises(EnkryptConflictError) as info:
            c.add_model(body)
        assert info.value.status == 409 and not info.value.maybe_committed
        assert_clean(info.value)
        renamed = {**body, "model_version": "v2"}
        modified = c.modify_model("Happy Path", "v1", renamed)
        assert modified["model_version"] == "v2" and modified["model_id"] == created["model_id"]
        assert c.find_model("Happy Path", "v1") is None
        c.delete_model("Happy Path", "v2")
        assert c.find_model("Happy Path", "v2") is None
        with pytest.raises(EnkryptNotFoundError):
            c.delete_model("Happy Path", "v2")
        c.delete_model("Happy Path", "v2", missing_ok=True)
        assert counted.attempts == 10  # the ten calls above, none retried
    with EnkryptClient(enkrypt_server.url, "wrong-key-0000") as bad, pytest.raises(EnkryptAuthError) as info2:
        bad.list_models()
    assert info2.value.status == 401 and info2.value.attempts == 1


def test_read_back_after_the_local_server_commits_then_drops(enkrypt_server: Any) -> None:
    """The server's "drop" fault commits the write and then closes the connection unanswered."""
    body = secret_body("Dropped Add", "v1")
    with EnkryptClient(enkrypt_server.url, API_KEY, backoff_base=0.01, backoff_max=0.05) as c:
        enkrypt_server.admin_config(rate_drop=1.0)
        try:
            with pytest.raises(EnkryptMaybeCommittedError):
                c.add_model(body)
        finally:
            enkrypt_server.admin_config(rate_drop=0.0)
        found = c.find_model("Dropped Add", "v1")
        assert found is not None and found["model_name"] == body["model_name"]
        assert found["model_config"]["apikeys"] in ([SECRET_APIKEY], ["********"])
        c.delete_model("Dropped Add", "v1")


def test_retry_after_from_the_local_server(enkrypt_server: Any, counted: CountingTransport) -> None:
    with EnkryptClient(enkrypt_server.url, API_KEY, max_attempts=2, backoff_base=0.01, transport=counted) as c:
        enkrypt_server.admin_config(rate_429=1.0, retry_after=1)
        started = time.monotonic()
        try:
            with pytest.raises(EnkryptRateLimitError) as info:
                c.list_models()
        finally:
            enkrypt_server.admin_config(rate_429=0.0)
        assert time.monotonic() - started >= 1.0
        assert (info.value.attempts, info.value.retry_after, counted.statuses) == (2, 1.0, [429, 429])


def test_httpx_transport_errors_all_map_to_enkrypt_errors() -> None:
    """A custom transport (no socket) raising each httpx.TransportError kind yields an EnkryptConnectionError."""

    class Failing(httpx.BaseTransport):
        def __init__(self, exc: Exception) -> None:
            self.exc = exc
            self.calls = 0

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            self.calls += 1
            raise self.exc

    for exc, sent in [
        (httpx.ConnectError("refused"), False),
        (httpx.ConnectTimeout("slow connect"), False),
        (httpx.PoolTimeout("pool"), False),
        (httpx.WriteError("broken pipe"), True),
        (httpx.ReadError("reset"), True),
        (httpx.RemoteProtocolError("Server disconnected"), True),
    ]:
        transport = Failing(exc)
        with EnkryptClient(
            "https://api.example.invalid", API_KEY, transport=transport, max_attempts=2, backoff_base=0.0
        ) as c:
            with pytest.raises(EnkryptConnectionError) as info:
                c.add_model(secret_body())
            assert isinstance(info.value, EnkryptMaybeCommittedError) is sent
            assert transport.calls == (1 if sent else 2)
            with pytest.raises(EnkryptConnectionError) as info:
                c.list_models()
            assert not isinstance(info.value, EnkryptMaybeCommittedError)
