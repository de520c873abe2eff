// Enkrypt AI models and guardrails policies, from the same core as pulumi-enkrypt's dynamic provider.
package enkrypt
