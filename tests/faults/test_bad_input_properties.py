"""Property-based tests of `check` over generated bad (and good) input.

Raw dicts start from Enkrypt's own request examples (schema/add-model.openapi.yaml) and get one mutation each:
a wrong type anywhere, an out-of-range port, an unknown enum value, a missing required key, an extra key, a
huge string, a custom_payload without {prompt}, nested junk, a rule across fields, and what the wire refuses
though a lax check would let it through (then `up` fails halfway): a bool where an integer or number goes, a
non-bool where a bool goes, a negative count, a scheme other than http(s), a URL (or host:port, user@host,
...) as the host, a name that no HTTP header can carry. Typed inputs are built from the generated ``...Args``
classes with generated values and converted as the resource converts them.

For every input: ``check`` raises nothing; an invalid input gets at least one failure, and the failure names
the mutated key path; every failure path is a real key path in the input (or a missing key under one); a valid
input gets none. A share of the inputs also goes through the SDK's own provider host over gRPC, configured
with a live local server, whose request count must stay 0.

The server side (schemathesis against the local server's OpenAPI, no 5xx) is tests/server/test_schemathesis.py.
"""

from __future__ import annotations

import copy
import json
import re
import string
import types
import typing
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pulumi_enkrypt import spec, wire
from pulumi_enkrypt.inputs import (
    AuthDataArgs,
    ContextArgs,
    CustomHeaderArgs,
    EndpointArgs,
    ModelArgs,
    ModelConfigArgs,
    PathsArgs,
    ToolArgs,
)
from pulumi_enkrypt.resource import _plain
from pulumi_enkrypt.server.process import RunningServer, start_server
from support.bodies import enkrypt_examples
from support.faults import FIGURES, related
from support.provider_host import ProviderHost
from support.server import model_requests

API_KEY = "properties-key-2a9d"
SETTINGS = settings(max_examples=600, deadline=None, suppress_health_check=list(HealthCheck), database=None)
HOST_SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck), database=None)


EXAMPLES = list(enkrypt_examples().values())
Path_ = tuple[Any, ...]


# --------------------------------------------------------------------------------------------- key paths


def fmt(path: Path_) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def parse(path: str) -> list[Any]:
    return [int(p[1:-1]) if p.startswith("[") else p for p in re.findall(r"\[\d+\]|[^.\[\]]+", path)]


def is_real_path(body: Any, path: str) -> bool:
    """The path exists in ``body``, or all of it but the last key does (a missing key under a real parent)."""
    if path in ("(body)", "body"):
        return True
    if isinstance(body, dict) and path in body:  # a top-level key that itself holds dots or brackets
        return True
    node = body
    parts = parse(path)
    for i, part in enumerate(parts):
        in_list = isinstance(part, int) and isinstance(node, list) and part < len(node)
        in_dict = isinstance(part, str) and isinstance(node, dict) and part in node
        if in_list or in_dict:
            node = node[part]
        else:
            return i == len(parts) - 1 and isinstance(node, dict)
    return True


