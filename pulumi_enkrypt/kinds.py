"""Each Enkrypt resource kind as data: what the provider, the client, the lookups and the local server need to
know about it, declared once.

A kind is its schema (the generated facts: fields, secret paths, replace-on-change fields, server fields) plus
a short declaration: its name, its identity, and its API (paths, identity headers, the list key). The
lifecycle (check, diff, create with adoption and read-back, update, read, delete), the client calls and the
lookups are written once against a ``Kind``; ``ALL_KINDS`` lists the kinds declared this way.

Plain data (no pydantic, no httpx): the program process imports it to pickle a provider reference.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Literal

from . import _api, deployment_facts, guardrail_facts
from . import code_of_conduct_policy_facts as coc_facts
from . import guardrails_policy_facts as policy_facts
from . import schema_facts as model_facts


@dataclass(frozen=True)
class Messages:
    """What Enkrypt says about one object of a kind, call by call (its own strings, which clients may show)."""

    added: str
    updated: str
    deleted: str
    not_found: str
    conflict: str

    @classmethod
    def standard(cls, subject: str, *, conflict: str = "") -> Messages:
        """Enkrypt's usual wording (``Policy details added successfully``, ``Policy not found``, ...)."""
        return cls(
            added=f"{subject} details added successfully",
            updated=f"{subject} details updated successfully",
            deleted=f"{subject} details deleted successfully",
            not_found=f"{subject} not found",
            conflict=conflict or f"{subject} already exists",
        )


@dataclass(frozen=True)
class Api:
    """The five calls of a kind, and how a call names the object it is about."""

    add: str
    get: str
    modify: str
    delete: str
    list: str
    list_key: str
    """The key of the list in list's answer (``{"models": [...]}``)."""
    identity_headers: Mapping[str, str]
    """Identity field -> the header that carries it on get, modify and delete."""
    id_field: str = ""
    """The key of the id the server assigns (``model_id``); no call takes it."""
    messages: Messages | None = None
    """The ``message`` of each answer; None: ``Messages.standard`` of the kind's noun."""
    delete_echo: tuple[str, ...] = ()
    """The keys of the deleted object that delete's ``data`` carries; empty: its identity."""
    identity_help: Mapping[str, str] = field(default_factory=dict)
    """Identity field -> how the API documents its header (``The model's saved name``)."""
    paged: bool = False
    """Whether list answers a page at a time (``?page=N&per_page=M``, with a ``pagination`` object)."""
    body_encoding: Literal["json", "multipart"] = "json"
    """How add and modify send a body: JSON, or form fields (``multipart/form-data``, as the SDK sends them)."""
    shared_ids: str = ""
    """The name of an id counter the kind shares with others (policies and guardrails: one ``policy_id``)."""

    @property
    def paths(self) -> frozenset[str]:
        return frozenset({self.add, self.get, self.modify, self.delete, self.list})


@dataclass(frozen=True)
class Facts:
    """What the schema says about a kind's body (generated into a ``schema_facts`` module)."""

    top_level_fields: tuple[str, ...]
    secret_paths: tuple[str, ...]
    replace_on_change: tuple[str, ...]
    server_fields: tuple[str, ...]
    computed_outputs: tuple[str, ...]
    hoisted_fields: tuple[str, ...]
    integer_paths: frozenset[str]
    known_values: Mapping[str, tuple[str, ...]]
    adopt_input: str
    server_defaults: Mapping[str, Any] = field(default_factory=dict)
    """What the service fills in for a field or an object left out (nested like a body): where the program
    set nothing, reading it back is no drift."""
    sent_defaults: Mapping[str, Any] = field(default_factory=dict)
    """What the resource sends for a top-level input the program leaves unset."""

    @classmethod
    def of(cls, module: ModuleType) -> Facts:
        return cls(
            top_level_fields=module.TOP_LEVEL_FIELDS,
            secret_paths=module.SECRET_PATHS,
            replace_on_change=module.REPLACE_ON_CHANGE,
            server_fields=module.SERVER_FIELDS,
            computed_outputs=module.COMPUTED_OUTPUTS,
            hoisted_fields=getattr(module, "HOISTED_FIELDS", ()),
            integer_paths=module.INTEGER_PATHS,
            known_values=module.KNOWN_VALUES,
            adopt_input=module.ADOPT_EXISTING,
            server_defaults=getattr(module, "SERVER_DEFAULTS", {}),
            sent_defaults=getattr(module, "SENT_DEFAULTS", {}),
        )


