"""Durable and safe under load: restarts keep everything; parallel writes lose nothing, duplicate nothing."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx

from pulumi_enkrypt.server.process import RunningServer, start_server

from server_helpers import KEY, ident, make_body


def _post(server: RunningServer, name: str) -> int:
    with server.client() as c:
        return c.post("/models/add-model", json=make_body(name)).status_code


def test_restart_keeps_everything(db_path: str) -> None:
    with start_server(db_path, [KEY], ["--samples", "1"]) as server:
        with server.client() as c:
            for name in ("A", "B", "C"):
                assert c.post("/models/add-model", json=make_body(name)).status_code == 200
            assert c.patch("/models/modify-model", json=make_body("B", "v2"), headers=ident("B")).status_code == 200
            assert c.delete("/models/delete-model", headers=ident("C")).status_code == 200
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
            new_id = c.post("/models/add-model", json=make_body("D")).json()["data"]["model_id"]
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
            body = make_body(name, system_prompt=f"prompt of {name}")
            return c.patch("/models/modify-model", json=body, headers=ident(name)).status_code

    def rename_onto_target(name: str) -> int:
        with server.client() as c:
            return c.patch("/models/modify-model", json=make_body("Target"), headers=ident(name)).status_code

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
