"""Fault injection for the API routes of every kind: latency, 429s, 5xx, dropped connections and a per-key rpm
limit.

Every authenticated API request draws the same four numbers from one seeded ``random.Random``, whatever
faults are switched on, so a sequential test sees the same faults on every run with the same seed.
"""

from __future__ import annotations

import asyncio
import math
import random
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pulumi_enkrypt._api import API_KEY_HEADER
from pulumi_enkrypt.kinds import Kind

FaultKind = Literal["latency", "429", "5xx", "drop", "rpm"]
FAULT_KINDS: tuple[FaultKind, ...] = ("latency", "429", "5xx", "drop", "rpm")
_5XX_CODES = (500, 502, 503, 504)
_WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})


def fault_paths(kinds: Iterable[Kind]) -> frozenset[str]:
    """Where faults strike: the calls of every kind served (never the admin path or the OpenAPI document)."""
    return frozenset().union(*(kind.api.paths for kind in kinds))


@dataclass(frozen=True)
class FaultSettings:
    latency_ms: int = 0
    rate_429: float = 0.0
    retry_after: int = 1
    rate_5xx: float = 0.0
    rate_drop: float = 0.0
    rpm_limit: int = 0  # 0: no limit
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Verdict:
    kind: FaultKind | None = None
    status: int = 200
    retry_after: int | None = None


class FaultInjector:
    def __init__(self, settings: FaultSettings, clock: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._settings = settings
        self._rng = random.Random(settings.seed)
        self._windows: dict[str, deque[float]] = {}

    @property
    def settings(self) -> FaultSettings:
        return self._settings

    def configure(self, settings: FaultSettings) -> None:
        """Replace the settings; the random sequence restarts from the (possibly same) seed."""
        with self._lock:
            self._settings = settings
            self._rng = random.Random(settings.seed)
            self._windows.clear()

    def decide(self, api_key: str) -> Verdict:
        with self._lock:
            s = self._settings
            if s.rpm_limit > 0:
                now = self._clock()
                window = self._windows.setdefault(api_key, deque())
                while window and window[0] <= now - 60.0:
                    window.popleft()
                if len(window) >= s.rpm_limit:
                    return Verdict("rpm", 429, max(1, math.ceil(window[0] + 60.0 - now)))
                window.append(now)
            u429, u5xx, udrop, ucode = (self._rng.random() for _ in range(4))
        if u429 < s.rate_429:
            return Verdict("429", 429, s.retry_after)
        if u5xx < s.rate_5xx:
            return Verdict("5xx", _5XX_CODES[int(ucode * len(_5XX_CODES))])
        if udrop < s.rate_drop:
            return Verdict("drop")
        return Verdict()


@dataclass
class Stats:
    requests: dict[str, int] = field(default_factory=dict)
    faults: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FAULT_KINDS, 0))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def count_request(self, method: str, path: str) -> None:
        with self._lock:
            key = f"{method} {path}"
            self.requests[key] = self.requests.get(key, 0) + 1

    def count_fault(self, kind: FaultKind) -> None:
        with self._lock:
            self.faults[kind] += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"requests": dict(self.requests), "faults": dict(self.faults)}

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.faults = dict.fromkeys(FAULT_KINDS, 0)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


async def _discard(message: Message) -> None:
    return None


async def _drop_connection(send: Send) -> None:
    """Close the TCP connection with no response at all.

    uvicorn's ASGI ``send`` is a bound method of its request cycle, which holds the transport: aborting it
    is the one way to make the client see a bare disconnect. Waiting for ``disconnected`` stops uvicorn
    from then trying to write its own 500.
    """
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is not None and hasattr(transport, "abort"):
        transport.abort()
        for _ in range(50):
            if getattr(cycle, "disconnected", True):
                return
            await asyncio.sleep(0)
        return
    # Another server: promise a body that never comes, which the client also sees as a broken response.
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"4096")]})
    await send({"type": "http.response.body", "body": b"", "more_body": False})


class FaultMiddleware:
    """Outermost ASGI layer: counts every request, injects faults on ``fault_paths`` (Enkrypt's calls) only."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        injector: FaultInjector,
        stats: Stats,
        fault_paths: frozenset[str],
        known_key: Callable[[str], bool],
    ) -> None:
        self.app = app
        self.injector = injector
        self.stats = stats
        self.fault_paths = fault_paths
        self.known_key = known_key

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        self.stats.count_request(scope["method"], path)
        if path not in self.fault_paths:
            await self.app(scope, receive, send)
            return
        latency = self.injector.settings.latency_ms
        if latency > 0:
            self.stats.count_fault("latency")
            await asyncio.sleep(latency / 1000.0)
        key = _header(scope, API_KEY_HEADER.encode())
        if key is None or not self.known_key(key):
            await self.app(scope, receive, send)  # the app answers 401: no faults for strangers
            return
        verdict = self.injector.decide(key)
        if verdict.kind == "drop" and scope["method"] not in _WRITE_METHODS:
            verdict = Verdict()  # "commit, then drop" is a fault of writes only
        if verdict.kind is None:
            await self.app(scope, receive, send)
            return
        self.stats.count_fault(verdict.kind)
        if verdict.kind == "drop":
            await self.app(scope, receive, _discard)  # the write commits; the answer is lost
            await _drop_connection(send)
            return
        headers = {"Retry-After": str(verdict.retry_after)} if verdict.retry_after is not None else None
        message = "Too Many Requests" if verdict.status == 429 else "Service temporarily unavailable"
        body = {"message": message, "request_id": uuid.uuid4().hex}
        await JSONResponse(body, status_code=verdict.status, headers=headers)(scope, receive, send)