@dataclass(frozen=True)
class Reference:
    """Fields of a body that name an object of another kind (Enkrypt links by name, never by id)."""

    fields: tuple[str, ...]
    """Key paths of this kind's body whose values, in order, are the identity of the object named."""
    kinds: tuple[str, ...]
    """The names of the kinds it may name, the likeliest first."""



@dataclass(frozen=True)
class Kind:
    """One Enkrypt resource kind."""

    name: str
    """The resource class and type token suffix: ``pulumi-python:dynamic/enkrypt:<name>``."""
    noun: str
    """How messages name one object (``model``)."""
    identity: tuple[str, ...]
    """The fields that name an object; the resource id joins them with ``:``."""
    api: Api
    facts: Facts
    wire_model: str
    """``module:Class`` of the generated pydantic model of a request body (imported only to validate)."""
    label: str
    """How a message names one object, formatted with its identity: ``model named {0!r} version {1!r}``."""
    hoisted_into: str = ""
    """The object whose ``facts.hoisted_fields`` a response shape may copy to the top level."""
    unechoed: tuple[str, ...] = ()
    """Key paths the server never sends back: their value is kept from state, never drift."""
    id_fallback: tuple[str, ...] = ()
    """Values for the trailing identity fields an id may leave out (a model id without ``:<version>``)."""
    plural_noun: str = ""
    """How messages name several objects; empty: ``noun`` + ``s``."""
    sdk_fields: tuple[str, ...] = ()
    """The top-level keys the official SDK's parser takes, in its order, when it rejects any other key
    (``enkryptai_sdk.dto.ModelConfig.from_dict`` does); empty: it takes any."""
    sample: Mapping[str, Any] | None = None
    """A body the platform seeds in every project (``is_sample``); ``{n}`` in an identity field is the
    sample's number, so a body without it is one sample however many are asked for."""
    closed: tuple[str, ...] = ()
    """Objects of a body whose unknown keys the local server rejects (422 naming the path) rather than drops."""
    references: tuple[Reference, ...] = ()
    """The objects of other kinds a body names: what Pulumi must create first and delete last."""
    text_lists: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    """Input list -> (the wire's text field that holds it one item per line, the wire's count of items): the
    form a code-of-conduct policy's rules travel in."""

    @property
    def type_token(self) -> str:
        return f"pulumi-python:dynamic/enkrypt:{self.name}"

    def identity_of(self, props: Mapping[str, Any]) -> tuple[str, ...]:
        return tuple(str(props[field]) for field in self.identity)

    def resource_id(self, identity: tuple[str, ...]) -> str:
        return ":".join(identity)

    def parse_id(self, id_: str) -> tuple[str, ...]:
        """Invert ``resource_id``. Only the last fields are split off at the LAST colons: names may hold colons."""
        parts = id_.rsplit(":", len(self.identity) - 1) if len(self.identity) > 1 else [id_]
        missing = len(self.identity) - len(parts)
        if missing > 0:
            parts = [id_, *self.id_fallback[-missing:]]
        return tuple(parts)

    def identity_from(self, id_: str, props: Mapping[str, Any]) -> tuple[str, ...]:
        """The identity of a resource from its state, else from its id (state from before a field existed)."""
        if all(field in props for field in self.identity):
            return self.identity_of(props)
        return self.parse_id(id_)

    def describe(self, identity: tuple[str, ...]) -> str:
        return self.label.format(*identity)

    @property
    def plural(self) -> str:
        return self.plural_noun or f"{self.noun}s"

    @property
    def collection(self) -> str:
        """The plural as an identifier (``models``, ``guardrails_policies``): a table, an admin path."""
        return re.sub(r"[^a-z0-9]+", "_", self.plural.lower()).strip("_")

    @property
    def messages(self) -> Messages:
        return self.api.messages or Messages.standard(self.noun[:1].upper() + self.noun[1:])


