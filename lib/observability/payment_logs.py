"""Document 002's stream of payment transaction logs into S3, re-masked on the way.

The feed is a CloudWatch Logs subscription on each payment function's log group (not a second
write from the functions): nothing in the payment path waits on Firehose or needs a route to it,
and the logs reach the bucket even when a function fails mid-request. The functions mask card
data before logging; the transform (`lib/lambda/payment_log_stream`) is the second line: it
re-masks every value with the same detector, drops fields that must never be stored, and returns
what it cannot read as `ProcessingFailed` (kept under the error prefix, never dropped).

The bucket keeps the transformed lines a year (PCI-DSS 10.5.1) in Intelligent-Tiering from day
one (002), GZIP-compressed and encrypted with the s3 key, under `payments/<yyyy/MM/dd>/`. The
source records (CloudWatch's gzipped envelopes, as the functions logged them) are also kept
unprocessed under `raw/` (002's "backup for failed records": s3_backup_mode Enabled), so a
transform bug never loses a line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cdktn_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktn_provider_aws.kinesis_firehose_delivery_stream import KinesisFirehoseDeliveryStream
from cdktn_provider_aws.kinesis_firehose_delivery_stream import (
    KinesisFirehoseDeliveryStreamExtendedS3ConfigurationProcessingConfigurationProcessors as Processor,
)
from cdktn_provider_aws.kinesis_firehose_delivery_stream import (
    KinesisFirehoseDeliveryStreamExtendedS3ConfigurationProcessingConfigurationProcessorsParameters as Parameter,
)
from cdktn_provider_aws.kms_key import KmsKey
from cdktn_provider_aws.s3_bucket import S3Bucket
from constructs import Construct

from lib.config import PCI_LOG_RETENTION_DAYS, BucketLifecycle
from lib.contracts import log_stream as contract
from lib.core.bucket import SecureBucket, SecureBucketProps
from lib.core.context import StackContext
from lib.core.function import FunctionPlacement, FunctionProps, PythonFunction
from lib.core.log_delivery import ERROR_TYPE, LogDeliveryProps, deliver_logs

DATE = "!{timestamp:yyyy/MM/dd}"
PREFIX = f"payments/{DATE}/"
ERROR_PREFIX = f"errors/{ERROR_TYPE}/{DATE}/"
RAW_PREFIX = f"raw/{DATE}/"
# Intelligent-Tiering from the first day (002), kept the PCI year.
LIFECYCLE = BucketLifecycle(
    expire_after_days=PCI_LOG_RETENTION_DAYS, transition_after_days=0, transition_storage_class="INTELLIGENT_TIERING"
)
TRANSFORM_BUFFER_SECONDS = "60"
# Firehose allows up to 5 minutes; a batch is transformed in well under one.
TRANSFORM_TIMEOUT_SECONDS = 60
TRANSFORM_CONCURRENCY = 10


@dataclass(frozen=True, kw_only=True)
class PaymentLogStreamProps:
    # The payment functions' log groups, by stable key.
    sources: Mapping[str, CloudwatchLogGroup]
    placement: FunctionPlacement
    s3_key: KmsKey
    logs_key: KmsKey
    access_log_bucket: S3Bucket


class PaymentLogStream(Construct):
    """`bucket`, `transform` and `stream`."""

    def __init__(
        self, scope: Construct, construct_id: str, context: StackContext, props: PaymentLogStreamProps
    ) -> None:
        super().__init__(scope, construct_id)
        names = context.names
        self.bucket = SecureBucket(
            self,
            "bucket",
            context.lifecycle,
            SecureBucketProps(
                name=names.make("s3_bucket", "payment-logs"),
                lifecycle=LIFECYCLE,
                kms_key=props.s3_key,
                access_log_bucket=props.access_log_bucket,
            ),
        )
        self.transform = PythonFunction(
            self,
            "transform",
            context,
            FunctionProps(
                purpose="payment-log-stream",
                description="Firehose transform: re-masks card data in payment logs and drops unstored fields",
                handler="payment_log_stream.handler",
                source_dirs=["payment_log_stream", "payments_common"],
                contracts=["log_stream"],
                environment={contract.METRICS_NAMESPACE_SETTING: contract.METRICS_NAMESPACE},
                reserved_concurrency=TRANSFORM_CONCURRENCY,
                timeout_seconds=TRANSFORM_TIMEOUT_SECONDS,
                placement=props.placement,
                environment_key=props.logs_key,
                logs_key=props.logs_key,
            ),
        )
        transform_arn = self.transform.function.arn
        self.stream: KinesisFirehoseDeliveryStream = deliver_logs(
            self,
            context,
            LogDeliveryProps(
                purpose="payment-logs",
                description="Firehose writes the payment functions' logs, re-masked, into the payment-logs bucket",
                sources=props.sources,
                bucket=self.bucket,
                s3_key=props.s3_key,
                logs_key=props.logs_key,
                prefix=PREFIX,
                error_prefix=ERROR_PREFIX,
                backup_prefix=RAW_PREFIX,
                processors=[
                    Processor(
                        type="Lambda",
                        parameters=[
                            Parameter(parameter_name="LambdaArn", parameter_value=f"{transform_arn}:$LATEST"),
                            # The smallest input: CloudWatch's envelopes inflate several times over
                            # and the response is at most 6 MB (the transform fails, never drops,
                            # what would not fit).
                            Parameter(
                                parameter_name="BufferSizeInMBs", parameter_value=contract.PROCESSOR_BUFFER_SIZE_MB
                            ),
                            Parameter(
                                parameter_name="BufferIntervalInSeconds", parameter_value=TRANSFORM_BUFFER_SECONDS
                            ),
                        ],
                    )
                ],
                transform_arn=transform_arn,
            ),
        )
