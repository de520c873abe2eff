"""The fault matrix: every lifecycle step (create, update, replace, a rename that adopts, refresh, delete) under every
fault the local server can inject (429 storms with Retry-After, 5xx, latency, "committed, then the connection
dropped", a per-minute limit), through the real Pulumi CLI.

Each case: state is set up without faults, the fault is switched on, the step runs. A run either succeeds or fails
with a clear message (Enkrypt's status and message, no secret), and is then run again, first with the fault still
on (and the default attempt budget), and only if that fails too after "the outage ended". At the end the server
holds exactly the declared objects of every kind, each once, and the state names exactly those, with the server's
ids. Each stack declares every kind: two models, a guardrails policy, a code-of-conduct policy, a guardrail naming
it and two deployments naming a model and the policy (through their outputs), so every step also updates, replaces,
adopts, refreshes and deletes the new kinds, in the order their references impose. Requests of the 429 and rpm
cases go through a recording proxy, which times every retry after a 429 against its Retry-After.

To fit the time budget the cases run in background threads from the start of the module, and each test
collects its result:
- for 429, 5xx, latency and drop, one chain per fault on its own server and stack: create -> update ->
  replace -> rename -> refresh -> delete, each step starting from the state the previous one left (and
  checked); the rename gives each resource a new Pulumi name with adopt_existing, as the export writes, so the
  new resource takes the object over and the old one's delete must leave it;
- for rpm, five independent cases (each waits out a real 60 s window), each on its own server, its state set
  up without faults by one `pulumi up`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from pulumi_enkrypt.client import EnkryptClient
from pulumi_enkrypt.kinds import COC_POLICY, DEPLOYMENT, POLICY
from pulumi_enkrypt.server.process import RunningServer, start_server
from support.cli import PulumiProject, output_of
from support.faults import (
    FIGURES,
    RecordingProxy,
    Stack,
    end_state_problems,
    new_project,
    retry_after_violations,
    rpm_window_violations,
    run,
    stack_spec,
    write_models,
)

API_KEY = "fault-matrix-key-5b2c"
STEPS = ("create", "update", "replace", "rename", "refresh", "delete")
FAULTS: dict[str, dict[str, Any]] = {
    # Certain to hit (fixed seeds), recoverable within the client's bounded retries.
    "429": {"rate_429": 0.5, "retry_after": 1, "seed": 429},
    "5xx": {"rate_5xx": 0.4, "seed": 500},
    "latency": {"latency_ms": 300, "seed": 1},
    "drop": {"rate_drop": 0.5, "seed": 7},
    "rpm": {"seed": 3},  # rpm_limit is set per step: just below what the step needs
}
FAULTS_OFF = {"latency_ms": 0, "rate_429": 0.0, "rate_5xx": 0.0, "rate_drop": 0.0, "rpm_limit": 0}
# Requests a step makes with the stack of _stack (7 objects), minus one: the last request must wait a window.
RPM_LIMITS = {"create": 6, "update": 6, "replace": 7, "rename": 20, "refresh": 11, "delete": 6}
# The first run under a fault uses a tight attempt budget, so that failing clearly and re-running is exercised
# too; re-runs use the default budget (6).
FIRST_RUN_ENV = {"429": {"ENKRYPTAI_MAX_ATTEMPTS": "2"}, "5xx": {"ENKRYPTAI_MAX_ATTEMPTS": "2"}}
PROXIED = frozenset({"429", "rpm"})

CLEAR_ERROR = re.compile(
    r"Enkrypt API: (GET|POST|PATCH|DELETE) /(models|guardrails|deployments|code-of-conduct)/[a-z-]+ "
    r"-> (\d{3} [A-Za-z ]+|failed): "
)
UNCONFIRMED = re.compile(r"could not confirm that (model|guardrails policy|guardrail|deployment|code-of-conduct)")


def _stack(fault: str, version: str = "v1", edit: str = "", policy: str = "") -> Stack:
    """Two models, two deployments naming them and one policy, a guardrail naming a code-of-conduct policy."""
    stack = stack_spec(fault, edit=edit, version=version)
    if policy:
        stack["policies"][0]["name"] = policy
    return stack


def _assert_clear_failure(result: Any, secrets: list[str]) -> None:
    text = output_of(result)
    assert CLEAR_ERROR.search(text) or UNCONFIRMED.search(text), (
        "a failed run must say which Enkrypt call failed and how:\n" + text
    )
    for secret in secrets:
        assert secret not in text, "a secret appears in the CLI output"


def _run_until_ok(
    project: PulumiProject,
    server: RunningServer,
    verb: str,
    fault: str,
    secrets: list[str],
    log: list[str],
    run_starts: list[float],
) -> None:
    """Run once with the first-run budget; on failure (clear message asserted) again with the fault still on;
    on a second failure once more after switching the fault off. The last run must succeed."""
    run_starts.append(time.monotonic())
    first = run(project, verb, env=FIRST_RUN_ENV.get(fault))
    if first.returncode == 0:
        log.append(f"{verb}: ok")
        return
    _assert_clear_failure(first, secrets)
    FIGURES.bump("failed_runs")
    run_starts.append(time.monotonic())
    second = run(project, verb)
    if second.returncode == 0:
        log.append(f"{verb}: failed clearly, ok on re-run with the fault on")
        return
    _assert_clear_failure(second, secrets)
    FIGURES.bump("failed_runs")
    server.admin_config(**FAULTS_OFF)
    run_starts.append(time.monotonic())
    third = run(project, verb)
    assert third.returncode == 0, f"`pulumi {verb}` still fails after the fault ended:\n{output_of(third)}"
    log.append(f"{verb}: failed clearly twice, ok once the fault ended")


@dataclass
class Cell:
    """One running stack against one server; ``declared`` is what the program declares now."""

    project: PulumiProject
    server: RunningServer
    fault: str
    declared: Stack
    proxy: RecordingProxy | None = None
    secrets: list[str] = field(default_factory=list)
    run_starts: list[float] = field(default_factory=list)  # when each CLI run under a fault began


def _declare(cell: Cell, stack: Stack) -> None:
    cell.declared = stack
    cell.secrets += [f"sk-{m['name']}" for m in stack.get("models", [])]
    write_models(cell.project, stack)


def _renamed(stack: Stack) -> Stack:
    """Every resource under a new Pulumi name, taking its object over (adopt_existing), as the export writes
    it; what names another resource follows its new name."""
    out: Stack = {}
    for section, specs in stack.items():
        out[section] = []
        for spec in specs:
            spec = {**spec, "resource": spec["resource"] + "-renamed", "adopt": True}
            for ref in ("model", "policy", "coc"):
                if ref in spec:
                    spec[ref] += "-renamed"
            out[section].append(spec)
    return out


def apply_step(cell: Cell, step: str) -> dict[str, Any]:
    """Change the program (or the server, out of band) as the step needs, switch the fault on, run the step
    until it succeeds, switch the fault off, then check the end state and the proxy's timings."""
    began = time.monotonic()
    fault, server, log = cell.fault, cell.server, []
    verbs = ["up"]
    if step == "create":
        _declare(cell, _stack(fault))
    elif step == "update":  # one modify of every object
        _declare(cell, _stack(fault, edit=" Answer in one sentence."))
    elif step == "replace":  # models replaced (new version), the policy too (new name): deployments modified
        _declare(cell, _stack(fault, version="v2", edit=" Answer in one sentence.", policy=f"{fault}-policy-2"))
    elif step == "rename":
        _declare(cell, _renamed(cell.declared))
    elif step == "refresh":
        # Out of band: a model, a deployment and the code-of-conduct policy deleted, the other model and the
        # policy changed; refresh must see all of it, up restore it.
        first, second = cell.declared["models"]
        with EnkryptClient(server.url, API_KEY) as api:
            api.delete_model(first["name"], first["version"])
            body = api.get_model(second["name"], second["version"])
            changed = {k: body[k] for k in ("model_saved_name", "model_version", "model_config")}
            changed["model_config"] = {**changed["model_config"], "system_prompt": "edited in the console"}
            api.modify_model(second["name"], second["version"], changed)
            api.delete(DEPLOYMENT, (cell.declared["deployments"][0]["name"],))
            api.delete(COC_POLICY, (cell.declared["coc_policies"][0]["name"],))
            policy = cell.declared["policies"][0]["name"]
            held = api.get(POLICY, (policy,))
            api.modify(POLICY, (policy,), {"name": policy, "description": "edited", "detectors": held["detectors"]})
        verbs = ["refresh", "up"]
    elif step == "delete":
        cell.declared = {}
        verbs = ["destroy"]
    server.reset_stats()
    settings = dict(FAULTS[fault])
    if fault == "rpm":
        settings["rpm_limit"] = RPM_LIMITS[step]
    server.admin_config(**settings)
    fault_on = time.monotonic()
    for verb in verbs:
        _run_until_ok(cell.project, server, verb, fault, cell.secrets, log, cell.run_starts)
    server.admin_config(**FAULTS_OFF)
    stats = server.stats()
    FIGURES.add_faults(stats["faults"])
    injected = stats["faults"][fault]
    assert injected > 0, f"the {fault} fault never fired: {stats}"

    if step != "delete":
        preview = run(cell.project, "preview", "--expect-no-changes")
        assert preview.returncode == 0, "state and program differ after recovery:\n" + output_of(preview)
    problems = end_state_problems(server, cell.project, cell.declared, API_KEY)
    assert problems == [], "end state differs:\n" + "\n".join(problems)

    if cell.proxy is not None:
        exchanges = [e for e in cell.proxy.api_exchanges() if e.sent >= fault_on]
        checks, bad = retry_after_violations(exchanges, cell.run_starts)
        FIGURES.bump("retry_after_checks", checks)
        FIGURES.bump("retry_after_violations", len(bad))
        assert bad == [], bad
        assert checks > 0, "no 429 with Retry-After was followed by a retry"
        if fault == "rpm":
            window_bad = rpm_window_violations(exchanges, RPM_LIMITS[step])
            FIGURES.bump("rpm_window_violations", len(window_bad))
            assert window_bad == [], window_bad
    FIGURES.bump("cases")
    seconds = round(time.monotonic() - began, 1)  # printed: where the matrix's time goes
    return {"step": step, "fault": fault, "seconds": seconds, "log": log, "faults": stats["faults"]}


