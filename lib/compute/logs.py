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
from cdktn_provider_aws.cloudwatch_log_metric_filter import (
    CloudwatchLogMetricFilter,
    CloudwatchLogMetricFilterMetricTransformation,
)
from cdktn_provider_aws.kinesis_firehose_delivery_stream import KinesisFirehoseDeliveryStream
from cdktn_provider_aws.kms_key import KmsKey
from constructs import Construct

from lib.contracts import health
from lib.core.bucket import SecureBucket
from lib.core.context import StackContext
from lib.core.log_delivery import ERROR_TYPE, LogDeliveryProps, deliver_logs, unwrap_cloudwatch_envelope
from lib.core.log_group import encrypted_log_group

BUCKET_PREFIX = "health/"
ERROR_PREFIX = "errors/health/"


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
        # Document 003's error tracking, per `service` (the line's own field).
        CloudwatchLogMetricFilter(
            self,
            "errors",
            name=names.make("metric_filter", "app-errors"),
            log_group_name=self.group.name,
            pattern=health.ERRORS_PATTERN,
            metric_transformation=CloudwatchLogMetricFilterMetricTransformation(
                name=health.APPLICATION_ERRORS,
                namespace=health.NAMESPACE,
                value="1",
                unit="Count",
                dimensions={health.SERVICE_DIMENSION: f"$.{health.SERVICE_DIMENSION}"},
            ),
        )
        self.stream: KinesisFirehoseDeliveryStream | None = None
        if props.bucket is not None:
            self.stream = self._to_bucket(context, props, props.bucket)

    def _to_bucket(
        self, context: StackContext, props: ApplicationLogsProps, bucket: SecureBucket
    ) -> KinesisFirehoseDeliveryStream:
        return deliver_logs(
            self,
            context,
            LogDeliveryProps(
                purpose="app-logs",
                description="Firehose writes the application logs into the app-logs bucket",
                sources={"health": self.group},
                bucket=bucket,
                s3_key=props.s3_key,
                logs_key=props.logs_key,
                prefix=BUCKET_PREFIX,
                error_prefix=f"{ERROR_PREFIX}{ERROR_TYPE}/",
                processors=unwrap_cloudwatch_envelope(),
            ),
        )
