"""TAP's AWS Config managed rules, each naming the PCI DSS v4.0 requirements it evidences.

The selection is AWS's PCI DSS v4.0 conformance pack (`compliance/pci/config_rules_pci40.json`,
vendored with its sources) narrowed to the resource types TAP builds, plus the three rules the
governance issue names (encrypted volumes, RDS storage encryption, VPC flow logs), which AWS
keeps in its 3.2.1 pack only. `requirements` are AWS-authored ids, exactly as in the crosswalk
(tested); `judged` are TAP's own, for rules AWS maps to no v4.0 id, and are reported apart.
`EXCLUDED` says why each pack rule over a TAP resource type is not deployed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


@dataclass(frozen=True)
class ManagedRule:
    identifier: str
    requirements: tuple[str, ...]
    judged: tuple[str, ...] = ()
    parameters: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    # Regions where AWS offers the rule; None: all. (CloudFront's rules exist in us-east-1 only.)
    regions: tuple[str, ...] | None = None

    @classmethod
    def of(
        cls, identifier: str, requirements: str, *, judged: str = "", parameters: Mapping[str, str] | None = None
    ) -> ManagedRule:
        """Requirement ids given space-separated, as the crosswalk lists them."""
        only_in = ("us-east-1",) if identifier.startswith("CLOUDFRONT_") else None
        return cls(
            identifier,
            tuple(requirements.split()),
            tuple(judged.split()),
            MappingProxyType(dict(parameters or {})),
            only_in,
        )

    def available_in(self, region: str) -> bool:
        """Whether AWS offers the rule in `region` (creating it elsewhere fails the apply)."""
        return (self.regions is None or region in self.regions) and region not in UNAVAILABLE.get(
            self.identifier, frozenset()
        )

    def description(self) -> str:
        """What the rule evidences, AWS-authored ids first, TAP's judgement marked as such."""
        published = f"PCI DSS v4.0 {' '.join(self.requirements)}" if self.requirements else ""
        judged = f"TAP's judgement: {' '.join(self.judged)}" if self.judged else ""
        return "; ".join(part for part in (published, judged) if part)

    def input_parameters(self) -> str | None:
        """The rule's `input_parameters` JSON, or None when it takes AWS's defaults."""
        return json.dumps(dict(self.parameters), sort_keys=True) if self.parameters else None


# Regions each managed rule's page lists as not supported (AWS Config Developer Guide).
_NEWER_REGIONS = frozenset(
    {
        "cn-north-1",
        "cn-northwest-1",
        "ap-southeast-5",
        "ap-southeast-7",
        "mx-central-1",
        "il-central-1",
        "ap-east-2",
        "ca-west-1",
    }
)
UNAVAILABLE: dict[str, frozenset[str]] = {
    "BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED": _NEWER_REGIONS,
    "AURORA_RESOURCES_PROTECTED_BY_BACKUP_PLAN": _NEWER_REGIONS,
    "EC2_LAUNCH_TEMPLATE_PUBLIC_IP_DISABLED": _NEWER_REGIONS
    | {"us-gov-east-1", "us-gov-west-1", "me-central-1", "ap-south-2", "ap-southeast-4", "eu-south-2", "eu-central-2"},
}

