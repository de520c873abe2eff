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

from .schema_facts import ADOPT_EXISTING, REPLACE_ON_CHANGE, SECRET_PATHS, TOP_LEVEL_FIELDS
from .settings import NAMESPACE, ConfigLike, Settings, SettingsError, read_settings

if TYPE_CHECKING:
    from ._client import EnkryptClient
    from .wire import FieldError

# Top-level inputs that never hold a secret: the engine may print their values with a check failure.
PRINTABLE_FIELDS = frozenset(
    {*(f for f in TOP_LEVEL_FIELDS if not any(p.startswith(f"{f}.") or p == f for p in SECRET_PATHS)), ADOPT_EXISTING}
)

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

Identity = tuple[str, str]


class _RunLedger:
    """What this run (one provider process serves one engine run) knows about who holds which model.

    The engine creates a replacement, or a renamed resource, before it deletes the old one, and a delete
    carries no word of the resource that took the model over. So a delete must not remove a model that
    another resource holds: one that this run wrote last for another resource (``written``: the model's
    ``model_id`` and ``updated_at`` after that write differ from the deleted resource's), or one the program
    declares (``declared``, seen in check) and that changed since the deleted resource last saw it (taken
    over in an earlier, interrupted run).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.declared: set[Identity] = set()
        self.written: dict[Identity, tuple[Any, Any]] = {}
        self.released: set[Identity] = set()  # deletes skipped because another resource holds the model

    def declare(self, identity: Identity) -> None:
        with self._lock:
            self.declared.add(identity)

    def wrote(self, identity: Identity, model: Mapping[str, Any]) -> None:
        with self._lock:
            self.written[identity] = _version_of(model)

    def release(self, identity: Identity) -> None:
        with self._lock:
            self.released.add(identity)


def _version_of(model: Mapping[str, Any]) -> tuple[Any, Any]:
    """Which state of a model a resource last saw: a takeover modifies it, a re-creation renumbers it."""
    return model.get("model_id"), model.get("updated_at")


def _failure(error: FieldError) -> dyn.CheckFailure:
    """The engine prints the value of a failing top-level property next to the reason (``{<nil>}`` for a
    nested path). A key the schema does not declare may hold a misplaced secret, and ``model_config`` holds
    secrets: for all but the plain top-level fields the path goes into the reason, with no value to print."""
    if error.path in PRINTABLE_FIELDS:
        return dyn.CheckFailure(error.path, error.reason)
    return dyn.CheckFailure("", f"{error.path}: {error.reason}")


class ModelProvider(dyn.ResourceProvider):
    """Create, read, update and delete Enkrypt models; check and diff locally."""

    # Nothing secret is captured, so the pickled provider needs no encryption (saves work per resource).
    serialize_as_secret_always = False

    def __init__(self) -> None:
        self._init_runtime()

    def _init_runtime(self) -> None:
        self._config: ConfigLike | Mapping[str, Any] = {}
        self._client: EnkryptClient | None = None
        self._lock = threading.Lock()
        self._ledger = _RunLedger()

    # Pickle only the class reference: the same few bytes for every resource and every version.
    def __getstate__(self) -> dict[str, Any]:
        return {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._init_runtime()

    def configure(self, req: dyn.ConfigureRequest) -> None:
        # Kept, not resolved: a bad setting is reported by check, once per resource, not by configure.
        self._config = req.config

    def _settings(self) -> Settings:
        return read_settings(self._config)

    def _api(self) -> EnkryptClient:
        from ._client import EnkryptClient

        # Built lazily, once, and shared by the host's four worker threads.
        with self._lock:
            if self._client is None:
                self._client = EnkryptClient.from_settings(self._settings())
            return self._client

    # -- local steps -------------------------------------------------------------------------------------

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> dyn.CheckResult:
        from . import spec

        news = spec.with_secret_revisions(olds, news)
        try:
            settings = self._settings()
        except SettingsError as err:
            # A preview must not pass when `up` cannot run: say it here, once per resource.
            return dyn.CheckResult(news, [dyn.CheckFailure("", str(err))])
        news, errors = spec.check(news, strict_providers=settings.strict_providers)
        failures = [_failure(e) for e in errors]
        known = spec.known_identity(news)
        if known is not None:
            self._ledger.declare(known)
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
        # A model whose delete this run kept (its old resource is gone, the program still declares it) is
        # this stack's own: the create takes it over instead of failing.
        adopt = (
            bool(props.get(ADOPT_EXISTING))
            or self._settings().adopt_existing
            or (name, version) in self._ledger.released
        )
        model = self._add(body, adopt=adopt)
        self._ledger.wrote((name, version), model)
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
                    + ". If you renamed this resource in your program, add "
                    "`opts=pulumi.ResourceOptions(aliases=[pulumi.Alias(name=\"<old name>\")])` so Pulumi keeps "
                    "the model. To take over a model made outside this stack, set adopt_existing=True on the "
                    f"resource, or run `pulumi up` once with `{NAMESPACE}:adoptExisting=true` (after an interrupted "
                    "run); it will be modified to match. Otherwise choose another model_saved_name / model_version.",
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
        for key in (ADOPT_EXISTING, spec.SECRET_REVISIONS):  # inputs of ours, not the server's
            if key in props:
                inputs[key] = props[key]
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
        self._ledger.wrote((name, version), model)
        return dyn.UpdateResult(spec.outputs(news, model))

    @_explain_auth
    def delete(self, id_: str, props: dict[str, Any]) -> None:
        from . import spec

        if "model_saved_name" in props and "model_version" in props:
            name, version = spec.identity(props)
        else:
            name, version = spec.parse_id(id_)
        if self._held_by_another((name, version), props):
            self._ledger.release((name, version))
            return  # another resource of this stack holds the model now: only this one leaves the state
        self._api().delete_model(name, version, missing_ok=True)

    def _held_by_another(self, identity: Identity, props: Mapping[str, Any]) -> bool:
        if identity in self._ledger.written:
            return self._ledger.written[identity] != _version_of(props)
        if identity not in self._ledger.declared:
            return False
        existing = self._api().find_model(*identity)
        # Changed since this resource last saw it, while the program declares it: taken over by the other.
        return existing is not None and _version_of(existing) != _version_of(props)
