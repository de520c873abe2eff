"""The client's retry policy: which failures are retried for reads and for writes, how long to wait, and
the ``tenacity`` loop that does it (bounded by ``max_attempts``).

* Connection failures that happen before the request left this process (``ConnectError``,
  ``ConnectTimeout``, ``PoolTimeout``) are retried for every call -- except a failed TLS handshake (wrong
  scheme, rejected certificate), which fails at once: it would fail the same way on every retry.
* ``429`` and ``503`` are retried for every call: the server says it did not process the request.  Their
  ``Retry-After`` (seconds or HTTP-date) is a floor for the wait, never shortened; if it is longer than
  ``max_retry_after`` the client gives up at once rather than call early.
* Other outcomes where the request was sent but its effect is unknown -- the connection broke or timed
  out after sending, or a 5xx other than 503 (``500``, ``502``, ``504``: a gateway may lose the answer of
  an upstream that did commit) -- are retried for reads and deletes (idempotent).  For writes (``add_model``,
  ``modify_model``) they are **not** retried unless the call passes ``retry_writes_on_disconnect=True``:
  by default the client raises ``EnkryptMaybeCommittedError`` at once, so the caller can read the
  model back and compare.  With ``retry_writes_on_disconnect=True`` the client retries, and if the call
  still fails, the final error has ``maybe_committed=True`` (e.g. a ``409`` on the retry of an ``add``
  whose first attempt did commit).
* Between attempts: full-jitter exponential back-off (``backoff_base`` doubling up to ``backoff_max``),
  never shorter than a ``Retry-After``.  Each wait is logged at INFO (logger ``pulumi_enkrypt.client``).
"""

from __future__ import annotations

import email.utils
import enum
import logging
import random
import re
import ssl
import time
from datetime import datetime, timezone
from typing import Final

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt
from tenacity.stop import stop_base

from ._exceptions import EnkryptError

__all__ = [
    "NOT_SENT_ERRORS",
    "RETRY_LATER_STATUSES",
    "RetryableFailure",
    "Verdict",
    "after_status",
    "after_transport_error",
    "parse_retry_after",
    "permanent_tls_error",
    "retrying",
]

# The log lines are the public client's, whichever module writes them.
log = logging.getLogger("pulumi_enkrypt.client")

NOT_SENT_ERRORS: Final = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
"""Transport errors raised before any byte of the request was sent: always safe to retry."""
# TLS errors that mean the connection broke mid-handshake (worth a retry), unlike a protocol or certificate
# mismatch, which fails identically on every attempt.
_TRANSIENT_SSL_ERRORS: Final = (ssl.SSLEOFError, ssl.SSLZeroReturnError, ssl.SSLSyscallError)
RETRY_LATER_STATUSES: Final = frozenset({429, 503})
"""Statuses meaning "not processed, try later": retried for every method, Retry-After honoured."""


class Verdict(enum.Enum):
    """What to do after one attempt."""

    OK = "ok"
    FAIL = "fail"  # a final answer: not retried
    RETRY = "retry"
    RETRY_MAYBE_COMMITTED = "retry, and a failure of the call may follow a write that landed"
    MAYBE_COMMITTED = "stop: a write was sent and its outcome is unknown"


def permanent_tls_error(exc: httpx.TransportError) -> ssl.SSLError | None:
    """The TLS error behind a failed connect that every retry would meet again (a refused certificate, a
    server that does not speak TLS), else None."""
    if not isinstance(exc, httpx.ConnectError):
        return None
    tls = _ssl_cause(exc)
    return None if tls is None or isinstance(tls, _TRANSIENT_SSL_ERRORS) else tls


def _ssl_cause(exc: BaseException) -> ssl.SSLError | None:
    """The ``ssl.SSLError`` behind an httpx error (httpx wraps httpcore's error, which wraps the ssl one)."""
    todo: list[BaseException] = [exc]
    seen: set[int] = set()
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ssl.SSLError):
            return current
        todo.extend(e for e in (current.__cause__, current.__context__, *current.args) if isinstance(e, BaseException))
    return None


def _unknown_write_outcome(*, write: bool, retry_writes: bool) -> Verdict:
    if not write:
        return Verdict.RETRY  # reads and deletes are idempotent
    return Verdict.RETRY_MAYBE_COMMITTED if retry_writes else Verdict.MAYBE_COMMITTED


def after_transport_error(exc: httpx.TransportError, *, write: bool, retry_writes: bool) -> Verdict:
    """The verdict on an attempt that failed in transport."""
    if permanent_tls_error(exc) is not None:
        return Verdict.FAIL
    if isinstance(exc, NOT_SENT_ERRORS):
        return Verdict.RETRY
    return _unknown_write_outcome(write=write, retry_writes=retry_writes)


def after_status(status: int, *, write: bool, retry_writes: bool) -> Verdict:
    """The verdict on an attempt the server answered with ``status``."""
    if 200 <= status < 300:
        return Verdict.OK
    if status in RETRY_LATER_STATUSES:
        return Verdict.RETRY
    if status >= 500:
        return _unknown_write_outcome(write=write, retry_writes=retry_writes)
    return Verdict.FAIL


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta-seconds or HTTP-date); ``None`` if absent/bad."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    current = now or datetime.now(timezone.utc)
    return max(0.0, (when - current).total_seconds())


class RetryableFailure(Exception):
    """An attempt failed in a way worth retrying; ``error`` is raised if the retries run out."""

    def __init__(self, error: EnkryptError, retry_after: float | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after


class _stop_if_retry_after_too_long(stop_base):
    def __init__(self, limit: float) -> None:
        self.limit = limit

    def __call__(self, retry_state: RetryCallState) -> bool:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        return isinstance(exc, RetryableFailure) and exc.retry_after is not None and exc.retry_after > self.limit


def retrying(*, max_attempts: int, max_retry_after: float, backoff_base: float, backoff_max: float) -> Retrying:
    """A tenacity loop that retries :class:`RetryableFailure` by the policy above, and re-raises it at the end."""

    def wait(retry_state: RetryCallState) -> float:
        """Full-jitter exponential back-off, never shorter than a Retry-After."""
        n = retry_state.attempt_number  # attempts made so far (>= 1)
        ceiling = min(backoff_max, backoff_base * (2 ** (n - 1)))
        seconds = random.uniform(0.0, ceiling)
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(exc, RetryableFailure) and exc.retry_after is not None:
            # The stop condition has already given up when retry_after > max_retry_after.
            seconds = max(seconds, exc.retry_after)
        return seconds

    def before_sleep(retry_state: RetryCallState) -> None:
        seconds = retry_state.next_action.sleep if retry_state.next_action else 0.0
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(exc, RetryableFailure):
            err = exc.error
            outcome = str(err.status) if err.status is not None else "connection failure"
            log.info(
                "Enkrypt API: %s %s -> %s; retrying in %.2f s (attempt %d of %d)",
                err.method,
                err.path,
                outcome,
                seconds,
                retry_state.attempt_number + 1,
                max_attempts,
            )

    return Retrying(
        stop=stop_after_attempt(max_attempts) | _stop_if_retry_after_too_long(max_retry_after),
        wait=wait,
        retry=retry_if_exception_type(RetryableFailure),
        before_sleep=before_sleep,
        reraise=True,
        sleep=time.sleep,
    )
