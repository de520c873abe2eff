"""Cloud-hosted models whose credentials are secrets: each comes from secret stack config, and the resource
stores it encrypted in state (the whole JWT config included)."""

import pulumi

import pulumi_enkrypt as enkrypt

config = pulumi.Config()

azure = enkrypt.Model(
    "azure-openai",
    model_saved_name="Acme GPT-4o (Azure)",
    model_version="v1",
    testing_for="foundationModels",
    model_name="gpt-4o",
    model_config=enkrypt.ModelConfigArgs(
        model_provider="azure_openai",
        hosting_type="External",
        auth_data=enkrypt.AuthDataArgs(
            azure_tenant_id=config.require("azureTenantId"),
            azure_client_id=config.require("azureClientId"),
            azure_client_secret=config.require_secret("azureClientSecret"),
        ),
        metadata=enkrypt.MetadataArgs(
            azure_instance=config.require("azureInstance"),
            azure_api_version="2024-06-01",
            azure_deployment_id="gpt-4o",
        ),
    ),
)

bedrock = enkrypt.Model(
    "bedrock-claude",
    model_saved_name="Acme Claude (Bedrock)",
    model_version="v1",
    testing_for="foundationModels",
    model_name="anthropic.claude-3-5-sonnet-20240620-v1:0",
    model_config=enkrypt.ModelConfigArgs(
        model_provider="bedrock",
        hosting_type="External",
        auth_data=enkrypt.AuthDataArgs(
            aws_access_key_id=config.require_secret("awsAccessKeyId"),
            aws_secret_access_key=config.require_secret("awsSecretAccessKey"),
        ),
        metadata=enkrypt.MetadataArgs(bedrock=enkrypt.BedrockMetadataArgs(aws_region=config.get("awsRegion"))),
    ),
)

gemini = enkrypt.Model(
    "gemini-vertex",
    model_saved_name="Acme Gemini (Vertex)",
    model_version="v1",
    testing_for="foundationModels",
    model_name="gemini-1.5-pro",
    model_config=enkrypt.ModelConfigArgs(
        model_provider="gemini",
        hosting_type="External",
        # The whole service-account key file: pulumi config set --secret gcpServiceAccountJson < key.json
        auth_data=enkrypt.AuthDataArgs(gcp_service_account_json=config.require_secret("gcpServiceAccountJson")),
        metadata=enkrypt.MetadataArgs(
            gemini=enkrypt.GeminiMetadataArgs(
                project_id=config.require("gcpProject"),
                location_id=config.require("gcpLocation"),
                api_endpoint=f"{config.require('gcpLocation')}-aiplatform.googleapis.com",
            )
        ),
    ),
)

# A chatbot behind an OAuth token endpoint: Enkrypt fetches a JWT first, then calls the bot with it.
jwt_bot = enkrypt.Model(
    "jwt-chatbot",
    model_saved_name="Acme Chatbot (JWT)",
    model_version="v1",
    testing_for="chatbotsAndCopilots",
    model_config=enkrypt.ModelConfigArgs(
        model_provider="custom",
        hosting_type="External",
        endpoint=enkrypt.EndpointArgs(scheme="https", host="chat.acme.example", port=443, base_path="/api"),
        paths=enkrypt.PathsArgs(chat="/messages"),
        model_auth_type="jwt",
        model_jwt_config=enkrypt.JwtConfigArgs(
            jwt_method="POST",
            jwt_url=config.require("jwtUrl"),
            jwt_headers=[enkrypt.JwtHeaderArgs(key="Content-Type", value="application/json")],
            jwt_body=pulumi.Output.json_dumps(
                {
                    "grant_type": "client_credentials",
                    "client_id": "enkrypt-red-team",
                    "client_secret": config.require_secret("jwtClientSecret"),
                }
            ),
            jwt_response_key=".access_token",
        ),
        custom_payload={"message": "{prompt}"},
        custom_response_content_type="json",
        custom_response_format=".reply",
    ),
)

pulumi.export("ids", [azure.id, bedrock.id, gemini.id, jwt_bot.id])
