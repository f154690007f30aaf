"""TAP-HUB-1: Security Hub is subscribed to the PCI DSS standard.

The standard runs AWS's own PCI DSS controls continuously against the account; without the
subscription nothing reviews the configuration between assessments. Checkov has no check for
`aws_securityhub_*` and cannot fail a resource that is missing.
"""

from __future__ import annotations

from tools.rules import Outcome, Rule, Stacks, Violation
from tools.rules._terraform import of_kind, outcome

# Version 4 only: the 3.2.1 standard is retired with PCI DSS 3.2.1 and checks other requirements.
PCI_STANDARD = "standards/pci-dss/v/4."


def check(stacks: Stacks) -> Outcome:
    subscriptions = [
        s
        for s in of_kind(stacks, "aws_securityhub_standards_subscription")
        if PCI_STANDARD in str(s.body.get("standards_arn"))
    ]
    if subscriptions:
        return outcome([s.evidence("standards_arn", s.body["standards_arn"]) for s in subscriptions], [])
    return outcome(
        [],
        [
            Violation(
                "baseline",
                "aws_securityhub_standards_subscription",
                "Security Hub is not subscribed to PCI DSS v4: subscribe the standard in the account baseline.",
            )
        ],
    )


RULE = Rule(
    id="TAP-HUB-1",
    title="The Security Hub PCI DSS standard is subscribed",
    requirements=("10.4.1", "10.4.1.1"),
    source="judgement",
    basis="uncovered.md row 8; no AWS mapping for the subscription itself; analyst judgement",
    verify_in_account=(
        "The subscription is READY and its controls enabled (securityhub get-enabled-standards), with findings "
        "reviewed and routed; a subscription adopted from another stack is not in this configuration."
    ),
    check=check,
)
