"""The ``enkrypt`` provider plugin: the dynamic provider's lifecycle, served over the plugin protocol.

Nothing here decides anything about Enkrypt objects. Each request is unwrapped into the plain data the
dynamic provider's ``KindProvider`` takes, handed to the ``KindProvider`` of the request's kind, and its answer
wrapped back; so validation, the client, adoption, drift and the run ledger are the same code for both. What
the plugin adds is what the protocol can say and a dynamic provider cannot: a diff per property, secrets
marked by the provider, lookups as invokes, a read by id alone (``pulumi import``), one configuration per
provider instance, and no cap of four calls at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pulumi.dynamic as dyn
from pulumi.provider.experimental import provider as p

from ..kinds import ALL_KINDS, Kind
from ..provider import KindProvider
from ..settings import CONFIG_KEYS, KEY_API_KEY, NAMESPACE
from .values import plain, plain_map, wrap_map

__all__ = ["PACKAGE", "EnkryptProvider", "all_kinds", "function_token", "resource_token"]

PACKAGE = "enkrypt"
# Calls run in threads (the core is blocking HTTP); the engine decides how many run at once (`--parallel`).
MAX_THREADS = 64

_T = TypeVar("_T")


def all_kinds() -> tuple[Kind, ...]:
    """Every kind ``kinds.py`` declares: a new kind needs no change here."""
    return ALL_KINDS


def resource_token(kind: Kind) -> str:
    return f"{PACKAGE}:index:{kind.name}"


def function_token(kind: Kind) -> str:
    return f"{PACKAGE}:index:get{kind.name}"


def _config_key(key: str) -> str | None:
    """``enkrypt:config:apiKey`` (how the engine names a variable), ``enkrypt:apiKey`` or ``apiKey`` ->
    ``enkrypt:apiKey`` when it is one of our settings, else None."""
    name = key.rsplit(":", 1)[-1]
    return f"{NAMESPACE}:{name}" if name in CONFIG_KEYS else None


def _config_text(value: Any) -> str | None:
    """A setting as the text ``read_settings`` parses (the engine may send typed values: 6.0, True)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _kind_provider(kind: Kind) -> KindProvider:
    attrs = {"kind": kind, "__module__": __name__}
    cls: type[KindProvider] = type(f"Plugin{kind.name}Provider", (KindProvider,), attrs)
    return cls()


