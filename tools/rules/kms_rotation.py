"""TAP-KMS-1: every KMS key rotates at least yearly.

Checkov's CKV_AWS_7 checks `enable_key_rotation` only: not `rotation_period_in_days`, and it
does not flag asymmetric or HMAC keys, which cannot rotate automatically at all.
"""

from __future__ import annotations

from tools.rules import Evidence, Outcome, Rule, Stacks, Violation
from tools.rules._terraform import of_kind, outcome

CRYPTOPERIOD_DAYS = 365
DEFAULT_PERIOD_DAYS = 365


def check(stacks: Stacks) -> Outcome:
    keys = of_kind(stacks, "aws_kms_key")
    if not keys:
        return Outcome(not_applicable="No KMS key.")
    evidence: list[Evidence] = []
    violations: list[Violation] = []
    for key in keys:
        spec = key.body.get("customer_master_key_spec", "SYMMETRIC_DEFAULT")
        period = int(key.body.get("rotation_period_in_days", DEFAULT_PERIOD_DAYS))
        if spec != "SYMMETRIC_DEFAULT":
            violations.append(key.violation(f"A {spec} key cannot rotate automatically: document its manual rotation."))
        elif key.body.get("enable_key_rotation") is not True:
            violations.append(key.violation("Automatic rotation is off: set enable_key_rotation."))
        elif period > CRYPTOPERIOD_DAYS:
            violations.append(
                key.violation(
                    f"Rotates every {period} days: set rotation_period_in_days to at most {CRYPTOPERIOD_DAYS}."
                )
            )
        else:
            evidence.append(key.evidence("rotation_period_in_days", period))
    return outcome(evidence, violations)


RULE = Rule(
    id="TAP-KMS-1",
    title="Every KMS key rotates automatically at least every 365 days",
    requirements=("3.7.4",),
    source="aws",
    basis="Security Hub KMS.4 (cmk-backing-key-rotation-enabled) -> 3.7.4; uncovered.md row 17",
    verify_in_account="kms get-key-rotation-status shows rotation on, with the configured period, for every key.",
    check=check,
    config_rules=("cmk-backing-key-rotation-enabled",),
)
