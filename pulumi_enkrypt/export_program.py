"""``pulumi-enkrypt export``'s program writer: Enkrypt models (as the API returns them) into a Pulumi program of
typed ``enkrypt.Model`` resources.

The shape of the code comes from the schema, never from a hand-kept field list: the structure (which key holds
which nested object, in which order) is read from the generated wire models (:mod:`pulumi_enkrypt.wire`), and
the typed class for each nested object is the ``<WireName>Args`` class of the generated
:mod:`pulumi_enkrypt.inputs`, whose constructor must accept every key written (checked while rendering).

Every value under a secret path (``schema_facts.SECRET_PATHS``) becomes ``config.require_secret("<key>")`` (or
``config.require_secret_object`` for a secret object), with the value itself handed back separately as a
:class:`ConfigEntry`, so it can go into the stack configuration and never into the code.
"""

from __future__ import annotations

import inspect
import json
import keyword
import re
import shlex
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from . import inputs, wire
from .schema_facts import ADOPT_EXISTING, HOISTED_FIELDS, SECRET_PATHS, SERVER_FIELDS
from .secrets import PLACEHOLDER, is_masked

__all__ = [
    "PLACEHOLDER",
    "ConfigEntry",
    "RenderedModel",
    "RenderedProgram",
    "is_masked",
    "prepare",
    "render_program",
]

WIDTH = 100
"""Target line width of the generated code (ruff's limit in this repository is 120)."""
INDENT = "    "
MODULE_ALIAS = "enkrypt"

_SERVER_ONLY = frozenset(SERVER_FIELDS)


# ------------------------------------------------------------------------------------------- schema access


@cache
def _wire_fields(model: type[wire.WireModel]) -> tuple[tuple[str, type[wire.WireModel] | None, bool], ...]:
    """(wire key, nested wire model or None, is list) for each declared field, in schema order."""
    return tuple((f.alias or name, *wire.nested_model(f.annotation)) for name, f in model.model_fields.items())


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
def _model_params() -> frozenset[str]:
    """Keyword parameters of the Model resource (the top level is ``ModelArgs``, not ``ModelRequestArgs``)."""
    from .resource import Model

    params = set(inspect.signature(Model.__init__).parameters)
    return frozenset(params - {"self", "resource_name", "args", "opts"})


# ------------------------------------------------------------------------------------------- model data


def prepare(model: Mapping[str, Any]) -> dict[str, Any]:
    """A model as the API returns it -> the request body it stands for: server-computed fields dropped,
    the documented shape's top-level copies put back into ``model_config``, nulls and unknown keys dropped."""
    body = {k: v for k, v in model.items() if k not in _SERVER_ONLY}
    config = dict(body.get("model_config") or {})
    for key in HOISTED_FIELDS:
        if key in body and key not in config:
            config[key] = body[key]
        body.pop(key, None)
    body["model_config"] = config
    return wire.strip_unknown(wire.normalize_request(body))


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


# ------------------------------------------------------------------------------------------- rendering


@dataclass(frozen=True)
class ConfigEntry:
    """One stack-config secret the program reads: ``pulumi config set --secret KEY VALUE``."""

    key: str
    value: str
    """The value, or :data:`PLACEHOLDER` when it is not known (masked by the server, or not asked for)."""
    model: str
    """``name:version`` of the model it belongs to."""
    path: str
    """Where in the model it goes, e.g. ``model_config.auth_data.azure_client_secret``."""

    @property
    def known(self) -> bool:
        return self.value != PLACEHOLDER

    def command(self, stack: str | None = None) -> str:
        stack_flag = f" --stack {shlex.quote(stack)}" if stack else ""
        return f"pulumi config set{stack_flag} --secret {shlex.quote(self.key)} -- {shlex.quote(self.value)}"


@dataclass
class RenderedModel:
    variable: str
    source: str
    secrets: list[ConfigEntry] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _secret_path_set() -> tuple[frozenset[str], frozenset[str]]:
    """(paths whose whole value is secret, list paths whose elements' field is secret: "a.b[*]" -> "value")."""
    whole = {p for p in SECRET_PATHS if "[*]" not in p}
    per_item = {p for p in SECRET_PATHS if "[*]" in p}
    return frozenset(whole), frozenset(per_item)


