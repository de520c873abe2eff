"""Property-based tests of `check` for the kinds besides the model (guardrails policy, guardrail, deployment,
code-of-conduct policy), over input generated from each kind's own wire model (the generated pydantic classes).

What test_bad_input_properties.py does for models, generically: a valid body is drawn field by field from the
wire model (every optional field sometimes left out, names that an HTTP header can carry, rules that are one line
each, enum lists from their allowed values). A bad body is a valid one with one mutation, at a key path the wire
model names: a wrong type, a non-bool where a bool goes, an unknown enum value, a required key left out, an extra
key, a name no HTTP header can carry, an empty name, a rule across lines (any line break str.splitlines knows)
or blank, an empty text where the service fills in a default text of its own.

For every input: ``check`` raises nothing; a bad input gets a failure naming the mutated path (and every failure
path is a key path of the input); a valid input gets none, and the local server accepts it as the provider sends
it (add, then a read that gives back what was sent, then delete): what check lets through must not fail halfway
through an `up`. A share of the inputs also goes through the SDK's provider host over gRPC with the kind's
provider, configured with a live local server, whose request count must stay 0.
"""

from __future__ import annotations

import copy
import itertools
import types
import typing
from collections.abc import Iterator
from typing import Any, Literal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pulumi.dynamic.dynamic import serialize_provider

from pulumi_enkrypt import spec, wire
from pulumi_enkrypt._wire_gen import Boolean, HeaderValue, RuleLine, WireModel
from pulumi_enkrypt.client import EnkryptClient
from pulumi_enkrypt.kinds import ALL_KINDS, COC_POLICY, DEPLOYMENT, GUARDRAIL, MODEL, POLICY, Kind
from pulumi_enkrypt.provider import (
    CodeOfConductPolicyProvider,
    DeploymentProvider,
    GuardrailProvider,
    GuardrailsPolicyProvider,
    KindProvider,
)
from pulumi_enkrypt.server.process import RunningServer, start_server
from support.faults import FIGURES, related
from support.provider_host import ProviderHost

API_KEY = "kind-properties-key-71c3"
KINDS = (POLICY, GUARDRAIL, DEPLOYMENT, COC_POLICY)
PROVIDERS: dict[str, type[KindProvider]] = {
    POLICY.name: GuardrailsPolicyProvider,
    GUARDRAIL.name: GuardrailProvider,
    DEPLOYMENT.name: DeploymentProvider,
    COC_POLICY.name: CodeOfConductPolicyProvider,
}
assert {k.name for k in ALL_KINDS} == {MODEL.name, *PROVIDERS}, "a kind these properties do not cover"
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), database=None)
SERVER_SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)
HOST_SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)

Path_ = tuple[Any, ...]

# --------------------------------------------------------------------------------------------- the wire models


