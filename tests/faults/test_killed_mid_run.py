"""SIGKILL the CLI in the middle of an `up` of many models, then recover as a user would, following what the
CLI and the provider say: `pulumi cancel` (the file backend keeps the lock of a killed run), `pulumi refresh`,
`pulumi up`; where `up` answers 409 "already has a model ... Set adopt_existing=True", set it on exactly those
resources and run `up` again. The server must end with exactly the declared models, each once, and a
following `preview --expect-no-changes` must pass.

Why the 409 step exists: creates in flight at the kill were committed by the server (the request had left)
but never recorded in state. They stay as *pending creates*; a non-interactive refresh leaves them, `up`
creates them again and the provider, which only takes an identical model as its own after a write whose
outcome it did not see *in the same call*, refuses with 409 and points to adopt_existing.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

from pulumi_enkrypt.server.process import RunningServer, start_server

from fault_helpers import (
    FIGURES,
    assert_end_state,
    model_resources,
    model_spec,
    new_project,
    output_of,
    run,
    write_models,
)

API_KEY = "kill-test-key-8e41"
MODELS = 30
CONFLICT = re.compile(r"already has a model named '([^']+)' version '([^']+)'")


def _wait_for(server: RunningServer, low: int, high: int, proc: subprocess.Popen[str], timeout: float = 120) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        n = len(server.models())
        if low <= n < high:
            return n
        assert proc.poll() is None, "`pulumi up` finished before it could be killed"
        time.sleep(0.05)
    raise AssertionError(f"the server never held between {low} and {high} models")


def test_killed_up_recovers_to_exactly_the_declared_models(pulumi_cli: Path, tmp_path: Path) -> None:
    with start_server(str(tmp_path / "enkrypt.sqlite"), [API_KEY]) as server:
        declared = [model_spec(f"m{i:02d}", f"killed-{i:02d}") for i in range(MODELS)]
        project = new_project(tmp_path, server.url, API_KEY, declared)
        server.admin_config(latency_ms=400)  # ~4 creates at a time: `up` takes several seconds

        cmd = [str(project.bin_dir / "pulumi"), "up", "--yes", "--skip-preview", "--non-interactive"]
        proc = subprocess.Popen(
            [*cmd, "--stack", project.stack],
            cwd=project.dir,
            env=project.env,
            start_new_session=True,  # its own process group: the language host and provider host die with it
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        FIGURES.bump("cli_runs")
        try:
            at_kill = _wait_for(server, 6, MODELS - 6, proc)
        finally:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        time.sleep(1.5)  # requests already received finish (latency) and commit
        server.admin_config(latency_ms=0)
        after_kill = len(server.models())
        time.sleep(0.5)
        assert len(server.models()) == after_kill, "something still creates models after the kill"
        assert after_kill < MODELS
        resources, deployment = model_resources(project)
        pending = [op for op in deployment.get("pending_operations") or [] if op["type"] == "creating"]
        orphans = after_kill - len(resources)
        FIGURES.note(
            f"kill test: killed with {at_kill} models on the server, {after_kill} after in-flight requests "
            f"landed, {len(resources)} in state, {len(pending)} pending creates, {orphans} created but not recorded"
        )

        steps: list[str] = []
        # 1. The killed run left its lock: the CLI says to run `pulumi cancel`.
        first = run(project, "up")
        if first.returncode != 0 and "pulumi cancel" in output_of(first):
            FIGURES.bump("failed_runs")
            project.cancel()
            FIGURES.bump("cli_runs")
            steps.append("cancel")
        # 2. refresh, then up.
        refreshed = run(project, "refresh")
        assert refreshed.returncode == 0, output_of(refreshed)
        steps.append("refresh")
        up = run(project, "up")
        steps.append("up")
        adopted: set[tuple[str, str]] = set()
        rounds = 0
        while up.returncode != 0:
            # 3. The provider's advice for models that exist but are not in state: adopt_existing=True. `up`
            # stops at the first errors, so the user may meet further ones on the next run: repeat.
            text = output_of(up)
            conflicts = {(name, version) for name, version in CONFLICT.findall(text)} - adopted
            assert conflicts, "`pulumi up` after the kill failed, but not with the documented 409:\n" + text
            assert "Set adopt_existing=True" in text
            assert rounds < 5, "still failing after 5 rounds of adopt_existing"
            rounds += 1
            FIGURES.bump("failed_runs")
            adopted |= conflicts
            declared = [{**m, "adopt": True} if (m["name"], m["version"]) in adopted else m for m in declared]
            write_models(project, declared)
            up = run(project, "up")
            steps.append(f"adopt_existing on {len(conflicts)} more + up")
        if adopted:
            FIGURES.note(
                f"kill test: `up` after cancel+refresh hit 409 for {len(adopted)} model(s) created before the kill "
                f"but never recorded; recovered by setting adopt_existing=True on them, {rounds} round(s) (finding)"
            )
        _, deployment = model_resources(project)
        if deployment.get("pending_operations"):
            cleared = run(project, "refresh", "--clear-pending-creates")
            assert cleared.returncode == 0, output_of(cleared)
            steps.append("refresh --clear-pending-creates")

        preview = run(project, "preview", "--expect-no-changes")
        assert preview.returncode == 0, output_of(preview)
        assert_end_state(server, project, declared, API_KEY)
        FIGURES.add_faults(server.stats()["faults"])
        FIGURES.bump("cases")
        FIGURES.note("kill test recovery: " + " -> ".join(steps))
        print(steps)