class _ModelRenderer:
    def __init__(self, body: Mapping[str, Any], names: _Names, *, placeholders: bool) -> None:
        self.body = body
        self.names = names
        self.placeholders = placeholders
        self.ident = f"{body.get('model_saved_name')}:{body.get('model_version')}"
        self.stem = _camel(str(body.get("model_saved_name", "")), str(body.get("model_version", "")))
        self.secrets: list[ConfigEntry] = []
        self.warnings: list[str] = []
        self.whole, self.per_item = _secret_path_set()

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

    def render(self, variable: str, resource_name: str) -> RenderedModel:
        params = _model_params()
        args: list[tuple[str, Code]] = [("", Literal(resource_name))]
        for key, nested, is_list in _wire_fields(wire.ModelRequest):
            if key not in self.body:
                continue
            if key not in params:
                raise LookupError(f"Model takes no parameter {key!r} (resource.py and the wire schema differ)")
            args.append((key, self.value(key, self.body[key], nested, is_list, "")))
        args.append((ADOPT_EXISTING, Literal(True)))
        source = f"{variable} = " + Call(f"{MODULE_ALIAS}.Model", args).render(0, len(variable) + 3)
        return RenderedModel(variable, source, self.secrets, self.warnings)


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


# ------------------------------------------------------------------------------------------- program


@dataclass
class RenderedProgram:
    header: str
    """The docstring, imports and ``config = pulumi.Config()``."""
    models: list[RenderedModel]
    secrets: list[ConfigEntry]
    warnings: list[str]

    @property
    def main_py(self) -> str:
        """The whole ``__main__.py``."""
        return self.header + "".join("\n" + m.source + "\n" for m in self.models)

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
            if entry.model != current:
                lines += ["", f"# {entry.model}"]
                current = entry.model
            note = "" if entry.known else f"  # TODO: the real value of {entry.path}"
            lines.append(entry.command(stack) + note)
        return "\n".join(lines) + "\n"


def render_program(
    models: Iterable[Mapping[str, Any]],
    *,
    project: str | None = None,
    placeholders: bool = False,
    on_model: Any = None,
) -> RenderedProgram:
    """The ``__main__.py`` declaring each model (as returned by the API) as a typed, adopted ``Model``.

    ``on_model(index, total)`` is called after each model is rendered (for progress lines).
    """
    bodies = [prepare(m) for m in models]
    bodies.sort(key=lambda b: (str(b.get("model_saved_name")), str(b.get("model_version"))))
    variables = _Names({"config", "pulumi", MODULE_ALIAS})
    resource_names = _Names()
    config_keys = _Names()
    rendered: list[RenderedModel] = []
    warnings: list[str] = []
    for i, body in enumerate(bodies, 1):
        name, version = str(body.get("model_saved_name", "")), str(body.get("model_version", ""))
        _, errors = wire.validate_request(body)
        if errors:
            reasons = "; ".join(map(str, errors))
            warnings.append(f"{name}:{version}: Enkrypt holds a body the schema rejects: {reasons}")
        renderer = _ModelRenderer(body, config_keys, placeholders=placeholders)
        variable = variables.take(_snake(name, version), "_")
        model = renderer.render(variable, resource_names.take(_kebab(name, version), "-"))
        rendered.append(model)
        warnings += model.warnings
        if on_model is not None:
            on_model(i, len(bodies))
    where = f" of the Enkrypt project {project!r}" if project else ""
    header = [
        f'"""The Enkrypt AI models{where}, exported by `pulumi-enkrypt export`.',
        "",
        "Each model is adopted (`adopt_existing=True`): the first `pulumi up` takes over the existing model",
        "instead of creating a new one. Secrets come from the stack configuration: run the",
        "`pulumi config set --secret` lines of config-commands.sh first.",
        '"""',
        "",
        "import pulumi",
        "",
        f"import pulumi_enkrypt as {MODULE_ALIAS}",
        "",
        "config = pulumi.Config()",
        "",
    ]
    secrets = [s for m in rendered for s in m.secrets]
    return RenderedProgram("\n".join(header), rendered, secrets, warnings)
