"""A guarded deployment: the three objects that put a model behind Enkrypt's guardrails.

- the model (the endpoint the AI proxy calls),
- a guardrails policy (which detectors run on the traffic, with their settings),
- a deployment: the named route of the proxy that binds the model to the policy, on the way in (prompts) and on
  the way out (responses), and says which detections block the call.

The deployment is given the model's and the policy's outputs (``model.model_saved_name``, ``policy.name``), not
their names as text: Pulumi then creates the deployment after them and deletes it before them, and renaming the
policy replaces it and updates the deployment in the same `pulumi up`.
"""

import pulumi

import pulumi_enkrypt as enkrypt

config = pulumi.Config()

model = enkrypt.Model(
    "support-bot",
    model_saved_name="Acme Support Bot",
    model_version="v1",
    testing_for="foundationModels",
    model_name="gpt-4o-mini",
    model_config=enkrypt.ModelConfigArgs(
        model_provider="openai",
        hosting_type="External",
        endpoint=enkrypt.EndpointArgs(scheme="https", host="api.openai.com", port=443, base_path="/v1"),
        paths=enkrypt.PathsArgs(chat="/chat/completions", completions="/completions"),
        auth_data=enkrypt.AuthDataArgs(header_name="Authorization", header_prefix="Bearer", space_after_prefix=True),
        apikeys=[config.require_secret("openaiKey")],  # pulumi config set --secret openaiKey ...
    ),
)

# Detectors left out stay off, with Enkrypt's defaults; reading those defaults back is no drift.
policy = enkrypt.GuardrailsPolicy(
    "support-policy",
    name="Acme Support Policy",
    description="What the support bot accepts and says",
    detectors=enkrypt.DetectorsArgs(
        injection_attack=enkrypt.InjectionAttackDetectorArgs(enabled=True),
        pii=enkrypt.PiiDetectorArgs(enabled=True, entities=["pii", "secrets"]),
        nsfw=enkrypt.NsfwDetectorArgs(enabled=True),
        toxicity=enkrypt.ToxicityDetectorArgs(enabled=True),
        policy_violation=enkrypt.PolicyViolationDetectorArgs(
            enabled=True,
            policy_text="Only discuss Acme orders, deliveries and returns.",
            need_explanation=True,
        ),
    ),
)

# A detector that runs but is not in `block` only reports; one in `block` stops the call.
deployment = enkrypt.Deployment(
    "support",
    name=config.get("deploymentName") or "support-prod",
    model_saved_name=model.model_saved_name,
    model_version=model.model_version,
    input_guardrails_policy=enkrypt.InputGuardrailsPolicyArgs(
        policy_name=policy.name,
        enabled=True,
        block=["injection_attack", "pii"],
        additional_config=enkrypt.InputAdditionalConfigArgs(pii_redaction=True),  # redact what it does not block
    ),
    output_guardrails_policy=enkrypt.OutputGuardrailsPolicyArgs(
        policy_name=policy.name,
        enabled=True,
        block=["nsfw", "toxicity", "policy_violation"],
    ),
)

pulumi.export("model_id", model.model_id)
pulumi.export("policy_id", policy.policy_id)
pulumi.export("deployment", deployment.name)
pulumi.export("deployment_id", deployment.deployment_id)