def _unwrap(annotation: Any) -> Any:
    """The annotation without its ``| None``."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def _min_length(info: Any) -> int:
    return next((m.min_length for m in info.metadata if hasattr(m, "min_length")), 0)


def _annotation(info: Any) -> Any:
    """A field's annotation without its ``| None``; a required header-value field comes back as HeaderValue
    (pydantic moves the metadata of ``name: HeaderValue = Field(...)`` out of its annotation)."""
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    if extra.get("format") == "header-value":
        return HeaderValue
    return _unwrap(info.annotation)


# A name an HTTP header can carry: printable latin-1 (beyond ASCII too), no blank at either end.
header_values = st.text(
    alphabet=st.characters(codec="latin-1", exclude_categories=("Cc",)).filter(lambda c: not 0x7F <= ord(c) <= 0x9F),
    min_size=1,
    max_size=16,
).filter(lambda s: s == s.strip(" ") and s != "")
# Line breaks besides \n and \r that str.splitlines() also breaks at, as the server and the read-back split the
# rules: a rule may hold none of them (found by these properties, fixed in fbdd96c).
OTHER_LINE_BREAKS = "\v\f\x1c\x1d\x1e\x85\u2028\u2029"
# A rule: anything on one line that check lets through (no newline, no blank at either end).
rule_lines = st.text(
    alphabet=st.characters(exclude_categories=("Cs",), exclude_characters="\n\r" + OTHER_LINE_BREAKS),
    min_size=1,
    max_size=30,
).filter(lambda s: s.strip() == s and s != "")
plain_text = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=30)


def value_strategy(annotation: Any, min_size: int = 0) -> st.SearchStrategy[Any]:
    """A valid value of one field, read from its annotation."""
    annotation = _unwrap(annotation)
    if annotation == HeaderValue:
        return header_values
    if annotation == RuleLine:
        return rule_lines
    if annotation == Boolean or annotation is bool:
        return st.booleans()
    if annotation is str:
        return plain_text
    if typing.get_origin(annotation) is Literal:
        return st.sampled_from(typing.get_args(annotation))
    if typing.get_origin(annotation) is list:
        (item,) = typing.get_args(annotation)
        if typing.get_origin(item) is Literal:  # an enum list: distinct values
            return st.lists(st.sampled_from(typing.get_args(item)), min_size=min_size, max_size=4, unique=True)
        return st.lists(value_strategy(item), min_size=min_size, max_size=3)
    if isinstance(annotation, type) and issubclass(annotation, WireModel):
        return body_strategy(annotation)
    raise NotImplementedError(f"no strategy for {annotation!r}: extend value_strategy")


def body_strategy(model: type[WireModel]) -> st.SearchStrategy[dict[str, Any]]:
    """A valid object of ``model``: its required keys always, each optional key sometimes."""
    required: dict[str, st.SearchStrategy[Any]] = {}
    optional: dict[str, st.SearchStrategy[Any]] = {}
    for name, info in model.model_fields.items():
        strategy = value_strategy(_annotation(info), _min_length(info))
        (required if info.is_required() else optional)[info.alias or name] = strategy
    return st.fixed_dictionaries(required, optional=optional)


def field_paths(model: type[WireModel], path: Path_ = ()) -> Iterator[tuple[Path_, Any, Any]]:
    """(key path, annotation without None, field info) of every field, nested objects and list items included
    (a list item's path ends in ``[*]``, written as the string "*")."""
    for name, info in model.model_fields.items():
        key = (*path, info.alias or name)
        annotation = _annotation(info)
        yield key, annotation, info
        if typing.get_origin(annotation) is list:
            (item,) = typing.get_args(annotation)
            if isinstance(item, type) and issubclass(item, WireModel):
                yield from field_paths(item, (*key, "*"))
            else:
                yield (*key, "*"), item, None
        elif isinstance(annotation, type) and issubclass(annotation, WireModel):
            yield from field_paths(annotation, key)


def fmt(path: Path_) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def present(body: Any, pattern: Path_) -> list[Path_]:
    """The concrete paths of ``body`` that match ``pattern`` ("*" = every item of a list)."""
    found: list[Path_] = [()]
    for part in pattern:
        nxt: list[Path_] = []
        for path in found:
            node = get(body, path)
            if part == "*":
                if isinstance(node, list):
                    nxt += [(*path, i) for i in range(len(node))]
            elif isinstance(node, dict) and part in node:
                nxt.append((*path, part))
        found = nxt
    return found


def get(body: Any, path: Path_) -> Any:
    for p in path:
        body = body[p]
    return body


def is_real_path(body: Any, path: str) -> bool:
    """The path exists in ``body``, or all of it but the last key does (a missing key under a real parent)."""
    node = body
    parts = [p for p in path.replace("]", "").replace("[", ".").split(".") if p]
    for i, part in enumerate(parts):
        key: Any = int(part) if part.isdigit() and isinstance(node, list) else part
        if (isinstance(node, list) and isinstance(key, int) and key < len(node)) or (
            isinstance(node, dict) and key in node
        ):
            node = node[key]
        else:
            return i == len(parts) - 1 and isinstance(node, dict)
    return True


# --------------------------------------------------------------------------------------------- strategies

junk_scalar = st.one_of(st.integers(), st.floats(allow_nan=False), st.booleans(), st.text(max_size=10))
junk = st.recursive(junk_scalar, lambda inner: st.lists(inner, max_size=3), max_leaves=5)


@st.composite
def unsendable_names(draw: st.DrawFn) -> str:
    """A name an HTTP header cannot carry: a character beyond latin-1, a control character, an edge blank."""
    name = draw(st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=12))
    how = draw(st.sampled_from(["beyond_latin1", "control", "edge_blank", "empty"]))
    if how == "empty":
        return ""
    if how == "edge_blank":
        return draw(st.sampled_from([" " + name, name + " ", " " + name + " "]))
    bad = draw(
        st.characters(min_codepoint=0x100, exclude_categories=("Cs",))
        if how == "beyond_latin1"
        else st.one_of(st.characters(max_codepoint=0x1F), st.characters(min_codepoint=0x7F, max_codepoint=0x9F))
    )
    at = draw(st.integers(0, len(name)))
    return name[:at] + bad + name[at:]


