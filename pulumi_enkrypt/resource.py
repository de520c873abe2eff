"""The resources (``Model``, ``GuardrailsPolicy``, ``Guardrail``, ``Deployment``, ``CodeOfConductPolicy``):
typed inputs in, secrets wrapped, handed to the dynamic provider.

The schema's part of each (keyword arguments, required inputs, typed outputs) is generated (``_model_resource``,
``_guardrails_policy_resource``, ...); this module adds the rest, written once for every kind: what is sent for
an input left unset, secret wrapping, the provider, identity claims, options; and the model's provider-name
warning.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import cache
from types import ModuleType
from typing import Any, ClassVar

import pulumi
import pulumi.dynamic as dyn

from . import (
    _code_of_conduct_policy_resource,
    _deployment_resource,
    _guardrail_resource,
    _guardrails_policy_resource,
    _model_resource,
    inputs,
)
from ._code_of_conduct_policy_resource import CodeOfConductPolicyResource
from ._deployment_resource import DeploymentResource
from ._guardrail_resource import GuardrailResource
from ._guardrails_policy_resource import GuardrailsPolicyResource
from ._model_resource import ModelResource
from ._sorted_pickling import reset_sorted_pickling
from .inputs import (
    ModelArgs,
    ModelArgsDict,
)
from .kinds import COC_POLICY, DEPLOYMENT, GUARDRAIL, MODEL, POLICY, Kind
from .provider import (
    CodeOfConductPolicyProvider,
    DeploymentProvider,
    GuardrailProvider,
    GuardrailsPolicyProvider,
    KindProvider,
    ModelProvider,
)
from .schema_facts import KNOWN_VALUES
from .settings import KEY_STRICT_PROVIDERS, NAMESPACE
from .spec import SECRET_REVISIONS

_INPUT_MODULE = "pulumi_enkrypt.inputs"


def _plain(value: Any) -> Any:
    """Typed ``...Args`` objects to plain dicts (recursively), leaving Outputs and values as they are."""
    if type(value).__module__ == _INPUT_MODULE:
        return {k: _plain(v) for k, v in vars(value).items() if v is not None}
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _wrap_secret(node: Any, parts: list[str]) -> Any:
    """Mark the value at a secret key path as secret. Where the path runs into an Output whose structure is
    not known yet, the whole Output is marked: more secret, never less."""
    if isinstance(node, pulumi.Output):
        return pulumi.Output.secret(node)
    if not parts:
        return pulumi.Output.secret(node)
    head, rest = parts[0], parts[1:]
    key = head.removesuffix("[*]")
    if not isinstance(node, dict) or node.get(key) is None:
        return node
    if head.endswith("[*]"):
        items = node[key]
        if isinstance(items, pulumi.Output):
            node[key] = pulumi.Output.secret(items)
        elif isinstance(items, list):
            node[key] = [_wrap_secret(item, rest) for item in items]
    else:
        node[key] = _wrap_secret(node[key], rest)
    return node


def secret_wrapped(props: dict[str, Any], kind: Kind = MODEL) -> dict[str, Any]:
    """The properties with every secret field of the contract wrapped in ``Output.secret``, and every key the
    schema does not declare too: a secret put at the wrong level fails check, and must not be shown with
    the failure."""
    for path in kind.facts.secret_paths:
        props = _wrap_secret(props, path.split("."))
    wrapped: dict[str, Any] = _wrap_undeclared(props, f"{kind.name}ArgsDict")
    return wrapped


_NESTED_ARGS = re.compile(r"'(\w+ArgsDict)'")


@cache
def _declared_keys(typed_dict: str) -> dict[str, tuple[str | None, bool]]:
    """Key -> (the ``...ArgsDict`` it holds, whether as a list) for one generated input type."""
    annotations: dict[str, Any] = getattr(inputs, typed_dict).__annotations__
    declared: dict[str, tuple[str | None, bool]] = {}
    for key, annotation in annotations.items():
        text = str(annotation)
        nested = _NESTED_ARGS.search(text)
        declared[key] = (nested.group(1) if nested else None, "Sequence[" in text)
    return declared


def _wrap_undeclared(node: Any, typed_dict: str) -> Any:
    if not isinstance(node, dict):
        return node
    declared = _declared_keys(typed_dict)
    for key, value in node.items():
        if key not in declared:
            node[key] = pulumi.Output.secret(value) if value is not None else value
            continue
        nested, is_list = declared[key]
        if nested is None:
            continue
        if is_list and isinstance(value, list):
            node[key] = [_wrap_undeclared(item, nested) for item in value]
        else:
            node[key] = _wrap_undeclared(value, nested)
    return node


def _identity_claims() -> dict[tuple[str, ...], str]:
    """Which resource of this program run declared each (kind, *identity). Kept per run: an Automation API
    program runs several times in one process."""
    from pulumi.runtime import settings

    run = settings.SETTINGS
    claims: dict[tuple[str, ...], str] | None = getattr(run, "_enkrypt_identity_claims", None)
    if claims is None:
        claims = {}
        run._enkrypt_identity_claims = claims  # type: ignore[attr-defined]
    return claims


def _claim_identity(kind: Kind, resource_name: str, values: list[Any], another: str) -> None:
    """Two resources of one program must not declare one object: they would fight over it forever."""

    def claim(identity: tuple[str, ...]) -> None:
        claims = _identity_claims()
        holder = claims.setdefault((kind.name, *identity), resource_name)
        if holder != resource_name:
            named = " ".join(f"{field} {value!r}" for field, value in zip(kind.identity, identity, strict=True))
            message = (
                f"{kind.name} resources {holder!r} and {resource_name!r} both declare {named}; one Enkrypt "
                f"{kind.noun} can be declared once per stack: give one of them another {another}"
            )
            raise pulumi.RunError(message)

    if all(isinstance(value, str) for value in values):
        claim(tuple(values))
    elif all(value is not None for value in values):
        pulumi.Output.all(*values).apply(lambda parts: claim(tuple(str(p) for p in parts)))


def _prepare_kind(
    kind: Kind,
    resource_name: str,
    args: Any,
    given: dict[str, Any],
    opts: pulumi.ResourceOptions | None,
    *,
    check_required: Callable[[Mapping[str, Any], pulumi.ResourceOptions | None], None],
    import_advice: str,
    another: str,
    complete: Callable[[dict[str, Any]], None] = lambda props: None,
) -> tuple[dict[str, Any], pulumi.ResourceOptions | None]:
    """What every resource does before registering: ``args`` and the keyword arguments as plain properties,
    ``complete(props)`` (the subclass's own part), identity claimed, secrets wrapped, options set."""
    props: dict[str, Any] = _plain(args) if args is not None else {}
    props.update({k: _plain(v) for k, v in given.items() if v is not None})
    if opts is not None and opts.import_:
        raise pulumi.RunError(
            f"{kind.name} {resource_name!r}: ResourceOptions(import_=...) does not work for a dynamic provider "
            f"(the engine's import never reaches it). To bring an existing Enkrypt {kind.noun} under this stack, "
            f"declare it with {kind.facts.adopt_input}=True (the next `pulumi up` takes it over){import_advice}."
        )
    check_required(props, opts)
    for key, value in kind.facts.sent_defaults.items():
        # [unknown] whether the service requires the field, and what it stores without it: always send one.
        if props.get(key) is None:
            props[key] = value
    complete(props)
    _claim_identity(kind, resource_name, [props.get(field) for field in kind.identity], another)
    # The same identity replaced in place (`pulumi up --replace`) must go before it comes back: created
    # first, it would meet itself (409), and the delete that follows would remove the new one.
    if opts is None or opts.delete_before_replace is None:
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(delete_before_replace=True))
    props = secret_wrapped(props, kind)
    if kind.facts.secret_paths:
        props.setdefault(SECRET_REVISIONS, None)  # computed by check: declared so it is an output property
    reset_sorted_pickling()  # the SDK pickles the provider next (see _sorted_pickling)
    return props, opts


