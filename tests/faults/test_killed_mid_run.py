"""SIGKILL the CLI in the middle of an `up` of many models, then recover with the one sequence docs/guide.md
documents, with no edit to the program:

    pulumi cancel                                  # only if the CLI says the killed run left its lock
    pulumi refresh --clear-pending-creates --yes
    ENKRYPTAI_ADOPT_EXISTING=true pulumi up --yes  # or once with `-c enkrypt:adoptExisting=true`

Creates in flight at the kill were committed by the server (the request had left) but never recorded in
state: the engine keeps them as *pending creates*. Clearing them and running `up` once with the stack-wide
adopt setting takes those models over instead of failing with 409. The server must then hold exactly the
declared models, each once, a `preview --expect-no-changes` must pass, and `destroy` must leave nothing.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from pulumi_enkrypt.server.process import RunningServer, start_server
from support.cli import output_of
from support.faults import FIGURES, end_state_problems, model_resources, model_spec, new_project, run

API_KEY = "kill-test-key-8e41"
MODELS = 30


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
        # 2. Forget the creates the engine never saw finish: the models they made are adopted next.
        cleared = run(project, "refresh", "--clear-pending-creates")
        assert cleared.returncode == 0, output_of(cleared)
        steps.append("refresh --clear-pending-creates")
        # 3. One `up` that adopts whatever an interrupted run made: no 409, no duplicate.
        up = run(project, "up", env={"ENKRYPTAI_ADOPT_EXISTING": "true"})
        assert up.returncode == 0, output_of(up)
        steps.append("ENKRYPTAI_ADOPT_EXISTING=true up")
        _, deployment = model_resources(project)
        assert not deployment.get("pending_operations")

        preview = run(project, "preview", "--expect-no-changes")
        assert preview.returncode == 0, output_of(preview)
        problems = end_state_problems(server, project, declared, API_KEY)
        assert problems == [], "end state differs:\n" + "\n".join(problems)
        FIGURES.add_faults(server.stats()["faults"])
        FIGURES.bump("cases")
        FIGURES.note("kill test recovery: " + " -> ".join(steps))
        destroyed = run(project, "destroy")
        assert destroyed.returncode == 0, output_of(destroyed)
        assert server.models() == [], "destroy after the recovery left models behind"
