"""Customer-managed KMS keys, one per purpose, each with rotation and a least-privilege policy.

A key policy grants the account root (so IAM policies can delegate use; without it the key can
become unmanageable) and then only the AWS services that use that purpose's key:
- services that call KMS themselves (CloudWatch Logs, log delivery, EventBridge) as service
  principals, bound to this account and, where the service offers one, to an encryption context;
- services that use the key on a caller's behalf (RDS, S3, Secrets Manager, ...) through
  `kms:ViaService`, so a principal holding the key cannot use it outside that service.
"""

from __future__ import annotations

from typing import Any

from cdktn_provider_aws.kms_key import KmsKey
from constructs import Construct

from lib.config import CDN_LOG_BUCKET, KeyPurpose
from lib.core.context import StackContext
from lib.core.kms import customer_managed_key
from lib.core.policies import KEY_USE_ACTIONS, key_via_services_statement

Statement = dict[str, Any]

# Services that use a purpose's key on behalf of the calling principal (checked via kms:ViaService).
VIA_SERVICES: dict[KeyPurpose, tuple[str, ...]] = {
    "database": ("rds", "secretsmanager"),
    "s3": ("s3",),
    "logs": ("xray",),
    "secrets": ("secretsmanager",),
    "parameters": ("ssm",),
    "events": ("sqs", "sns"),
    "efs": ("elasticfilesystem",),
    "cache": ("elasticache",),
    "dynamodb": ("dynamodb",),
    "compute": ("ec2",),
}
DESCRIPTIONS: dict[KeyPurpose, str] = {
    "database": "Aurora storage, Performance Insights and RDS-managed secrets",
    "s3": "S3 bucket default encryption (SSE-KMS with bucket keys)",
    "logs": "CloudWatch Logs log groups",
    "secrets": "Secrets Manager application secrets",
    "parameters": "SSM Parameter Store SecureString parameters",
    "events": "EventBridge buses and the queues and topics behind them",
    "efs": "EFS file systems",
    "cache": "ElastiCache Redis at rest",
    "dynamodb": "DynamoDB tables",
    "compute": "EBS volumes of the instances",
}


def service_principal_statements(purpose: KeyPurpose, ctx: StackContext) -> list[Statement]:
    """Statements for services that call KMS as themselves."""
    account = {"aws:SourceAccount": ctx.account_id}
    if purpose == "logs":
        return [
            {
                "Sid": "CloudWatchLogsUseForThisAccountsLogGroups",
                "Effect": "Allow",
                "Principal": {"Service": ctx.region.service_principal(f"logs.{ctx.region_name}")},
                "Action": list(KEY_USE_ACTIONS),
                "Resource": "*",
                "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": ctx.arn("logs", "log-group:*")}},
            }
        ]
    if purpose == "s3":
        # VPC flow logs (and other vended logs) written to SSE-KMS buckets, from any of the
        # account's regions (CloudFront's web ACL delivers from us-east-1).
        edge = ctx.config.edge
        # The maintenance page's distribution exists only with a domain (its zone needs one).
        maintenance = edge.failover is not None and edge.failover.maintenance_page and edge.domain_name is not None
        distributions = edge.cdn is not None or maintenance
        statements = cdn_statements(ctx) if distributions else []
        return [
            *statements,
            {
                "Sid": "LogDeliveryWritesToThisAccountsBuckets",
                "Effect": "Allow",
                "Principal": {"Service": ctx.principal("delivery.logs")},
                "Action": ["kms:Encrypt", "kms:GenerateDataKey*", "kms:DescribeKey"],
                "Resource": "*",
                "Condition": {
                    "StringEquals": account,
                    "ArnLike": {"aws:SourceArn": ctx.arn("logs", "*", region="*")},
                },
            },
        ]
    if purpose == "events":
        # EventBridge encrypts the bus and delivers into encrypted queues and topics; CloudWatch
        # alarms publish into the encrypted topics.
        return [
            {
                "Sid": "EventBridgeAndAlarmsInThisAccount",
                "Effect": "Allow",
                "Principal": {"Service": [ctx.principal("events"), ctx.principal("cloudwatch")]},
                "Action": ["kms:Decrypt", "kms:GenerateDataKey*", "kms:DescribeKey"],
                "Resource": "*",
                "Condition": {"StringEquals": account},
            }
        ]
    if purpose == "compute":
        # Auto Scaling launches instances as its service-linked role, which IAM gives no key
        # use: the key policy must name it (AWS's "required key policy for encrypted volumes").
        # Named by condition rather than as principal, so the policy is valid before the role
        # exists (Auto Scaling creates it with the account's first group).
        scaling_role = ctx.arn(
            "iam", "role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling", region=False
        )
        caller = {"kms:CallerAccount": ctx.account_id}
        return [
            {
                "Sid": "AutoScalingUsesKeyForInstanceVolumes",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": list(KEY_USE_ACTIONS),
                "Resource": "*",
                "Condition": {"StringEquals": caller, "ArnEquals": {"aws:PrincipalArn": scaling_role}},
            },
            {
                "Sid": "AutoScalingGrantsKeyToEc2ForInstanceVolumes",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": "kms:CreateGrant",
                "Resource": "*",
                "Condition": {
                    "StringEquals": caller,
                    "ArnEquals": {"aws:PrincipalArn": scaling_role},
                    "Bool": {"kms:GrantIsForAWSResource": "true"},
                },
            },
        ]
    return []


