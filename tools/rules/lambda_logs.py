"""TAP-LOG-1: every Lambda function writes to a declared log group kept at least 365 days.

A function without a declared group logs to `/aws/lambda/<name>`, which Lambda creates on first
use: it never expires, but it is outside the configuration, so no check (Checkov's CKV_AWS_338
included) ever sees it and nothing proves its retention or encryption.
"""

from __future__ import annotations

from tools.rules import Evidence, Outcome, Rule, Stacks, Violation
from tools.rules._terraform import Resource, first, of_kind, outcome, resolve
from tools.rules.log_retention import MIN_DAYS, retention


def log_group(stacks: Stacks, function: Resource) -> tuple[str, Resource | None]:
    """(the group's name or reference, the declared group) a function logs to."""
    configured = first(function.body.get("logging_config")).get("log_group")
    if configured is not None:
        declared = resolve(stacks, function.stack, configured, "aws_cloudwatch_log_group")
        if declared is not None:
            return str(configured), declared
        name = str(configured)
    else:
        name = f"/aws/lambda/{function.body.get('function_name', '')}"
    groups = of_kind(stacks, "aws_cloudwatch_log_group", function.stack)
    return name, next((g for g in groups if g.body.get("name") == name), None)


def check(stacks: Stacks) -> Outcome:
    functions = of_kind(stacks, "aws_lambda_function")
    if not functions:
        return Outcome(not_applicable="No Lambda function.")
    evidence: list[Evidence] = []
    violations: list[Violation] = []
    for function in functions:
        name, group = log_group(stacks, function)
        if group is None:
            violations.append(
                function.violation(
                    f"Its log group {name} is not declared, so Lambda creates it outside configuration: declare it "
                    f"with retention_in_days of at least {MIN_DAYS} (or 0) and set logging_config.log_group."
                )
            )
            continue
        days = retention(group)
        if 0 < days < MIN_DAYS:
            violations.append(
                function.violation(f"Its log group {group.address} keeps {days} days: keep at least {MIN_DAYS}.")
            )
            continue
        evidence += [function.evidence("logging_config.log_group", name), group.evidence("retention_in_days", days)]
    return outcome(evidence, violations)


RULE = Rule(
    id="TAP-LOG-1",
    title="Every Lambda function has a declared log group kept at least 365 days",
    requirements=("10.5.1",),
    source="aws",
    basis="AWS Config PCI DSS 4.0 pack: cw-loggroup-retention-period-check -> 10.5.1; uncovered.md row 1",
    verify_in_account=(
        "No function was created outside Terraform, and nothing changed a group's retention after apply "
        "(logs describe-log-groups)."
    ),
    check=check,
    config_rules=("cw-loggroup-retention-period-check",),
)
