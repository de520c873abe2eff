"""A failed `pulumi up` or `pulumi preview` shows the real error, and nothing of how the program was stopped.

When a resource fails, the engine cancels the language host while the program still waits on that resource;
the user must see the resource's error, not a KeyboardInterrupt traceback of the interrupted program.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pulumi_enkrypt.client import EnkryptClient
from pulumi_enkrypt.server.process import RunningServer
from support.bodies import model_body
from support.cli import Result, output_of, server_project


def model(name: str, port: int = 443) -> dict[str, Any]:
    return model_body(name, model_config={"endpoint": {"port": port}, "apikeys": ["tg-e2e-key-41c7"]})


def program(taken: dict[str, Any]) -> str:
    """Two models: "fresh" succeeds; "taken" (the body given) is the one that fails."""
    return f"""
import pulumi
import pulumi_enkrypt as enkrypt

fresh = enkrypt.Model("fresh", {model("Fresh Model")!r})
taken = enkrypt.Model("taken", {taken!r})
pulumi.export("fresh_id", fresh.model_id)
pulumi.export("taken_id", taken.model_id)
"""


def assert_only_the_real_error(failed: Result, *expected: str) -> None:
    text = output_of(failed)
    assert failed.returncode != 0, text
    for part in expected:
        assert part in text, text
    assert "KeyboardInterrupt" not in text, text
    assert "Traceback" not in text, text
    assert "lost sys.stderr" not in text and "object address" not in text, text


def test_a_failed_up_shows_the_409_and_no_traceback(
    pulumi_cli: Path, tmp_path: Path, enkrypt_server: RunningServer
) -> None:
    taken = model("Taken Model")
    with EnkryptClient(enkrypt_server.url, enkrypt_server.api_key) as client:
        client.add_model(taken)  # made outside the stack: the program's create gets a 409
    p = server_project(tmp_path, enkrypt_server, program(taken), pulumi_cli)

    assert_only_the_real_error(p.up(check=False), "409 Conflict", "Taken Model")


def test_a_failed_preview_shows_the_field_error_and_no_traceback(
    pulumi_cli: Path, tmp_path: Path, enkrypt_server: RunningServer
) -> None:
    p = server_project(tmp_path, enkrypt_server, program(model("Taken Model", port=70000)), pulumi_cli)

    for failed in (p.preview(check=False), p.up(check=False)):
        assert_only_the_real_error(failed, "model_config.endpoint.port", "65535")
