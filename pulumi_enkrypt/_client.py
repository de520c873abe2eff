"""``EnkryptClient``: the five calls of Enkrypt's models API over one :class:`httpx.Client`.

One client is safe to share between threads (the dynamic provider's four gRPC workers share one provider
object).  Methods return plain JSON (``dict``): validating the shape is the caller's job.  Which failures are
retried is :mod:`pulumi_enkrypt._retry`'s business; the errors are in :mod:`pulumi_enkrypt._exceptions`.

Recipe for a write whose outcome is unknown (``add``; ``modify`` is the same with the NEW identity)::

    try:
        out = client.add_model(body)
    except EnkryptMaybeCommittedError:
        out = client.find_model(name, version)   # reads are retried freely
        if out is None or not same_as_sent(out, body):
            raise                                # not applied (or applied differently): fail loudly
    # success: `out` is what the server holds

A transport failure's message names the URL tried (base URL + path; base URLs hold no credentials or
query).  The API key travels only in the ``apikey`` header set by an :class:`httpx.Auth` hook; it is never
part of a message, ``repr`` or log line, and request bodies are never put into errors.  Server messages that
echo secret values of the request body (see :func:`pulumi_enkrypt.secrets.secret_values`) are scrubbed to
``[secret]``.
"""

from __future__ import annotations

import functools
import json
import re
import ssl
from collections.abc import Generator, Iterable, Iterator, Mapping, Sequence
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Final

import httpx

from ._api import (
    API_KEY_HEADER,
    HEADER_REFRESH,
    form_fields,
    from_wire,
    identity_problem,
    to_wire,
)
from ._exceptions import (
    EnkryptConnectionError,
    EnkryptError,
    EnkryptMaybeCommittedError,
    EnkryptNotFoundError,
    EnkryptRateLimitError,
    EnkryptServerError,
    EnkryptValidationError,
    FieldError,
    error_class,
)
from ._retry import (
    NOT_SENT_ERRORS,
    RETRY_LATER_STATUSES,
    RetryableFailure,
    Verdict,
    after_status,
    after_transport_error,
    parse_retry_after,
    permanent_tls_error,
    retrying,
)
from ._version import __version__
from .kinds import MODEL, Kind
from .secrets import scrub, secret_values
from .settings import (
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_TIMEOUT_SECONDS,
    ENV_BASE_URL,
    KEY_BASE_URL,
    NAMESPACE,
    base_url_problem,
)

if TYPE_CHECKING:
    from .settings import Settings

__all__ = ["DEFAULT_TIMEOUT", "EnkryptClient"]

MAX_CONNECT_SECONDS: Final = 5.0
DEFAULT_TIMEOUT: Final = httpx.Timeout(DEFAULT_TIMEOUT_SECONDS, connect=MAX_CONNECT_SECONDS)
_MAX_MESSAGE_CHARS: Final = 500
# A paged list (guardrails) is read 100 at a time (the most the SDK's pagination helper asks for), up to
# 1,000 pages: more means the server repeats a page forever.
_PER_PAGE: Final = 100
_MAX_PAGES: Final = 1000
# OpenSSL reasons for "the peer answered something that is not TLS" (typically plain HTTP).
_NOT_TLS_REASONS: Final = frozenset(
    {"WRONG_VERSION_NUMBER", "UNKNOWN_PROTOCOL", "PACKET_LENGTH_TOO_LONG", "RECORD_LAYER_FAILURE", "HTTP_REQUEST"}
)
_BASE_URL_SETTING: Final = f"{NAMESPACE}:{KEY_BASE_URL}"


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


def _one_line(text: str, limit: int = _MAX_MESSAGE_CHARS) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else text[: limit - 3] + "..."


class _ApiKeyAuth(httpx.Auth):
    """Adds the ``apikey`` header per request, so the key is not in the client's default headers."""

    def __init__(self, api_key: str) -> None:
        self._api_key = api_key

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers[API_KEY_HEADER] = self._api_key
        yield request

    def __repr__(self) -> str:
        return "_ApiKeyAuth(api_key=***)"


def _transport_reason(exc: httpx.TransportError, url: str) -> str:
    """One line: the httpx error first (what callers match on), then the URL tried."""
    kind = f"{type(exc).__name__}: {exc}".rstrip(": .")
    if isinstance(exc, NOT_SENT_ERRORS):
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


def _header_value(field: str, value: str, method: str, path: str) -> bytes:
    """Encode an identity header value as latin-1, or raise EnkryptValidationError naming the field."""
    problem = identity_problem(value)
    if problem is not None:
        raise EnkryptValidationError(
            f"{field} {value!r} {problem}",
            field_errors=[FieldError(field, problem)],
            method=method,
            path=path,
            detail="not sent",
        )
    return value.encode("latin-1")


