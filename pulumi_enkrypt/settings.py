"""Where the provider's credentials and HTTP knobs come from.

Precedence, for each value: the stack configuration (namespace ``enkrypt``), then the environment, then the
default.

============================  =============================================  ===========================
stack config                  environment                                    default
============================  =============================================  ===========================
``enkrypt:apiKey`` (secret)   ``ENKRYPTAI_API_KEY``, then ``ENKRYPT_API_KEY``  none: MissingCredentialsError
``enkrypt:baseUrl``           ``ENKRYPTAI_BASE_URL``                         ``https://api.enkryptai.com``
``enkrypt:maxAttempts``       ``ENKRYPTAI_MAX_ATTEMPTS``                     6
``enkrypt:timeoutSeconds``    ``ENKRYPTAI_TIMEOUT_SECONDS``                  30 (read/write; connect <= 5)
``enkrypt:strictProviders``   ``ENKRYPTAI_STRICT_PROVIDERS``                 false: reject unlisted providers
``enkrypt:adoptExisting``     ``ENKRYPTAI_ADOPT_EXISTING``                   false: every Model adopts
============================  =============================================  ===========================

The environment names are those of Enkrypt's own SDK and CLI, so one environment serves both.

:func:`read_settings` is the one place these are read: the provider's ``configure``, the lookups
(``get_model``) and ``pulumi-enkrypt export`` all call it, each with the configuration it has. Resolve
settings in the provider process, never before pickling: a pickled provider lands in Pulumi state (and a
``Settings`` refuses to be pickled for that reason). Build a client with ``EnkryptClient.from_settings``;
this module does not import the client.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, NoReturn, Protocol, TypeVar

__all__ = [
    "CONFIG_KEYS",
    "DEFAULT_BASE_URL",
    "NAMESPACE",
    "ConfigLike",
    "MissingCredentialsError",
    "Settings",
    "SettingsError",
    "read_settings",
]

NAMESPACE: Final = "enkrypt"
DEFAULT_BASE_URL: Final = "https://api.enkryptai.com"
DEFAULT_TIMEOUT_SECONDS: Final = 30.0
DEFAULT_MAX_ATTEMPTS: Final = 6
MAX_MAX_ATTEMPTS: Final = 20

KEY_API_KEY: Final = "apiKey"
KEY_BASE_URL: Final = "baseUrl"
KEY_MAX_ATTEMPTS: Final = "maxAttempts"
KEY_TIMEOUT: Final = "timeoutSeconds"
KEY_STRICT_PROVIDERS: Final = "strictProviders"
KEY_ADOPT_EXISTING: Final = "adoptExisting"
CONFIG_KEYS: Final = (
    KEY_API_KEY,
    KEY_BASE_URL,
    KEY_MAX_ATTEMPTS,
    KEY_TIMEOUT,
    KEY_STRICT_PROVIDERS,
    KEY_ADOPT_EXISTING,
)

ENV_API_KEYS: Final = ("ENKRYPTAI_API_KEY", "ENKRYPT_API_KEY")
ENV_BASE_URL: Final = "ENKRYPTAI_BASE_URL"
ENV_MAX_ATTEMPTS: Final = "ENKRYPTAI_MAX_ATTEMPTS"
ENV_TIMEOUT: Final = "ENKRYPTAI_TIMEOUT_SECONDS"
ENV_STRICT_PROVIDERS: Final = "ENKRYPTAI_STRICT_PROVIDERS"
ENV_ADOPT_EXISTING: Final = "ENKRYPTAI_ADOPT_EXISTING"


class SettingsError(ValueError):
    """A configuration value is invalid; the message names the config key or environment variable."""


class MissingCredentialsError(SettingsError):
    """No Enkrypt API key in the stack configuration nor in the environment."""

    def __init__(self) -> None:
        super().__init__(
            "No Enkrypt API key found. Set it in the stack configuration with "
            "`pulumi config set --secret enkrypt:apiKey <key>`, or in the environment with "
            "`export ENKRYPTAI_API_KEY=...` (ENKRYPT_API_KEY is also read)."
        )


@dataclass(frozen=True)
class Settings:
    """Resolved connection settings. ``repr`` hides the key; pickling is refused (it would land in state)."""

    base_url: str
    api_key: str
    timeout: float = DEFAULT_TIMEOUT_SECONDS
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    strict_providers: bool = False
    adopt_existing: bool = False
    """Every resource takes over an existing object of its identity (crash recovery without editing code)."""

    def __repr__(self) -> str:
        return (
            f"Settings(base_url={self.base_url!r}, api_key=***, timeout={self.timeout!r}, "
            f"max_attempts={self.max_attempts!r}, strict_providers={self.strict_providers!r}, "
            f"adopt_existing={self.adopt_existing!r})"
        )

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:
        raise TypeError("Settings holds the Enkrypt API key and cannot be pickled; resolve it in configure()")

    def __copy__(self) -> Settings:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Settings:
        return self


class ConfigLike(Protocol):
    """Anything with ``get(key)``: ``pulumi.dynamic.Config`` (req.config) or ``pulumi.Config``."""

    def get(self, key: str) -> Any: ...


def _lookup(config: Mapping[str, Any] | None, key: str) -> str | None:
    """``enkrypt:<key>`` or bare ``<key>``; empty values count as unset."""
    if not config:
        return None
    for candidate in (f"{NAMESPACE}:{key}", key):
        value = config.get(candidate)
        if value is None:
            continue
        text = str(value).strip()
        if text:
            return text
    return None


def _env(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name)
    if value is None:
        return None
    value = value.strip()
    return value or None


def _pick(
    config: Mapping[str, Any] | None, env: Mapping[str, str], key: str, env_names: tuple[str, ...]
) -> tuple[str | None, str]:
    """The value and where it came from (for error messages)."""
    value = _lookup(config, key)
    if value is not None:
        return value, f"{NAMESPACE}:{key}"
    for name in env_names:
        value = _env(env, name)
        if value is not None:
            return value, name
    return None, f"{NAMESPACE}:{key}"


def base_url_problem(url: str) -> str | None:
    """Why ``url`` cannot be Enkrypt's base URL, or None. The one rule: settings and the client both use it."""
    import httpx

    try:
        parsed = httpx.URL(url)
    except Exception as exc:  # httpx.InvalidURL and friends
        return f"is not a valid URL ({exc})"
    if parsed.scheme not in ("http", "https") or not parsed.host:
        return f"must be an http:// or https:// URL such as {DEFAULT_BASE_URL}"
    if parsed.userinfo:
        return f"must not contain credentials (user:password@); use {NAMESPACE}:{KEY_API_KEY}"
    if parsed.query or parsed.fragment:
        return "must not contain a query string or fragment"
    return None


