"""Look up a model that exists already (made in the Enkrypt console, or by another stack) and build on it.

``get_model`` reads the model once, when the program runs; it is not managed by this stack, so nothing here
changes or deletes it. To take a model over instead, declare it as a Model with ``adopt_existing=True``.
"""

import pulumi

import pulumi_enkrypt as enkrypt

config = pulumi.Config()
name = config.require("modelName")
version = config.get("modelVersion") or "v1"

existing = enkrypt.get_model(name, version)  # raises EnkryptNotFoundError if there is none
base = existing.model_config

# A canary copy of the same endpoint, under its own version, with its own key and a low rate limit.
canary = enkrypt.Model(
    "canary",
    model_saved_name=existing.model_saved_name,
    model_version=f"{existing.model_version}-canary",
    testing_for=existing.testing_for,
    model_name=existing.model_name,
    model_config=enkrypt.ModelConfigArgs(
        model_provider=base["model_provider"],
        hosting_type=base.get("hosting_type"),
        endpoint=base.get("endpoint"),
        paths=base.get("paths"),
        auth_data=base.get("auth_data"),
        apikeys=[config.require_secret("canaryApiKey")],
        rate_per_min=config.get_int("canaryRatePerMin") or 5,
    ),
)

pulumi.export("existing_id", existing.id)
pulumi.export("existing_model_id", existing.model_id)
pulumi.export("existing_provider", base["model_provider"])
pulumi.export("existing_project", existing.project_name)
pulumi.export("canary_id", canary.id)
# get_model_output takes Output arguments (e.g. another resource's name) and returns an Output; the result is
# secret when the model holds secrets (this one has an API key).
looked_up = enkrypt.get_model_output(pulumi.Output.from_input(name), version)
pulumi.export("existing_endpoint_host", looked_up.apply(lambda m: (m.model_config.get("endpoint") or {}).get("host")))
