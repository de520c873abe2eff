"""End to end: `pulumi preview` refuses what `up` would fail on halfway, and sends nothing.

Each bad value below once passed the provider's check (so preview passed), then made `up` fail after other
models were already written, or was silently coerced (``port=True`` stored as 1). The real CLI previews a
program holding a valid model and one bad model that holds many bad values at once: check reports every failure
of a resource together (the engine stops at the first resource that fails, so one bad resource per run). Two
runs: the bad model as a raw dict, then as typed ``...Args``. Each preview must fail, name each bad field path
with its reason, and the local server must see no model request at all.

Without the CLI this fails (fixture `pulumi_cli`); PULUMI_ENKRYPT_SKIP_E2E=1 skips it explicitly.
"""

from __future__ import annotations

from pathlib import Path

from pulumi_enkrypt.server.process import RunningServer
from support.cli import output_of, server_project
from support.server import model_requests

PROGRAM = """
import pulumi
import pulumi_enkrypt as enkrypt

def config(**endpoint):
    return {
        "model_provider": "together",
        "hosting_type": "External",
        "endpoint": {"scheme": "https", "host": "api.together.xyz", "port": 443, "base_path": "/v1", **endpoint},
        "auth_data": {"header_name": "Authorization", "header_prefix": "Bearer", "space_after_prefix": True},
        "apikeys": ["sk-preview-test-key"],
        "rate_per_min": 20,
    }

enkrypt.Model("good", {
    "model_saved_name": "Good Model",
    "model_version": "v1",
    "testing_for": "agents",
    "model_config": config(scheme="http", host="10.0.0.7", port=8080),
})

if pulumi.Config().require("form") == "raw":
    raw = config(scheme="ftp", host="https://api.x.com/v1", port=True)
    raw["auth_data"]["space_after_prefix"] = "yes"
    raw["rate_per_min"] = -1
    raw["metadata"] = {"max_tokens": -5}
    enkrypt.Model("bad", {
        "model_saved_name": "Mod\\u00e8le \\u6a21\\u578b",
        "model_version": " v1",
        "testing_for": "agents",
        "model_config": raw,
    })
else:
    enkrypt.Model(
        "bad",
        model_saved_name="Bell\\x07Model",
        model_version="v1 ",
        testing_for="agents",
        model_config=enkrypt.ModelConfigArgs(
            model_provider="together",
            endpoint=enkrypt.EndpointArgs(scheme="HTTPS", host="user@api.x.com:443", port=443.5, base_path="/v1"),
            auth_data=enkrypt.AuthDataArgs(header_name="Authorization", allow_override="false"),
            apikeys=["sk-preview-test-key"],
            rate_per_min=False,
            metadata=enkrypt.MetadataArgs(input_cost_1M_tokens=-0.5),
        ),
    )
"""

# form -> (key path, a word of the reason)
EXPECTED = {
    "raw": [
        ("model_saved_name", "latin-1"),
        ("model_version", "blank"),
        ("model_config.endpoint.scheme", "'http' or 'https'"),
        ("model_config.endpoint.host", "not a URL"),
        ("model_config.endpoint.port", "not a boolean"),
        ("model_config.auth_data.space_after_prefix", "valid boolean"),
        ("model_config.rate_per_min", "greater than or equal to 0"),
        ("model_config.metadata.max_tokens", "greater than or equal to 0"),
    ],
    "typed": [
        ("model_saved_name", "control character"),
        ("model_version", "blank"),
        ("model_config.endpoint.scheme", "'http' or 'https'"),
        ("model_config.endpoint.host", "user info"),
        ("model_config.endpoint.port", "fractional part"),
        ("model_config.auth_data.allow_override", "valid boolean"),
        ("model_config.rate_per_min", "valid number"),
        ("model_config.metadata.input_cost_1M_tokens", "greater than or equal to 0"),
    ],
}


def _names(line: str, path: str) -> bool:
    """The engine prints a failure as "property PATH value {...} has a problem: REASON" for a top-level field,
    or "has a problem: PATH: REASON" when the provider puts the path into the reason."""
    return f"property {path} value" in line or f"has a problem: {path}: " in line


def test_preview_names_every_bad_field_and_sends_nothing(
    pulumi_cli: Path, tmp_path: Path, enkrypt_server: RunningServer
) -> None:
    project = server_project(tmp_path, enkrypt_server, PROGRAM, pulumi_cli)
    for form, expected in EXPECTED.items():
        project.config_set("form", form)
        enkrypt_server.reset_stats()

        result = project.preview(check=False)
        text = output_of(result)

        assert result.returncode != 0, text
        errors = [line for line in text.splitlines() if "error:" in line and "resource 'bad'" in line]
        for path, reason in expected:
            named = [line for line in errors if _names(line, path)]
            assert named, f"{form}: preview did not name {path}:\n{text}"
            assert any(reason in line for line in named), f"{form}: {path} without {reason!r}:\n{text}"
        assert "resource 'good'" not in text, text
        requests = model_requests(enkrypt_server)
        assert requests == {}, f"{form}: preview sent model requests: {requests}"
