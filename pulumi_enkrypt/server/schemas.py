"""Response bodies as pydantic models, for the OpenAPI document only (handlers build plain dicts).

The request body's schema is not here: it is ``pulumi_enkrypt.wire.ModelRequest``, injected by
:func:`add_request_schema`, so the server documents exactly what it validates against.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from pulumi_enkrypt import wire

REQUEST_SCHEMA_NAME = "ModelRequestObject"
REQUEST_BODY: dict[str, Any] = {
    "required": True,
    "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{REQUEST_SCHEMA_NAME}"}}},
}


class ErrorBody(BaseModel):
    message: str
    request_id: str


class FieldProblem(BaseModel):
    field: str = Field(description="Key path of the bad field, e.g. model_config.endpoint.port, or a header name")
    reason: str


class ValidationErrorBody(ErrorBody):
    errors: list[FieldProblem]


class ModelObject(BaseModel):
    """A saved model: the request fields plus server-computed ones. Which optional keys appear depends on the
    server's response shape (sdk or documented); secrets may be masked as ``********``."""

    model_config = ConfigDict(extra="allow", protected_namespaces=(), populate_by_name=True)

    model_id: int = Field(ge=1)
    model_saved_name: str
    model_version: str
    project_name: str
    created_at: datetime
    updated_at: datetime
    created_by: str | None = None
    updated_by: str | None = None
    is_sample: bool | None = None
    testing_for: str | None = None
    model_name: str | None = None
    certifications: list[str] | None = None
    model_provider: str | None = Field(default=None, description="Documented shape only")
    hosting_type: str | None = Field(default=None, description="Documented shape only")
    details: dict[str, Any] = Field(alias="model_config")


class ModelEnvelope(BaseModel):
    message: str
    data: ModelObject


class ModelList(BaseModel):
    models: list[ModelObject]


class Identity(BaseModel):
    model_saved_name: str
    model_version: str


class DeleteEnvelope(BaseModel):
    message: str
    data: Identity


def _error(description: str, model: type[BaseModel] = ErrorBody) -> dict[str, Any]:
    return {"model": model, "description": description}


Responses = dict[int | str, dict[str, Any]]

UNAUTHORIZED: Responses = {401: _error("Missing or unknown API key")}
NOT_FOUND: Responses = {404: _error("No model with that name and version in the caller's project")}
CONFLICT: Responses = {409: _error("A model with that name and version already exists")}
INVALID: Responses = {
    422: _error("The body or a header breaks the schema; each bad field is named", ValidationErrorBody)
}
FAULTS: Responses = {
    429: {
        "model": ErrorBody,
        "description": "Rate limited (injected or per-key rpm limit)",
        "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait"}},
    },
    500: _error("Injected server error"),
    502: _error("Injected server error"),
    503: _error("Injected server error"),
    504: _error("Injected server error"),
}


def _identity_link(operation_id: str) -> dict[str, Any]:
    return {
        "operationId": operation_id,
        "parameters": {
            "header.X-Enkrypt-Model": "$response.body#/data/model_saved_name",
            "header.X-Enkrypt-Model-Version": "$response.body#/data/model_version",
        },
    }


# OpenAPI links let a stateful client (schemathesis) reach the model that add/modify returned.
SAVED_LINKS: Responses = {
    200: {
        "links": {
            "GetModel": _identity_link("get_model"),
            "ModifyModel": _identity_link("modify_model"),
            "DeleteModel": _identity_link("delete_model"),
        }
    }
}


def add_request_schema(openapi: dict[str, Any]) -> dict[str, Any]:
    """Put wire.ModelRequest (and the models it uses) into components.schemas."""
    schema = wire.ModelRequest.model_json_schema(
        by_alias=True, ref_template="#/components/schemas/{model}", mode="validation"
    )
    components = openapi.setdefault("components", {}).setdefault("schemas", {})
    for name, definition in schema.pop("$defs", {}).items():
        if name in components:
            raise RuntimeError(f"schema name clash in OpenAPI components: {name}")
        components[name] = definition
    components[REQUEST_SCHEMA_NAME] = schema
    return openapi
