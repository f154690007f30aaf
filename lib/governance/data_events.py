"""CloudTrail data events for what holds or processes payment data (PCI 10.2.1): the environment's own trail.

The account trail records management events; reads and writes of cardholder data are data
events, which a trail records only for the resources its selectors name. Those resources belong
to this environment's state, so this environment has a trail of its own: data events only (no
management events, which the account trail already has), on exactly the ARNs the tiers
contributed (`Tier.record_data_events`), into a locked bucket and an encrypted log group, like
the account trail. It is a trail of this region only: what it names is here (CloudTrail records
an S3 object event in the bucket's region), and a multi-region trail would count against the
five-trail quota of every region. A region then holds the account trail and up to four
environments with data events.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cdktn_provider_aws.cloudtrail import (
    CloudtrailAdvancedEventSelector,
    CloudtrailAdvancedEventSelectorFieldSelector,
)
from cdktn_provider_aws.kms_key import KmsKey
from cdktn_provider_aws.s3_bucket import S3Bucket
from constructs import Construct

from lib.config import PCI_LOG_LIFECYCLE, PCI_LOG_RETENTION_DAYS
from lib.core.bucket import ObjectLock, SecureBucket, SecureBucketProps
from lib.core.context import StackContext
from lib.core.tier import DataEvents, DataEventType
from lib.core.trail import TrailProps, delivered_trail

SELECTOR_NAMES: dict[DataEventType, str] = {
    "AWS::Lambda::Function": "Invocations of the payment functions",
    "AWS::DynamoDB::Table": "Item reads and writes on the payment tables",
    "AWS::S3::Object": "Object reads and writes in the payment record buckets",
}


@dataclass(frozen=True, kw_only=True)
class DataEventsTrailProps:
    # Every tier's contributions, by stable name.
    resources: Mapping[str, DataEvents]
    access_log_bucket: S3Bucket


def data_event_selectors(resources: Mapping[str, DataEvents]) -> list[CloudtrailAdvancedEventSelector]:
    """One selector per resource type, naming its ARNs (S3 objects by their bucket's prefix)."""
    by_type: dict[DataEventType, list[str]] = {}
    for resource in resources.values():
        by_type.setdefault(resource.resource_type, []).append(resource.arn)
    selectors = []
    for resource_type, arns in sorted(by_type.items()):
        match = (
            CloudtrailAdvancedEventSelectorFieldSelector(field="resources.ARN", starts_with=arns)
            if resource_type == "AWS::S3::Object"
            else CloudtrailAdvancedEventSelectorFieldSelector(field="resources.ARN", equal_to=arns)
        )
        selectors.append(
            CloudtrailAdvancedEventSelector(
                name=SELECTOR_NAMES[resource_type],
                field_selector=[
                    CloudtrailAdvancedEventSelectorFieldSelector(field="eventCategory", equal_to=["Data"]),
                    CloudtrailAdvancedEventSelectorFieldSelector(field="resources.type", equal_to=[resource_type]),
                    match,
                ],
            )
        )
    return selectors


class DataEventsTrail(Construct):
    """`trail`, its locked `bucket` and `log_group`."""

    def __init__(self, scope: Construct, construct_id: str, context: StackContext, props: DataEventsTrailProps) -> None:
        super().__init__(scope, construct_id)
        names, lifecycle = context.names, context.lifecycle

        def locked_bucket(key: KmsKey) -> SecureBucket:
            return SecureBucket(
                self,
                "bucket",
                lifecycle,
                SecureBucketProps(
                    name=names.make("s3_bucket", "data-events"),
                    lifecycle=PCI_LOG_LIFECYCLE,
                    kms_key=key,
                    access_log_bucket=props.access_log_bucket,
                    object_lock=ObjectLock(mode=lifecycle.object_lock_mode, days=PCI_LOG_RETENTION_DAYS),
                ),
            )

        delivered = delivered_trail(
            self,
            context,
            TrailProps(
                name=names.make("trail", "data-events"),
                log_group_name=names.path("log_group", "cloudtrail", "data-events"),
                log_group_retention_days=PCI_LOG_RETENTION_DAYS,
                key_description="CloudTrail data events of this environment's payment data",
                role_name=names.make("iam_role", "data-events-logs"),
                role_description="CloudTrail delivers the environment's data events into their log group",
                bucket=locked_bucket,
                multi_region=False,
                advanced_event_selectors=data_event_selectors(props.resources),
            ),
        )
        self.trail, self.bucket, self.log_group = delivered.trail, delivered.bucket, delivered.log_group
