"""The lifecycle program: Enkrypt's two add-model examples (Together, typed; the custom agent, a plain dict), driven
by stack config so that a test changes one field with `pulumi config set`, and a project of it on a local server.

It carries a secret in each place a secret can come from: stack config (`togetherKey`, `awsSecret`), literals in
the program (an API key, a header value, a curl command) and the provider's own `enkrypt:apiKey`. The lifecycle,
typed-output and upgrade tests run it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from pulumi_enkrypt.server.process import RunningServer
from support.cli import PulumiProject, server_project

TOGETHER = "Test Model:v1"
AGENT = "My Custom Agent:v1"

CONFIG_TOGETHER_KEY = "tg-config-s3cret-9c41e2"
CONFIG_AWS_SECRET = "aws-config-s3cret-77d2b0"
PROGRAM_HF_KEY = "hf-program-s3cret-5b7d10"
PROGRAM_HEADER_TOKEN = "hdr-program-s3cret-2e8f44"
PROGRAM_CURL_TOKEN = "curl-program-s3cret-0a9b31"

PROGRAM = f'''
import pulumi
import pulumi_enkrypt as enkrypt

config = pulumi.Config()
prefix = config.get("prefix") or ""

together = enkrypt.Model(
    "together",
    model_saved_name=prefix + "Test Model",
    model_version=config.get("togetherVersion") or "v1",
    testing_for="foundationModels",
    model_name="mistralai/Mixtral-8x7B-Instruct-v0.1",
    certifications=[],
    model_config=enkrypt.ModelConfigArgs(
        model_provider="together",
        hosting_type="External",
        model_source="https://together.ai",
        system_prompt=config.get("systemPrompt") or "",
        input_modalities=["text"],
        output_modalities=["text"],
        endpoint=enkrypt.EndpointArgs(scheme="https", host="api.together.xyz", port=443, base_path="/v1"),
        paths=enkrypt.PathsArgs(completions="/completions", chat="/chat/completions"),
        auth_data=enkrypt.AuthDataArgs(header_name="Authorization", header_prefix="Bearer", space_after_prefix=True),
        apikeys=[config.require_secret("togetherKey")],
        rate_per_min=20,
    ),
    adopt_existing=config.get_bool("adopt"),
)

agent = enkrypt.Model("agent", {{
    "model_saved_name": prefix + "My Custom Agent",
    "model_version": "v1",
    "testing_for": "agents",
    "certifications": [],
    "model_config": {{
        "model_provider": "custom",
        "hosting_type": "External",
        "model_source": "https://huggingface.co",
        "endpoint": {{
            "scheme": "https", "host": "api-inference.huggingface.co", "port": 443, "base_path": "/agents/v1",
        }},
        "paths": {{"completions": "/completions", "chat": "/chat/completions"}},
        "auth_data": {{
            "header_name": "Authorization", "header_prefix": "Bearer", "space_after_prefix": True,
            "aws_secret_access_key": config.require_secret("awsSecret"),
        }},
        "apikeys": ["{PROGRAM_HF_KEY}"],
        "input_modalities": ["text", "image", "audio"],
        "output_modalities": ["text"],
        "tools": [{{"name": "web_search", "description": "Search the web for finance news."}}],
        "custom_headers": [{{"key": "x-team", "value": "{PROGRAM_HEADER_TOKEN}"}}],
        "custom_curl_command": "curl -H 'Authorization: Bearer {PROGRAM_CURL_TOKEN}' https://example.invalid",
        "custom_payload": {{"messages": [{{"role": "user", "content": "{{prompt}}"}}]}},
        "custom_response_content_type": "json",
        "custom_response_format": ".choices[0].message.content",
        "metadata": {{"max_tokens": 500, "llama2_format": "openai"}},
        "default_request_options": {{"temperature": 1, "top_p": 1, "top_k": None}},
    }},
}})

pulumi.export("together_id", together.id)
pulumi.export("together_model_id", together.model_id)
pulumi.export("agent_model_id", agent.model_id)
'''


def lifecycle_project(
    tmp_path: Path,
    server: RunningServer,
    *,
    program: str = PROGRAM,
    stack: str = "dev",
    api_key: str | None = None,
    config: Mapping[str, str] | None = None,
    env: Mapping[str, str] | None = None,
    bin_dir: Path,
) -> PulumiProject:
    """A stack of ``program`` on ``server``, its config secrets set (``api_key``: the provider's key, the
    server's own by default)."""
    return server_project(
        tmp_path,
        server,
        program,
        bin_dir,
        api_key=api_key,
        config=config,
        secrets={"togetherKey": CONFIG_TOGETHER_KEY, "awsSecret": CONFIG_AWS_SECRET},
        stack=stack,
        env=env,
    )
