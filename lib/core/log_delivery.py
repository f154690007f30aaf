"""Log groups delivered into a bucket by Firehose, through CloudWatch Logs subscriptions.

Shared by the instances' application logs (compute) and the payment functions' logs
(observability). Each subscribed group sends its events, gzipped in CloudWatch's envelope, to one
encrypted stream; the stream's processors turn them into what the bucket keeps, under date
prefixes, GZIP-compressed and encrypted with the bucket's key. What the stream cannot deliver or
process lands under the error prefix, by error type. The stream's role may write only its prefixes,
use the key only through S3 for objects under them, invoke only its transform, and report errors
only into its own log stream.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cdktn_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktn_provider_aws.cloudwatch_log_stream import CloudwatchLogStream
from cdktn_provider_aws.cloudwatch_log_subscription_filter import CloudwatchLogSubscriptionFilter
from cdktn_provider_aws.kinesis_firehose_delivery_stream import KinesisFirehoseDeliveryStream
from cdktn_provider_aws.kinesis_firehose_delivery_stream import (
    KinesisFirehoseDeliveryStreamExtendedS3ConfigurationProcessingConfigurationProcessors as Processor,
)
from cdktn_provider_aws.kinesis_firehose_delivery_stream import (
    KinesisFirehoseDeliveryStreamExtendedS3ConfigurationProcessingConfigurationProcessorsParameters as Parameter,
)
from cdktn_provider_aws.kms_key import KmsKey
from constructs import Construct

from lib.core.bucket import SecureBucket
from lib.core.context import StackContext
from lib.core.iam import service_role
from lib.core.log_group import encrypted_log_group
from lib.core.policies import Statement, via_services

# The error prefix's required expression: Firehose files each failure under its type
# (processing-failed, format-conversion-failed, ...).
ERROR_TYPE = "!{firehose:error-output-type}"


@dataclass(frozen=True, kw_only=True)
class LogDeliveryProps:
    """One stream from `sources` (log groups by stable key) into `bucket`."""

    purpose: str  # e.g. "app-logs": names the stream, its roles and its error log group
    description: str
    sources: Mapping[str, CloudwatchLogGroup]
    bucket: SecureBucket
    s3_key: KmsKey
    logs_key: KmsKey
    prefix: str
    error_prefix: str
    processors: Sequence[Processor]
    # Firehose's buffer: a file every 5 minutes or 64 MiB, whichever comes first.
    buffer_seconds: int = 300
    buffer_mb: int = 64
    # With a prefix, every source record is also kept unprocessed under it (s3_backup_mode Enabled).
    backup_prefix: str | None = None
    # The transform function the processors invoke, if any (its ARN, unqualified).
    transform_arn: str | None = None
    filter_pattern: str = ""

    @property
    def written_prefixes(self) -> tuple[str, ...]:
        """Each prefix up to its first expression: what the role's object ARNs can name."""
        prefixes = (self.prefix, self.error_prefix, *((self.backup_prefix,) if self.backup_prefix else ()))
        return tuple(prefix.split("!{", 1)[0] for prefix in prefixes)