class EnkryptProvider(p.Provider):
    """One provider instance (the engine starts a process per provider resource): its own configuration,
    its own ``KindProvider`` per kind, and so its own client and run ledger."""

    def __init__(self, schema_path: Path, version: str) -> None:
        self._schema_path = schema_path
        self._version = version
        self._kinds = {resource_token(k): k for k in all_kinds()}
        self._functions = {function_token(k): k for k in all_kinds()}
        self._providers = {token: _kind_provider(kind) for token, kind in self._kinds.items()}
        self._pool = ThreadPoolExecutor(max_workers=MAX_THREADS, thread_name_prefix="enkrypt")

    async def _run(self, fn: Callable[..., _T], *args: Any) -> _T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, functools.partial(fn, *args))

    def _provider(self, type_token: str) -> tuple[Kind, KindProvider]:
        kind = self._kinds.get(type_token)
        if kind is None:
            known = ", ".join(sorted(self._kinds))
            raise ValueError(f"unknown resource type {type_token!r}; this provider serves {known}")
        return kind, self._providers[type_token]

    # -- the provider itself ------------------------------------------------------------------------------

    async def get_schema(self, request: p.GetSchemaRequest) -> p.GetSchemaResponse:
        return p.GetSchemaResponse(schema=self._schema_path.read_text(encoding="utf-8"))

    async def check_config(self, request: p.CheckRequest) -> p.CheckResponse:
        # The API key is kept secret in state even when a program passes it as a plain string.
        return p.CheckResponse(inputs=wrap_map(plain_map(request.new_inputs), (KEY_API_KEY,), request.new_inputs))

    async def configure(self, request: p.ConfigureRequest) -> p.ConfigureResponse:
        config: dict[str, Any] = {}
        for key, variable in request.variables.items():
            if (full := _config_key(key)) is not None:
                config[full] = variable
        for key, value in request.args.items():  # the provider's inputs: typed, and they win
            if (full := _config_key(key)) is not None and (text := _config_text(plain(value))) is not None:
                config[full] = text
        # Fresh providers for this configuration (the engine configures an instance once, before any resource
        # call): a client is never built from another configuration. Settings are kept, not resolved, as the
        # dynamic provider does: check reports a bad one per resource.
        self._providers = {token: _kind_provider(kind) for token, kind in self._kinds.items()}
        for provider in self._providers.values():
            provider.configure(dyn.ConfigureRequest(dyn.Config(config, NAMESPACE)))
        # No preview support: create and update are never called in a preview, as for the dynamic provider.
        return p.ConfigureResponse(accept_secrets=True, supports_preview=False)

    # -- resources ----------------------------------------------------------------------------------------

    async def check(self, request: p.CheckRequest) -> p.CheckResponse:
        kind, provider = self._provider(request.type)
        result = await self._run(provider.check, plain_map(request.old_inputs), plain_map(request.new_inputs))
        failures = [p.CheckFailure(f.property, f.reason) for f in result.failures or []]
        inputs = wrap_map(result.inputs or {}, kind.facts.secret_paths, request.new_inputs)
        return p.CheckResponse(inputs=inputs, failures=failures)

    async def diff(self, request: p.DiffRequest) -> p.DiffResponse:
        from .. import spec

        kind, _ = self._provider(request.type)
        olds, news = plain_map(request.old_state), plain_map(request.new_inputs)
        changed = await self._run(spec.changed_fields, olds, news, kind)
        replaces = [k for k in changed if k in kind.facts.replace_on_change]
        detailed: dict[str, p.PropertyDiff] = {}
        for key in changed:
            replace = key in replaces
            if key not in olds:
                diff_kind = p.PropertyDiffKind.ADD_REPLACE if replace else p.PropertyDiffKind.ADD
            elif key not in news:
                diff_kind = p.PropertyDiffKind.DELETE_REPLACE if replace else p.PropertyDiffKind.DELETE
            else:
                diff_kind = p.PropertyDiffKind.UPDATE_REPLACE if replace else p.PropertyDiffKind.UPDATE
            detailed[key] = p.PropertyDiff(diff_kind, input_diff=True)
        return p.DiffResponse(
            changes=bool(changed),
            replaces=replaces,
            diffs=list(changed),
            detailed_diff=detailed,
            delete_before_replace=False,
        )

    async def create(self, request: p.CreateRequest) -> p.CreateResponse:
        kind, provider = self._provider(request.type)
        result = await self._run(provider.create, plain_map(request.properties))
        outs = wrap_map(result.outs or {}, kind.facts.secret_paths, request.properties)
        return p.CreateResponse(resource_id=result.id, properties=outs)

    async def read(self, request: p.ReadRequest) -> p.ReadResponse:
        kind, provider = self._provider(request.type)
        # An import sends the id alone: the core reads the identity from it and the inputs from the server.
        result = await self._run(provider.read, request.resource_id, plain_map(request.properties))
        if not result.id:
            return p.ReadResponse(resource_id="")  # gone: the engine drops it from state
        secrets = kind.facts.secret_paths
        # No inputs from the core: nothing drifted, and the stored inputs stand as they are.
        inputs = request.inputs if result.inputs is None else wrap_map(dict(result.inputs), secrets, request.inputs)
        return p.ReadResponse(
            resource_id=result.id,
            properties=wrap_map(result.outs or {}, secrets, request.properties),
            inputs=inputs,
        )

    async def update(self, request: p.UpdateRequest) -> p.UpdateResponse:
        kind, provider = self._provider(request.type)
        result = await self._run(provider.update, request.resource_id, plain_map(request.olds), plain_map(request.news))
        outs = wrap_map(result.outs or {}, kind.facts.secret_paths, request.news)
        return p.UpdateResponse(properties=outs)

    async def delete(self, request: p.DeleteRequest) -> None:
        _, provider = self._provider(request.type)
        await self._run(provider.delete, request.resource_id, plain_map(request.properties))

    # -- lookups ------------------------------------------------------------------------------------------

    async def invoke(self, request: p.InvokeRequest) -> p.InvokeResponse:
        kind = self._functions.get(request.tok)
        if kind is None:
            known = ", ".join(sorted(self._functions))
            raise ValueError(f"unknown function {request.tok!r}; this provider serves {known}")
        args = plain_map(request.args)
        identity, failures = _identity_args(kind, args)
        if failures:
            return p.InvokeResponse(failures=failures)
        provider = self._providers[resource_token(kind)]
        found = await self._run(_find, provider, kind, identity)
        if found is None:
            reason = f"Enkrypt has no {kind.describe(identity)} in this project"
            return p.InvokeResponse(failures=[p.CheckFailure("", reason)])
        return p.InvokeResponse(return_value=wrap_map(found, kind.facts.secret_paths))


