"""Manage Enkrypt AI model endpoints and guardrails policies as code with Pulumi.

``Model`` and ``GuardrailsPolicy`` are the resources; their inputs are the ``...Args`` classes (or their
``...ArgsDict`` plain-dict forms) in :mod:`pulumi_enkrypt.inputs`, their nested outputs the classes of
:mod:`pulumi_enkrypt.outputs` and :mod:`pulumi_enkrypt.guardrails_policy_outputs` (``model.model_config`` is an
``Output[outputs.ModelConfig]``); ``get_model`` and ``get_guardrails_policy`` look up existing ones.
"""

from typing import TYPE_CHECKING, Any

from . import outputs as outputs  # the module, as in Pulumi's SDKs (`pulumi_enkrypt.outputs.ModelConfig`)
from .enums import *  # noqa: F403
from .enums import __all__ as _enum_names
from .guardrails_policy_outputs import GetGuardrailsPolicyResult
from .inputs import *  # noqa: F403
from .inputs import __all__ as _input_names
from .lookup import get_guardrails_policy, get_guardrails_policy_output, get_model, get_model_output
from .outputs import GetModelResult
from .resource import GuardrailsPolicy, Model

__all__ = [
    "EnkryptAuthError",
    "EnkryptConflictError",
    "EnkryptError",
    "EnkryptNotFoundError",
    "EnkryptValidationError",
    "GetGuardrailsPolicyResult",
    "GetModelResult",
    "GuardrailsPolicy",
    "Model",
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
