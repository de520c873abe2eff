"""``python -m pulumi_enkrypt.server``: run the local Enkrypt-compatible server until stopped.

Prints ``API key: ...`` first when it made up a key, then exactly one line with its URL once it serves.
"""

from __future__ import annotations

import argparse
import copy
import os
import secrets
import socket
import sys
from collections.abc import Sequence

import uvicorn
from uvicorn.config import LOGGING_CONFIG

from . import parse_api_key
from .app import ServerConfig, create_app
from .faults import FaultSettings
from .shapes import SHAPES


def _share(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError("must be between 0 and 1")
    return value


def _non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be >= 0")
    return value


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m pulumi_enkrypt.server", description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=_non_negative, default=8765, help="0 picks a free port")
    p.add_argument(
        "--api-key",
        action="append",
        default=[],
        metavar="KEY[=PROJECT]",
        help="accepted API key (repeatable); none: one is generated and printed",
    )
    p.add_argument("--db", default=":memory:", help="SQLite file (created if missing) or :memory:")
    p.add_argument("--response-shape", choices=SHAPES, default="sdk")
    p.add_argument("--mask-secrets", action="store_true", help="answer secrets as ********")
    p.add_argument("--strict-providers", action="store_true", help="reject model_provider names Enkrypt does not list")
    p.add_argument("--samples", type=_non_negative, default=0, help="seed N samples of each kind per project")
    p.add_argument("--latency-ms", type=_non_negative, default=0)
    p.add_argument("--rate-429", type=_share, default=0.0)
    p.add_argument("--retry-after", type=_non_negative, default=1, help="Retry-After seconds of injected 429s")
    p.add_argument("--rate-5xx", type=_share, default=0.0)
    p.add_argument("--rate-drop", type=_share, default=0.0, help="commit, then drop the connection unanswered")
    p.add_argument("--rpm-limit", type=_non_negative, default=0, help="requests per minute per key; 0: none")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--ready-file", help="also write the URL to this file once serving")
    p.add_argument("--log-level", default="warning")
    p.add_argument("--access-log", action="store_true", help="log each request to stderr")
    return p


class _Server(uvicorn.Server):
    """Announces its real URL (the port may be 0) once the socket listens."""

    ready_file: str | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if not self.started:
            return
        port = self.servers[0].sockets[0].getsockname()[1]
        host = self.config.host
        url = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
        print(url, flush=True)
        if self.ready_file:
            tmp = self.ready_file + ".tmp"
            with open(tmp, "w", encoding="utf-8") as fh:
                fh.write(url + "\n")
            os.replace(tmp, self.ready_file)


def _log_config() -> dict[str, object]:
    """uvicorn's logging, but access lines go to stderr: stdout carries only the URL line."""
    config: dict[str, object] = copy.deepcopy(LOGGING_CONFIG)
    handlers = config["handlers"]
    assert isinstance(handlers, dict)
    handlers["access"]["stream"] = "ext://sys.stderr"
    return config


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    keys = dict(parse_api_key(spec) for spec in args.api_key)
    if not keys:
        generated = "ek-" + secrets.token_hex(16)
        keys[generated] = "default"
        print(f"API key: {generated}", flush=True)
    config = ServerConfig(
        api_keys=keys,
        db=args.db,
        response_shape=args.response_shape,
        mask_secrets=args.mask_secrets,
        strict_providers=args.strict_providers,
        samples=args.samples,
        faults=FaultSettings(
            latency_ms=args.latency_ms,
            rate_429=args.rate_429,
            retry_after=args.retry_after,
            rate_5xx=args.rate_5xx,
            rate_drop=args.rate_drop,
            rpm_limit=args.rpm_limit,
            seed=args.seed,
        ),
    )
    app = create_app(config)
    uv_config = uvicorn.Config(
        app,
        host=args.host,
        port=args.port,
        http="h11",  # the drop fault reaches the socket through h11's request cycle
        lifespan="off",
        log_level=args.log_level,
        access_log=args.access_log,
        log_config=_log_config(),
    )
    server = _Server(uv_config)
    server.ready_file = args.ready_file
    server.run()
    return 0 if server.started else 1


if __name__ == "__main__":
    sys.exit(main())
