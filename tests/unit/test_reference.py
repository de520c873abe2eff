"""docs/reference.md is generated from the same schema as the code, is fresh, and covers every input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from pulumi_enkrypt import inputs, wire
from pulumi_enkrypt.resource import Model

REPO = Path(__file__).resolve().parents[2]
REFERENCE = REPO / "docs" / "reference.md"
COLUMNS = ["input", "type", "required", "default", "on change", "secret", "description"]


def _rows() -> tuple[list[str], dict[str, dict[str, str]]]:
    """The header and the rows of the reference table, keyed by input path (``a.b[].c``)."""
    lines = [line for line in REFERENCE.read_text().splitlines() if line.startswith("|")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    rows: dict[str, dict[str, str]] = {}
    for line in lines[2:]:
        cells = [c.strip() for c in line.strip().strip("|").replace("\\|", "\0").split("|")]
        row = dict(zip(header, (c.replace("\0", "|") for c in cells), strict=True))
        rows[row["input"].strip("`")] = row
    return header, rows


def _wire_fields(
    model: type[wire.WireModel] = wire.ModelRequest, path: str = "", secret: bool = False
) -> list[tuple[str, str, bool, bool]]:
    """(doc path, secret-path form, required, secret) of every field of the wire schema, recursively."""
    found = []
    for name, info in model.model_fields.items():
        key = info.alias or name
        doc_path = f"{path}.{key}" if path else key
        secret_path = doc_path.replace("[]", "[*]")
        is_secret = secret or secret_path in wire.SECRET_PATHS
        found.append((doc_path, secret_path, info.is_required(), is_secret))
        nested, is_list = wire.nested_model(info.annotation)
        if nested is not None:
            found += _wire_fields(nested, doc_path + ("[]" if is_list else ""), is_secret)
    return found


def test_generated_files_are_fresh() -> None:
    done = subprocess.run(
        [sys.executable, str(REPO / "codegen" / "generate.py"), "--check"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, f"run `python codegen/generate.py`:\n{done.stdout}{done.stderr}"


def test_reference_has_the_columns() -> None:
    header, _ = _rows()
    assert header == COLUMNS


def test_every_wire_field_is_documented() -> None:
    _, rows = _rows()
    fields = _wire_fields()
    assert len(fields) > 80
    missing = [path for path, *_ in fields if path not in rows]
    assert not missing, f"fields of the wire schema missing from docs/reference.md: {missing}"
    for path, secret_path, required, secret in fields:
        row = rows[path]
        assert row["type"], path
        assert row["required"] == ("yes" if required else "no"), path
        expected_change = "replace" if secret_path in wire.REPLACE_ON_CHANGE else "update"
        assert row["on change"] == expected_change, path
        assert row["secret"] == ("yes" if secret else "no"), path
        assert row["description"], path
    extra = set(rows) - {path for path, *_ in fields} - {"adopt_existing"}
    assert not extra, f"documented inputs that the schema does not have: {sorted(extra)}"


def test_every_secret_path_is_marked_secret() -> None:
    _, rows = _rows()
    for path in wire.SECRET_PATHS:
        assert rows[path.replace("[*]", "[]")]["secret"] == "yes", path


def test_top_level_rows_are_the_model_inputs() -> None:
    """The reference's top-level inputs are exactly the keyword arguments of Model and ModelArgs."""
    import inspect

    _, rows = _rows()
    top = {path for path in rows if "." not in path and "[" not in path}
    model_params = set(inspect.signature(Model.__init__).parameters) - {"self", "resource_name", "args", "opts"}
    args_params = set(inspect.signature(inputs.ModelArgs.__init__).parameters) - {"__self__"}
    assert top == model_params == args_params
    adopt = rows["adopt_existing"]
    assert (adopt["type"], adopt["required"], adopt["secret"]) == ("boolean", "no", "no")
    assert "Default false" in adopt["description"]