def _normalise_base_url(value: str, source: str) -> str:
    url = value.strip().rstrip("/")
    config_key = f"{NAMESPACE}:{KEY_BASE_URL}"
    where = config_key if source == config_key else f"{source} (read because {config_key} is not set)"
    problem = base_url_problem(url)
    if problem is not None:
        raise SettingsError(f"{where} {problem}, got {value!r}")
    return url


def read_settings(
    config: ConfigLike | Mapping[str, Any] | None = None, env: Mapping[str, str] = os.environ
) -> Settings:
    """The settings from the stack configuration ``config``, then the environment ``env``, then the defaults.

    ``config`` is whatever configuration the caller has:

    * the provider's ``configure(req)``: ``req.config``, a ``pulumi.dynamic.Config`` (whose ``get`` puts a key
      without a namespace in the *project's* namespace, so the keys are asked for in full, ``enkrypt:apiKey``);
    * a program (the lookups): ``pulumi.Config("enkrypt")``, whose ``get`` prefixes its own namespace (a
      ``pulumi.Config`` of another namespace is refused);
    * the export command: a stack's configuration as a mapping (``pulumi config --json``, values unwrapped),
      with ``enkrypt:<key>`` or bare ``<key>`` keys;
    * ``None``: the environment alone.

    Empty values count as unset. Raises :class:`MissingCredentialsError` when no key is found, and
    :class:`SettingsError`, naming the config key or environment variable, for a bad value.
    """
    values = config if config is None or isinstance(config, Mapping) else _as_mapping(config)
    api_key, _ = _pick(values, env, KEY_API_KEY, ENV_API_KEYS)
    if api_key is None:
        raise MissingCredentialsError()

    raw_url, url_source = _pick(values, env, KEY_BASE_URL, (ENV_BASE_URL,))
    base_url = _normalise_base_url(raw_url, url_source) if raw_url is not None else DEFAULT_BASE_URL

    max_attempts = _number(
        values, env, KEY_MAX_ATTEMPTS, ENV_MAX_ATTEMPTS, int, DEFAULT_MAX_ATTEMPTS,
        lambda n: 1 <= n <= MAX_MAX_ATTEMPTS, f"a whole number from 1 to {MAX_MAX_ATTEMPTS}",
    )  # fmt: skip
    timeout = _number(
        values, env, KEY_TIMEOUT, ENV_TIMEOUT, float, DEFAULT_TIMEOUT_SECONDS,
        lambda t: math.isfinite(t) and 0 < t <= 3600, "a number of seconds above 0 and at most 3600",
    )  # fmt: skip

    return Settings(
        base_url=base_url,
        api_key=api_key,
        timeout=timeout,
        max_attempts=max_attempts,
        strict_providers=_flag(values, env, KEY_STRICT_PROVIDERS, ENV_STRICT_PROVIDERS),
        adopt_existing=_flag(values, env, KEY_ADOPT_EXISTING, ENV_ADOPT_EXISTING),
    )


_N = TypeVar("_N", int, float)


def _number(
    values: Mapping[str, Any] | None,
    env: Mapping[str, str],
    key: str,
    env_name: str,
    parse: Callable[[str], _N],
    default: _N,
    valid: Callable[[_N], bool],
    expected: str,
) -> _N:
    """A numeric setting, or its default; an invalid one is a SettingsError naming where it came from."""
    raw, source = _pick(values, env, key, (env_name,))
    if raw is None:
        return default
    try:
        value = parse(raw)
    except ValueError:
        raise SettingsError(f"{source} must be {expected}, got {raw!r}") from None
    if not valid(value):
        raise SettingsError(f"{source} must be {expected}, got {raw!r}")
    return value


def _flag(config: Mapping[str, Any] | None, env: Mapping[str, str], key: str, env_name: str) -> bool:
    raw, source = _pick(config, env, key, (env_name,))
    if raw is None:
        return False
    value = raw.lower()
    if value not in ("true", "false"):
        raise SettingsError(f"{source} must be true or false, got {raw!r}")
    return value == "true"


def _as_mapping(config: ConfigLike) -> dict[str, Any]:
    """The ``enkrypt:*`` values of a ``pulumi.Config`` or ``pulumi.dynamic.Config``, by full key."""
    if callable(getattr(config, "full_key", None)):  # pulumi.Config: get() prefixes its own namespace
        name = getattr(config, "name", None)
        if name != NAMESPACE:
            raise SettingsError(f"expected pulumi.Config({NAMESPACE!r}), got pulumi.Config({name!r})")
        return {f"{NAMESPACE}:{key}": config.get(key) for key in CONFIG_KEYS}
    return {f"{NAMESPACE}:{key}": config.get(f"{NAMESPACE}:{key}") for key in CONFIG_KEYS}
