"""One program, one stack per environment: which models exist, their names, versions and rate limits, and what
each environment's deployments block come from the stack's config (Pulumi.<stack>.yaml); the API keys from
secret config set per stack.

Every environment runs the same guardrails policy (the same detectors), so what dev reports is what prod would
see; the environments differ only in which detections stop a call (`block` in the stack's config)."""

from typing import Any

import pulumi

import pulumi_enkrypt as enkrypt

config = pulumi.Config()
prefix = config.get("namePrefix") or ""
models: list[dict[str, Any]] = config.require_object("models")
openai_key = config.require_secret("openaiKey")  # pulumi config set --secret openaiKey ... (per stack)
block: dict[str, list[str]] = config.get_object("block") or {}  # {"input": [...], "output": [...]}

policy = enkrypt.GuardrailsPolicy(
    "acme-guardrails",
    name=prefix + "acme-guardrails",
    description="The detectors every environment runs",
    detectors=enkrypt.DetectorsArgs(
        injection_attack=enkrypt.InjectionAttackDetectorArgs(enabled=True),
        pii=enkrypt.PiiDetectorArgs(enabled=True, entities=["pii", "secrets"]),
        nsfw=enkrypt.NsfwDetectorArgs(enabled=True),
        toxicity=enkrypt.ToxicityDetectorArgs(enabled=True),
    ),
)

ids = {}
routes = {}
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
    # One deployment per model; check validates the block lists (each must be a detector name) before any call.
    deployment = enkrypt.Deployment(
        spec["name"],
        name=prefix + spec["name"],
        model_saved_name=model.model_saved_name,
        model_version=model.model_version,
        input_guardrails_policy=enkrypt.InputGuardrailsPolicyArgs(
            policy_name=policy.name, enabled=True, block=block.get("input", [])
        ),
        output_guardrails_policy=enkrypt.OutputGuardrailsPolicyArgs(
            policy_name=policy.name, enabled=True, block=block.get("output", [])
        ),
    )
    routes[spec["name"]] = deployment.id

pulumi.export("stack", pulumi.get_stack())
pulumi.export("models", ids)
pulumi.export("deployments", routes)