def test_reference_states_each_default() -> None:
    header, rows = _rows()
    assert "default" in header
    assert rows["model_config.rate_per_min"]["default"] == "20"
    assert rows["adopt_existing"]["default"] == "false"


def _constraints(model: type[wire.WireModel] = wire.ModelRequest, path: str = "") -> dict[str, dict[str, object]]:
    """Doc path -> the constraints the wire model enforces on it (bounds, lengths, format)."""
    found: dict[str, dict[str, object]] = {}
    for name, info in model.model_fields.items():
        doc_path = f"{path}.{info.alias or name}" if path else info.alias or name
        limits: dict[str, object] = {}
        for item in info.metadata:
            for key in ("ge", "le", "min_length", "max_length"):
                if hasattr(item, key):
                    limits[key] = getattr(item, key)
        if isinstance(info.json_schema_extra, dict) and "format" in info.json_schema_extra:
            limits["format"] = info.json_schema_extra["format"]
        if limits:
            found[doc_path] = limits
        nested, is_list = wire.nested_model(info.annotation)
        if nested is not None:
            found.update(_constraints(nested, doc_path + ("[]" if is_list else "")))
    return found


def test_reference_states_each_constraint_the_wire_enforces() -> None:
    """Every bound, length and format that check enforces is in the reference, in words."""
    import yaml

    formats = yaml.safe_load((REPO / "schema" / "contract.yaml").read_text())["formats"]
    _, rows = _rows()
    constraints = _constraints()
    assert {"model_config.endpoint.port", "model_config.endpoint.host", "model_saved_name"} <= set(constraints)
    for path, limits in constraints.items():
        description = rows[path]["description"]
        low, high = limits.get("ge"), limits.get("le")
        if low is not None and high is not None:
            assert f"From {low} to {high}." in description, path
        elif low == 0:
            assert "Not negative." in description, path
        if limits.get("min_length") == 1:
            assert "Not empty." in description, path
        if "max_length" in limits:
            assert f"At most {limits['max_length']} characters." in description, path
        if "format" in limits:
            assert " ".join(formats[limits["format"]].split()) in description, path
    assert "From 1 to 65535." in rows["model_config.endpoint.port"]["description"]
    assert "Not negative." in rows["model_config.rate_per_min"]["description"]
    scheme = rows["model_config.endpoint.scheme"]
    assert scheme["type"] == "enum `Scheme`" and "One of: http, https." in scheme["description"]


def test_reference_says_types_are_strict() -> None:
    text = REFERENCE.read_text()
    assert "port=True" in text and "443.0" in text


def test_reference_names_each_output_type_and_the_lookup_result() -> None:
    """The outputs section names the output class of every nested object (by its input path), the computed
    outputs with their types, and every field of GetModelResult."""
    import typing

    from pulumi_enkrypt import outputs

    text = REFERENCE.read_text()
    outputs_part = text[text.index("## Outputs") : text.index("## `get_model`")]
    lookup_part = text[text.index("## `get_model`") :]
    nested = {path.replace("[]", "") for path, *_ in _wire_fields() if path.startswith("model_config")}
    for name in outputs.__all__:
        if name == "GetModelResult":
            continue
        line = next((line for line in outputs_part.splitlines() if line.startswith(f"- `outputs.{name}`: ")), None)
        assert line is not None, f"outputs.{name} is not in docs/reference.md"
        assert line.split(": ", 1)[1].strip("`").replace("[]", "") in nested, line
    for key, kind in {"model_id": "integer", "created_at": "string", "updated_at": "string"}.items():
        assert f"- `{key}` ({kind}): " in outputs_part
    assert "`Output[outputs.ModelConfig]`" in outputs_part
    fields = set(typing.get_type_hints(outputs.GetModelResult.__init__)) - {"return"}
    assert fields == {line[3:].split("`")[0] for line in lookup_part.splitlines() if line.startswith("- `")}
