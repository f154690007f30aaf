"""The instances' application logs: an encrypted log group, and where the profile keeps an
app-logs bucket (document 003, `full`), a copy in that bucket.

The health service writes structured JSON lines (card data masked at the source); systemd
appends them to a file that the CloudWatch agent ships to the log group, one stream per instance.
A subscription sends every event on to a Firehose stream, which unwraps CloudWatch's envelope
(decompression and message extraction), so the bucket holds the same JSON lines, gzipped, under
`health/`. The bucket's own lifecycle (document 003's 90 days, with the PCI year in its replicated
archive) applies.
"""

from __future__ import annotations

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
from lib.core.policies import key_use

BUCKET_PREFIX = "health/"
ERROR_PREFIX = "errors/health/"
# Firehose's buffer: a file every 5 minutes or 64 MiB (the minimum size with record processing).
BUFFER_SECONDS, BUFFER_MB = 300, 64


@dataclass(frozen=True, kw_only=True)
class ApplicationLogsProps:
    logs_key: KmsKey
    s3_key: KmsKey
    # The profile's app-logs bucket; None keeps the logs in CloudWatch only.
    bucket: SecureBucket | None


class ApplicationLogs(Construct):
    """`group` the agent writes into; `stream` the Firehose copy goes through, when there is a bucket."""

    def __init__(self, scope: Construct, construct_id: str, context: StackContext, props: ApplicationLogsProps) -> None:
        super().__init__(scope, construct_id)
        names = context.names
        # The name as a literal (the user data carries it; the resource's attribute would be a reference).
        self.group_name = names.path("log_group", "app", "health")
        self.group: CloudwatchLogGroup = encrypted_log_group(self, "group", name=self.group_name, key=props.logs_key)
        self.stream: KinesisFirehoseDeliveryStream | None = None
        if props.bucket is not None:
            self.stream = self._to_bucket(context, props, props.bucket)

    def _to_bucket(
        self, context: StackContext, props: ApplicationLogsProps, bucket: SecureBucket
    ) -> KinesisFirehoseDeliveryStream:
        names = context.names
        stream_name = names.make("firehose", "app-logs")
        errors = encrypted_log_group(
            self, "delivery_errors", name=names.path("log_group", "firehose", "app-logs"), key=props.logs_key
        )
        error_stream = CloudwatchLogStream(self, "delivery_error_stream", name="S3Delivery", log_group_name=errors.name)
        stream_arn = context.arn("firehose", f"deliverystream/{stream_name}")
        s3_host = context.region.service_host("s3")
        delivery_role = service_role(
            self,
            "delivery_role",
            name=names.make("iam_role", "app-logs-delivery"),
            description="Firehose writes the application logs into the app-logs bucket",
            service=context.principal("firehose"),
            account_id=context.account_id,
            source_arn=stream_arn,
            statements=[
                {
                    "Sid": "WriteTheBucket",
                    "Effect": "Allow",
                    "Action": ["s3:PutObject", "s3:AbortMultipartUpload", "s3:GetBucketLocation", "s3:ListBucket"],
                    "Resource": [bucket.arn, f"{bucket.arn}/{BUCKET_PREFIX}*", f"{bucket.arn}/{ERROR_PREFIX}*"],
                },
                key_use("EncryptObjects", ["kms:GenerateDataKey", "kms:Decrypt"], props.s3_key.arn, [s3_host]),
                {
                    "Sid": "ReportDeliveryErrors",
                    "Effect": "Allow",
                    "Action": ["logs:PutLogEvents"],
                    "Resource": f"{errors.arn}:log-stream:*",
                },
            ],
        )
        stream = KinesisFirehoseDeliveryStream(
            self,
            "stream",
            name=stream_name,
            destination="extended_s3",
            server_side_encryption={"enabled": True, "key_type": "CUSTOMER_MANAGED_CMK", "key_arn": props.s3_key.arn},
            extended_s3_configuration={
                "role_arn": delivery_role.arn,
                "bucket_arn": bucket.arn,
                "prefix": BUCKET_PREFIX,
                "error_output_prefix": f"{ERROR_PREFIX}!{{firehose:error-output-type}}/",
                "buffering_interval": BUFFER_SECONDS,
                "buffering_size": BUFFER_MB,
                "compression_format": "GZIP",
                "kms_key_arn": props.s3_key.arn,
                "cloudwatch_logging_options": {
                    "enabled": True,
                    "log_group_name": errors.name,
                    "log_stream_name": error_stream.name,
                },
                "processing_configuration": {"enabled": True, "processors": unwrap_cloudwatch_envelope()},
            },
        )
        subscription_role = service_role(
            self,
            "subscription_role",
            name=names.make("iam_role", "app-logs-subscription"),
            description="CloudWatch Logs sends the application log group's events to Firehose",
            service=context.principal("logs"),
            account_id=context.account_id,
            # The subscription's own group only (its ARN, with or without the ":*" suffix).
            source_arn=context.arn("logs", f"log-group:{self.group_name}*"),
            statements=[
                {
                    "Sid": "PutIntoTheStream",
                    "Effect": "Allow",
                    "Action": ["firehose:PutRecord", "firehose:PutRecordBatch"],
                    "Resource": stream.arn,
                }
            ],
        )
        CloudwatchLogSubscriptionFilter(
            self,
            "subscription",
            name="app-logs-to-bucket",
            log_group_name=self.group.name,
            filter_pattern="",
            destination_arn=stream.arn,
            role_arn=subscription_role.arn,
        )
        return stream


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
