"""The export's program writer on every kind: references written as code through the kinds' declarations, each
object after what it names, defaults left out but what the schema requires kept, dangling names as strings."""

from __future__ import annotations

import dataclasses
from typing import Any

from pulumi_enkrypt.export_program import export_order, render_program, without_defaults
from pulumi_enkrypt.kinds import ALL_KINDS, COC_POLICY, DEPLOYMENT, GUARDRAIL, MODEL, POLICY
from support.bodies import model_body

CONDUCT = {
    "name": "Conduct",
    "policy_rules": "Be polite\nNo refunds",
    "total_rules": 2,
    "policy_text": "",
    "policy_id": 7,
}
POLICY_BODY = {
    "name": "Airline",
    "description": "",
    "policy_id": 3,
    "detectors": {"policy_violation": {"enabled": True, "coc_policy_name": "Conduct", "need_explanation": True}},
}
DEPLOYMENT_BODY = {
    "name": "route",
    "deployment_id": 11,
    "model_saved_name": "Bot",
    "model_version": "v1",
    "input_guardrails_policy": {"policy_name": "Airline", "enabled": True, "block": []},
    "output_guardrails_policy": {"policy_name": "Airline", "enabled": True},
}


def _account(**overrides: Any) -> dict[str, list[dict[str, Any]]]:
    """As list calls return them (a code-of-conduct policy's rules in their wire form)."""
    from pulumi_enkrypt._api import from_wire

    objects = {
        MODEL.name: [model_body("Bot", "v1")],
        COC_POLICY.name: [from_wire(COC_POLICY, CONDUCT)],
        POLICY.name: [POLICY_BODY],
        DEPLOYMENT.name: [DEPLOYMENT_BODY],
    }
    return {**objects, **overrides}


def _position(main_py: str, variable: str) -> int:
    return main_py.index(f"\n{variable} = enkrypt.")


def test_kinds_come_after_the_kinds_they_name() -> None:
    order = [k.name for k in export_order(ALL_KINDS)]
    assert order.index("CodeOfConductPolicy") < order.index("Guardrail") < order.index("Deployment")
    assert order.index("Model") < order.index("Deployment")
    assert order.index("GuardrailsPolicy") < order.index("Deployment")


def test_a_deployment_names_its_model_and_policy_as_outputs() -> None:
    main_py = render_program(_account()).main_py
    assert "model_saved_name=bot_v1.model_saved_name,\n    model_version=bot_v1.model_version," in main_py
    assert main_py.count("policy_name=airline_guardrails_policy.name,") == 2
    assert _position(main_py, "bot_v1") < _position(main_py, "route_deployment")
    assert _position(main_py, "airline_guardrails_policy") < _position(main_py, "route_deployment")
    assert "deployment_id" not in main_py and "policy_id" not in main_py and "total_rules" not in main_py
    assert 'rules=["Be polite", "No refunds"],' in main_py
    compile(main_py, "__main__.py", "exec")


def test_a_reference_a_kind_declares_is_code_whatever_the_kind() -> None:
    """The policy's coc_policy_name is code because POLICY declares it (as the guardrail declares its own), and
    the CoC policy moves before it; without the declaration it is the string the service holds: nothing in
    the writer is per kind."""
    main_py = render_program(_account()).main_py
    assert "coc_policy_name=conduct_code_of_conduct_policy.name," in main_py
    assert _position(main_py, "conduct_code_of_conduct_policy") < _position(main_py, "airline_guardrails_policy")

    undeclared = dataclasses.replace(POLICY, references=())
    kinds = tuple(undeclared if k.name == POLICY.name else k for k in ALL_KINDS)
    main_py = render_program(_account(), kinds=kinds).main_py
    assert 'coc_policy_name="Conduct",' in main_py
    assert "# detectors" not in main_py  # no reference, so no comment about one

    guardrail = {"name": "Guard", "input": {"policy_violation": {"enabled": True, "coc_policy_name": "Conduct"}}}
    main_py = render_program(_account(**{GUARDRAIL.name: [guardrail]})).main_py
    assert "coc_policy_name=conduct_code_of_conduct_policy.name," in main_py
    assert _position(main_py, "conduct_code_of_conduct_policy") < _position(main_py, "guard_guardrail")


def test_a_name_the_export_does_not_hold_stays_a_string_with_a_comment() -> None:
    main_py = render_program(_account(**{MODEL.name: [], POLICY.name: []})).main_py
    assert 'model_saved_name="Bot",' in main_py
    assert 'policy_name="Airline",' in main_py
    comment = "# model_saved_name, model_version: names a model named 'Bot' version 'v1', which this export"
    assert comment in main_py
    assert "# input_guardrails_policy.policy_name: names a guardrails policy named 'Airline' or guardrail" in main_py
    assert main_py.index(comment) < _position(main_py, "route_deployment")
    compile(main_py, "__main__.py", "exec")


def test_a_policy_name_names_a_guardrail_when_no_policy_has_it() -> None:
    main_py = render_program(_account(**{POLICY.name: [], GUARDRAIL.name: [{"name": "Airline"}]})).main_py
    assert main_py.count("policy_name=airline_guardrail.name,") == 2


def test_defaults_are_left_out_but_required_objects_stay() -> None:
    filled = {
        "name": "Defaults",
        "description": "",
        "detectors": {
            "nsfw": {"enabled": False},
            "policy_violation": {"enabled": False, "policy_text": "Do not allow any illegal or immoral activities."},
        },
    }
    assert without_defaults(filled, POLICY) == {"name": "Defaults", "detectors": {}}
    main_py = render_program({POLICY.name: [filled]}).main_py
    assert "detectors=enkrypt.DetectorsArgs()," in main_py
    assert "description" not in main_py and "nsfw" not in main_py
    kept = {**filled, "detectors": {"nsfw": {"enabled": True}}}
    assert without_defaults(kept, POLICY) == {"name": "Defaults", "detectors": {"nsfw": {"enabled": True}}}
    route = {**DEPLOYMENT_BODY, "input_guardrails_policy": {"policy_name": "p", "enabled": True, "block": []}}
    assert without_defaults(route, DEPLOYMENT)["input_guardrails_policy"] == {"policy_name": "p", "enabled": True}
