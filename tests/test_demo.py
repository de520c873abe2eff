"""The README's demo command (`scripts/demo`), run twice as a user would: the second run changes nothing."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run_demo(state: Path) -> str:
    env = {**os.environ, "ENKRYPT_DEMO_STATE_DIR": str(state)}
    for key in ("PULUMI_HOME", "PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE_FILE"):
        env.pop(key, None)
    done = subprocess.run(
        ["bash", str(REPO / "scripts" / "demo")], cwd=REPO, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, f"scripts/demo failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    return done.stdout


def server_table(out: str) -> dict[str, tuple[str, str, int]]:
    """The demo's table of what the server holds: name -> (version, provider, model_id)."""
    rows = {}
    for line in out[out.index("NAME ") :].splitlines()[1:]:
        if line.startswith("("):
            break
        name, version, provider, model_id = re.split(r"\s{2,}", line.strip())
        rows[name] = (version, provider, int(model_id))
    return rows


def stack_outputs(out: str) -> dict[str, str]:
    block = out[out.index("Current stack outputs") :]
    return dict(re.findall(r"^\s+(\w+)\s{2,}(.+?)\s*$", block.split("\n\n")[0], re.M)[1:])


def test_demo_creates_two_models_then_reruns_with_no_changes(pulumi_cli: Path, tmp_path: Path) -> None:
    state = tmp_path / "state"

    first = run_demo(state)

    assert re.search(r"^\s+\+ 3 created$", first, re.M), first
    table = server_table(first)
    assert table == {
        "Test Model": ("v1", "together", table["Test Model"][2]),
        "My Custom Agent": ("v1", "custom", table["My Custom Agent"][2]),
    }
    outputs = stack_outputs(first)
    assert int(outputs["together_model_id"]) == table["Test Model"][2]
    assert int(outputs["agent_model_id"]) == table["My Custom Agent"][2]
    assert (state / "Pulumi.demo.yaml").is_file(), "the stack config lives in the state dir"
    assert not (REPO / "examples" / "quickstart" / "Pulumi.demo.yaml").exists()

    second = run_demo(state)

    assert re.search(r"^\s+3 unchanged$", second, re.M), second
    assert not re.search(r"^\s+[-+~] \d+ |^\s+\+-\d+ ", second, re.M), second
    assert "no changes" in second
    assert server_table(second) == table, "the second run must keep the same models"
    assert stack_outputs(second) == outputs