def leaves(node: Any, path: Path_ = ()) -> Iterator[Path_]:
    """Every key path of a body, containers included; nothing inside the free-form custom_payload."""
    if path:
        yield path
    if path[-1:] == ("custom_payload",):
        return
    if isinstance(node, dict):
        for k, v in node.items():
            yield from leaves(v, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from leaves(v, (*path, i))


def get(body: Any, path: Path_) -> Any:
    for p in path:
        body = body[p]
    return body


def put(body: Any, path: Path_, value: Any) -> None:
    get(body, path[:-1])[path[-1]] = value


def scalar_fields(model: type[wire.WireModel] = wire.ModelRequest, path: Path_ = ()) -> dict[Path_, tuple[type, Any]]:
    """Key path -> (int | float | bool, the field's lower bound or None) of every scalar number or bool field of
    the wire schema outside lists, read from the wire models themselves."""
    found: dict[Path_, tuple[type, Any]] = {}
    for name, info in model.model_fields.items():
        key = (*path, info.alias or name)
        nested, is_list = wire.nested_model(info.annotation)
        if nested is not None and not is_list:
            found.update(scalar_fields(nested, key))
            continue
        base = _scalar_type(info.annotation)
        if base is not None and not is_list:
            found[key] = (base, next((m.ge for m in info.metadata if hasattr(m, "ge")), None))
    return found


def declared_keys(path: Path_, model: type[wire.WireModel] = wire.ModelRequest) -> set[str]:
    """The keys the wire schema declares in the object at ``path``, read from the wire models themselves."""
    fields = {info.alias or name: info for name, info in model.model_fields.items()}
    if not path:
        return set(fields)
    nested, _ = wire.nested_model(fields[path[0]].annotation)
    if nested is None:
        raise ValueError(f"{path[0]} is not an object")
    return declared_keys(path[1:], nested)


def _scalar_type(annotation: Any) -> type | None:
    if annotation in (int, float, bool):
        return typing.cast(type, annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType, typing.Annotated):
        for arg in typing.get_args(annotation):
            if (found := _scalar_type(arg)) is not None:
                return found
    return None


SCALARS = scalar_fields()
INT_PATHS = sorted(p for p, (t, _) in SCALARS.items() if t is int)
NUMBER_PATHS = sorted(p for p, (t, _) in SCALARS.items() if t is float)
BOOL_PATHS = sorted(p for p, (t, _) in SCALARS.items() if t is bool)
NON_NEGATIVE = sorted(p for p, (_, low) in SCALARS.items() if low == 0)
HOST = ("model_config", "endpoint", "host")
SCHEME = ("model_config", "endpoint", "scheme")


def put_deep(body: dict[str, Any], path: Path_, value: Any) -> None:
    """Set a value, making the (all optional) parent objects a body may lack."""
    node = body
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value


# --------------------------------------------------------------------------------------------- strategies

junk_scalar = st.one_of(st.integers(), st.floats(allow_nan=False), st.booleans(), st.text(max_size=20))
junk = st.recursive(junk_scalar, lambda inner: st.lists(inner, max_size=3), max_leaves=6)
other_container = {
    dict: st.lists(junk_scalar, min_size=1, max_size=3),
    list: st.dictionaries(st.text(max_size=5), junk),
}
ENUM_PATHS = [p for p in wire.KNOWN_VALUES if p != "model_config.model_provider"]
REQUIRED = [
    ("model_saved_name",),
    ("model_version",),
    ("model_config",),
    ("model_config", "model_provider"),
    ("model_config", "endpoint", "scheme"),
    ("model_config", "endpoint", "host"),
    ("model_config", "endpoint", "port"),
    ("model_config", "endpoint", "base_path"),
]
# Top level: see test_an_unknown_top_level_key_is_reported.
EXTRA_UNDER = [("model_config",), ("model_config", "endpoint"), ("model_config", "auth_data")]

label = st.text(alphabet=string.ascii_lowercase + string.digits + "-", min_size=1, max_size=12).filter(
    lambda s: s[0] != "-" and s[-1] != "-"
)
top_label = st.builds(lambda first, rest: first + rest, st.sampled_from(string.ascii_lowercase), label)
hosts = st.one_of(
    st.builds(lambda labels, top: ".".join([*labels, top]), st.lists(label, max_size=3), top_label),
    st.ip_addresses().map(str),
    st.ip_addresses(v=6).map(lambda ip: f"[{ip}]"),
)
names = st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=30)
# Secret values: realistic keys, never something that reads as a mask or as export's placeholder.
secret_values = st.text(alphabet=string.ascii_letters + string.digits + "-_", min_size=1, max_size=20).map(
    lambda s: "sk-" + s
)


