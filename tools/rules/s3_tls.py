"""TAP-S3-1: every bucket's policy denies requests without TLS (`aws:SecureTransport` false).

Checkov's CKV_AWS_379 looks only at buckets with a public-read ACL, so private buckets, all of
TAP's, are never checked. The policy must deny every S3 action on the bucket and its objects.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from tools.rules import Evidence, Outcome, Rule, Stacks, Violation
from tools.rules._terraform import Resource, of_kind, outcome, resolve

BUCKET = "aws_s3_bucket"


def listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def denies_plain_http(statement: Mapping[str, Any], arns: list[set[str]]) -> bool:
    """A Deny of s3:* by anyone on the bucket and its objects when aws:SecureTransport is false."""
    condition = statement.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport")
    principal = statement.get("Principal")
    resources = set(listed(statement.get("Resource", [])))
    return (
        statement.get("Effect") == "Deny"
        and str(condition).lower() == "false"
        and principal in ("*", {"AWS": "*"})
        and bool({"s3:*", "*"} & set(listed(statement.get("Action", []))))
        and ("*" in resources or any(pair <= resources for pair in arns))
    )


def bucket_arns(bucket: Resource) -> list[set[str]]:
    """The bucket's ARN and its objects', as a policy may write them: by reference, or by literal name."""
    arns = [f"${{{bucket.address}.arn}}"]
    name = bucket.body.get("bucket")
    if isinstance(name, str) and "${" not in name:
        arns.append(f"arn:aws:s3:::{name}")
    return [{arn, f"{arn}/*"} for arn in arns]


def check(stacks: Stacks) -> Outcome:
    buckets = of_kind(stacks, BUCKET)
    if not buckets:
        return Outcome(not_applicable="No S3 bucket.")
    policies = {
        (p.stack, target.address): p
        for p in of_kind(stacks, "aws_s3_bucket_policy")
        if (target := resolve(stacks, p.stack, p.body.get("bucket"), BUCKET)) is not None
    }
    evidence: list[Evidence] = []
    violations: list[Violation] = []
    for bucket in buckets:
        policy = policies.get((bucket.stack, bucket.address))
        if policy is None:
            violations.append(bucket.violation("Has no bucket policy: add one that denies aws:SecureTransport false."))
            continue
        try:
            statements = listed(json.loads(policy.body.get("policy", "")).get("Statement", []))
        except (AttributeError, TypeError, ValueError):
            violations.append(policy.violation("Its policy is not literal JSON, so TLS enforcement cannot be read."))
            continue
        tls = [s for s in statements if denies_plain_http(s, bucket_arns(bucket))]
        if tls:
            evidence.append(policy.evidence("policy.Statement[].Condition.Bool.aws:SecureTransport", "false"))
        else:
            violations.append(
                bucket.violation(
                    "Its policy does not deny s3:* on the bucket and its objects when aws:SecureTransport is false: add that statement."
                )
            )
    return outcome(evidence, violations)


RULE = Rule(
    id="TAP-S3-1",
    title="Every S3 bucket's policy denies requests without TLS",
    requirements=("4.2.1",),
    source="aws",
    basis="Security Hub S3.5 (s3-bucket-ssl-requests-only) -> 4.2.1; uncovered.md row 2",
    verify_in_account="The applied bucket policies match (s3api get-bucket-policy); nothing replaced them after apply.",
    check=check,
    config_rules=("s3-bucket-ssl-requests-only",),
)