def _identity_args(kind: Kind, args: Mapping[str, Any]) -> tuple[tuple[str, ...], list[p.CheckFailure]]:
    """The identity a lookup names; a missing trailing part takes the kind's fallback (a model's ``v1``)."""
    fallback = dict(zip(kind.identity[len(kind.identity) - len(kind.id_fallback) :], kind.id_fallback, strict=True))
    values: list[str] = []
    failures: list[p.CheckFailure] = []
    for field in kind.identity:
        value = args.get(field, fallback.get(field))
        if not isinstance(value, str) or not value:
            failures.append(p.CheckFailure(field, f"is required: the {field} of the {kind.noun} to look up"))
            continue
        values.append(value)
    return tuple(values), failures


def _find(provider: KindProvider, kind: Kind, identity: tuple[str, ...]) -> dict[str, Any] | None:
    """The object as a lookup returns it: its schema fields (hoisted ones put back) and what the server
    computed, with its resource id."""
    from ..spec import unhoisted

    found = provider.find(identity)
    if found is None:
        return None
    obj = unhoisted(found, kind)
    keep = {*kind.facts.top_level_fields, *kind.facts.server_fields}
    return {"id": kind.resource_id(identity), **{k: v for k, v in obj.items() if k in keep}}


_RPCS = ("CheckConfig", "Configure", "Check", "Diff", "Create", "Read", "Update", "Delete", "Invoke", "GetSchema")


def _servicer_class() -> type[Any]:
    """The SDK's servicer, but a failure reaches the user as its message: the SDK's would be prefixed with
    ``Unexpected <class '...EnkryptConflictError'>:``. Errors of ours say what is wrong already; anything
    else keeps its class name."""
    import grpc
    from pulumi.provider.experimental.server import ProviderServicer

    from .._exceptions import EnkryptError
    from ..settings import SettingsError

    def clean(method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        async def rpc(self: Any, request: Any, context: Any) -> Any:
            try:
                return await method(self, request, context)
            except (EnkryptError, SettingsError, ValueError) as err:
                await context.abort(grpc.StatusCode.UNKNOWN, str(err))
            except grpc.aio.AbortError:
                raise
            except Exception as err:
                await context.abort(grpc.StatusCode.UNKNOWN, f"{type(err).__name__}: {err}")

        return rpc

    return type(
        "EnkryptServicer", (ProviderServicer,), {name: clean(getattr(ProviderServicer, name)) for name in _RPCS}
    )


def main(schema_path: Path, args: list[str] | None = None) -> None:
    """Serve the provider, as ``pulumi.provider.experimental``'s ``main`` does, with clean error messages: the
    engine's address is the first argument; the port goes to stdout; GetSchema answers ``schema_path``."""
    import argparse
    import sys

    import grpc
    from pulumi.runtime._grpc_settings import _GRPC_CHANNEL_OPTIONS
    from pulumi.runtime.proto import provider_pb2_grpc

    from .._version import __version__

    argv = list(sys.argv[1:] if args is None else args)
    parser = argparse.ArgumentParser(description="The enkrypt Pulumi provider plugin (gRPC server)")
    parser.add_argument("engine", help="the engine's address")
    engine = parser.parse_known_args(argv)[0].engine  # the engine may add flags (--logtostderr, -v=9)
    provider = EnkryptProvider(schema_path, __version__)

    async def serve() -> None:
        server = grpc.aio.server(options=_GRPC_CHANNEL_OPTIONS)
        servicer = _servicer_class()(argv, __version__, provider, engine_address=engine)
        provider_pb2_grpc.add_ResourceProviderServicer_to_server(servicer, server)
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        sys.stdout.write(f"{port}\n")  # the launch handshake: the engine reads this one line
        sys.stdout.flush()
        await server.wait_for_termination()

    with contextlib.suppress(KeyboardInterrupt):  # the engine stops plugins with SIGINT
        asyncio.run(serve())
