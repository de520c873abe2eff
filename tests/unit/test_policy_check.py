"""A guardrails policy is checked before any request, every failure naming its property path; and what the
service fills in by default reads back as no drift, while a change out of band does."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from pulumi_enkrypt import spec
from pulumi_enkrypt.kinds import POLICY
from pulumi_enkrypt.provider import GuardrailsPolicyProvider
from pulumi_enkrypt.server.shapes import with_defaults


def _policy(**detectors: Any) -> dict[str, Any]:
    return {"name": "Airline Policy", "description": "", "detectors": detectors}


def _failures(props: dict[str, Any]) -> dict[str, str]:
    return {e.path: e.reason for e in spec.check_failures(props, kind=POLICY)}


def test_a_valid_policy_checks_and_keeps_only_what_was_given() -> None:
    props = _policy(
        injection_attack={"enabled": True},
        pii={"enabled": True, "entities": ["pii", "secrets"]},
        policy_violation={"enabled": True, "policy_text": "No refunds talk", "need_explanation": True},
    )
    checked, errors = spec.check({**props, "adopt_existing": False}, kind=POLICY)
    assert errors == []
    assert checked["detectors"] == props["detectors"]
    assert spec.request_body(checked, POLICY) == props  # adopt_existing is ours, never sent


@pytest.mark.parametrize(
    ("detectors", "path", "reason"),
    [
        ({"pi": {"enabled": True}}, "detectors.pi", "is not a field of the Enkrypt guardrails policy schema"),
        ({"pii": {"enabled": True, "block_message": "no"}}, "detectors.pii.block_message", "is not a field"),
        ({"nsfw": {"enabled": "yes"}}, "detectors.nsfw.enabled", "valid boolean"),
        ({"nsfw": {"enabled": 1}}, "detectors.nsfw.enabled", "valid boolean"),
        ({"pii": {"enabled": True, "entities": "pii"}}, "detectors.pii.entities", "valid list"),
        ({"topic_detector": {"topic": ["a", 3]}}, "detectors.topic_detector.topic[1]", "valid string"),
        ({"system_prompt": {"index": 5}}, "detectors.system_prompt.index", "valid string"),
        ({"policy_violation": {"rules": [{"severity": 1}]}}, "detectors.policy_violation.rules[0].severity", "string"),
    ],
)
def test_a_bad_detector_fails_check_naming_its_path(detectors: dict[str, Any], path: str, reason: str) -> None:
    failures = _failures(_policy(**detectors))
    assert list(failures) == [path]
    assert reason in failures[path]


def test_the_name_and_the_detectors_are_required_and_the_name_must_fit_a_header() -> None:
    assert _failures({"description": "x"}) == {"name": "is required", "detectors": "is required"}
    assert "blank" in _failures({**_policy(), "name": " Airline"})["name"]
    assert "latin-1" in _failures({**_policy(), "name": "航空"})["name"]
    assert _failures({**_policy(), "model_config": {}}) == {
        "model_config": "is not a field of the Enkrypt guardrails policy schema"
    }


def test_the_provider_check_reports_the_path_without_a_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENKRYPTAI_API_KEY", "test-key")
    result = GuardrailsPolicyProvider().check({}, _policy(pii={"enabled": True, "entities": "secrets"}))
    assert [(f.property, f.reason) for f in result.failures] == [
        ("", "detectors.pii.entities: input should be a valid list")
    ]
    ok = GuardrailsPolicyProvider().check({}, _policy(nsfw={"enabled": True}))
    assert ok.failures == []


def _served(body: dict[str, Any]) -> dict[str, Any]:
    """The policy as the local server (and, per the contract, the service) answers: defaults filled in."""
    return {**with_defaults(body, POLICY.facts.server_defaults), "policy_id": 7, "project_name": "default"}


def test_defaults_the_server_fills_in_are_not_drift() -> None:
    state = _policy(
        injection_attack={"enabled": True},
        policy_violation={"enabled": True, "policy_text": "Only flights"},
        nsfw={},
    )
    served = _served(state)
    assert len(served["detectors"]) == 11
    assert served["detectors"]["policy_violation"]["need_explanation"] is True
    assert spec.server_view(served, state, POLICY) == state
    without_description = {k: v for k, v in state.items() if k != "description"}
    assert spec.server_view(served, without_description, POLICY) == without_description


def test_a_change_out_of_band_is_drift() -> None:
    state = _policy(injection_attack={"enabled": True}, pii={"enabled": True, "entities": ["pii"]})
    # a detector the program set, changed in the console
    changed = _served(state)
    changed["detectors"]["pii"]["entities"] = ["pii", "url"]
    view = spec.server_view(changed, state, POLICY)
    assert view["detectors"]["pii"] == {"enabled": True, "entities": ["pii", "url"]}
    assert spec.changed_fields(view, state, POLICY) == ["detectors"]
    # a detector the program left out, enabled in the console
    enabled = _served(state)
    enabled["detectors"]["toxicity"] = {"enabled": True}
    view = spec.server_view(enabled, state, POLICY)
    assert view["detectors"]["toxicity"] == {"enabled": True}
    assert spec.changed_fields(view, state, POLICY) == ["detectors"]
    # a default field of a detector left out, changed: the detector comes back whole
    reindexed = _served(state)
    reindexed["detectors"]["system_prompt"]["index"] = "other"
    assert spec.server_view(reindexed, state, POLICY)["detectors"]["system_prompt"] == {"index": "other"}
    # the description, changed
    described = _served(state)
    described["description"] = "edited"
    assert spec.server_view(described, state, POLICY)["description"] == "edited"


def test_server_view_leaves_the_answer_untouched() -> None:
    state = _policy(nsfw={"enabled": True})
    served = _served(state)
    before = copy.deepcopy(served)
    spec.server_view(served, state, POLICY)
    assert served == before
