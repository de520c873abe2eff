"""A custom agent endpoint: Enkrypt calls your agent's HTTP API with your headers and payload, and reads the
answer at a jq path of the JSON response."""

import pulumi

import pulumi_enkrypt as enkrypt

config = pulumi.Config()
token = config.require_secret("agentToken")  # pulumi config set --secret agentToken ...

agent = enkrypt.Model(
    "support-agent",
    model_saved_name="Acme Support Agent",
    model_version="v1",
    testing_for="agents",
    model_config=enkrypt.ModelConfigArgs(
        model_provider="custom",
        hosting_type="External",
        endpoint=enkrypt.EndpointArgs(
            scheme="https", host=config.get("agentHost") or "agent.acme.example", port=443, base_path="/api/v1"
        ),
        paths=enkrypt.PathsArgs(chat="/conversations/reply"),
        # Header values are secrets (stored encrypted in state), whether they hold a token or not.
        custom_headers=[
            enkrypt.CustomHeaderArgs(key="Authorization", value=token.apply(lambda t: f"Bearer {t}")),
            enkrypt.CustomHeaderArgs(key="X-Tenant-Id", value=config.get("tenantId") or "acme-support"),
        ],
        # Any JSON body; Enkrypt puts each test prompt where "{prompt}" stands.
        custom_payload={
            "conversation": {"channel": "red-team", "locale": "en-US"},
            "messages": [{"role": "user", "content": "{prompt}"}],
            "stream": False,
        },
        custom_response_content_type="json",
        custom_response_format=".data.reply.text",  # jq path of the answer in the agent's response
        tools=[
            enkrypt.ToolArgs(name="lookup_order", description="Looks up an order by its number."),
            enkrypt.ToolArgs(name="issue_refund", description="Refunds an order, up to 100 USD."),
        ],
        input_modalities=["text"],
        output_modalities=["text"],
        rate_per_min=30,
        context=enkrypt.ContextArgs(
            system_description="Customer-support agent of Acme's web shop; it can look up orders and refund them.",
            policy_description="Never refund more than 100 USD. Never reveal another customer's orders.",
        ),
    ),
)

pulumi.export("id", agent.id)
pulumi.export("model_id", agent.model_id)
