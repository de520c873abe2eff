"""Typed outputs with the real CLI: a program reads ``model.model_config`` as ``outputs.ModelConfig``
(``c.endpoint.host``), exports what it reads, and the secrets stay secret in outputs and state.

The program is the lifecycle program of tests/support/lifecycle.py (secrets from stack config and from literals,
typed and plain-dict inputs) plus exports of what it reads from the models' outputs.
"""

from __future__ import annotations

import json
from pathlib import Path

from pulumi_enkrypt.server.process import RunningServer
from support.cli import output_of
from support.lifecycle import (
    CONFIG_AWS_SECRET,
    CONFIG_TOGETHER_KEY,
    PROGRAM,
    PROGRAM_CURL_TOKEN,
    PROGRAM_HEADER_TOKEN,
    PROGRAM_HF_KEY,
    lifecycle_project,
)

READS = """
pulumi.export("host", together.model_config.apply(lambda c: c.endpoint.host))
pulumi.export("port", together.model_config.apply(lambda c: c.endpoint.port))
pulumi.export("host_by_key", together.model_config.apply(lambda c: c["endpoint"]["host"]))
pulumi.export("header_value", agent.model_config.apply(lambda c: c.custom_headers[0].value))
pulumi.export("together_config", together.model_config)
# The class names hold no secret: shown in clear, they prove what the program got.
pulumi.export("classes", pulumi.Output.unsecret(agent.model_config.apply(lambda c: [
    type(c).__name__,
    type(c.endpoint).__name__,
    type(c.custom_headers[0]).__name__,
    type(c.tools[0]).__name__,
    type(c.metadata).__name__,
    type(c.endpoint.port).__name__,
    type(c.metadata.max_tokens).__name__,
])))
pulumi.export("unset_model_name_is_none", agent.model_name.apply(lambda name: name is None))
pulumi.export("model_id_is_int", together.model_id.apply(lambda i: type(i) is int))
pulumi.export("secret_revisions", together.secret_revisions)
"""

SECRETS = [CONFIG_TOGETHER_KEY, CONFIG_AWS_SECRET, PROGRAM_HF_KEY, PROGRAM_HEADER_TOKEN, PROGRAM_CURL_TOKEN]


def test_a_program_reads_typed_outputs_and_the_secrets_stay_secret(
    pulumi_cli: Path, tmp_path: Path, enkrypt_server: RunningServer
) -> None:
    p = lifecycle_project(tmp_path, enkrypt_server, program=PROGRAM + READS, bin_dir=pulumi_cli)
    printed = [p.preview(), p.up()]  # a preview reads unknown outputs; up reads the engine's answer

    shown = p.outputs()
    assert shown["classes"] == ["ModelConfig", "Endpoint", "CustomHeader", "Tool", "Metadata", "int", "int"]
    assert shown["unset_model_name_is_none"] is True and shown["model_id_is_int"] is True
    assert shown["secret_revisions"] == {"model_config.apikeys": 1}
    # Read from a secret (model_config holds API keys), so secret: even the host.
    for key in ("host", "port", "host_by_key", "header_value", "together_config"):
        assert shown[key] == "[secret]", key
    revealed = p.outputs(show_secrets=True)
    assert revealed["host"] == revealed["host_by_key"] == "api.together.xyz"
    assert revealed["port"] == 443
    assert revealed["header_value"] == PROGRAM_HEADER_TOKEN
    assert revealed["together_config"]["endpoint"] == {
        "scheme": "https",
        "host": "api.together.xyz",
        "port": 443,
        "base_path": "/v1",
    }
    assert revealed["together_config"]["apikeys"] == [CONFIG_TOGETHER_KEY]

    printed += [p.refresh(), p.preview(expect_no_changes=True)]
    exported = json.dumps(p.export())
    assert [s for s in SECRETS if s in exported] == [], "a secret in `pulumi stack export`"
    backend = "\n".join(f.read_text(errors="replace") for f in p.state_dir.rglob("*") if f.is_file())
    assert [s for s in SECRETS if s in backend] == [], "a secret in the backend's files"
    for result in printed:
        assert [s for s in SECRETS if s in output_of(result)] == [], "a secret was printed"
