"""The HTTP client for Enkrypt AI's models API (``/models/*``): the public module.

Import from here; the work is done in modules with one job each, as httpx lays out its own client:

======================================  ====================================================================
:mod:`pulumi_enkrypt._client`           :class:`EnkryptClient` and its five calls
:mod:`pulumi_enkrypt._exceptions`       the errors (their hierarchy is drawn there) and :class:`FieldError`
:mod:`pulumi_enkrypt._retry`            what is retried for reads and for writes; ``Retry-After``
:mod:`pulumi_enkrypt._api`              the API's paths, header names and identity-header rule
:mod:`pulumi_enkrypt.secrets`           :func:`secret_values` and :func:`scrub`: no secret in a message
======================================  ====================================================================

Build a client from the stack's settings with ``EnkryptClient.from_settings(settings)``
(see :func:`pulumi_enkrypt.settings.read_settings`).
"""

from __future__ import annotations

from . import _exceptions
from ._api import HEADER_MODEL, HEADER_REFRESH, HEADER_VERSION, PATH_ADD, PATH_DELETE, PATH_GET, PATH_LIST, PATH_MODIFY
from ._client import DEFAULT_TIMEOUT, EnkryptClient
from ._exceptions import *  # noqa: F403  (every error, and FieldError: _exceptions.__all__)
from ._retry import parse_retry_after
from .secrets import scrub, secret_values

__all__ = [
    "DEFAULT_TIMEOUT",
    "HEADER_MODEL",
    "HEADER_REFRESH",
    "HEADER_VERSION",
    "PATH_ADD",
    "PATH_DELETE",
    "PATH_GET",
    "PATH_LIST",
    "PATH_MODIFY",
    "EnkryptClient",
    "parse_retry_after",
    "scrub",
    "secret_values",
]
__all__ += _exceptions.__all__