@st.composite
def url_like_hosts(draw: st.DrawFn) -> str:
    """A good host with what belongs elsewhere: a scheme, user info, a port, a path or query, a blank."""
    host = draw(hosts)
    extras = draw(st.sets(st.sampled_from(["scheme", "user", "port", "path", "query", "blank"]), min_size=1))
    if "port" in extras:
        host += f":{draw(st.integers(0, 65535))}"
    if "path" in extras:
        host += "/" + draw(st.text(alphabet=string.ascii_letters + "/._-", max_size=10))
    if "query" in extras:
        host += "?" + draw(st.text(alphabet=string.ascii_letters + "=&", max_size=8))
    if "user" in extras:
        host = draw(st.text(alphabet=string.ascii_letters + ":", min_size=1, max_size=8)) + "@" + host
    if "scheme" in extras:
        host = draw(st.sampled_from(["http://", "https://", "ftp://", "HTTPS://"])) + host
    if "blank" in extras:
        at = draw(st.integers(0, len(host)))
        host = host[:at] + draw(st.sampled_from([" ", "\t", "\n", "\u00a0"])) + host[at:]
    return host


@st.composite
def unsendable_names(draw: st.DrawFn) -> str:
    """A name an HTTP header cannot carry: a character beyond latin-1, a control character, an edge blank."""
    name = draw(names)
    how = draw(st.sampled_from(["beyond_latin1", "control", "edge_blank"]))
    if how == "edge_blank":
        blanks = draw(st.text(alphabet=" ", min_size=1, max_size=3))
        return draw(st.sampled_from([blanks + name, name + blanks, blanks + name + blanks]))
    bad = draw(
        st.characters(min_codepoint=0x100)
        if how == "beyond_latin1"
        else st.one_of(st.characters(max_codepoint=0x1F), st.characters(min_codepoint=0x7F, max_codepoint=0x9F))
    )
    at = draw(st.integers(0, len(name)))
    return name[:at] + bad + name[at:]


not_http = st.one_of(
    st.sampled_from(["ftp", "ws", "wss", "file", "HTTP", "Https", "https://", "http:", " https", "grpc"]),
    st.text(min_size=1, max_size=8),
).filter(lambda s: s not in ("http", "https"))


