"""HTTP client for Enkrypt AI's models API (``/models/*``).

One :class:`EnkryptClient` wraps one :class:`httpx.Client`; it is safe to share between threads (the dynamic
provider's four gRPC workers share one provider object).  Methods return plain JSON (``dict``): validating the
shape is the caller's job.

Retries (done by ``tenacity``, bounded by ``max_attempts``):

* connection failures that happen before the request left this process (``ConnectError``,
  ``ConnectTimeout``, ``PoolTimeout``) are retried for every call -- except a failed TLS handshake (wrong
  scheme, rejected certificate), which fails at once: it would fail the same way on every retry;
* ``429`` and ``503`` are retried for every call: the server says it did not process the request.  Their
  ``Retry-After`` (seconds or HTTP-date) is a floor for the wait, never shortened; if it is longer than
  ``max_retry_after`` the client gives up at once rather than call early;
* other outcomes where the request was sent but its effect is unknown -- the connection broke or timed
  out after sending, or a 5xx other than 503 (``500``, ``502``, ``504``: a gateway may lose the answer of
  an upstream that did commit) -- are retried for reads and deletes (idempotent).  For writes (``add_model``,
  ``modify_model``) they are **not** retried unless the call passes ``retry_writes_on_disconnect=True``:
  by default the client raises :class:`EnkryptMaybeCommittedError` at once, so the caller can read the
  model back and compare.  With ``retry_writes_on_disconnect=True`` the client retries, and if the call
  still fails, the final error has ``maybe_committed=True`` (e.g. a ``409`` on the retry of an ``add``
  whose first attempt did commit).

Recipe for the provider (``add``; ``modify`` is the same with the NEW identity)::

    try:
        out = client.add_model(body)
    except EnkryptMaybeCommittedError:
        out = client.find_model(name, version)   # reads are retried freely
        if out is None or not same_as_sent(out, body):
            raise                                # not applied (or applied differently): fail loudly
    # success: `out` is what the server holds

A transport failure's message names the URL tried (base URL + path; base URLs hold no credentials or
query).  The API key travels only in the ``apikey`` header set by an :class:`httpx.Auth` hook; it is never
part of a message, ``repr`` or log line, and request bodies are never put into errors.  Server messages that echo
secret values of the request body (see :func:`secret_values`) are scrubbed to ``[secret]``.
"""

from __future__ import annotations

import email.utils
import functools
import json
import logging
import random
import re
import ssl
import threading
import time
from collections.abc import Generator, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from http import HTTPStatus
from typing import Any, Final

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt
from tenacity.stop import stop_base

from ._version import __version__
from .secrets import secret_strings
from .settings import DEFAULT_TIMEOUT_SECONDS, ENV_BASE_URL, KEY_BASE_URL, NAMESPACE

__all__ = [
    "DEFAULT_TIMEOUT",
    "ClientStats",
    "EnkryptAuthError",
    "EnkryptClient",
    "EnkryptConflictError",
    "EnkryptConnectionError",
    "EnkryptError",
    "EnkryptMaybeCommittedError",
    "EnkryptNotFoundError",
    "EnkryptRateLimitError",
    "EnkryptServerError",
    "EnkryptValidationError",
    "FieldError",
    "parse_retry_after",
    "scrub",
    "secret_values",
]

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT: Final = httpx.Timeout(DEFAULT_TIMEOUT_SECONDS, connect=5.0)
SECRET_PLACEHOLDER: Final = "[secret]"
MIN_SECRET_LENGTH: Final = 4
_MAX_MESSAGE_CHARS: Final = 500
_MAX_FIELD_ERRORS: Final = 5

PATH_ADD: Final = "/models/add-model"
PATH_GET: Final = "/models/get-model"
PATH_LIST: Final = "/models/list-models"
PATH_MODIFY: Final = "/models/modify-model"
PATH_DELETE: Final = "/models/delete-model"

