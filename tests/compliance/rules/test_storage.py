"""TAP-S3-1 (bucket policies deny plain HTTP) and TAP-S3-2 (account-level public access block)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.compliance.rules.documents import Body, evidenced, run, violated

ARN = "${aws_s3_bucket.b.arn}"
TLS_DENY: dict[str, Any] = {
    "Effect": "Deny",
    "Principal": "*",
    "Action": "s3:*",
    "Resource": [ARN, f"{ARN}/*"],
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}


def bucket_with(*statements: dict[str, Any], name: str | None = None) -> dict[str, dict[str, Body]]:
    policy = json.dumps({"Version": "2012-10-17", "Statement": list(statements)})
    return {
        "aws_s3_bucket": {"b": {} if name is None else {"bucket": name}},
        "aws_s3_bucket_policy": {"p": {"bucket": "${aws_s3_bucket.b.id}", "policy": policy}},
    }


def test_a_policy_denying_plain_http_passes() -> None:
    outcome = run("TAP-S3-1", environment=bucket_with(TLS_DENY))
    assert outcome.passed and evidenced(outcome) == {"aws_s3_bucket_policy.p"}


def test_literal_arns_of_a_named_bucket_count() -> None:
    statement = {**TLS_DENY, "Resource": ["arn:aws:s3:::logs", "arn:aws:s3:::logs/*"]}
    assert run("TAP-S3-1", environment=bucket_with(statement, name="logs")).passed


@pytest.mark.parametrize(
    "statement",
    [
        {**TLS_DENY, "Effect": "Allow"},
        {**TLS_DENY, "Resource": [ARN]},
        {**TLS_DENY, "Action": "s3:GetObject"},
        {**TLS_DENY, "Principal": {"AWS": "arn:aws:iam::111122223333:root"}},
        {**TLS_DENY, "Condition": {"Bool": {"aws:SecureTransport": "true"}}},
    ],
)
def test_a_policy_that_does_not_fully_deny_plain_http_fails(statement: dict[str, Any]) -> None:
    assert violated(run("TAP-S3-1", environment=bucket_with(statement))) == ["aws_s3_bucket.b"]


def test_a_bucket_without_a_policy_fails() -> None:
    outcome = run("TAP-S3-1", baseline={"aws_s3_bucket": {"b": {}}})
    assert violated(outcome) == ["aws_s3_bucket.b"] and outcome.violations[0].stack == "baseline"


def test_a_policy_that_is_not_literal_json_fails() -> None:
    environment = bucket_with(TLS_DENY)
    environment["aws_s3_bucket_policy"]["p"]["policy"] = "${data.aws_iam_policy_document.d.json}"
    assert violated(run("TAP-S3-1", environment=environment)) == ["aws_s3_bucket_policy.p"]


def test_without_buckets_tls_policies_do_not_apply() -> None:
    assert run("TAP-S3-1").not_applicable is not None


FLAGS = ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")


def test_an_account_block_with_every_flag_passes() -> None:
    outcome = run("TAP-S3-2", baseline={"aws_s3_account_public_access_block": {"a": dict.fromkeys(FLAGS, True)}})
    assert outcome.passed and len(outcome.evidence) == 4


def test_an_account_block_missing_a_flag_fails() -> None:
    block = {**dict.fromkeys(FLAGS, True), "restrict_public_buckets": False}
    outcome = run("TAP-S3-2", baseline={"aws_s3_account_public_access_block": {"a": block}})
    assert violated(outcome) == ["aws_s3_account_public_access_block.a"]
    assert "restrict_public_buckets" in outcome.violations[0].message


def test_no_account_block_fails_naming_the_type() -> None:
    assert violated(run("TAP-S3-2")) == ["aws_s3_account_public_access_block"]
