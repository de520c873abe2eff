"""Lookups of existing models: ``get_model`` and ``get_model_output``, like a generated SDK's ``get_*``.

Dynamic providers cannot serve invokes (``Resource.get`` and ``import`` do not work for them), so a lookup
is a plain function that calls Enkrypt from the program, with the same credentials as the provider.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pulumi
import pulumi.runtime
from pulumi.output import UNKNOWN

from .schema_facts import HOISTED_FIELDS
from .secrets import map_secrets, secret_strings
from .settings import NAMESPACE, read_settings

if TYPE_CHECKING:
    from ._client import EnkryptClient


@dataclass(frozen=True)
class GetModelResult:
    """A model as Enkrypt holds it."""

    id: str
    """``"<model_saved_name>:<model_version>"``."""
    model_saved_name: str
    model_version: str
    model_id: int | None
    testing_for: str | None
    model_name: str | None
    certifications: list[str]
    model_config: Mapping[str, Any] = field(repr=False)
    """The stored configuration. Each secret field (API keys, JWT settings, secret auth fields, header
    values, curl command) is a secret ``pulumi.Output``: exported or logged, it stays ``[secret]``."""
    project_name: str | None
    created_at: str | None
    updated_at: str | None
    is_sample: bool


def _result(model: Mapping[str, Any]) -> GetModelResult:
    config = dict(model.get("model_config") or {})
    for key in HOISTED_FIELDS:  # the documented shape lifts these to the top level
        if key not in config and key in model:
            config[key] = model[key]
    name, version = str(model["model_saved_name"]), str(model["model_version"])
    return GetModelResult(
        id=f"{name}:{version}",
        model_saved_name=name,
        model_version=version,
        model_id=model.get("model_id"),
        testing_for=model.get("testing_for"),
        model_name=model.get("model_name"),
        certifications=list(model.get("certifications") or []),
        model_config=config,
        project_name=model.get("project_name"),
        created_at=model.get("created_at"),
        updated_at=model.get("updated_at"),
        is_sample=bool(model.get("is_sample", False)),
    )


def _client() -> EnkryptClient:
    """A client with the provider's settings: the stack's ``enkrypt:*`` config (outside a Pulumi program,
    none), then the environment."""
    from ._client import EnkryptClient

    return EnkryptClient.from_settings(read_settings(pulumi.Config(NAMESPACE)))


def _fetch(model_saved_name: str, model_version: str) -> dict[str, Any]:
    with _client() as api:
        return api.get_model(model_saved_name, model_version)


def _find(model_saved_name: str, model_version: str) -> dict[str, Any] | None:
    with _client() as api:
        return api.find_model(model_saved_name, model_version)


def get_model(model_saved_name: str, model_version: str = "v1") -> GetModelResult:
    """Look up an existing model by name and version. Raises ``EnkryptNotFoundError`` if there is none.

    The secret fields of ``model_config`` come back as secret Outputs."""
    model = _fetch(model_saved_name, model_version)
    return _result({**model, "model_config": map_secrets(model, pulumi.Output.secret).get("model_config") or {}})


def get_model_output(
    model_saved_name: pulumi.Input[str], model_version: pulumi.Input[str] = "v1"
) -> pulumi.Output[GetModelResult]:
    """``get_model`` for Output arguments, e.g. a ``Model``'s own ``model_saved_name``.

    The result is secret when the model holds secrets (its ``model_config`` then holds plain values). In a
    preview, a model that does not exist yet because a resource of the program will create it is unknown,
    as any output of that resource is, rather than an error."""
    args = pulumi.Output.all(model_saved_name, model_version)

    async def has_dependencies() -> bool:
        return bool(await args.resources())

    def lookup(parts: list[Any]) -> Any:
        (name, version), pending = parts
        model = _find(str(name), str(version))
        if model is None:
            if pending and pulumi.runtime.is_dry_run():
                return UNKNOWN  # a resource this lookup depends on is yet to be created
            from ._exceptions import EnkryptNotFoundError

            raise EnkryptNotFoundError(f"no model named {name!r} version {version!r}", status=404)
        result = _result(model)
        if secret_strings({"model_config": dict(result.model_config)}):
            return pulumi.Output.secret(result)
        return result

    pending: pulumi.Output[bool] = pulumi.Output.from_input(has_dependencies())
    looked_up: pulumi.Output[GetModelResult] = pulumi.Output.all(args, pending).apply(lookup)
    return looked_up
