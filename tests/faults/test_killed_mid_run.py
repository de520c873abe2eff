"""SIGKILL the CLI in the middle of an `up` of many objects of every kind (models, and deployments naming them and
guardrails policies, a guardrail, a code-of-conduct policy), then recover with the one sequence docs/guide.md
documents, with no edit to the program:

    pulumi cancel                                  # only if the CLI says the killed run left its lock
    pulumi refresh --clear-pending-creates --yes
    ENKRYPTAI_ADOPT_EXISTING=true pulumi up --yes  # or once with `-c enkrypt:adoptExisting=true`

Creates in flight at the kill were committed by the server (the request had left) but never recorded in state: the
engine keeps them as *pending creates*. Clearing them and running `up` once with the stack-wide adopt setting takes
those objects over, whatever their kind, instead of failing with 409. The server must then hold exactly the
declared objects of every kind, each once, a `preview --expect-no-changes` must pass, and `destroy` must leave
nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from pulumi_enkrypt.kinds import ALL_KINDS, DEPLOYMENT
from pulumi_enkrypt.server.process import RunningServer, start_server
from support.cli import output_of
from support.faults import FIGURES, end_state_problems, model_resources, new_project, run, stack_spec

API_KEY = "kill-test-key-8e41"
MODELS = 30
DEPLOYMENTS = 30  # deployment i names model i and one of POLICIES: created after both, so in flight at the kill
POLICIES = 5


def _counts(server: RunningServer) -> dict[str, int]:
    return {kind.name: len(server.objects(kind)) for kind in ALL_KINDS}


def _wait_for(server: RunningServer, low: int, high: int, proc: subprocess.Popen[str], timeout: float = 120) -> int:
    """Wait until the server has received between low and high deployment creates (the kind the engine creates
    last: every other kind has been created or is in flight by then). The server's counters are read through
    its admin path, which the added latency does not slow down, so the kill lands mid-run."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        n = server.stats()["requests"].get(f"POST {DEPLOYMENT.api.add}", 0)
        if low <= n < high:
            return n
        assert proc.poll() is None, "`pulumi up` finished before it could be killed"
        time.sleep(0.05)
    raise AssertionError(f"the server never held between {low} and {high} deployments")


def test_killed_up_recovers_to_exactly_the_declared_objects(pulumi_cli: Path, tmp_path: Path) -> None:
    with start_server(str(tmp_path / "enkrypt.sqlite"), [API_KEY]) as server:
        declared = stack_spec("killed", models=MODELS, deployments=DEPLOYMENTS, policies=POLICIES)
        total = sum(len(specs) for specs in declared.values())
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
            at_kill = _wait_for(server, 3, DEPLOYMENTS - 6, proc)
        finally:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        time.sleep(1.5)  # requests already received finish (latency) and commit
        server.admin_config(latency_ms=0)
        held = _counts(server)
        after_kill = sum(held.values())
        time.sleep(0.5)
        assert sum(_counts(server).values()) == after_kill, "something still creates objects after the kill"
        assert after_kill < total
        _, deployment = model_resources(project)
        types = {kind.type_token for kind in ALL_KINDS}
        recorded = [r for r in deployment.get("resources") or [] if r["type"] in types]
        pending = [op for op in deployment.get("pending_operations") or [] if op["type"] == "creating"]
        # Created on the server but not recorded in state, per kind: what the recovery must adopt.
        orphans = {
            kind.name: held[kind.name] - sum(r["type"] == kind.type_token for r in recorded)
            for kind in ALL_KINDS
            if held[kind.name] > sum(r["type"] == kind.type_token for r in recorded)
        }
        FIGURES.note(
            f"kill test: killed after {at_kill} of {DEPLOYMENTS} deployment creates were sent; {after_kill} of "
            f"{total} objects on the server once in-flight requests landed, {len(recorded)} in state, "
            f"{len(pending)} pending creates, created but not recorded: {orphans}"
        )
        # The deployment creates seen by the server just before the kill were still waiting out its latency:
        # committed, never answered. Adopting them is what this test is about for the new kinds.
        assert orphans.get(DEPLOYMENT.name, 0) >= 1, f"the kill left no deployment to adopt: {orphans}"

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
        assert _counts(server) == dict.fromkeys(held, 0), "destroy after the recovery left objects behind"
