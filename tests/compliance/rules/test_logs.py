"""TAP-LOG-1 (every function's log group is declared and kept a year) and TAP-LOG-2 (every log sink keeps a year)."""

from __future__ import annotations

import pytest

from tests.compliance.rules.documents import Body, evidenced, run, violated


def function_logging_to(group: str | None) -> dict[str, dict[str, Body]]:
    body: Body = {"function_name": "tap-pay-dev"}
    if group is not None:
        body["logging_config"] = {"log_group": group}
    return {"aws_lambda_function": {"pay": body}}


@pytest.mark.parametrize("days", [365, 3653, 0])
def test_a_function_with_a_declared_group_kept_a_year_or_forever_passes(days: int) -> None:
    environment = function_logging_to("${aws_cloudwatch_log_group.pay_logs.name}")
    environment["aws_cloudwatch_log_group"] = {"pay_logs": {"name": "/tap/pay", "retention_in_days": days}}
    outcome = run("TAP-LOG-1", environment=environment)
    assert outcome.passed and evidenced(outcome) == {"aws_lambda_function.pay", "aws_cloudwatch_log_group.pay_logs"}


def test_the_default_group_name_counts_when_declared() -> None:
    environment = function_logging_to(None)
    environment["aws_cloudwatch_log_group"] = {"g": {"name": "/aws/lambda/tap-pay-dev", "retention_in_days": 400}}
    assert run("TAP-LOG-1", environment=environment).passed


def test_a_function_whose_group_is_never_declared_fails() -> None:
    outcome = run("TAP-LOG-1", environment=function_logging_to(None))
    assert violated(outcome) == ["aws_lambda_function.pay"]
    assert "/aws/lambda/tap-pay-dev is not declared" in outcome.violations[0].message


def test_a_function_whose_group_expires_within_a_year_fails() -> None:
    environment = function_logging_to("/tap/pay")
    environment["aws_cloudwatch_log_group"] = {"g": {"name": "/tap/pay", "retention_in_days": 90}}
    outcome = run("TAP-LOG-1", environment=environment)
    assert violated(outcome) == ["aws_lambda_function.pay"] and "keeps 90 days" in outcome.violations[0].message


def test_a_group_in_the_other_stack_does_not_count() -> None:
    baseline = {"aws_cloudwatch_log_group": {"g": {"name": "/aws/lambda/tap-pay-dev", "retention_in_days": 365}}}
    assert violated(run("TAP-LOG-1", environment=function_logging_to(None), baseline=baseline)) == [
        "aws_lambda_function.pay"
    ]


def test_without_functions_lambda_logs_do_not_apply() -> None:
    assert run("TAP-LOG-1").not_applicable is not None


def test_log_groups_kept_a_year_or_forever_pass_and_shorter_fail() -> None:
    environment = {
        "aws_cloudwatch_log_group": {
            "year": {"retention_in_days": 365},
            "forever": {},
            "month": {"retention_in_days": 30},
        }
    }
    outcome = run("TAP-LOG-2", environment=environment)
    assert violated(outcome) == ["aws_cloudwatch_log_group.month"]
    assert evidenced(outcome) == {"aws_cloudwatch_log_group.year", "aws_cloudwatch_log_group.forever"}


def lifecycle(bucket: str, days: int) -> Body:
    return {
        "bucket": f"${{aws_s3_bucket.{bucket}.id}}",
        "rule": [{"id": "retention", "status": "Enabled", "expiration": [{"days": days}]}],
    }


def trail_into(days: int) -> dict[str, dict[str, Body]]:
    return {
        "aws_cloudtrail": {"trail": {"s3_bucket_name": "${aws_s3_bucket.trail_logs.bucket}"}},
        "aws_s3_bucket": {"trail_logs": {}},
        "aws_s3_bucket_lifecycle_configuration": {"trail_logs_lifecycle": lifecycle("trail_logs", days)},
    }


def test_a_trail_bucket_kept_a_year_passes() -> None:
    outcome = run("TAP-LOG-2", baseline=trail_into(365))
    assert outcome.passed
    assert [(e.resource, e.attribute, e.value) for e in outcome.evidence] == [
        ("aws_s3_bucket_lifecycle_configuration.trail_logs_lifecycle", "rule[retention].expiration.days", "365")
    ]


def test_a_trail_bucket_expiring_sooner_fails() -> None:
    outcome = run("TAP-LOG-2", baseline=trail_into(90))
    assert violated(outcome) == ["aws_s3_bucket.trail_logs"] and "aws_cloudtrail.trail" in outcome.violations[0].message


