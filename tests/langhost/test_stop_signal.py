"""The bundled language host stops on the engine's SIGINT whichever of its threads the kernel hands it to.

The engine stops a plugin with SIGINT to its process group and kills it 5 s later. A process-directed signal
may land on any thread that does not block it; Python runs the handler only in the main thread, when that
thread next executes bytecode. A host whose main thread slept in one blocking wait missed it and cost a
command 5 s, about once in 30."""

from __future__ import annotations

import ctypes
import os
import platform
import signal
import subprocess
import sys
from pathlib import Path

import pytest

HOST = Path(__file__).resolve().parents[2] / "tools" / "langhost" / "pulumi_language_host.py"
# tgkill(2) signals one thread of another process; Python has no wrapper for it.
SYS_TGKILL = {"x86_64": 234, "aarch64": 131}.get(platform.machine())

pytestmark = pytest.mark.skipif(
    sys.platform != "linux" or SYS_TGKILL is None, reason="directs a signal at one thread with Linux's tgkill"
)


def _thread_ids(pid: int) -> list[int]:
    return sorted(int(tid) for tid in os.listdir(f"/proc/{pid}/task"))


@pytest.mark.parametrize("which", ["main", "another"])
def test_sigint_to_any_thread_stops_the_host(which: str) -> None:
    # No engine at 127.0.0.1:1: the host serves without one until it is stopped.
    host = subprocess.Popen(
        [sys.executable, str(HOST), "--use-executor", sys.executable, "127.0.0.1:1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert host.stdout is not None and host.stdout.readline().strip().isdigit()  # serving: threads exist
        others = [tid for tid in _thread_ids(host.pid) if tid != host.pid]
        assert others, "the gRPC server runs threads besides the main one"
        libc = ctypes.CDLL(None, use_errno=True)
        for target in [host.pid] if which == "main" else others:  # none of them the main thread
            assert libc.syscall(SYS_TGKILL, host.pid, target, signal.SIGINT) == 0, os.strerror(ctypes.get_errno())
        assert host.wait(timeout=3) == 0  # well within the engine's 5 s grace
    finally:
        if host.poll() is None:
            host.kill()
        host.communicate()
