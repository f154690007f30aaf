"""TAP-NET-2: security-group ingress from anywhere (0.0.0.0/0, ::/0) only on ports 443 and 80.

Checkov's open-port checks name single ports (22, 3389, 80) or all ports, so a database or
cache port open to the world passes them. HTTPS, and HTTP that only redirects to it, are the
only services TAP publishes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from tools.rules import Evidence, Outcome, Rule, Stacks, Violation
from tools.rules._terraform import Resource, blocks, of_kind, outcome

ANYWHERE = {"0.0.0.0/0", "::/0"}
PUBLISHED_PORTS = {80, 443}
TCP = {"tcp", "6"}


def open_rules(stacks: Stacks) -> Iterator[tuple[Resource, str, Mapping[str, Any], str]]:
    """(resource, attribute path, rule, source) of every ingress rule open to anywhere."""
    for rule in of_kind(stacks, "aws_vpc_security_group_ingress_rule"):
        for source in ANYWHERE & {rule.body.get("cidr_ipv4"), rule.body.get("cidr_ipv6")}:
            yield rule, "", rule.body, source
    for group in [*of_kind(stacks, "aws_security_group"), *of_kind(stacks, "aws_default_security_group")]:
        for index, inline in enumerate(blocks(group.body.get("ingress"))):
            for source in ANYWHERE & {*inline.get("cidr_blocks", []), *inline.get("ipv6_cidr_blocks", [])}:
                yield group, f"ingress[{index}].", inline, source
    for rule in of_kind(stacks, "aws_security_group_rule"):
        if rule.body.get("type") == "ingress":
            for source in ANYWHERE & {*rule.body.get("cidr_blocks", []), *rule.body.get("ipv6_cidr_blocks", [])}:
                yield rule, "", rule.body, source


def ports(rule: Mapping[str, Any]) -> tuple[str, int, int]:
    protocol = str(rule.get("ip_protocol", rule.get("protocol", "-1"))).lower()
    return protocol, int(rule.get("from_port", 0)), int(rule.get("to_port", 65535))


def check(stacks: Stacks) -> Outcome:
    found = list(open_rules(stacks))
    if not found:
        return Outcome(not_applicable="No security-group ingress from anywhere.")
    evidence: list[Evidence] = []
    violations: list[Violation] = []
    for resource, prefix, rule, source in found:
        protocol, low, high = ports(rule)
        if protocol in TCP and low == high and low in PUBLISHED_PORTS:
            evidence.append(resource.evidence(f"{prefix}to_port", high))
        else:
            span = "all ports" if protocol in ("-1", "all") else f"{protocol} {low}-{high}"
            violations.append(
                resource.violation(f"Admits {source} on {span}: open only TCP 443 (and 80 for redirects) to anywhere.")
            )
    return outcome(evidence, violations)


RULE = Rule(
    id="TAP-NET-2",
    title="Security-group ingress from anywhere is allowed only on TCP 443 and 80",
    requirements=("1.3.1", "1.4.2"),
    source="judgement",
    basis=(
        "uncovered.md row 11; AWS maps only restricted-ssh (EC2.13) to 1.3.1, and vpc-sg-open-only-to-authorized-ports "
        "has no v4.0 mapping; analyst judgement"
    ),
    verify_in_account=(
        "No rule was added outside Terraform (ec2 describe-security-group-rules), and what listens on 80 only "
        "redirects to HTTPS."
    ),
    check=check,
)
