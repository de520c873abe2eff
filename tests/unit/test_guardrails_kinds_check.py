"""Guardrails, deployments and code-of-conduct policies are checked before any request, each failure naming its
property path; what they send and read back crosses the wire in Enkrypt's form (a CoC policy's rules one per
line, with their count); what the service fills in reads back as no drift."""

from __future__ import annotations

from typing import Any

import pytest

from pulumi_enkrypt import spec
from pulumi_enkrypt._api import form_fields, from_wire, to_wire
from pulumi_enkrypt.kinds import ALL_KINDS, COC_POLICY, DEPLOYMENT, GUARDRAIL, Kind
from pulumi_enkrypt.server.shapes import with_defaults


def _deployment(**changes: Any) -> dict[str, Any]:
    return {
        "name": "support-prod",
        "model_saved_name": "Support Bot",
        "model_version": "v1",
        "input_guardrails_policy": {"policy_name": "Airline Policy", "enabled": True, "block": ["injection_attack"]},
        "output_guardrails_policy": {"policy_name": "Airline Policy", "enabled": False, "block": ["relevancy"]},
        **changes,
    }


def _failures(props: dict[str, Any], kind: Kind) -> dict[str, str]:
    return {e.path: e.reason for e in spec.check_failures(props, kind=kind)}


def test_valid_bodies_of_each_new_kind_check_clean_and_are_sent_as_given() -> None:
    bodies = [
        (GUARDRAIL, {"name": "Prod Guardrail", "description": "", "input": {"nsfw": {"enabled": True}}, "output": {}}),
        (DEPLOYMENT, _deployment()),
        (COC_POLICY, {"name": "Airline CoC", "rules": ["Be polite", "No refunds talk"], "policy_text": "Be nice."}),
    ]
    for kind, body in bodies:
        checked, errors = spec.check({**body, "adopt_existing": False}, kind=kind)
        assert errors == [], kind.name
        assert spec.request_body(checked, kind) == body, kind.name


@pytest.mark.parametrize(
    ("kind", "body", "path", "reason"),
    [
        (GUARDRAIL, {"name": "g", "input": {"nsfw2": {"enabled": True}}}, "input.nsfw2", "is not a field"),
        (GUARDRAIL, {"name": "g", "output": {"pii": {"enabled": "yes"}}}, "output.pii.enabled", "valid boolean"),
        (GUARDRAIL, {"name": " g"}, "name", "blank"),
        (
            DEPLOYMENT,
            _deployment(input_guardrails_policy={"policy_name": "p", "enabled": True, "block": ["relevancy"]}),
            "input_guardrails_policy.block[0]",
            "injection_attack",  # the message lists the values allowed on the input side
        ),
        (
            DEPLOYMENT,
            _deployment(output_guardrails_policy={"policy_name": "p", "enabled": True, "block": ["nsfw", "all"]}),
            "output_guardrails_policy.block[1]",
            "relevancy",
        ),
        (
            DEPLOYMENT,
            _deployment(output_guardrails_policy={"enabled": True}),
            "output_guardrails_policy.policy_name",
            "required",
        ),
        (DEPLOYMENT, _deployment(model_version=""), "model_version", "must not be empty"),
        (DEPLOYMENT, _deployment(model_saved_name="Bot\n"), "model_saved_name", "control characters"),
        (COC_POLICY, {"name": "c", "rules": ["one\ntwo"], "policy_text": "t"}, "rules[0]", "one line"),
        (COC_POLICY, {"name": "c", "rules": ["ok", " "], "policy_text": "t"}, "rules[1]", "blank"),
        (COC_POLICY, {"name": "c", "rules": [" padded"], "policy_text": "t"}, "rules[0]", "trimmed"),
        (COC_POLICY, {"name": "c", "rules": [], "policy_text": "t"}, "rules", "at least 1 item"),
        (COC_POLICY, {"name": "c", "rules": ["ok"]}, "policy_text", "required"),
    ],
    ids=lambda value: value.name if isinstance(value, Kind) else None,
)
def test_a_bad_field_fails_check_naming_its_path(kind: Kind, body: dict[str, Any], path: str, reason: str) -> None:
    failures = _failures(body, kind)
    assert list(failures) == [path]
    assert reason in failures[path]


def test_rules_travel_one_per_line_with_their_count_and_come_back_as_a_list() -> None:
    body = {"name": "Airline CoC", "rules": ["Be polite", "No refunds talk"], "policy_text": "Be nice."}
    wire = to_wire(COC_POLICY, body)
    assert wire == {
        "name": "Airline CoC",
        "policy_rules": "Be polite\nNo refunds talk",
        "total_rules": 2,
        "policy_text": "Be nice.",
    }
    assert form_fields(wire) == {**wire, "total_rules": "2"}  # a form carries text
    # Enkrypt may hand the lines back with blanks and a trailing newline: the rules are what the lines say.
    back = from_wire(COC_POLICY, {**wire, "policy_rules": " Be polite \r\nNo refunds talk\n\n", "pdf_name": ""})
    assert back == {**body, "total_rules": 2, "pdf_name": ""}
    for kind in ALL_KINDS:  # the other kinds cross the wire as they are
        if kind is not COC_POLICY:
            assert to_wire(kind, body) == body
            assert from_wire(kind, body) == body


def test_what_the_service_fills_in_is_no_drift_but_a_change_is() -> None:
    state = _deployment(model_version="v1")
    state["input_guardrails_policy"].pop("block")
    served = with_defaults({k: v for k, v in state.items() if k != "model_version"}, DEPLOYMENT.facts.server_defaults)
    assert served["model_version"] == "v1"
    assert served["input_guardrails_policy"]["block"] == []
    assert served["output_guardrails_policy"]["additional_config"] == {
        "hallucination": False,
        "adherence": False,
        "relevancy": False,
    }
    assert spec.changed_fields(state, spec.server_view(served, state, DEPLOYMENT), DEPLOYMENT) == []
    served["output_guardrails_policy"]["block"] = ["nsfw"]
    assert spec.changed_fields(state, spec.server_view(served, state, DEPLOYMENT), DEPLOYMENT) == [
        "output_guardrails_policy"
    ]


def test_a_guardrail_read_back_with_every_detector_filled_in_is_no_drift() -> None:
    state = {"name": "g", "description": "", "input": {"nsfw": {"enabled": True}}, "output": {}}
    served = with_defaults(dict(state), GUARDRAIL.facts.server_defaults)
    assert len(served["input"]) == len(served["output"]) == 11
    assert spec.changed_fields(state, spec.server_view(served, state, GUARDRAIL), GUARDRAIL) == []
    served["input"]["toxicity"] = {"enabled": True}
    assert spec.changed_fields(state, spec.server_view(served, state, GUARDRAIL), GUARDRAIL) == ["input"]