# Keyed by the rule's name in AWS's pack: stable, so adding a rule moves no other's address.
RULES: dict[str, ManagedRule] = {
    "acm-certificate-rsa-check": ManagedRule.of("ACM_CERTIFICATE_RSA_CHECK", "3.7.1"),
    "api-gwv2-access-logs-enabled": ManagedRule.of(
        "API_GWV2_ACCESS_LOGS_ENABLED",
        "5.3.4 10.2.1 10.2.1.1 10.2.1.2 10.2.1.3 10.2.1.4 10.2.1.5 10.2.1.6 10.2.1.7 10.2.2 10.3.1 10.4.2 10.6.3 A1.2.1",
    ),
    "aurora-resources-protected-by-backup-plan": ManagedRule.of("AURORA_RESOURCES_PROTECTED_BY_BACKUP_PLAN", "10.3.3"),
    "backup-recovery-point-manual-deletion-disabled": ManagedRule.of(
        "BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED",
        "3.5.1.3 7.2.1 7.2.2 7.2.5 7.3.1 7.3.2 7.3.3 8.2.7 8.2.8 8.3.4 10.3.2 A1.1.2 A3.4.1",
    ),
    "cloudfront-accesslogs-enabled": ManagedRule.of(
        "CLOUDFRONT_ACCESSLOGS_ENABLED",
        "5.3.4 10.2.1 10.2.1.1 10.2.1.2 10.2.1.3 10.2.1.4 10.2.1.5 10.2.1.6 10.2.1.7 10.2.2 10.3.1 10.4.2 10.6.3 A1.2.1",
    ),
    "cloudfront-associated-with-waf": ManagedRule.of(
        "CLOUDFRONT_ASSOCIATED_WITH_WAF", "1.2.8 1.3.1 1.3.2 1.4.2 1.5.1 6.4.1 6.4.2 A1.1.3"
    ),
    "cloudfront-custom-ssl-certificate": ManagedRule.of(
        "CLOUDFRONT_CUSTOM_SSL_CERTIFICATE",
        "1.2.8 1.3.1 1.3.2 1.4.2 1.5.1 3.5.1.1 3.5.1.3 3.6.1 3.6.1.2 3.6.1.3 3.6.1.4 3.7.1 3.7.2 3.7.4 3.7.6 3.7.7 4.2.1.1 A1.1.3",
    ),
    "cloudfront-no-deprecated-ssl-protocols": ManagedRule.of(
        "CLOUDFRONT_NO_DEPRECATED_SSL_PROTOCOLS", "1.2.5 2.2.5 2.2.7 4.2.1 4.2.1.1 8.3.2"
    ),
    "cloudfront-s3-origin-access-control-enabled": ManagedRule.of(
        "CLOUDFRONT_S3_ORIGIN_ACCESS_CONTROL_ENABLED", "10.3.4"
    ),
    "cloudfront-security-policy-check": ManagedRule.of("CLOUDFRONT_SECURITY_POLICY_CHECK", "1.2.5 2.2.5"),
    "cloudfront-sni-enabled": ManagedRule.of("CLOUDFRONT_SNI_ENABLED", "1.2.5 2.2.5"),
    "cloudfront-traffic-to-origin-encrypted": ManagedRule.of(
        "CLOUDFRONT_TRAFFIC_TO_ORIGIN_ENCRYPTED", "1.2.5 2.2.5 2.2.7 4.2.1 4.2.1.1 8.3.2"
    ),
    "cloudfront-viewer-policy-https": ManagedRule.of(
        "CLOUDFRONT_VIEWER_POLICY_HTTPS", "1.2.5 2.2.5 2.2.7 4.2.1 4.2.1.1 8.3.2"
    ),
    "cloudtrail-enabled": ManagedRule.of(
        "CLOUD_TRAIL_ENABLED",
        "5.3.4 10.2.1 10.2.1.1 10.2.1.2 10.2.1.3 10.2.1.4 10.2.1.5 10.2.1.6 10.2.1.7 10.2.2 10.3.1 10.6.3 A1.2.1",
    ),
    "cloudtrail-security-trail-enabled": ManagedRule.of(
        "CLOUDTRAIL_SECURITY_TRAIL_ENABLED", "5.3.4 10.3.2 10.3.3 10.3.4 10.5.1 A1.2.1"
    ),
    "multi-region-cloudtrail-enabled": ManagedRule.of(
        "MULTI_REGION_CLOUD_TRAIL_ENABLED",
        "5.3.4 10.2.1 10.2.1.1 10.2.1.2 10.2.1.3 10.2.1.4 10.2.1.5 10.2.1.6 10.2.1.7 10.2.2 10.3.1 10.6.3 A1.2.1",
    ),
    "cloudwatch-alarm-action-check": ManagedRule.of(
        "CLOUDWATCH_ALARM_ACTION_CHECK",
        "10.2.1.1 10.4.1 10.4.1.1 10.4.2 10.4.3 10.6.3 10.7.1 10.7.2 11.5.2 11.6.1 12.10.5 A3.3.1 A3.5.1",
        # AWS's pack states all three; every TAP alarm must notify on ALARM.
        parameters={
            "alarmActionRequired": "true",
            "insufficientDataActionRequired": "false",
            "okActionRequired": "false",
        },
    ),
    "cw-loggroup-retention-period-check": ManagedRule.of(
        "CW_LOGGROUP_RETENTION_PERIOD_CHECK", "3.2.1 3.3.1.1 3.3.1.3 3.3.2 3.3.3 5.3.4 10.5.1"
    ),
    "db-instance-backup-enabled": ManagedRule.of("DB_INSTANCE_BACKUP_ENABLED", "10.3.3"),
    "dynamodb-in-backup-plan": ManagedRule.of("DYNAMODB_IN_BACKUP_PLAN", "10.3.3"),
    "dynamodb-pitr-enabled": ManagedRule.of("DYNAMODB_PITR_ENABLED", "3.2.1 3.3.1.1 3.3.1.3 3.3.2 3.3.3 10.3.3 10.5.1"),
    "dynamodb-resources-protected-by-backup-plan": ManagedRule.of(
        "DYNAMODB_RESOURCES_PROTECTED_BY_BACKUP_PLAN", "10.3.3"
    ),
    "dynamodb-table-encrypted-kms": ManagedRule.of("DYNAMODB_TABLE_ENCRYPTED_KMS", "3.5.1 8.3.2"),
    "dynamodb-table-encryption-enabled": ManagedRule.of("DYNAMODB_TABLE_ENCRYPTION_ENABLED", "3.5.1 8.3.2"),
    "ec2-imdsv2-check": ManagedRule.of("EC2_IMDSV2_CHECK", "2.2.6 8.2.8"),
    "ec2-instance-detailed-monitoring-enabled": ManagedRule.of(
        "EC2_INSTANCE_DETAILED_MONITORING_ENABLED", "10.2.1.1 10.4.1 10.4.1.1 10.4.2 10.6.3 10.7.1 10.7.2 A3.3.1 A3.5.1"
    ),
    "ec2-instance-profile-attached": ManagedRule.of(
        "EC2_INSTANCE_PROFILE_ATTACHED", "7.2.1 7.2.2 7.2.5 7.3.1 7.3.2 7.3.3 8.2.7 8.2.8 8.3.4"
    ),
    "ec2-launch-template-public-ip-disabled": ManagedRule.of("EC2_LAUNCH_TEMPLATE_PUBLIC_IP_DISABLED", "1.4.5"),
    "ec2-no-amazon-key-pair": ManagedRule.of("EC2_NO_AMAZON_KEY_PAIR", "8.2.1 8.2.2 8.2.4 8.2.5 8.3.11"),
    "ec2-volume-inuse-check": ManagedRule.of("EC2_VOLUME_INUSE_CHECK", "3.2.1 3.3.1.1 3.3.1.3 3.3.2 3.3.3 10.5.1"),
    "efs-in-backup-plan": ManagedRule.of("EFS_IN_BACKUP_PLAN", "10.3.3"),
    "efs-resources-protected-by-backup-plan": ManagedRule.of("EFS_RESOURCES_PROTECTED_BY_BACKUP_PLAN", "10.3.3"),
    "elasticache-redis-cluster-automatic-backup-check": ManagedRule.of(
        "ELASTICACHE_REDIS_CLUSTER_AUTOMATIC_BACKUP_CHECK", "10.3.3"
    ),
    "elb-acm-certificate-required": ManagedRule.of(
        "ELB_ACM_CERTIFICATE_REQUIRED",
        "1.2.8 1.3.1 1.3.2 1.4.2 1.5.1 2.2.7 3.5.1.1 3.5.1.3 3.6.1 3.6.1.2 3.6.1.3 3.6.1.4 3.7.1 3.7.2 3.7.4 3.7.6 3.7.7 4.2.1 4.2.1.1 8.3.2 A1.1.3",
    ),
    "internet-gateway-authorized-vpc-only": ManagedRule.of(
        "INTERNET_GATEWAY_AUTHORIZED_VPC_ONLY", "1.2.8 1.3.1 1.3.2 1.4.1 1.4.2 1.4.4 1.5.1 A1.1.3"
    ),
    "nacl-no-unrestricted-ssh-rdp": ManagedRule.of(
        "NACL_NO_UNRESTRICTED_SSH_RDP", "1.2.8 1.3.1 1.3.2 1.4.2 1.5.1 A1.1.3"
    ),
    "rds-cluster-iam-authentication-enabled": ManagedRule.of(
        "RDS_CLUSTER_IAM_AUTHENTICATION_ENABLED", "7.2.1 7.2.2 7.2.5 7.3.1 7.3.2 7.3.3 8.2.7 8.2.8 8.3.4"
    ),
    "rds-in-backup-plan": ManagedRule.of("RDS_IN_BACKUP_PLAN", "10.3.3"),
    "rds-instance-iam-authentication-enabled": ManagedRule.of(
        "RDS_INSTANCE_IAM_AUTHENTICATION_ENABLED", "7.2.1 7.2.2 7.2.5 7.3.1 7.3.2 7.3.3 8.2.7 8.2.8 8.3.4"
    ),
    "rds-resources-protected-by-backup-plan": ManagedRule.of("RDS_RESOURCES_PROTECTED_BY_BACKUP_PLAN", "10.3.3"),
    "restricted-ssh": ManagedRule.of("INCOMING_SSH_DISABLED", "1.2.8 1.3.1 1.3.2 1.4.2 1.5.1 A1.1.3"),
    "s3-account-level-public-access-blocks": ManagedRule.of(
        "S3_ACCOUNT_LEVEL_PUBLIC_ACCESS_BLOCKS", "1.2.8 1.3.1 1.3.2 1.4.2 1.5.1 3.5.1.3 10.3.2 A1.1.2 A1.1.3 A3.4.1"
    ),
    "s3-bucket-versioning-enabled": ManagedRule.of("S3_BUCKET_VERSIONING_ENABLED", "10.3.4"),
    "secretsmanager-scheduled-rotation-success-check": ManagedRule.of(
        "SECRETSMANAGER_SCHEDULED_ROTATION_SUCCESS_CHECK", "8.2.2 8.3.5 8.3.7 8.3.9 8.3.10.1 8.6.3"
    ),
    "secretsmanager-secret-periodic-rotation": ManagedRule.of(
        "SECRETSMANAGER_SECRET_PERIODIC_ROTATION", "8.2.2 8.3.5 8.3.7 8.3.9 8.3.10.1 8.6.3"
    ),
    "secretsmanager-secret-unused": ManagedRule.of("SECRETSMANAGER_SECRET_UNUSED", "7.2.4 7.2.5.1 8.2.2 8.2.6 A3.4.1"),
    "sns-topic-message-delivery-notification-enabled": ManagedRule.of(
        "SNS_TOPIC_MESSAGE_DELIVERY_NOTIFICATION_ENABLED",
        "10.2.1.1 10.4.1 10.4.1.1 10.4.2 10.6.3 10.7.1 10.7.2 11.5.2 11.6.1 12.10.5 A3.3.1 A3.5.1",
    ),
    "wafv2-webacl-not-empty": ManagedRule.of("WAFV2_WEBACL_NOT_EMPTY", "6.4.1 6.4.2"),
    # Not in AWS's v4.0 pack; Security Hub maps them to v4.0.1 ids. Their fixes are AWS's Automation
    # documents (`remediation.py`).
    "s3-bucket-level-public-access-prohibited": ManagedRule.of("S3_BUCKET_LEVEL_PUBLIC_ACCESS_PROHIBITED", "1.4.4"),
    "s3-bucket-ssl-requests-only": ManagedRule.of("S3_BUCKET_SSL_REQUESTS_ONLY", "4.2.1"),
    "encrypted-volumes": ManagedRule.of("ENCRYPTED_VOLUMES", "", judged="3.5.1"),
    "rds-storage-encrypted": ManagedRule.of("RDS_STORAGE_ENCRYPTED", "", judged="3.5.1"),
    "vpc-flow-logs-enabled": ManagedRule.of("VPC_FLOW_LOGS_ENABLED", "", judged="10.2.1 10.3.3"),
}

