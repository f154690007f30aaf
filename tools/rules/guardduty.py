"""TAP-GD-1: GuardDuty is on, with the protection plans that watch payment data.

A detector alone analyses only management events, VPC flow logs and DNS. S3 data events, RDS
logins, Lambda network activity and runtime monitoring are separate features; Checkov checks
only that a declared detector is enabled.
"""

from __future__ import annotations

from tools.rules import Evidence, Outcome, Rule, Stacks, Violation
from tools.rules._terraform import of_kind, outcome, referenced_name

FEATURES = ("S3_DATA_EVENTS", "RDS_LOGIN_EVENTS", "LAMBDA_NETWORK_LOGS", "RUNTIME_MONITORING")


def check(stacks: Stacks) -> Outcome:
    detectors = [d for d in of_kind(stacks, "aws_guardduty_detector") if d.body.get("enable", True) is True]
    if not detectors:
        message = "No enabled GuardDuty detector: enable one in the account baseline."
        return outcome([], [Violation("baseline", "aws_guardduty_detector", message)])
    detector = detectors[0]
    features = {
        f.body.get("name"): f
        for f in of_kind(stacks, "aws_guardduty_detector_feature", detector.stack)
        if referenced_name(f.body.get("detector_id"), "aws_guardduty_detector") == detector.name
    }
    evidence: list[Evidence] = [detector.evidence("enable", True)]
    violations: list[Violation] = []
    for name in FEATURES:
        feature = features.get(name)
        if feature is not None and feature.body.get("status") == "ENABLED":
            evidence.append(feature.evidence("status", "ENABLED"))
        else:
            violations.append(
                detector.violation(f"Feature {name} is not enabled: add an aws_guardduty_detector_feature.")
            )
    return outcome(evidence, violations)


RULE = Rule(
    id="TAP-GD-1",
    title="GuardDuty is enabled with S3, RDS, Lambda and runtime protection",
    requirements=("11.5.1",),
    source="aws",
    basis=(
        "Security Hub GuardDuty.1 (guardduty-enabled-centralized), GuardDuty.10 (guardduty-s3-protection-enabled), "
        "GuardDuty.9 (guardduty-rds-protection-enabled), GuardDuty.6 (guardduty-lambda-protection-enabled) -> "
        "11.5.1; runtime monitoring: uncovered.md row 9"
    ),
    verify_in_account=(
        "The detector and features are enabled in every region in use, and findings reach the alert topic "
        "(guardduty get-detector)."
    ),
    check=check,
    config_rules=(
        "guardduty-enabled-centralized",
        "guardduty-s3-protection-enabled",
        "guardduty-rds-protection-enabled",
        "guardduty-lambda-protection-enabled",
    ),
)