@st.composite
def mutated(draw: st.DrawFn) -> tuple[dict[str, Any], str, str]:
    """(body, mutation kind, key path the failure must name)."""
    body = copy.deepcopy(draw(st.sampled_from(EXAMPLES)))
    kind = draw(
        st.sampled_from(
            [
                "wrong_type",
                "port",
                "enum",
                "missing",
                "extra",
                "huge",
                "no_prompt",
                "junk",
                "jwt",
                "foundation",
                "empty",
                "not_a_number",
                "not_a_bool",
                "negative",
                "scheme",
                "host",
                "name",
            ]
        )
    )
    cfg = body["model_config"]
    if kind == "wrong_type":
        paths = [p for p in leaves(body) if not isinstance(get(body, p), type(None))]
        path = draw(st.sampled_from(paths))
        value = get(body, path)
        if isinstance(value, dict):
            bad = draw(other_container[dict])
        elif isinstance(value, list):
            bad = draw(other_container[list])
        else:  # a scalar where a container is never right, and the other way round
            bad = draw(st.one_of(st.dictionaries(st.text(min_size=1, max_size=5), junk, min_size=1), st.just([[1]])))
        if isinstance(path[-1], int) and isinstance(get(body, path[:-1]), list) and path[-2] == "certifications":
            bad = {"not": "a string"}
        put(body, path, bad)
        return body, kind, fmt(path)
    if kind == "not_a_number":  # lax validation would store True as 1, "443" as 443
        path = draw(st.sampled_from(INT_PATHS + NUMBER_PATHS))
        put_deep(body, path, draw(st.one_of(st.booleans(), st.integers().map(str), st.sampled_from(["", "1.5"]))))
        return body, kind, fmt(path)
    if kind == "not_a_bool":  # lax validation would read "yes" or 1 as True
        path = draw(st.sampled_from(BOOL_PATHS))
        bad = draw(
            st.one_of(
                st.sampled_from(["yes", "no", "true", "false", "on", "1", "0", "", 1, 0, 1.0]),
                st.text(max_size=8),
                st.integers(),
                st.floats(allow_nan=False),
            )
        )
        put_deep(body, path, bad)
        return body, kind, fmt(path)
    if kind == "negative":
        path = draw(st.sampled_from(NON_NEGATIVE))
        put_deep(
            body, path, draw(st.one_of(st.integers(max_value=-1), st.floats(max_value=-1e-9, allow_infinity=False)))
        )
        return body, kind, fmt(path)
    if kind == "scheme":
        put_deep(body, SCHEME, draw(not_http))
        return body, kind, fmt(SCHEME)
    if kind == "host":
        put_deep(body, HOST, draw(url_like_hosts()))
        return body, kind, fmt(HOST)
    if kind == "name":
        field = draw(st.sampled_from(["model_saved_name", "model_version"]))
        body[field] = draw(unsendable_names())
        return body, kind, field
    if kind == "port":
        port = draw(st.one_of(st.integers(max_value=0), st.integers(min_value=65536)))
        cfg["endpoint"]["port"] = port
        return body, kind, "model_config.endpoint.port"
    if kind == "enum":
        path = draw(st.sampled_from(ENUM_PATHS))
        allowed = wire.KNOWN_VALUES[path]
        value = draw(st.text(min_size=1, max_size=12).filter(lambda s: s not in allowed))
        parts = [p for p in path.replace("[*]", "").split(".")]
        node = body
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        if path.endswith("[*]"):
            node[parts[-1]] = [*node.get(parts[-1], []), value]
            return body, kind, path.replace("[*]", f"[{len(node[parts[-1]]) - 1}]")
        node[parts[-1]] = value
        return body, kind, path
    if kind == "missing":
        path = draw(st.sampled_from(REQUIRED))
        del get(body, path[:-1])[path[-1]]
        return body, kind, fmt(path)
    if kind == "extra":
        under = draw(st.sampled_from(EXTRA_UNDER))
        key = draw(st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12))
        node = get(body, under)
        if key in node or key in declared_keys(under):
            key = "not_a_field_" + key
        node[key] = draw(junk)
        return body, kind, fmt((*under, key))
    if kind == "huge":
        field, limit = draw(st.sampled_from([("system_description", 2000), ("policy_description", 5000)]))
        cfg["context"] = {field: "x" * draw(st.integers(min_value=limit + 1, max_value=limit * 3))}
        return body, kind, f"model_config.context.{field}"
    if kind == "no_prompt":
        cfg["custom_payload"] = draw(
            st.dictionaries(st.text(min_size=1, max_size=8), st.text(max_size=10), min_size=1).filter(
                lambda d: "{prompt}" not in json.dumps(d)
            )
        )
        return body, kind, "model_config.custom_payload"
    if kind == "junk":
        path = draw(st.sampled_from([("model_config",), ("model_config", "endpoint"), ("model_config", "auth_data")]))
        put(body, path, draw(st.one_of(junk_scalar.filter(lambda v: v != ""), st.lists(junk, min_size=1))))
        return body, kind, fmt(path)
    if kind == "jwt":
        cfg["model_auth_type"] = "jwt"
        cfg.pop("model_jwt_config", None)
        return body, kind, "model_config.model_jwt_config"
    if kind == "foundation":
        body["testing_for"] = "foundationModels"
        body.pop("model_name", None)
        return body, kind, "model_name"
    body[draw(st.sampled_from(["model_saved_name", "model_version"]))] = ""
    return body, kind, "model_saved_name" if body["model_saved_name"] == "" else "model_version"


