"""Shared pieces of the fault tests: the session's figures, a program of every kind driven by a JSON file, what is
wrong with the end state (server == declared == state, kind by kind), and a loopback recording proxy with checks of
its timings.

The checks return what they found (a list of problems or violations); the test that calls them asserts."""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from pulumi_enkrypt.kinds import ALL_KINDS, COC_POLICY, DEPLOYMENT, GUARDRAIL, MODEL, POLICY, Kind
from pulumi_enkrypt.server.faults import FAULT_KINDS
from pulumi_enkrypt.server.process import RunningServer
from support.cli import MODEL_TYPE, PulumiProject, Result

# ----------------------------------------------------------------------------------------------- figures


@dataclass
class Figures:
    """What the fault tests measured, printed at the end of the session (see conftest.py)."""

    faults: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FAULT_KINDS, 0))
    cases: int = 0  # matrix cases, kill runs, hygiene scenarios finished
    cli_runs: int = 0  # pulumi commands run by these tests
    failed_runs: int = 0  # pulumi runs that failed (clear message asserted) before a successful re-run
    final_checks: int = 0  # end-state comparisons made
    final_mismatches: int = 0  # models missing, duplicated or orphaned, or state != server
    retry_after_checks: int = 0  # 429 answers after which the next attempt of the same call was timed
    retry_after_violations: int = 0
    rpm_window_violations: int = 0  # accepted requests above rpm_limit within 60 s
    inputs_generated: dict[str, int] = field(default_factory=dict)
    requests_sent_by_check: int = 0
    secret_places_searched: int = 0
    secrets_found: int = 0
    notes: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add_faults(self, faults: Mapping[str, int]) -> None:
        with self._lock:
            for kind, n in faults.items():
                self.faults[kind] = self.faults.get(kind, 0) + int(n)

    def bump(self, name: str, n: int = 1) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + n)

    def add_inputs(self, kind: str, n: int = 1) -> None:
        with self._lock:
            self.inputs_generated[kind] = self.inputs_generated.get(kind, 0) + n

    def note(self, text: str) -> None:
        with self._lock:
            self.notes.append(text)


FIGURES = Figures()


def counted(result: Result) -> Result:
    FIGURES.bump("cli_runs")
    return result


# ----------------------------------------------------------------------------------------------- program

# Every kind, driven by stack.json: {"models": [...], "coc_policies": [...], "policies": [...], "guardrails":
# [...], "deployments": [...]}. A guardrail names its code-of-conduct policy and a deployment its model and
# policy through their outputs, as users write it, so the engine orders creates and deletes by references.
PROGRAM = """
import json

from pulumi_enkrypt import CodeOfConductPolicy, Deployment, Guardrail, GuardrailsPolicy, Model

stack = json.load(open("stack.json"))
models, policies, cocs = {}, {}, {}
for m in stack.get("models", []):
    config = {
        "model_provider": "openai",
        "hosting_type": "External",
        "endpoint": {"scheme": "https", "host": "api.example.test", "port": 443, "base_path": "/v1"},
        "paths": {"chat": "/chat/completions"},
        "apikeys": ["sk-" + m["name"]],
        "rate_per_min": 20,
        "system_prompt": m.get("prompt", ""),
    }
    models[m["resource"]] = Model(
        m["resource"],
        model_saved_name=m["name"],
        model_version=m["version"],
        testing_for="chatbotsAndCopilots",
        model_config=config,
        adopt_existing=m.get("adopt"),
    )
for c in stack.get("coc_policies", []):
    cocs[c["resource"]] = CodeOfConductPolicy(
        c["resource"], name=c["name"], rules=c["rules"], policy_text=c["text"], adopt_existing=c.get("adopt")
    )
for p in stack.get("policies", []):
    policies[p["resource"]] = GuardrailsPolicy(
        p["resource"],
        name=p["name"],
        description=p["description"],
        detectors={"injection_attack": {"enabled": True}, "pii": {"enabled": True, "entities": ["pii", "secrets"]}},
        adopt_existing=p.get("adopt"),
    )
for g in stack.get("guardrails", []):
    Guardrail(
        g["resource"],
        name=g["name"],
        description=g["description"],
        input={
            "injection_attack": {"enabled": True},
            "policy_violation": {"enabled": True, "coc_policy_name": cocs[g["coc"]].name, "need_explanation": True},
        },
        output={"nsfw": {"enabled": True}},
        adopt_existing=g.get("adopt"),
    )
for d in stack.get("deployments", []):
    model, policy = models[d["model"]], policies[d["policy"]]
    Deployment(
        d["resource"],
        name=d["name"],
        model_saved_name=model.model_saved_name,
        model_version=model.model_version,
        input_guardrails_policy={
            "policy_name": policy.name, "enabled": True, "block": d["block"],
            "additional_config": {"pii_redaction": False},
        },
        output_guardrails_policy={
            "policy_name": policy.name, "enabled": True, "block": ["nsfw"],
            "additional_config": {"hallucination": False, "adherence": False, "relevancy": False},
        },
        adopt_existing=d.get("adopt"),
    )
"""

