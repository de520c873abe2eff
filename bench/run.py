"""pulumi-enkrypt benchmark: ours against a minimal reference dynamic provider, side by side.

Run from the repository root:  ``bash bench/run`` (``--quick`` for a smoke check, ``--full`` is the default).
Writes the table to ``bench/RESULTS.md`` (``--quick``: ``bench/RESULTS-quick.md``). See bench/README.md.
"""

from __future__ import annotations

import argparse
import compileall
import datetime as dt
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

from pulumi_enkrypt.kinds import ALL_KINDS
from pulumi_enkrypt.server.process import RunningServer, start_server
from tests.support.cli import PYTHON, PulumiCommandError, PulumiProject, ensure_cli

REPO = Path(__file__).resolve().parents[1]

API_KEY = "bench-api-key-5d1e8a"
TOGETHER_KEY = "tgr-bench-secret-9c2f4e7a1b"
WORKERS = 4  # the SDK's dynamic-provider host: grpc thread pool of 4 (pulumi/dynamic/__main__.py)

IMPLS = {
    "ours": ("pulumi_enkrypt", "pulumi-python:dynamic/enkrypt:Model"),
    "ref": ("bench.reference_provider", "pulumi-python:dynamic/benchref:Model"),
}

PROGRAM = """
import pulumi
import {module} as enkrypt

for i in range(int(pulumi.Config().require("n"))):
    enkrypt.Model(f"m{{i}}", model_saved_name=f"bench-{{i}}", model_version="v1", testing_for="foundationModels",
        model_name="mistralai/Mixtral-8x7B-Instruct-v0.1", certifications=[],
        model_config=enkrypt.ModelConfigArgs(model_provider="together", hosting_type="External",
            endpoint=enkrypt.EndpointArgs(scheme="https", host="api.together.xyz", port=443, base_path="/v1"),
            paths={{"completions": "/completions", "chat": "/chat/completions"}},
            auth_data=enkrypt.AuthDataArgs(header_name="Authorization", header_prefix="Bearer",
                                           space_after_prefix=True),
            apikeys=[pulumi.Config().require_secret("togetherKey")], rate_per_min=20))
"""


# The mixed stack: M models, P guardrails policies, D deployments, deployment k naming model k % M and policy
# k % P through their outputs (so the engine orders them: models and policies first, deployments after).
MIXED_PROGRAM = """
import pulumi
import {module} as enkrypt

n_models, n_policies, n_deployments = (int(x) for x in pulumi.Config().require("mixed").split(","))
prefix = pulumi.Config().require("prefix")  # two stacks on one server: their names must not meet
key = pulumi.Config().require_secret("togetherKey")
models = [
    enkrypt.Model(f"m{{i}}", model_saved_name=f"{{prefix}}-{{i}}", model_version="v1", testing_for="foundationModels",
        model_name="mistralai/Mixtral-8x7B-Instruct-v0.1", certifications=[],
        model_config=enkrypt.ModelConfigArgs(model_provider="together", hosting_type="External",
            endpoint=enkrypt.EndpointArgs(scheme="https", host="api.together.xyz", port=443, base_path="/v1"),
            paths={{"completions": "/completions", "chat": "/chat/completions"}},
            auth_data=enkrypt.AuthDataArgs(header_name="Authorization", header_prefix="Bearer",
                                           space_after_prefix=True),
            apikeys=[key], rate_per_min=20))
    for i in range(n_models)
]
policies = [
    enkrypt.GuardrailsPolicy(f"p{{j}}", name=f"{{prefix}}-policy-{{j}}", description="Support chat",
        detectors={{"injection_attack": {{"enabled": True}}, "pii": {{"enabled": True, "entities": ["pii", "secrets"]}},
                   "policy_violation": {{"enabled": True, "policy_text": "Only flights.", "need_explanation": True}}}})
    for j in range(n_policies)
]
for k in range(n_deployments):
    model, policy = models[k % n_models], policies[k % n_policies]
    enkrypt.Deployment(f"d{{k}}", name=f"{{prefix}}-deployment-{{k}}",
        model_saved_name=model.model_saved_name, model_version=model.model_version,
        input_guardrails_policy={{"policy_name": policy.name, "enabled": True, "block": ["injection_attack"],
                                 "additional_config": {{"pii_redaction": False}}}},
        output_guardrails_policy={{"policy_name": policy.name, "enabled": True, "block": ["nsfw"],
                                  "additional_config": {{"hallucination": False, "adherence": False,
                                                         "relevancy": False}}}})
"""