def _open_cell(tmp: Path, fault: str) -> tuple[Cell, list[Any]]:
    server = start_server(str(tmp / "enkrypt.sqlite"), [API_KEY])
    proxy = RecordingProxy(server.url) if fault in PROXIED else None
    project = new_project(tmp, proxy.url if proxy else server.url, API_KEY, [])
    cell = Cell(project, server, fault, [], proxy, [API_KEY])
    return cell, [c for c in (proxy, server) if c is not None]


def run_chain(tmp: Path, fault: str) -> dict[str, Future[dict[str, Any]]]:
    """create -> update -> replace -> refresh -> delete on one stack; a step after a failed one fails too."""
    results: dict[str, Future[dict[str, Any]]] = {step: Future() for step in STEPS}
    closers: list[Any] = []
    try:
        cell, closers = _open_cell(tmp, fault)
        failed: str | None = None
        for step in STEPS:
            if failed:
                results[step].set_exception(AssertionError(f"not run: the {failed} step before it failed"))
                continue
            try:
                results[step].set_result(apply_step(cell, step))
            except BaseException as exc:  # reported by the step's test
                failed = step
                results[step].set_exception(exc)
    except BaseException as exc:
        for future in results.values():
            if not future.done():
                future.set_exception(exc)
    finally:
        for closer in closers:
            closer.close() if isinstance(closer, RecordingProxy) else closer.stop()
    return results


