// Enkrypt AI models, guardrails policies, guardrails, code-of-conduct policies and deployments, from the same core as pulumi-enkrypt's dynamic provider.
package enkrypt