@st.composite
def bad_rules(draw: st.DrawFn) -> str:
    """A rule that cannot travel one per line: a line break inside, blank, or blanks at an end."""
    rule = draw(st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=12))
    how = draw(st.sampled_from(["break", "blank", "edge"]))
    if how == "blank":
        return draw(st.sampled_from(["", " ", "\t", "  "]))
    if how == "edge":
        return draw(st.sampled_from([" " + rule, rule + "\t", " " + rule + " "]))
    at = draw(st.integers(0, len(rule)))
    return rule[:at] + draw(st.sampled_from(["\n", "\r", "\r\n", *OTHER_LINE_BREAKS])) + rule[at:]


MUTATIONS = ("wrong_type", "not_a_bool", "enum", "missing", "extra", "name", "rule", "empty_default")


def default_texts(defaults: Any, path: Path_ = ()) -> Iterator[Path_]:
    """The key paths where the service fills in a non-empty default text (``facts.server_defaults``)."""
    if isinstance(defaults, dict):
        for key, value in defaults.items():
            yield from default_texts(value, (*path, key))
    elif isinstance(defaults, str) and defaults:
        yield path


@st.composite
def mutated(draw: st.DrawFn, kind: Kind) -> tuple[dict[str, Any], str, str]:
    """(a body of ``kind`` with one mutation, the mutation, the key path a failure must name)."""
    model = wire.request_model(kind)
    body = draw(body_strategy(model))
    fields = list(field_paths(model))

    annotations: dict[Path_, Any] = {}  # concrete path -> its field's annotation

    def paths_where(test: Any) -> list[Path_]:
        found = []
        for pattern, ann, info in fields:
            if test(ann, info):
                for p in present(body, pattern):
                    annotations[p] = ann
                    found.append(p)
        return found

    # An enum list (a deployment's block): an unknown value appended (to an empty list too); "+" marks the end.
    enum_lists: list[Path_] = []
    for pattern, ann, _ in fields:
        if pattern[-1:] == ("*",) and typing.get_origin(ann) is Literal:
            for p in present(body, pattern[:-1]):
                if isinstance(get(body, p), list):
                    annotations[(*p, "+")] = ann
                    enum_lists.append((*p, "+"))
    candidates: dict[str, list[Path_]] = {
        "wrong_type": paths_where(lambda a, i: True),
        "not_a_bool": paths_where(lambda a, i: a == Boolean),
        "enum": enum_lists,
        "missing": paths_where(lambda a, i: i is not None and i.is_required()),
        "extra": [(), *paths_where(lambda a, i: isinstance(a, type) and issubclass(a, WireModel))],
        "name": paths_where(lambda a, i: a == HeaderValue),
        "rule": paths_where(lambda a, i: a == RuleLine),
        # where the parent object is present: "" there reads back as the service's default text
        "empty_default": [p for p in default_texts(kind.facts.server_defaults) if present(body, p[:-1])],
    }
    how = draw(st.sampled_from([m for m in MUTATIONS if candidates[m]]))
    path = draw(st.sampled_from(candidates[how]))
    parent = get(body, path[:-1]) if path and how != "enum" else body
    if how == "wrong_type":
        value = get(body, path)
        if isinstance(value, dict):
            bad: Any = draw(st.lists(junk_scalar, min_size=1, max_size=3))
        elif isinstance(value, list):
            bad = draw(st.dictionaries(st.text(min_size=1, max_size=5), junk, min_size=1))
        else:  # a container where a scalar goes
            bad = draw(st.one_of(st.dictionaries(st.text(min_size=1, max_size=5), junk, min_size=1), st.just([[1]])))
        parent[path[-1]] = bad
    elif how == "not_a_bool":  # lax validation would read "yes" or 1 as True
        parent[path[-1]] = draw(st.one_of(st.sampled_from(["yes", "true", "false", "1", 1, 0, 1.0]), st.integers()))
    elif how == "enum":
        allowed = typing.get_args(annotations[path])
        items = get(body, path[:-1])
        items.append(draw(st.text(min_size=1, max_size=12).filter(lambda s: s not in allowed)))
        path = (*path[:-1], len(items) - 1)
    elif how == "missing":
        del parent[path[-1]]
    elif how == "extra":
        node = get(body, path)
        key = "not_a_field_" + draw(st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=10))
        node[key] = draw(junk)
        path = (*path, key)
    elif how == "empty_default":
        get(body, path[:-1])[path[-1]] = ""
    elif how == "name":
        parent[path[-1]] = draw(unsendable_names())
    else:
        parent[path[-1]] = draw(bad_rules())
    return body, how, fmt(path)


