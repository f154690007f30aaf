"""TAP-WAF-1: every WAF rule blocks rather than counts.

A rule (or a managed rule group, or one rule inside a group) set to count only reports the
requests it would have stopped. A violation names the rule (`<web ACL address>/rule/<name>`), so
a baseline entry accepts one rule, never the whole web ACL. Checkov's WAF checks pass such rules, so a web ACL can look
complete while blocking nothing. A web ACL's default action is not what this rule is about.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tools.rules import Evidence, Outcome, Rule, Stacks, Violation
from tools.rules._terraform import blocks, first, of_kind, outcome

GROUP_STATEMENTS = ("managed_rule_group_statement", "rule_group_reference_statement")


def counting(rule: Mapping[str, Any]) -> tuple[str, str | None]:
    """(what the rule does, why it only counts, or None when it acts)."""
    statement = first(rule.get("statement"))
    group = next((first(statement[s]) for s in GROUP_STATEMENTS if s in statement), None)
    if group is None:
        action = first(rule.get("action"))
        if not action or "count" in action:
            return "action", "its action is count (or missing): set block"
        return "action", None
    override = first(rule.get("override_action"))
    if "none" not in override:
        return "override_action", "its rule group is overridden to count: set override_action none"
    counted = [
        o.get("name", "") for o in blocks(group.get("rule_action_override")) if "count" in first(o.get("action_to_use"))
    ]
    if counted:
        return "override_action", f"rule_action_override counts {', '.join(counted)}: remove the override"
    return "override_action", None


def rule_address(holder: str, rule: str) -> str:
    """A rule inside a web ACL or rule group: `<address>/rule/<name>`."""
    return f"{holder}/rule/{rule}"


def check(stacks: Stacks) -> Outcome:
    holders = [*of_kind(stacks, "aws_wafv2_web_acl"), *of_kind(stacks, "aws_wafv2_rule_group")]
    if not holders:
        return Outcome(not_applicable="No WAF web ACL or rule group.")
    evidence: list[Evidence] = []
    violations: list[Violation] = []
    for holder in holders:
        if "rule_json" in holder.body:
            violations.append(holder.violation("Rules given as rule_json cannot be read: declare them as rule blocks."))
            continue
        if not blocks(holder.body.get("rule")):
            violations.append(holder.violation("No rules, so nothing is blocked: add the managed rule groups."))
        for rule in blocks(holder.body.get("rule")):
            name = rule.get("name", "")
            attribute, reason = counting(rule)
            if reason is None:
                evidence.append(holder.evidence(f"rule[{name}].{attribute}", first(rule.get(attribute))))
            else:
                # Keyed by rule, so a baseline entry for one rule never hides another that counts.
                violations.append(
                    Violation(
                        holder.stack, rule_address(holder.address, name), f"Rule {name} only counts requests: {reason}."
                    )
                )
    return outcome(evidence, violations)


RULE = Rule(
    id="TAP-WAF-1",
    title="Every WAF rule blocks rather than counts",
    requirements=("6.4.1", "6.4.2"),
    # Judgement: AWS's controls test that a web ACL has rules (wafv2-webacl-not-empty -> 6.4.1,
    # 6.4.2), not what they do; "counts is as good as absent" is TAP's reading.
    source="judgement",
    basis=(
        "analyst judgement: a rule in count mode is treated as absent (uncovered.md row 6); AWS's "
        "wafv2-webacl-not-empty (-> 6.4.1, 6.4.2) only tests that rules exist"
    ),
    verify_in_account=(
        "The web ACLs are associated with every internet-facing load balancer and distribution, and nobody "
        "switched a rule to count in the console (wafv2 get-web-acl)."
    ),
    check=check,
)
