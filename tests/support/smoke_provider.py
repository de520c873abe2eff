"""A trivial dynamic provider for the engine smoke test.

It lives in an importable module (not the program's `__main__`) so dill pickles the class by reference,
as the real provider will be: the provider process imports it via PYTHONPATH.
"""

from __future__ import annotations

import uuid
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, ResourceProvider, UpdateResult

_PROVIDER_KEY = "__provider"


class EchoProvider(ResourceProvider):
    """Stores its inputs and adds a derived field; nothing leaves the process."""

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(id_=uuid.uuid4().hex, outs=_outputs(props))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [k for k in news if k != _PROVIDER_KEY and k != "length" and olds.get(k) != news.get(k)]
        return DiffResult(changes=bool(changed), replaces=[])

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs=_outputs(news))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_=id_, outs=props)

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        pass


def _outputs(props: dict[str, Any]) -> dict[str, Any]:
    # Echo every input under its own key, so the engine re-marks the secret input as secret in state.
    outs = {k: v for k, v in props.items() if k != _PROVIDER_KEY}
    outs["length"] = len(props["token"])
    return outs


class Echo(Resource, module="smoke", name="Echo"):
    label: pulumi.Output[str]
    token: pulumi.Output[str]
    length: pulumi.Output[int]

    def __init__(
        self,
        resource_name: str,
        label: pulumi.Input[str],
        token: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {"label": label, "token": pulumi.Output.secret(token), "length": None}
        super().__init__(EchoProvider(), resource_name, props, opts)