HEADER_MODEL: Final = "X-Enkrypt-Model"
HEADER_VERSION: Final = "X-Enkrypt-Model-Version"
HEADER_REFRESH: Final = "X-Enkrypt-Refresh-Cache"

# Transport errors raised before any byte of the request was sent: always safe to retry.
_NOT_SENT_ERRORS: Final = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# TLS errors that mean the connection broke mid-handshake (worth a retry), unlike a protocol or certificate
# mismatch, which fails identically on every attempt.
_TRANSIENT_SSL_ERRORS: Final = (ssl.SSLEOFError, ssl.SSLZeroReturnError, ssl.SSLSyscallError)
# OpenSSL reasons for "the peer answered something that is not TLS" (typically plain HTTP).
_NOT_TLS_REASONS: Final = frozenset(
    {"WRONG_VERSION_NUMBER", "UNKNOWN_PROTOCOL", "PACKET_LENGTH_TOO_LONG", "RECORD_LAYER_FAILURE", "HTTP_REQUEST"}
)
_BASE_URL_SETTING: Final = f"{NAMESPACE}:{KEY_BASE_URL}"
# Statuses meaning "not processed, try later": retried for every method, Retry-After honoured.
_RETRY_LATER_STATUSES: Final = frozenset({429, 503})


# ----------------------------------------------------------------------------------------------------
# Errors
# ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldError:
    """One item of an error body's ``errors`` (or FastAPI ``detail``) array; submitted values are dropped."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class EnkryptError(Exception):
    """Base class of every error the client raises. ``str(exc)`` is one line, free of secrets."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        request_id: str | None = None,
        method: str | None = None,
        path: str | None = None,
        attempts: int = 1,
        maybe_committed: bool = False,
        detail: str | None = None,
    ) -> None:
        self.status = status
        self.message = message
        self.request_id = request_id
        self.method = method
        self.path = path
        self.attempts = attempts
        # True when a write may have been applied by the server although this call failed.
        self.maybe_committed = maybe_committed
        self.detail = detail
        super().__init__(self._format())

    def _format(self) -> str:
        where = f"{self.method} {self.path}" if self.method and self.path else "request"
        if self.status is not None:
            try:
                phrase = HTTPStatus(self.status).phrase
            except ValueError:
                phrase = ""
            outcome = f"{self.status} {phrase}".rstrip()
        else:
            outcome = "failed"
        line = f"Enkrypt API: {where} -> {outcome}: {self.message}"
        extras = []
        if self.detail:
            extras.append(self.detail)
        if self.attempts > 1:
            extras.append(f"after {self.attempts} attempts")
        if self.maybe_committed:
            extras.append("the write may have been applied")
        if self.request_id:
            extras.append(f"request_id {self.request_id}")
        if extras:
            line += f" ({'; '.join(extras)})"
        return line


class EnkryptAuthError(EnkryptError):
    """401 or 403: missing, wrong or insufficient API key."""


class EnkryptNotFoundError(EnkryptError):
    """404: no model with that (name, version)."""


class EnkryptConflictError(EnkryptError):
    """409: duplicate (name, version) on create, or a delete refused because a deployment uses the model."""


class EnkryptValidationError(EnkryptError):
    """400 or 422 from the server, or a value the client refused to send (``status`` is then ``None``)."""

    def __init__(self, message: str, *, field_errors: Iterable[FieldError] = (), **kwargs: Any) -> None:
        self.field_errors: list[FieldError] = list(field_errors)
        if self.field_errors and not kwargs.get("detail"):
            shown = "; ".join(str(e) for e in self.field_errors[:_MAX_FIELD_ERRORS])
            more = len(self.field_errors) - _MAX_FIELD_ERRORS
            kwargs["detail"] = f"fields: {shown}" + (f"; and {more} more" if more > 0 else "")
        super().__init__(message, **kwargs)


