"""Document 002's payment-log stream (`lib/observability/payment_logs.py`, `lib/core/log_delivery.py`):
where it delivers, what its role may do, what it is fed, and the transform it invokes. The
transform's own behaviour is tested in `tests/lambdas/observability/`."""

from __future__ import annotations

import zipfile
from typing import Any

import pytest

from lib.contracts import log_stream
from lib.profiles import PROFILES, load_config
from lib.reachability import called_services
from lib.validation import validate
from tests.conftest import PROFILE_NAMES, SUFFIX, Document, Synthesized, function_zip, policy, ref, resources

STREAMING = sorted(name for name, config in PROFILES.items() if config.observability.payment_log_stream)
STREAM = "observability_payment_logs_stream"
BUCKET = "observability_payment_logs_bucket"
TRANSFORM = "observability_payment_logs_transform_function"


def test_document_002_and_full_stream_their_payment_logs() -> None:
    assert STREAMING == ["full", "secure-platform"]


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_the_stream_exists_exactly_where_configured(synthesized: Synthesized, profile: str) -> None:
    streams = resources(synthesized(profile), "aws_kinesis_firehose_delivery_stream")
    assert (STREAM in streams) == (profile in STREAMING)


def s3_configuration(doc: Document) -> dict[str, Any]:
    return dict(resources(doc, "aws_kinesis_firehose_delivery_stream")[STREAM]["extended_s3_configuration"])


@pytest.mark.parametrize("profile", STREAMING)
def test_it_delivers_gzipped_encrypted_records_under_date_prefixes(synthesized: Synthesized, profile: str) -> None:
    doc = synthesized(profile)
    stream = resources(doc, "aws_kinesis_firehose_delivery_stream")[STREAM]
    s3_key = ref(doc, "aws_kms_key", "foundation_keys_s3", "arn")
    assert stream["name"] == f"{load_config({'TAP_PROFILE': profile}).name_prefix}-payment-logs-{SUFFIX}"
    assert stream["server_side_encryption"] == {"enabled": True, "key_type": "CUSTOMER_MANAGED_CMK", "key_arn": s3_key}
    s3 = s3_configuration(doc)
    bucket = ref(doc, "aws_s3_bucket", BUCKET, "arn")
    assert (s3["bucket_arn"], s3["compression_format"], s3["kms_key_arn"]) == (bucket, "GZIP", s3_key)
    assert s3["prefix"] == "payments/!{timestamp:yyyy/MM/dd}/"
    assert s3["error_output_prefix"] == "errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/"
    # Every source record is also kept as it came, under its own prefix in the same bucket.
    assert s3["s3_backup_mode"] == "Enabled"
    backup = s3["s3_backup_configuration"]
    assert (backup["bucket_arn"], backup["kms_key_arn"]) == (bucket, s3_key)
    assert backup["prefix"] == "raw/!{timestamp:yyyy/MM/dd}/"
    assert s3["cloudwatch_logging_options"]["enabled"] and backup["cloudwatch_logging_options"]["enabled"]


@pytest.mark.parametrize("profile", STREAMING)
def test_the_bucket_keeps_a_year_in_intelligent_tiering(synthesized: Synthesized, profile: str) -> None:
    doc = synthesized(profile)
    bucket = ref(doc, "aws_s3_bucket", BUCKET)
    (lifecycle,) = [
        c for c in resources(doc, "aws_s3_bucket_lifecycle_configuration").values() if c["bucket"] == bucket
    ]
    (rule,) = lifecycle["rule"]
    assert rule["transition"] == [{"days": 0, "storage_class": "INTELLIGENT_TIERING"}]
    assert rule["expiration"] == [{"days": 365}]
    (encryption,) = [
        e
        for e in resources(doc, "aws_s3_bucket_server_side_encryption_configuration").values()
        if e["bucket"] == bucket
    ]
    (sse,) = encryption["rule"]
    assert sse["apply_server_side_encryption_by_default"]["kms_master_key_id"] == ref(
        doc, "aws_kms_key", "foundation_keys_s3", "arn"
    )


@pytest.mark.parametrize("profile", STREAMING)
def test_its_processor_is_the_transform(synthesized: Synthesized, profile: str) -> None:
    doc = synthesized(profile)
    (processor,) = s3_configuration(doc)["processing_configuration"]["processors"]
    parameters = {p["parameter_name"]: p["parameter_value"] for p in processor["parameters"]}
    assert processor["type"] == "Lambda"
    assert parameters["LambdaArn"] == ref(doc, "aws_lambda_function", TRANSFORM, "arn") + ":$LATEST"
    # Small inputs: CloudWatch's envelopes inflate, and the response is at most 6 MB.
    assert float(parameters["BufferSizeInMBs"]) <= 1


