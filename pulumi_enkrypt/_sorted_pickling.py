"""Keep the Pulumi SDK's sorted pickling one wrapper deep, so a program may declare any number of resources.

``pulumi.dynamic.serialize_provider`` (pinned SDK 3.2xx) installs a dict-sorting wrapper around
``pickle._Pickler._batch_setitems`` on every call and never takes it off: the provider of a program's n-th
dynamic resource is pickled through n nested wrappers. Our providers pickle an (empty) state dict, which goes
through that chain: quadratic work, and a ``RecursionError`` at about the 985th resource of one program
(pulumi/pulumi#17803 reports that error from a dynamic provider). Putting the innermost method back before each
resource registers leaves the SDK one wrapper to add; the bytes do not change, since each wrapper only sorts what
the next one sorts again.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from typing import Any

_SDK_WRAPPERS = frozenset({"batch_set_items_sorted", "batch_set_items_sorted_before_py14"})


def _unwrapped(method: Callable[..., Any]) -> Callable[..., Any]:
    # Each wrapper closes over the method it wrapped (and nothing else callable).
    while getattr(method, "__name__", "") in _SDK_WRAPPERS:
        cells = getattr(method, "__closure__", None) or ()
        inner = [cell.cell_contents for cell in cells if callable(cell.cell_contents)]
        if len(inner) != 1:
            break
        method = inner[0]
    return method


def reset_sorted_pickling() -> None:
    """Take the SDK's sorting wrappers off ``pickle._Pickler._batch_setitems`` (the next serialize adds one)."""
    current = getattr(pickle._Pickler, "_batch_setitems", None)
    if callable(current):
        original = _unwrapped(current)
        if original is not current:
            setattr(pickle._Pickler, "_batch_setitems", original)  # noqa: B010  # not in typeshed