def _field_error(item: Any, secret_set: Iterable[str]) -> FieldError:
    """Normalise one error item; the submitted ``input`` value (often a secret) is dropped."""
    if isinstance(item, Mapping):
        loc = item.get("loc", item.get("field", item.get("path", "")))
        if isinstance(loc, (list, tuple)):
            loc = ".".join(str(p) for p in loc if p != "body")
        msg = next((item[k] for k in ("msg", "message", "reason") if k in item), "")
        return FieldError(_one_line(scrub(str(loc), secret_set), 200), _one_line(scrub(str(msg), secret_set)))
    return FieldError("", _one_line(scrub(str(item), secret_set)))


class EnkryptClient:
    """Client for Enkrypt AI's models API. Thread-safe; use as a context manager or call :meth:`close`."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        backoff_base: float = 0.25,
        backoff_max: float = 20.0,
        max_retry_after: float = 60.0,
        transport: httpx.BaseTransport | None = None,
        user_agent: str | None = None,
        secrets: Iterable[str] = (),
    ) -> None:
        base_url = base_url.strip().rstrip("/")
        problem = base_url_problem(base_url)
        if problem is not None:
            raise ValueError(f"Enkrypt base URL {problem}, got {base_url!r}")
        if not api_key or not api_key.strip():
            raise ValueError("Enkrypt API key is empty")
        if not api_key.strip().isascii() or not api_key.strip().isprintable():
            raise ValueError("Enkrypt API key must be printable ASCII (it is sent as an HTTP header)")
        if max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")
        if backoff_base < 0 or backoff_max < 0 or max_retry_after < 0:
            raise ValueError("backoff_base, backoff_max and max_retry_after must be >= 0")
        if not isinstance(timeout, httpx.Timeout):
            timeout = httpx.Timeout(float(timeout), connect=min(MAX_CONNECT_SECONDS, float(timeout)))

        self.base_url = base_url
        self._shown_base_url = base_url  # what messages show: it holds no credentials, query or fragment
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.max_retry_after = max_retry_after
        self.timeout = timeout
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

    @classmethod
    def from_settings(cls, settings: Settings, *, transport: httpx.BaseTransport | None = None) -> EnkryptClient:
        """A client with resolved :class:`~pulumi_enkrypt.settings.Settings` (connect timeout 5 s or less)."""
        return cls(
            settings.base_url,
            settings.api_key,
            timeout=settings.timeout,
            max_attempts=settings.max_attempts,
            transport=transport,
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

    def add(
        self,
        kind: Kind,
        body: Mapping[str, Any],
        *,
        retry_writes_on_disconnect: bool = False,
        secrets: Iterable[str] = (),
    ) -> dict[str, Any]:
        """POST the kind's add path; returns the envelope's ``data`` (the created object)."""
        path = kind.api.add
        resp = self._request(
            "POST",
            path,
            body=to_wire(kind, body),
            form=kind.api.body_encoding == "multipart",
            write=True,
            retry_writes_on_disconnect=retry_writes_on_disconnect,
            secrets=secrets,
        )
        return self._object_from_envelope(kind, resp, "POST", path)

    def get(self, kind: Kind, identity: Sequence[str], *, refresh_cache: bool = True) -> dict[str, Any]:
        """GET the kind's get path; returns the bare object. Raises EnkryptNotFoundError on 404."""
        path = kind.api.get
        headers = self._identity_headers(kind, identity, "GET", path)
        if refresh_cache:
            headers[HEADER_REFRESH] = b"true"
        resp = self._request("GET", path, headers=headers)
        data = self._json(resp, "GET", path)
        if isinstance(data, dict):
            inner = data.get("data")
            if kind.identity[0] not in data and isinstance(inner, dict):
                return from_wire(kind, inner)  # tolerate an envelope, although the documented read is bare
            return from_wire(kind, data)
        raise self._shape_error(resp, "GET", path, "expected a JSON object")

    def find(self, kind: Kind, identity: Sequence[str], *, refresh_cache: bool = True) -> dict[str, Any] | None:
        """Like :meth:`get`, but ``None`` when the object does not exist."""
        try:
            return self.get(kind, identity, refresh_cache=refresh_cache)
        except EnkryptNotFoundError:
            return None

    def list_all(self, kind: Kind) -> list[dict[str, Any]]:
        """GET the kind's list path; returns the list under ``kind.api.list_key`` (may include samples), every
        page of it for a paged kind."""
        path, key = kind.api.list, kind.api.list_key
        found: list[dict[str, Any]] = []
        for page in range(1, _MAX_PAGES + 1):
            query = f"?page={page}&per_page={_PER_PAGE}" if kind.api.paged else ""
            resp = self._request("GET", path + query)
            data = self._json(resp, "GET", path)
            items = data.get(key) if isinstance(data, dict) else data
            if not (isinstance(items, list) and all(isinstance(m, dict) for m in items)):
                raise self._shape_error(resp, "GET", path, f"expected {{{key!r}: [...]}}")
            found += [from_wire(kind, item) for item in items]
            more = data.get("pagination", {}) if isinstance(data, dict) else {}
            if not (kind.api.paged and items and isinstance(more, dict) and more.get("has_next")):
                return found
        raise EnkryptError(f"more than {_MAX_PAGES} pages of {kind.plural}", method="GET", path=path)

    def modify(
        self,
        kind: Kind,
        identity: Sequence[str],
        body: Mapping[str, Any],
        *,
        retry_writes_on_disconnect: bool = False,
        secrets: Iterable[str] = (),
    ) -> dict[str, Any]:
        """PATCH the kind's modify path: ``identity`` = the CURRENT one, ``body`` = the full object."""
        path = kind.api.modify
        resp = self._request(
            "PATCH",
            path,
            headers=self._identity_headers(kind, identity, "PATCH", path),
            body=to_wire(kind, body),
            form=kind.api.body_encoding == "multipart",
            write=True,
            retry_writes_on_disconnect=retry_writes_on_disconnect,
            secrets=secrets,
        )
        return self._object_from_envelope(kind, resp, "PATCH", path)

    def delete(self, kind: Kind, identity: Sequence[str], *, missing_ok: bool = False) -> None:
        """DELETE the kind's delete path. Retried like a read (idempotent); ``missing_ok`` swallows a 404."""
        path = kind.api.delete
        try:
            self._request("DELETE", path, headers=self._identity_headers(kind, identity, "DELETE", path))
        except EnkryptNotFoundError:
            if not missing_ok:
                raise

    # The models API by name, as Enkrypt's SDK and our callers know it.

    def add_model(
        self, body: Mapping[str, Any], *, retry_writes_on_disconnect: bool = False, secrets: Iterable[str] = ()
    ) -> dict[str, Any]:
        """POST /models/add-model; returns the envelope's ``data`` (the created model)."""
        return self.add(MODEL, body, retry_writes_on_disconnect=retry_writes_on_disconnect, secrets=secrets)

    def get_model(self, name: str, version: str, *, refresh_cache: bool = True) -> dict[str, Any]:
        """GET /models/get-model; returns the bare model. Raises EnkryptNotFoundError on 404."""
        return self.get(MODEL, (name, version), refresh_cache=refresh_cache)

    def find_model(self, name: str, version: str, *, refresh_cache: bool = True) -> dict[str, Any] | None:
        """Like :meth:`get_model`, but ``None`` when the model does not exist."""
        return self.find(MODEL, (name, version), refresh_cache=refresh_cache)

    def list_models(self) -> list[dict[str, Any]]:
        """GET /models/list-models; returns the ``models`` array (may include platform sample models)."""
        return self.list_all(MODEL)

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
        return self.modify(
            MODEL, (name, version), body, retry_writes_on_disconnect=retry_writes_on_disconnect, secrets=secrets
        )

    def delete_model(self, name: str, version: str, *, missing_ok: bool = False) -> None:
        """DELETE /models/delete-model. Retried like a read (idempotent); ``missing_ok`` swallows a 404."""
        self.delete(MODEL, (name, version), missing_ok=missing_ok)

    # -- internals -------------------------------------------------------------------------------------------

    @staticmethod
    def _identity_headers(kind: Kind, identity: Sequence[str], method: str, path: str) -> dict[str, bytes]:
        values = dict(zip(kind.identity, identity, strict=True))
        headers = kind.api.identity_headers
        return {header: _header_value(field, values[field], method, path) for field, header in headers.items()}

    def _request(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, bytes] | None = None,
        body: Mapping[str, Any] | None = None,
        form: bool = False,
        write: bool = False,
        retry_writes_on_disconnect: bool = False,
        secrets: Iterable[str] = (),
    ) -> httpx.Response:
        secret_set = _LazySecrets(body, [*self._secrets, *secrets], self._api_key)
        content: bytes | None = None
        req_headers: dict[bytes, bytes] = {k.encode("ascii"): v for k, v in (headers or {}).items()}
        if body is not None and form:
            # Encoded once, so every attempt sends the same bytes (and boundary).
            encoded = httpx.Request(
                method, "http://form", files={k: (None, v) for k, v in form_fields(body).items()}
            )
            content = encoded.read()
            req_headers[b"Content-Type"] = encoded.headers["Content-Type"].encode("ascii")
        elif body is not None:
            content = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
            req_headers[b"Content-Type"] = b"application/json"
        # State shared by the attempts of this call only.
        ambiguous = False  # a write attempt was sent and its outcome is unknown
        attempt_no = 0

        def attempt() -> httpx.Response:
            nonlocal ambiguous, attempt_no
            attempt_no += 1
            try:
                resp = self._http.request(method, path, content=content, headers=req_headers)
            except httpx.TransportError as exc:
                verdict = after_transport_error(exc, write=write, retry_writes=retry_writes_on_disconnect)
                url = f"{self._shown_base_url}{path}"
                tls = permanent_tls_error(exc)
                if verdict is Verdict.FAIL and tls is not None:
                    raise EnkryptConnectionError(
                        _one_line(scrub(_tls_reason(tls, self._shown_base_url, url), secret_set)),
                        method=method,
                        path=path,
                        detail="not retried: it would fail the same way again",
                    ) from exc
                reason = _one_line(scrub(_transport_reason(exc, url), secret_set))
                if verdict is Verdict.MAYBE_COMMITTED:
                    raise EnkryptMaybeCommittedError(
                        reason,
                        method=method,
                        path=path,
                        detail="connection failed after the request was sent; not retried",
                    ) from exc
                ambiguous = ambiguous or verdict is Verdict.RETRY_MAYBE_COMMITTED
                raise RetryableFailure(EnkryptConnectionError(reason, method=method, path=path)) from exc
            verdict = after_status(resp.status_code, write=write, retry_writes=retry_writes_on_disconnect)
            if verdict is Verdict.OK:
                return resp
            error = self._error_from_response(resp, method, path, secret_set)
            if verdict is Verdict.MAYBE_COMMITTED:
                raise EnkryptMaybeCommittedError(
                    error.message,
                    status=error.status,
                    request_id=error.request_id,
                    method=method,
                    path=path,
                    detail="server error after the request was sent; not retried",
                )
            if verdict is Verdict.FAIL:
                raise error
            ambiguous = ambiguous or verdict is Verdict.RETRY_MAYBE_COMMITTED
            if resp.status_code not in RETRY_LATER_STATUSES:
                raise RetryableFailure(error)
            retry_after = parse_retry_after(resp.headers.get("Retry-After"))
            if isinstance(error, (EnkryptRateLimitError, EnkryptServerError)):
                error.retry_after = retry_after
            raise RetryableFailure(error, retry_after)

        try:
            result: httpx.Response = retrying(
                max_attempts=self.max_attempts,
                max_retry_after=self.max_retry_after,
                backoff_base=self.backoff_base,
                backoff_max=self.backoff_max,
            )(attempt)
            return result
        except RetryableFailure as failure:
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

    @staticmethod
    def _finish(error: EnkryptError, attempts: int, ambiguous: bool) -> None:
        """Stamp the call's attempt count and write ambiguity on the final error, then re-format it."""
        error.attempts = attempts
        if ambiguous or isinstance(error, EnkryptMaybeCommittedError):
            error.maybe_committed = True
        error.args = (error._format(),)

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
        cls = error_class(status)
        common: dict[str, Any] = {
            "status": status,
            "request_id": request_id,
            "method": method,
            "path": path,
        }
        if cls is EnkryptValidationError:
            return EnkryptValidationError(message, field_errors=field_errors, **common)
        return cls(message, **common)

    def _json(self, resp: httpx.Response, method: str, path: str) -> Any:
        try:
            return resp.json()
        except ValueError:
            raise self._shape_error(resp, method, path, "the response is not JSON") from None

    def _object_from_envelope(self, kind: Kind, resp: httpx.Response, method: str, path: str) -> dict[str, Any]:
        data = self._json(resp, method, path)
        if isinstance(data, dict):
            inner = data.get("data")
            if isinstance(inner, dict):
                return from_wire(kind, inner)
            if kind.identity[0] in data:
                return from_wire(kind, data)
        raise self._shape_error(resp, method, path, f"expected {{'data': <{kind.noun}>}}")

    @staticmethod
    def _shape_error(resp: httpx.Response, method: str, path: str, what: str) -> EnkryptError:
        return EnkryptError(f"unexpected response body: {what}", status=resp.status_code, method=method, path=path)