# The key of each kind's list in stack.json.
SECTIONS: dict[str, str] = {
    MODEL.name: "models",
    POLICY.name: "policies",
    GUARDRAIL.name: "guardrails",
    COC_POLICY.name: "coc_policies",
    DEPLOYMENT.name: "deployments",
}
assert set(SECTIONS) == {k.name for k in ALL_KINDS}, "a kind the fault program does not declare"

Stack = dict[str, list[dict[str, Any]]]
"""What a fault program declares: kind section ("models", ...) -> specs (a "resource" name, the identity, ...)."""


def model_spec(resource: str, name: str, version: str = "v1", prompt: str = "", adopt: bool | None = None) -> dict:
    spec: dict[str, Any] = {"resource": resource, "name": name, "version": version, "prompt": prompt}
    if adopt is not None:
        spec["adopt"] = adopt
    return spec


def stack_spec(
    prefix: str, models: int = 2, deployments: int = 2, edit: str = "", version: str = "v1", policies: int = 1
) -> Stack:
    """``models`` models and, around them, one code-of-conduct policy, ``policies`` guardrails policies, one
    guardrail naming the code-of-conduct policy and ``deployments`` deployments, deployment i naming model
    i % models and policy i % policies. ``edit`` is a text every kind carries in an updatable field (an update
    changes every kind at once)."""
    return {
        "models": [model_spec(f"m{i}", f"{prefix}-{i}", version, edit) for i in range(models)],
        "coc_policies": [
            {
                "resource": "coc",
                "name": f"{prefix}-coc",
                "rules": ["Be polite.", f"Never promise refunds.{edit}"],
                "text": edit,
            }
        ],
        "policies": [
            {
                "resource": "policy" if j == 0 else f"policy{j}",
                "name": f"{prefix}-policy" + (f"-{j}" if j else ""),
                "description": edit,
            }
            for j in range(policies)
        ],
        "guardrails": [{"resource": "guard", "name": f"{prefix}-guard", "description": edit, "coc": "coc"}],
        "deployments": [
            {
                "resource": f"d{i}",
                "name": f"{prefix}-deploy-{i}",
                "model": f"m{i % models}",
                "policy": "policy" if i % policies == 0 else f"policy{i % policies}",
                "block": ["injection_attack", "pii"] if edit else ["injection_attack"],
            }
            for i in range(deployments)
        ],
    }


def as_stack(declared: Stack | Iterable[Mapping[str, Any]]) -> Stack:
    """A list of model specs (what the older tests declare) is a stack of models only."""
    if isinstance(declared, Mapping):
        return {section: [dict(s) for s in declared.get(section, [])] for section in SECTIONS.values()}
    return {"models": [dict(m) for m in declared]}


def write_models(project: PulumiProject, declared: Stack | Iterable[Mapping[str, Any]]) -> None:
    (project.dir / "stack.json").write_text(json.dumps(as_stack(declared), indent=1))


def new_project(
    tmp: Path, server_url: str, api_key: str, declared: Stack | Iterable[Mapping[str, Any]], **env: str
) -> PulumiProject:
    """A project whose credentials come from the environment (no `config set` commands: each costs a CLI run)."""
    project = PulumiProject(
        tmp,
        PROGRAM,
        env={"ENKRYPTAI_API_KEY": api_key, "ENKRYPTAI_BASE_URL": server_url, **env},
    )
    FIGURES.bump("cli_runs")  # stack init
    write_models(project, declared)
    return project


def run(project: PulumiProject, verb: str, *args: str, env: Mapping[str, str] | None = None) -> Result:
    """`up`/`refresh`/`destroy`/`preview` with check=False, optionally with extra environment for this run."""
    commands = {"up": project.up, "refresh": project.refresh, "destroy": project.destroy, "preview": project.preview}
    if verb not in commands:
        raise ValueError(verb)
    saved = dict(project.env)
    project.env.update(env or {})
    try:
        result = commands[verb](*args, check=False)
    finally:
        project.env.clear()
        project.env.update(saved)
    return counted(result)