def run_rpm_case(tmp: Path, step: str) -> dict[str, Any]:
    """One rpm cell: the state before the step is made without faults by one `pulumi up`."""
    cell, closers = _open_cell(tmp, "rpm")
    try:
        if step != "create":
            _declare(cell, _stack("rpm"))
            setup = run(cell.project, "up")
            assert setup.returncode == 0, output_of(setup)
        return apply_step(cell, step)
    finally:
        for closer in closers:
            closer.close() if isinstance(closer, RecordingProxy) else closer.stop()


@pytest.fixture(scope="module", autouse=True)
def matrix(pulumi_cli: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[tuple[str, str], Any]]:
    """Start every cell at once: one worker per chain, one per rpm case (they
    mostly wait). Maps (step, fault) to a Future of the cell's result."""
    chains = ThreadPoolExecutor(max_workers=4, thread_name_prefix="chain")
    waits = ThreadPoolExecutor(max_workers=len(STEPS), thread_name_prefix="rpm")
    cells: dict[tuple[str, str], Any] = {}
    chain_futures = {
        fault: chains.submit(run_chain, tmp_path_factory.mktemp(f"chain-{fault}"), fault)
        for fault in FAULTS
        if fault != "rpm"
    }
    for step in STEPS:
        cells[(step, "rpm")] = waits.submit(run_rpm_case, tmp_path_factory.mktemp(f"rpm-{step}"), step)
    for fault, future in chain_futures.items():
        for step in STEPS:
            cells[(step, fault)] = (future, step)
    yield cells
    chains.shutdown(wait=True, cancel_futures=True)
    waits.shutdown(wait=True, cancel_futures=True)


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("step", STEPS)
def test_step_under_fault(matrix: dict[tuple[str, str], Any], step: str, fault: str) -> None:
    cell = matrix[(step, fault)]
    if isinstance(cell, tuple):  # (future of a chain, step)
        chain, step = cell
        result = chain.result(timeout=900)[step].result()
    else:
        result = cell.result(timeout=900)
    print(result)