MODEL = Kind(
    name="Model",
    noun="model",
    identity=("model_saved_name", "model_version"),
    api=Api(
        add=_api.PATH_ADD,
        get=_api.PATH_GET,
        modify=_api.PATH_MODIFY,
        delete=_api.PATH_DELETE,
        list=_api.PATH_LIST,
        list_key="models",
        identity_headers=_api.IDENTITY_HEADERS,
        id_field="model_id",
        messages=Messages.standard("Model", conflict="Model with this name and version already exists"),
        identity_help={"model_saved_name": "The model's saved name", "model_version": "The model's version"},
    ),
    facts=Facts.of(model_facts),
    wire_model="pulumi_enkrypt._wire_gen:ModelRequest",
    label="model named {0!r} version {1!r}",
    hoisted_into="model_config",
    unechoed=("model_config.rate_per_min",),  # never echoed back [doc]
    id_fallback=("v1",),
    sdk_fields=(
        "created_at",
        "updated_at",
        "created_by",
        "updated_by",
        "model_id",
        "model_saved_name",
        "model_version",
        "testing_for",
        "project_name",
        "model_name",
        "certifications",
        "model_config",
        "is_sample",
    ),
    sample={
        "model_saved_name": "Sample Model {n}",
        "model_version": "v1",
        "testing_for": "foundationModels",
        "model_name": "gpt-4o-mini",
        "certifications": [],
        "model_config": {
            "model_provider": "openai",
            "hosting_type": "External",
            "model_source": "https://openai.com",
            "endpoint": {"scheme": "https", "host": "api.openai.com", "port": 443, "base_path": "/v1"},
            "paths": {"completions": "/completions", "chat": "/chat/completions"},
            "auth_data": {"header_name": "Authorization", "header_prefix": "Bearer", "space_after_prefix": True},
            "input_modalities": ["text"],
            "output_modalities": ["text"],
            "rate_per_min": 20,
            "system_prompt": "",
            "metadata": {},
            "default_request_options": {},
        },
    },
)


POLICY = Kind(
    name="GuardrailsPolicy",
    noun="guardrails policy",
    plural_noun="guardrails policies",
    identity=("name",),
    api=Api(
        add="/guardrails/add-policy",
        get="/guardrails/get-policy",
        modify="/guardrails/modify-policy",
        delete="/guardrails/delete-policy",
        list="/guardrails/list-policies",
        list_key="policies",
        identity_headers={"name": "X-Enkrypt-Policy"},
        id_field="policy_id",
        # [unknown] 10.1 status codes and bodies: we take the emulator's (section 8): 404 "Policy not found",
        # 409 "Policy already exists", 422 with the failing paths; the provider classifies by status only.
        messages=Messages.standard("Policy"),
        delete_echo=("policy_id", "project_name"),
        identity_help={"name": "The policy's name"},
        shared_ids="policy_id",
    ),
    facts=Facts.of(policy_facts),
    wire_model="pulumi_enkrypt._guardrails_policy_wire_gen:GuardrailsPolicyRequest",
    label="guardrails policy named {0!r}",
    # [unknown] 10.2: the service fills absent detectors and fields with defaults (facts.server_defaults, read
    # back as no drift) and a modify is a full replace (the provider always sends the whole body). Unknown
    # detector keys: the provider's check rejects them, and so does the local server (422 naming the path),
    # where the real service may drop them; either way nothing unknown is ever sent.
    closed=("detectors",),
    references=(Reference(("detectors.policy_violation.coc_policy_name",), ("CodeOfConductPolicy",)),),
    # [unknown] 10.3: description may be empty: the resource sends "" when the program sets none (never the
    # SDK's "guardrails policy"), which works whether or not the service requires the field.
    # [unknown] 10.7: policies have a name space of their own (a guardrail of the same name is another object).
    # [unknown] 10.9: renames are not used: a change of name is a replace, so the id surviving one is moot.
    # [unknown] 10.10: samples may be modified and deleted like any policy (the local server does not guard
    # them); a program never declares one unless it means to take it over (adopt_existing).
    # [unknown] 10.13: names are case-sensitive, latin-1, without leading or trailing blanks (the header-value
    # format, checked before any request); no length limit is known, so none is imposed.
    sample={
        "name": "Sample Airline Guardrail",
        "description": "Guardrails for an airline's customer support assistant",
        "detectors": {
            "injection_attack": {"enabled": True},
            "nsfw": {"enabled": True},
            "toxicity": {"enabled": True},
            "pii": {"enabled": True, "entities": ["pii", "secrets"]},
            "policy_violation": {
                "enabled": True,
                "policy_text": "Only discuss flights, bookings, baggage and airline services.",
                "need_explanation": True,
            },
        },
    },
)


