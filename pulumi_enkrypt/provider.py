"""The dynamic provider: maps the Model lifecycle onto Enkrypt's models API.

The engine runs this class in its own process (``python -m pulumi.dynamic``) after unpickling it from state.
It is pickled by reference (this module's path must never move) and carries nothing: credentials arrive
through ``configure`` from the stack's config or the environment, so rotated keys work and no secret is
pickled into state.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import pulumi.dynamic as dyn

from .schema_facts import ADOPT_EXISTING, REPLACE_ON_CHANGE
from .settings import Settings, resolve_settings

if TYPE_CHECKING:
    from .client import EnkryptClient

# The program process imports this module only to pickle a reference to ModelProvider; the modules that do
# the work (pydantic models, httpx) are imported where the work is done, in the provider process, so that
# `import pulumi_enkrypt` stays cheap.

_F = TypeVar("_F", bound=Callable[..., Any])

AUTH_ADVICE = (
    "Enkrypt rejected the API key. Set the right one with `pulumi config set --secret enkrypt:apiKey <key>` "
    "(or ENKRYPTAI_API_KEY). `pulumi refresh` and `pulumi destroy` use the configuration saved by the last "
    "`pulumi up`: after changing the key, run `pulumi up` first, or add --run-program."
)


def _explain_auth(method: _F) -> _F:
    """A 401/403 says what to do about it: which setting to fix, and the engine's rule for stale config."""

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from .client import EnkryptAuthError

        try:
            return method(*args, **kwargs)
        except EnkryptAuthError as err:
            raise EnkryptAuthError(
                f"{err.message}. {AUTH_ADVICE}",
                status=err.status,
                request_id=err.request_id,
                method=err.method,
                path=err.path,
            ) from None

    return wrapper  # type: ignore[return-value]


# How often create re-reads and re-adds when a write's outcome is unknown (dropped connection).
_CREATE_ROUNDS = 4