# Rules of the v4.0 pack over resource types TAP builds, and why TAP does not deploy them.
EXCLUDED: dict[str, str] = {
    "api-gw-cache-enabled-and-encrypted": "REST APIs only; TAP's APIs are HTTP APIs",
    "api-gw-endpoint-type-check": "REST APIs only; TAP's APIs are HTTP APIs",
    "api-gw-xray-enabled": "REST APIs only; HTTP APIs have no X-Ray setting",
    "autoscaling-launchconfig-requires-imdsv2": "launch configurations only; TAP uses launch templates (ec2-imdsv2-check)",
    "cloudfront-origin-access-identity-enabled": "legacy OAI; TAP uses origin access control, which the OAC rule checks",
    "ebs-in-backup-plan": "instance volumes hold no data: instances are rebuilt from the launch template",
    "ebs-resources-protected-by-backup-plan": "instance volumes hold no data: instances are rebuilt from the launch template",
    "ec2-resources-protected-by-backup-plan": "instances hold no data: they are rebuilt from the launch template",
    "s3-bucket-default-lock-enabled": "only audit trails are write-once; other buckets expire objects on a lifecycle",
    "s3-bucket-mfa-delete-enabled": "MFA delete can only be set by the root user with MFA, never by IaC",
    "s3-resources-protected-by-backup-plan": "buckets are versioned, and short-retention ones replicate to a year's archive",
    "lambda-function-settings-check": "its timeout and memory parameters must equal one value for every function",
    "cloudwatch-alarm-resource-check": "needs one resource type and metric per rule",
    "cloudwatch-alarm-settings-check": "needs one metric name per rule",
    "iam-policy-in-use": "needs one policy ARN per rule",
    "s3-bucket-policy-not-more-permissive": "needs one control policy per rule",
    "access-keys-rotated": "TAP creates no IAM users or access keys",
    "s3-bucket-blacklisted-actions-prohibited": "needs one pattern of prohibited actions per rule",
    "acm-pca-root-ca-disabled": "TAP creates no private certificate authority",
    "ec2-transit-gateway-auto-vpc-attach-disabled": "TAP creates no transit gateway",
    "ec2-client-vpn-not-authorize-all": "TAP creates no Client VPN endpoint",
    "s3-access-point-public-access-blocks": "TAP creates no S3 access points",
    "rds-db-security-group-not-allowed": "EC2-Classic DB security groups, which TAP never creates",
    "security-account-information-provided": "account contacts are set by the organization, not by TAP",
}
