"""The reference: the least a Python dynamic provider for Enkrypt models can do.

One httpx request per create/read/update/delete with the same body as ours, no validation, no retries,
diff compares dicts, no check. It lives in an importable module so dill pickles it *by reference*, like
``pulumi_enkrypt.provider.ModelProvider`` (the provider process imports it through PYTHONPATH).

The program uses it exactly like ours (``import bench.reference_provider as enkrypt``): the ``...Args``
"classes" are ``dict``, and ``Model`` takes the same keyword inputs, wraps the API keys in
``Output.secret`` at the same key path and declares the same computed outputs.
"""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pulumi
import pulumi.dynamic as dyn

# Same call shape as pulumi_enkrypt's input classes, with no code behind them.
ModelConfigArgs = EndpointArgs = AuthDataArgs = PathsArgs = dict

COMPUTED = ("model_id", "created_at", "updated_at", "project_name")
_SKIP = frozenset(("__provider", *COMPUTED))
_LOCK = threading.Lock()
_CLIENTS: dict[tuple[str, str], httpx.Client] = {}


def _client(config: dict[str, str]) -> httpx.Client:
    key = (config["base"], config["key"])
    with _LOCK:  # one client per (url, key), shared by the host's worker threads
        if key not in _CLIENTS:
            _CLIENTS[key] = httpx.Client(base_url=key[0], headers={"apikey": key[1]}, timeout=30.0)
        return _CLIENTS[key]


def _ids(props: dict[str, Any]) -> dict[str, str]:
    return {"X-Enkrypt-Model": props["model_saved_name"], "X-Enkrypt-Model-Version": props["model_version"]}


def _body(props: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in props.items() if k not in _SKIP}


def _outs(props: dict[str, Any], model: dict[str, Any]) -> dict[str, Any]:
    outs = _body(props)
    outs.update({k: model[k] for k in COMPUTED if k in model})
    return outs


class ReferenceProvider(dyn.ResourceProvider):
    serialize_as_secret_always = False  # captures nothing (the config arrives in configure)

    def configure(self, req: dyn.ConfigureRequest) -> None:
        self._config = {"base": req.config.get("enkrypt:baseUrl"), "key": req.config.get("enkrypt:apiKey")}

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dyn.DiffResult:
        changed = [k for k in _body(news) if olds.get(k) != news[k]]
        return dyn.DiffResult(changes=bool(changed), replaces=[])

    def create(self, props: dict[str, Any]) -> dyn.CreateResult:
        r = _client(self._config).post("/models/add-model", json=_body(props))
        r.raise_for_status()
        return dyn.CreateResult(f"{props['model_saved_name']}:{props['model_version']}", _outs(props, r.json()["data"]))

    def read(self, id_: str, props: dict[str, Any]) -> dyn.ReadResult:
        r = _client(self._config).get("/models/get-model", headers=_ids(props))
        if r.status_code == 404:
            return dyn.ReadResult("", {})
        r.raise_for_status()
        return dyn.ReadResult(id_, _outs(props, r.json()))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dyn.UpdateResult:
        r = _client(self._config).patch("/models/modify-model", headers=_ids(olds), json=_body(news))
        r.raise_for_status()
        return dyn.UpdateResult(_outs(news, r.json()["data"]))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        r = _client(self._config).delete("/models/delete-model", headers=_ids(props))
        if r.status_code != 404:
            r.raise_for_status()


class Model(dyn.Resource, module="benchref", name="Model"):
    def __init__(self, resource_name: str, opts: pulumi.ResourceOptions | None = None, **inputs: Any) -> None:
        props = dict(inputs)
        config = dict(props["model_config"])
        config["apikeys"] = pulumi.Output.secret(config["apikeys"])
        props["model_config"] = config
        props.update(dict.fromkeys(COMPUTED))
        super().__init__(ReferenceProvider(), resource_name, props, opts)
