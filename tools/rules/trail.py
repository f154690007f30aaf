"""TAP-TRAIL-1: a multi-region trail with global service events exists, and every trail validates its logs.

The account trail is in the baseline stack; an environment may add its own (data events), so
both documents are searched. Checkov passes a document with no trail at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tools.rules import Evidence, Outcome, Rule, Stacks, Violation
from tools.rules._terraform import blocks, of_kind, outcome

COVERAGE = ("is_multi_region_trail", "include_global_service_events")


def management_events(trail: Mapping[str, Any]) -> bool:
    """True if the trail records management events, reads and writes (with no selector, it does)."""
    basic, advanced = blocks(trail.get("event_selector")), blocks(trail.get("advanced_event_selector"))
    if advanced:
        return any(
            any(
                f.get("field") == "eventCategory" and "Management" in f.get("equals", [])
                for f in blocks(selector.get("field_selector"))
            )
            and not any(f.get("field") == "readOnly" for f in blocks(selector.get("field_selector")))
            for selector in advanced
        )
    if basic:
        return any(
            s.get("include_management_events", True) is True and s.get("read_write_type", "All") == "All" for s in basic
        )
    return True


def check(stacks: Stacks) -> Outcome:
    trails = of_kind(stacks, "aws_cloudtrail")
    evidence: list[Evidence] = []
    violations: list[Violation] = []
    # Terraform's defaults: global service events and logging on, multi-region and validation off.
    account_wide = [t for t in trails if t.body.get("is_multi_region_trail") is True]
    account_wide = [t for t in account_wide if t.body.get("include_global_service_events", True) is True]
    account_wide = [t for t in account_wide if t.body.get("enable_logging", True) is True and management_events(t.body)]
    for trail in account_wide:
        evidence += [trail.evidence(attribute, True) for attribute in COVERAGE]
        evidence.append(trail.evidence("enable_logging", True))
    if not account_wide:
        violations.append(
            Violation(
                "baseline",
                "aws_cloudtrail",
                "No logging multi-region trail recording global and management events (reads and writes): "
                "add one (the account baseline's trail).",
            )
        )
    for trail in trails:
        if trail.body.get("enable_log_file_validation") is True:
            evidence.append(trail.evidence("enable_log_file_validation", True))
        else:
            violations.append(
                trail.violation(
                    "Log-file validation is off, so changed logs go unnoticed: set enable_log_file_validation."
                )
            )
    return outcome(evidence, violations)


RULE = Rule(
    id="TAP-TRAIL-1",
    title="A multi-region trail with global service events exists, and every trail validates its log files",
    requirements=(
        "10.2.1",
        "10.2.1.1",
        "10.2.1.2",
        "10.2.1.3",
        "10.2.1.4",
        "10.2.1.5",
        "10.2.1.6",
        "10.2.1.7",
        "10.2.2",
        "10.3.1",
        "10.3.2",
    ),
    source="aws",
    basis=(
        "AWS Config PCI DSS 4.0 pack: multi-region-cloudtrail-enabled (Security Hub CloudTrail.1) -> 10.2.1, "
        "10.2.1.1-10.2.1.7, 10.2.2, 10.3.1; Security Hub CloudTrail.4 (cloud-trail-log-file-validation-enabled) "
        "-> 10.3.2"
    ),
    verify_in_account=(
        "The baseline is applied and the trail is logging (cloudtrail get-trail-status), and no other trail or "
        "organization trail setting is expected instead."
    ),
    check=check,
    config_rules=("multi-region-cloudtrail-enabled", "cloud-trail-log-file-validation-enabled"),
)