def _any_kind_mutated() -> st.SearchStrategy[tuple[Kind, dict[str, Any], str, str]]:
    return st.sampled_from(KINDS).flatmap(lambda k: mutated(k).map(lambda c: (k, *c)))


def valid_bodies(kind: Kind) -> st.SearchStrategy[dict[str, Any]]:
    """A valid body of ``kind``: the wire model's, without an empty text where the service has a default."""
    defaults = kind.facts.server_defaults
    return body_strategy(wire.request_model(kind)).filter(lambda b: not empty_where_the_server_fills_in(b, defaults))


def _any_kind_valid() -> st.SearchStrategy[tuple[Kind, dict[str, Any]]]:
    return st.sampled_from(KINDS).flatmap(lambda k: valid_bodies(k).map(lambda b: (k, b)))


# --------------------------------------------------------------------------------------------- properties


def failures_of(kind: Kind, body: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e.path, e.reason) for e in spec.check_failures(body, kind=kind)]


def assert_failures_name(body: dict[str, Any], failures: list[tuple[str, str]], where: str) -> None:
    assert failures, f"no failure for an input invalid at {where}"
    paths = [p for p, _ in failures]
    assert any(related(p, where) for p in paths), f"failures {paths} do not name {where}"
    for path, reason in failures:
        assert reason, path
        assert is_real_path(body, path), f"failure path {path!r} is not a key path of the input"


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_every_mutation_is_reported_at_its_path(kind: Kind) -> None:
    @given(mutated(kind))
    @SETTINGS
    def prop(case: tuple[dict[str, Any], str, str]) -> None:
        body, how, where = case
        FIGURES.add_inputs(f"{kind.name}-{how}")
        assert_failures_name(body, failures_of(kind, body), where)

    prop()


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_valid_bodies_pass(kind: Kind) -> None:
    @given(valid_bodies(kind))
    @settings(SETTINGS, max_examples=60)
    def prop(body: dict[str, Any]) -> None:
        FIGURES.add_inputs(f"{kind.name}-valid")
        assert failures_of(kind, body) == []

    prop()


# --------------------------------------------------------------------------------------------- the server


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with start_server(str(tmp_path_factory.mktemp("kind-props") / "enkrypt.sqlite"), [API_KEY]) as server:
        yield server


_serial = itertools.count()


def empty_where_the_server_fills_in(sent: Any, defaults: Any) -> bool:
    """An empty string where the service fills in a default text of its own, which check refuses (it would
    read back as that default: drift on every refresh; found by these properties, fixed in fbdd96c)."""
    if isinstance(sent, dict) and isinstance(defaults, dict):
        return any(empty_where_the_server_fills_in(v, defaults.get(k)) for k, v in sent.items())
    return sent == "" and isinstance(defaults, str) and defaults != ""


