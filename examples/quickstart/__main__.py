"""Quickstart: the two models of Enkrypt's add-model examples, managed by Pulumi.

The Together model is written with the typed ``...Args`` classes; the custom agent with the plain-dict
``...ArgsDict`` form. Both forms are checked by the provider before anything reaches Enkrypt.

API keys come from the stack configuration as secrets:

    pulumi config set --secret togetherApiKey <key>
    pulumi config set --secret huggingfaceApiKey <key>

Without them the demo uses obvious placeholder keys (still stored as secrets), so it runs out of the box
against the local server.
"""

import pulumi

import pulumi_enkrypt as enkrypt

config = pulumi.Config()
together_key = config.get_secret("togetherApiKey") or pulumi.Output.secret("demo-together-key")
huggingface_key = config.get_secret("huggingfaceApiKey") or pulumi.Output.secret("demo-huggingface-key")

# Standard provider (Together AI), typed inputs.
together = enkrypt.Model(
    "together",
    model_saved_name="Test Model",
    model_version="v1",
    testing_for=enkrypt.TestingFor.FOUNDATIONMODELS,
    model_name="mistralai/Mixtral-8x7B-Instruct-v0.1",
    certifications=[],
    model_config=enkrypt.ModelConfigArgs(
        model_provider="together",
        hosting_type="External",
        input_modalities=["text"],
        output_modalities=["text"],
        model_source="https://together.ai",
        rate_per_min=20,
        system_prompt="",
        endpoint=enkrypt.EndpointArgs(scheme="https", host="api.together.xyz", port=443, base_path="/v1"),
        paths=enkrypt.PathsArgs(completions="/completions", chat="/chat/completions"),
        auth_data=enkrypt.AuthDataArgs(header_name="Authorization", header_prefix="Bearer", space_after_prefix=True),
        apikeys=[together_key],
    ),
)

# Custom provider (an agent behind Hugging Face inference), plain-dict inputs.
agent_args: enkrypt.ModelArgsDict = {
    "model_saved_name": "My Custom Agent",
    "model_version": "v1",
    "testing_for": "agents",
    "certifications": [],
    "model_config": {
        "model_provider": "custom",
        "hosting_type": "External",
        "model_source": "https://huggingface.co",
        "endpoint": {"scheme": "https", "host": "api-inference.huggingface.co", "port": 443, "base_path": "/agents/v1"},
        "paths": {"completions": "/completions", "chat": "/chat/completions"},
        "auth_data": {"header_name": "Authorization", "header_prefix": "Bearer", "space_after_prefix": True},
        "apikeys": [huggingface_key],
        "input_modalities": ["text", "image", "audio"],
        "output_modalities": ["text"],
        "tools": [
            {
                "name": "web_search",
                "description": "The tool web search is used to search the web for information related to finance.",
            }
        ],
        "custom_headers": [{"key": "test", "value": "test"}],
        "custom_payload": {
            "messages": [
                {"role": "developer", "content": "You are a helpful assistant."},
                {"role": "user", "content": "{prompt}"},
            ]
        },
        "custom_response_content_type": "json",
        "custom_response_format": ".choices[0].message.content",
        "metadata": {
            "max_tokens": 500,
            "input_cost_1M_tokens": None,
            "output_cost_1M_tokens": None,
            "llama2_format": "openai",
        },
        "default_request_options": {"temperature": 1, "top_p": 1, "top_k": None},
    },
}
agent = enkrypt.Model("custom-agent", agent_args)

pulumi.export("together_model_id", together.model_id)
pulumi.export("together_id", together.id)
pulumi.export("agent_model_id", agent.model_id)
pulumi.export("agent_id", agent.id)
