"""One program, one stack per environment: which models exist, their names, versions and rate limits come
from the stack's config (Pulumi.<stack>.yaml); the API keys from secret config set per stack."""

from typing import Any

import pulumi

import pulumi_enkrypt as enkrypt

config = pulumi.Config()
prefix = config.get("namePrefix") or ""
models: list[dict[str, Any]] = config.require_object("models")
openai_key = config.require_secret("openaiKey")  # pulumi config set --secret openaiKey ... (per stack)

ids = {}
for spec in models:
    model = enkrypt.Model(
        spec["name"],  # the Pulumi name stays the same in every stack; the Enkrypt name may carry a prefix
        model_saved_name=prefix + spec["name"],
        model_version=spec["version"],
        testing_for="foundationModels",
        model_name=spec["modelName"],
        model_config=enkrypt.ModelConfigArgs(
            model_provider="openai",
            hosting_type="External",
            endpoint=enkrypt.EndpointArgs(scheme="https", host="api.openai.com", port=443, base_path="/v1"),
            paths=enkrypt.PathsArgs(chat="/chat/completions", completions="/completions"),
            auth_data=enkrypt.AuthDataArgs(
                header_name="Authorization", header_prefix="Bearer", space_after_prefix=True
            ),
            apikeys=[openai_key],
            rate_per_min=spec.get("ratePerMin", 20),
            system_prompt=spec.get("systemPrompt"),
        ),
    )
    ids[spec["name"]] = model.id

pulumi.export("stack", pulumi.get_stack())
pulumi.export("models", ids)
