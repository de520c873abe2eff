"""Generate ``provider/schema.json``, the Pulumi package schema of the ``enkrypt`` provider plugin.

From the same source as every other generated file: ``codegen/generate.py`` reads ``schema/*.yaml`` into one
``Schema`` per kind (``SOURCES``); this script turns each kind the plugin serves (every ``Kind`` of
``kinds.py``) into a resource ``enkrypt:index:<Kind>``, its object types, and a lookup function
``enkrypt:index:get<Kind>``, so a field, a secret or a replace-on-change added
to the schema reaches the plugin with no edit here. Property names are the wire names (``model_saved_name``):
the plugin hands properties to the dynamic provider's core unchanged.

It also writes the plugin's Python SDK, ``sdk/python/``, with the pinned Pulumi release's own Python code
generator (``sdk/gen``, a small Go program: what ``pulumi package gen-sdk --language python`` runs through
the real Python language host, which this project cannot fetch). That needs Go; without it the SDK is left as
it is, and said so.

Run ``python codegen/plugin_schema.py`` after editing the schema; ``--check`` exits 1 when a file is stale.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import generate as g  # codegen/ is a directory of scripts, not a package

ROOT = g.ROOT
TARGET = ROOT / "provider" / "schema.json"
SDK_GEN = ROOT / "sdk" / "gen"
SDK_PYTHON = ROOT / "sdk" / "python"
PACKAGE = "enkrypt"
# What `pulumi package gen-sdk` names the Python SDK: not `pulumi_enkrypt`, which is the dynamic provider.
PYTHON_PACKAGE = "pulumi_enkrypt_sdk"
SECRET_REVISIONS = "secret_revisions"  # spec.SECRET_REVISIONS: the core adds it to the inputs it checks

# The provider's configuration: settings.py's keys, with the environment it falls back to (settings.py reads
# both; the schema only documents them).
CONFIG: dict[str, dict[str, Any]] = {
    "apiKey": {
        "type": "string",
        "secret": True,
        "description": "The Enkrypt API key. Falls back to ENKRYPTAI_API_KEY (then ENKRYPT_API_KEY).",
    },
    "baseUrl": {
        "type": "string",
        "description": "Enkrypt's base URL. Falls back to ENKRYPTAI_BASE_URL; default https://api.enkryptai.com.",
    },
    "maxAttempts": {
        "type": "integer",
        "description": "Attempts per call (1 to 20) on timeouts, 429 and 5xx. Falls back to "
        "ENKRYPTAI_MAX_ATTEMPTS; default 6.",
    },
    "timeoutSeconds": {
        "type": "number",
        "description": "Read/write timeout of one call. Falls back to ENKRYPTAI_TIMEOUT_SECONDS; default 30.",
    },
    "strictProviders": {
        "type": "boolean",
        "description": "Reject model providers Enkrypt does not list. Falls back to ENKRYPTAI_STRICT_PROVIDERS.",
    },
    "adoptExisting": {
        "type": "boolean",
        "description": "Every resource takes over an existing object of its identity (after an interrupted "
        "run). Falls back to ENKRYPTAI_ADOPT_EXISTING.",
    },
}

_SCALARS = {"str": "string", "int": "integer", "float": "number", "bool": "boolean"}


def _type_ref(obj: g.ObjectType) -> str:
    return f"#/types/{PACKAGE}:index:{obj.name}"


def _property(f: g.Field) -> dict[str, Any]:
    spec: dict[str, Any]
    if f.kind in _SCALARS:
        spec = {"type": _SCALARS[f.kind]}
    elif f.kind == "array":
        assert f.item is not None
        item = _property(f.item)
        item.pop("description", None)
        item.pop("secret", None)
        spec = {"type": "array", "items": item}
    elif f.kind == "object":
        assert f.obj is not None
        spec = {"$ref": _type_ref(f.obj)}
    else:  # a free-form map
        spec = {"type": "object", "additionalProperties": {"$ref": "pulumi.json#/Any"}}
    description = f.description.rstrip(".") + "."
    if f.enum:
        description += f" One of: {', '.join(f.enum)}" + (" (or another value)." if f.open_enum else ".")
    if f.replace:
        description += f" A change replaces the {f.noun}."
    spec["description"] = description
    if f.secret:
        spec["secret"] = True
    return spec


def _properties(fields: list[g.Field]) -> tuple[dict[str, Any], list[str]]:
    props = {f.key: _property(f) for f in fields}
    return props, [f.key for f in fields if f.required]


def _shape(node: Any) -> Any:
    """A type without its descriptions (which name the path it was met at)."""
    if isinstance(node, dict):
        return {k: _shape(v) for k, v in node.items() if k != "description"}
    return node


def _kind(schema: g.Schema, types: dict[str, Any]) -> tuple[str, dict[str, Any], str, dict[str, Any]]:
    src = schema.source
    for obj in schema.objects:
        if obj is schema.root:
            continue
        props, required = _properties(obj.fields)
        spec = {"type": "object", "description": obj.description, "properties": props, "required": required}
        token = f"{PACKAGE}:index:{obj.name}"
        # One type per name, as inputs.py has one class per name: kinds share types (a policy's detectors).
        if _shape(types.setdefault(token, spec)) != _shape(spec):
            raise SystemExit(f"type {token} is declared twice with different fields")

    inputs, required = _properties(schema.root.fields)
    inputs[schema.adopt.key] = {"type": "boolean", "description": schema.adopt.description}
    outputs = dict(inputs)
    for f in schema.computed:
        outputs[f.key] = _property(f)
    outputs[SECRET_REVISIONS] = {
        "type": "object",
        "additionalProperties": {"type": "integer"},
        "description": "How often each secret field's value changed: what a diff shows when a secret rotates.",
    }
    resource = {
        "description": src.description,
        "inputProperties": inputs,
        "requiredInputs": required,
        "properties": outputs,
        "required": [*required, *(f.key for f in schema.computed)],
    }

    identity = [f for f in schema.root.fields if f.replace]
    lookup_in = {f.key: {**_property(f), "description": f.description.rstrip(".") + "."} for f in identity}
    lookup_out = {"id": {"type": "string", "description": src.id_doc}}
    lookup_out.update({f.key: _property(f) for f in schema.root.fields})
    lookup_out.update({f.key: _property(f) for f in schema.computed})
    lookup_out["is_sample"] = {"type": "boolean", "description": f"Whether the platform seeded this {src.noun}."}
    function = {
        "description": f"Look up an existing {src.noun} by {' and '.join(f.key for f in identity)}.",
        "inputs": {"properties": lookup_in, "required": [f.key for f in identity if f.required and not f.default]},
        "outputs": {"properties": lookup_out, "required": ["id", *(f.key for f in identity)]},
    }
    return f"{PACKAGE}:index:{src.name}", resource, f"{PACKAGE}:index:get{src.name}", function


def build() -> dict[str, Any]:
    from pulumi_enkrypt._version import __version__
    from pulumi_enkrypt.plugin import all_kinds

    # The kinds the plugin serves (kinds.py), each described by its codegen source: a kind codegen does not
    # know yet cannot be described, and one kinds.py does not declare yet cannot be served.
    served = [kind.name for kind in all_kinds()]
    sources = {source.name: source for source in g.SOURCES}
    if missing := [name for name in served if name not in sources]:
        raise SystemExit(f"kinds.py declares {missing}, which codegen/generate.py's SOURCES do not describe")
    types: dict[str, Any] = {}
    resources: dict[str, Any] = {}
    functions: dict[str, Any] = {}
    for source in (sources[name] for name in served):
        token, resource, fn_token, function = _kind(g.load_schema(source), types)
        resources[token] = resource
        functions[fn_token] = function
    return {
        "name": PACKAGE,
        "displayName": "Enkrypt AI",
        "version": __version__,
        "description": "Enkrypt AI models, guardrails policies, guardrails, code-of-conduct policies and "
        "deployments, from the same core as pulumi-enkrypt's dynamic provider.",
        "publisher": "pulumi-enkrypt",
        "keywords": ["pulumi", "enkrypt", "ai", "guardrails"],
        "license": "Apache-2.0",
        "config": {"variables": CONFIG},
        "provider": {"description": "The Enkrypt provider: one API key and base URL.", "inputProperties": CONFIG},
        "types": types,
        "resources": resources,
        "functions": functions,
        "language": {"python": {"packageName": PYTHON_PACKAGE}},
        # The SDK names its own version (and so the plugin's) rather than reading it from an installed
        # distribution: it works from a path, and `pulumi package add` generates it so too.
        "meta": {"supportPack": True},
    }


def _csharp_names(node: Any) -> Any:
    """``node`` with a PascalCase C# name on every property (``model_saved_name`` -> ``ModelSavedName``).

    Property names are the wire names in every language; the C# generator is the one that takes a name per
    property, so C# gets its language's names without a second naming scheme on the wire.
    """
    if isinstance(node, dict):
        named = {k: _csharp_names(v) for k, v in node.items()}
        for key in ("properties", "inputProperties", "variables"):
            if isinstance(props := named.get(key), dict):
                for name, prop in props.items():
                    prop.setdefault("language", {})["csharp"] = {"name": "".join(w.title() for w in name.split("_"))}
        return named
    if isinstance(node, list):
        return [_csharp_names(v) for v in node]
    return node


def render() -> str:
    return json.dumps(_csharp_names(build()), indent=2, sort_keys=True) + "\n"


def render_sdk(schema_text: str) -> dict[str, str] | None:
    """The Python SDK's files (path under sdk/python -> text) for ``schema_text``; None without Go."""
    go = shutil.which("go")
    if go is None:
        return None
    with tempfile.TemporaryDirectory(prefix="enkrypt-sdk-") as tmp:
        schema_file, out = Path(tmp) / "schema.json", Path(tmp) / "python"
        schema_file.write_text(schema_text)
        # -mod=readonly: the generator's go.mod pins the same modules as the CLI's build; never rewrite it.
        done = subprocess.run(
            [go, "run", "-mod=readonly", ".", str(schema_file), str(out)],
            cwd=SDK_GEN,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise SystemExit(f"sdk/gen failed ({done.returncode}):\n{done.stdout}{done.stderr}")
        return {str(p.relative_to(out)): p.read_text() for p in sorted(out.rglob("*")) if p.is_file()}


def _current_sdk() -> dict[str, str]:
    if not SDK_PYTHON.exists():
        return {}
    skip = {"__pycache__", ".mypy_cache"}
    return {
        str(p.relative_to(SDK_PYTHON)): p.read_text()
        for p in sorted(SDK_PYTHON.rglob("*"))
        if p.is_file() and not skip & set(p.relative_to(SDK_PYTHON).parts)
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if provider/schema.json or sdk/python is stale")
    args = parser.parse_args(argv)
    text = render()
    current = TARGET.read_text() if TARGET.exists() else None
    sdk = render_sdk(text)
    if sdk is None:
        print("note: no Go on PATH: sdk/python is neither generated nor checked", file=sys.stderr)
    if args.check:
        stale = []
        if current != text:
            stale.append(str(TARGET.relative_to(ROOT)))
        if sdk is not None and _current_sdk() != sdk:
            stale.append(str(SDK_PYTHON.relative_to(ROOT)))
        if stale:
            print(f"stale: {', '.join(stale)} (run python codegen/plugin_schema.py)", file=sys.stderr)
            return 1
        return 0
    if current != text:
        TARGET.parent.mkdir(parents=True, exist_ok=True)
        TARGET.write_text(text)
        print(f"wrote {TARGET.relative_to(ROOT)}")
    if sdk is not None and _current_sdk() != sdk:
        shutil.rmtree(SDK_PYTHON, ignore_errors=True)
        for name, body in sdk.items():
            path = SDK_PYTHON / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(body)
        print(f"wrote {SDK_PYTHON.relative_to(ROOT)}/ ({len(sdk)} files)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
