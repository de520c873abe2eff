"""Manage Enkrypt AI model endpoints as code with Pulumi.

``Model`` is the resource; its inputs are the ``...Args`` classes (or their ``...ArgsDict`` plain-dict
forms) in :mod:`pulumi_enkrypt.inputs`; ``get_model`` looks up an existing model.
"""

from .client import (
    EnkryptAuthError,
    EnkryptConflictError,
    EnkryptError,
    EnkryptNotFoundError,
    EnkryptValidationError,
)
from .enums import *  # noqa: F403
from .enums import __all__ as _enum_names
from .inputs import *  # noqa: F403
from .inputs import __all__ as _input_names
from .lookup import GetModelResult, get_model, get_model_output
from .resource import Model

__all__ = [
    "EnkryptAuthError",
    "EnkryptConflictError",
    "EnkryptError",
    "EnkryptNotFoundError",
    "EnkryptValidationError",
    "GetModelResult",
    "Model",
    "get_model",
    "get_model_output",
    *_enum_names,
    *_input_names,
]