# ----------------------------------------------------------------------------------------------- end state


def model_resources(project: PulumiProject) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The state's Model resources, and the whole deployment (the engine's word for a stack's state)."""
    exported = project.export()
    FIGURES.bump("cli_runs")
    deployment = exported["deployment"]
    return [r for r in deployment.get("resources") or [] if r["type"] == MODEL_TYPE], deployment


def declared_identities(kind: Kind, specs: Iterable[Mapping[str, Any]]) -> Counter[tuple[str, ...]]:
    """The identity of each spec of a kind: (name, version) for a model, (name,) for the others."""
    if kind is MODEL:
        return Counter((s["name"], s["version"]) for s in specs)
    return Counter((s["name"],) for s in specs)


def end_state_problems(
    server: RunningServer,
    project: PulumiProject,
    declared: Stack | Iterable[Mapping[str, Any]],
    api_key: str | None = None,
) -> list[str]:
    """Everything wrong with the end state, for every kind: the server must hold exactly the declared objects,
    each once, and the state must name exactly those, with the server's ids; no pending operations. A kind
    the test does not declare must be absent from both. The check and what it found are counted in FIGURES."""
    problems: list[str] = []
    stack = as_stack(declared)
    exported = project.export()
    FIGURES.bump("cli_runs")
    deployment = exported["deployment"]
    resources = deployment.get("resources") or []
    for kind in ALL_KINDS:
        want = declared_identities(kind, stack.get(SECTIONS[kind.name], []))
        objects = server.objects(kind, api_key)
        have = Counter(kind.identity_of(o) for o in objects)
        for key in sorted(set(want) | set(have)):
            if have[key] != want[key]:
                what = "missing" if have[key] < want[key] else ("duplicated" if want[key] else "orphaned")
                problems.append(f"server: {kind.name} {key} {what} (declared {want[key]}, held {have[key]})")
        by_id = {kind.resource_id(kind.identity_of(o)): o for o in objects}
        mine = [r for r in resources if r["type"] == kind.type_token]
        state_ids = Counter(r.get("id") for r in mine)
        for id_, n in state_ids.items():
            if n > 1:
                problems.append(f"state: {kind.name} {id_} recorded {n} times")
        for r in mine:
            held = by_id.get(r.get("id", ""))
            if held is None:
                problems.append(f"state: {kind.name} {r.get('id')} ({r['urn']}) not on the server")
            elif r["outputs"].get(kind.api.id_field) != held[kind.api.id_field]:
                problems.append(
                    f"state: {kind.name} {r['id']} {kind.api.id_field} {r['outputs'].get(kind.api.id_field)} "
                    f"!= server {held[kind.api.id_field]}"
                )
        for id_ in by_id:
            if id_ not in state_ids:
                problems.append(f"server: {kind.name} {id_} not in state")
    if deployment.get("pending_operations"):
        problems.append(f"state: pending operations {deployment['pending_operations']}")
    FIGURES.bump("final_checks")
    FIGURES.bump("final_mismatches", len(problems))
    return problems


# ----------------------------------------------------------------------------------------------- proxy


@dataclass
class Exchange:
    """One request through the proxy and what came back (``status`` None: the connection was dropped)."""

    sent: float
    answered: float
    method: str
    path: str
    fingerprint: str
    status: int | None
    retry_after: float | None
    api_key: str | None


Intercept = Callable[[str, str, Mapping[str, str], bytes], "tuple[int, dict[str, str], bytes] | None"]


