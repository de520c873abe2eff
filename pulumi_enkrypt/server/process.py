"""Start the server as a real subprocess (for tests and demos) and talk to its admin path."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import threading
from collections.abc import Sequence
from types import TracebackType
from typing import IO, Any

import httpx

from pulumi_enkrypt._api import API_KEY_HEADER
from pulumi_enkrypt.kinds import MODEL, Kind

from . import parse_api_key

_URL = re.compile(r"^(http://\S+:(\d+))\s*$")
_KEY = re.compile(r"^API key: (\S+)\s*$")


class ServerStartError(RuntimeError):
    pass


class RunningServer:
    """A live ``python -m pulumi_enkrypt.server``; ``api_key`` is the first key (the generated one if none)."""

    def __init__(
        self,
        db: str,
        api_keys: Sequence[str],
        extra_args: Sequence[str] = (),
        *,
        host: str = "127.0.0.1",
        startup_timeout: float = 30.0,
        env: dict[str, str] | None = None,
    ) -> None:
        self.db = db
        self.api_keys = list(api_keys)
        self.extra_args = list(extra_args)
        self.host = host
        self.startup_timeout = startup_timeout
        self.env = env
        self.url = ""
        self.port = 0
        self.api_key = parse_api_key(self.api_keys[0])[0] if self.api_keys else ""
        self.log = tempfile.NamedTemporaryFile(prefix="enkrypt-server-", suffix=".log", delete=False)  # noqa: SIM115
        self._proc: subprocess.Popen[str] | None = None
        self._start(0)

    # ------------------------------------------------------------------ lifecycle

    def _command(self, port: int) -> list[str]:
        cmd = [sys.executable, "-m", "pulumi_enkrypt.server", "--host", self.host, "--port", str(port)]
        cmd += ["--db", self.db]
        for key in self.api_keys:
            cmd += ["--api-key", key]
        return cmd + self.extra_args

    def _start(self, port: int) -> None:
        env = {**os.environ, **(self.env or {}), "PYTHONUNBUFFERED": "1"}
        proc = subprocess.Popen(self._command(port), stdout=subprocess.PIPE, stderr=self.log, text=True, env=env)
        self._proc = proc
        assert proc.stdout is not None
        lines: list[str] = []
        # readline blocks; a watchdog kills a server that never announces itself.
        watchdog = threading.Timer(self.startup_timeout, proc.kill)
        watchdog.start()
        try:
            for line in _lines(proc.stdout):
                lines.append(line)
                if key := _KEY.match(line):
                    self.api_key = key.group(1)
                if url := _URL.match(line):
                    self.url, self.port = url.group(1), int(url.group(2))
                    return
        finally:
            watchdog.cancel()
        proc.wait(5)
        raise ServerStartError(f"server exited ({proc.returncode}) before serving: {lines!r}\n{self.log_text()}")

    def stop(self, timeout: float = 10.0) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()

    def kill(self) -> None:
        """Stop abruptly (SIGKILL), as a crash would."""
        if self._proc is not None:
            self._proc.kill()
        self.stop()

    def restart(self, *, hard: bool = False) -> None:
        """Stop and start again on the same db, on the same port when it is still free."""
        port = self.port
        self.kill() if hard else self.stop()
        try:
            self._start(port)
        except ServerStartError:
            self._start(0)

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def log_text(self) -> str:
        with open(self.log.name, encoding="utf-8", errors="replace") as fh:
            return fh.read()

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
        self.log.close()
        os.unlink(self.log.name)

    # ------------------------------------------------------------------ HTTP helpers

    def client(self, api_key: str | None = None, **kwargs: Any) -> httpx.Client:
        headers = {API_KEY_HEADER: api_key or self.api_key}
        return httpx.Client(base_url=self.url, headers=headers, timeout=kwargs.pop("timeout", 30.0), **kwargs)

    def _admin(self, method: str, path: str, json: Any = None, api_key: str | None = None) -> Any:
        with self.client(api_key) as c:
            r = c.request(method, path, json=json)
            r.raise_for_status()
            return r.json()

    def admin_config(self, **changes: Any) -> dict[str, Any]:
        """Read the run-time settings, or change some (others keep their value; the seed restarts)."""
        result: dict[str, Any] = (
            self._admin("PUT", "/_emulator/config", changes) if changes else self._admin("GET", "/_emulator/config")
        )
        return result

    def stats(self) -> dict[str, Any]:
        result: dict[str, Any] = self._admin("GET", "/_emulator/stats")
        return result

    def reset_stats(self) -> None:
        self._admin("POST", "/_emulator/reset-stats")

    def add_samples(self, count: int, api_key: str | None = None) -> int:
        return int(self._admin("POST", "/_emulator/samples", {"count": count}, api_key)["created"])

    def wipe(self, api_key: str | None = None, kind: Kind = MODEL) -> int:
        """Empty the caller's project of one kind."""
        return int(self._admin("DELETE", f"/_emulator/{kind.collection}", api_key=api_key)["deleted"])

    def objects(self, kind: Kind, project_key: str | None = None) -> list[dict[str, Any]]:
        """The caller's objects of one kind, listed through the public API (every page of a paged list)."""
        if not kind.api.paged:
            found: list[dict[str, Any]] = self._admin("GET", kind.api.list, api_key=project_key)[kind.api.list_key]
            return found
        items: list[dict[str, Any]] = []
        page = 1
        while True:
            answer = self._admin("GET", f"{kind.api.list}?page={page}&per_page=100", api_key=project_key)
            items += answer[kind.api.list_key]
            if not answer["pagination"]["has_next"]:
                return items
            page += 1

    def models(self, project_key: str | None = None) -> list[dict[str, Any]]:
        """The caller's models, listed through the public API."""
        return self.objects(MODEL, project_key)


def _lines(stream: IO[str]) -> Any:
    while True:
        line = stream.readline()
        if not line:
            return
        yield line


def start_server(
    db: str,
    api_keys: Sequence[str] = (),
    extra_args: Sequence[str] = (),
    *,
    host: str = "127.0.0.1",
    startup_timeout: float = 30.0,
    env: dict[str, str] | None = None,
) -> RunningServer:
    """Launch ``python -m pulumi_enkrypt.server`` on a free port and wait until it serves."""
    return RunningServer(db, api_keys, extra_args, host=host, startup_timeout=startup_timeout, env=env)
