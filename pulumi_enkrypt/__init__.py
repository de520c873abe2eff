"""Manage an Enkrypt AI setup as code with Pulumi: model endpoints, guardrails policies, guardrails,
deployments and code-of-conduct policies.

``Model``, ``GuardrailsPolicy``, ``Guardrail``, ``Deployment`` and ``CodeOfConductPolicy`` are the resources;
their inputs are the ``...Args`` classes (or their ``...ArgsDict`` plain-dict forms) in
:mod:`pulumi_enkrypt.inputs`, their nested outputs the classes of :mod:`pulumi_enkrypt.outputs` and of each
kind's ``..._outputs`` module (``model.model_config`` is an ``Output[outputs.ModelConfig]``); ``get_<kind>``
and ``get_<kind>_output`` look up existing ones.

Each name is imported from its module when it is first used: the provider process, which imports
``pulumi_enkrypt.provider``, never loads the resources, inputs and outputs a program needs.
"""

import importlib
from typing import TYPE_CHECKING, Any

from ._exports import ENUMS, INPUTS

# Name -> the module of this package that defines it.
_HOMES: dict[str, str] = {
    **dict.fromkeys(ENUMS, "enums"),
    **dict.fromkeys(INPUTS, "inputs"),
    **dict.fromkeys(("CodeOfConductPolicy", "Deployment", "Guardrail", "GuardrailsPolicy", "Model"), "resource"),
    **dict.fromkeys(
        (
            f"get_{kind}{form}"
            for kind in ("model", "guardrails_policy", "guardrail", "deployment", "code_of_conduct_policy")
            for form in ("", "_output")
        ),
        "lookup",
    ),
    "GetModelResult": "outputs",
    "GetGuardrailsPolicyResult": "guardrails_policy_outputs",
    "GetGuardrailResult": "guardrail_outputs",
    "GetDeploymentResult": "deployment_outputs",
    "GetCodeOfConductPolicyResult": "code_of_conduct_policy_outputs",
    # The errors live with the HTTP client (and httpx).
    **dict.fromkeys(
        ("EnkryptAuthError", "EnkryptConflictError", "EnkryptError", "EnkryptNotFoundError", "EnkryptValidationError"),
        "client",
    ),
}

__all__ = sorted(_HOMES)

# The modules of the typed outputs, reachable as attributes of the package.
_OUTPUT_MODULES = frozenset(
    {home for name, home in _HOMES.items() if name.startswith("Get") and name.endswith("Result")}
)

if TYPE_CHECKING:  # what the names are, for type checkers and editors
    from . import outputs as outputs
    from .client import (  # noqa: F401
        EnkryptAuthError,
        EnkryptConflictError,
        EnkryptError,
        EnkryptNotFoundError,
        EnkryptValidationError,
    )
    from .code_of_conduct_policy_outputs import GetCodeOfConductPolicyResult  # noqa: F401
    from .deployment_outputs import GetDeploymentResult  # noqa: F401
    from .enums import *  # noqa: F403
    from .guardrail_outputs import GetGuardrailResult  # noqa: F401
    from .guardrails_policy_outputs import GetGuardrailsPolicyResult  # noqa: F401
    from .inputs import *  # noqa: F403
    from .lookup import (  # noqa: F401
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
    from .outputs import GetModelResult  # noqa: F401
    from .resource import CodeOfConductPolicy, Deployment, Guardrail, GuardrailsPolicy, Model  # noqa: F401


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
        return __getattr__("ModelProviderName")
    if name in _OUTPUT_MODULES:  # `pulumi_enkrypt.outputs.ModelConfig`, as in Pulumi's SDKs
        return importlib.import_module(f".{name}", __name__)
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'pulumi_enkrypt' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{home}", __name__), name)
    globals()[name] = value  # found once: later lookups do not come here
    return value