class EnkryptRateLimitError(EnkryptError):
    """429 after the retries were exhausted (or a ``Retry-After`` longer than ``max_retry_after``)."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kwargs)


class EnkryptServerError(EnkryptError):
    """5xx after the retries were exhausted."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kwargs)


class EnkryptConnectionError(EnkryptError):
    """The request failed in transport (connect, TLS, timeout, dropped connection) after the retries."""


class EnkryptMaybeCommittedError(EnkryptConnectionError):
    """A write (add, modify) was sent but its outcome is unknown; it was not retried.

    Raised when the connection broke or timed out after the request was sent, or the server answered
    500/502/504, and the call did not pass ``retry_writes_on_disconnect=True``.  ``status`` is the HTTP status
    for a 5xx, ``None`` for a transport failure.  The caller should read the model back and compare.
    """


_STATUS_ERRORS: Final[dict[int, type[EnkryptError]]] = {
    400: EnkryptValidationError,
    401: EnkryptAuthError,
    403: EnkryptAuthError,
    404: EnkryptNotFoundError,
    409: EnkryptConflictError,
    422: EnkryptValidationError,
    429: EnkryptRateLimitError,
}


# ----------------------------------------------------------------------------------------------------
# Secrets and scrubbing
# ----------------------------------------------------------------------------------------------------


def secret_values(body: Any, extra: Iterable[str] = ()) -> set[str]:
    """Every string of length >= 4 found under a secret path of ``body``, plus ``extra``."""
    found = set(secret_strings(body)) if isinstance(body, Mapping) else set()
    found.update(s for s in extra if isinstance(s, str))
    return {s for s in found if len(s) >= MIN_SECRET_LENGTH}


class _LazySecrets:
    """The strings to scrub from messages, collected on first use: only an error message needs them, and
    collecting them on every request costs about a tenth of a call."""

    def __init__(self, body: Any, extra: Iterable[str], api_key: str) -> None:
        self._body, self._extra, self._api_key = body, extra, api_key

    @functools.cached_property
    def _values(self) -> set[str]:
        return secret_values(self._body, self._extra) | {self._api_key}

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)


def scrub(text: str, secrets: Iterable[str]) -> str:
    """Replace each secret (and its JSON-escaped form) in ``text`` with ``[secret]``, longest first."""
    variants: set[str] = set()
    for s in secrets:
        if not s:
            continue
        variants.add(s)
        escaped = json.dumps(s)[1:-1]
        if escaped != s:
            variants.add(escaped)
    for s in sorted(variants, key=len, reverse=True):
        text = text.replace(s, SECRET_PLACEHOLDER)
    return text


def _one_line(text: str, limit: int = _MAX_MESSAGE_CHARS) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else text[: limit - 3] + "..."


# ----------------------------------------------------------------------------------------------------
# Retry-After
# ----------------------------------------------------------------------------------------------------


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


# ----------------------------------------------------------------------------------------------------
# Stats
# ----------------------------------------------------------------------------------------------------


class ClientStats:
    """Thread-safe counters. Read attributes directly or take a consistent :meth:`snapshot`."""

    _FIELDS: Final = (
        "calls",
        "attempts",
        "retries",
        "rate_limited",
        "server_errors",
        "transport_errors",
        "waits",
        "retry_after_waits",
        "maybe_committed",
    )

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.calls = 0  # logical API calls (one per method invocation that sent something)
        self.attempts = 0  # HTTP requests tried
        self.retries = 0  # attempts after the first
        self.rate_limited = 0  # 429 responses seen
        self.server_errors = 0  # 5xx responses seen
        self.transport_errors = 0  # httpx transport failures seen
        self.waits = 0  # back-off sleeps
        self.retry_after_waits = 0  # sleeps whose length a Retry-After header decided
        self.wait_seconds = 0.0  # total time slept
        self.maybe_committed = 0  # EnkryptMaybeCommittedError raised or maybe_committed errors

    def add(self, **deltas: float) -> None:
        with self._lock:
            for name, delta in deltas.items():
                setattr(self, name, getattr(self, name) + delta)

    def snapshot(self) -> dict[str, float]:
        with self._lock:
            snap: dict[str, float] = {name: getattr(self, name) for name in self._FIELDS}
            snap["wait_seconds"] = self.wait_seconds
            return snap

    def reset(self) -> None:
        with self._lock:
            for name in self._FIELDS:
                setattr(self, name, 0)
            self.wait_seconds = 0.0

    def __repr__(self) -> str:
        return f"ClientStats({self.snapshot()})"


