"""Named configurations: each reproduces one source document (../shared/seeds), plus `full`.

A profile turns on only the layers built so far. Where a document and PCI-DSS v4.0 disagree,
the document's value stays and the compensating control is configured next to it (see README,
"Compliance notes").
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from lib.config import (
    INTERFACE_SERVICES,
    KEY_PURPOSES,
    AuroraConfig,
    BackendConfig,
    BucketLifecycle,
    DeploymentConfig,
    EndpointsConfig,
    FileSystemConfig,
    NetworkConfig,
    ParametersConfig,
    PaymentsConfig,
    RedisConfig,
    StorageConfig,
    TagsConfig,
    TransactionsTableConfig,
)
from lib.errors import ConfigError, Violation

DEFAULT_PROFILE = "full"

# PCI 10.5.1: flow logs are audit logs, kept a year; older ones move to cheaper storage.
FLOW_LOGS = BucketLifecycle(expire_after_days=365, transition_after_days=90, transition_storage_class="GLACIER_IR")
STATIC_ASSETS = BucketLifecycle(noncurrent_expire_after_days=30)
# Document 003: application logs kept 90 days (storage adds the 12-month archive).
APP_LOGS_90_DAYS = BucketLifecycle(
    expire_after_days=90, transition_after_days=30, transition_storage_class="STANDARD_IA"
)
# Document 004: audit logs to Glacier after 90 days, kept 7 years.
AUDIT_LOGS_7_YEARS = BucketLifecycle(
    expire_after_days=2555, transition_after_days=90, transition_storage_class="GLACIER"
)

AURORA_MYSQL_VERSION = "8.0.mysql_aurora.3.08.2"
AURORA_POSTGRES_VERSION = "16.6"

PROFILES: dict[str, DeploymentConfig] = {
    "web-mysql": DeploymentConfig(
        profile="web-mysql",
        description="000: ALB + ACM, Aurora MySQL Serverless v2, assets and flow-log buckets, alarms",
        region="us-east-1",
        name_prefix="payment",
        tags=TagsConfig(application="payment-web"),
        network=NetworkConfig(nat_mode="single", public_offset=1, private_offset=11, flow_log_destinations=("s3",)),
        key_purposes=("database", "s3", "logs", "secrets"),
        storage=StorageConfig(buckets={"assets": STATIC_ASSETS, "flow_logs": FLOW_LOGS}),
        # Document 000: 2 Serverless v2 instances, 0.5-2 ACU, 35-day backups.
        database=AuroraConfig(
            engine="aurora-mysql",
            engine_version=AURORA_MYSQL_VERSION,
            instance_count=2,
            serverless_acu=(0.5, 2.0),
            backup_retention_days=35,
            maintenance_window="mon:04:00-mon:05:00",
        ),
    ),
    "transactions-pg": DeploymentConfig(
        profile="transactions-pg",
        description="001: Aurora PostgreSQL, EFS, Redis, HTTP API, per-service KMS keys; no NAT",
        region="ap-southeast-1",
        name_prefix="txn",
        tags=TagsConfig(application="transaction-processing"),
        network=NetworkConfig(nat_mode="none", public_offset=0, private_offset=10, flow_log_destinations=("s3",)),
        key_purposes=("database", "efs", "cache", "s3", "logs", "secrets"),
        storage=StorageConfig(buckets={"flow_logs": FLOW_LOGS}),
        # Document 001: writer + reader Serverless v2 0.5-16 ACU, 30-day backups; Redis; EFS.
        database=AuroraConfig(
            engine="aurora-postgresql",
            engine_version=AURORA_POSTGRES_VERSION,
            instance_count=2,
            serverless_acu=(0.5, 16.0),
        ),
        cache=RedisConfig(),
        file_system=FileSystemConfig(),
    ),
    "secure-platform": DeploymentConfig(
        profile="secure-platform",
        description="002: full security, compliance and event platform",
        region="us-east-1",
        name_prefix="pay",
        tags=TagsConfig(application="payment-platform"),
        # Document 002: flow logs to CloudWatch for 30 days; the S3 copy is the 12-month archive.
        network=NetworkConfig(
            nat_mode="per_az", flow_log_destinations=("cloudwatch", "s3"), flow_log_cloudwatch_retention_days=30
        ),
        key_purposes=("database", "s3", "parameters", "events", "logs", "secrets", "dynamodb"),
        storage=StorageConfig(buckets={"flow_logs": FLOW_LOGS}),
        endpoints=EndpointsConfig(interface_services=INTERFACE_SERVICES),
        # Document 002: 1 writer + 2 readers Serverless v2 behind RDS Proxy; parameters.
        database=AuroraConfig(
            engine="aurora-postgresql",
            engine_version=AURORA_POSTGRES_VERSION,
            instance_count=3,
            serverless_acu=(0.5, 8.0),
            rds_proxy=True,
        ),
        parameters=ParametersConfig(),
        # Document 002: payment Lambdas with reserved concurrency, queues, events, alerts.
        transactions_table=TransactionsTableConfig(),
        payments=PaymentsConfig(reserved_concurrency=5),
    ),
    "portal-cdn": DeploymentConfig(
        profile="portal-cdn",
        description="003: CloudFront + WAF, Auto Scaling, Aurora MySQL, secret rotation",
        region="us-east-1",
        name_prefix="portal",
        tags=TagsConfig(application="customer-portal"),
        network=NetworkConfig(nat_mode="per_az", flow_log_destinations=("s3",)),
        key_purposes=("database", "s3", "logs", "secrets"),
        storage=StorageConfig(buckets={"assets": STATIC_ASSETS, "app_logs": APP_LOGS_90_DAYS, "flow_logs": FLOW_LOGS}),
        endpoints=EndpointsConfig(interface_services=("secretsmanager", "ssm", "kms", "logs", "monitoring", "sts")),
        # Document 003: 2 provisioned instances, 7-day backups (point-in-time recovery within them).
        database=AuroraConfig(
            engine="aurora-mysql",
            engine_version=AURORA_MYSQL_VERSION,
            instance_count=2,
            serverless_acu=None,
            instance_class="db.r6g.large",
            backup_retention_days=7,
        ),
    ),
    "serverless-payments": DeploymentConfig(
        profile="serverless-payments",
        description="004: Lambda + API Gateway + DynamoDB, Aurora PostgreSQL, blue/green ALB",
        region="us-east-1",
        name_prefix="payment",
        tags=TagsConfig(application="payment-migration"),
        network=NetworkConfig(nat_mode="per_az", isolated_database_tier=True, flow_log_destinations=("s3",)),
        key_purposes=("database", "dynamodb", "s3", "secrets", "logs", "parameters", "events"),
        storage=StorageConfig(buckets={"audit_logs": AUDIT_LOGS_7_YEARS, "flow_logs": FLOW_LOGS}),
        endpoints=EndpointsConfig(
            interface_services=(
                "secretsmanager",
                "ssm",
                "kms",
                "logs",
                "monitoring",
                "sts",
                "xray",
                "sqs",
                "events",
                "lambda",
            )
        ),
        # Document 004: writer + 2 db.r6g.xlarge readers, 30-day backups; DynamoDB; parameters.
        database=AuroraConfig(
            engine="aurora-postgresql",
            engine_version=AURORA_POSTGRES_VERSION,
            instance_count=3,
            serverless_acu=None,
            instance_class="db.r6g.xlarge",
        ),
        transactions_table=TransactionsTableConfig(),
        parameters=ParametersConfig(),
        # Document 004: validation, fraud and processing Lambdas, reserved concurrency 10.
        payments=PaymentsConfig(reserved_concurrency=10),
    ),
    "full": DeploymentConfig(
        profile="full",
        description="Everything TAP builds, PostgreSQL flavour",
        region="us-east-1",
        name_prefix="tap",
        network=NetworkConfig(
            nat_mode="per_az", isolated_database_tier=True, flow_log_destinations=("cloudwatch", "s3")
        ),
        key_purposes=KEY_PURPOSES,
        storage=StorageConfig(
            buckets={
                "assets": STATIC_ASSETS,
                "app_logs": APP_LOGS_90_DAYS,
                "audit_logs": AUDIT_LOGS_7_YEARS,
                "flow_logs": FLOW_LOGS,
            }
        ),
        endpoints=EndpointsConfig(interface_services=INTERFACE_SERVICES),
        database=AuroraConfig(
            engine="aurora-postgresql",
            engine_version=AURORA_POSTGRES_VERSION,
            instance_count=3,
            serverless_acu=(0.5, 16.0),
            rds_proxy=True,
        ),
        cache=RedisConfig(),
        file_system=FileSystemConfig(),
        transactions_table=TransactionsTableConfig(),
        parameters=ParametersConfig(),
        payments=PaymentsConfig(),
    ),
}

TRUE_WORDS, FALSE_WORDS = {"1", "true", "yes"}, {"0", "false", "no"}


def load_config(environ: Mapping[str, str]) -> DeploymentConfig:
    """The profile named by TAP_PROFILE with the environment's overrides applied.

    Environment values that are not even of the right kind (an unknown profile, a non-boolean
    TAP_PROTECTED) stop here; everything else is checked by `validation.validate`.
    """

    def env(name: str) -> str | None:
        value = environ.get(name, "").strip()
        return value or None

    profile_name = env("TAP_PROFILE") or DEFAULT_PROFILE
    problems = []
    if profile_name not in PROFILES:
        problems.append(Violation("TAP_PROFILE", profile_name, f"must be one of {sorted(PROFILES)}"))
    suffix = env("ENVIRONMENT_SUFFIX") or "dev"
    protected_raw = (env("TAP_PROTECTED") or "").lower()
    if protected_raw and protected_raw not in TRUE_WORDS | FALSE_WORDS:
        problems.append(Violation("TAP_PROTECTED", protected_raw, "must be true or false"))
    if problems:
        raise ConfigError(problems)
    # Production suffixes are protected unless told otherwise.
    protected = protected_raw in TRUE_WORDS if protected_raw else suffix.startswith("prod")
    base = PROFILES[profile_name]
    return dataclasses.replace(
        base,
        environment_suffix=suffix,
        region=env("AWS_REGION") or base.region,
        destroyable=not protected,
        tags=dataclasses.replace(base.tags, repository=env("REPOSITORY"), author=env("COMMIT_AUTHOR")),
        backend=BackendConfig(
            state_bucket=env("TERRAFORM_STATE_BUCKET"),
            state_bucket_region=env("TERRAFORM_STATE_BUCKET_REGION") or "us-east-1",
        ),
    )
