"""Lookups of existing objects, like a generated SDK's ``get_*``: written once against a ``Kind``
(``lookup``, ``lookup_output``), with ``get_<kind>`` and ``get_<kind>_output`` for each kind (``get_model``,
``get_guardrails_policy``, ``get_guardrail``, ``get_deployment``, ``get_code_of_conduct_policy``).

Dynamic providers cannot serve invokes (``Resource.get`` and ``import`` do not work for them), so a lookup
is a plain function that calls Enkrypt from the program, with the same credentials as the provider.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import pulumi
import pulumi.runtime
from pulumi.output import UNKNOWN

from .code_of_conduct_policy_outputs import GetCodeOfConductPolicyResult
from .deployment_outputs import GetDeploymentResult
from .guardrail_outputs import GetGuardrailResult
from .guardrails_policy_outputs import GetGuardrailsPolicyResult
from .kinds import COC_POLICY, DEPLOYMENT, GUARDRAIL, MODEL, POLICY, Kind
from .outputs import GetModelResult
from .secrets import map_secrets, secret_strings
from .settings import NAMESPACE, read_settings
from .spec import unhoisted

if TYPE_CHECKING:
    from ._client import EnkryptClient


T = TypeVar("T")


def _result(model: Mapping[str, Any]) -> GetModelResult:
    model = unhoisted(model, MODEL)
    config = model["model_config"]
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


def find(kind: Kind, identity: Sequence[str]) -> dict[str, Any] | None:
    """The object of ``kind`` named ``identity`` as Enkrypt holds it, or None."""
    with _client() as api:
        return api.find(kind, identity)


def lookup(kind: Kind, identity: Sequence[str]) -> dict[str, Any]:
    """The object, with each secret field a secret ``pulumi.Output``. Raises ``EnkryptNotFoundError``."""
    with _client() as api:
        found = api.get(kind, identity)
    return map_secrets(unhoisted(found, kind), pulumi.Output.secret, kind.facts.secret_paths)


def lookup_output(
    kind: Kind, identity: Sequence[pulumi.Input[str]], build: Callable[[dict[str, Any]], T]
) -> pulumi.Output[T]:
    """``lookup`` for Output arguments, e.g. a resource's own name, turned into a result by ``build``.

    The result is secret when the object holds secrets (its fields then hold plain values). In a preview,
    an object that does not exist yet because a resource of the program will create it is unknown, as any
    output of that resource is, rather than an error."""
    args = pulumi.Output.all(*identity)

    async def has_dependencies() -> bool:
        return bool(await args.resources())

    def resolve(parts: list[Any]) -> Any:
        names, pending = parts
        wanted = [str(n) for n in names]
        found = find(kind, wanted)
        if found is None:
            if pending and pulumi.runtime.is_dry_run():
                return UNKNOWN  # a resource this lookup depends on is yet to be created
            from ._exceptions import EnkryptNotFoundError

            raise EnkryptNotFoundError(f"no {kind.describe(tuple(wanted))}", status=404)
        result = build(unhoisted(found, kind))
        if secret_strings(found, kind.facts.secret_paths):
            return pulumi.Output.secret(result)
        return result

    pending: pulumi.Output[bool] = pulumi.Output.from_input(has_dependencies())
    looked_up: pulumi.Output[T] = pulumi.Output.all(args, pending).apply(resolve)
    return looked_up


def get_model(model_saved_name: str, model_version: str = "v1") -> GetModelResult:
    """Look up an existing model by name and version. Raises ``EnkryptNotFoundError`` if there is none.

    The secret fields of ``model_config`` come back as secret Outputs."""
    return _result(lookup(MODEL, (model_saved_name, model_version)))


def get_model_output(
    model_saved_name: pulumi.Input[str], model_version: pulumi.Input[str] = "v1"
) -> pulumi.Output[GetModelResult]:
    """``get_model`` for Output arguments, e.g. a ``Model``'s own ``model_saved_name``.

    The result is secret when the model holds secrets (its ``model_config`` then holds plain values). In a
    preview, a model that does not exist yet because a resource of the program will create it is unknown,
    as any output of that resource is, rather than an error."""
    return lookup_output(MODEL, (model_saved_name, model_version), _result)


def _named_result(kind: Kind, result: Callable[..., T]) -> Callable[[Mapping[str, Any]], T]:
    """The lookup result of a kind named by one ``name``: its inputs, its computed outputs, ``is_sample``."""

    def build(found: Mapping[str, Any]) -> T:
        fields = (*kind.facts.top_level_fields, *kind.facts.computed_outputs)
        values = {key: found.get(key) for key in fields}
        return result(id=kind.resource_id(kind.identity_of(found)), is_sample=bool(found.get("is_sample")), **values)

    return build


_policy_result = _named_result(POLICY, GetGuardrailsPolicyResult)
_guardrail_result = _named_result(GUARDRAIL, GetGuardrailResult)
_deployment_result = _named_result(DEPLOYMENT, GetDeploymentResult)
_coc_result = _named_result(COC_POLICY, GetCodeOfConductPolicyResult)


def get_guardrails_policy(name: str) -> GetGuardrailsPolicyResult:
    """Look up an existing guardrails policy by name. Raises ``EnkryptNotFoundError`` if there is none."""
    return _policy_result(lookup(POLICY, (name,)))


def get_guardrails_policy_output(name: pulumi.Input[str]) -> pulumi.Output[GetGuardrailsPolicyResult]:
    """``get_guardrails_policy`` for an Output argument, e.g. a ``GuardrailsPolicy``'s own ``name``: unknown
    in a preview while the policy is yet to be created, rather than an error."""
    return lookup_output(POLICY, (name,), _policy_result)


def get_guardrail(name: str) -> GetGuardrailResult:
    """Look up an existing guardrail by name. Raises ``EnkryptNotFoundError`` if there is none."""
    return _guardrail_result(lookup(GUARDRAIL, (name,)))


def get_guardrail_output(name: pulumi.Input[str]) -> pulumi.Output[GetGuardrailResult]:
    """``get_guardrail`` for an Output argument: unknown in a preview while the guardrail is yet to be created."""
    return lookup_output(GUARDRAIL, (name,), _guardrail_result)


def get_deployment(name: str) -> GetDeploymentResult:
    """Look up an existing deployment by name. Raises ``EnkryptNotFoundError`` if there is none."""
    return _deployment_result(lookup(DEPLOYMENT, (name,)))


def get_deployment_output(name: pulumi.Input[str]) -> pulumi.Output[GetDeploymentResult]:
    """``get_deployment`` for an Output argument: unknown in a preview while the deployment is yet to be
    created."""
    return lookup_output(DEPLOYMENT, (name,), _deployment_result)


def get_code_of_conduct_policy(name: str) -> GetCodeOfConductPolicyResult:
    """Look up an existing code-of-conduct policy by name. Raises ``EnkryptNotFoundError`` if there is none."""
    return _coc_result(lookup(COC_POLICY, (name,)))


def get_code_of_conduct_policy_output(name: pulumi.Input[str]) -> pulumi.Output[GetCodeOfConductPolicyResult]:
    """``get_code_of_conduct_policy`` for an Output argument: unknown in a preview while the policy is yet to
    be created."""
    return lookup_output(COC_POLICY, (name,), _coc_result)
