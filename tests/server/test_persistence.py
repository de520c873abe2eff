"""Durable and safe under load: restarts keep everything; parallel writes lose nothing, duplicate nothing."""

from __future__ import annotations

import json
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path

import httpx

from pulumi_enkrypt.server.process import RunningServer, start_server
from support.bodies import model_body
from support.server import SERVER_TESTS_KEY, identity_headers


def _post(server: RunningServer, name: str) -> int:
    with server.client() as c:
        return c.post("/models/add-model", json=model_body(name)).status_code


def test_restart_keeps_everything(db_path: str) -> None:
    with start_server(db_path, [SERVER_TESTS_KEY], ["--samples", "1"]) as server:
        with server.client() as c:
            for name in ("A", "B", "C"):
                assert c.post("/models/add-model", json=model_body(name)).status_code == 200
            assert (
                c.patch("/models/modify-model", json=model_body("B", "v2"), headers=identity_headers("B")).status_code
                == 200
            )
            assert c.delete("/models/delete-model", headers=identity_headers("C")).status_code == 200
        before = server.models()
        port = server.port

        server.restart()  # graceful
        assert server.port == port
        assert server.models() == before

        server.restart(hard=True)  # SIGKILL, as a crash
        assert server.models() == before
        # --samples on an existing file does not duplicate them; ids keep growing
        assert sum(m["is_sample"] for m in before) == 1
        with server.client() as c:
            new_id = c.post("/models/add-model", json=model_body("D")).json()["data"]["model_id"]
        assert new_id > max(m["model_id"] for m in before)


def test_40_parallel_adds_all_land(server: RunningServer) -> None:
    names = [f"Parallel {i}" for i in range(40)]
    with ThreadPoolExecutor(max_workers=40) as pool:
        statuses = list(pool.map(lambda n: _post(server, n), names))
    assert statuses == [200] * 40
    models = server.models()
    assert sorted(m["model_saved_name"] for m in models) == sorted(names)
    assert len({m["model_id"] for m in models}) == 40


def test_parallel_duplicates_make_one_model(server: RunningServer) -> None:
    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(lambda _: _post(server, "Same"), range(20)))
    assert sorted(statuses) == [200] + [409] * 19
    assert [m["model_saved_name"] for m in server.models()] == ["Same"]


def test_parallel_modifies_lose_nothing(server: RunningServer) -> None:
    names = [f"M{i}" for i in range(20)]
    for name in names:
        assert _post(server, name) == 200

    def modify(name: str) -> int:
        with server.client() as c:
            body = model_body(name, model_config={"system_prompt": f"prompt of {name}"})
            return c.patch("/models/modify-model", json=body, headers=identity_headers(name)).status_code

    def rename_onto_target(name: str) -> int:
        with server.client() as c:
            return c.patch(
                "/models/modify-model", json=model_body("Target"), headers=identity_headers(name)
            ).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        assert list(pool.map(modify, names)) == [200] * 20
        renames = list(pool.map(rename_onto_target, names[:10]))
    assert sorted(renames) == [200] + [409] * 9  # exactly one model may become "Target"
    models = server.models()
    assert len(models) == 20
    prompts = {m["model_saved_name"]: m["model_config"]["system_prompt"] for m in models}
    assert "Target" in prompts
    for name in names[10:]:
        assert prompts[name] == f"prompt of {name}"


def test_memory_db_and_generated_key() -> None:
    with start_server(":memory:", []) as server:
        assert server.api_key.startswith("ek-")
        assert _post(server, "X") == 200
        assert httpx.get(server.url + "/models/list-models", headers={"apikey": "nope"}).status_code == 401
        assert [m["model_saved_name"] for m in server.models()] == ["X"]


# The model table exactly as the previous release (ba90007, pulumi_enkrypt/server/store.py) created it: files
# made by it are kept across upgrades (README: --db), so the server must serve them as they are.
PREVIOUS_RELEASE_DDL = """
CREATE TABLE IF NOT EXISTS models (
    model_id INTEGER PRIMARY KEY AUTOINCREMENT,
    project TEXT NOT NULL,
    model_saved_name TEXT NOT NULL,
    model_version TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    is_sample INTEGER NOT NULL DEFAULT 0,
    UNIQUE (project, model_saved_name, model_version)
);
"""


def _models_table(path: str) -> tuple[str, list[tuple[object, ...]], list[tuple[object, ...]]]:
    """The model table's DDL, columns and indexes as SQLite records them."""
    with closing(sqlite3.connect(path)) as db:
        (ddl,) = db.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'models'").fetchone()
        columns = db.execute("PRAGMA table_info(models)").fetchall()
        indexes = [
            tuple(db.execute(f"PRAGMA index_info('{i[1]}')").fetchall())
            for i in db.execute("PRAGMA index_list(models)")
        ]
    return ddl, columns, indexes


def test_a_database_of_the_previous_release_serves_its_models(db_path: str) -> None:
    old = model_body("Old Model")
    stamp = "2025-06-01T10:00:00.000001+00:00"
    with closing(sqlite3.connect(db_path)) as db, db:
        db.executescript(PREVIOUS_RELEASE_DDL)
        db.execute(
            "INSERT INTO models (project, model_saved_name, model_version, body, created_at, updated_at,"
            " created_by, updated_by, is_sample) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            ("default", "Old Model", "v1", json.dumps(old), stamp, stamp, "user-0123456789ab", "user-0123456789ab", 0),
        )
    before = _models_table(db_path)

    with start_server(db_path, [SERVER_TESTS_KEY]) as server, server.client() as c:
        got = c.get("/models/get-model", headers=identity_headers("Old Model"))
        assert got.status_code == 200, got.text
        model = got.json()
        assert model["model_id"] == 1 and model["created_at"] == stamp and model["created_by"] == "user-0123456789ab"
        assert model["model_config"] == old["model_config"] and model["is_sample"] is False
        assert c.post("/models/add-model", json=model_body("Old Model")).status_code == 409

        new = c.post("/models/add-model", json=model_body("New Model")).json()["data"]
        assert new["model_id"] == 2
        r = c.patch(
            "/models/modify-model",
            json=model_body("Old Model", model_config={"system_prompt": "Be brief."}),
            headers=identity_headers("Old Model"),
        )
        assert r.status_code == 200 and r.json()["data"]["created_at"] == stamp
        assert r.json()["data"]["updated_at"] > stamp
        assert c.delete("/models/delete-model", headers=identity_headers("Old Model")).status_code == 200
        assert [m["model_saved_name"] for m in server.models()] == ["New Model"]

    assert _models_table(db_path) == before  # served as it was: no migration


def test_a_new_database_has_the_previous_release_model_table(db_path: str, tmp_path: Path) -> None:
    with start_server(db_path, [SERVER_TESTS_KEY]) as server:
        assert _post(server, "A") == 200
    previous = str(tmp_path / "previous.db")
    with closing(sqlite3.connect(previous)) as db:
        db.executescript(PREVIOUS_RELEASE_DDL)
    assert _models_table(db_path) == _models_table(previous)
