"""Install this package, at another version, into a throwaway venv, without touching the shared .venv.

The wheel is built by hand (a zip with ``*.dist-info``), so no build backend and no network are needed;
pip then installs it like any release. The new venv sees the shared venv's dependencies through a ``.pth``
file processed after its own site-packages, so its own ``pulumi_enkrypt`` shadows the editable one.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DIST = "pulumi_enkrypt"

# Appended to the new version's provider module: every process that imports it says so in a log file, which
# shows the program AND the engine's provider process really ran the reinstalled code.
IMPORT_PROBE = """

# --- added by tests/support/reinstall.py: a "new release" that reports each import ---
def _e2e_report_import() -> None:
    import os

    log = os.environ.get("PULUMI_ENKRYPT_E2E_IMPORT_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(f"{os.getpid()} {__file__}\\n")


_e2e_report_import()
"""


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}"


def build_wheel(version: str, out_dir: Path, source: Path = REPO) -> Path:
    """A pure-Python wheel of the package under ``source`` at ``version``, its provider module carrying
    IMPORT_PROBE."""
    files: dict[str, bytes] = {}
    for path in sorted((source / "pulumi_enkrypt").rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            files[path.relative_to(source).as_posix()] = path.read_bytes()
    files["pulumi_enkrypt/provider.py"] += IMPORT_PROBE.encode()
    info = f"{DIST}-{version}.dist-info"
    files[f"{info}/METADATA"] = (
        f"Metadata-Version: 2.1\nName: pulumi-enkrypt\nVersion: {version}\nRequires-Python: >=3.10\n"
    ).encode()
    files[f"{info}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: tests-e2e\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    record = io.StringIO()
    writer = csv.writer(record, lineterminator="\n")
    for name, data in files.items():
        writer.writerow([name, _record_hash(data), len(data)])
    writer.writerow([f"{info}/RECORD", "", ""])
    files[f"{info}/RECORD"] = record.getvalue().encode()

    wheel = out_dir / f"{DIST}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return wheel


def release_source(commit: str, root: Path) -> Path:
    """The package as it was at ``commit`` (a past release), unpacked under ``root``, from this repository's
    history."""
    root.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", "--format=tar", commit, "pulumi_enkrypt"],
        capture_output=True,
        check=False,
    )
    if archive.returncode != 0:
        raise RuntimeError(f"release {commit} is not in this clone's history: {archive.stderr.decode()}")
    subprocess.run(["tar", "-x", "-C", str(root)], input=archive.stdout, check=True)
    return root


def python_prints(python: Path | str, code: str) -> str:
    """What ``python -c code`` prints (stripped); raises if it fails."""
    done = subprocess.run([str(python), "-c", code], check=True, capture_output=True, text=True)
    return done.stdout.strip()


def venv_with_package(version: str, root: Path, base_python: str, source: Path = REPO) -> Path:
    """A new venv under ``root`` holding pulumi-enkrypt ``version`` (non-editable, built from ``source``) on
    top of the shared venv's dependencies; returns its python."""
    venv_dir = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv_dir)], check=True)
    python = venv_dir / "bin" / "python"
    site_dir = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    purelib, shared = python_prints(python, site_dir), python_prints(base_python, site_dir)
    # addsitedir also runs the shared venv's own .pth files (its editable install among them), but all of
    # it lands after this venv's site-packages on sys.path.
    (Path(purelib) / "zz_shared_venv.pth").write_text(f"import site; site.addsitedir({shared!r})\n")
    wheel = build_wheel(version, root, source)
    subprocess.run(
        [
            base_python,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--quiet",
            "--no-deps",
            "--no-index",
            "--disable-pip-version-check",
            str(wheel),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return python