def _warn_unknown_provider(config: Any) -> None:
    """Enkrypt may know providers its schema does not list, so an unknown one is a warning, not an error
    (``enkrypt:strictProviders=true`` makes check reject it, and then this warning has nothing to add)."""
    provider = config.get("model_provider") if isinstance(config, Mapping) else None
    known = KNOWN_VALUES["model_config.model_provider"]
    if pulumi.Config(NAMESPACE).get_bool(KEY_STRICT_PROVIDERS):
        return
    if isinstance(provider, str) and provider not in known:
        pulumi.log.warn(
            f"model_config.model_provider {provider!r} is not a provider Enkrypt's schema lists; "
            "set enkrypt:strictProviders=true to reject unknown providers"
        )


class Model(ModelResource, module="enkrypt", name="Model"):
    """An Enkrypt AI model endpoint (``/models/add-model``), identified by name and version.

    The resource id is ``"<model_saved_name>:<model_version>"``. A change of ``model_saved_name`` or
    ``model_version`` replaces the model; any other change is one ``modify-model`` call. The keyword arguments
    and the typed output properties come from the schema (``_model_resource.ModelResource``, generated).
    """

    secret_revisions: pulumi.Output[dict[str, int]]
    """Secret key path -> how many times its value changed: what a preview shows of a rotated secret."""

    def _prepare(
        self,
        resource_name: str,
        args: ModelArgs | ModelArgsDict | None,
        given: dict[str, Any],
        opts: pulumi.ResourceOptions | None,
    ) -> tuple[dyn.ResourceProvider, dict[str, Any], pulumi.ResourceOptions | None]:
        props, opts = _prepare_kind(
            MODEL,
            resource_name,
            args,
            given,
            opts,
            check_required=_model_resource.check_required,
            import_advice=", or run `pulumi-enkrypt export` to write the program for every model of the account",
            another="name or version",
            complete=lambda props: _warn_unknown_provider(props.get("model_config")),
        )
        return ModelProvider(), props, opts


