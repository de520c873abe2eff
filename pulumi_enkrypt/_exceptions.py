"""The errors of the Enkrypt client, and the one ``FieldError`` that names what is wrong with a field.

Every error the client raises is an :class:`EnkryptError`; ``str(exc)`` is one line, free of secrets::

    EnkryptError                        any failed call (also: an answer of an unexpected shape)
    ├── EnkryptAuthError                401, 403: missing, wrong or insufficient API key
    ├── EnkryptNotFoundError            404: no model with that (name, version)
    ├── EnkryptConflictError            409: the (name, version) exists, or a deployment uses the model
    ├── EnkryptValidationError          400, 422, or a value the client refused to send (.field_errors)
    ├── EnkryptRateLimitError           429 after the retries (.retry_after)
    ├── EnkryptServerError              5xx after the retries (.retry_after)
    └── EnkryptConnectionError          transport failure (connect, TLS, timeout, dropped) after the retries
        └── EnkryptMaybeCommittedError  a write was sent, its outcome is unknown, and it was not retried

Plain Python: no httpx, so ``pulumi_enkrypt``'s errors can be imported without loading the HTTP stack.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Final

__all__ = [
    "EnkryptAuthError",
    "EnkryptConflictError",
    "EnkryptConnectionError",
    "EnkryptError",
    "EnkryptMaybeCommittedError",
    "EnkryptNotFoundError",
    "EnkryptRateLimitError",
    "EnkryptServerError",
    "EnkryptValidationError",
    "FieldError",
    "error_class",
]

_MAX_FIELD_ERRORS: Final = 5


@dataclass(frozen=True)
class FieldError:
    """One reason a value is invalid, at a key path such as ``model_config.endpoint.port`` (or no path).

    The client makes them from an error body's ``errors`` (or FastAPI ``detail``) array, dropping the
    submitted values; the wire schema makes them when it judges a body."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}" if self.path else self.reason


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


def error_class(status: int) -> type[EnkryptError]:
    """The error raised for an HTTP status that is not a success."""
    return _STATUS_ERRORS.get(status) or (EnkryptServerError if status >= 500 else EnkryptError)
