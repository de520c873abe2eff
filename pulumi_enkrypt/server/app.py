"""The FastAPI app: Enkrypt's five model calls, its error bodies, and the ``/_emulator/`` admin path."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field, replace
from typing import Annotated, Any, Literal

from fastapi import FastAPI, Header, Request, Security
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp

from pulumi_enkrypt import wire

from . import schemas
from .faults import FaultInjector, FaultMiddleware, FaultSettings, Stats
from .shapes import Shape, render
from .store import Conflict, NotFound, Store

MODEL_PATHS = frozenset(
    {
        "/models/add-model",
        "/models/get-model",
        "/models/list-models",
        "/models/modify-model",
        "/models/delete-model",
    }
)
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


def sample_body(index: int) -> dict[str, Any]:
    return {
        "model_saved_name": f"Sample Model {index}",
        "model_version": "v1",
        "testing_for": "foundationModels",
        "model_name": "gpt-4o-mini",
        "certifications": [],
        "model_config": {
            "model_provider": "openai",
            "hosting_type": "External",
            "model_source": "https://openai.com",
            "endpoint": {"scheme": "https", "host": "api.openai.com", "port": 443, "base_path": "/v1"},
            "paths": {"completions": "/completions", "chat": "/chat/completions"},
            "auth_data": {"header_name": "Authorization", "header_prefix": "Bearer", "space_after_prefix": True},
            "input_modalities": ["text"],
            "output_modalities": ["text"],
            "rate_per_min": 20,
            "system_prompt": "",
            "metadata": {},
            "default_request_options": {},
        },
    }


def _keep_given_ints(dumped: Any, given: Any) -> Any:
    """Echo 20 as 20, not 20.0: pydantic turns ints into floats for float fields."""
    if isinstance(dumped, dict) and isinstance(given, dict):
        return {k: _keep_given_ints(v, given.get(k)) for k, v in dumped.items()}
    if isinstance(dumped, list) and isinstance(given, list) and len(dumped) == len(given):
        return [_keep_given_ints(d, g) for d, g in zip(dumped, given, strict=True)]
    if isinstance(dumped, float) and type(given) is int and dumped == given:
        return given
    return dumped


def clean_body(raw: Any, strict_providers: bool) -> dict[str, Any]:
    """Normalize (nulls and empty enum strings are absent), ignore unknown keys, validate, type."""
    if not isinstance(raw, dict):
        raise invalid([wire.FieldError("body", "must be a JSON object")])
    cleaned = wire.strip_unknown(wire.normalize_request(raw))
    # The wire schema holds every rule, names included (they travel in X-Enkrypt-Model headers later), so the
    # server refuses exactly what the provider's check refuses.
    model, errors = wire.validate_request(cleaned, strict_providers=strict_providers)
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

    def build_middleware_stack(self) -> ASGIApp:
        inner = super().build_middleware_stack()
        if self.fault_layer is None:
            return inner
        self.fault_layer.app = inner
        return self.fault_layer

    def openapi(self) -> dict[str, Any]:
        if self.openapi_schema is None:
            self.openapi_schema = schemas.add_request_schema(super().openapi())
        return self.openapi_schema


def _field_path(loc: tuple[Any, ...]) -> str:
    if loc and loc[0] in ("header", "query", "path", "cookie"):
        return str(loc[-1])
    parts = [p for p in loc if p != "body"]
    return ".".join(str(p) for p in parts) or "body"


_API_KEY_HEADER = APIKeyHeader(name="apikey", auto_error=False, description="Your Enkrypt API key")


def caller(request: Request, key: Annotated[str | None, Security(_API_KEY_HEADER)]) -> Caller:
    keys: dict[str, str] = request.app.state.api_keys
    if not key:
        raise ApiError(401, "No API key found in request")
    project = keys.get(key)
    if project is None:
        raise ApiError(401, "Unauthorized")
    return Caller(project, user_for_key(key))


Auth = Annotated[Caller, Security(caller)]
ModelName = Annotated[str, Header(alias="X-Enkrypt-Model", description="The model's saved name")]
ModelVersion = Annotated[str, Header(alias="X-Enkrypt-Model-Version", description="The model's version")]
RefreshCache = Annotated[
    str | None, Header(alias="X-Enkrypt-Refresh-Cache", description="Accepted; this server has no cache")
]


def create_app(config: ServerConfig) -> FastAPI:
    store = Store(config.db)
    injector = FaultInjector(config.faults)
    stats = Stats()
    state: dict[str, Any] = {"shape": config.response_shape, "mask": config.mask_secrets}

    app = EmulatorApp(
        title="Enkrypt AI models API (local emulator)",
        version="1.0.0",
        description="The five model-registration calls of api.enkryptai.com, served locally. "
        "The /_emulator/ admin path is deliberately left out of this document.",
    )
    app.fault_layer = FaultMiddleware(
        app.router, injector=injector, stats=stats, fault_paths=MODEL_PATHS, known_key=config.api_keys.__contains__
    )
    app.state.store = store
    app.state.api_keys = dict(config.api_keys)

    for project in sorted(set(config.api_keys.values())):
        for i in range(1, config.samples + 1):
            store.ensure(project, sample_body(i), SAMPLES_USER, is_sample=True)

    def show(model: Any) -> dict[str, Any]:
        return render(model, state["shape"], state["mask"])

    async def read_body(request: Request) -> dict[str, Any]:
        try:
            raw = json.loads(await request.body())
        except (ValueError, UnicodeDecodeError):
            raise invalid([wire.FieldError("body", "is not valid JSON")]) from None
        return clean_body(raw, config.strict_providers)

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

    common: schemas.Responses = {**schemas.UNAUTHORIZED, **schemas.FAULTS}

    @app.post(
        "/models/add-model",
        response_model=schemas.ModelEnvelope,
        responses={**common, **schemas.CONFLICT, **schemas.INVALID, **schemas.SAVED_LINKS},
        openapi_extra={"requestBody": schemas.REQUEST_BODY},
        summary="Create Model",
        operation_id="create_model",
    )
    async def add_model(request: Request, who: Auth) -> JSONResponse:
        body = await read_body(request)
        try:
            saved = await run_in_threadpool(store.add, who.project, body, who.user)
        except Conflict:
            raise ApiError(409, "Model with this name and version already exists") from None
        return JSONResponse({"message": "Model details added successfully", "data": show(saved)})

    @app.get(
        "/models/get-model",
        response_model=schemas.ModelObject,
        responses={**common, **schemas.NOT_FOUND, **schemas.INVALID},
        summary="Get Model",
        operation_id="get_model",
    )
    async def get_model(
        who: Auth,
        name: ModelName,
        version: ModelVersion,
        refresh: RefreshCache = None,
    ) -> JSONResponse:
        found = await run_in_threadpool(store.get, who.project, name, version)
        if found is None:
            raise ApiError(404, "Model not found")
        return JSONResponse(show(found))

    @app.get(
        "/models/list-models",
        response_model=schemas.ModelList,
        responses=common,
        summary="List Models",
        operation_id="list_models",
    )
    async def list_models(who: Auth) -> JSONResponse:
        models = await run_in_threadpool(store.list, who.project)
        return JSONResponse({"models": [show(m) for m in models]})

    @app.patch(
        "/models/modify-model",
        response_model=schemas.ModelEnvelope,
        responses={**common, **schemas.NOT_FOUND, **schemas.CONFLICT, **schemas.INVALID, **schemas.SAVED_LINKS},
        openapi_extra={"requestBody": schemas.REQUEST_BODY},
        summary="Modify Model",
        operation_id="modify_model",
    )
    async def modify_model(request: Request, who: Auth, name: ModelName, version: ModelVersion) -> JSONResponse:
        body = await read_body(request)
        try:
            saved = await run_in_threadpool(store.modify, who.project, name, version, body, who.user)
        except NotFound:
            raise ApiError(404, "Model not found") from None
        except Conflict:
            raise ApiError(409, "Model with this name and version already exists") from None
        return JSONResponse({"message": "Model details updated successfully", "data": show(saved)})

    @app.delete(
        "/models/delete-model",
        response_model=schemas.DeleteEnvelope,
        responses={**common, **schemas.NOT_FOUND, **schemas.INVALID},
        summary="Delete Model",
        operation_id="delete_model",
    )
    async def delete_model(who: Auth, name: ModelName, version: ModelVersion) -> JSONResponse:
        if not await run_in_threadpool(store.delete, who.project, name, version):
            raise ApiError(404, "Model not found")
        identity = {"model_saved_name": name, "model_version": version}
        return JSONResponse({"message": "Model details deleted successfully", "data": identity})

    # ------------------------------------------------------------------ admin (not part of Enkrypt's API)

    def current_config() -> dict[str, Any]:
        return {"response_shape": state["shape"], "mask_secrets": state["mask"], **injector.settings.to_dict()}

    @app.get("/_emulator/config", include_in_schema=False)
    async def get_config(who: Auth) -> dict[str, Any]:
        return current_config()

    @app.put("/_emulator/config", include_in_schema=False)
    async def put_config(who: Auth, changes: AdminConfig) -> dict[str, Any]:
        given = changes.model_dump(exclude_none=True)
        if "response_shape" in given:
            state["shape"] = given.pop("response_shape")
        if "mask_secrets" in given:
            state["mask"] = given.pop("mask_secrets")
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
        created = 0
        for i in range(1, body.count + 1):
            created += await run_in_threadpool(store.ensure, who.project, sample_body(i), SAMPLES_USER, is_sample=True)
        return {"created": created, "count": body.count}

    @app.delete("/_emulator/models", include_in_schema=False)
    async def wipe_models(who: Auth) -> dict[str, Any]:
        return {"deleted": await run_in_threadpool(store.wipe, who.project)}

    return app