class _Named:
    """``_prepare`` of a kind named by one ``name`` (every kind but the model): the class says which kind,
    provider and required-input check."""

    _kind: ClassVar[Kind]
    _kind_provider: ClassVar[type[KindProvider]]
    _generated: ModuleType
    """The kind's generated resource module (its ``check_required``)."""

    def _prepare(
        self,
        resource_name: str,
        args: Any,
        given: dict[str, Any],
        opts: pulumi.ResourceOptions | None,
    ) -> tuple[dyn.ResourceProvider, dict[str, Any], pulumi.ResourceOptions | None]:
        check = self._generated.check_required
        props, opts = _prepare_kind(
            self._kind, resource_name, args, given, opts, check_required=check, import_advice="", another="name"
        )
        return self._kind_provider(), props, opts


class GuardrailsPolicy(_Named, GuardrailsPolicyResource, module="enkrypt", name="GuardrailsPolicy"):
    """An Enkrypt AI legacy guardrails policy (``/guardrails/add-policy``): which detectors run, with their
    settings, identified by its name.

    The resource id is the ``name``. A change of ``name`` replaces the policy; any other change is one
    ``modify-policy`` call with the full body. Detectors left out are disabled with Enkrypt's defaults, and
    reading those defaults back is no drift. The keyword arguments and the typed output properties come from
    the schema (``_guardrails_policy_resource.GuardrailsPolicyResource``, generated).
    """

    _kind = POLICY
    _kind_provider = GuardrailsPolicyProvider
    _generated = _guardrails_policy_resource


class Guardrail(_Named, GuardrailResource, module="enkrypt", name="Guardrail"):
    """An Enkrypt AI guardrail (``/guardrails/add-guardrail``): the detectors run on prompts (``input``) and on
    responses (``output``), identified by its name.

    The resource id is the ``name``. A change of ``name`` replaces the guardrail; any other change is one
    ``modify-guardrail`` call with the full body. Detectors left out are disabled with Enkrypt's defaults.
    """

    _kind = GUARDRAIL
    _kind_provider = GuardrailProvider
    _generated = _guardrail_resource


class Deployment(_Named, DeploymentResource, module="enkrypt", name="Deployment"):
    """An Enkrypt AI deployment (``/deployments/add-deployment``): a named route of the AI proxy binding a saved
    model to an input and an output guardrails policy, identified by its name.

    Pass the model's ``model_saved_name`` / ``model_version`` and the policies' ``name`` outputs: Pulumi then
    creates them first and deletes them last (Enkrypt itself does not stop a delete of what a deployment names).
    A change of ``name`` replaces the deployment; any other change is one ``modify-deployment`` call.
    """

    _kind = DEPLOYMENT
    _kind_provider = DeploymentProvider
    _generated = _deployment_resource


class CodeOfConductPolicy(_Named, CodeOfConductPolicyResource, module="enkrypt", name="CodeOfConductPolicy"):
    """An Enkrypt AI code-of-conduct policy (``/code-of-conduct/add-policy``): the rules a ``policy_violation``
    detector checks when its ``coc_policy_name`` names the policy, identified by its name.

    Sent as Enkrypt's v1 form (the rules one per line, and their count). A change of ``name`` replaces the
    policy; any other change is one ``modify-policy`` call with the full form.
    """

    _kind = COC_POLICY
    _kind_provider = CodeOfConductPolicyProvider
    _generated = _code_of_conduct_policy_resource