def test_a_disabled_short_rule_does_not_expire_anything() -> None:
    document = trail_into(30)
    document["aws_s3_bucket_lifecycle_configuration"]["trail_logs_lifecycle"]["rule"][0]["status"] = "Disabled"
    outcome = run("TAP-LOG-2", baseline=document)
    assert outcome.passed and [e.attribute for e in outcome.evidence] == ["expiration"]


@pytest.mark.parametrize(
    ("writer_kind", "writer"),
    [
        ("aws_lb", {"access_logs": {"bucket": "${aws_s3_bucket.logs.bucket}", "enabled": True}}),
        ("aws_cloudfront_distribution", {"logging_config": [{"bucket": "${aws_s3_bucket.logs.bucket_domain_name}"}]}),
        ("aws_flow_log", {"log_destination": "${aws_s3_bucket.logs.arn}", "log_destination_type": "s3"}),
        ("aws_s3_bucket_logging", {"bucket": "${aws_s3_bucket.other.id}", "target_bucket": "${aws_s3_bucket.logs.id}"}),
        ("aws_wafv2_web_acl_logging_configuration", {"log_destination_configs": ["${aws_s3_bucket.logs.arn}"]}),
        (
            "aws_kinesis_firehose_delivery_stream",
            {
                "extended_s3_configuration": {
                    "bucket_arn": "${aws_s3_bucket.other.arn}",
                    "s3_backup_configuration": {"bucket_arn": "${aws_s3_bucket.logs.arn}"},
                }
            },
        ),
    ],
)
def test_every_kind_of_log_writer_leads_to_its_bucket(writer_kind: str, writer: Body) -> None:
    environment = {
        writer_kind: {"writer": writer},
        "aws_s3_bucket": {"logs": {}, "other": {}},
        "aws_s3_bucket_lifecycle_configuration": {"logs_lifecycle": lifecycle("logs", 30)},
    }
    assert violated(run("TAP-LOG-2", environment=environment)) == ["aws_s3_bucket.logs"]


def test_a_short_lived_bucket_replicated_to_a_year_long_archive_passes() -> None:
    environment = {
        "aws_lb": {"alb": {"access_logs": {"bucket": "${aws_s3_bucket.logs.bucket}"}}},
        "aws_s3_bucket": {"logs": {}, "archive": {}},
        "aws_s3_bucket_lifecycle_configuration": {"l": lifecycle("logs", 90), "a": lifecycle("archive", 365)},
        "aws_s3_bucket_replication_configuration": {
            "r": {
                "bucket": "${aws_s3_bucket.logs.id}",
                "rule": [
                    {"id": "archive", "status": "Enabled", "destination": {"bucket": "${aws_s3_bucket.archive.arn}"}}
                ],
            }
        },
    }
    outcome = run("TAP-LOG-2", environment=environment)
    assert outcome.passed
    assert evidenced(outcome) == {
        "aws_s3_bucket_replication_configuration.r",
        "aws_s3_bucket_lifecycle_configuration.a",
    }
    environment["aws_s3_bucket_lifecycle_configuration"]["a"] = lifecycle("archive", 100)
    assert violated(run("TAP-LOG-2", environment=environment)) == ["aws_s3_bucket.logs"]


def test_logs_delivered_to_a_bucket_neither_stack_declares_fail() -> None:
    environment = {"aws_flow_log": {"vpc": {"log_destination": "arn:aws:s3:::elsewhere", "log_destination_type": "s3"}}}
    outcome = run("TAP-LOG-2", environment=environment)
    assert violated(outcome) == ["aws_flow_log.vpc"] and "arn:aws:s3:::elsewhere" in outcome.violations[0].message


def test_a_literal_bucket_name_is_found_in_the_other_stack() -> None:
    environment = {
        "aws_flow_log": {"vpc": {"log_destination": "arn:aws:s3:::account-flow-logs", "log_destination_type": "s3"}}
    }
    baseline = {
        "aws_s3_bucket": {"flow": {"bucket": "account-flow-logs"}},
        "aws_s3_bucket_lifecycle_configuration": {"flow_lifecycle": lifecycle("flow", 400)},
    }
    outcome = run("TAP-LOG-2", environment=environment, baseline=baseline)
    assert outcome.passed and evidenced(outcome) == {"aws_s3_bucket_lifecycle_configuration.flow_lifecycle"}


def test_without_log_sinks_retention_does_not_apply() -> None:
    assert run("TAP-LOG-2", environment={"aws_s3_bucket": {"assets": {}}}).not_applicable is not None
