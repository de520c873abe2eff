"""A resource kind is a declaration: a second kind, declared here, gets the five calls, its own headers,
messages, ids, table, samples, admin wipe, faults and OpenAPI from the same server code as the model.

The kind borrows the model's schema (a real new kind brings its own) and names objects by one header, as
Enkrypt's policies and deployments do. The server runs in this process, on loopback, through uvicorn.
"""

from __future__ import annotations

import dataclasses
import socket
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from pulumi_enkrypt.kinds import MODEL, Api, Kind
from pulumi_enkrypt.server.app import ServerConfig, create_app
from support.bodies import model_body
from support.server import NO_FAULTS, OTHER_PROJECT_KEY, SERVER_TESTS_KEY, identity_headers

WIDGET = Kind(
    name="Widget",
    noun="widget",
    identity=("model_saved_name",),
    api=Api(
        add="/widgets/add-widget",
        get="/widgets/get-widget",
        modify="/widgets/modify-widget",
        delete="/widgets/delete-widget",
        list="/widgets/list-widgets",
        list_key="widgets",
        identity_headers={"model_saved_name": "X-Enkrypt-Widget"},
        id_field="widget_id",
        delete_echo=("widget_id", "project_name"),
    ),
    facts=dataclasses.replace(
        MODEL.facts,
        server_fields=tuple(f.replace("model_id", "widget_id") for f in MODEL.facts.server_fields),
        computed_outputs=tuple(f.replace("model_id", "widget_id") for f in MODEL.facts.computed_outputs),
    ),
    wire_model=MODEL.wire_model,
    label="widget named {0!r}",
    hoisted_into=MODEL.hoisted_into,
    unechoed=MODEL.unechoed,
    sample={**MODEL.sample, "model_saved_name": "Sample Widget"} if MODEL.sample else None,
)
W = {"X-Enkrypt-Widget": "Gadget"}


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = threading.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        self.ready.set()


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db = str(tmp_path_factory.mktemp("kinds") / "kinds.db")
    config = ServerConfig(
        api_keys={SERVER_TESTS_KEY: "default", OTHER_PROJECT_KEY: "other"}, db=db, samples=2, kinds=(MODEL, WIDGET)
    )
    server = _Server(uvicorn.Config(create_app(config), host="127.0.0.1", port=0, http="h11", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        assert server.ready.wait(30) and server.started, "the server did not start"
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(30)


@pytest.fixture
def c(url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=url, headers={"apikey": SERVER_TESTS_KEY}, timeout=30) as client:
        assert client.put("/_emulator/config", json=NO_FAULTS).status_code == 200
        yield client


def _widgets(c: httpx.Client) -> list[dict[str, Any]]:
    r = c.get("/widgets/list-widgets")
    assert r.status_code == 200, r.text
    widgets: list[dict[str, Any]] = r.json()["widgets"]
    return widgets


def test_the_five_calls_of_a_declared_kind(c: httpx.Client) -> None:
    r = c.post("/widgets/add-widget", json=model_body("Gadget"))
    assert r.status_code == 200, r.text
    assert r.json()["message"] == "Widget details added successfully"
    widget = r.json()["data"]
    assert isinstance(widget["widget_id"], int) and "model_id" not in widget
    assert widget["project_name"] == "default" and widget["is_sample"] is False

    assert c.get("/widgets/get-widget", headers=W).json() == widget
    assert widget in _widgets(c)
    # one header names a widget: another version of the same name is the same widget
    r = c.post("/widgets/add-widget", json=model_body("Gadget", "v2"))
    assert (r.status_code, r.json()["message"]) == (409, "Widget already exists")

    r = c.patch(
        "/widgets/modify-widget", json=model_body("Gizmo", model_config={"system_prompt": "Be brief."}), headers=W
    )
    assert r.status_code == 200 and r.json()["message"] == "Widget details updated successfully"
    assert r.json()["data"]["widget_id"] == widget["widget_id"]  # a rename keeps the id
    r = c.get("/widgets/get-widget", headers=W)
    assert (r.status_code, r.json()["message"]) == (404, "Widget not found")

    r = c.delete("/widgets/delete-widget", headers={"X-Enkrypt-Widget": "Gizmo"})
    assert r.json() == {
        "message": "Widget details deleted successfully",
        "data": {"widget_id": widget["widget_id"], "project_name": "default"},
    }
    assert c.delete("/widgets/delete-widget", headers={"X-Enkrypt-Widget": "Gizmo"}).status_code == 404
    r = c.get("/widgets/get-widget")
    assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == ["X-Enkrypt-Widget"]


def test_kinds_are_kept_apart(c: httpx.Client, url: str) -> None:
    assert c.post("/models/add-model", json=model_body("Shared")).status_code == 200
    assert c.post("/widgets/add-widget", json=model_body("Shared")).status_code == 200  # another table
    assert c.get("/models/get-model", headers=identity_headers("Shared")).json()["model_id"] >= 1
    with httpx.Client(base_url=url, headers={"apikey": OTHER_PROJECT_KEY}) as other:  # another project
        assert other.get("/widgets/get-widget", headers={"X-Enkrypt-Widget": "Shared"}).status_code == 404

    # each kind's admin wipe empties that kind only
    assert c.delete("/_emulator/widgets").json()["deleted"] >= 1
    assert _widgets(c) == []
    assert c.get("/models/get-model", headers=identity_headers("Shared")).status_code == 200
    assert c.delete("/_emulator/models").json()["deleted"] >= 1


def test_samples_of_every_kind(c: httpx.Client, url: str) -> None:
    with httpx.Client(base_url=url, headers={"apikey": OTHER_PROJECT_KEY}) as other:  # seeded at start: --samples 2
        assert [w["model_saved_name"] for w in other.get("/widgets/list-widgets").json()["widgets"]] == [
            "Sample Widget"
        ]
        assert len(other.get("/models/list-models").json()["models"]) == 2
    c.delete("/_emulator/widgets")
    c.delete("/_emulator/models")
    # a sample without {n} in its name is one object, however many are asked for
    assert c.post("/_emulator/samples", json={"count": 3}).json() == {"created": 4, "count": 3}
    assert [w["model_saved_name"] for w in _widgets(c) if w["is_sample"]] == ["Sample Widget"]
    models = c.get("/models/list-models").json()["models"]
    assert [m["model_saved_name"] for m in models if m["is_sample"]] == [f"Sample Model {i}" for i in (1, 2, 3)]


def test_faults_and_shapes_reach_a_declared_kind(c: httpx.Client) -> None:
    c.delete("/_emulator/widgets")
    assert c.put("/_emulator/config", json={"rate_429": 1.0, "retry_after": 4}).status_code == 200
    r = c.post("/widgets/add-widget", json=model_body("Gadget"))
    assert r.status_code == 429 and r.headers["Retry-After"] == "4"
    changes = {"rate_429": 0.0, "response_shape": "documented", "mask_secrets": True}
    assert c.put("/_emulator/config", json=changes).status_code == 200
    widget = c.post("/widgets/add-widget", json=model_body("Gadget")).json()["data"]
    assert widget["model_config"]["apikeys"] == ["********"]
    assert widget["model_provider"] == "together" and "rate_per_min" not in widget["model_config"]
    assert not {"created_by", "updated_by", "is_sample"} & set(widget) and widget["widget_id"] >= 1
    assert c.get("/_emulator/stats").json()["faults"]["429"] >= 1


def test_openapi_documents_every_kind(url: str) -> None:
    doc = httpx.get(url + "/openapi.json").json()
    assert {"/widgets/add-widget", "/widgets/get-widget", "/widgets/list-widgets"} <= set(doc["paths"])
    assert "/models/add-model" in doc["paths"] and not any(p.startswith("/_emulator") for p in doc["paths"])
    get = doc["paths"]["/widgets/get-widget"]["get"]
    assert {p["name"] for p in get["parameters"]} == {"X-Enkrypt-Widget", "X-Enkrypt-Refresh-Cache"}
    assert get["operationId"] == "get_widget" and "404" in get["responses"]
    add = doc["paths"]["/widgets/add-widget"]["post"]
    assert add["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/WidgetRequestObject")
    assert add["responses"]["200"]["links"]["GetWidget"]["parameters"] == {
        "header.X-Enkrypt-Widget": "$response.body#/data/model_saved_name"
    }
    schemas = doc["components"]["schemas"]
    assert schemas["WidgetObject"]["required"][:2] == ["widget_id", "model_saved_name"]
    assert set(schemas["WidgetDeleted"]["properties"]) == {"widget_id", "project_name"}
    assert "widgets" in schemas["WidgetList"]["properties"]


def test_a_database_file_keeps_every_kind(tmp_path: Path) -> None:
    db = str(tmp_path / "two.db")
    config = ServerConfig(api_keys={SERVER_TESTS_KEY: "default"}, db=db, kinds=(MODEL, WIDGET))
    create_app(config).state.store.close()
    with closing(sqlite3.connect(db)) as conn:
        tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        columns = [row[1] for row in conn.execute("PRAGMA table_info(widgets)")]
    assert {"models", "widgets"} <= tables
    assert columns[:3] == ["widget_id", "project", "model_saved_name"]