def declared_inputs(i: int) -> dict[str, Any]:
    """The inputs the program declares for model i, as plain JSON (the API key in clear)."""
    return {
        "model_saved_name": f"bench-{i}",
        "model_version": "v1",
        "testing_for": "foundationModels",
        "model_name": "mistralai/Mixtral-8x7B-Instruct-v0.1",
        "certifications": [],
        "model_config": {
            "model_provider": "together",
            "hosting_type": "External",
            "endpoint": {"scheme": "https", "host": "api.together.xyz", "port": 443, "base_path": "/v1"},
            "paths": {"completions": "/completions", "chat": "/chat/completions"},
            "auth_data": {"header_name": "Authorization", "header_prefix": "Bearer", "space_after_prefix": True},
            "apikeys": [TOGETHER_KEY],
            "rate_per_min": 20,
        },
    }


def median(xs: Sequence[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def say(*args: Any) -> None:
    print(*args, file=sys.stderr, flush=True)


def loadavg() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f}"


def byte_compile(*dirs: Path) -> None:
    """Compile the measured sources once, as pip does when it installs a package. This machine sets
    PYTHONDONTWRITEBYTECODE, so a source checkout would otherwise be compiled again in every process (about
    40 ms in a program importing ``pulumi_enkrypt``, 15 ms in its provider host): a cost no installed copy
    pays, and one the reference, a single small module, hardly pays at all."""
    for directory in dirs:
        compileall.compile_dir(directory, quiet=1)


def machine() -> dict[str, str]:
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]
        mem_gb = f"{int(mem) / 1024 / 1024:.1f} GB"
    except (OSError, IndexError, ValueError):
        mem_gb = "?"
    commit = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "-C", str(REPO), "status", "--porcelain", "--", "pulumi_enkrypt"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    pulumi_version = subprocess.run(
        [str(REPO / ".tools" / "bin" / "pulumi"), "version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    return {
        "host": platform.node(),
        "os": f"{platform.system()} {platform.release()}",
        "cpu": f"{cpu} x {os.cpu_count()}",
        "memory": mem_gb,
        "python": platform.python_version(),
        "pulumi CLI": pulumi_version,
        "tree": f"{commit}{' + uncommitted changes in pulumi_enkrypt/' if dirty else ''}",
    }


def children_cpu() -> float:
    """CPU seconds of every finished child process tree (the pulumi CLI, its language host, program, provider)."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def process_cpu(pid: int) -> float:
    """CPU seconds a live process has used so far (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def model_requests(server: RunningServer) -> dict[str, int]:
    """Requests to the model API since the last reset (admin paths left out)."""
    reqs = server.stats()["requests"]
    return {k: v for k, v in reqs.items() if " /models/" in k}


def api_requests(server: RunningServer) -> dict[str, int]:
    """Requests to the API of any kind since the last reset (the server's admin paths left out)."""
    reqs = server.stats()["requests"]
    return {k: v for k, v in reqs.items() if v and not k.split(" ", 1)[1].startswith("/_")}


# ------------------------------------------------------------------------------------------------------------
# 1-4, 7: the engine
# ------------------------------------------------------------------------------------------------------------


class EngineBench:
    def __init__(self, server: RunningServer, root: Path, sizes: list[int], latencies: list[int], reps: int):
        self.server = server
        self.root = root
        self.sizes = sizes
        self.latencies = latencies
        self.reps = reps
        self.ours_path: list[Path] = []  # --ours-path: a patched copy of pulumi_enkrypt shadows the tree's
        # (impl, latency, op, n) -> seconds per rep; op in up, destroy, preview, refresh
        self.times: dict[tuple[str, int, str, int], list[float]] = {}
        self.requests: dict[tuple[str, int, str, int], dict[str, int]] = {}
        # CPU seconds of the pulumi process tree (CLI, language host, program, provider) per rep: load-robust
        self.cpu: dict[tuple[str, int, str, int], list[float]] = {}
        self.failures: list[str] = []
        self.state: dict[str, dict[str, Any]] = {}
        self.count_requests: Callable[[RunningServer], dict[str, int]] = model_requests

    def project(self, impl: str, latency: int) -> PulumiProject:
        module, _ = IMPLS[impl]
        return PulumiProject(
            self.root / f"{impl}-{latency}ms",
            PROGRAM.format(module=module),
            config={"n": "0", "enkrypt:baseUrl": self.server.url},
            secrets={"enkrypt:apiKey": API_KEY, "togetherKey": TOGETHER_KEY},
            name=f"bench-{impl}",
            pythonpath=[*self.ours_path, REPO] if impl == "ours" else [REPO],
            timeout=1200,
        )

    def timed(self, impl: str, latency: int, op: str, n: int, fn: Callable[[], Any]) -> bool:
        self.server.reset_stats()
        cpu = children_cpu()
        start = time.perf_counter()
        try:
            fn()
        except PulumiCommandError as err:
            self.failures.append(f"{impl} {op} N={n} {latency} ms: {str(err)[-1500:]}")
            say(f"  FAILED {impl} {op} N={n}: {str(err)[-800:]}")
            return False
        elapsed = time.perf_counter() - start
        self.times.setdefault((impl, latency, op, n), []).append(elapsed)
        self.cpu.setdefault((impl, latency, op, n), []).append(children_cpu() - cpu)
        self.requests[(impl, latency, op, n)] = self.count_requests(self.server)
        key = (impl, latency, op, n)
        used = self.cpu[(impl, latency, op, n)][-1]
        say(f"  {impl:4} {op:8} N={n:<4} {latency:>3} ms  {elapsed:7.2f} s  cpu {used:6.2f} s  {self.requests[key]}")
        return True

    def run(self) -> None:
        for latency in self.latencies:
            self.server.admin_config(latency_ms=latency)
            projects = {impl: self.project(impl, latency) for impl in IMPLS}
            for rep in range(self.reps):
                for i, n in enumerate(self.sizes):
                    # ours first, then ref; the other way round at the next N and the next repetition
                    order = list(IMPLS) if (rep + i) % 2 == 0 else list(reversed(IMPLS))
                    for impl in order:
                        self.one(projects[impl], impl, latency, n, last=(n == max(self.sizes)), rep=rep)

    def one(self, project: PulumiProject, impl: str, latency: int, n: int, *, last: bool, rep: int) -> None:
        self.server.wipe()
        project.config_set("n", str(n))
        if not self.timed(impl, latency, "up", n, project.up):
            project.destroy(check=False)
            return
        if last:
            if rep == 0 and latency == self.latencies[0]:
                self.state[impl] = state_size(project.run("stack", "export").stdout, IMPLS[impl][1])
            self.timed(impl, latency, "preview", n, lambda: project.preview(expect_no_changes=True))
            self.timed(impl, latency, "refresh", n, project.refresh)
        self.timed(impl, latency, "destroy", n, project.destroy)


class MixedBench(EngineBench):
    """The mixed stack (M models, P policies, D deployments naming them): up, no-change preview, refresh and
    destroy, ours and the reference interleaved; requests counted on every kind's API.

    Both stacks are up at once (their objects named apart), so each preview and refresh of one runs next to
    the same command of the other. Those two commands take 1.5-3 s without latency, where one run's jitter
    (0.2-0.3 s on two cores) is 10% of it: each repetition runs them ``short_reps`` times per stack."""

    def __init__(
        self,
        server: RunningServer,
        root: Path,
        mix: tuple[int, int, int],
        latencies: list[int],
        reps: int,
        short_reps: int = 3,
    ):
        super().__init__(server, root, [sum(mix)], latencies, reps)
        self.mix = mix
        self.short_reps = short_reps
        self.count_requests = api_requests  # every kind's requests, not only the model API's

    def project(self, impl: str, latency: int) -> PulumiProject:
        module, _ = IMPLS[impl]
        return PulumiProject(
            self.root / f"mixed-{impl}-{latency}ms",
            MIXED_PROGRAM.format(module=module),
            config={"mixed": ",".join(map(str, self.mix)), "prefix": impl, "enkrypt:baseUrl": self.server.url},
            secrets={"enkrypt:apiKey": API_KEY, "togetherKey": TOGETHER_KEY},
            name=f"bench-mixed-{impl}",
            pythonpath=[*self.ours_path, REPO] if impl == "ours" else [REPO],
            timeout=1800,
        )

    def run(self) -> None:
        n = sum(self.mix)
        for latency in self.latencies:
            self.server.admin_config(latency_ms=latency)
            projects = {impl: self.project(impl, latency) for impl in IMPLS}
            for rep in range(self.reps):
                order = list(IMPLS) if rep % 2 == 0 else list(reversed(IMPLS))
                for kind in ALL_KINDS:
                    self.server.wipe(kind=kind)
                up = [impl for impl in order if self.timed(impl, latency, "up", n, projects[impl].up)]
                for op in ("preview", "refresh"):
                    for again in range(self.short_reps):
                        for impl in up if again % 2 == 0 else reversed(up):
                            self.timed(impl, latency, op, n, partial(self.short_command, projects[impl], op))
                for impl in order:
                    if impl in up:
                        self.timed(impl, latency, "destroy", n, projects[impl].destroy)
                    else:
                        projects[impl].destroy(check=False)

    @staticmethod
    def short_command(project: PulumiProject, op: str) -> None:
        if op == "refresh":
            project.refresh()
        else:
            project.preview(expect_no_changes=True)


def mixed_report(mixed: MixedBench) -> tuple[list[str], list[tuple[str, str, str, str]]]:
    """Section 8 of the report and its headline rows."""
    m, p, d = mixed.mix
    n = sum(mixed.mix)
    lines = [
        f"\n## 8. Mixed stack: {m} models, {p} guardrails policies, {d} deployments (each naming a model "
        "and a policy)\n"
    ]
    lines.append(
        "Deployments name their model and policy through outputs, so the engine creates them after, and destroys "
        "them before, what they name. Requests: every kind's API, counted by the server (`/_emulator/stats`). "
        f"{mixed.reps} repetitions; in each, both stacks up, then {mixed.short_reps} no-change previews and "
        f"{mixed.short_reps} refreshes of each (alternating), then both destroyed: medians of {mixed.reps} "
        f"(up, destroy) and {mixed.reps * mixed.short_reps} (preview, refresh) runs.\n"
    )
    lines.append(
        "| latency | op | ours s | ref s | ratio | CPU ours s | CPU ref s | CPU ratio | requests, ours | ref |"
    )
    lines.append("|---|---|---|---|---|---|---|---|---|---|")
    headline: list[tuple[str, str, str, str]] = []

    def reqs(impl: str, lat: int, op: str) -> str:
        r = mixed.requests.get((impl, lat, op, n))
        if r is None:
            return "?"
        return ", ".join(f"{k} {v}" for k, v in sorted(r.items())) or "none"

    for op in ("up", "preview", "refresh", "destroy"):
        ratios = []
        for lat in mixed.latencies:
            o, r = median(mixed.times.get(("ours", lat, op, n), [])), median(mixed.times.get(("ref", lat, op, n), []))
            co = median(mixed.cpu.get(("ours", lat, op, n), []))
            cr = median(mixed.cpu.get(("ref", lat, op, n), []))
            ratios.append(o / r)
            lines.append(
                f"| {lat} ms | {op} | {o:.2f} | {r:.2f} | {o / r:.2f} | {co:.2f} | {cr:.2f} | {co / cr:.2f} | "
                f"{reqs('ours', lat, op)} | {reqs('ref', lat, op)} |"
            )
        worst = max(ratios)
        headline.append(
            (f"mixed {m}/{p}/{d} {op}: ours/ref (worst)", f"{worst:.2f}", "<= 1.10", verdict(worst <= 1.10))
        )
    pre = [mixed.requests.get(("ours", lat, "preview", n)) for lat in mixed.latencies]
    zero = all(x is not None and sum(x.values()) == 0 for x in pre)
    headline.append(
        (f"mixed {m}/{p}/{d} preview: requests to the server", "0" if zero else str(pre), "0", verdict(zero))
    )
    want = {"GET /models/get-model": m, "GET /guardrails/get-policy": p, "GET /deployments/get-deployment": d}
    want = {k: v for k, v in want.items() if v}  # api_requests leaves out what was never asked
    reads = [mixed.requests.get(("ours", lat, "refresh", n)) for lat in mixed.latencies]
    exact = all(x == want for x in reads)
    headline.append(
        (
            f"mixed {m}/{p}/{d} refresh: requests",
            f"{n} reads, one per object" if exact else str(reads),
            f"exactly {m}+{p}+{d} GET",
            verdict(exact),
        )
    )
    return lines, headline


def state_size(exported: str, type_token: str) -> dict[str, Any]:
    deployment = json.loads(exported)["deployment"]
    ours = [r for r in deployment.get("resources") or [] if r["type"] == type_token]
    if not ours:
        return {}
    n = len(ours)

    def size(x: Any) -> int:
        return len(json.dumps(x))

    def ciphertext(x: Any) -> int:
        if isinstance(x, dict):
            if "ciphertext" in x:
                return size(x)
            return sum(ciphertext(v) for v in x.values())
        if isinstance(x, list):
            return sum(ciphertext(v) for v in x)
        return 0

    per_resource = sum(size(r) for r in ours) / n
    provider = ours[0]["inputs"].get("__provider")
    declared = sum(size(declared_inputs(i)) for i in range(n)) / n
    return {
        "export_bytes": len(exported),
        "resources": n,
        "per_resource": per_resource,
        "declared": declared,
        "inputs": sum(size(r.get("inputs", {})) for r in ours) / n,
        "outputs": sum(size(r.get("outputs", {})) for r in ours) / n,
        "ciphertext": sum(ciphertext(r) for r in ours) / n,
        "metadata": sum(size({k: v for k, v in r.items() if k not in ("inputs", "outputs")}) for r in ours) / n,
        "stack_trace": sum(size(r.get("stackTrace", [])) for r in ours) / n,
        "provider": size(provider),
        "provider_secret": isinstance(provider, dict) and "ciphertext" in provider,
        "leaked": TOGETHER_KEY in exported or API_KEY in exported,
    }


# ------------------------------------------------------------------------------------------------------------
# 5: the client alone
# ------------------------------------------------------------------------------------------------------------


def client_bench(server: RunningServer, calls: int, reps: int) -> dict[tuple[str, int], list[float]]:
    import httpx
    from enkryptai_sdk import ModelClient

    from pulumi_enkrypt.client import EnkryptClient

    server.admin_config(latency_ms=0)
    server.wipe()
    body = declared_inputs(0) | {"model_saved_name": "client-bench"}
    ours = EnkryptClient(server.url, API_KEY)
    ours.add_model(body)
    assert ours.get_model("client-bench", "v1")["model_saved_name"] == "client-bench"
    local = threading.local()

    def sdk_call() -> None:
        # urllib3's PoolManager keeps ONE connection per host (maxsize=1): shared by 8 threads it would open
        # and discard a connection per call, so the SDK gets one client per thread (its best case).
        client = getattr(local, "sdk", None)
        if client is None:
            client = local.sdk = ModelClient(api_key=API_KEY, base_url=server.url)
        client.get_model("client-bench", "v1")

    def ours_call() -> None:
        ours.get_model("client-bench", "v1")

    # The floor for any httpx-based client: one bare request, shared client, no checks.
    bare = httpx.Client(base_url=server.url, headers={"apikey": API_KEY})

    def httpx_call() -> None:
        bare.get("/models/get-model", headers={"X-Enkrypt-Model": "client-bench", "X-Enkrypt-Model-Version": "v1"})

    fns = {"ours": ours_call, "sdk": sdk_call, "httpx": httpx_call}
    out: dict[tuple[str, int], list[float]] = {}
    for rep in range(reps):
        for threads in (1, 8):
            order = ["ours", "sdk", "httpx"] if rep % 2 == 0 else ["httpx", "sdk", "ours"]
            for name in order:
                fn = fns[name]
                with ThreadPoolExecutor(threads) as pool:
                    list(pool.map(lambda _, fn=fn: fn(), range(threads * 2)))  # warm: connections, SDK clients
                    per = calls // threads
                    start = time.perf_counter()
                    futures = [pool.submit(lambda fn=fn, per=per: [fn() for _ in range(per)]) for _ in range(threads)]
                    for f in futures:
                        f.result()
                    elapsed = time.perf_counter() - start
                rate = per * threads / elapsed
                out.setdefault((name, threads), []).append(rate)
                say(f"  client {name:4} {threads} thread(s): {rate:8.0f} calls/s")
    ours.close()
    bare.close()
    return out


# ------------------------------------------------------------------------------------------------------------
# 6: start-up
# ------------------------------------------------------------------------------------------------------------


def startup_bench(runs: int) -> dict[str, list[float]]:
    stmts = {"pulumi": "import pulumi", "pulumi_enkrypt": "import pulumi_enkrypt"}
    out: dict[str, list[float]] = {k: [] for k in stmts}
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    for i in range(runs + 1):
        order = list(stmts) if i % 2 == 0 else list(reversed(stmts))
        for name in order:
            start = time.perf_counter()
            subprocess.run([PYTHON, "-c", stmts[name]], check=True, env=env, cwd=REPO)
            if i > 0:  # the first round warms the page cache and .pyc files
                out[name].append(time.perf_counter() - start)
    return out


# ------------------------------------------------------------------------------------------------------------
# Report
# ------------------------------------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def report(
    engine: EngineBench,
    mixed: MixedBench | None,
    clients: dict[tuple[str, int], list[float]],
    startup: dict[str, list[float]],
    info: dict[str, str],
    load: tuple[str, str],
    mode: str,
    elapsed: float,
) -> str:
    lines: list[str] = []
    add = lines.append
    t = engine.times

    def med(impl: str, lat: int, op: str, n: int) -> float:
        return median(t.get((impl, lat, op, n), []))

    def cpu(impl: str, lat: int, op: str, n: int) -> float:
        return median(engine.cpu.get((impl, lat, op, n), []))

    def reqs(impl: str, lat: int, op: str, n: int) -> str:
        r = engine.requests.get((impl, lat, op, n))
        if r is None:
            return "?"
        return ", ".join(f"{k.split()[0]} {v}" for k, v in sorted(r.items())) or "none"

    add(f"# pulumi-enkrypt benchmark ({mode})\n")
    command = " ".join(["bash bench/run", *sys.argv[1:]])  # the options as given: a partial run says so
    add(
        f"Run {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z} with `{command}`, "
        f"{elapsed / 60:.1f} min. Machine: " + "; ".join(f"{k} {v}" for k, v in info.items()) + "."
    )
    if engine.ours_path:
        add(f"**ours = the copy of pulumi_enkrypt in `{engine.ours_path[0]}`** (engine and mixed-stack figures only).")
    add(f"Load average (1/5/15 min) before: {load[0]}; after: {load[1]}.")
    add(
        f"Repetitions: {engine.reps} per engine figure, run interleaved (ours, ref, then ref, ours), medians shown. "
        "**ref** = `bench/reference_provider.py`, a minimal dynamic provider (one httpx request per operation, "
        "same body, no validation, no retries). ratio = ours / ref.\n"
    )

    headline: list[tuple[str, str, str, str]] = []  # figure, value, target, verdict

    if engine.times:  # skipped with --skip engine
        add("## 1. `pulumi up` creating N models\n")
        add(
            "Wall seconds, and CPU seconds of the whole pulumi process tree (CLI, language host, program, provider; "
            "the server excluded): the CPU ratio is robust to the machine's load, the wall ratio is the target.\n"
        )
        add(
            "| latency | N | ours s | ref s | ratio | CPU ours s | CPU ref s | CPU ratio | floor N*lat/4 s "
            "| ours/floor | ref/floor | requests (ours / ref) |"
        )
        add("|---|---|---|---|---|---|---|---|---|---|---|---|")
        up_ratios: list[float] = []
        floor_ratios: list[float] = []
        for lat in engine.latencies:
            for n in engine.sizes:
                o, r = med("ours", lat, "up", n), med("ref", lat, "up", n)
                ratio = o / r
                up_ratios.append(ratio)
                floor = n * lat / 1000 / WORKERS
                fl = f"{floor:.2f}" if lat else "-"
                of = f"{o / floor:.2f}" if lat else "-"
                rf = f"{r / floor:.2f}" if lat else "-"
                if lat:
                    floor_ratios.append(o / floor)
                co, cr = cpu("ours", lat, "up", n), cpu("ref", lat, "up", n)
                add(
                    f"| {lat} ms | {n} | {o:.2f} | {r:.2f} | {ratio:.2f} | {co:.2f} | {cr:.2f} | {co / cr:.2f} "
                    f"| {fl} | {of} | {rf} | "
                    f"{reqs('ours', lat, 'up', n)} / {reqs('ref', lat, 'up', n)} |"
                )
        headline.append(
            (
                "up: ours/ref (worst over N and latency)",
                f"{max(up_ratios):.2f}",
                "<= 1.10",
                verdict(max(up_ratios) <= 1.10),
            )
        )
        if floor_ratios:
            headline.append(
                (
                    "up with latency: ours/floor (worst)",
                    f"{max(floor_ratios):.2f}",
                    "<= 1.25",
                    verdict(max(floor_ratios) <= 1.25),
                )
            )

        big = max(engine.sizes)
        add(f"\n## 2-3. No-change preview, refresh, destroy of N = {big}\n")
        add(
            "| latency | op | ours s | ref s | ratio | CPU ours s | CPU ref s | CPU ratio | model API requests, ours "
            "| ref |"
        )
        add("|---|---|---|---|---|---|---|---|---|---|")
        for op in ("preview", "refresh", "destroy"):
            ratios = []
            for lat in engine.latencies:
                o, r = med("ours", lat, op, big), med("ref", lat, op, big)
                ratios.append(o / r)
                co, cr = cpu("ours", lat, op, big), cpu("ref", lat, op, big)
                add(
                    f"| {lat} ms | {op} | {o:.2f} | {r:.2f} | {o / r:.2f} | {co:.2f} | {cr:.2f} | {co / cr:.2f} | "
                    f"{reqs('ours', lat, op, big)} | "
                    f"{reqs('ref', lat, op, big)} |"
                )
            worst = max(ratios)
            headline.append((f"{op} {big}: ours/ref (worst)", f"{worst:.2f}", "<= 1.10", verdict(worst <= 1.10)))
        pre = [engine.requests.get(("ours", lat, "preview", big)) for lat in engine.latencies]
        zero = all(p is not None and sum(p.values()) == 0 for p in pre)
        headline.append((f"preview {big}: requests to the server", "0" if zero else str(pre), "0", verdict(zero)))
        ref_reads = [engine.requests.get(("ours", lat, "refresh", big)) for lat in engine.latencies]
        exact = all(r == {"GET /models/get-model": big} for r in ref_reads)
        headline.append(
            (
                f"refresh {big}: requests",
                "200 reads" if exact and big == 200 else str(ref_reads),
                f"exactly {big} GET",
                verdict(exact),
            )
        )

        add("\n## 4. State size (`pulumi stack export`, resources of the type only, bytes per resource)\n")
        add(
            "Each resource holds its inputs AND its outputs (the inputs again plus server fields), plus engine "
            "metadata (urn, parent, provider, propertyDependencies, timestamps, sourcePosition and stackTrace).\n"
        )
        add(
            "| | whole resource | declared inputs (JSON) | whole/declared | inputs | inputs/declared | outputs | "
            "engine metadata (of which stackTrace) | secret ciphertext | `__provider` | `__provider` secret? | "
            "key in clear? |"
        )
        add("|---|---|---|---|---|---|---|---|---|---|---|---|")
        for impl in IMPLS:
            s = engine.state.get(impl)
            if not s:
                add(f"| {impl} | ? |" + " |" * 10)
                continue
            add(
                f"| {impl} | {s['per_resource']:.0f} | {s['declared']:.0f} | {s['per_resource'] / s['declared']:.2f} | "
                f"{s['inputs']:.0f} | {s['inputs'] / s['declared']:.2f} | {s['outputs']:.0f} | "
                f"{s['metadata']:.0f} ({s['stack_trace']:.0f}) | {s['ciphertext']:.0f} | {s['provider']} | "
                f"{'yes' if s['provider_secret'] else 'no'} | {'**yes**' if s['leaked'] else 'no'} |"
            )
        s = engine.state.get("ours")
        if s:
            headline.append(
                (
                    "state: whole resource / declared inputs",
                    f"{s['per_resource'] / s['declared']:.2f}x",
                    "<= 1.5x",
                    verdict(s["per_resource"] / s["declared"] <= 1.5),
                )
            )
            headline.append(
                (
                    "state: stored inputs / declared inputs",
                    f"{s['inputs'] / s['declared']:.2f}x",
                    "<= 1.5x",
                    verdict(s["inputs"] / s["declared"] <= 1.5),
                )
            )
            r = engine.state.get("ref")
            if r:
                headline.append(
                    ("state bytes/resource ours/ref", f"{s['per_resource'] / r['per_resource']:.2f}", "-", "-")
                )

    if clients:  # skipped with --skip client
        add("\n## 5. Client alone: get-model over loopback (calls/s, higher is better)\n")
        add("bare httpx = one `httpx.Client.get` per call, no checks: the floor of any httpx-based client.\n")
        add(
            "| threads | ours (EnkryptClient) | enkryptai-sdk ModelClient (urllib3) | bare httpx | ours/sdk "
            "| ours/httpx |"
        )
        add("|---|---|---|---|---|---|")
        worst = float("inf")
        for threads in (1, 8):
            o, k = median(clients.get(("ours", threads), [])), median(clients.get(("sdk", threads), []))
            h = median(clients.get(("httpx", threads), []))
            worst = min(worst, o / k)
            add(f"| {threads} | {o:.0f} | {k:.0f} | {h:.0f} | {o / k:.2f} | {o / h:.2f} |")
        headline.append(
            ("client get-model: ours/sdk throughput (worst)", f"{worst:.2f}", ">= 1.00", verdict(worst >= 1))
        )

    if startup["pulumi"]:  # skipped with --skip startup
        add("\n## 6. Start-up: fresh interpreter, median wall time\n")
        p, e = median(startup["pulumi"]), median(startup["pulumi_enkrypt"])
        add("| `import pulumi` | `import pulumi_enkrypt` | difference |")
        add("|---|---|---|")
        add(f"| {p * 1000:.0f} ms | {e * 1000:.0f} ms | {(e - p) * 1000:+.0f} ms |")
        headline.append(
            (
                "import pulumi_enkrypt - import pulumi",
                f"{(e - p) * 1000:+.0f} ms",
                "<= +100 ms",
                verdict(e - p <= 0.100),
            )
        )

    if engine.times:  # skipped with --skip engine
        add("\n## 7. Growth: seconds per model across N\n")
        add(
            "t/N includes the fixed cost of each run (CLI, program and provider start); marginal = "
            "(t(N) - t(previous N)) / (N - previous N), the cost of one more model. "
            "(wall) rows are wall seconds, (CPU) rows the CPU seconds of the "
            "pulumi process tree, which the machine's load disturbs less.\n"
        )
        add(
            "| latency | impl | "
            + " | ".join(f"t/N N={n}" for n in engine.sizes)
            + " | "
            + " | ".join(f"marginal {a}->{b}" for a, b in zip(engine.sizes, engine.sizes[1:], strict=False))
            + " | marginal max/min |"
        )
        add("|---|---|" + "---|" * (2 * len(engine.sizes)))
        spreads: dict[tuple[str, str], list[float]] = {}
        for metric, get in (("wall", med), ("CPU", cpu)):
            for lat in engine.latencies:
                for impl in IMPLS:
                    per = [get(impl, lat, "up", n) / n for n in engine.sizes]
                    marg = [
                        (get(impl, lat, "up", b) - get(impl, lat, "up", a)) / (b - a)
                        for a, b in zip(engine.sizes, engine.sizes[1:], strict=False)
                    ]
                    spread = max(marg) / min(marg) if marg and min(marg) > 0 else float("nan")
                    spreads.setdefault((metric, impl), []).append(spread)
                    add(
                        f"| {lat} ms | {impl} ({metric}) | "
                        + " | ".join(f"{x * 1000:.0f} ms" for x in per)
                        + " | "
                        + " | ".join(f"{x * 1000:.0f} ms" for x in marg)
                        + f" | {spread:.2f} |"
                    )
        for metric in ("wall", "CPU"):
            w, r = max(spreads.get((metric, "ours"), [math.nan])), max(spreads.get((metric, "ref"), [math.nan]))
            headline.append(
                (
                    f"growth ({metric}): marginal s/model max/min, worst",
                    f"{w:.2f} (ref {r:.2f})",
                    "<= 1.20",
                    verdict(w <= 1.20),
                )
            )

    if mixed is not None and mixed.times:
        section, rows = mixed_report(mixed)
        lines += section
        headline += rows

    add("\n## Headline\n")
    add("| figure | value | target | |")
    add("|---|---|---|---|")
    for row in headline:
        add("| " + " | ".join(row) + " |")
    failures = engine.failures + (mixed.failures if mixed is not None else [])
    if failures:
        add("\n## Failures\n")
        for f in failures:
            add("```\n" + f + "\n```")
    return "\n".join(lines) + "\n"


def plugin_bench(argv: list[str]) -> str:
    """bench/plugin.py's table (imported here: it imports this module)."""
    from bench.plugin import measure

    return measure(argv)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bash bench/run", description=__doc__)
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="small N, one repetition: a smoke check (~2 min)")
    mode.add_argument("--full", action="store_true", help="N = 25, 50, 100, 200, two repetitions (default)")
    ap.add_argument("--sizes", help="comma-separated N (overrides the mode)")
    ap.add_argument("--reps", type=int, help="repetitions of each figure (default 2, quick 1; the mixed stack 3)")
    ap.add_argument("--latencies", default="0,100", help="added server latency in ms, comma-separated")
    ap.add_argument("--out", help="where to write the table (default bench/RESULTS.md, quick: bench/RESULTS-quick.md)")
    ap.add_argument("--ours-path", help="a directory holding a patched pulumi_enkrypt to benchmark as ours")
    ap.add_argument(
        "--skip", default="", help="comma-separated parts to skip: engine, mixed, client, startup, plugin"
    )
    ap.add_argument(
        "--mixed",
        help="the mixed stack: MODELS,POLICIES,DEPLOYMENTS (default 100,20,100; quick: 10,2,10)",
    )
    args = ap.parse_args(argv)

    quick = args.quick
    sizes = [int(x) for x in args.sizes.split(",")] if args.sizes else ([5, 10] if quick else [25, 50, 100, 200])
    reps = args.reps or (1 if quick else 2)
    latencies = [int(x) for x in args.latencies.split(",")]
    out = Path(args.out) if args.out else REPO / "bench" / ("RESULTS-quick.md" if quick else "RESULTS.md")
    skip = set(filter(None, args.skip.split(",")))
    mix_text = args.mixed or ("10,2,10" if quick else "100,20,100")
    m, p, d = (int(x) for x in mix_text.split(","))
    if min(m, p) < 1 or d < 0:
        ap.error("--mixed needs at least one model and one policy")

    ensure_cli()
    byte_compile(REPO / "pulumi_enkrypt", REPO / "bench", *([Path(args.ours_path)] if args.ours_path else []))
    info = machine()
    load_before = loadavg()
    say(f"load before: {load_before}; sizes {sizes}, reps {reps}, latencies {latencies}")
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="enkrypt-bench-") as tmp:
        root = Path(tmp)
        with start_server(str(root / "enkrypt.sqlite"), [API_KEY]) as server:
            engine = EngineBench(server, root, sizes, latencies, reps)
            if args.ours_path:
                engine.ours_path = [Path(args.ours_path).resolve()]
                say(f"ours = the pulumi_enkrypt in {engine.ours_path[0]}")
            if "engine" not in skip:
                say("== engine: up / preview / refresh / destroy")
                engine.run()
            # Three repetitions unless told: a median of two is their mean, which one slow run moves.
            mixed = MixedBench(server, root, (m, p, d), latencies, args.reps or (1 if quick else 3))
            mixed.ours_path = engine.ours_path
            if "mixed" not in skip:
                say(f"== mixed stack: {m} models, {p} policies, {d} deployments")
                mixed.run()
            say("== client: get-model")
            clients = {} if "client" in skip else client_bench(server, 200 if quick else 2000, 1 if quick else 2)
        say("== start-up")
        startup = {"pulumi": [], "pulumi_enkrypt": []} if "startup" in skip else startup_bench(5 if quick else 15)
    plugin_table = ""
    if "plugin" not in skip:
        say("== the provider plugin beside the dynamic provider")
        plugin_args = ["--models", "20" if quick else "200", "--latency-ms", "200"]
        # The plugin is bounded by the engine's CPU per step, most of it the checkpoint of the whole state
        # after each step: the second table shows the same runs without it.
        plugin_table = plugin_bench(plugin_args) + "\n" + plugin_bench([*plugin_args, "--skip-checkpoints"])
    elapsed = time.perf_counter() - began
    text = report(
        engine, mixed, clients, startup, info, (load_before, loadavg()), "quick" if quick else "full", elapsed
    )
    if plugin_table:
        text += "\n## 9. The provider plugin beside the dynamic provider (issue 13: plugin / dynamic <= 0.5)\n\n"
        text += plugin_table
    out.write_text(text)
    print(text)
    say(f"written to {out}")
    return 1 if engine.failures or mixed.failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
