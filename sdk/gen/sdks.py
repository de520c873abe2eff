"""Write the enkrypt plugin's TypeScript, Go and C# SDKs (``sdk/nodejs``, ``sdk/go``, ``sdk/dotnet``) from its schema.

The schema is ``provider/schema.json``.

Each is made by its language's own Pulumi generator, as ``pulumi package add`` makes it: TypeScript and Go by the
pinned Pulumi release's (``sdk/gen``, ``go run . <schema> <out> nodejs|go``), C# by pulumi-dotnet's language
host's (``sdk/gen/dotnet``, a module of its own: the release no longer carries it). The Python SDK is
``codegen/plugin_schema.py``'s.

Run ``python sdk/gen/sdks.py`` after ``codegen/plugin_schema.py`` has changed the schema; ``--check`` exits 1
when a kept SDK differs from what the generator makes now (it generates into a temporary directory).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "provider" / "schema.json"
SDK_GEN = ROOT / "sdk" / "gen"
SDKS = {"nodejs": ROOT / "sdk" / "nodejs", "go": ROOT / "sdk" / "go", "dotnet": ROOT / "sdk" / "dotnet"}
# What a build leaves in sdk/nodejs or sdk/dotnet (their generated .gitignore names them): not part of the SDK.
BUILD_OUTPUT = {"node_modules", "bin", "obj"}


def files_of(root: Path) -> dict[str, bytes]:
    if not root.exists():
        return {}
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not BUILD_OUTPUT & set(p.relative_to(root).parts[:1])
    }


def generate(language: str, out: Path, schema: Path = SCHEMA) -> dict[str, bytes]:
    """The SDK's files (path -> bytes) for ``language``, written under ``out``."""
    go = shutil.which("go")
    if go is None:
        raise SystemExit("sdk/gen needs Go on PATH (the generators are the pinned Pulumi release's Go code)")
    # -mod=readonly: the generator's go.mod pins the modules; never rewrite it. `go run` caches the binary.
    command, cwd = [str(schema), str(out), language], SDK_GEN
    if language == "dotnet":
        command, cwd = [str(schema), str(out)], SDK_GEN / "dotnet"
    done = subprocess.run(
        [go, "run", "-mod=readonly", ".", *command],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"sdk/gen {language} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return files_of(out)


def stale_sdks() -> list[str]:
    """The kept SDKs that differ from what the generator makes from the current schema."""
    stale = []
    with tempfile.TemporaryDirectory(prefix="enkrypt-sdks-") as tmp:
        for language, kept in SDKS.items():
            if generate(language, Path(tmp) / language) != files_of(kept):
                stale.append(str(kept.relative_to(ROOT)))
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if sdk/nodejs, sdk/go or sdk/dotnet is stale")
    args = parser.parse_args(argv)
    if args.check:
        if stale := stale_sdks():
            print(f"stale: {', '.join(stale)} (run python sdk/gen/sdks.py)", file=sys.stderr)
            return 1
        return 0
    for language, kept in SDKS.items():
        with tempfile.TemporaryDirectory(prefix="enkrypt-sdks-") as tmp:
            made = generate(language, Path(tmp) / language)
            if made == files_of(kept):
                continue
            # Replace the SDK's files only, leaving a build's output (node_modules, bin) where it is.
            for name in files_of(kept):
                (kept / name).unlink()
            for name, body in made.items():
                path = kept / name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(body)
            print(f"wrote {kept.relative_to(ROOT)}/ ({len(made)} files)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
