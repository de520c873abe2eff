"""``pulumi-enkrypt export``'s program writer: the objects of an Enkrypt account (as the API returns them) into
a Pulumi program of typed resources, one section per kind (``kinds.ALL_KINDS``), with the references between
them as code.

The shape of the code comes from the kinds' declarations and schemas, never from a hand-kept field list: the
structure (which key holds which nested object, in which order) is read from each kind's generated wire model
(:mod:`pulumi_enkrypt.wire`), the typed class for each nested object is the ``<WireName>Args`` class of the
generated :mod:`pulumi_enkrypt.inputs`, and the resource's keyword arguments are those of the kind's resource
class; both must accept every key written (checked while rendering).

- Server-computed fields (``facts.server_fields``) are never written; a value the service fills in by default
  (``facts.server_defaults``) is left out where it equals the default, by the rule refresh uses
  (:func:`pulumi_enkrypt.spec.server_view` of an object nothing was declared for).
- A field that names another object (``kind.references``) is written as that object's output
  (``model_saved_name=support_bot_v1.model_saved_name``, ``policy_name=airline_policy.name``) when the object is
  exported too, so Pulumi orders creates and deletes; otherwise it stays a string, and a comment says why.
  Objects come after what they name.
- Every value under a secret path (``facts.secret_paths``) becomes ``config.require_secret("<key>")`` (or
  ``config.require_secret_object`` for a secret object), the value itself handed back separately as a
  :class:`ConfigEntry`, so it can go into the stack configuration and never into the code.
"""

from __future__ import annotations

import copy
import inspect
import json
import keyword
import re
import shlex
import textwrap
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from . import inputs, wire
from .kinds import ALL_KINDS, MODEL, Kind
from .secrets import PLACEHOLDER, is_masked
from .spec import server_view

__all__ = [
    "PLACEHOLDER",
    "ConfigEntry",
    "RenderedModel",
    "RenderedProgram",
    "RenderedResource",
    "export_order",
    "is_masked",
    "prepare",
    "render_program",
]

WIDTH = 100
"""Target line width of the generated code (ruff's limit in this repository is 120)."""
INDENT = "    "
MODULE_ALIAS = "enkrypt"


# ------------------------------------------------------------------------------------------- schema access


@cache
def _wire_fields(model: type[wire.WireModel]) -> tuple[tuple[str, type[wire.WireModel] | None, bool], ...]:
    """(wire key, nested wire model or None, is list) for each declared field, in schema order."""
    return tuple((f.alias or name, *wire.nested_model(f.annotation)) for name, f in model.model_fields.items())


@cache
def _required(model: type[wire.WireModel]) -> frozenset[str]:
    """The wire keys a body of ``model`` cannot leave out."""
    return frozenset(f.alias or name for name, f in model.model_fields.items() if f.is_required())


@cache
def _args_class(model: type[wire.WireModel]) -> tuple[str, frozenset[str]]:
    """The generated input class for a wire model and the keyword parameters its constructor takes."""
    name = f"{model.__name__}Args"
    cls = getattr(inputs, name, None)
    if cls is None:
        raise LookupError(f"pulumi_enkrypt.inputs has no {name} for the wire model {model.__name__}")
    params = frozenset(p for p in inspect.signature(cls.__init__).parameters if p != "__self__")
    return name, params


@cache
def _resource_params(kind_name: str) -> frozenset[str]:
    """Keyword parameters of a kind's resource class (its top level is ``<Kind>Args``, not the wire name)."""
    from . import resource

    params = set(inspect.signature(getattr(resource, kind_name).__init__).parameters)
    return frozenset(params - {"self", "resource_name", "args", "opts"})


# ------------------------------------------------------------------------------------------- object data


def prepare(obj: Mapping[str, Any], kind: Kind = MODEL) -> dict[str, Any]:
    """An object as the API returns it -> the request body it stands for: server-computed fields dropped,
    the documented shape's top-level copies put back where they belong (a model's ``model_config``), nulls
    and unknown keys dropped."""
    body = {k: v for k, v in obj.items() if k not in kind.facts.server_fields}
    if kind.hoisted_into:
        holder = dict(body.get(kind.hoisted_into) or {})
        for key in kind.facts.hoisted_fields:
            if key in body and key not in holder:
                holder[key] = body[key]
            body.pop(key, None)
        body[kind.hoisted_into] = holder
    return wire.strip_unknown(wire.normalize(kind, body), kind)


