"""TAP-TRAIL-1 (a multi-region, validated trail exists) and TAP-TRAIL-2 (data events on payment data)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.compliance.rules.documents import Body, evidenced, run, violated

ACCOUNT_TRAIL: Body = {
    "is_multi_region_trail": True,
    "include_global_service_events": True,
    "enable_log_file_validation": True,
}


def test_a_multi_region_validated_trail_in_the_baseline_passes() -> None:
    outcome = run("TAP-TRAIL-1", baseline={"aws_cloudtrail": {"account": ACCOUNT_TRAIL}})
    assert outcome.passed and evidenced(outcome) == {"aws_cloudtrail.account"}
    assert {(e.attribute, e.value) for e in outcome.evidence} == {
        ("is_multi_region_trail", "true"),
        ("include_global_service_events", "true"),
        ("enable_logging", "true"),
        ("enable_log_file_validation", "true"),
    }


def test_the_trail_may_be_in_the_environment_stack() -> None:
    assert run("TAP-TRAIL-1", environment={"aws_cloudtrail": {"account": ACCOUNT_TRAIL}}).passed


def test_no_trail_at_all_fails_naming_the_type() -> None:
    outcome = run("TAP-TRAIL-1")
    assert violated(outcome) == ["aws_cloudtrail"] and outcome.not_applicable is None


def test_a_single_region_trail_is_not_enough() -> None:
    regional = {**ACCOUNT_TRAIL, "is_multi_region_trail": False}
    assert violated(run("TAP-TRAIL-1", baseline={"aws_cloudtrail": {"account": regional}})) == ["aws_cloudtrail"]


def test_a_trail_without_global_service_events_is_not_enough() -> None:
    trail = {**ACCOUNT_TRAIL, "include_global_service_events": False}
    assert violated(run("TAP-TRAIL-1", baseline={"aws_cloudtrail": {"account": trail}})) == ["aws_cloudtrail"]


@pytest.mark.parametrize(
    "change",
    [
        {"enable_logging": False},
        {"event_selector": [{"include_management_events": False}]},
        {"event_selector": [{"read_write_type": "WriteOnly"}]},
        {"advanced_event_selector": [{"field_selector": [{"field": "eventCategory", "equals": ["Data"]}]}]},
        {
            "advanced_event_selector": [
                {
                    "field_selector": [
                        {"field": "eventCategory", "equals": ["Management"]},
                        {"field": "readOnly", "equals": ["false"]},
                    ]
                }
            ]
        },
    ],
    ids=["not logging", "no management events", "writes only", "data events only", "advanced, writes only"],
)
def test_a_trail_that_does_not_log_every_management_event_is_not_enough(change: dict[str, Any]) -> None:
    trail = {**ACCOUNT_TRAIL, **change}
    assert violated(run("TAP-TRAIL-1", baseline={"aws_cloudtrail": {"account": trail}})) == ["aws_cloudtrail"]


def test_management_events_by_selector_pass() -> None:
    basic = {**ACCOUNT_TRAIL, "event_selector": [{"include_management_events": True, "read_write_type": "All"}]}
    advanced = {
        **ACCOUNT_TRAIL,
        "advanced_event_selector": [{"field_selector": [{"field": "eventCategory", "equals": ["Management"]}]}],
    }
    for trail in (basic, advanced):
        assert run("TAP-TRAIL-1", baseline={"aws_cloudtrail": {"account": trail}}).passed


def test_any_trail_without_log_file_validation_fails() -> None:
    unvalidated = {"is_multi_region_trail": False, "enable_log_file_validation": False}
    outcome = run(
        "TAP-TRAIL-1",
        environment={"aws_cloudtrail": {"data": unvalidated}},
        baseline={"aws_cloudtrail": {"account": ACCOUNT_TRAIL}},
    )
    assert violated(outcome) == ["aws_cloudtrail.data"]
    assert "enable_log_file_validation" in outcome.violations[0].message


AUDIT = "foundation_storage_audit_logs_bucket_2756FF50"
AUDIT_OBJECTS = f"${{aws_s3_bucket.{AUDIT}.arn}}/"


def selector(resource_type: str, arns: dict[str, list[str]] | None, **extra: list[str]) -> Body:
    fields: list[dict[str, Any]] = [
        {"field": "eventCategory", "equals": ["Data"]},
        {"field": "resources.type", "equals": [resource_type]},
    ]
    if arns is not None:
        fields.append({"field": "resources.ARN", **arns})
    fields += [{"field": name, "equals": values} for name, values in extra.items()]
    return {"name": resource_type, "field_selector": fields}


def data_trail(*selectors: Body) -> dict[str, dict[str, Body]]:
    return {"aws_s3_bucket": {AUDIT: {}}, "aws_cloudtrail": {"data": {"advanced_event_selector": list(selectors)}}}


def test_object_events_on_the_payment_record_bucket_pass() -> None:
    outcome = run("TAP-TRAIL-2", environment=data_trail(selector("AWS::S3::Object", {"starts_with": [AUDIT_OBJECTS]})))
    assert outcome.passed and evidenced(outcome) == {"aws_cloudtrail.data"}


def test_a_payment_record_bucket_no_trail_selects_fails() -> None:
    outcome = run("TAP-TRAIL-2", environment={"aws_s3_bucket": {AUDIT: {}}})
    assert violated(outcome) == [f"aws_s3_bucket.{AUDIT}"]
    assert "reads and writes" in outcome.violations[0].message


def test_recording_only_writes_leaves_reads_unlogged() -> None:
    writes = selector("AWS::S3::Object", {"starts_with": [AUDIT_OBJECTS]}, readOnly=["false"])
    outcome = run("TAP-TRAIL-2", environment=data_trail(writes))
    assert violated(outcome)[0] == f"aws_s3_bucket.{AUDIT}" and "object reads in" in outcome.violations[0].message


def test_a_selector_on_another_bucket_does_not_cover_the_payment_records() -> None:
    other = selector("AWS::S3::Object", {"starts_with": ["${aws_s3_bucket.other.arn}/"]})
    environment = data_trail(other)
    environment["aws_s3_bucket"]["other"] = {}
    assert violated(run("TAP-TRAIL-2", environment=environment)) == [f"aws_s3_bucket.{AUDIT}"]


def test_a_legacy_event_selector_on_all_buckets_covers_the_payment_records() -> None:
    environment: dict[str, dict[str, Body]] = {
        "aws_s3_bucket": {AUDIT: {}},
        "aws_cloudtrail": {
            "data": {"event_selector": [{"data_resource": [{"type": "AWS::S3::Object", "values": ["arn:aws:s3"]}]}]}
        },
    }
    assert run("TAP-TRAIL-2", environment=environment).passed


def test_a_function_selector_must_name_a_function_of_the_stack() -> None:
    environment: dict[str, dict[str, Body]] = {
        "aws_lambda_function": {"pay": {}},
        "aws_cloudtrail": {
            "data": {
                "advanced_event_selector": [
                    selector(
                        "AWS::Lambda::Function",
                        {"equals": ["${aws_lambda_function.pay.arn}", "${aws_lambda_function.gone.arn}"]},
                    )
                ]
            }
        },
    }
    outcome = run("TAP-TRAIL-2", environment=environment)
    assert violated(outcome) == ["aws_cloudtrail.data"] and "aws_lambda_function.gone" in outcome.violations[0].message
    assert [e.value for e in outcome.evidence] == ['"${aws_lambda_function.pay.arn}"']


def test_without_payment_records_or_selected_resources_it_does_not_apply() -> None:
    outcome = run("TAP-TRAIL-2", environment={"aws_s3_bucket": {"assets_bucket_12345678": {}}})
    assert outcome.passed and outcome.not_applicable is not None
