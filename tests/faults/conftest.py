"""Fixtures of the fault tests, and the summary of their figures at the end of the session."""

from __future__ import annotations

from typing import Any

import pytest

from support.faults import FIGURES


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    f = FIGURES
    if not (f.cases or f.final_checks or f.inputs_generated or f.secret_places_searched):
        return  # no fault test ran
    tr = terminalreporter
    tr.section("pulumi-enkrypt fault figures")
    faults = ", ".join(f"{kind}={n}" for kind, n in f.faults.items())
    rows = [
        ("faults injected (server, per kind)", f"{faults} (total {sum(f.faults.values())})"),
        ("scenarios run (matrix cases, kill runs, hygiene)", f.cases),
        ("pulumi CLI commands run", f.cli_runs),
        ("runs that failed clearly, then succeeded on re-run", f.failed_runs),
        ("end-state checks / final mismatches", f"{f.final_checks} / {f.final_mismatches}"),
        ("Retry-After waits timed / violations", f"{f.retry_after_checks} / {f.retry_after_violations}"),
        ("rpm window violations (accepted > limit per 60 s)", f.rpm_window_violations),
        (
            "inputs generated (property tests)",
            ", ".join(f"{k}={v}" for k, v in sorted(f.inputs_generated.items()))
            + f" (total {sum(f.inputs_generated.values())})",
        ),
        ("requests sent by check", f.requests_sent_by_check),
        ("places searched for secrets / secrets found", f"{f.secret_places_searched} / {f.secrets_found}"),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        tr.write_line(f"{key:<{width}}  {value}")
    for note in f.notes:
        tr.write_line(f"note: {note}")