def cdn_statements(ctx: StackContext) -> list[Statement]:
    """CloudFront reads objects through origin access control and writes its standard logs.

    The distribution's id is not known when the key is created (the distribution needs the
    bucket, which needs the key), so reads are scoped to this account's distributions; each
    bucket's policy names the exact one. Standard logs are written by CloudFront's log delivery
    with no source condition AWS documents, so its use is scoped by S3's encryption context to
    the one log bucket.
    """
    log_bucket = f"arn:{ctx.partition}:s3:::{ctx.names.make('s3_bucket', CDN_LOG_BUCKET)}"
    return [
        {
            "Sid": "CloudFrontDecryptsForThisAccountsDistributions",
            "Effect": "Allow",
            "Principal": {"Service": ctx.principal("cloudfront")},
            "Action": "kms:Decrypt",
            "Resource": "*",
            "Condition": {"ArnLike": {"AWS:SourceArn": ctx.arn("cloudfront", "distribution/*", region=False)}},
        },
        {
            "Sid": "CloudFrontStandardLogDelivery",
            "Effect": "Allow",
            "Principal": {"Service": ctx.principal("delivery.logs")},
            "Action": "kms:GenerateDataKey*",
            "Resource": "*",
            "Condition": {"ArnLike": {"kms:EncryptionContext:aws:s3:arn": [log_bucket, f"{log_bucket}/*"]}},
        },
    ]


def key_statements(purpose: KeyPurpose, ctx: StackContext) -> list[Statement]:
    """What the key policy of one purpose grants after the account root."""
    hosts = [ctx.region.service_host(service) for service in VIA_SERVICES[purpose]]
    return [
        *service_principal_statements(purpose, ctx),
        key_via_services_statement(ctx.account_root, ctx.account_id, hosts, [*KEY_USE_ACTIONS, "kms:CreateGrant"]),
    ]


class EncryptionKeys(Construct):
    """One rotated CMK and alias per purpose; other layers take keys with `key(purpose)`."""

    def __init__(
        self, scope: Construct, construct_id: str, context: StackContext, purposes: tuple[KeyPurpose, ...]
    ) -> None:
        super().__init__(scope, construct_id)
        self.keys: dict[KeyPurpose, KmsKey] = {}
        for purpose in purposes:
            self.keys[purpose] = customer_managed_key(
                self,
                purpose,
                context=context,
                purpose=purpose,
                description=f"TAP {context.names.prefix}-{context.names.suffix}: {DESCRIPTIONS[purpose]}",
                statements=key_statements(purpose, context),
            )

    def key(self, purpose: KeyPurpose) -> KmsKey:
        try:
            return self.keys[purpose]
        except KeyError:
            raise KeyError(f"no {purpose!r} key in this profile; it has {sorted(self.keys)}") from None
