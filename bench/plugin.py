"""The provider plugin beside the dynamic provider: `pulumi up` of N models at a given latency.

Run from the repository root: ``.venv/bin/python -m bench.plugin [--models 200] [--latency-ms 200] [--reps 1]``
(``bash bench/run`` runs it too). Both programs declare the same N models with the same body; the dynamic one
through ``pulumi_enkrypt.Model``, the plugin one as ``enkrypt:index:Model`` resources of the plugin in
``provider/`` (started by the engine through the bundled language host, as ``pulumi package add`` sets it up).
The engine's ``--parallel`` is the same for both (``--parallel``, default 64): the dynamic provider's host
serves 4 calls at once whatever it says, the plugin as many as the engine sends.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.run import (
    API_KEY,
    PROGRAM,
    REPO,
    TOGETHER_KEY,
    byte_compile,
    children_cpu,
    declared_inputs,
    loadavg,
    say,
)
from pulumi_enkrypt.server.process import start_server
from tests.support.cli import PulumiProject, ensure_cli

PLUGIN_DIR = REPO / "provider"
# The same models as PROGRAM, as resources of the plugin (what its generated SDK's Model class registers).
PLUGIN_PROGRAM = """
import json

import pulumi

config = pulumi.Config()
body = json.loads(config.require("body"))
key = config.require_secret("togetherKey")
for i in range(int(config.require("n"))):
    props = {**body, "model_saved_name": f"bench-{i}"}
    props["model_config"] = {**body["model_config"], "apikeys": [key]}
    outputs = {"model_id": None, "project_name": None, "created_at": None, "updated_at": None}
    pulumi.CustomResource("enkrypt:index:Model", f"m{i}", {**props, **outputs})
"""


def project(root: Path, impl: str, url: str, n: int) -> PulumiProject:
    body = declared_inputs(0)
    body["model_config"].pop("apikeys")
    made = PulumiProject(
        root / impl,
        PROGRAM.format(module="pulumi_enkrypt") if impl == "dynamic" else PLUGIN_PROGRAM,
        config={"n": str(n), "enkrypt:baseUrl": url, "body": json.dumps(body)},
        secrets={"enkrypt:apiKey": API_KEY, "togetherKey": TOGETHER_KEY},
        name=f"bench-{impl}",
        pythonpath=[REPO],
        timeout=1800,
    )
    if impl == "plugin":
        (made.dir / "Pulumi.yaml").write_text(
            f"name: bench-plugin\nruntime: python\nplugins:\n  providers:\n"
            f"    - name: enkrypt\n      path: {PLUGIN_DIR}\n"
        )
    return made


def main(argv: list[str] | None = None) -> int:
    print(measure(argv))
    return 0


def measure(argv: list[str] | None = None) -> str:
    """Run the measurement; the table in markdown."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=200)
    parser.add_argument("--latency-ms", type=int, default=200)
    parser.add_argument("--parallel", type=int, default=64)
    parser.add_argument("--reps", type=int, default=1)
    parser.add_argument(
        "--skip-checkpoints",
        action="store_true",
        help="PULUMI_SKIP_CHECKPOINTS=true for both: the engine writes the state once, not after every step",
    )
    parser.add_argument("--out", type=Path, default=None, help="also write the table here (markdown)")
    args = parser.parse_args(argv)
    ensure_cli()
    byte_compile(REPO / "pulumi_enkrypt")
    times: dict[tuple[str, str], list[float]] = {}
    cpu: dict[tuple[str, str], list[float]] = {}
    with (
        tempfile.TemporaryDirectory(prefix="bench-plugin-") as tmp,
        start_server(str(Path(tmp) / "bench.sqlite"), [API_KEY]) as server,
    ):
        server.admin_config(latency_ms=args.latency_ms)
        projects = {impl: project(Path(tmp), impl, server.url, args.models) for impl in ("dynamic", "plugin")}
        if args.skip_checkpoints:
            for made in projects.values():
                made.env["PULUMI_SKIP_CHECKPOINTS"] = "true"
        for rep in range(args.reps):
            for impl, proj in projects.items():  # interleaved, so a busy spell hits both
                for op in ("up", "destroy"):
                    verb = proj.up if op == "up" else proj.destroy
                    used, start = children_cpu(), time.perf_counter()
                    verb("--parallel", str(args.parallel))
                    times.setdefault((impl, op), []).append(time.perf_counter() - start)
                    cpu.setdefault((impl, op), []).append(children_cpu() - used)
                    say(f"  rep {rep} {impl:7} {op:7} {times[impl, op][-1]:7.2f} s  cpu {cpu[impl, op][-1]:6.2f} s")
                    if op == "up":
                        count = len(server.models())
                        if count != args.models:
                            raise SystemExit(f"{impl} up left {count} models, not {args.models}")
    floor = args.models * args.latency_ms / 1000
    lines = [
        (
            "With `PULUMI_SKIP_CHECKPOINTS=true` (the engine writes the state once at the end): "
            if args.skip_checkpoints
            else ""
        )
        + f"`pulumi up` / `destroy` of {args.models} models, {args.latency_ms} ms per call, `--parallel "
        f"{args.parallel}`, median of {args.reps} (load average at the end: {loadavg()}).",
        "",
        "| op | dynamic s | plugin s | plugin / dynamic | CPU dynamic s | CPU plugin s |",
        "|---|---|---|---|---|---|",
    ]
    for op in ("up", "destroy"):
        dyn_s, plug_s = statistics.median(times["dynamic", op]), statistics.median(times["plugin", op])
        lines.append(
            f"| {op} | {dyn_s:.1f} | {plug_s:.1f} | **{plug_s / dyn_s:.2f}** | "
            f"{statistics.median(cpu['dynamic', op]):.1f} | {statistics.median(cpu['plugin', op]):.1f} |"
        )
    lines += [
        "",
        f"Floors of the calls alone: {floor / 4:.1f} s at 4 at once (the dynamic host's cap), "
        f"{floor / args.parallel:.1f} s at {args.parallel}.",
    ]
    text = "\n".join(lines) + "\n"
    if args.out is not None:
        args.out.write_text(text)
    return text


if __name__ == "__main__":
    sys.exit(main())