def without_defaults(body: Mapping[str, Any], kind: Kind) -> dict[str, Any]:
    """``body`` without what the service fills in by default where it equals the default: refresh's rule
    (``server_view`` with nothing declared), then whatever the schema requires put back (an object emptied
    of defaults stays, empty: a policy's ``detectors={}``)."""
    slim = server_view(body, {}, kind) if kind.facts.server_defaults else dict(body)
    _restore_required(slim, body, wire.request_model(kind))
    return slim


def _restore_required(slim: dict[str, Any], full: Mapping[str, Any], model: type[wire.WireModel]) -> None:
    for key, nested, is_list in _wire_fields(model):
        if key not in full:
            continue
        if key not in slim and key in _required(model):
            slim[key] = {} if nested is not None and not is_list and isinstance(full[key], Mapping) else full[key]
        if nested is not None and not is_list and isinstance(slim.get(key), dict) and isinstance(full[key], Mapping):
            _restore_required(slim[key], full[key], nested)


def _get_path(node: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def _set_path(node: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for part in parents:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[last] = value


def export_order(kinds: Sequence[Kind] = ALL_KINDS) -> tuple[Kind, ...]:
    """The kinds, each after every kind it may name (stable: otherwise in the given order)."""
    by_name = {k.name: k for k in kinds}
    done: list[Kind] = []  # a Kind holds dicts: not hashable, so lists and names, no sets of kinds
    visiting: set[str] = set()

    def visit(kind: Kind) -> None:
        if kind in done or kind.name in visiting:
            return
        visiting.add(kind.name)
        for ref in kind.references:
            for target in ref.kinds:
                if target in by_name:
                    visit(by_name[target])
        visiting.discard(kind.name)
        done.append(kind)

    for kind in kinds:
        visit(kind)
    return tuple(done)


# ------------------------------------------------------------------------------------------- naming


def _words(text: str) -> list[str]:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return [w for w in re.split(r"[^0-9A-Za-z]+", re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", text)) if w]


def _camel(*parts: str) -> str:
    words = [w.lower() for part in parts for w in _words(part)] or ["model"]
    text = words[0] + "".join(w[:1].upper() + w[1:] for w in words[1:])
    return text if text[0].isalpha() else "m" + text


def _snake(*parts: str) -> str:
    text = "_".join(w.lower() for part in parts for w in _words(part)) or "model"
    if not text[0].isalpha():
        text = "m_" + text
    return text + "_" if keyword.iskeyword(text) else text


def _kebab(*parts: str) -> str:
    return "-".join(w.lower() for part in parts for w in _words(part)) or "model"


class _Names:
    """Hands out unique names (a numeric suffix on a clash)."""

    def __init__(self, taken: Iterable[str] = ()) -> None:
        self._taken = set(taken)

    def take(self, name: str, sep: str = "") -> str:
        candidate, n = name, 1
        while candidate in self._taken:
            n += 1
            candidate = f"{name}{sep}{n}"
        self._taken.add(candidate)
        return candidate


# ------------------------------------------------------------------------------------------- literals


def _str_literal(value: str) -> str:
    text = repr(value)
    if text.startswith("'") and '"' not in value and "'" not in value:
        text = '"' + text[1:-1] + '"'
    return text


def _split_string(value: str, room: int) -> list[str]:
    """Cut a long string into pieces whose literals fit in ``room`` columns, cutting after a space if any."""
    size = max(20, room - 2)
    pieces: list[str] = []
    rest = value
    while rest:
        cut = min(len(rest), size)
        while cut > 1 and len(_str_literal(rest[:cut])) > size:
            cut -= 1
        if cut < len(rest):
            space = rest.rfind(" ", 0, cut)
            if space > cut // 2:
                cut = space + 1
        pieces.append(rest[:cut])
        rest = rest[cut:]
    return pieces


class Code:
    """A piece of Python source that is either kept on one line or broken over several."""

    def render(self, indent: int, used: int) -> str:
        """The text, its first line starting after ``used`` columns, continuation lines at ``indent`` levels."""
        raise NotImplementedError


@dataclass
class Literal(Code):
    value: Any

    def render(self, indent: int, used: int) -> str:
        value = self.value
        if isinstance(value, Code):  # a reference written as code inside a body
            return value.render(indent, used)
        if isinstance(value, str):
            text = _str_literal(value)
            if used + len(text) + 1 <= WIDTH or len(value) < 10:
                return text
            pad = INDENT * (indent + 1)
            pieces = _split_string(value, WIDTH - len(pad))
            if len(pieces) == 1:
                return text
            return "(\n" + "".join(f"{pad}{_str_literal(p)}\n" for p in pieces) + INDENT * indent + ")"
        if isinstance(value, Mapping):
            return _Collection("{", "}", [(_str_literal(str(k)) + ": ", Literal(v)) for k, v in value.items()]).render(
                indent, used
            )
        if isinstance(value, (list, tuple)):
            return _Collection("[", "]", [("", Literal(v)) for v in value]).render(indent, used)
        return repr(value)


@dataclass
class _Collection(Code):
    open: str
    close: str
    items: Sequence[tuple[str, Code]]  # (prefix such as "key=" or '"k": ', value)

    def render(self, indent: int, used: int) -> str:
        if not self.items:
            return self.open + self.close
        inline = [prefix + code.render(indent, 0) for prefix, code in self.items]
        one_line = self.open + ", ".join(inline) + self.close
        if "\n" not in one_line and used + len(one_line) + 1 <= WIDTH:
            return one_line
        pad = INDENT * (indent + 1)
        lines = []
        for prefix, code in self.items:
            text = code.render(indent + 1, len(pad) + len(prefix))
            lines.append(f"{pad}{prefix}{text},")
        return self.open + "\n" + "\n".join(lines) + "\n" + INDENT * indent + self.close


@dataclass
class Call(Code):
    func: str
    args: Sequence[tuple[str, Code]]  # ("" for positional, else keyword name)

    def render(self, indent: int, used: int) -> str:
        items = [(f"{k}=" if k else "", v) for k, v in self.args]
        return self.func + _Collection("(", ")", items).render(indent, used + len(self.func))


@dataclass
class ListOf(Code):
    items: Sequence[Code]

    def render(self, indent: int, used: int) -> str:
        return _Collection("[", "]", [("", c) for c in self.items]).render(indent, used)


@dataclass
class Expr(Code):
    """Python source written as it is: another resource's output (``airline_policy.name``)."""

    text: str

    def render(self, indent: int, used: int) -> str:
        return self.text


# ------------------------------------------------------------------------------------------- rendering


@dataclass(frozen=True)
class ConfigEntry:
    """One stack-config secret the program reads: ``pulumi config set --secret KEY VALUE``."""

    key: str
    value: str
    """The value, or :data:`PLACEHOLDER` when it is not known (masked by the server, or not asked for)."""
    owner: str
    """The resource it belongs to, as its id (``name:version`` of a model)."""
    path: str
    """Where in the body it goes, e.g. ``model_config.auth_data.azure_client_secret``."""

    @property
    def known(self) -> bool:
        return self.value != PLACEHOLDER

    def command(self, stack: str | None = None) -> str:
        stack_flag = f" --stack {shlex.quote(stack)}" if stack else ""
        return f"pulumi config set{stack_flag} --secret {shlex.quote(self.key)} -- {shlex.quote(self.value)}"


@dataclass
class RenderedResource:
    kind: Kind
    identity: tuple[str, ...]
    variable: str
    source: str
    secrets: list[ConfigEntry] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


RenderedModel = RenderedResource
"""The name of a rendered resource when models were the only kind exported."""


def _secret_path_set(kind: Kind) -> tuple[frozenset[str], frozenset[str]]:
    """(paths whose whole value is secret, list paths whose elements' field is secret: "a.b[*]" -> "value")."""
    whole = {p for p in kind.facts.secret_paths if "[*]" not in p}
    per_item = {p for p in kind.facts.secret_paths if "[*]" in p}
    return frozenset(whole), frozenset(per_item)


class _Renderer:
    """One object of a kind as ``<variable> = enkrypt.<Kind>(...)``."""

    def __init__(self, kind: Kind, body: Mapping[str, Any], names: _Names, *, placeholders: bool) -> None:
        self.kind = kind
        self.body = body
        self.names = names
        self.placeholders = placeholders
        self.ident = kind.resource_id(kind.identity_of(body))
        self.stem = _camel(*kind.identity_of(body))
        self.secrets: list[ConfigEntry] = []
        self.warnings: list[str] = []
        self.whole, self.per_item = _secret_path_set(kind)

    # A secret value -> a config read, the value put aside.
    def _secret(self, path: str, value: Any, hint: str, *, as_object: bool = False) -> Code:
        key = self.names.take(_camel(self.stem, hint))
        if self.placeholders or is_masked(value):
            text = PLACEHOLDER
            if not self.placeholders:
                self.warnings.append(
                    f"{self.ident}: {path} came back masked; set its config key {key!r} to the real value"
                )
        else:
            text = json.dumps(value, separators=(",", ":")) if as_object else str(value)
        self.secrets.append(ConfigEntry(key, text, self.ident, path))
        method = "require_secret_object" if as_object else "require_secret"
        return Call(f"config.{method}", [("", Literal(key))])

    def value(self, path: str, value: Any, nested: type[wire.WireModel] | None, is_list: bool, hint: str) -> Code:
        if isinstance(value, Code):
            return value
        if path in self.whole:
            if isinstance(value, list):
                return ListOf(
                    [
                        self._secret(f"{path}[{i}]", v, hint if len(value) == 1 else f"{hint}{i + 1}")
                        for i, v in enumerate(value)
                    ]
                )
            return self._secret(path, value, hint, as_object=isinstance(value, Mapping))
        if nested is not None and is_list and isinstance(value, list):
            return ListOf([self.typed(nested, f"{path}[*]", v, hint, index=i) for i, v in enumerate(value)])
        if nested is not None and isinstance(value, Mapping):
            return self.typed(nested, path, value, hint)
        return Literal(value)

    def typed(self, model: type[wire.WireModel], path: str, obj: Any, hint: str, *, index: int | None = None) -> Code:
        if not isinstance(obj, Mapping):
            return Literal(obj)
        class_name, params = _args_class(model)
        args: list[tuple[str, Code]] = []
        for key, nested, is_list in _wire_fields(model):
            if key not in obj:
                continue
            if key not in params:
                raise LookupError(f"{class_name} takes no parameter {key!r} (inputs.py and the wire schema differ)")
            child = f"{path}.{key}"
            if child in self.per_item:  # e.g. custom_headers[*].value: named after the header
                label = str(obj.get("key") or obj.get("name") or (index + 1 if index is not None else ""))
                args.append((key, self._secret(child, obj[key], f"{hint} {label}")))
                continue
            args.append((key, self.value(child, obj[key], nested, is_list, _hint(key, hint))))
        return Call(f"{MODULE_ALIAS}.{class_name}", args)

    def render(self, variable: str, resource_name: str, comments: Sequence[str] = ()) -> RenderedResource:
        params = _resource_params(self.kind.name)
        args: list[tuple[str, Code]] = [("", Literal(resource_name))]
        for key, nested, is_list in _wire_fields(wire.request_model(self.kind)):
            if key not in self.body:
                continue
            if key not in params:
                raise LookupError(
                    f"{self.kind.name} takes no parameter {key!r} (its resource class and the wire schema differ)"
                )
            args.append((key, self.value(key, self.body[key], nested, is_list, "")))
        args.append((self.kind.facts.adopt_input, Literal(True)))
        call = Call(f"{MODULE_ALIAS}.{self.kind.name}", args).render(0, len(variable) + 3)
        notes = "".join(
            line + "\n"
            for note in comments
            for line in textwrap.wrap(note, WIDTH, initial_indent="# ", subsequent_indent="# ")
        )
        identity = self.kind.identity_of(self.body)
        return RenderedResource(
            self.kind, identity, variable, f"{notes}{variable} = {call}", self.secrets, self.warnings
        )


# Shorter config-key words for the common secrets (the rest use the field name).
_HINTS = {
    "apikeys": "apiKey",
    "model_jwt_config": "jwtConfig",
    "custom_curl_command": "curlCommand",
    "custom_headers": "header",
    "auth_data": "",
    "model_config": "",
}


def _hint(key: str, parent: str) -> str:
    return _HINTS.get(key, key)


# ------------------------------------------------------------------------------------------- references


@dataclass(frozen=True)
class _Exported:
    kind: Kind
    body: dict[str, Any]
    identity: tuple[str, ...]
    variable: str


def _variable_words(kind: Kind, identity: tuple[str, ...]) -> list[str]:
    """A model keeps its name and version (``support_bot_v1``); another kind's name gets the kind's noun, so a
    policy and a guardrail of one name stay apart (``airline_guardrails_policy``, ``airline_guardrail``)."""
    if kind is MODEL:
        return list(identity)
    words = [w.lower() for part in identity for w in _words(part)]
    noun = [w.lower() for w in _words(kind.noun)]
    if words and noun and words[-1] == noun[-1]:  # "Airline Policy" + "guardrails policy": say policy once
        words.pop()
    return [*words, *noun]


def _resolve(
    obj: _Exported, index: Mapping[tuple[str, tuple[str, ...]], _Exported], kinds: Sequence[Kind]
) -> tuple[dict[tuple[str, ...], tuple[_Exported, tuple[str, ...]]], list[str]]:
    """Which of the object's references name an exported object ((fields) -> (target, fields)), and a comment
    for each that does not."""
    found: dict[tuple[str, ...], tuple[_Exported, tuple[str, ...]]] = {}
    notes: list[str] = []
    by_name = {k.name: k for k in kinds}
    for ref in obj.kind.references:
        values = []
        for path in ref.fields:
            value = _get_path(obj.body, path)
            if value is None:  # left out: the service's default stands (a deployment's model_version)
                value = _get_path(obj.kind.facts.server_defaults, path)
            values.append(value)
        if not all(isinstance(v, str) for v in values):
            continue
        identity = tuple(str(v) for v in values)
        target = next((index[(k, identity)] for k in ref.kinds if (k, identity) in index), None)
        if target is not None:
            found[ref.fields] = (target, ref.fields)
            continue
        named = [by_name[k] for k in ref.kinds if k in by_name]
        what = " or ".join(k.describe(identity[: len(k.identity)]) for k in named) or repr(identity)
        notes.append(
            f"{', '.join(ref.fields)}: names a {what}, which this export does not hold (not in the account, "
            f"or a skipped sample): kept as a string, so Pulumi does not order this {obj.kind.noun} after it."
        )
    return found, notes


def _with_references(
    obj: _Exported, slim: dict[str, Any], found: Mapping[tuple[str, ...], tuple[_Exported, tuple[str, ...]]]
) -> dict[str, Any]:
    """``slim`` with each resolved reference written as the target's output (even where it equals a default:
    the output is what orders the resources)."""
    out = copy.deepcopy(slim)
    for target, fields in found.values():
        for path, attribute in zip(fields, target.kind.identity, strict=False):
            _set_path(out, path, Expr(f"{target.variable}.{attribute}"))
    return out


def _dependency_order(objects: Sequence[_Exported], edges: Mapping[str, list[_Exported]]) -> list[_Exported]:
    """``objects`` with each one after those it names (the order kept otherwise)."""
    done: list[_Exported] = []
    seen: set[str] = set()

    def visit(obj: _Exported) -> None:
        if obj.variable in seen:
            return
        seen.add(obj.variable)
        for target in edges.get(obj.variable, ()):
            visit(target)
        done.append(obj)

    for obj in objects:
        visit(obj)
    return done


# ------------------------------------------------------------------------------------------- program


@dataclass
class RenderedProgram:
    header: str
    """The docstring, imports and ``config = pulumi.Config()``."""
    resources: list[RenderedResource]
    secrets: list[ConfigEntry]
    warnings: list[str]

    @property
    def models(self) -> list[RenderedResource]:
        return [r for r in self.resources if r.kind is MODEL]

    @property
    def main_py(self) -> str:
        """The whole ``__main__.py``."""
        return self.header + "".join("\n" + r.source + "\n" for r in self.resources)

    def config_script(self, *, stack: str | None = None, base_url: str | None = None) -> str:
        """A bash script of the ``pulumi config set`` lines the program needs (secret values included)."""
        stack_flag = f" --stack {shlex.quote(stack)}" if stack else ""
        lines = [
            "#!/usr/bin/env bash",
            "# Stack configuration for the program exported by `pulumi-enkrypt export`.",
            "# Run it once in this directory (after `pulumi stack init`), then delete it: it holds secrets.",
            "set -euo pipefail",
            "",
            "# The Enkrypt API key, from the environment (never written here).",
            f"pulumi config set{stack_flag} --secret enkrypt:apiKey -- "
            '"${ENKRYPTAI_API_KEY:-${ENKRYPT_API_KEY:?export ENKRYPTAI_API_KEY=<your Enkrypt API key> first}}"',
        ]
        if base_url:
            lines.append(f"pulumi config set{stack_flag} enkrypt:baseUrl -- {shlex.quote(base_url)}")
        current = None
        for entry in self.secrets:
            if entry.owner != current:
                lines += ["", f"# {entry.owner}"]
                current = entry.owner
            note = "" if entry.known else f"  # TODO: the real value of {entry.path}"
            lines.append(entry.command(stack) + note)
        return "\n".join(lines) + "\n"


def render_program(
    objects: Mapping[str, Iterable[Mapping[str, Any]]] | Iterable[Mapping[str, Any]],
    *,
    project: str | None = None,
    placeholders: bool = False,
    on_resource: Callable[[int, int], None] | None = None,
    kinds: Sequence[Kind] = ALL_KINDS,
) -> RenderedProgram:
    """The ``__main__.py`` declaring each object (as returned by the API, by kind name; a plain iterable: models)
    as a typed, adopted resource of its kind, kinds in ``export_order``, every object after those it names.

    ``on_resource(index, total)`` is called after each resource is rendered (for progress lines).
    """
    by_kind: Mapping[str, Iterable[Mapping[str, Any]]] = (
        objects if isinstance(objects, Mapping) else {MODEL.name: objects}
    )
    variables = _Names({"config", "pulumi", MODULE_ALIAS})
    warnings: list[str] = []
    exported: list[_Exported] = []
    resource_names: dict[str, str] = {}
    for kind in export_order(kinds):
        bodies = [prepare(o, kind) for o in by_kind.get(kind.name, ())]
        bodies.sort(key=lambda b: tuple(str(b.get(f, "")) for f in kind.identity))
        names = _Names()
        for body in bodies:
            identity = kind.identity_of({f: body.get(f, "") for f in kind.identity})
            _, errors = wire.validate(kind, body)
            if errors:
                reasons = "; ".join(map(str, errors))
                warnings.append(f"{kind.describe(identity)}: Enkrypt holds a body the schema rejects: {reasons}")
            variable = variables.take(_snake(*_variable_words(kind, identity)), "_")
            resource_names[variable] = names.take(_kebab(*identity), "-")
            exported.append(_Exported(kind, body, identity, variable))

    index = {(o.kind.name, o.identity): o for o in exported}
    resolved = {o.variable: _resolve(o, index, kinds) for o in exported}
    edges = {v: [target for target, _ in found.values()] for v, (found, _) in resolved.items()}
    ordered = _dependency_order(exported, edges)

    config_keys = _Names()
    rendered: list[RenderedResource] = []
    for i, obj in enumerate(ordered, 1):
        found, notes = resolved[obj.variable]
        body = _with_references(obj, without_defaults(obj.body, obj.kind), found)
        renderer = _Renderer(obj.kind, body, config_keys, placeholders=placeholders)
        resource = renderer.render(obj.variable, resource_names[obj.variable], notes)
        rendered.append(resource)
        warnings += resource.warnings
        if on_resource is not None:
            on_resource(i, len(ordered))
    where = f" of the Enkrypt project {project!r}" if project else ""
    header = [
        f'"""The Enkrypt AI resources{where}, exported by `pulumi-enkrypt export`.',
        "",
        "Each resource is adopted (`adopt_existing=True`): the first `pulumi up` takes over the existing",
        "object instead of creating a new one. A field that names another exported object is written as",
        "that resource's output, so Pulumi creates it after and deletes it before what it names. Secrets",
        "come from the stack configuration: run the `pulumi config set --secret` lines of",
        "config-commands.sh first.",
        '"""',
        "",
        "import pulumi",
        "",
        f"import pulumi_enkrypt as {MODULE_ALIAS}",
        "",
        "config = pulumi.Config()",
        "",
    ]
    secrets = [s for r in rendered for s in r.secrets]
    return RenderedProgram("\n".join(header), rendered, secrets, warnings)
