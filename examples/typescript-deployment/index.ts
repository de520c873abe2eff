// A guarded deployment in TypeScript, on the enkrypt provider plugin's generated SDK (@pulumi/enkrypt):
// a model, a guardrails policy, and the deployment that binds them. The deployment is given the model's
// and the policy's outputs, not their names as text, so Pulumi creates it after them, deletes it before
// them, and a renamed policy updates it in the same `pulumi up`.
import * as pulumi from "@pulumi/pulumi";
import * as enkrypt from "@pulumi/enkrypt";

const config = new pulumi.Config();

const model = new enkrypt.Model("support-bot", {
    model_saved_name: "Acme Support Bot",
    model_version: "v1",
    testing_for: "foundationModels",
    model_name: "gpt-4o-mini",
    model_config: {
        model_provider: "openai",
        hosting_type: "External",
        endpoint: { scheme: "https", host: "api.openai.com", port: 443, base_path: "/v1" },
        paths: { chat: "/chat/completions", completions: "/completions" },
        auth_data: { header_name: "Authorization", header_prefix: "Bearer", space_after_prefix: true },
        apikeys: [config.requireSecret("openaiKey")], // pulumi config set --secret openaiKey ...
    },
});

// Detectors left out stay off, with Enkrypt's defaults.
const policy = new enkrypt.GuardrailsPolicy("support-policy", {
    name: "Acme Support Policy",
    description: "What the support bot accepts and says",
    detectors: {
        injection_attack: { enabled: true },
        pii: { enabled: true, entities: ["pii", "secrets"] },
        toxicity: { enabled: true },
    },
});

// A detector that runs but is not in `block` only reports; one in `block` stops the call.
const deployment = new enkrypt.Deployment("support", {
    name: config.get("deploymentName") ?? "support-prod",
    model_saved_name: model.model_saved_name,
    model_version: model.model_version,
    input_guardrails_policy: { policy_name: policy.name, enabled: true, block: ["injection_attack", "pii"] },
    output_guardrails_policy: { policy_name: policy.name, enabled: true, block: ["toxicity"] },
});

export const modelId = model.model_id;
export const policyId = policy.policy_id;
export const deploymentName = deployment.name;
export const deploymentId = deployment.deployment_id;
