"""Twenty varied model bodies (every kind of secret, custom agents, contexts, metadata) for the export tests."""

from __future__ import annotations

import json
from typing import Any

TOGETHER_KEY = "tg-secret-7a1c93e0"


def _endpoint(host: str, base_path: str = "/v1") -> dict[str, Any]:
    return {"scheme": "https", "host": host, "port": 443, "base_path": base_path}


def _bearer() -> dict[str, Any]:
    return {"header_name": "Authorization", "header_prefix": "Bearer", "space_after_prefix": True}


def varied_models() -> list[dict[str, Any]]:
    """20 bodies; every secret string in them contains "s3cr3t" so a test can search state for them."""
    models: list[dict[str, Any]] = []
    providers = [
        ("openai", "api.openai.com", "gpt-4o-mini"),
        ("together", "api.together.xyz", "mistralai/Mixtral-8x7B-Instruct-v0.1"),
        ("anthropic", "api.anthropic.com", "claude-3-5-sonnet"),
        ("groq", "api.groq.com", "llama-3.1-8b-instant"),
        ("mistral", "api.mistral.ai", "mistral-large-latest"),
        ("deepseek", "api.deepseek.com", "deepseek-chat"),
    ]
    for i, (provider, host, model_name) in enumerate(providers):
        config: dict[str, Any] = {
            "model_provider": provider,
            "hosting_type": "External",
            "endpoint": _endpoint(host),
            "paths": {"completions": "/completions", "chat": "/chat/completions"},
            "auth_data": _bearer(),
            "apikeys": [f"s3cr3t-{provider}-key-{i}"],
            "input_modalities": ["text"],
            "output_modalities": ["text"],
            "rate_per_min": 10 * (i + 1),
            "system_prompt": "" if i % 2 else "You are a helpful assistant.",
            "metadata": {} if i % 2 else {"max_tokens": 512, "input_cost_1M_tokens": 0.15},
            "default_request_options": {"temperature": 0.2 * i, "top_p": 0.9} if i % 3 == 0 else {},
        }
        if provider == "anthropic":
            config["metadata"] = {"anthropic_version": "2023-06-01"}
        if provider == "mistral":
            config["metadata"] = {"mistral_format": "openai"}
        models.append(
            {
                "model_saved_name": f"{provider.title()} Model",
                "model_version": "v1" if i % 2 == 0 else "v2",
                "testing_for": "foundationModels",
                "model_name": model_name,
                "certifications": ["SOC2"] if i == 0 else [],
                "model_config": config,
            }
        )
    # Two versions of one name.
    second = json.loads(json.dumps(models[0]))
    second["model_version"] = "v2"
    second["model_config"]["apikeys"] = ["s3cr3t-openai-key-a", "s3cr3t-openai-key-b"]
    second["model_config"]["rate_per_min"] = 150
    models.append(second)
    # Custom agents: headers (secret values), payload with {prompt}, jq response path, tools.
    for i in range(4):
        config = {
            "model_provider": "custom",
            "hosting_type": "External" if i % 2 == 0 else "Internal",
            "endpoint": _endpoint(f"agent{i}.example.com", f"/agents/{i}"),
            "paths": {"chat": "/chat"},
            "custom_headers": [
                {"key": "X-Api-Key", "value": f"s3cr3t-agent-header-{i}"},
                {"key": "X-Tenant", "value": f"s3cr3t-tenant-{i}"},
            ],
            "custom_payload": {
                "messages": [{"role": "user", "content": "{prompt}"}],
                "stream": False,
                "max_tokens": 256 + i,
                "options": {"temperature": 0.5, "tags": ["a", "b"]},
            },
            "custom_response_content_type": "json",
            "custom_response_format": ".choices[0].message.content",
            "tools": [
                {"name": "web_search", "description": "Searches the web for finance news."},
                {"name": "calculator", "description": f"Does arithmetic ({i})."},
            ][: i % 2 + 1],
            "rate_per_min": 30,
            "context": {
                "system_description": f"Customer-support agent number {i} for an online bank. " * 3,
                "policy_description": "Never reveal account numbers; refuse investment advice. " * (5 + i * 10),
            },
        }
        if i == 3:
            config["custom_curl_command"] = "curl -H 'Authorization: Bearer s3cr3t-curl-token' https://x.example"
        models.append(
            {
                "model_saved_name": f"Support Agent {i}",
                "model_version": "v1",
                "testing_for": "agents" if i % 2 == 0 else "chatbotsAndCopilots",
                "certifications": [],
                "model_config": config,
            }
        )
    # Cloud credentials.
    models.append(
        {
            "model_saved_name": "Azure GPT",
            "model_version": "2024-06",
            "testing_for": "foundationModels",
            "model_name": "gpt-4o",
            "model_config": {
                "model_provider": "azure_openai",
                "hosting_type": "External",
                "endpoint": _endpoint("contoso.openai.azure.com", "/openai"),
                "auth_data": {
                    "azure_client_id": "11111111-2222-3333-4444-555555555555",
                    "azure_client_secret": "s3cr3t-azure-client-secret",
                    "azure_tenant_id": "66666666-7777-8888-9999-000000000000",
                },
                "metadata": {
                    "azure_instance": "contoso",
                    "azure_api_version": "2024-06-01",
                    "azure_deployment_id": "gpt4o-prod",
                },
            },
        }
    )
    models.append(
        {
            "model_saved_name": "Bedrock Claude",
            "model_version": "v1",
            "testing_for": "foundationModels",
            "model_name": "anthropic.claude-3-haiku-20240307-v1:0",
            "model_config": {
                "model_provider": "bedrock",
                "hosting_type": "External",
                "auth_data": {
                    "aws_access_key_id": "AKIAS3CR3TEXAMPLE",
                    "aws_secret_access_key": "s3cr3t-aws-secret-access-key/xyz",
                },
                "metadata": {"bedrock": {"aws_region": "eu-west-1"}},
            },
        }
    )
    service_account = json.dumps(
        {"type": "service_account", "project_id": "acme-ml", "private_key": "-----BEGIN s3cr3t-gcp-key-----"}
    )
    models.append(
        {
            "model_saved_name": "Gemini Vertex",
            "model_version": "v1",
            "testing_for": "foundationModels",
            "model_name": "gemini-1.5-pro",
            "model_config": {
                "model_provider": "gemini",
                "hosting_type": "External",
                "auth_data": {"gcp_service_account_json": service_account},
                "metadata": {
                    "gemini": {
                        "api_endpoint": "europe-west4-aiplatform.googleapis.com",
                        "project_id": "acme-ml",
                        "location_id": "europe-west4",
                    }
                },
            },
        }
    )
    models.append(
        {
            "model_saved_name": "JWT Bot",
            "model_version": "v3",
            "testing_for": "chatbotsAndCopilots",
            "model_config": {
                "model_provider": "custom",
                "endpoint": _endpoint("bot.example.com", "/api"),
                "paths": {"chat": "/message"},
                "model_auth_type": "jwt",
                "model_jwt_config": {
                    "jwt_method": "POST",
                    "jwt_url": "https://auth.example.com/oauth/token",
                    "jwt_headers": [{"key": "Content-Type", "value": "application/json"}],
                    "jwt_body": json.dumps({"client_id": "bot", "client_secret": "s3cr3t-jwt-client-secret"}),
                    "jwt_response_key": ".access_token",
                },
                "custom_payload": {"input": "{prompt}"},
                "custom_response_content_type": "json",
                "custom_response_format": ".output",
            },
        }
    )
    # A few odd names and an open-enum provider.
    models.append(
        {
            "model_saved_name": 'déjà vu: model\'s "quoted" name',
            "model_version": "2025.01-rc1",
            "testing_for": "URL",
            "model_config": {"model_provider": "url", "endpoint": _endpoint("chat.example.org", "")},
        }
    )
    models.append(
        {
            "model_saved_name": "Kastle Assistant",
            "model_version": "v1",
            "testing_for": "agents",
            "model_config": {
                "model_provider": "kastle",
                "apikeys": ["s3cr3t-kastle-key"],
                "metadata": {"enkryptai": {"deployment_name": "kastle-prod"}, "max_tokens": 1024},
                "default_request_options": {"temperature": 1, "top_p": 1, "top_k": 40},
            },
        }
    )
    models.append(
        {
            "model_saved_name": "HF Vision",
            "model_version": "v1",
            "testing_for": "foundationModels",
            "model_name": "llava-hf/llava-1.5-7b-hf",
            "model_config": {
                "model_provider": "huggingface",
                "hosting_type": "Internal",
                "model_source": "https://huggingface.co",
                "endpoint": {"scheme": "http", "host": "10.0.0.7", "port": 8080, "base_path": "/v1"},
                "paths": {"chat": "/chat/completions", "vision": "/vision", "embeddings": "/embeddings"},
                "auth_data": {"param_name": "token", "allow_override": False},
                "apikeys": ["s3cr3t-hf-token"],
                "input_modalities": ["text", "image"],
            },
        }
    )
    models.append(
        {
            "model_saved_name": "Box Assistant",
            "model_version": "v1",
            "testing_for": "agents",
            "model_config": {
                "model_provider": "boxai",
                "auth_data": {
                    "boxai_client_id": "box-client",
                    "boxai_client_secret": "s3cr3t-box-client-secret",
                    "boxai_user_id": "12345",
                    "boxai_default_file_id": "67890",
                },
            },
        }
    )
    models.append(
        {
            "model_saved_name": "Xactly Sales",
            "model_version": "v1",
            "testing_for": "agents",
            "model_config": {
                "model_provider": "xactly",
                "auth_data": {
                    "xactly_username": "sales-bot",
                    "xactly_password": "s3cr3t-xactly-password",
                    "nutanix_user_session_id": "s3cr3t-nutanix-session",
                    "nutanix_email_id": "bot@example.com",
                },
                "metadata": {"xactly": {"assistant_id": "asst-42"}},
            },
        }
    )
    return models


def secret_strings(models: list[dict[str, Any]]) -> list[str]:
    """The secret strings of the bodies (those with the s3cr3t marker, plus the AWS key id)."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, str) and ("s3cr3t" in value or value.startswith("AKIA")):
            found.append(value)
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    for model in models:
        walk(model)
    return found
