"""Start the `enkrypt` provider plugin: `python <this directory> <engine address>` (the language host's
RunPlugin does this for PulumiPlugin.yaml). GetSchema serves schema.json beside this file."""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# The plugin and the core it serves come from the same checkout: this repository's package comes first.
sys.path.insert(0, str(HERE.parent))

from pulumi_enkrypt.plugin import main  # noqa: E402  (after the path is set)

if __name__ == "__main__":
    main(HERE / "schema.json")