# ----------------------------------------------------------------------------------------------------
# Retry machinery (tenacity)
# ----------------------------------------------------------------------------------------------------


class _RetryableFailure(Exception):
    """Internal: an attempt failed in a way worth retrying; ``error`` is raised if the retries run out."""

    def __init__(self, error: EnkryptError, retry_after: float | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after


class _stop_if_retry_after_too_long(stop_base):
    def __init__(self, limit: float) -> None:
        self.limit = limit

    def __call__(self, retry_state: RetryCallState) -> bool:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        return isinstance(exc, _RetryableFailure) and exc.retry_after is not None and exc.retry_after > self.limit


class _ApiKeyAuth(httpx.Auth):
    """Adds the ``apikey`` header per request, so the key is not in the client's default headers."""

    def __init__(self, api_key: str) -> None:
        self._api_key = api_key

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["apikey"] = self._api_key
        yield request

    def __repr__(self) -> str:
        return "_ApiKeyAuth(api_key=***)"


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


def _transport_reason(exc: httpx.TransportError, url: str) -> str:
    """One line: the httpx error first (what callers match on), then the URL tried."""
    kind = f"{type(exc).__name__}: {exc}".rstrip(": .")
    if isinstance(exc, _NOT_SENT_ERRORS):
        return f"{kind}; could not connect to {url}"
    if isinstance(exc, httpx.TimeoutException):
        return f"{kind}; no answer in time from {url}"
    return f"{kind}; the connection to {url} broke"


def _tls_reason(error: ssl.SSLError, base_url: str, url: str) -> str:
    """Why the TLS handshake failed, and which setting to check."""
    text = re.sub(r"\s*\(_ssl\.c:\d+\)", "", str(error)) or type(error).__name__
    setting = f"{_BASE_URL_SETTING} (or {ENV_BASE_URL})"
    if isinstance(error, ssl.SSLCertVerificationError):
        return (
            f"TLS failed: the certificate of the server at {url} was rejected ({text}); check the host name in "
            f"{setting}, or trust the server's CA with SSL_CERT_FILE"
        )
    if getattr(error, "reason", None) in _NOT_TLS_REASONS:
        plain = "http://" + base_url.split("://", 1)[-1]
        return f"TLS failed: the server at {url} did not speak TLS ({text}); is {setting} meant to be {plain}?"
    return f"TLS handshake with {url} failed ({text}); check the scheme (http:// or https://) of {setting}"


def _header_value(field: str, header: str, value: str, method: str, path: str) -> bytes:
    """Encode an identity header value as latin-1, or raise EnkryptValidationError naming the field."""

    def refuse(reason: str) -> EnkryptValidationError:
        error = EnkryptValidationError(
            f"{field} {value!r} cannot be sent in the {header} header: {reason}",
            method=method,
            path=path,
            detail="not sent",
        )
        error.field_errors = [FieldError(field, reason)]
        return error

    if not isinstance(value, str):
        raise refuse(f"expected a string, got {type(value).__name__}")
    if not value:
        raise refuse("it is empty")
    if value != value.strip(" \t"):
        raise refuse("it has leading or trailing whitespace, which HTTP strips")
    for i, ch in enumerate(value):
        if ord(ch) > 0xFF:
            raise refuse(f"HTTP header values must be latin-1, and {ch!r} at position {i} is not")
        if (ord(ch) < 0x20 and ch != "\t") or ord(ch) == 0x7F:
            raise refuse(f"control character {ch!r} at position {i} is not allowed")
    return value.encode("latin-1")


# ----------------------------------------------------------------------------------------------------
# The client
# ----------------------------------------------------------------------------------------------------


class EnkryptClient:
    """Client for Enkrypt AI's models API. Thread-safe; use as a context manager or call :meth:`close`."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        max_attempts: int = 6,
        backoff_base: float = 0.25,
        backoff_max: float = 20.0,
        max_retry_after: float = 60.0,
        transport: httpx.BaseTransport | None = None,
        user_agent: str | None = None,
        secrets: Iterable[str] = (),
    ) -> None:
        base_url = base_url.strip().rstrip("/")
        parsed = httpx.URL(base_url)
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise ValueError(f"Enkrypt base URL must be an http(s) URL, got {base_url!r}")
        if parsed.userinfo:
            raise ValueError("Enkrypt base URL must not carry credentials (user:password@)")
        if not api_key or not api_key.strip():
            raise ValueError("Enkrypt API key is empty")
        if not api_key.strip().isascii() or not api_key.strip().isprintable():
            raise ValueError("Enkrypt API key must be printable ASCII (it is sent as an HTTP header)")
        if max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")
        if backoff_base < 0 or backoff_max < 0 or max_retry_after < 0:
            raise ValueError("backoff_base, backoff_max and max_retry_after must be >= 0")
        if not isinstance(timeout, httpx.Timeout):
            timeout = httpx.Timeout(float(timeout), connect=min(5.0, float(timeout)))

        self.base_url = base_url
        # What messages show: the base URL without query or fragment (settings refuses both anyway).
        self._shown_base_url = str(parsed.copy_with(query=None, fragment=None)).rstrip("/")
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.max_retry_after = max_retry_after
        self.timeout = timeout
        self.stats = ClientStats()
        self._api_key = api_key.strip()
        self._secrets = frozenset(s for s in secrets if isinstance(s, str) and s)
        self._http = httpx.Client(
            base_url=base_url,
            auth=_ApiKeyAuth(self._api_key),
            timeout=timeout,
            transport=transport,
            follow_redirects=False,  # a redirect must never carry the apikey header to another host
            headers={
                "User-Agent": user_agent or f"pulumi-enkrypt/{__version__} httpx/{httpx.__version__}",
                "Accept": "application/json",
            },
        )

    # -- lifecycle -------------------------------------------------------------------------------------------

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> EnkryptClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"EnkryptClient(base_url={self.base_url!r}, api_key=***)"

    def __reduce__(self) -> Any:
        # Pickled providers land in Pulumi state: a client (and its key) must never be pickled.
        raise TypeError("EnkryptClient holds credentials and cannot be pickled; create it in configure()")

    # -- API -------------------------------------------------------------------------------------------------

    def add_model(
        self,
        body: Mapping[str, Any],
        *,
        retry_writes_on_disconnect: bool = False,
        secrets: Iterable[str] = (),
    ) -> dict[str, Any]:
        """POST /models/add-model; returns the envelope's ``data`` (the created model)."""
        resp = self._request(
            "POST",
            PATH_ADD,
            body=body,
            write=True,
            retry_writes_on_disconnect=retry_writes_on_disconnect,
            secrets=secrets,
        )
        return self._model_from_envelope(resp, "POST", PATH_ADD)

    def get_model(self, name: str, version: str, *, refresh_cache: bool = True) -> dict[str, Any]:
        """GET /models/get-model; returns the bare model. Raises EnkryptNotFoundError on 404."""
        headers = self._identity_headers(name, version, "GET", PATH_GET)
        if refresh_cache:
            headers[HEADER_REFRESH] = b"true"
        resp = self._request("GET", PATH_GET, headers=headers)
        data = self._json(resp, "GET", PATH_GET)
        if isinstance(data, dict):
            inner = data.get("data")
            if "model_saved_name" not in data and isinstance(inner, dict):
                return inner  # tolerate an envelope, although the documented read is bare
            return data
        raise self._shape_error(resp, "GET", PATH_GET, "expected a JSON object")

    def find_model(self, name: str, version: str, *, refresh_cache: bool = True) -> dict[str, Any] | None:
        """Like :meth:`get_model`, but ``None`` when the model does not exist."""
        try:
            return self.get_model(name, version, refresh_cache=refresh_cache)
        except EnkryptNotFoundError:
            return None

    def list_models(self) -> list[dict[str, Any]]:
        """GET /models/list-models; returns the ``models`` array (may include platform sample models)."""
        resp = self._request("GET", PATH_LIST)
        data = self._json(resp, "GET", PATH_LIST)
        models = data.get("models") if isinstance(data, dict) else data
        if isinstance(models, list) and all(isinstance(m, dict) for m in models):
            return models
        raise self._shape_error(resp, "GET", PATH_LIST, "expected {'models': [...]}")

    def modify_model(
        self,
        name: str,
        version: str,
        body: Mapping[str, Any],
        *,
        retry_writes_on_disconnect: bool = False,
        secrets: Iterable[str] = (),
    ) -> dict[str, Any]:
        """PATCH /models/modify-model: ``name``/``version`` = CURRENT identity, ``body`` = the full object."""
        headers = self._identity_headers(name, version, "PATCH", PATH_MODIFY)
        resp = self._request(
            "PATCH",
            PATH_MODIFY,
            headers=headers,
            body=body,
            write=True,
            retry_writes_on_disconnect=retry_writes_on_disconnect,
            secrets=secrets,
        )
        return self._model_from_envelope(resp, "PATCH", PATH_MODIFY)

    def delete_model(self, name: str, version: str, *, missing_ok: bool = False) -> None:
        """DELETE /models/delete-model. Retried like a read (idempotent); ``missing_ok`` swallows a 404."""
        headers = self._identity_headers(name, version, "DELETE", PATH_DELETE)
        try:
            self._request("DELETE", PATH_DELETE, headers=headers)
        except EnkryptNotFoundError:
            if not missing_ok:
                raise

    # -- internals -------------------------------------------------------------------------------------------

    @staticmethod
    def _identity_headers(name: str, version: str, method: str, path: str) -> dict[str, bytes]:
        return {
            HEADER_MODEL: _header_value("model_saved_name", HEADER_MODEL, name, method, path),
            HEADER_VERSION: _header_value("model_version", HEADER_VERSION, version, method, path),
        }

    def _request(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, bytes] | None = None,
        body: Mapping[str, Any] | None = None,
        write: bool = False,
        retry_writes_on_disconnect: bool = False,
        secrets: Iterable[str] = (),
    ) -> httpx.Response:
        secret_set = _LazySecrets(body, [*self._secrets, *secrets], self._api_key)
        content: bytes | None = None
        req_headers: dict[bytes, bytes] = {k.encode("ascii"): v for k, v in (headers or {}).items()}
        if body is not None:
            content = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
            req_headers[b"Content-Type"] = b"application/json"
        # State shared by the attempts of this call only.
        ambiguous = False  # a write attempt was sent and its outcome is unknown
        attempt_no = 0

        def attempt() -> httpx.Response:
            nonlocal ambiguous, attempt_no
            attempt_no += 1
            self.stats.add(attempts=1, retries=1 if attempt_no > 1 else 0)
            try:
                resp = self._http.request(method, path, content=content, headers=req_headers)
            except httpx.TransportError as exc:
                self.stats.add(transport_errors=1)
                sent = not isinstance(exc, _NOT_SENT_ERRORS)
                url = f"{self._shown_base_url}{path}"
                tls = _ssl_cause(exc) if isinstance(exc, httpx.ConnectError) else None
                if tls is not None and not isinstance(tls, _TRANSIENT_SSL_ERRORS):
                    # A handshake refused for its protocol or certificate fails identically every time.
                    raise EnkryptConnectionError(
                        _one_line(scrub(_tls_reason(tls, self._shown_base_url, url), secret_set)),
                        method=method,
                        path=path,
                        detail="not retried: it would fail the same way again",
                    ) from exc
                reason = _one_line(scrub(_transport_reason(exc, url), secret_set))
                if write and sent and not retry_writes_on_disconnect:
                    raise EnkryptMaybeCommittedError(
                        reason,
                        method=method,
                        path=path,
                        detail="connection failed after the request was sent; not retried",
                    ) from exc
                ambiguous = ambiguous or (write and sent)
                raise _RetryableFailure(EnkryptConnectionError(reason, method=method, path=path)) from exc
            if resp.status_code == 429:
                self.stats.add(rate_limited=1)
            elif resp.status_code >= 500:
                self.stats.add(server_errors=1)
            if write and resp.status_code >= 500 and resp.status_code not in _RETRY_LATER_STATUSES:
                if not retry_writes_on_disconnect:
                    error = self._error_from_response(resp, method, path, secret_set)
                    raise EnkryptMaybeCommittedError(
                        error.message,
                        status=error.status,
                        request_id=error.request_id,
                        method=method,
                        path=path,
                        detail="server error after the request was sent; not retried",
                    )
                ambiguous = True
            return self._check(resp, method, path, secret_set)

        retrying = Retrying(
            stop=stop_after_attempt(self.max_attempts) | _stop_if_retry_after_too_long(self.max_retry_after),
            wait=self._wait,
            retry=retry_if_exception_type(_RetryableFailure),
            before_sleep=self._before_sleep,
            reraise=True,
            sleep=time.sleep,
        )
        self.stats.add(calls=1)
        try:
            result: httpx.Response = retrying(attempt)
            return result
        except _RetryableFailure as failure:
            error = failure.error
            if failure.retry_after is not None and failure.retry_after > self.max_retry_after:
                error.detail = (
                    f"server asked to retry after {failure.retry_after:g} s, "
                    f"more than max_retry_after={self.max_retry_after:g} s"
                )
            self._finish(error, attempt_no, ambiguous)
            raise error from failure.__cause__
        except EnkryptError as error:
            self._finish(error, attempt_no, ambiguous)
            raise

    def _finish(self, error: EnkryptError, attempts: int, ambiguous: bool) -> None:
        """Stamp the call's attempt count and write ambiguity on the final error, then re-format it."""
        error.attempts = attempts
        if ambiguous or isinstance(error, EnkryptMaybeCommittedError):
            error.maybe_committed = True
            self.stats.add(maybe_committed=1)
        error.args = (error._format(),)

    def _check(self, resp: httpx.Response, method: str, path: str, secret_set: Iterable[str]) -> httpx.Response:
        """Return a 2xx response; raise a final EnkryptError, or a _RetryableFailure for 429 and 5xx."""
        status = resp.status_code
        if 200 <= status < 300:
            return resp
        error = self._error_from_response(resp, method, path, secret_set)
        if status in _RETRY_LATER_STATUSES:
            retry_after = parse_retry_after(resp.headers.get("Retry-After"))
            if isinstance(error, (EnkryptRateLimitError, EnkryptServerError)):
                error.retry_after = retry_after
            raise _RetryableFailure(error, retry_after)
        if status >= 500:
            raise _RetryableFailure(error)
        raise error

    def _error_from_response(
        self, resp: httpx.Response, method: str, path: str, secret_set: Iterable[str]
    ) -> EnkryptError:
        status = resp.status_code
        resp.read()
        message: str | None = None
        request_id: str | None = resp.headers.get("x-request-id")
        field_errors: list[FieldError] = []
        try:
            payload: Any = resp.json()
        except ValueError:
            payload = None
        if isinstance(payload, dict):
            if isinstance(payload.get("message"), str):
                message = payload["message"]
            elif isinstance(payload.get("detail"), str):
                message = payload["detail"]
            elif isinstance(payload.get("error"), str):
                message = payload["error"]
            if isinstance(payload.get("request_id"), str):
                request_id = payload["request_id"]
            raw_errors: Any = payload.get("errors")
            if not isinstance(raw_errors, list):
                raw_errors = payload.get("detail")
            if not isinstance(raw_errors, list):
                raw_errors = []
            field_errors = [_field_error(item, secret_set) for item in raw_errors]
        elif resp.text and "html" not in resp.headers.get("content-type", "").lower():
            message = resp.text
        if not message:
            try:
                message = HTTPStatus(status).description or HTTPStatus(status).phrase
            except ValueError:
                message = "unexpected status"
        message = _one_line(scrub(message, secret_set))
        if request_id:
            request_id = _one_line(scrub(request_id, secret_set), 100)
        cls = _STATUS_ERRORS.get(status)
        if cls is None:
            cls = EnkryptServerError if status >= 500 else EnkryptError
        common: dict[str, Any] = {
            "status": status,
            "request_id": request_id,
            "method": method,
            "path": path,
        }
        if cls is EnkryptValidationError:
            return EnkryptValidationError(message, field_errors=field_errors, **common)
        return cls(message, **common)

    def _wait(self, retry_state: RetryCallState) -> float:
        """Full-jitter exponential back-off, never shorter than a Retry-After."""
        n = retry_state.attempt_number  # attempts made so far (>= 1)
        ceiling = min(self.backoff_max, self.backoff_base * (2 ** (n - 1)))
        wait = random.uniform(0.0, ceiling)
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(exc, _RetryableFailure) and exc.retry_after is not None:
            # The stop condition has already given up when retry_after > max_retry_after.
            wait = max(wait, exc.retry_after)
        return wait

    def _before_sleep(self, retry_state: RetryCallState) -> None:
        seconds = retry_state.next_action.sleep if retry_state.next_action else 0.0
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        by_header = isinstance(exc, _RetryableFailure) and exc.retry_after is not None
        self.stats.add(waits=1, wait_seconds=seconds, retry_after_waits=1 if by_header else 0)
        if isinstance(exc, _RetryableFailure):
            err = exc.error
            outcome = str(err.status) if err.status is not None else "connection failure"
            log.info(
                "Enkrypt API: %s %s -> %s; retrying in %.2f s (attempt %d of %d)",
                err.method,
                err.path,
                outcome,
                seconds,
                retry_state.attempt_number + 1,
                self.max_attempts,
            )

    def _json(self, resp: httpx.Response, method: str, path: str) -> Any:
        try:
            return resp.json()
        except ValueError:
            raise self._shape_error(resp, method, path, "the response is not JSON") from None

    def _model_from_envelope(self, resp: httpx.Response, method: str, path: str) -> dict[str, Any]:
        data = self._json(resp, method, path)
        if isinstance(data, dict):
            inner = data.get("data")
            if isinstance(inner, dict):
                return inner
            if "model_saved_name" in data:
                return data
        raise self._shape_error(resp, method, path, "expected {'data': <model>}")

    @staticmethod
    def _shape_error(resp: httpx.Response, method: str, path: str, what: str) -> EnkryptError:
        return EnkryptError(f"unexpected response body: {what}", status=resp.status_code, method=method, path=path)


def _field_error(item: Any, secret_set: Iterable[str]) -> FieldError:
    """Normalise one error item; the submitted ``input`` value (often a secret) is dropped."""
    if isinstance(item, Mapping):
        loc = item.get("loc", item.get("field", item.get("path", "")))
        if isinstance(loc, (list, tuple)):
            loc = ".".join(str(p) for p in loc if p != "body")
        msg = next((item[k] for k in ("msg", "message", "reason") if k in item), "")
        return FieldError(_one_line(scrub(str(loc), secret_set), 200), _one_line(scrub(str(msg), secret_set)))
    return FieldError("", _one_line(scrub(str(item), secret_set)))