def deliver_logs(scope: Construct, context: StackContext, props: LogDeliveryProps) -> KinesisFirehoseDeliveryStream:
    """The stream, its role, and a subscription on each source group (ids `subscription_<key>`)."""
    names, bucket = context.names, props.bucket
    stream_name = names.make("firehose", props.purpose)
    errors = encrypted_log_group(
        scope, "delivery_errors", name=names.path("log_group", "firehose", props.purpose), key=props.logs_key
    )
    error_stream = CloudwatchLogStream(scope, "delivery_error_stream", name="S3Delivery", log_group_name=errors.name)
    logging = {"enabled": True, "log_group_name": errors.name, "log_stream_name": error_stream.name}
    delivery_role = service_role(
        scope,
        "delivery_role",
        name=names.make("iam_role", f"{props.purpose}-delivery"),
        description=props.description,
        service=context.principal("firehose"),
        account_id=context.account_id,
        source_arn=context.arn("firehose", f"deliverystream/{stream_name}"),
        statements=_delivery_statements(context, props, errors.arn),
    )
    backup_errors = (
        CloudwatchLogStream(scope, "backup_error_stream", name="S3Backup", log_group_name=errors.name)
        if props.backup_prefix
        else None
    )
    backup = (
        {
            "s3_backup_mode": "Enabled",
            "s3_backup_configuration": {
                "role_arn": delivery_role.arn,
                "bucket_arn": bucket.arn,
                "prefix": props.backup_prefix,
                "error_output_prefix": props.error_prefix,
                # The source records are CloudWatch's gzipped envelopes already.
                "compression_format": "UNCOMPRESSED",
                "kms_key_arn": props.s3_key.arn,
                "buffering_interval": props.buffer_seconds,
                "buffering_size": props.buffer_mb,
                "cloudwatch_logging_options": {**logging, "log_stream_name": backup_errors.name},
            },
        }
        if props.backup_prefix and backup_errors is not None
        else {}
    )
    stream = KinesisFirehoseDeliveryStream(
        scope,
        "stream",
        name=stream_name,
        destination="extended_s3",
        server_side_encryption={"enabled": True, "key_type": "CUSTOMER_MANAGED_CMK", "key_arn": props.s3_key.arn},
        extended_s3_configuration={
            "role_arn": delivery_role.arn,
            "bucket_arn": bucket.arn,
            "prefix": props.prefix,
            "error_output_prefix": props.error_prefix,
            "buffering_interval": props.buffer_seconds,
            "buffering_size": props.buffer_mb,
            "compression_format": "GZIP",
            "kms_key_arn": props.s3_key.arn,
            "cloudwatch_logging_options": logging,
            "processing_configuration": {"enabled": True, "processors": list(props.processors)},
            **backup,
        },
    )
    subscription_role = service_role(
        scope,
        "subscription_role",
        name=names.make("iam_role", f"{props.purpose}-subscription"),
        description=f"CloudWatch Logs sends the subscribed log groups' events to {stream_name}",
        service=context.principal("logs"),
        account_id=context.account_id,
        # The subscribed groups only (each ARN, with or without the ":*" suffix).
        source_arn=[context.arn("logs", f"log-group:{group.name}*") for group in props.sources.values()],
        statements=[
            {
                "Sid": "PutIntoTheStream",
                "Effect": "Allow",
                "Action": ["firehose:PutRecord", "firehose:PutRecordBatch"],
                "Resource": stream.arn,
            }
        ],
    )
    for key, group in props.sources.items():
        CloudwatchLogSubscriptionFilter(
            scope,
            f"subscription_{key}",
            name=f"{props.purpose}-to-bucket",
            log_group_name=group.name,
            filter_pattern=props.filter_pattern,
            destination_arn=stream.arn,
            role_arn=subscription_role.arn,
        )
    return stream


def _delivery_statements(context: StackContext, props: LogDeliveryProps, errors_arn: str) -> list[Statement]:
    bucket_arn = props.bucket.arn
    objects = [f"{bucket_arn}/{prefix}*" for prefix in props.written_prefixes]
    statements: list[Statement] = [
        {
            "Sid": "FindTheBucket",
            "Effect": "Allow",
            "Action": ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
            "Resource": bucket_arn,
        },
        {
            "Sid": "WriteItsPrefixes",
            "Effect": "Allow",
            "Action": ["s3:PutObject", "s3:AbortMultipartUpload"],
            "Resource": objects,
        },
        {
            # Only through S3, and only for this bucket: with S3 Bucket Keys on, S3's encryption
            # context is the bucket's ARN.
            "Sid": "EncryptItsObjects",
            "Effect": "Allow",
            "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
            "Resource": props.s3_key.arn,
            "Condition": {
                "StringEquals": {
                    **via_services([context.region.service_host("s3")])["StringEquals"],
                    "kms:EncryptionContext:aws:s3:arn": bucket_arn,
                }
            },
        },
        {
            "Sid": "ReportDeliveryErrors",
            "Effect": "Allow",
            "Action": ["logs:PutLogEvents"],
            "Resource": f"{errors_arn}:log-stream:*",
        },
    ]
    if props.transform_arn is not None:
        statements.append(
            {
                "Sid": "InvokeTheTransform",
                "Effect": "Allow",
                "Action": ["lambda:InvokeFunction"],
                "Resource": [props.transform_arn, f"{props.transform_arn}:*"],
            }
        )
    return statements


def unwrap_cloudwatch_envelope() -> list[Processor]:
    """Firehose's processors that turn CloudWatch's gzipped envelopes back into the log lines."""
    return [
        Processor(
            type="Decompression", parameters=[Parameter(parameter_name="CompressionFormat", parameter_value="GZIP")]
        ),
        Processor(
            type="CloudWatchLogProcessing",
            parameters=[Parameter(parameter_name="DataMessageExtraction", parameter_value="true")],
        ),
    ]