class RecordingProxy:
    """A loopback HTTP proxy in front of the local server: records the time, fingerprint and answer of every
    request; ``intercept`` may answer a request itself (e.g. an error that echoes the request body).

    A connection the upstream dropped is dropped to the client too (no answer at all), so "committed, then
    the connection dropped" reaches the client unchanged.
    """

    def __init__(self, upstream: str, intercept: Intercept | None = None) -> None:
        self.upstream = upstream
        self.intercept = intercept
        self.exchanges: list[Exchange] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                return

            def _handle(self) -> None:
                sent = time.monotonic()
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
                # The identity headers of every kind (X-Enkrypt-Model, X-Enkrypt-Policy, ...) name the object.
                named = sorted(
                    f"{k.lower()}={v}" for k, v in self.headers.items() if k.lower().startswith("x-enkrypt-")
                )
                fp = hashlib.sha256("\n".join([self.command, self.path, *named]).encode() + body).hexdigest()[:16]
                answer = proxy.intercept(self.command, self.path, headers, body) if proxy.intercept else None
                if answer is None:
                    try:
                        with httpx.Client(base_url=proxy.upstream, timeout=60) as c:
                            r = c.request(self.command, self.path, content=body, headers=headers)
                        answer = (r.status_code, {k: v for k, v in r.headers.items()}, r.content)
                    except httpx.TransportError:
                        answer = None
                status = answer[0] if answer else None
                retry_after = None
                if answer and "retry-after" in {k.lower() for k in answer[1]}:
                    raw = next(v for k, v in answer[1].items() if k.lower() == "retry-after")
                    try:
                        retry_after = float(raw)
                    except ValueError:
                        retry_after = None
                answered = time.monotonic()  # before the client can see the answer
                if answer is None:
                    self.close_connection = True
                    with contextlib.suppress(OSError):
                        self.connection.shutdown(socket.SHUT_RDWR)
                else:
                    code, resp_headers, content = answer
                    self.send_response(code)
                    for k, v in resp_headers.items():
                        if k.lower() in ("content-type", "retry-after", "x-request-id"):
                            self.send_header(k, v)
                    self.send_header("Content-Length", str(len(content)))
                    self.end_headers()
                    self.wfile.write(content)
                with proxy._lock:
                    proxy.exchanges.append(
                        Exchange(
                            sent,
                            answered,
                            self.command,
                            self.path,
                            fp,
                            status,
                            retry_after,
                            self.headers.get("apikey"),
                        )
                    )

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> RecordingProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def api_exchanges(self) -> list[Exchange]:
        """The exchanges on the API of any kind (the server's admin paths left out)."""
        prefixes = tuple({kind.api.add.rsplit("/", 1)[0] + "/" for kind in ALL_KINDS})
        with self._lock:
            return [e for e in self.exchanges if e.path.startswith(prefixes)]


def retry_after_violations(exchanges: list[Exchange], run_starts: Iterable[float] = ()) -> tuple[int, list[str]]:
    """For every 429 with Retry-After R, the next attempt of the same request (same fingerprint) must arrive
    at least R after the 429 left the proxy. Returns (checks made, violations).

    ``run_starts``: when each CLI run began. The same request sent by the next run (after a run that gave up)
    is no retry: a new process knows nothing of the last one's 429, and a destroy whose first wave deletes a
    guardrail sends it within a second of starting."""
    starts = sorted(run_starts)
    checks, bad = 0, []
    by_fp: dict[str, list[Exchange]] = {}
    for e in sorted(exchanges, key=lambda e: e.sent):
        by_fp.setdefault(e.fingerprint, []).append(e)
    for group in by_fp.values():
        for before, after in itertools.pairwise(group):
            if before.status == 429 and before.retry_after is not None:
                if any(before.answered < start < after.sent for start in starts):
                    continue  # another run's request
                checks += 1
                waited = after.sent - before.answered
                if waited < before.retry_after:
                    bad.append(
                        f"{after.method} {after.path}: retried {waited:.2f} s after a 429 "
                        f"with Retry-After {before.retry_after:g}"
                    )
    return checks, bad


def rpm_window_violations(exchanges: list[Exchange], limit: int, window: float = 60.0) -> list[str]:
    """Requests the server accepted (anything but a 429), per key: never more than ``limit`` certainly inside
    one window (the server saw each request between its ``sent`` and ``answered`` times at the proxy)."""
    bad = []
    by_key: dict[str | None, list[Exchange]] = {}
    for e in exchanges:
        if e.status != 429:
            by_key.setdefault(e.api_key, []).append(e)
    for key, accepted in by_key.items():
        accepted.sort(key=lambda e: e.sent)
        for i, first in enumerate(accepted):
            inside = [e for e in accepted[i:] if e.answered < first.sent + window]
            if len(inside) > limit:
                bad.append(f"key {'***' if key else None}: {len(inside)} accepted requests within {window:g} s")
                break
    return bad


def related(a: str, b: str) -> bool:
    """Whether one key path is the other or lies under it (``a.b`` and ``a.b.c``, ``a.b`` and ``a.b[0]``)."""
    return a == b or a.startswith(b + ".") or a.startswith(b + "[") or b.startswith(a + ".") or b.startswith(a + "[")
