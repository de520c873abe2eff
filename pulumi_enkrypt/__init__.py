"""Manage an Enkrypt AI setup as code with Pulumi: model endpoints, guardrails policies, guardrails,
deployments and code-of-conduct policies.

``Model``, ``GuardrailsPolicy``, ``Guardrail``, ``Deployment`` and ``CodeOfConductPolicy`` are the resources;
their inputs are the ``...Args`` classes (or their ``...ArgsDict`` plain-dict forms) in
:mod:`pulumi_enkrypt.inputs`, their nested outputs the classes of :mod:`pulumi_enkrypt.outputs` and of each
kind's ``..._outputs`` module (``model.model_config`` is an ``Output[outputs.ModelConfig]``); ``get_<kind>``
and ``get_<kind>_output`` look up existing ones.
"""

from typing import TYPE_CHECKING, Any

from . import outputs as outputs  # the module, as in Pulumi's SDKs (`pulumi_enkrypt.outputs.ModelConfig`)
from .code_of_conduct_policy_outputs import GetCodeOfConductPolicyResult
from .deployment_outputs import GetDeploymentResult
from .enums import *  # noqa: F403
from .enums import __all__ as _enum_names
from .guardrail_outputs import GetGuardrailResult
from .guardrails_policy_outputs import GetGuardrailsPolicyResult
from .inputs import *  # noqa: F403
from .inputs import __all__ as _input_names
from .lookup import (
    get_code_of_conduct_policy,
    get_code_of_conduct_policy_output,
    get_deployment,
    get_deployment_output,
    get_guardrail,
    get_guardrail_output,
    get_guardrails_policy,
    get_guardrails_policy_output,
    get_model,
    get_model_output,
)
from .outputs import GetModelResult
from .resource import CodeOfConductPolicy, Deployment, Guardrail, GuardrailsPolicy, Model

__all__ = [
    "EnkryptAuthError",
    "EnkryptConflictError",
    "EnkryptError",
    "EnkryptNotFoundError",
    "EnkryptValidationError",
    "CodeOfConductPolicy",
    "Deployment",
    "GetCodeOfConductPolicyResult",
    "GetDeploymentResult",
    "GetGuardrailResult",
    "GetGuardrailsPolicyResult",
    "GetModelResult",
    "Guardrail",
    "GuardrailsPolicy",
    "Model",
    "get_code_of_conduct_policy",
    "get_code_of_conduct_policy_output",
    "get_deployment",
    "get_deployment_output",
    "get_guardrail",
    "get_guardrail_output",
    "get_guardrails_policy",
    "get_guardrails_policy_output",
    "get_model",
    "get_model_output",
    *_enum_names,
    *_input_names,
]

_ERRORS = ("EnkryptAuthError", "EnkryptConflictError", "EnkryptError", "EnkryptNotFoundError", "EnkryptValidationError")

if TYPE_CHECKING:
    from .client import (
        EnkryptAuthError,
        EnkryptConflictError,
        EnkryptError,
        EnkryptNotFoundError,
        EnkryptValidationError,
    )


def __getattr__(name: str) -> Any:
    if name == "ModelProvider":
        # Renamed: `ModelProvider` read like the dynamic provider class (pulumi_enkrypt.provider.ModelProvider).
        import warnings

        warnings.warn(
            "pulumi_enkrypt.ModelProvider is deprecated and will be removed in the next release; "
            "use pulumi_enkrypt.ModelProviderName",
            DeprecationWarning,
            stacklevel=2,
        )
        return ModelProviderName  # noqa: F405
    # The errors live with the HTTP client; importing it (and httpx) only when asked keeps the program's
    # `import pulumi_enkrypt` cheap.
    if name in _ERRORS:
        from . import client

        return getattr(client, name)
    raise AttributeError(f"module 'pulumi_enkrypt' has no attribute {name!r}")