@pytest.mark.parametrize("profile", STREAMING)
def test_the_delivery_role_has_exactly_its_prefixes_the_bucket_key_via_s3_the_transform_and_logs(
    synthesized: Synthesized, profile: str
) -> None:
    doc = synthesized(profile)
    statements = policy(resources(doc, "aws_iam_role_policy")["observability_payment_logs_delivery_role_policy"])[
        "Statement"
    ]
    bucket = ref(doc, "aws_s3_bucket", BUCKET, "arn")
    transform = ref(doc, "aws_lambda_function", TRANSFORM, "arn")
    errors = ref(doc, "aws_cloudwatch_log_group", "observability_payment_logs_delivery_errors", "arn")
    granted = {(action, str(s["Resource"])) for s in statements for action in s["Action"]}
    prefixes = str([f"{bucket}/payments/*", f"{bucket}/errors/*", f"{bucket}/raw/*"])
    assert granted == {
        ("s3:GetBucketLocation", bucket),
        ("s3:ListBucket", bucket),
        ("s3:ListBucketMultipartUploads", bucket),
        ("s3:PutObject", prefixes),
        ("s3:AbortMultipartUpload", prefixes),
        ("kms:GenerateDataKey", ref(doc, "aws_kms_key", "foundation_keys_s3", "arn")),
        ("kms:Decrypt", ref(doc, "aws_kms_key", "foundation_keys_s3", "arn")),
        ("lambda:InvokeFunction", str([transform, f"{transform}:*"])),
        ("logs:PutLogEvents", f"{errors}:log-stream:*"),
    }
    (key,) = [s for s in statements if s["Sid"] == "EncryptItsObjects"]
    # Only through S3, and only under this bucket's encryption context (S3 Bucket Keys: the bucket ARN).
    assert key["Condition"] == {
        "StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com", "kms:EncryptionContext:aws:s3:arn": bucket}
    }
    trust = policy(resources(doc, "aws_iam_role")["observability_payment_logs_delivery_role"], "assume_role_policy")
    (assume,) = trust["Statement"]
    assert assume["Principal"] == {"Service": "firehose.amazonaws.com"}
    assert assume["Condition"]["ArnLike"]["aws:SourceArn"].endswith(
        ":deliverystream/" + resources(doc, "aws_kinesis_firehose_delivery_stream")[STREAM]["name"]
    )


def payment_function_groups(doc: Document) -> set[str]:
    """The log groups of every payment function and the transactions API."""
    return {
        function["logging_config"]["log_group"]
        for path, function in resources(doc, "aws_lambda_function").items()
        if path.startswith("payments_")
    }


@pytest.mark.parametrize("profile", STREAMING)
def test_every_payment_functions_log_group_feeds_the_stream(synthesized: Synthesized, profile: str) -> None:
    doc = synthesized(profile)
    stream = ref(doc, "aws_kinesis_firehose_delivery_stream", STREAM, "arn")
    role = ref(doc, "aws_iam_role", "observability_payment_logs_subscription_role", "arn")
    subscriptions = [
        s for s in resources(doc, "aws_cloudwatch_log_subscription_filter").values() if s["destination_arn"] == stream
    ]
    groups = {s["log_group_name"] for s in subscriptions}
    assert groups == payment_function_groups(doc)
    assert len(groups) == (5 if profile == "full" else 4)  # full adds the transactions API
    assert all(s["role_arn"] == role and s["filter_pattern"] == "" for s in subscriptions)
    trust = policy(resources(doc, "aws_iam_role")["observability_payment_logs_subscription_role"], "assume_role_policy")
    (assume,) = trust["Statement"]
    assert assume["Principal"] == {"Service": "logs.amazonaws.com"}
    sources = assume["Condition"]["ArnLike"]["aws:SourceArn"]
    assert sorted(sources) == sorted(f"arn:aws:logs:us-east-1:{account()}:log-group:{group}*" for group in groups)
    (put,) = policy(resources(doc, "aws_iam_role_policy")["observability_payment_logs_subscription_role_policy"])[
        "Statement"
    ]
    assert (put["Action"], put["Resource"]) == (["firehose:PutRecord", "firehose:PutRecordBatch"], stream)


def account() -> str:
    return "${data.aws_caller_identity.current.account_id}"


@pytest.mark.parametrize("profile", STREAMING)
def test_the_transform_carries_the_detector_and_calls_nothing_itself(synthesized: Synthesized, profile: str) -> None:
    result, doc = synthesized.result(profile)
    function = resources(doc, "aws_lambda_function")[TRANSFORM]
    assert function["handler"] == "payment_log_stream.handler"
    assert function["vpc_config"]["subnet_ids"]
    names = set(zipfile.ZipFile(function_zip(result.output_file.parent, doc, TRANSFORM)).namelist())
    # The same detector as the validation path, and the contract it shares with the stack.
    assert {"payment_log_stream.py", "card_data.py", "payments_common.py", "lib/contracts/log_stream.py"} <= names
    # Firehose invokes it from outside the VPC; its code calls no AWS API, so it needs no path.
    assert called_services(doc, ref(doc, "aws_iam_role", "observability_payment_logs_transform_role")) == set()


@pytest.mark.parametrize("profile", STREAMING)
def test_the_stream_and_its_transform_are_watched(synthesized: Synthesized, profile: str) -> None:
    doc = synthesized(profile)
    alarms = resources(doc, "aws_cloudwatch_metric_alarm")
    stream = ref(doc, "aws_kinesis_firehose_delivery_stream", STREAM, "name")
    transform = ref(doc, "aws_lambda_function", TRANSFORM, "function_name")
    watched = {(a["metric_name"], next(iter(a["dimensions"].values()))) for a in alarms.values()}
    assert {("DeliveryToS3.Success", stream), ("Errors", transform), ("Throttles", transform)} <= watched
    # Its own counts, under the `service` Powertools gives its metrics: a record it could not
    # store, and a card number it had to mask (masking at the source missed one).
    service = resources(doc, "aws_lambda_function")[TRANSFORM]["environment"]["variables"]["POWERTOOLS_SERVICE_NAME"]
    assert {(log_stream.LOG_RECORDS_FAILED, service), (log_stream.CARD_NUMBERS_MASKED, service)} <= watched


def test_a_stream_without_payment_logs_to_stream_is_refused(tmp_path: Any) -> None:
    config = tmp_path / "stream.toml"
    config.write_text("[observability]\npayment_log_stream = true\n")
    (violation,) = validate(load_config({"TAP_PROFILE": "web-mysql", "TAP_CONFIG": str(config)}))
    assert violation.rule_id == "observability.payment_log_stream"
    assert "stream.toml" in str(violation)
