"""The dynamic providers: one lifecycle (check, diff, create with adoption and read-back, update, read,
delete) written once against a ``Kind``, and one provider class per kind.

The engine runs a provider class in its own process (``python -m pulumi.dynamic``) after unpickling it from
state. Each is pickled by reference (this module's path and the class names must never move: existing stacks
hold ``pulumi_enkrypt.provider.ModelProvider``, ``GuardrailsPolicyProvider`` and the rest) and carries nothing:
credentials arrive through ``configure`` from the stack's config or the environment, so rotated keys work and
no secret is pickled into state.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import pulumi.dynamic as dyn

from .kinds import COC_POLICY, DEPLOYMENT, GUARDRAIL, MODEL, POLICY, Kind
from .settings import KEY_ADOPT_EXISTING, NAMESPACE, ConfigLike, Settings, SettingsError, read_settings

if TYPE_CHECKING:
    from ._client import EnkryptClient
    from ._exceptions import FieldError

# The program process imports this module only to pickle a reference to a provider class; the modules that do
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
        from ._exceptions import EnkryptAuthError

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

Identity = tuple[str, ...]


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
        self.written: dict[Identity, tuple[Any, ...]] = {}
        self.released: set[Identity] = set()  # deletes skipped because another resource holds the model
        # Taken over by a create of this run: in one engine run a resource is never both created and deleted
        # (a delete-before-replace deletes first), so a later delete of it is another resource's.
        self.taken: set[Identity] = set()

    def declare(self, identity: Identity) -> None:
        with self._lock:
            self.declared.add(identity)

    def wrote(self, identity: Identity, version: tuple[Any, ...], *, taken: bool = False) -> None:
        with self._lock:
            self.written[identity] = version
            if taken:
                self.taken.add(identity)

    def release(self, identity: Identity) -> None:
        with self._lock:
            self.released.add(identity)


def _version_of(kind: Kind, obj: Mapping[str, Any]) -> tuple[Any, ...]:
    """Which state of an object a resource last saw (its server-computed outputs: id, timestamps): a
    takeover modifies it, a re-creation renumbers it."""
    return tuple(obj.get(key) for key in kind.facts.computed_outputs)


def _printable_fields(kind: Kind) -> frozenset[str]:
    """Top-level inputs that never hold a secret: the engine may print their values with a check failure."""
    facts = kind.facts
    plain = {f for f in facts.top_level_fields if not any(p == f or p.startswith(f"{f}.") for p in facts.secret_paths)}
    return frozenset({*plain, facts.adopt_input})


def _failure(kind: Kind, error: FieldError) -> dyn.CheckFailure:
    """The engine prints the value of a failing top-level property next to the reason (``{<nil>}`` for a
    nested path). A key the schema does not declare may hold a misplaced secret, and an object such as
    ``model_config`` holds secrets: for all but the plain top-level fields the path goes into the reason,
    with no value to print."""
    if error.path in _printable_fields(kind):
        return dyn.CheckFailure(error.path, error.reason)
    return dyn.CheckFailure("", f"{error.path}: {error.reason}")


_CLIENTS: dict[tuple[str, str, float, int], EnkryptClient] = {}
_CLIENTS_LOCK = threading.Lock()


def _shared_client(settings: Settings) -> EnkryptClient:
    """One client per connection settings in a process: the providers of every kind (one each) share its
    connection pool and TLS context instead of building their own."""
    from ._client import EnkryptClient

    key = (settings.base_url, settings.api_key, settings.timeout, settings.max_attempts)
    with _CLIENTS_LOCK:
        client = _CLIENTS.get(key)
        if client is None:
            client = _CLIENTS[key] = EnkryptClient.from_settings(settings)
        return client


class KindProvider(dyn.ResourceProvider):
    """Create, read, update and delete Enkrypt objects of one kind; check and diff locally."""

    kind: ClassVar[Kind]

    # Nothing secret is captured, so the pickled provider needs no encryption (saves work per resource).
    serialize_as_secret_always = False

    def __init__(self) -> None:
        self._init_runtime()

    def _init_runtime(self) -> None:
        self._config: ConfigLike | Mapping[str, Any] = {}
        self._read: Settings | SettingsError | None = None  # the config read once: its settings, or why not
        self._ledger = _RunLedger()

    # Pickle only the class reference: the same few bytes for every resource and every version.
    def __getstate__(self) -> dict[str, Any]:
        return {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._init_runtime()

    def configure(self, req: dyn.ConfigureRequest) -> None:
        # Kept, not resolved: a bad setting is reported by check, once per resource, not by configure.
        self._config = req.config
        self._read = None

    def _settings(self) -> Settings:
        # Read once per configuration (every check and create asks), the failure as well as the settings.
        if self._read is None:
            try:
                self._read = read_settings(self._config)
            except SettingsError as err:
                self._read = err
        if isinstance(self._read, SettingsError):
            raise self._read
        return self._read

    def _api(self) -> EnkryptClient:
        # The process's client for this configuration's settings, shared by every kind and worker thread.
        return _shared_client(self._settings())

    def find(self, identity: tuple[str, ...]) -> dict[str, Any] | None:
        """The object of this kind with ``identity`` as Enkrypt holds it (a fresh read), or None: what a
        lookup served by another front end (the provider plugin's invoke) reads."""
        return self._api().find(self.kind, identity)

    # -- local steps -------------------------------------------------------------------------------------

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> dyn.CheckResult:
        from . import spec

        kind = self.kind
        news = spec.with_secret_revisions(olds, news, kind)
        try:
            settings = self._settings()
        except SettingsError as err:
            # A preview must not pass when `up` cannot run: say it here, once per resource.
            return dyn.CheckResult(news, [dyn.CheckFailure("", str(err))])
        if news == olds and not settings.strict_providers:
            # The inputs the engine stored (this check's own answer, or what a read found) come back as they
            # are: canonical already, and Enkrypt took them. Validating them again would cost a schema
            # validation per object on every preview, and a rule a later release adds would fail the
            # no-change preview of an object the service holds. Only the secret rule still applies: a mask
            # must never be sent as a secret, not even by a `--replace`.
            errors = spec.secret_failures(news, kind)
        else:
            news, errors = spec.check(news, kind=kind, strict_providers=settings.strict_providers)
        known = spec.known_identity(news, kind)
        if known is not None:
            self._ledger.declare(known)
        return dyn.CheckResult(news, [_failure(kind, e) for e in errors])

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dyn.DiffResult:
        from . import spec

        changed = spec.changed_fields(olds, news, self.kind)
        replaces = [k for k in changed if k in self.kind.facts.replace_on_change]
        return dyn.DiffResult(changes=bool(changed), replaces=replaces, delete_before_replace=False)

    # -- remote steps ------------------------------------------------------------------------------------

    @_explain_auth
    def create(self, props: dict[str, Any]) -> dyn.CreateResult:
        from . import spec

        kind = self.kind
        body = spec.request_body(props, kind)
        identity = kind.identity_of(body)
        # An object whose delete this run kept (its old resource is gone, the program still declares it) is
        # this stack's own: the create takes it over instead of failing.
        adopt = (
            bool(props.get(kind.facts.adopt_input))
            or self._settings().adopt_existing
            or identity in self._ledger.released
        )
        created, taken = self._add(body, adopt=adopt)
        self._ledger.wrote(identity, _version_of(kind, created), taken=taken)
        return dyn.CreateResult(kind.resource_id(identity), spec.outputs(props, created, kind))

    def _add(self, body: dict[str, Any], *, adopt: bool) -> tuple[dict[str, Any], bool]:
        """Add the object: (what the server holds, whether an existing object was taken over)."""
        from . import spec
        from ._exceptions import EnkryptConflictError, EnkryptError, EnkryptMaybeCommittedError
        from .secrets import secret_strings

        kind, api = self.kind, self._api()
        identity = kind.identity_of(body)
        secrets = secret_strings(body)

        def same(existing: Mapping[str, Any]) -> bool:
            return spec.same_model(spec.server_view(existing, body, kind), body, kind)

        def take_over(existing: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
            # Even an identical object that looks like our own earlier, unanswered add is written once more,
            # and only a confirmed write counts: if another resource of the stack held it (a rename under
            # faults), the write changes what that resource last saw, so its delete, in this run or a later
            # one, leaves the object to this one (see _RunLedger).
            try:
                return api.modify(kind, identity, body, retry_writes_on_disconnect=True, secrets=secrets), True
            except EnkryptError as err:
                if not err.maybe_committed:
                    raise
                landed = api.find(kind, identity)  # no answer came back: did the write land?
                if landed is None or not same(landed) or _version_of(kind, landed) == _version_of(kind, existing):
                    raise
                return landed, True

        maybe_landed = False
        for _ in range(_CREATE_ROUNDS):
            try:
                return api.add(kind, body, secrets=secrets), False
            except EnkryptMaybeCommittedError:
                maybe_landed = True
            except EnkryptConflictError:
                existing = api.find(kind, identity)
                if existing is None:
                    continue  # deleted meanwhile: add again
                if adopt or (maybe_landed and same(existing)):
                    return take_over(existing)
                raise self._conflict(identity, identical=same(existing)) from None
            # The add may have been committed before the connection dropped: look before adding again.
            existing = api.find(kind, identity)
            if existing is not None and (adopt or same(existing)):
                return take_over(existing)
        raise EnkryptMaybeCommittedError(
            f"could not confirm that {kind.describe(identity)} was added after "
            f"{_CREATE_ROUNDS} attempts; run `pulumi refresh` then `pulumi up` again",
            method="POST",
            path=kind.api.add,
        )

    def _conflict(self, identity: tuple[str, ...], *, identical: bool) -> Exception:
        from ._exceptions import EnkryptConflictError

        kind = self.kind
        return EnkryptConflictError(
            f"Enkrypt already has a {kind.describe(identity)} in this project"
            + (" (identical to this one: perhaps made by an interrupted run)" if identical else "")
            + ". If you renamed this resource in your program, add "
            "`opts=pulumi.ResourceOptions(aliases=[pulumi.Alias(name=\"<old name>\")])` so Pulumi keeps "
            f"the {kind.noun}. To take over a {kind.noun} made outside this stack, set "
            f"{kind.facts.adopt_input}=True on the resource, or run `pulumi up` once with "
            f"`{NAMESPACE}:{KEY_ADOPT_EXISTING}=true` (after an interrupted run); it will be modified to match. "
            f"Otherwise choose another {' / '.join(kind.identity)}.",
            status=409,
            method="POST",
            path=kind.api.add,
        )

    @_explain_auth
    def read(self, id_: str, props: dict[str, Any]) -> dyn.ReadResult:
        from . import spec

        kind = self.kind
        identity = kind.identity_from(id_, props)
        found = self._api().find(kind, identity)
        if found is None:
            return dyn.ReadResult("", {})  # gone: the engine drops it from state
        inputs = spec.server_view(found, props, kind)
        for key in (kind.facts.adopt_input, spec.SECRET_REVISIONS):  # inputs of ours, not the server's
            if key in props:
                inputs[key] = props[key]
        outs = spec.outputs(inputs, found, kind)
        # Outputs are the inputs plus what the server computed: when they read back as stored, so do the
        # inputs, and the engine keeps the stored ones when read returns none (no drift, nothing to send).
        drifted = outs != {k: v for k, v in props.items() if k != "__provider"}
        return dyn.ReadResult(kind.resource_id(identity), outs, inputs if drifted else None)

    @_explain_auth
    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dyn.UpdateResult:
        from . import spec
        from ._exceptions import EnkryptNotFoundError
        from .secrets import secret_strings

        kind = self.kind
        body = spec.request_body(news, kind)
        identity = kind.identity_of(olds)
        try:
            # A modify is a full replace, so repeating it after a dropped connection is harmless.
            saved = self._api().modify(
                kind, identity, body, retry_writes_on_disconnect=True, secrets=secret_strings(body)
            )
        except EnkryptNotFoundError:
            # Deleted out of band since the last refresh: bring it back as declared.
            saved, _ = self._add(body, adopt=True)
        self._ledger.wrote(identity, _version_of(kind, saved))
        return dyn.UpdateResult(spec.outputs(news, saved, kind))

    @_explain_auth
    def delete(self, id_: str, props: dict[str, Any]) -> None:
        identity = self.kind.identity_from(id_, props)
        if self._held_by_another(identity, props):
            self._ledger.release(identity)
            return  # another resource of this stack holds the object now: only this one leaves the state
        self._api().delete(self.kind, identity, missing_ok=True)

    def _held_by_another(self, identity: Identity, props: Mapping[str, Any]) -> bool:
        kind = self.kind
        if identity in self._ledger.taken:
            return True
        if identity in self._ledger.written:
            return self._ledger.written[identity] != _version_of(kind, props)
        if identity not in self._ledger.declared:
            return False
        existing = self._api().find(kind, identity)
        # Changed since this resource last saw it, while the program declares it: taken over by the other.
        return existing is not None and _version_of(kind, existing) != _version_of(kind, props)


class ModelProvider(KindProvider):
    """Create, read, update and delete Enkrypt models; check and diff locally."""

    kind = MODEL


class GuardrailsPolicyProvider(KindProvider):
    """Create, read, update and delete Enkrypt guardrails policies; check and diff locally."""

    kind = POLICY


class GuardrailProvider(KindProvider):
    """Create, read, update and delete Enkrypt guardrails; check and diff locally."""

    kind = GUARDRAIL


class DeploymentProvider(KindProvider):
    """Create, read, update and delete Enkrypt deployments; check and diff locally."""

    kind = DEPLOYMENT


class CodeOfConductPolicyProvider(KindProvider):
    """Create, read, update and delete Enkrypt code-of-conduct policies; check and diff locally."""

    kind = COC_POLICY