def differences(sent: Any, read: Any, path: str = "") -> list[str]:
    """The key paths of what was sent that the server gives back differently (what it adds left aside: the
    defaults it fills in are no drift)."""
    if isinstance(sent, dict) and isinstance(read, dict):
        return [d for k, v in sent.items() for d in differences(v, read.get(k), f"{path}.{k}" if path else k)]
    return [] if sent == read else [path]


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_what_check_accepts_the_server_accepts(kind: Kind, live_server: RunningServer) -> None:
    """A body check passes is sent as the provider sends it (the canonical inputs, the rules as lines with their
    count) and must be stored, then read back as sent, then deleted: not refused halfway through an `up`."""
    with EnkryptClient(live_server.url, API_KEY) as api:

        @given(valid_bodies(kind))
        @SERVER_SETTINGS
        def prop(body: dict[str, Any]) -> None:
            FIGURES.add_inputs(f"{kind.name}-sent")
            body = copy.deepcopy(body)
            body["name"] = f"{body['name']}-{next(_serial)}"  # a name of its own: examples never collide
            checked, failures = spec.check(body, kind=kind)
            assert failures == []
            sent = spec.request_body(checked, kind)
            api.add(kind, sent)  # raises on any refusal, naming the call and the status
            try:
                read = api.get(kind, (sent["name"],))
                assert differences(sent, read) == [], f"read back differently: sent {sent!r}, read {read!r}"
                # and the provider's own refresh sees no drift in it
                assert spec.changed_fields(checked, spec.server_view(read, checked, kind), kind) == []
            finally:
                api.delete(kind, (sent["name"],))

        prop()


# --------------------------------------------------------------------------------------------- through the host


@pytest.fixture(scope="module")
def hosts(live_server: RunningServer) -> Iterator[dict[str, ProviderHost]]:
    """One SDK provider host per kind, each running that kind's provider."""
    out: dict[str, ProviderHost] = {}
    try:
        for kind in KINDS:
            host = ProviderHost()
            host.pickled = serialize_provider(PROVIDERS[kind.name]())
            host.urn = f"urn:pulumi:test::project::{kind.type_token}::r"
            host.configure({"enkrypt:apiKey": API_KEY, "enkrypt:baseUrl": live_server.url})
            out[kind.name] = host
        live_server.reset_stats()  # what the server property test sent is not counted
        yield out
    finally:
        for host in out.values():
            host.close()


@given(
    st.one_of(
        _any_kind_mutated().map(lambda c: (c[0], c[1], c[3])),
        _any_kind_valid().map(lambda c: (c[0], c[1], None)),
    )
)
@HOST_SETTINGS
def test_check_through_the_provider_host(hosts: dict[str, ProviderHost], case: Any) -> None:
    kind, body, where = case
    FIGURES.add_inputs(f"{kind.name}-host")
    _, failures = hosts[kind.name].check({}, body)  # a gRPC error would raise here
    if where is None:
        assert failures == []
    else:
        assert_failures_name(body, failures, where)


def test_check_sent_no_request(hosts: dict[str, ProviderHost], live_server: RunningServer) -> None:
    """Runs after the host property test (file order): since the hosts started, the server saw no request."""
    sent = {k: v for k, v in live_server.stats()["requests"].items() if v and not k.split()[1].startswith("/_")}
    FIGURES.bump("requests_sent_by_check", sum(sent.values()))
    assert sent == {}


# --------------------------------------------------------------------------------------------- found, fixed
# What the properties above found (fixed in fbdd96c), kept as plain cases: each failed before the fix.


@pytest.mark.parametrize("brk", list(OTHER_LINE_BREAKS), ids=lambda c: f"U+{ord(c):04X}")
def test_a_rule_with_another_line_break_is_refused_by_check(brk: str) -> None:
    """It passed check, then `up` got a 422 (the server counted one rule more than total_rules)."""
    body = {"name": f"coc-break-{ord(brk):x}", "rules": ["Be polite.", f"No refunds.{brk}Ever."], "policy_text": ""}
    failures = failures_of(COC_POLICY, body)
    assert [path for path, _ in failures] == ["rules[1]"], failures


@pytest.mark.parametrize(
    ("kind", "body", "where"),
    [
        (
            POLICY,
            {"name": "empty-text", "detectors": {"policy_violation": {"enabled": True, "policy_text": ""}}},
            "detectors.policy_violation.policy_text",
        ),
        (
            GUARDRAIL,
            {"name": "empty-index", "input": {"system_prompt": {"enabled": True, "index": ""}}},
            "input.system_prompt.index",
        ),
    ],
    ids=["policy_text", "index"],
)
def test_an_empty_text_the_server_fills_in_is_refused_by_check(kind: Kind, body: dict[str, Any], where: str) -> None:
    """It passed check, the server stored its default instead, and every refresh showed drift."""
    failures = failures_of(kind, body)
    assert [path for path, _ in failures] == [where], failures
