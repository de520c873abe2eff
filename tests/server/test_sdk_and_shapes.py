"""The official enkryptai-sdk as a real client, and the two response shapes with and without masking."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from enkryptai_sdk import ModelClient  # type: ignore[import-untyped]
from enkryptai_sdk.dto import ModelCollection, ModelConfig  # type: ignore[import-untyped]
from enkryptai_sdk.models import ModelClientError  # type: ignore[import-untyped]

from pulumi_enkrypt.server.process import RunningServer
from support.bodies import model_body
from support.server import identity_headers

SDK_TOP_LEVEL = {
    "created_at", "updated_at", "created_by", "updated_by", "model_id", "model_saved_name", "model_version",
    "testing_for", "project_name", "model_name", "certifications", "model_config", "is_sample",
}  # fmt: skip
MASK = "********"


def _sdk_config(name: str, prompt: str = "") -> ModelConfig:
    return ModelConfig.from_dict(
        {
            "model_saved_name": name,
            "model_version": "v1",
            "testing_for": "foundationModels",
            "model_name": "gpt-4o-mini",
            "model_config": {
                "model_provider": "openai",
                "endpoint_url": "https://api.openai.com/v1/chat/completions",
                "apikey": "sk-sdk-secret",
                "system_prompt": prompt,
                "input_modalities": ["text"],
                "output_modalities": ["text"],
            },
        }
    )


def test_official_sdk_round_trip(server: RunningServer) -> None:
    server.add_samples(1)  # the SDK must also parse platform-made samples in a list
    client = ModelClient(api_key=server.api_key, base_url=server.url)

    added = client.add_model(_sdk_config("SDK Model"))
    assert added.message == "Model details added successfully"
    assert added.data is not None and added.data["model_saved_name"] == "SDK Model"

    got = client.get_model("SDK Model", "v1")
    assert isinstance(got, ModelConfig)
    assert got.model_saved_name == "SDK Model" and got.project_name == "default" and got.is_sample is False
    assert got.model_config.model_provider.value == "openai"
    assert got.model_config.endpoint_url == "https://api.openai.com/v1"
    assert got.model_config.apikey == "sk-sdk-secret"

    listed = client.get_model_list()
    assert isinstance(listed, ModelCollection), listed
    assert sorted(m.model_saved_name for m in listed.models) == ["SDK Model", "Sample Model 1"]

    modified = client.modify_model(_sdk_config("SDK Model", prompt="Be brief."))
    assert modified.message == "Model details updated successfully"
    assert client.get_model("SDK Model", "v1").model_config.system_prompt == "Be brief."

    deleted = client.delete_model("SDK Model", "v1")
    assert deleted.message == "Model details deleted successfully"
    with pytest.raises(ModelClientError):
        client.get_model("SDK Model", "v1")
    assert [m["model_saved_name"] for m in server.models()] == ["Sample Model 1"]


def test_sdk_parser_rejects_the_documented_shape(server: RunningServer) -> None:
    """Why the SDK shape is the default: the documented one breaks the SDK's strict parser."""
    server.admin_config(response_shape="documented")
    client = ModelClient(api_key=server.api_key, base_url=server.url)
    client.add_model(_sdk_config("Doc Model"))
    with pytest.raises(TypeError):
        client.get_model("Doc Model", "v1")


def _rich_body() -> dict[str, Any]:
    return model_body(
        "Rich",
        model_config={
            "model_auth_type": "jwt",
            "model_jwt_config": {
                "jwt_method": "POST",
                "jwt_url": "https://auth.example.com/token",
                "jwt_headers": [{"key": "content-type", "value": "application/x-www-form-urlencoded"}],
                "jwt_body": "grant_type=client_credentials&client_secret=jwt-secret",
                "jwt_response_key": ".access_token",
            },
            "custom_headers": [{"key": "X-Token", "value": "header-secret"}],
            "custom_curl_command": "curl -H 'Authorization: curl-secret' https://x",
            "auth_data": {"header_name": "Authorization", "header_prefix": "Bearer", "space_after_prefix": True},
            "tools": [{"name": "web_search", "description": "Search the web."}],
            "custom_payload": {"messages": [{"role": "user", "content": "{prompt}"}]},
            "custom_response_content_type": "json",
            "custom_response_format": ".choices[0].message.content",
            "context": {"system_description": "A support bot."},
        },
    )


@pytest.mark.parametrize(("shape", "mask"), list(itertools.product(["sdk", "documented"], [False, True])))
def test_shapes_and_masking(server: RunningServer, shape: str, mask: bool) -> None:
    server.admin_config(response_shape=shape, mask_secrets=mask)
    with server.client() as c:
        r = c.post("/models/add-model", json=_rich_body())
        assert r.status_code == 200, r.text
        from_add = r.json()["data"]
        from_get = c.get("/models/get-model", headers=identity_headers("Rich")).json()
        from_list = c.get("/models/list-models").json()["models"][0]
        from_modify = c.patch("/models/modify-model", json=_rich_body(), headers=identity_headers("Rich")).json()[
            "data"
        ]
    assert from_add == from_get == from_list
    assert from_modify["updated_at"] >= from_add["updated_at"]

    for model in (from_get, from_modify):
        config = model["model_config"]
        if shape == "sdk":
            assert set(model) == SDK_TOP_LEVEL
            assert config["model_provider"] == "together" and config["hosting_type"] == "External"
            assert config["rate_per_min"] == 20
            ModelConfig.from_dict(dict(model))  # the official strict parser accepts it
        else:
            assert model["model_provider"] == "together" and model["hosting_type"] == "External"
            for moved in ("model_provider", "hosting_type", "rate_per_min"):
                assert moved not in config
            assert {"model_id", "created_at", "updated_at", "project_name"} <= set(model)
            assert not {"created_by", "updated_by", "is_sample"} & set(model)

        secrets = [
            config["apikeys"][0],
            config["custom_headers"][0]["value"],
            config["custom_curl_command"],
            config["model_jwt_config"]["jwt_body"],
            config["model_jwt_config"]["jwt_url"],
            config["model_jwt_config"]["jwt_headers"][0]["value"],
        ]
        if mask:
            assert secrets == [MASK] * len(secrets)
        else:
            assert secrets[0] == "sk-secret-together" and secrets[1] == "header-secret"
            assert MASK not in str(model)
        # never masked: names of headers, non-secret auth fields
        assert config["custom_headers"][0]["key"] == "X-Token"
        assert config["auth_data"]["header_name"] == "Authorization"
        assert config["model_jwt_config"]["jwt_method"] == "POST"  # an enum value is no secret

    # masking is a view: the stored secrets are intact
    server.admin_config(mask_secrets=False)
    assert server.models()[0]["model_config"]["apikeys"] == ["sk-secret-together"]
