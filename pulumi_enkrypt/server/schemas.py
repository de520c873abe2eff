"""Request and response bodies of each kind as pydantic models, for the OpenAPI document only (handlers build
plain dicts).

A kind's request body is its generated wire model, injected by :func:`add_request_schemas`, so the server
documents exactly what it validates against. Its response bodies are built from the same wire model and the
kind's declaration: the server fields, the identity, and what each response shape may move or leave out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from pulumi_enkrypt import wire
from pulumi_enkrypt.kinds import Kind


class ErrorBody(BaseModel):
    message: str
    request_id: str


class FieldProblem(BaseModel):
    field: str = Field(description="Key path of the bad field, e.g. model_config.endpoint.port, or a header name")
    reason: str


class ValidationErrorBody(ErrorBody):
    errors: list[FieldProblem]


def _error(description: str, model: type[BaseModel] = ErrorBody) -> dict[str, Any]:
    return {"model": model, "description": description}


Responses = dict[int | str, dict[str, Any]]

UNAUTHORIZED: Responses = {401: _error("Missing or unknown API key")}
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

# The server fields every kind shares; the id (``model_id``) comes from the declaration. Those of
# ``facts.computed_outputs`` are in every response shape, the others in some.
_SERVER_TYPES: dict[str, Any] = {
    "project_name": str,
    "created_at": datetime,
    "updated_at": datetime,
    "created_by": str,
    "updated_by": str,
    "is_sample": bool,
}
_OPEN = ConfigDict(extra="allow", populate_by_name=True, protected_namespaces=())


def _field(key: str, annotation: Any, required: bool, description: str | None = None) -> tuple[Any, Any]:
    """A field under its wire name (which may be a pydantic attribute name, as ``model_config`` is)."""
    if required:
        return annotation, Field(alias=key, description=description)
    return annotation | None, Field(default=None, alias=key, description=description)


def _object_model(kind: Kind) -> type[BaseModel]:
    request = wire.request_model(kind)
    declared = {f.alias or name: f for name, f in request.model_fields.items()}
    hoisted = declared.get(kind.hoisted_into)
    hoisted_model = wire.nested_model(hoisted.annotation)[0] if hoisted is not None else None
    hoisted_fields = {f.alias or name: f for name, f in hoisted_model.model_fields.items()} if hoisted_model else {}
    computed = set(kind.facts.computed_outputs)
    fields: dict[str, Any] = {
        "f_id": (int, Field(alias=kind.api.id_field, ge=1)),
        **{f"f_{key}": (str, Field(alias=key)) for key in kind.identity},
        **{f"f_{key}": _field(key, type_, key in computed) for key, type_ in _SERVER_TYPES.items()},
    }
    for key, info in declared.items():
        if key in kind.identity:
            continue
        if key in kind.text_lists:  # sent back as Enkrypt sends it: one item per line, and the count
            text, count = kind.text_lists[key]
            fields[f"f_{text}"] = _field(text, str, info.is_required(), "One item per line")
            fields[f"f_{count}"] = _field(count, int, info.is_required(), "How many items")
            continue
        # Objects are open: a shape may move keys out of them, and masking turns secrets into strings.
        annotation = dict[str, Any] if wire.nested_model(info.annotation)[0] is not None else info.annotation
        fields[f"f_{key}"] = _field(key, annotation, info.is_required())
    for key in kind.facts.hoisted_fields if hoisted_model else ():
        info = hoisted_fields[key]
        fields[f"f_{key}"] = _field(key, info.annotation, False, "Documented shape only")
    doc = (
        f"A saved {kind.noun}: the request fields plus server-computed ones. Which optional keys appear depends "
        "on the server's response shape (sdk or documented); secrets may be masked as ``********``."
    )
    model: type[BaseModel] = create_model(f"{kind.name}Object", __config__=_OPEN, __doc__=doc, **fields)
    return model


def _listing(kind: Kind, obj: type[BaseModel]) -> type[BaseModel]:
    items: Any = list[obj]  # type: ignore[valid-type]
    model: type[BaseModel] = create_model(f"{kind.name}List", f_list=(items, Field(alias=kind.api.list_key)))
    return model


def _link(kind: Kind, operation_id: str) -> dict[str, Any]:
    headers = kind.api.identity_headers
    return {
        "operationId": operation_id,
        "parameters": {f"header.{headers[key]}": f"$response.body#/data/{key}" for key in kind.identity},
    }


@dataclass(frozen=True)
class KindSchemas:
    """What the OpenAPI document says about one kind's calls."""

    request_body: dict[str, Any]
    object: type[BaseModel]
    envelope: type[BaseModel]
    listing: type[BaseModel]
    deleted: type[BaseModel]
    not_found: Responses
    conflict: Responses
    saved_links: Responses
    operation_ids: dict[str, str]


def request_schema_name(kind: Kind) -> str:
    return f"{kind.name}RequestObject"


def operation_ids(kind: Kind) -> dict[str, str]:
    one, many = (word.replace(" ", "_").replace("-", "_") for word in (kind.noun, kind.plural))
    return {
        "add": f"create_{one}",
        "get": f"get_{one}",
        "list": f"list_{many}",
        "modify": f"modify_{one}",
        "delete": f"delete_{one}",
    }


def for_kind(kind: Kind) -> KindSchemas:
    obj = _object_model(kind)
    echo = kind.api.delete_echo or kind.identity
    echoed: dict[str, Any] = {
        name: (f.annotation, Field(alias=f.alias)) for name, f in obj.model_fields.items() if f.alias in echo
    }
    deleted = create_model(f"{kind.name}Deleted", **echoed)
    ids = operation_ids(kind)
    request = f"#/components/schemas/{request_schema_name(kind)}"
    messages = kind.messages
    return KindSchemas(
        request_body={"required": True, "content": {"application/json": {"schema": {"$ref": request}}}},
        object=obj,
        envelope=create_model(f"{kind.name}Envelope", message=(str, ...), data=(obj, ...)),
        listing=_listing(kind, obj),
        deleted=create_model(f"{kind.name}DeleteEnvelope", message=(str, ...), data=(deleted, ...)),
        not_found={404: _error(f"No {kind.noun} with that identity in the caller's project: {messages.not_found}")},
        conflict={409: _error(f"A {kind.noun} with that identity already exists: {messages.conflict}")},
        # OpenAPI links let a stateful client (schemathesis) reach the object that add/modify returned.
        saved_links={
            200: {
                "links": {f"{verb.title()}{kind.name}": _link(kind, ids[verb]) for verb in ("get", "modify", "delete")}
            }
        },
        operation_ids=ids,
    )


def add_request_schemas(openapi: dict[str, Any], kinds: tuple[Kind, ...]) -> dict[str, Any]:
    """Put each kind's wire model (and the models it uses) into components.schemas."""
    components = openapi.setdefault("components", {}).setdefault("schemas", {})
    for kind in kinds:
        schema = wire.request_model(kind).model_json_schema(
            by_alias=True, ref_template="#/components/schemas/{model}", mode="validation"
        )
        for name, definition in schema.pop("$defs", {}).items():
            if components.get(name, definition) != definition:
                raise RuntimeError(f"schema name clash in OpenAPI components: {name}")
            components[name] = definition
        components[request_schema_name(kind)] = schema
    return openapi
