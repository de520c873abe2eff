"""The reference: the least a Python dynamic provider for Enkrypt can do, for the kinds the benchmark declares
(models; guardrails policies and deployments for the mixed stack).

One httpx request per create/read/update/delete with the same body as ours, no validation, no retries,
diff compares dicts, no check. It lives in an importable module so dill pickles it *by reference*, like
``pulumi_enkrypt.provider.ModelProvider`` (the provider process imports it through PYTHONPATH).

The program uses it exactly like ours (``import bench.reference_provider as enkrypt``): the ``...Args``
"classes" are ``dict``, and ``Model``, ``GuardrailsPolicy`` and ``Deployment`` take the same keyword inputs
as ours and declare the same computed outputs (``Model`` also wraps the API keys in ``Output.secret`` at the
same key path). Each kind is three facts written out here (its paths, its identity headers, its computed
outputs), not read from ``pulumi_enkrypt``: the reference shares no code with what it measures.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import httpx
import pulumi
import pulumi.dynamic as dyn

# Same call shape as pulumi_enkrypt's input classes, with no code behind them.
ModelConfigArgs = EndpointArgs = AuthDataArgs = PathsArgs = dict

_LOCK = threading.Lock()
_CLIENTS: dict[tuple[str, str], httpx.Client] = {}


@dataclass(frozen=True)
class _Api:
    prefix: str  # "/models/" + verb + "-" + noun: add-model, get-model, modify-model, delete-model
    noun: str
    headers: tuple[tuple[str, str], ...]  # (header, input) of the identity
    computed: tuple[str, ...]

    def path(self, verb: str) -> str:
        return f"{self.prefix}{verb}-{self.noun}"

    def ids(self, props: dict[str, Any]) -> dict[str, str]:
        return {header: str(props[field]) for header, field in self.headers}

    def id_of(self, props: dict[str, Any]) -> str:
        return ":".join(str(props[field]) for _, field in self.headers)

    def body(self, props: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in props.items() if k != "__provider" and k not in self.computed}

    def outs(self, props: dict[str, Any], obj: dict[str, Any]) -> dict[str, Any]:
        outs = self.body(props)
        outs.update({k: obj[k] for k in self.computed if k in obj})
        return outs


MODEL = _Api(
    "/models/",
    "model",
    (("X-Enkrypt-Model", "model_saved_name"), ("X-Enkrypt-Model-Version", "model_version")),
    ("model_id", "created_at", "updated_at", "project_name"),
)
POLICY = _Api(
    "/guardrails/",
    "policy",
    (("X-Enkrypt-Policy", "name"),),
    ("policy_id", "created_at", "updated_at", "project_name"),
)
DEPLOYMENT = _Api(
    "/deployments/",
    "deployment",
    (("X-Enkrypt-Deployment", "name"),),
    ("deployment_id", "created_at", "updated_at", "project_name"),
)
COMPUTED = MODEL.computed  # what the benchmark's state-size figure leaves out of a model's declared inputs


def _client(config: dict[str, str]) -> httpx.Client:
    key = (config["base"], config["key"])
    with _LOCK:  # one client per (url, key), shared by the host's worker threads
        if key not in _CLIENTS:
            _CLIENTS[key] = httpx.Client(base_url=key[0], headers={"apikey": key[1]}, timeout=30.0)
        return _CLIENTS[key]


def _data(r: httpx.Response) -> dict[str, Any]:
    """The object of an answer: writes answer an envelope ({"message", "data"}), reads the bare object."""
    answer: dict[str, Any] = r.json()
    data = answer.get("data")
    return data if isinstance(data, dict) else answer


class ReferenceProvider(dyn.ResourceProvider):
    """The model's provider; a subclass per other kind. The kind is a class attribute, not instance state, so
    dill pickles a provider as a bare class reference, as it pickles ours (the same bytes in every resource's
    state)."""

    serialize_as_secret_always = False  # captures nothing (the config arrives in configure)
    api = MODEL

    def configure(self, req: dyn.ConfigureRequest) -> None:
        self._config = {"base": req.config.get("enkrypt:baseUrl"), "key": req.config.get("enkrypt:apiKey")}

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dyn.DiffResult:
        changed = [k for k in self.api.body(news) if olds.get(k) != news[k]]
        return dyn.DiffResult(changes=bool(changed), replaces=[])

    def create(self, props: dict[str, Any]) -> dyn.CreateResult:
        r = _client(self._config).post(self.api.path("add"), json=self.api.body(props))
        r.raise_for_status()
        return dyn.CreateResult(self.api.id_of(props), self.api.outs(props, _data(r)))

    def read(self, id_: str, props: dict[str, Any]) -> dyn.ReadResult:
        r = _client(self._config).get(self.api.path("get"), headers=self.api.ids(props))
        if r.status_code == 404:
            return dyn.ReadResult("", {})
        r.raise_for_status()
        return dyn.ReadResult(id_, self.api.outs(props, _data(r)))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dyn.UpdateResult:
        r = _client(self._config).patch(self.api.path("modify"), headers=self.api.ids(olds), json=self.api.body(news))
        r.raise_for_status()
        return dyn.UpdateResult(self.api.outs(news, _data(r)))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        r = _client(self._config).delete(self.api.path("delete"), headers=self.api.ids(props))
        if r.status_code != 404:
            r.raise_for_status()


class PolicyProvider(ReferenceProvider):
    api = POLICY


class DeploymentProvider(ReferenceProvider):
    api = DEPLOYMENT


class Model(dyn.Resource, module="benchref", name="Model"):
    def __init__(self, resource_name: str, opts: pulumi.ResourceOptions | None = None, **inputs: Any) -> None:
        props = dict(inputs)
        config = dict(props["model_config"])
        config["apikeys"] = pulumi.Output.secret(config["apikeys"])
        props["model_config"] = config
        props.update(dict.fromkeys(MODEL.computed))
        super().__init__(ReferenceProvider(), resource_name, props, opts)


class GuardrailsPolicy(dyn.Resource, module="benchref", name="GuardrailsPolicy"):
    def __init__(self, resource_name: str, opts: pulumi.ResourceOptions | None = None, **inputs: Any) -> None:
        props = {**inputs, **dict.fromkeys(POLICY.computed)}
        super().__init__(PolicyProvider(), resource_name, props, opts)


class Deployment(dyn.Resource, module="benchref", name="Deployment"):
    def __init__(self, resource_name: str, opts: pulumi.ResourceOptions | None = None, **inputs: Any) -> None:
        props = {**inputs, **dict.fromkeys(DEPLOYMENT.computed)}
        super().__init__(DeploymentProvider(), resource_name, props, opts)