GUARDRAIL = Kind(
    name="Guardrail",
    noun="guardrail",
    identity=("name",),
    api=Api(
        add="/guardrails/add-guardrail",
        get="/guardrails/get-guardrail",
        modify="/guardrails/modify-guardrail",
        delete="/guardrails/delete-guardrail",
        list="/guardrails/list-guardrails",
        list_key="guardrails",
        identity_headers={"name": "X-Enkrypt-Guardrail"},
        id_field="policy_id",
        delete_echo=("policy_id", "project_name"),
        identity_help={"name": "The guardrail's name"},
        paged=True,
        # [unknown] 10.7: guardrails and policies share the policy_id counter (section 5.1) but not their
        # names: a guardrail and a policy may have one name (the local server keeps two collections).
        shared_ids="policy_id",
    ),
    facts=Facts.of(guardrail_facts),
    wire_model="pulumi_enkrypt._guardrail_wire_gen:GuardrailRequest",
    label="guardrail named {0!r}",
    # [unknown] 10.2, as for policies: both sides read back filled in with defaults (no drift), an unknown
    # detector is refused before any request.
    closed=("input", "output"),
    references=(
        Reference(("input.policy_violation.coc_policy_name",), ("CodeOfConductPolicy",)),
        Reference(("output.policy_violation.coc_policy_name",), ("CodeOfConductPolicy",)),
    ),
)

DEPLOYMENT = Kind(
    name="Deployment",
    noun="deployment",
    identity=("name",),
    api=Api(
        add="/deployments/add-deployment",
        get="/deployments/get-deployment",
        modify="/deployments/modify-deployment",
        delete="/deployments/delete-deployment",
        list="/deployments/list-deployments",
        list_key="deployments",
        identity_headers={"name": "X-Enkrypt-Deployment"},
        id_field="deployment_id",
        delete_echo=("deployment_id",),
        identity_help={"name": "The deployment's name"},
    ),
    facts=Facts.of(deployment_facts),
    wire_model="pulumi_enkrypt._deployment_wire_gen:DeploymentRequest",
    label="deployment named {0!r}",
    # [unknown] 10.4: policy_name may name a guardrail too; the local server looks for a policy first.
    # [unknown] 10.5: the service does not check that what a deployment names exists (the local server's
    # `check_references` switch makes it check, and refuse deleting what a deployment names); Pulumi orders
    # creates and deletes through these references either way.
    references=(
        Reference(("model_saved_name", "model_version"), ("Model",)),
        Reference(("input_guardrails_policy.policy_name",), ("GuardrailsPolicy", "Guardrail")),
        Reference(("output_guardrails_policy.policy_name",), ("GuardrailsPolicy", "Guardrail")),
    ),
)

COC_POLICY = Kind(
    name="CodeOfConductPolicy",
    noun="code-of-conduct policy",
    plural_noun="code-of-conduct policies",
    identity=("name",),
    api=Api(
        add="/code-of-conduct/add-policy",
        get="/code-of-conduct/get-policy",
        modify="/code-of-conduct/modify-policy",
        delete="/code-of-conduct/delete-policy",
        list="/code-of-conduct/list-policies",
        list_key="policies",
        identity_headers={"name": "X-Enkrypt-Policy"},
        id_field="policy_id",
        messages=Messages.standard("Policy"),
        delete_echo=("policy_id", "project_name"),
        identity_help={"name": "The code-of-conduct policy's name"},
        body_encoding="multipart",
        shared_ids="policy_id",
    ),
    facts=Facts.of(coc_facts),
    wire_model="pulumi_enkrypt._code_of_conduct_policy_wire_gen:CocPolicyRequest",
    label="code-of-conduct policy named {0!r}",
    # [unknown] 12: rename is not used (a change of name is a replace); total_rules is always the number of
    # rules sent (the local server refuses another count); the rules are read back one per line, trimmed.
    text_lists={"rules": ("policy_rules", "total_rules")},
)

ALL_KINDS: tuple[Kind, ...] = (MODEL, POLICY, GUARDRAIL, DEPLOYMENT, COC_POLICY)
"""Every kind declared (the order of the server's collections, of an exported program's sections)."""
