"""``pulumi-enkrypt``: command-line tools around the provider.

``pulumi-enkrypt export`` brings an existing Enkrypt account under code: it lists the account's objects of every
kind (``kinds.ALL_KINDS``: models, guardrails policies, guardrails, deployments, code-of-conduct policies; skipping
Enkrypt's samples) and writes a Pulumi program declaring each as a typed resource with ``adopt_existing=True``,
the references between them as code, plus the ``pulumi config set --secret`` lines for the secrets the program
reads from stack configuration.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from ._client import EnkryptClient
from ._exceptions import EnkryptError
from .export_program import RenderedProgram, render_program
from .kinds import ALL_KINDS, Kind
from .settings import DEFAULT_BASE_URL, KEY_BASE_URL, NAMESPACE, SettingsError, read_settings

__all__ = ["main"]

DEFAULT_PROJECT = "enkrypt-models"


class Progress:
    """Progress lines on stderr: rewritten in place on a terminal, a few plain lines otherwise (CI logs)."""

    def __init__(self, stream: TextIO, *, quiet: bool = False) -> None:
        self.stream = stream
        self.quiet = quiet
        self.tty = stream.isatty()
        self._last_step = -1
        self._open = False

    def line(self, text: str) -> None:
        if self.quiet:
            return
        self._end()
        print(text, file=self.stream, flush=True)

    def step(self, done: int, total: int, what: str) -> None:
        """``Wrote 7 of 20 resources``; on a terminal every step, elsewhere about every tenth and the last."""
        if self.quiet:
            return
        text = f"{what} {done} of {total} resources"
        if self.tty:
            self.stream.write("\r\x1b[K" + text)
            self.stream.flush()
            self._open = True
            if done == total:
                self._end()
            return
        tenth = done * 10 // max(total, 1)
        if done == total or tenth != self._last_step:
            self._last_step = tenth
            print(text, file=self.stream, flush=True)

    def _end(self) -> None:
        if self._open:
            self.stream.write("\n")
            self.stream.flush()
            self._open = False


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pulumi-enkrypt", description="Tools for the Enkrypt AI Pulumi provider.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    export = sub.add_parser(
        "export",
        help="write a Pulumi program that adopts everything in an Enkrypt account",
        description=(
            "List the models, guardrails policies, guardrails, deployments and code-of-conduct policies of an "
            "Enkrypt account (the project of the API key) and write a Pulumi program declaring each as a typed "
            "resource (enkrypt.Model, enkrypt.GuardrailsPolicy, ...) with adopt_existing=True; a field naming "
            "another exported object is written as its output (model.model_saved_name, policy.name). Secrets "
            "are read from stack config; "
            "the `pulumi config set --secret` lines go to config-commands.sh (mode 0600: it holds the secret "
            "values the server returned; delete it after running it). The settings are read as the provider "
            "reads them: from the stack configuration given with --stack-config (enkrypt:apiKey, "
            "enkrypt:baseUrl, ...), else the environment (ENKRYPTAI_API_KEY or ENKRYPT_API_KEY, "
            f"ENKRYPTAI_BASE_URL, ...); --base-url wins over both; the default base URL is {DEFAULT_BASE_URL}."
        ),
    )
    export.add_argument(
        "--output",
        "-o",
        metavar="DIR",
        help="write __main__.py, Pulumi.yaml and config-commands.sh into DIR (default: print the program to stdout "
        "and the config lines to stderr)",
    )
    export.add_argument("--base-url", metavar="URL", help=f"Enkrypt API base URL (default {DEFAULT_BASE_URL})")
    export.add_argument(
        "--stack-config",
        metavar="STACK",
        help="read the enkrypt:* settings (API key, base URL, ...) from this stack's configuration, with "
        "`pulumi config --show-secrets --json --stack STACK` run in --project-dir; the environment fills in "
        "what the stack does not set",
    )
    export.add_argument(
        "--project-dir",
        metavar="DIR",
        help="the Pulumi project of --stack-config (default: the current directory)",
    )
    export.add_argument("--stack", metavar="STACK", help="add --stack STACK to the generated config commands")
    export.add_argument("--project-name", metavar="NAME", default=DEFAULT_PROJECT, help="name in Pulumi.yaml")
    export.add_argument(
        "--include-samples", action="store_true", help="also export Enkrypt's samples (models, policies, ...)"
    )
    export.add_argument(
        "--placeholders",
        action="store_true",
        help=f"write REPLACE_ME instead of the secret values in the config commands (default: the values "
        f"the server returned; masked ones are always {'REPLACE_ME'})",
    )
    export.add_argument("--force", action="store_true", help="overwrite existing files in DIR")
    export.add_argument("--quiet", "-q", action="store_true", help="no progress lines")
    return parser


def _pulumi_yaml(project: str) -> str:
    return f"name: {project}\ndescription: Enkrypt AI resources exported by pulumi-enkrypt export\nruntime: python\n"


def _write(path: Path, text: str, *, force: bool, mode: int = 0o644) -> None:
    if path.exists() and not force:
        raise FileExistsError(f"{path} exists (use --force to overwrite)")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.chmod(path, mode)


def stack_config(stack: str, project_dir: str | None = None) -> dict[str, Any]:
    """The ``enkrypt:*`` configuration of a stack, secrets decrypted, from the ``pulumi`` CLI on PATH."""
    where = project_dir or "."
    command = ["pulumi", "config", "--show-secrets", "--json", "--stack", stack]
    try:
        # stdin closed: a missing passphrase fails instead of waiting for an answer nobody will type.
        done = subprocess.run(
            command, cwd=where, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300, check=False
        )
    except FileNotFoundError:
        raise SettingsError("--stack-config needs the pulumi CLI on PATH") from None
    except (NotADirectoryError, subprocess.TimeoutExpired) as err:
        raise SettingsError(f"--stack-config {stack}: `pulumi config` could not run in {where} ({err})") from None
    if done.returncode != 0:
        said = " ".join(done.stderr.split()) or f"exit status {done.returncode}"
        raise SettingsError(f"--stack-config {stack}: `pulumi config` failed in {where}: {said}")
    try:
        values = json.loads(done.stdout)
    except ValueError:  # its output holds the secrets: never shown
        values = None
    if not isinstance(values, dict):
        raise SettingsError(f"--stack-config {stack}: `pulumi config --json` did not print a JSON object")
    prefix = f"{NAMESPACE}:"
    return {
        key: entry.get("value")
        for key, entry in values.items()
        if key.startswith(prefix) and isinstance(entry, dict)
    }


def export(
    args: argparse.Namespace,
    *,
    env: Mapping[str, str] = os.environ,
    stdout: TextIO = sys.stdout,
    stderr: TextIO = sys.stderr,
) -> int:
    progress = Progress(stderr, quiet=args.quiet)
    if args.project_dir and not args.stack_config:
        raise SettingsError("--project-dir names the project of --stack-config STACK; give --stack-config too")
    config = stack_config(args.stack_config, args.project_dir) if args.stack_config else {}
    if args.base_url:
        config[f"{NAMESPACE}:{KEY_BASE_URL}"] = args.base_url
    settings = read_settings(config, env)
    progress.line(f"Listing {_and(k.plural for k in ALL_KINDS)} at {settings.base_url} ...")
    chosen: dict[str, list[dict[str, Any]]] = {}
    counts: list[str] = []
    with EnkryptClient.from_settings(settings) as api:
        for kind in ALL_KINDS:
            found = api.list_all(kind)
            samples = sum(1 for o in found if o.get("is_sample"))
            chosen[kind.name] = found if args.include_samples else [o for o in found if not o.get("is_sample")]
            skipped = (
                "" if args.include_samples or not samples else f" ({samples} sample {_noun(kind, samples)} skipped)"
            )
            counts.append(f"{len(chosen[kind.name])} {_noun(kind, len(chosen[kind.name]))}{skipped}")
    progress.line(f"Listed {', '.join(counts)}")
    projects = sorted({str(o["project_name"]) for found in chosen.values() for o in found if o.get("project_name")})

    program: RenderedProgram = render_program(
        chosen,
        project=", ".join(projects) or None,
        placeholders=args.placeholders,
        on_resource=lambda done, total: progress.step(done, total, "Rendered"),
    )
    base_url = settings.base_url if settings.base_url != DEFAULT_BASE_URL else None
    script = program.config_script(stack=args.stack, base_url=base_url)
    for warning in program.warnings:
        progress.line(f"warning: {warning}")

    if args.output is None:
        stdout.write(program.main_py)
        stdout.flush()
        print(script, file=stderr)
        return 0

    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    targets = [out / "__main__.py", out / "Pulumi.yaml", out / "config-commands.sh"]
    if not args.force:
        existing = [str(p) for p in targets if p.exists()]
        if existing:
            raise FileExistsError(f"{', '.join(existing)} exist (use --force to overwrite)")
    _write(out / "Pulumi.yaml", _pulumi_yaml(args.project_name), force=True)
    _write(out / "config-commands.sh", script, force=True, mode=0o600)
    # The program is written resource by resource, so a long export shows where it is.
    with (out / "__main__.py").open("w", encoding="utf-8") as fh:
        fh.write(program.header)
        total = len(program.resources)
        for i, resource in enumerate(program.resources, 1):
            fh.write("\n" + resource.source + "\n")
            progress.step(i, total, "Wrote")
    if not program.resources:
        progress.line("Wrote 0 of 0 resources")
    unknown = sum(1 for s in program.secrets if not s.known)
    progress.line(f"Wrote {out / '__main__.py'}, {out / 'Pulumi.yaml'} and {out / 'config-commands.sh'}")
    steps = [
        f"cd {out}",
        f"pulumi stack init {args.stack or 'dev'}",
        "bash config-commands.sh && rm config-commands.sh"
        + (
            f"   # first replace the {unknown} REPLACE_ME values: preview refuses them, naming each field"
            if unknown
            else ""
        ),
        "pulumi preview   # expect one create (adopt) per resource; `pulumi up` takes them over",
    ]
    progress.line("Next:\n  " + "\n  ".join(steps))
    return 0


def _noun(kind: Kind, count: int) -> str:
    return kind.noun if count == 1 else kind.plural


def _and(words: Iterable[str]) -> str:
    """``a, b and c``."""
    items = list(words)
    return ", ".join(items[:-1]) + " and " + items[-1] if len(items) > 1 else "".join(items)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "export":
            return export(args)
    except (SettingsError, EnkryptError, FileExistsError) as exc:
        print(f"pulumi-enkrypt: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 2


if __name__ == "__main__":
    sys.exit(main())
