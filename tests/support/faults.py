"""Shared pieces of the fault tests: the session's figures, a Model program driven by a JSON file, what is wrong
with the end state (server == declared == state), and a loopback recording proxy with checks of its timings.

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

PROGRAM = """
import json

from pulumi_enkrypt import Model

for m in json.load(open("models.json")):
    config = {
        "model_provider": "openai",
        "hosting_type": "External",
        "endpoint": {"scheme": "https", "host": "api.example.test", "port": 443, "base_path": "/v1"},
        "paths": {"chat": "/chat/completions"},
        "apikeys": ["sk-" + m["name"]],
        "rate_per_min": 20,
        "system_prompt": m.get("prompt", ""),
    }
    Model(
        m["resource"],
        model_saved_name=m["name"],
        model_version=m["version"],
        testing_for="chatbotsAndCopilots",
        model_config=config,
        adopt_existing=m.get("adopt"),
    )
"""


def model_spec(resource: str, name: str, version: str = "v1", prompt: str = "", adopt: bool | None = None) -> dict:
    spec: dict[str, Any] = {"resource": resource, "name": name, "version": version, "prompt": prompt}
    if adopt is not None:
        spec["adopt"] = adopt
    return spec


def write_models(project: PulumiProject, models: Iterable[Mapping[str, Any]]) -> None:
    (project.dir / "models.json").write_text(json.dumps(list(models), indent=1))


def new_project(
    tmp: Path, server_url: str, api_key: str, models: Iterable[Mapping[str, Any]], **env: str
) -> PulumiProject:
    """A project whose credentials come from the environment (no `config set` commands: each costs a CLI run)."""
    project = PulumiProject(
        tmp,
        PROGRAM,
        env={"ENKRYPTAI_API_KEY": api_key, "ENKRYPTAI_BASE_URL": server_url, **env},
    )
    FIGURES.bump("cli_runs")  # stack init
    write_models(project, models)
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
    exported = project.export()
    FIGURES.bump("cli_runs")
    deployment = exported["deployment"]
    return [r for r in deployment.get("resources") or [] if r["type"] == MODEL_TYPE], deployment


def end_state_problems(
    server: RunningServer, project: PulumiProject, declared: Iterable[Mapping[str, Any]], api_key: str | None = None
) -> list[str]:
    """Everything wrong with the end state: the server must hold exactly the declared models, each once, and
    the state must name exactly those, with the server's ids; no pending operations. The check and what it
    found are counted in FIGURES."""
    problems: list[str] = []
    want = Counter((m["name"], m["version"]) for m in declared)
    models = server.models(api_key)
    have = Counter((m["model_saved_name"], m["model_version"]) for m in models)
    for key in sorted(set(want) | set(have)):
        if have[key] != want[key]:
            what = "missing" if have[key] < want[key] else ("duplicated" if want[key] else "orphaned")
            problems.append(f"server: {key} {what} (declared {want[key]}, held {have[key]})")
    by_id = {f"{m['model_saved_name']}:{m['model_version']}": m for m in models}
    resources, deployment = model_resources(project)
    state_ids = Counter(r.get("id") for r in resources)
    for id_, n in state_ids.items():
        if n > 1:
            problems.append(f"state: {id_} recorded {n} times")
    for r in resources:
        model = by_id.get(r.get("id", ""))
        if model is None:
            problems.append(f"state: {r.get('id')} ({r['urn']}) not on the server")
        elif r["outputs"].get("model_id") != model["model_id"]:
            problems.append(f"state: {r['id']} model_id {r['outputs'].get('model_id')} != server {model['model_id']}")
    for id_ in by_id:
        if id_ not in state_ids:
            problems.append(f"server: {id_} not in state")
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
                fp = hashlib.sha256(
                    "\n".join(
                        [
                            self.command,
                            self.path,
                            self.headers.get("X-Enkrypt-Model", ""),
                            self.headers.get("X-Enkrypt-Model-Version", ""),
                        ]
                    ).encode()
                    + body
                ).hexdigest()[:16]
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

    def model_exchanges(self) -> list[Exchange]:
        with self._lock:
            return [e for e in self.exchanges if e.path.startswith("/models/")]


def retry_after_violations(exchanges: list[Exchange]) -> tuple[int, list[str]]:
    """For every 429 with Retry-After R, the next attempt of the same request (same fingerprint) must arrive
    at least R after the 429 left the proxy. Returns (checks made, violations)."""
    checks, bad = 0, []
    by_fp: dict[str, list[Exchange]] = {}
    for e in sorted(exchanges, key=lambda e: e.sent):
        by_fp.setdefault(e.fingerprint, []).append(e)
    for group in by_fp.values():
        for before, after in itertools.pairwise(group):
            if before.status == 429 and before.retry_after is not None:
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