@st.composite
def valid_bodies(draw: st.DrawFn) -> dict[str, Any]:
    body = copy.deepcopy(draw(st.sampled_from(EXAMPLES)))
    body["model_saved_name"] = draw(names)
    body["model_version"] = draw(names)
    body["model_config"]["endpoint"]["port"] = draw(
        st.one_of(st.integers(min_value=1, max_value=65535), st.integers(1, 65535).map(float))
    )  # the engine hands numbers over as floats
    body["model_config"]["endpoint"]["scheme"] = draw(st.sampled_from(["http", "https"]))
    body["model_config"]["endpoint"]["host"] = draw(hosts)
    body["model_config"]["rate_per_min"] = draw(st.one_of(st.integers(0, 500), st.floats(0, 500)))
    # Enkrypt's examples hold the placeholder key "xxxxx", which check refuses as a mask.
    body["model_config"]["apikeys"] = draw(st.lists(secret_values, max_size=2))
    body["model_config"]["model_provider"] = draw(
        st.one_of(st.sampled_from(list(wire.KNOWN_VALUES["model_config.model_provider"])), names)
    )  # open enum: unknown providers are accepted
    for key in draw(st.sets(st.sampled_from(["apikeys", "paths", "auth_data", "metadata", "system_prompt"]))):
        body["model_config"].pop(key, None)
    return body


# The one bad typed value an input may get: (key path, strategy). None: all valid, the payload decides.
TYPED_BAD: dict[str, tuple[str, st.SearchStrategy[Any]]] = {
    "port_range": ("model_config.endpoint.port", st.integers(min_value=65536)),
    "port_bool": ("model_config.endpoint.port", st.booleans()),
    "space_after_prefix": ("model_config.auth_data.space_after_prefix", st.sampled_from(["yes", "true", 1, 0])),
    "rate": ("model_config.rate_per_min", st.one_of(st.integers(max_value=-1), st.booleans())),
    "scheme": ("model_config.endpoint.scheme", not_http),
    "host": ("model_config.endpoint.host", url_like_hosts()),
    "name": ("model_saved_name", unsendable_names()),
}


@st.composite
def typed_inputs(draw: st.DrawFn) -> tuple[ModelArgs, str | None]:
    """ModelArgs built from generated values; (args, the path a failure must name, or None if valid)."""
    bad = draw(st.sampled_from([None, *TYPED_BAD]))
    bad_path, bad_value = (TYPED_BAD[bad][0], draw(TYPED_BAD[bad][1])) if bad else (None, None)

    def value(path: str, good: Any) -> Any:
        return bad_value if path == bad_path else good

    prompt_payload = bad is not None or draw(st.booleans())
    payload = (
        {"input": "{prompt}"}
        if prompt_payload
        else {"input": draw(st.text(max_size=10).filter(lambda s: "{prompt}" not in s))}
    )
    config = ModelConfigArgs(
        model_provider=draw(st.sampled_from(list(wire.KNOWN_VALUES["model_config.model_provider"]))),
        hosting_type=draw(st.sampled_from([None, "External", "Internal"])),
        endpoint=EndpointArgs(
            scheme=value("model_config.endpoint.scheme", draw(st.sampled_from(["http", "https"]))),
            host=value("model_config.endpoint.host", draw(hosts)),
            port=value("model_config.endpoint.port", draw(st.integers(min_value=1, max_value=65535))),
            base_path=draw(st.text(max_size=10)),
        ),
        paths=PathsArgs(chat=draw(st.text(max_size=10))),
        auth_data=AuthDataArgs(
            header_name="Authorization",
            space_after_prefix=value("model_config.auth_data.space_after_prefix", draw(st.booleans())),
        ),
        apikeys=draw(st.lists(secret_values, max_size=2)),
        input_modalities=draw(st.lists(st.sampled_from(["text", "image", "audio"]), max_size=3)),
        tools=[ToolArgs(name=draw(names), description=draw(names))],
        custom_headers=[CustomHeaderArgs(key=draw(names), value=draw(secret_values))],
        custom_payload=payload,
        rate_per_min=value(
            "model_config.rate_per_min", draw(st.one_of(st.none(), st.integers(0, 500), st.floats(0, 500)))
        ),
        context=ContextArgs(system_description=draw(st.text(max_size=50))),
    )
    args = ModelArgs(
        model_saved_name=value("model_saved_name", draw(names)), model_version=draw(names), model_config=config
    )
    return args, bad_path or (None if prompt_payload else "model_config.custom_payload")


def as_engine_sends(args: ModelArgs) -> dict[str, Any]:
    """What the provider's check receives: the resource's own conversion, then plain JSON values."""
    return json.loads(json.dumps(_plain(args)))


