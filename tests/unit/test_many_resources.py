"""A program may declare more of our resources than Python's recursion limit: the SDK's provider pickling
(see ``pulumi_enkrypt._sorted_pickling``) stays one wrapper deep and every provider pickles to the same bytes."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

# Run in a process of its own: Pulumi's mocks and the pickle module are process-wide state.
PROGRAM = textwrap.dedent(
    """
    import json, sys
    import pulumi
    from pulumi.runtime import mocks

    class Engine(mocks.Mocks):
        providers = []

        def new_resource(self, args):
            self.providers.append(args.inputs["__provider"])
            return [args.name, dict(args.inputs)]

        def call(self, args):
            return {}

    engine = Engine()
    mocks.set_mocks(engine, preview=True)
    import pulumi_enkrypt as enkrypt

    count = sys.getrecursionlimit() + 100

    @pulumi.runtime.test
    def program():
        for i in range(count):
            enkrypt.GuardrailsPolicy(f"p{i}", name=f"policy {i}", detectors={"injection_attack": {"enabled": True}})
        enkrypt.CodeOfConductPolicy("c", name="conduct", rules=["Be kind."], policy_text="Be kind.")
        return pulumi.Output.from_input(None)

    program()
    print(json.dumps({"declared": count + 1, "providers": sorted(set(engine.providers)),
                      "registered": len(engine.providers)}))
    """
)


def test_more_resources_than_the_recursion_limit_register_with_one_provider_each_kind() -> None:
    run = subprocess.run([sys.executable, "-c", PROGRAM], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    found = json.loads(run.stdout.strip().splitlines()[-1])
    assert found["registered"] == found["declared"] > sys.getrecursionlimit()
    assert len(found["providers"]) == 2  # one pickled provider per kind, the same bytes for every resource
