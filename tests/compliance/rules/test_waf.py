"""TAP-WAF-1: every WAF rule blocks rather than counts."""

from __future__ import annotations

from typing import Any

from tests.compliance.rules.documents import Body, evidenced, run, violated


def managed(name: str, override: str = "none", counted: tuple[str, ...] = ()) -> Body:
    group: Body = {"name": name, "vendor_name": "AWS"}
    if counted:
        group["rule_action_override"] = [{"name": rule, "action_to_use": {"count": {}}} for rule in counted]
    return {"name": name, "override_action": {override: {}}, "statement": {"managed_rule_group_statement": group}}


def own(name: str, action: str) -> Body:
    return {"name": name, "action": {action: {}}, "statement": {"rate_based_statement": {"limit": 1000}}}


def acl(*rules: Body, kind: str = "aws_wafv2_web_acl") -> dict[str, dict[str, Any]]:
    return {kind: {"acl": {"default_action": {"allow": {}}, "rule": list(rules)}}}


def test_blocking_rules_and_groups_pass_whatever_the_default_action() -> None:
    outcome = run("TAP-WAF-1", environment=acl(own("rate-limit", "block"), managed("AWSManagedRulesCommonRuleSet")))
    assert outcome.passed and evidenced(outcome) == {"aws_wafv2_web_acl.acl"}
    assert {e.attribute for e in outcome.evidence} == {
        "rule[rate-limit].action",
        "rule[AWSManagedRulesCommonRuleSet].override_action",
    }


def test_a_rule_that_counts_fails() -> None:
    outcome = run("TAP-WAF-1", environment=acl(own("rate-limit", "count")))
    assert (
        violated(outcome) == ["aws_wafv2_web_acl.acl/rule/rate-limit"] and "rate-limit" in outcome.violations[0].message
    )


def test_a_managed_group_overridden_to_count_fails() -> None:
    outcome = run("TAP-WAF-1", environment=acl(managed("AWSManagedRulesSQLiRuleSet", override="count")))
    assert (
        violated(outcome) == ["aws_wafv2_web_acl.acl/rule/AWSManagedRulesSQLiRuleSet"]
        and "override_action none" in outcome.violations[0].message
    )


def test_one_rule_of_a_group_overridden_to_count_fails() -> None:
    outcome = run(
        "TAP-WAF-1", environment=acl(managed("AWSManagedRulesAnonymousIpList", counted=("HostingProviderIPList",)))
    )
    assert violated(outcome) == ["aws_wafv2_web_acl.acl/rule/AWSManagedRulesAnonymousIpList"]
    assert "HostingProviderIPList" in outcome.violations[0].message


def test_rule_groups_are_held_to_the_same() -> None:
    outcome = run("TAP-WAF-1", baseline=acl(own("geo", "count"), kind="aws_wafv2_rule_group"))
    assert violated(outcome) == ["aws_wafv2_rule_group.acl/rule/geo"]


def test_without_a_web_acl_it_does_not_apply() -> None:
    assert run("TAP-WAF-1").not_applicable is not None


def test_an_empty_web_acl_and_unreadable_rule_json_fail() -> None:
    empty = run("TAP-WAF-1", environment={"aws_wafv2_web_acl": {"acl": {"default_action": {"block": {}}}}})
    assert violated(empty) == ["aws_wafv2_web_acl.acl"] and "No rules" in empty.violations[0].message
    as_json = run("TAP-WAF-1", environment={"aws_wafv2_web_acl": {"acl": {"rule_json": "[]"}}})
    assert violated(as_json) == ["aws_wafv2_web_acl.acl"] and "rule_json" in as_json.violations[0].message
