"""schemathesis, run against the server's own /openapi.json: no 5xx, every response as documented."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from pulumi_enkrypt.server.process import start_server
from support.server import SERVER_TESTS_KEY

CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
    ]
)


def test_schemathesis_finds_nothing(tmp_path: Path) -> None:
    st = Path(sys.executable).parent / "st"
    with start_server(str(tmp_path / "st.db"), [SERVER_TESTS_KEY], ["--samples", "2"]) as server:  # faults all off
        cmd = [
            str(st), "run", f"{server.url}/openapi.json",
            "--header", f"apikey:{SERVER_TESTS_KEY}",
            "--checks", CHECKS,
            "--phases", "coverage,fuzzing,stateful",
            "--max-examples", "50",
            "--seed", "1",
            "--workers", "2",
            "--request-timeout", "10",
            "--generation-database", "none",
            "--no-color",
        ]  # fmt: skip
        # run in tmp_path: schemathesis writes a .schemathesis cache into its working directory
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=170, cwd=tmp_path)
        report = result.stdout + result.stderr
        assert result.returncode == 0, report + server.log_text()
        assert "passed" in report
        stats = server.stats()
    assert stats["faults"] == {"latency": 0, "429": 0, "5xx": 0, "drop": 0, "rpm": 0}
    assert sum(stats["requests"].values()) > 200  # it really exercised the API
