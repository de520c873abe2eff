"""The five calls of the contract, their envelopes and their error bodies, over loopback."""

from __future__ import annotations

import re
from typing import Any

import httpx

from pulumi_enkrypt.server.process import RunningServer
from support.bodies import model_body
from support.server import OTHER_PROJECT_KEY, SERVER_TESTS_KEY, identity_headers

HEX = re.compile(r"^[0-9a-f]{16,}$")


def _error(r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body: dict[str, Any] = r.json()
    assert isinstance(body["message"], str) and body["message"]
    assert HEX.match(body["request_id"])
    return body


def test_crud_round_trip(server: RunningServer) -> None:
    with server.client() as c:
        r = c.post("/models/add-model", json=model_body())
        assert r.status_code == 200, r.text
        added = r.json()
        assert added["message"] == "Model details added successfully"
        model = added["data"]
        assert isinstance(model["model_id"], int) and model["model_id"] > 0
        assert model["created_at"] == model["updated_at"]
        assert model["created_at"].endswith("+00:00")
        assert model["project_name"] == "default"
        assert model["is_sample"] is False
        assert model["created_by"] == model["updated_by"]
        assert model["created_by"].startswith("user-") and SERVER_TESTS_KEY not in model["created_by"]
        assert model["model_config"]["endpoint"]["port"] == 443
        assert model["model_config"]["rate_per_min"] == 20  # an int stays an int

        got = c.get("/models/get-model", headers=identity_headers("Test Model"))
        assert got.status_code == 200
        assert got.json() == model  # bare object, no envelope

        listed = c.get("/models/list-models").json()
        assert listed == {"models": [model]}

        changed = model_body(model_config={"system_prompt": "Be brief."})
        r = c.patch("/models/modify-model", json=changed, headers=identity_headers("Test Model"))
        assert r.status_code == 200, r.text
        assert r.json()["message"] == "Model details updated successfully"
        updated = r.json()["data"]
        assert updated["model_id"] == model["model_id"]
        assert updated["created_at"] == model["created_at"]
        assert updated["updated_at"] > model["updated_at"]
        assert updated["model_config"]["system_prompt"] == "Be brief."

        r = c.delete("/models/delete-model", headers=identity_headers("Test Model"))
        assert r.status_code == 200
        assert r.json() == {
            "message": "Model details deleted successfully",
            "data": {"model_saved_name": "Test Model", "model_version": "v1"},
        }
        _error(c.get("/models/get-model", headers=identity_headers("Test Model")), 404)
        assert c.get("/models/list-models").json() == {"models": []}


def test_auth_bodies(server: RunningServer) -> None:
    for method, path in [("POST", "/models/add-model"), ("GET", "/models/list-models")]:
        r = httpx.request(method, server.url + path, json=model_body())
        assert _error(r, 401)["message"] == "No API key found in request"
        r = httpx.request(method, server.url + path, json=model_body(), headers={"apikey": "wrong"})
        assert _error(r, 401)["message"] == "Unauthorized"
    assert server.models() == []


def test_not_found(server: RunningServer) -> None:
    with server.client() as c:
        _error(c.get("/models/get-model", headers=identity_headers("Nope")), 404)
        _error(c.patch("/models/modify-model", json=model_body("Nope"), headers=identity_headers("Nope")), 404)
        _error(c.delete("/models/delete-model", headers=identity_headers("Nope")), 404)
        assert server.models() == []


def test_duplicate_and_rename_conflicts(server: RunningServer) -> None:
    with server.client() as c:
        assert c.post("/models/add-model", json=model_body("A")).status_code == 200
        assert c.post("/models/add-model", json=model_body("B")).status_code == 200
        _error(c.post("/models/add-model", json=model_body("A")), 409)
        # renaming A onto B is refused and changes nothing
        _error(c.patch("/models/modify-model", json=model_body("B"), headers=identity_headers("A")), 409)
        assert sorted(m["model_saved_name"] for m in server.models()) == ["A", "B"]
        # renaming A to a free identity keeps its id
        a_id = c.get("/models/get-model", headers=identity_headers("A")).json()["model_id"]
        r = c.patch("/models/modify-model", json=model_body("A", "v2"), headers=identity_headers("A"))
        assert r.status_code == 200 and r.json()["data"]["model_version"] == "v2"
        assert r.json()["data"]["model_id"] == a_id
        _error(c.get("/models/get-model", headers=identity_headers("A")), 404)
        assert c.get("/models/get-model", headers=identity_headers("A", "v2")).status_code == 200


def test_validation_names_each_bad_field(server: RunningServer) -> None:
    body = model_body()
    body["model_config"]["endpoint"]["port"] = "not-a-port"
    body["model_config"]["input_modalities"] = ["smell"]
    del body["model_version"]
    with server.client() as c:
        err = _error(c.post("/models/add-model", json=body), 422)
    fields = {e["field"] for e in err["errors"]}
    assert {"model_config.endpoint.port", "model_config.input_modalities[0]", "model_version"} <= fields
    for field in fields:
        assert field in err["message"]
    assert all(e["reason"] for e in err["errors"])
    assert server.models() == []


def test_validation_of_headers_and_json(server: RunningServer) -> None:
    with server.client() as c:
        err = _error(c.get("/models/get-model", headers={"X-Enkrypt-Model": "A"}), 422)
        assert [e["field"] for e in err["errors"]] == ["X-Enkrypt-Model-Version"]
        assert "X-Enkrypt-Model-Version" in err["message"]
        err = _error(c.delete("/models/delete-model"), 422)
        assert {e["field"] for e in err["errors"]} == {"X-Enkrypt-Model", "X-Enkrypt-Model-Version"}
        err = _error(
            c.post("/models/add-model", content=b"{not json", headers={"content-type": "application/json"}), 422
        )
        assert err["errors"][0]["field"] == "body"
        err = _error(c.post("/models/add-model", json=[1, 2]), 422)
        assert err["errors"][0]["field"] == "body"
        # a missing key is a 401 before anything else
        assert httpx.get(server.url + "/models/get-model").status_code == 401


def test_nulls_and_empty_enums_are_absent_unknown_keys_ignored(server: RunningServer) -> None:
    body = model_body(
        model_name="m",
        unknown_top={"x": 1},
        model_config={
            "model_jwt_config": None,
            "custom_response_content_type": "",
            "custom_curl_command": None,
            "hosting_type": None,
            "custom_payload": {"prompt": "{prompt}", "extra": None},
            "not_a_field": "ignored",
            "default_request_options": {"temperature": 1, "top_k": None},
        },
    )
    with server.client() as c:
        r = c.post("/models/add-model", json=body)
        assert r.status_code == 200, r.text
        config = r.json()["data"]["model_config"]
        for absent in ("model_jwt_config", "custom_response_content_type", "custom_curl_command", "hosting_type"):
            assert absent not in config
        assert "not_a_field" not in config and "unknown_top" not in r.json()["data"]
        assert config["custom_payload"] == {"prompt": "{prompt}", "extra": None}  # free-form keeps its nulls
        assert config["default_request_options"] == {"temperature": 1}


def test_projects_are_scoped_by_key(server: RunningServer) -> None:
    with server.client() as c, server.client(OTHER_PROJECT_KEY) as other:
        assert c.post("/models/add-model", json=model_body()).status_code == 200
        assert other.get("/models/list-models").json() == {"models": []}
        _error(other.get("/models/get-model", headers=identity_headers("Test Model")), 404)
        r = other.post("/models/add-model", json=model_body())  # same identity, other project: fine
        assert r.status_code == 200 and r.json()["data"]["project_name"] == "other"
        assert r.json()["data"]["created_by"] != server.models()[0]["created_by"]


def test_latin1_names_and_refresh_cache(server: RunningServer) -> None:
    name = "Modèle de test"
    with server.client() as c:
        assert c.post("/models/add-model", json=model_body(name)).status_code == 200
        headers = {
            b"X-Enkrypt-Model": name.encode("latin-1"),
            b"X-Enkrypt-Model-Version": b"v1",
            b"X-Enkrypt-Refresh-Cache": b"true",
        }
        r = c.get("/models/get-model", headers=headers)
        assert r.status_code == 200 and r.json()["model_saved_name"] == name
        # a name no header can carry is refused up front
        err = _error(c.post("/models/add-model", json=model_body("模型")), 422)
        assert err["errors"][0]["field"] == "model_saved_name"


def test_samples(server: RunningServer) -> None:
    assert server.add_samples(2) == 3  # Sample Model 1..2, and the platform's one sample policy
    assert server.add_samples(3) == 1  # idempotent: ensures Sample Model 1..3 (the policy is there)
    samples = server.models()
    assert [m["model_saved_name"] for m in samples] == ["Sample Model 1", "Sample Model 2", "Sample Model 3"]
    assert all(m["is_sample"] is True for m in samples)
    assert server.models(OTHER_PROJECT_KEY) == []
    with server.client() as c:
        r = c.post("/models/add-model", json=model_body())
        assert r.json()["data"]["is_sample"] is False


def test_openapi_document(server: RunningServer) -> None:
    doc = httpx.get(server.url + "/openapi.json").json()
    assert set(doc["paths"]) == {
        "/models/add-model",
        "/models/get-model",
        "/models/list-models",
        "/models/modify-model",
        "/models/delete-model",
        "/guardrails/add-policy",
        "/guardrails/get-policy",
        "/guardrails/list-policies",
        "/guardrails/modify-policy",
        "/guardrails/delete-policy",
        *(f"/guardrails/{verb}-guardrail" for verb in ("add", "get", "modify", "delete")),
        "/guardrails/list-guardrails",
        *(f"/deployments/{verb}-deployment" for verb in ("add", "get", "modify", "delete")),
        "/deployments/list-deployments",
        *(f"/code-of-conduct/{verb}-policy" for verb in ("add", "get", "modify", "delete")),
        "/code-of-conduct/list-policies",
    }
    add = doc["paths"]["/models/add-model"]["post"]
    assert add["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/ModelRequestObject")
    assert {"200", "401", "409", "422", "429", "500", "503"} <= set(add["responses"])
    assert "Retry-After" in add["responses"]["429"]["headers"]
    params = {p["name"] for p in doc["paths"]["/models/modify-model"]["patch"]["parameters"]}
    assert {"X-Enkrypt-Model", "X-Enkrypt-Model-Version"} <= params
    assert doc["components"]["securitySchemes"]["APIKeyHeader"]["name"] == "apikey"
    assert "model_config" in doc["components"]["schemas"]["ModelRequestObject"]["properties"]
