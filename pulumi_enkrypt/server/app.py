"""The FastAPI app: the five calls of each resource kind, built from its declaration (``kinds.Kind``), Enkrypt's
error bodies, and the ``/_emulator/`` admin path.

No ``from __future__ import annotations`` here: a kind's routes are made in a function, and FastAPI resolves
their annotations, which name that function's locals, from the objects themselves.
"""

import copy
import hashlib
import inspect
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request, Security
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp

from pulumi_enkrypt import wire
from pulumi_enkrypt._api import API_KEY_HEADER, HEADER_REFRESH, from_wire, to_wire
from pulumi_enkrypt.kinds import ALL_KINDS, MODEL, Kind
from pulumi_enkrypt.secrets import secret_values_at

from . import schemas
from .faults import FaultInjector, FaultMiddleware, FaultSettings, Stats, fault_paths
from .shapes import Shape, drop, render, server_fields
from .store import Collection, Conflict, NotFound, Store, Stored

KINDS: tuple[Kind, ...] = ALL_KINDS
"""The kinds the server serves."""
FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")
MAX_PER_PAGE = 100
SAMPLES_USER = "enkrypt-samples"


@dataclass
class ServerConfig:
    api_keys: dict[str, str]  # key -> project
    db: str = ":memory:"
    response_shape: Shape = "sdk"
    mask_secrets: bool = False
    strict_providers: bool = False
    samples: int = 0
    faults: FaultSettings = field(default_factory=FaultSettings)
    kinds: tuple[Kind, ...] = KINDS


@dataclass(frozen=True)
class Caller:
    project: str
    user: str


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        errors: list[wire.FieldError] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors
        self.headers = headers


def user_for_key(key: str) -> str:
    """A stable, non-secret name for the caller (never the key itself)."""
    return "user-" + hashlib.sha256(key.encode()).hexdigest()[:12]