class ModelProvider(dyn.ResourceProvider):
    """Create, read, update and delete Enkrypt models; check and diff locally."""

    # Nothing secret is captured, so the pickled provider needs no encryption (saves work per resource).
    serialize_as_secret_always = False

    def __init__(self) -> None:
        self._init_runtime()

    def _init_runtime(self) -> None:
        self._config: Mapping[str, Any] = {}
        self._client: EnkryptClient | None = None
        self._lock = threading.Lock()

    # Pickle only the class reference: the same few bytes for every resource and every version.
    def __getstate__(self) -> dict[str, Any]:
        return {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._init_runtime()

    def configure(self, req: dyn.ConfigureRequest) -> None:
        cfg = req.config
        keys = ("apiKey", "baseUrl", "maxAttempts", "timeoutSeconds", "strictProviders")
        self._config = {f"enkrypt:{k}": cfg.get(f"enkrypt:{k}") for k in keys}

    def _settings(self) -> Settings:
        return resolve_settings({k: v for k, v in self._config.items() if v is not None})

    def _api(self) -> EnkryptClient:
        # Built lazily, once, and shared by the host's four worker threads.
        with self._lock:
            if self._client is None:
                self._client = self._settings().create_client()
            return self._client

    def _strict(self) -> bool:
        return str(self._config.get("enkrypt:strictProviders") or "").lower() == "true"

    # -- local steps -------------------------------------------------------------------------------------

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> dyn.CheckResult:
        from . import spec

        failures = [
            dyn.CheckFailure(e.path, e.reason) for e in spec.check_failures(news, strict_providers=self._strict())
        ]
        return dyn.CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dyn.DiffResult:
        from . import spec

        changed = spec.changed_fields(olds, news)
        replaces = [k for k in changed if k in REPLACE_ON_CHANGE]
        return dyn.DiffResult(changes=bool(changed), replaces=replaces, delete_before_replace=False)

    # -- remote steps ------------------------------------------------------------------------------------

    @_explain_auth
    def create(self, props: dict[str, Any]) -> dyn.CreateResult:
        from . import spec

        body = spec.request_body(props)
        name, version = spec.identity(body)
        model = self._add(body, adopt=bool(props.get(ADOPT_EXISTING)))
        return dyn.CreateResult(spec.resource_id(name, version), spec.outputs(props, model))

    def _add(self, body: dict[str, Any], *, adopt: bool) -> dict[str, Any]:
        from . import spec
        from .client import EnkryptConflictError, EnkryptMaybeCommittedError
        from .secrets import secret_strings

        api = self._api()
        name, version = spec.identity(body)
        secrets = secret_strings(body)
        maybe_landed = False
        for _ in range(_CREATE_ROUNDS):
            try:
                return api.add_model(body, secrets=secrets)
            except EnkryptMaybeCommittedError:
                maybe_landed = True
            except EnkryptConflictError:
                existing = api.find_model(name, version)
                if existing is None:
                    continue  # deleted meanwhile: add again
                if maybe_landed and spec.same_model(spec.server_view(existing, body), body):
                    return existing  # our own earlier attempt landed
                if adopt:
                    return api.modify_model(name, version, body, retry_writes_on_disconnect=True, secrets=secrets)
                identical = spec.same_model(spec.server_view(existing, body), body)
                raise EnkryptConflictError(
                    f"Enkrypt already has a model named {name!r} version {version!r} in this project"
                    + (" (identical to this one: perhaps made by an interrupted run)" if identical else "")
                    + ". Set adopt_existing=True on the resource to take it over (it will be modified to match), "
                    "or choose another model_saved_name / model_version.",
                    status=409,
                    method="POST",
                    path="/models/add-model",
                ) from None
            # The add may have been committed before the connection dropped: look before adding again.
            existing = api.find_model(name, version)
            if existing is not None and spec.same_model(spec.server_view(existing, body), body):
                return existing
            if existing is not None and adopt:
                return api.modify_model(name, version, body, retry_writes_on_disconnect=True, secrets=secrets)
        raise EnkryptMaybeCommittedError(
            f"could not confirm that model {name!r} version {version!r} was added after "
            f"{_CREATE_ROUNDS} attempts; run `pulumi refresh` then `pulumi up` again",
            method="POST",
            path="/models/add-model",
        )

    @_explain_auth
    def read(self, id_: str, props: dict[str, Any]) -> dyn.ReadResult:
        from . import spec

        if "model_saved_name" in props and "model_version" in props:
            name, version = spec.identity(props)
        else:
            name, version = spec.parse_id(id_)
        model = self._api().find_model(name, version)
        if model is None:
            return dyn.ReadResult("", {})  # gone: the engine drops it from state
        inputs = spec.server_view(model, props)
        if ADOPT_EXISTING in props:
            inputs[ADOPT_EXISTING] = props[ADOPT_EXISTING]
        return dyn.ReadResult(spec.resource_id(name, version), spec.outputs(inputs, model), inputs)

    @_explain_auth
    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dyn.UpdateResult:
        from . import spec
        from .client import EnkryptNotFoundError
        from .secrets import secret_strings

        body = spec.request_body(news)
        name, version = spec.identity(olds)
        api = self._api()
        secrets = secret_strings(body)
        try:
            # modify-model is a full replace, so repeating it after a dropped connection is harmless.
            model = api.modify_model(name, version, body, retry_writes_on_disconnect=True, secrets=secrets)
        except EnkryptNotFoundError:
            # Deleted out of band since the last refresh: bring it back as declared.
            model = self._add(body, adopt=True)
        return dyn.UpdateResult(spec.outputs(news, model))

    @_explain_auth
    def delete(self, id_: str, props: dict[str, Any]) -> None:
        from . import spec

        if "model_saved_name" in props and "model_version" in props:
            name, version = spec.identity(props)
        else:
            name, version = spec.parse_id(id_)
        self._api().delete_model(name, version, missing_ok=True)
