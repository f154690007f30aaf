"""The one way TAP makes a CloudTrail trail: validated, KMS-encrypted, into an Object Lock bucket and a log group.

The account baseline's trail (management events, every region) and each environment's
data-event trail (PCI 10.2.1) share it. The key admits CloudTrail for this trail only, and
CloudWatch Logs for its log group only; the bucket admits CloudTrail for this trail only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cdktn_provider_aws.cloudtrail import Cloudtrail, CloudtrailAdvancedEventSelector
from cdktn_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktn_provider_aws.kms_key import KmsKey
from constructs import Construct

from lib.core.bucket import SecureBucket
from lib.core.context import AccountContext
from lib.core.iam import inline_policy, service_role
from lib.core.kms import customer_managed_key, log_group_statement
from lib.core.log_group import encrypted_log_group


@dataclass(frozen=True, kw_only=True)
class TrailProps:
    name: str  # from Names ("trail")
    log_group_name: str  # from Names ("log_group")
    log_group_retention_days: int
    key_description: str
    role_name: str  # from Names ("iam_role"): CloudTrail's delivery into the log group
    role_description: str
    # The locked bucket, made with the trail's key (the key's policy needs the trail's ARN first).
    bucket: Callable[[KmsKey], SecureBucket]
    multi_region: bool = True
    # None: CloudTrail's default, every management event. Data-event trails name what they record.
    advanced_event_selectors: list[CloudtrailAdvancedEventSelector] | None = None


@dataclass(frozen=True)
class DeliveredTrail:
    trail: Cloudtrail
    key: KmsKey
    bucket: SecureBucket
    log_group: CloudwatchLogGroup


def delivered_trail(scope: Construct, context: AccountContext, props: TrailProps) -> DeliveredTrail:
    """`key`, the bucket, `log_group`, `delivery_role` and `trail` in `scope`."""
    trail_arn = context.arn("cloudtrail", f"trail/{props.name}")
    cloudtrail_principal = {"Service": context.principal("cloudtrail")}
    this_trail = {"StringEquals": {"aws:SourceAccount": context.account_id, "aws:SourceArn": trail_arn}}
    key = customer_managed_key(
        scope,
        "key",
        context=context,
        purpose="trail",
        description=props.key_description,
        statements=[
            {
                "Sid": "CloudTrailEncryptsThisTrailsLogs",
                "Effect": "Allow",
                "Principal": cloudtrail_principal,
                "Action": "kms:GenerateDataKey*",
                "Resource": "*",
                "Condition": {
                    **this_trail,
                    "StringLike": {
                        "kms:EncryptionContext:aws:cloudtrail:arn": context.arn("cloudtrail", "trail/*", region="*")
                    },
                },
            },
            {
                # With S3 Bucket Keys, CloudTrail must also decrypt (AWS: "Configure AWS KMS key
                # policies for CloudTrail").
                "Sid": "CloudTrailDecryptsForBucketKeys",
                "Effect": "Allow",
                "Principal": cloudtrail_principal,
                "Action": "kms:Decrypt",
                "Resource": "*",
                "Condition": this_trail,
            },
            {
                "Sid": "CloudTrailDescribesKey",
                "Effect": "Allow",
                "Principal": cloudtrail_principal,
                "Action": "kms:DescribeKey",
                "Resource": "*",
                "Condition": this_trail,
            },
            log_group_statement(context, "CloudWatchLogsForTheTrailsLogGroup", props.log_group_name),
        ],
    )
    bucket = props.bucket(key)
    cloudtrail = {"Effect": "Allow", "Principal": cloudtrail_principal}
    bucket.add_policy_statements(
        {
            **cloudtrail,
            "Sid": "CloudTrailChecksBucketAcl",
            "Action": "s3:GetBucketAcl",
            "Resource": bucket.arn,
            "Condition": {"StringEquals": {"aws:SourceArn": trail_arn}},
        },
        {
            **cloudtrail,
            "Sid": "CloudTrailWritesThisAccountsLogs",
            "Action": "s3:PutObject",
            "Resource": f"{bucket.arn}/AWSLogs/{context.account_id}/*",
            "Condition": {"StringEquals": {"aws:SourceArn": trail_arn, "s3:x-amz-acl": "bucket-owner-full-control"}},
        },
    )
    log_group = encrypted_log_group(
        scope, "log_group", name=props.log_group_name, key=key, retention_days=props.log_group_retention_days
    )
    delivery_role = service_role(
        scope,
        "delivery_role",
        name=props.role_name,
        description=props.role_description,
        service=context.principal("cloudtrail"),
        account_id=context.account_id,
        source_arn=trail_arn,
        policy_name="deliver-to-log-group",
        statements=[
            {
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": f"{log_group.arn}:log-stream:*",
            }
        ],
    )
    trail = Cloudtrail(
        scope,
        "trail",
        name=props.name,
        s3_bucket_name=bucket.name,
        is_multi_region_trail=props.multi_region,
        include_global_service_events=props.multi_region,
        enable_log_file_validation=True,
        kms_key_id=key.arn,
        cloud_watch_logs_group_arn=f"{log_group.arn}:*",
        cloud_watch_logs_role_arn=delivery_role.arn,
        advanced_event_selector=props.advanced_event_selectors,
        # CloudTrail checks the bucket policy and the role's permissions when the trail is created.
        depends_on=[bucket.policy_resource, inline_policy(scope, "delivery_role")],
    )
    return DeliveredTrail(trail=trail, key=key, bucket=bucket, log_group=log_group)
