"""Drive the Pulumi SDK's own dynamic-provider host (``python -m pulumi.dynamic``) over gRPC, as the engine
does: the same process, the same (de)serialization, and the provider pickled the way a program pickles it."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Mapping
from typing import Any

import grpc
from google.protobuf import struct_pb2
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from pulumi_enkrypt.provider import ModelProvider
from support.cli import MODEL_TYPE

PROVIDER_KEY = "__provider"
UNKNOWN = rpc.UNKNOWN


def _struct(props: Mapping[str, Any]) -> struct_pb2.Struct:
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(rpc.serialize_properties(dict(props), {}))
    finally:
        loop.close()


def _dict(struct: struct_pb2.Struct) -> dict[str, Any]:
    return dict(rpc.deserialize_properties(struct, True))


class ProviderHost:
    """A running ``python -m pulumi.dynamic`` and typed calls to it."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        self.pickled = serialize_provider(ModelProvider())
        full_env = {**os.environ, **(env or {})}
        self.proc = subprocess.Popen(
            [sys.executable, "-u", "-m", "pulumi.dynamic", "127.0.0.1:1"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=full_env,
        )
        port = self.proc.stdout.readline().strip() if self.proc.stdout else ""
        if not port.isdigit():
            self.proc.kill()
            raise RuntimeError(
                f"dynamic provider host did not start: {port!r} {self.proc.stderr.read() if self.proc.stderr else ''}"
            )
        self.channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        self.stub = provider_pb2_grpc.ResourceProviderStub(self.channel)
        self.urn = f"urn:pulumi:test::project::{MODEL_TYPE}::m"

    def close(self) -> str:
        """Stop the host; returns what it wrote on stderr (for secret-hygiene checks)."""
        self.channel.close()
        self.proc.kill()
        _, err = self.proc.communicate(timeout=10)
        return err

    def __enter__(self) -> ProviderHost:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _with_provider(self, props: Mapping[str, Any]) -> dict[str, Any]:
        return {**props, PROVIDER_KEY: self.pickled}

    def configure(self, config: Mapping[str, str]) -> None:
        self.stub.Configure(provider_pb2.ConfigureRequest(args=_struct(config), variables=dict(config)))

    def check(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        resp = self.stub.Check(
            provider_pb2.CheckRequest(urn=self.urn, olds=_struct(olds), news=_struct(self._with_provider(news)))
        )
        return _dict(resp.inputs), [_located(f.property, f.reason) for f in resp.failures]

    def diff(self, id_: str, olds: Mapping[str, Any], news: Mapping[str, Any]) -> tuple[bool, list[str]]:
        resp = self.stub.Diff(
            provider_pb2.DiffRequest(
                id=id_, urn=self.urn, olds=_struct(self._with_provider(olds)), news=_struct(self._with_provider(news))
            )
        )
        return resp.changes == provider_pb2.DiffResponse.DIFF_SOME, list(resp.replaces)

    def create(self, props: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        resp = self.stub.Create(
            provider_pb2.CreateRequest(urn=self.urn, properties=_struct(self._with_provider(props)))
        )
        return resp.id, _dict(resp.properties)

    def read(self, id_: str, props: Mapping[str, Any]) -> tuple[str, dict[str, Any], dict[str, Any]]:
        resp = self.stub.Read(
            provider_pb2.ReadRequest(id=id_, urn=self.urn, properties=_struct(self._with_provider(props)))
        )
        return resp.id, _dict(resp.properties), _dict(resp.inputs)

    def update(self, id_: str, olds: Mapping[str, Any], news: Mapping[str, Any]) -> dict[str, Any]:
        resp = self.stub.Update(
            provider_pb2.UpdateRequest(
                id=id_, urn=self.urn, olds=_struct(self._with_provider(olds)), news=_struct(self._with_provider(news))
            )
        )
        return _dict(resp.properties)

    def delete(self, id_: str, props: Mapping[str, Any]) -> None:
        self.stub.Delete(
            provider_pb2.DeleteRequest(id=id_, urn=self.urn, properties=_struct(self._with_provider(props)))
        )


def without_provider(props: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in props.items() if k != PROVIDER_KEY}


def _located(prop: str, reason: str) -> tuple[str, str]:
    """(key path, reason) of a check failure. The provider names nested paths in the reason, with an empty
    property, so that the engine has no value to print beside it (it prints the top-level property's)."""
    if prop:
        return prop, reason
    path, sep, rest = reason.partition(": ")
    return (path, rest) if sep else ("", reason)