def error_response(
    status: int, message: str, errors: list[wire.FieldError] | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    body: dict[str, Any] = {"message": message, "request_id": uuid.uuid4().hex}
    if errors is not None:
        body["errors"] = [{"field": e.path, "reason": e.reason} for e in errors]
    return JSONResponse(body, status_code=status, headers=headers)


def invalid(errors: list[wire.FieldError]) -> ApiError:
    names = ", ".join(dict.fromkeys(e.path for e in errors))
    return ApiError(422, f"Invalid request: {names}", errors)


def sample_body(kind: Kind, index: int) -> dict[str, Any] | None:
    """The kind's sample body, numbered ``index``; None when the kind has no sample."""
    if kind.sample is None:
        return None
    body = copy.deepcopy(dict(kind.sample))
    for key in kind.identity:
        if isinstance(body.get(key), str):
            body[key] = body[key].replace("{n}", str(index))
    return body


def _keep_given_ints(dumped: Any, given: Any) -> Any:
    """Echo 20 as 20, not 20.0: pydantic turns ints into floats for float fields."""
    if isinstance(dumped, dict) and isinstance(given, dict):
        return {k: _keep_given_ints(v, given.get(k)) for k, v in dumped.items()}
    if isinstance(dumped, list) and isinstance(given, list) and len(dumped) == len(given):
        return [_keep_given_ints(d, g) for d, g in zip(dumped, given, strict=True)]
    if isinstance(dumped, float) and type(given) is int and dumped == given:
        return given
    return dumped


def clean_body(raw: Any, strict_providers: bool, kind: Kind = MODEL) -> dict[str, Any]:
    """Normalize (nulls and empty enum strings are absent), ignore unknown keys (but in the objects the kind
    declares closed: a policy's unknown detector is a 422 naming its path), validate, type."""
    if not isinstance(raw, dict):
        raise invalid([wire.FieldError("body", "must be a JSON object")])
    cleaned = wire.strip_unknown(wire.normalize(kind, raw), kind)
    # The wire schema holds every rule, names included (they travel in identity headers later), so the
    # server refuses exactly what the provider's check refuses.
    model, errors = wire.validate(kind, cleaned, strict_providers=strict_providers)
    if errors or model is None:
        raise invalid(errors)
    dumped = model.model_dump(mode="json", by_alias=True, exclude_unset=True)
    result: dict[str, Any] = _keep_given_ints(dumped, cleaned)
    return result


class AdminConfig(BaseModel):
    """A partial update of the run-time settings: absent keys keep their value; the seed restarts."""

    model_config = ConfigDict(extra="forbid")

    response_shape: Literal["sdk", "documented"] | None = None
    mask_secrets: bool | None = None
    fill_defaults: bool | None = None
    check_references: bool | None = None
    latency_ms: int | None = Field(default=None, ge=0)
    rate_429: float | None = Field(default=None, ge=0, le=1)
    retry_after: int | None = Field(default=None, ge=0)
    rate_5xx: float | None = Field(default=None, ge=0, le=1)
    rate_drop: float | None = Field(default=None, ge=0, le=1)
    rpm_limit: int | None = Field(default=None, ge=0)
    seed: int | None = None


class SampleRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    count: int = Field(ge=0, le=1000)


class EmulatorApp(FastAPI):
    """FastAPI with the fault layer outermost, where uvicorn's raw ``send`` (and its socket) is reachable."""

    fault_layer: FaultMiddleware | None = None
    kinds: tuple[Kind, ...] = ()
    """Whose request bodies ``openapi()`` documents."""

    def build_middleware_stack(self) -> ASGIApp:
        inner = super().build_middleware_stack()
        if self.fault_layer is None:
            return inner
        self.fault_layer.app = inner
        return self.fault_layer

    def openapi(self) -> dict[str, Any]:
        if self.openapi_schema is None:
            self.openapi_schema = schemas.add_request_schemas(super().openapi(), self.kinds)
        return self.openapi_schema


def _field_path(loc: tuple[Any, ...]) -> str:
    if loc and loc[0] in ("header", "query", "path", "cookie"):
        return str(loc[-1])
    parts = [p for p in loc if p != "body"]
    return ".".join(str(p) for p in parts) or "body"


_API_KEY_HEADER = APIKeyHeader(name=API_KEY_HEADER, auto_error=False, description="Your Enkrypt API key")


def caller(request: Request, key: Annotated[str | None, Security(_API_KEY_HEADER)]) -> Caller:
    keys: dict[str, str] = request.app.state.api_keys
    if not key:
        raise ApiError(401, "No API key found in request")
    project = keys.get(key)
    if project is None:
        raise ApiError(401, "Unauthorized")
    return Caller(project, user_for_key(key))


Auth = Annotated[Caller, Security(caller)]
RefreshCache = Annotated[str | None, Header(alias=HEADER_REFRESH, description="Accepted; this server has no cache")]


def identity_dependency(kind: Kind) -> Callable[..., tuple[str, ...]]:
    """A dependency that reads the headers naming one object of ``kind`` (FastAPI checks and documents them)."""
    params = [
        inspect.Parameter(
            f"h{i}",
            inspect.Parameter.KEYWORD_ONLY,
            annotation=Annotated[
                str,
                Header(
                    alias=kind.api.identity_headers[key],
                    description=kind.api.identity_help.get(key, f"The {kind.noun}'s {key.replace('_', ' ')}"),
                ),
            ],
        )
        for i, key in enumerate(kind.identity)
    ]

    def read(**values: str) -> tuple[str, ...]:
        return tuple(values[p.name] for p in params)

    read.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    return read


@dataclass
class View:
    """How answers look now: switched at run time through ``/_emulator/config``."""

    shape: Shape
    mask: bool
    strict_providers: bool
    fill_defaults: bool = True
    """Fill in what the service fills in for a field left out (a policy's detectors, [unknown] 10.2 of the
    guardrails contract); off, a body is echoed exactly as sent: the provider must see no drift either way."""
    check_references: bool = False
    """Refuse a body naming an object that does not exist, and a delete of an object a stored body names
    ([unknown] 10.5: off by default, as the SDK's live tests show the service)."""

    def show(self, kind: Kind, stored: Stored) -> dict[str, Any]:
        return to_wire(kind, render(kind, stored, self.shape, self.mask, fill_defaults=self.fill_defaults))

    async def read_body(self, request: Request, kind: Kind) -> dict[str, Any]:
        if request.headers.get("content-type", "").startswith(FORM_TYPES):
            form = await request.form()
            # No kind's schema holds a file (a CoC policy's PDF is write-only on the service): refusing one,
            # by its field, says more than the 422 for the text field it stands in for.
            files = [key for key, value in form.multi_items() if not isinstance(value, str)]
            if files:
                reason = "is a file upload; this server keeps no files: send the text fields instead"
                raise invalid([wire.FieldError(key, reason) for key in dict.fromkeys(files)])
            raw: Any = {key: value for key, value in form.items() if isinstance(value, str)}
        else:
            try:
                raw = json.loads(await request.body())
            except (ValueError, UnicodeDecodeError):
                raise invalid([wire.FieldError("body", "is not valid JSON")]) from None
        if not isinstance(raw, dict):
            return clean_body(raw, self.strict_providers, kind)
        sent = set(raw)
        try:
            return clean_body(
                _held_form(kind, _blank_is_absent(raw, kind.facts.server_defaults)), self.strict_providers, kind
            )
        except ApiError as exc:
            # Name a text list the way the caller sent it (policy_rules), not the way the server keeps it.
            if exc.errors:
                exc = invalid([_wire_path(kind, e, sent) for e in exc.errors])
            raise exc from None


def _blank_is_absent(body: dict[str, Any], defaults: Any) -> dict[str, Any]:
    """``""`` where the service fills in a non-blank default is a field left out: the SDK sends a missing
    ``model_version`` as ``""``, which the service stores as ``v1`` (section 6.2 of the contract)."""
    blanks = wire.defaulted_blanks(body, defaults)
    if not blanks:
        return body
    out = copy.deepcopy(body)
    for path in blanks:
        drop(out, path)
    return out


def _wire_path(kind: Kind, error: wire.FieldError, sent: set[str]) -> wire.FieldError:
    """An error at a text list the caller did not send as a list, at the wire's text field instead."""
    for key, (text, _count) in kind.text_lists.items():
        if key in sent:
            continue
        if error.path == key or error.path.startswith((f"{key}[", f"{key}.")):
            return wire.FieldError(text + error.path[len(key) :], error.reason)
    return error


def _held_form(kind: Kind, raw: dict[str, Any]) -> dict[str, Any]:
    """A body as Enkrypt takes it (a code-of-conduct policy's rules one per line, and their count) in the form
    the server keeps; a count that is not the number of rules is refused."""
    held = from_wire(kind, raw)
    for key, (_text, count) in kind.text_lists.items():
        if count not in held:
            continue
        given = held.pop(count)
        try:
            number = int(given)
        except (TypeError, ValueError):
            raise invalid([wire.FieldError(count, "must be a whole number")]) from None
        items = held.get(key)
        if isinstance(items, list) and number != len(items):
            raise invalid([wire.FieldError(count, f"is {number}, but {len(items)} {key} were sent")])
    return held


def _named(body: dict[str, Any], fields: tuple[str, ...], target: Kind) -> tuple[str, ...] | None:
    """The identity of the object a reference of ``body`` names (the target's defaults for what it leaves
    out, a model's version); None when the body names none."""
    trailing = target.identity[len(target.identity) - len(target.id_fallback) :]
    fallback = dict(zip(trailing, target.id_fallback, strict=True))
    values: list[str] = []
    for path, key in zip(fields, target.identity, strict=True):
        found = secret_values_at(body, path)
        value = found[0] if found else fallback.get(key)
        if not isinstance(value, str) or not value:
            return None
        values.append(value)
    return tuple(values)


@dataclass
class References:
    """What each kind's bodies name, checked when ``View.check_references`` is on."""

    store: Store
    kinds: tuple[Kind, ...]

    def missing(self, kind: Kind, project: str, body: dict[str, Any]) -> list[wire.FieldError]:
        by_name = {k.name: k for k in self.kinds}
        errors = []
        for ref in kind.references:
            targets = [by_name[name] for name in ref.kinds if name in by_name]
            named = _named(body, ref.fields, targets[0]) if targets else None
            if named is None:
                continue
            if not any(self.store[t].get(project, named) for t in targets):
                what = " or ".join(t.noun for t in targets)
                errors.append(wire.FieldError(ref.fields[0], f"names no {what} of this project"))
        return errors

    def users(self, kind: Kind, project: str, identity: tuple[str, ...]) -> list[str]:
        """The objects of other kinds whose bodies name ``identity`` of ``kind``: where a reference may name
        several kinds, the one it resolves to (the first kind holding that name, as ``missing`` looks)."""
        by_name = {k.name: k for k in self.kinds}
        found = []
        for other in self.kinds:
            for ref in other.references:
                if kind.name not in ref.kinds:
                    continue
                earlier = [by_name[name] for name in ref.kinds[: ref.kinds.index(kind.name)] if name in by_name]
                for stored in self.store[other].list(project):
                    if _named(stored.body, ref.fields, kind) != identity:
                        continue
                    if any(self.store[e].get(project, identity) for e in earlier):
                        continue  # it names an object of a kind looked up first (a policy, not a guardrail)
                    found.append(f"{other.noun} {other.resource_id(stored.identity)!r}")
        return sorted(set(found))


def kind_routes(kind: Kind, objects: Collection, view: View, refs: References) -> APIRouter:
    """Enkrypt's five calls of one kind: paths, headers, envelopes and messages from its declaration."""
    api, said, docs = kind.api, kind.messages, schemas.for_kind(kind)
    op = docs.operation_ids
    one, many = kind.noun.title(), kind.plural.title()
    Identity = Annotated[tuple[str, ...], Depends(identity_dependency(kind))]
    common: schemas.Responses = {**schemas.UNAUTHORIZED, **schemas.FAULTS}
    writes: schemas.Responses = {**common, **docs.conflict, **schemas.INVALID, **docs.saved_links}
    # The keyword arguments that calls naming an object in headers, and calls saving a body, share.
    naming: dict[str, Any] = {"responses": {**common, **docs.not_found, **schemas.INVALID}}
    saving: dict[str, Any] = {"response_model": docs.envelope, "openapi_extra": {"requestBody": docs.request_body}}
    router = APIRouter()

    async def refuse_if_used(who: Caller, identity: tuple[str, ...]) -> None:
        """With ``check_references`` on, a 409 naming what still names ``identity`` (deleted or renamed)."""
        if not view.check_references or await run_in_threadpool(objects.get, who.project, identity) is None:
            return  # nothing to keep: the call answers 404
        users = await run_in_threadpool(refs.users, kind, who.project, identity)
        if users:
            raise ApiError(409, f"{said.not_found.removesuffix(' not found')} is used by {', '.join(users)}")

    async def save(
        request: Request,
        who: Caller,
        write: Callable[..., Stored],
        message: str,
        renamed_from: tuple[str, ...] | None = None,
    ) -> JSONResponse:
        """Validate the body, write it (``write(project, body, user)``), answer with the saved object."""
        body = await view.read_body(request, kind)
        if view.check_references:
            problems = await run_in_threadpool(refs.missing, kind, who.project, body)
            if problems:
                raise invalid(problems)
            # A rename leaves what named the old name dangling, as a delete would.
            if renamed_from is not None and kind.identity_of(body) != renamed_from:
                await refuse_if_used(who, renamed_from)
        try:
            saved = await run_in_threadpool(write, who.project, body, who.user)
        except NotFound:
            raise ApiError(404, said.not_found) from None
        except Conflict:
            raise ApiError(409, said.conflict) from None
        return JSONResponse({"message": message, "data": view.show(kind, saved)})

    @router.post(api.add, responses=writes, summary=f"Create {one}", operation_id=op["add"], **saving)
    async def add(request: Request, who: Auth) -> JSONResponse:
        return await save(request, who, objects.add, said.added)

    @router.get(api.get, response_model=docs.object, summary=f"Get {one}", operation_id=op["get"], **naming)
    async def get(who: Auth, identity: Identity, refresh: RefreshCache = None) -> JSONResponse:
        found = await run_in_threadpool(objects.get, who.project, identity)
        if found is None:
            raise ApiError(404, said.not_found)
        return JSONResponse(view.show(kind, found))

    @router.get(
        api.list, response_model=docs.listing, responses=common, summary=f"List {many}", operation_id=op["list"]
    )
    async def list_all(
        who: Auth,
        page: Annotated[int, Query(ge=1, description="1-based page (paged lists only)")] = 1,
        per_page: Annotated[int, Query(ge=1, description=f"Items per page, at most {MAX_PER_PAGE}")] = 10,
    ) -> JSONResponse:
        found = await run_in_threadpool(objects.list, who.project)
        if not api.paged:
            return JSONResponse({api.list_key: [view.show(kind, stored) for stored in found]})
        # [unknown] 10.8: a per_page above the cap is capped; a page past the last is empty.
        size = min(per_page, MAX_PER_PAGE)
        pages = (len(found) + size - 1) // size
        shown = found[(page - 1) * size : page * size]
        pagination = {
            "page": page,
            "per_page": size,
            "total_count": len(found),
            "total_pages": pages,
            "has_next": page < pages,
            "has_previous": page > 1,
        }
        return JSONResponse({api.list_key: [view.show(kind, s) for s in shown], "pagination": pagination})

    @router.patch(
        api.modify,
        responses={**writes, **docs.not_found},
        summary=f"Modify {one}",
        operation_id=op["modify"],
        **saving,
    )
    async def modify(request: Request, who: Auth, identity: Identity) -> JSONResponse:
        def write(project: str, body: dict[str, Any], user: str) -> Stored:
            return objects.modify(project, identity, body, user)

        return await save(request, who, write, said.updated, renamed_from=identity)

    @router.delete(
        api.delete, response_model=docs.deleted, summary=f"Delete {one}", operation_id=op["delete"], **naming
    )
    async def delete(who: Auth, identity: Identity) -> JSONResponse:
        await refuse_if_used(who, identity)
        gone = await run_in_threadpool(objects.delete, who.project, identity)
        if gone is None:
            raise ApiError(404, said.not_found)
        echoed = server_fields(kind, gone)
        data = {key: echoed[key] for key in api.delete_echo or kind.identity}
        return JSONResponse({"message": said.deleted, "data": data})

    @router.delete(f"/_emulator/{kind.collection}", include_in_schema=False)
    async def wipe(who: Auth) -> dict[str, Any]:
        """Not part of Enkrypt's API: empty the caller's project of this kind."""
        return {"deleted": await run_in_threadpool(objects.wipe, who.project)}

    return router


def create_app(config: ServerConfig) -> FastAPI:
    store = Store(config.db, config.kinds)
    injector = FaultInjector(config.faults)
    stats = Stats()
    view = View(config.response_shape, config.mask_secrets, config.strict_providers)

    plurals = ", ".join(kind.plural for kind in config.kinds)
    app = EmulatorApp(
        title=f"Enkrypt AI {plurals} API (local emulator)",
        version="1.0.0",
        description=f"The five calls of each resource kind ({plurals}) of api.enkryptai.com, served locally. "
        "The /_emulator/ admin path is deliberately left out of this document.",
    )
    app.kinds = config.kinds
    app.fault_layer = FaultMiddleware(
        app.router,
        injector=injector,
        stats=stats,
        fault_paths=fault_paths(config.kinds),
        known_key=config.api_keys.__contains__,
    )
    app.state.store = store
    app.state.api_keys = dict(config.api_keys)

    def seed_samples(project: str, count: int) -> int:
        created = 0
        for kind in config.kinds:
            for i in range(1, count + 1):
                body = sample_body(kind, i)
                if body is not None:
                    created += store[kind].ensure(project, body, SAMPLES_USER, is_sample=True)
        return created

    for project in sorted(set(config.api_keys.values())):
        seed_samples(project, config.samples)

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.message, exc.errors, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            wire.FieldError(
                _field_path(tuple(e.get("loc", ()))),
                "is required" if e.get("type") == "missing" else str(e.get("msg", "is invalid")),
            )
            for e in exc.errors()
        ]
        return error_response(422, invalid(errors).message, errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error_response(exc.status_code, str(exc.detail), headers=dict(exc.headers or {}))

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        return error_response(500, "Internal server error")

    refs = References(store, config.kinds)
    for kind in config.kinds:
        app.include_router(kind_routes(kind, store[kind], view, refs))

    # ------------------------------------------------------------------ admin (not part of Enkrypt's API)

    def current_config() -> dict[str, Any]:
        return {
            "response_shape": view.shape,
            "mask_secrets": view.mask,
            "fill_defaults": view.fill_defaults,
            "check_references": view.check_references,
            **injector.settings.to_dict(),
        }

    @app.get("/_emulator/config", include_in_schema=False)
    async def get_config(who: Auth) -> dict[str, Any]:
        return current_config()

    @app.put("/_emulator/config", include_in_schema=False)
    async def put_config(who: Auth, changes: AdminConfig) -> dict[str, Any]:
        given = changes.model_dump(exclude_none=True)
        if "response_shape" in given:
            view.shape = given.pop("response_shape")
        if "mask_secrets" in given:
            view.mask = given.pop("mask_secrets")
        if "fill_defaults" in given:
            view.fill_defaults = given.pop("fill_defaults")
        if "check_references" in given:
            view.check_references = given.pop("check_references")
        injector.configure(replace(injector.settings, **given))
        return current_config()

    @app.get("/_emulator/stats", include_in_schema=False)
    async def get_stats(who: Auth) -> dict[str, Any]:
        return stats.snapshot()

    @app.post("/_emulator/reset-stats", include_in_schema=False)
    async def reset_stats(who: Auth) -> dict[str, Any]:
        stats.reset()
        return stats.snapshot()

    @app.post("/_emulator/samples", include_in_schema=False)
    async def add_samples(who: Auth, body: SampleRequest) -> dict[str, Any]:
        return {"created": await run_in_threadpool(seed_samples, who.project, body.count), "count": body.count}

    return app