# --------------------------------------------------------------------------------------------- properties


def assert_failures_name(body: dict[str, Any], failures: list[tuple[str, str]], where: str) -> None:
    assert failures, f"no failure for an input invalid at {where}"
    paths = [p for p, _ in failures]
    assert any(related(p, where) for p in paths), f"failures {paths} do not name {where}"
    for path, reason in failures:
        assert reason, path
        assert is_real_path(body, path), f"failure path {path!r} is not a key path of the input"


def direct(body: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e.path, e.reason) for e in spec.check_failures(body)]


@given(mutated())
@SETTINGS
def test_every_mutation_is_reported_at_its_path(case: tuple[dict[str, Any], str, str]) -> None:
    body, kind, where = case
    FIGURES.add_inputs(f"raw-{kind}")
    assert_failures_name(body, direct(body), where)


@given(valid_bodies())
@settings(SETTINGS, max_examples=100)
def test_valid_bodies_pass(body: dict[str, Any]) -> None:
    FIGURES.add_inputs("raw-valid")
    assert direct(body) == []


@given(
    st.one_of(
        junk,
        st.dictionaries(st.text(max_size=12), junk, max_size=6),
        st.builds(lambda j: {"model_saved_name": "n", "model_version": "v", "model_config": j}, junk),
    )
)
@settings(SETTINGS, max_examples=150)
def test_arbitrary_junk_never_raises(value: Any) -> None:
    FIGURES.add_inputs("raw-junk")
    body = value if isinstance(value, dict) else {"model_config": value}
    failures = direct(body)  # must not raise
    assert failures
    for path, _ in failures:
        assert is_real_path(body, path), path


@given(typed_inputs())
@settings(SETTINGS, max_examples=150)
def test_typed_inputs_are_checked_like_raw_ones(case: tuple[ModelArgs, str | None]) -> None:
    args, where = case
    FIGURES.add_inputs("typed")
    body = as_engine_sends(args)
    failures = direct(body)
    if where is None:
        assert failures == [], failures
    else:
        assert_failures_name(body, failures, where)


# --------------------------------------------------------------------------------------------- through the host


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with start_server(str(tmp_path_factory.mktemp("props") / "enkrypt.sqlite"), [API_KEY]) as server:
        yield server


@pytest.fixture(scope="module")
def host(live_server: RunningServer) -> Iterator[ProviderHost]:
    h = ProviderHost()
    h.configure({"enkrypt:apiKey": API_KEY, "enkrypt:baseUrl": live_server.url})
    yield h
    h.close()


@given(st.one_of(mutated().map(lambda c: (c[0], c[2])), valid_bodies().map(lambda b: (b, None))))
@HOST_SETTINGS
def test_check_through_the_provider_host(host: ProviderHost, live_server: RunningServer, case: Any) -> None:
    body, where = case
    FIGURES.add_inputs("host")
    _, failures = host.check({}, body)  # a gRPC error would raise here
    if where is None:
        assert failures == []
    else:
        assert_failures_name(body, failures, where)


def test_an_unknown_top_level_key_is_reported() -> None:
    """A typo at the top level of a raw dict (``Model("m", args={...})``) must fail like one further down.

    Today ``spec.check_failures`` looks only at ``schema_part(props)``, so ``model_nmae`` is silently dropped
    while ``model_config.model_nmae`` is reported: the model is created without the field the user meant.
    """
    body = copy.deepcopy(EXAMPLES[0])
    body["model_nmae"] = body.pop("model_name")
    body["testing_for"] = "agents"  # so the missing model_name is not what gets reported
    FIGURES.add_inputs("raw-top-level-typo")
    assert_failures_name(body, direct(body), "model_nmae")


def test_check_sent_no_request(host: ProviderHost, live_server: RunningServer) -> None:
    """Runs after the host property test (file order): the server saw no model request at all."""
    sent = sum(model_requests(live_server).values())
    FIGURES.bump("requests_sent_by_check", sent)
    assert sent == 0
