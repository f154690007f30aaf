"""Named configurations: each reproduces one source document (../shared/seeds), plus `full`.

A profile turns on only the layers built so far, and its description names the document, not
layers: `make synth` lists what is actually built. Where a document and PCI-DSS v4.0 disagree,
the document's value stays and the compensating control is configured next to it (see README,
"Compliance"). Each profile's name prefix is unique, so profiles never share a physical name.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from lib.config import (
    INTERFACE_SERVICES,
    KEY_PURPOSES,
    PCI_LOG_LIFECYCLE,
    AuroraConfig,
    BackendConfig,
    BackupConfig,
    BlueGreenConfig,
    BucketLifecycle,
    BusinessHours,
    CdnConfig,
    ComputeConfig,
    DeploymentConfig,
    EdgeConfig,
    EndpointsConfig,
    FailoverConfig,
    FileSystemConfig,
    FleetConfig,
    GovernanceConfig,
    LoadBalancerConfig,
    NetworkConfig,
    ObservabilityConfig,
    ParametersConfig,
    PaymentsConfig,
    RedisConfig,
    StorageConfig,
    TagsConfig,
    TransactionsApiConfig,
    TransactionsTableConfig,
)
from lib.config_file import apply_file
from lib.errors import ConfigError, Violation
from lib.validation import validate

DEFAULT_PROFILE = "full"

# PCI 10.5.1: flow logs are audit logs, kept a year; older ones move to cheaper storage.
FLOW_LOGS = PCI_LOG_LIFECYCLE
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
        description="000: VPC, Aurora MySQL with rotated credentials, assets bucket",
        region="us-east-1",
        # Document 000 names everything `payment-...`, as 004 does; 004 keeps `payment` (its
        # function names depend on it), so 000 takes `webpay` and the two never collide.
        name_prefix="webpay",
        tags=TagsConfig(application="payment-web"),
        network=NetworkConfig(nat_mode="single", public_offset=1, private_offset=11, flow_log_destinations=("s3",)),
        key_purposes=("database", "s3", "logs", "secrets", "compute"),
        storage=StorageConfig(buckets={"assets": STATIC_ASSETS, "flow_logs": FLOW_LOGS}),
        # Document 000: 2 Serverless v2 instances, 0.5-2 ACU, 35-day backups, database `paymentdb`.
        # Its master user `admin` is reserved-looking and guessable: TAP's `tap_admin` instead.
        database=AuroraConfig(
            engine="aurora-mysql",
            engine_version=AURORA_MYSQL_VERSION,
            instance_count=2,
            serverless_acu=(0.5, 2.0),
            database_name="paymentdb",
            backup_retention_days=35,
            backup_window="03:00-04:00",
            maintenance_window="mon:04:00-mon:05:00",
        ),
        # AWS Backup keeps the document's 35 days too.
        governance=GovernanceConfig(backup=BackupConfig(retention_days=35)),
        # Document 000: an internet-facing ALB, HTTPS with a DNS-validated certificate, HTTP
        # redirected, and a /health target group. Its `ip` targets had nothing behind them:
        # instances running the health service serve them here.
        edge=EdgeConfig(load_balancer=LoadBalancerConfig()),
        compute=ComputeConfig(),
    ),
    "transactions-pg": DeploymentConfig(
        profile="transactions-pg",
        description="001: transactions API over an Aurora PostgreSQL ledger, Redis and EFS, without NAT",
        region="ap-southeast-1",
        name_prefix="txn",
        # Document 001 tags its data resources Compliance=PCI-DSS.
        tags=TagsConfig(application="transaction-processing", compliance="PCI-DSS"),
        network=NetworkConfig(nat_mode="none", public_offset=0, private_offset=10, flow_log_destinations=("s3",)),
        key_purposes=("database", "efs", "cache", "s3", "logs", "secrets"),
        storage=StorageConfig(buckets={"flow_logs": FLOW_LOGS}),
        # Document 001: writer + reader Serverless v2 0.5-16 ACU, 30-day backups, database
        # `transactions`, its windows; Redis (3 x cache.t3.micro, 5 snapshots); EFS.
        database=AuroraConfig(
            engine="aurora-postgresql",
            engine_version=AURORA_POSTGRES_VERSION,
            instance_count=2,
            serverless_acu=(0.5, 16.0),
            database_name="transactions",
            backup_window="03:00-04:00",
            maintenance_window="mon:04:00-mon:05:00",
            ledger=True,
        ),
        cache=RedisConfig(
            node_type="cache.t3.micro", snapshot_window="03:00-05:00", maintenance_window="mon:05:00-mon:06:00"
        ),
        file_system=FileSystemConfig(),
        # Document 001: `transactions-api-<suffix>`, stage prod, 10,000 rps with bursts of 5,000 (the
        # defaults). Its CORS `*` is not kept: origins come from the environment's config file.
        transactions_api=TransactionsApiConfig(document_name="transactions-api"),
    ),
    "secure-platform": DeploymentConfig(
        profile="secure-platform",
        description="002: payment functions and events settling into Aurora PostgreSQL through RDS Proxy",
        region="us-east-1",
        name_prefix="pay",
        tags=TagsConfig(application="payment-platform"),
        # Document 002: flow logs to CloudWatch for 30 days; the S3 copy is the 12-month archive.
        network=NetworkConfig(
            nat_mode="per_az", flow_log_destinations=("cloudwatch", "s3"), flow_log_cloudwatch_retention_days=30
        ),
        key_purposes=("database", "s3", "parameters", "events", "logs", "secrets", "dynamodb", "compute"),
        storage=StorageConfig(buckets={"flow_logs": FLOW_LOGS}),
        endpoints=EndpointsConfig(interface_services=INTERFACE_SERVICES),
        # Document 002: 1 writer + 2 readers Serverless v2 behind RDS Proxy; parameters.
        database=AuroraConfig(
            engine="aurora-postgresql",
            engine_version=AURORA_POSTGRES_VERSION,
            instance_count=3,
            serverless_acu=(0.5, 8.0),
            rds_proxy=True,
            ledger=True,
        ),
        parameters=ParametersConfig(),
        # Document 002: payment Lambdas with reserved concurrency, queues, events, alerts, recording
        # payments in Aurora through RDS Proxy (it asks for no DynamoDB table).
        payments=PaymentsConfig(reserved_concurrency=5, transaction_store="ledger"),
        # Document 002: an ALB, and an Auto Scaling group for batch payment jobs.
        # Document 002: a hosted zone with failover records and health checks on both endpoints.
        edge=EdgeConfig(hosted_zone_id="create", load_balancer=LoadBalancerConfig(), failover=FailoverConfig()),
        compute=ComputeConfig(batch=FleetConfig(min_size=1, max_size=4, desired_capacity=1)),
        # Document 002's governance: data events on the payment path, Inspector; 30-day backups.
        governance=GovernanceConfig(data_events=True, inspector=True),
        # Document 002's streaming analytics: payment logs to S3 through Firehose and a transform.
        observability=ObservabilityConfig(payment_log_stream=True),
    ),
    "portal-cdn": DeploymentConfig(
        profile="portal-cdn",
        description="003: Aurora MySQL with rotated credentials, assets and archived app logs",
        region="us-east-1",
        name_prefix="portal",
        tags=TagsConfig(application="customer-portal"),
        network=NetworkConfig(nat_mode="per_az", flow_log_destinations=("s3",)),
        key_purposes=("database", "s3", "logs", "secrets", "compute"),
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
        governance=GovernanceConfig(backup=BackupConfig(retention_days=7)),
        # Document 003: CloudFront with WAF in front; the load balancer is reachable only through it.
        edge=EdgeConfig(load_balancer=LoadBalancerConfig(), cdn=CdnConfig()),
        # Document 003: t3.large, CPU step scaling 70/30, at least 3 during New York business hours.
        compute=ComputeConfig(web=FleetConfig(instance_type="t3.large", business_hours=BusinessHours())),
    ),
    "serverless-payments": DeploymentConfig(
        profile="serverless-payments",
        description="004: serverless payment functions, queues, events and DynamoDB; Aurora PostgreSQL",
        region="us-east-1",
        name_prefix="payment",
        tags=TagsConfig(application="payment-migration"),
        network=NetworkConfig(nat_mode="per_az", isolated_database_tier=True, flow_log_destinations=("s3",)),
        key_purposes=("database", "dynamodb", "s3", "secrets", "logs", "parameters", "events", "compute"),
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
        # Document 004: two db.r6g.xlarge instances, 30-day backups, database `payments`. Its
        # PostgreSQL 14.6 reaches end of standard support: 16 instead.
        database=AuroraConfig(
            engine="aurora-postgresql",
            engine_version=AURORA_POSTGRES_VERSION,
            instance_count=2,
            serverless_acu=None,
            instance_class="db.r6g.xlarge",
        ),
        # Document 004 fixes `transactions-<suffix>`; no other profile drops its prefix there.
        transactions_table=TransactionsTableConfig(document_name="transactions"),
        # Document 004: parameters under /payment-processing/<suffix>/.
        parameters=ParametersConfig(root="payment-processing"),
        # Document 004: validation, fraud and processing Lambdas, reserved concurrency 10.
        payments=PaymentsConfig(reserved_concurrency=10),
        # Document 004: an internal ALB for the HTTP API's VPC link, blue/green weighted 90/10.
        edge=EdgeConfig(load_balancer=LoadBalancerConfig(internal=True, blue_green=BlueGreenConfig())),
        compute=ComputeConfig(),
        # PCI 10.2.1: CloudTrail data events on what holds payment data here (the functions, the
        # transactions table, the audit-log bucket, whose reads 10.2.1.3 asks to log). Document 004
        # is silent on CloudTrail; TAP-TRAIL-2 found the gap.
        governance=GovernanceConfig(data_events=True),
    ),
    "full": DeploymentConfig(
        profile="full",
        description="Every tier TAP builds today, PostgreSQL flavour",
        region="us-east-1",
        name_prefix="tap",
        tags=TagsConfig(compliance="PCI-DSS"),
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
            ledger=True,
        ),
        cache=RedisConfig(),
        file_system=FileSystemConfig(),
        parameters=ParametersConfig(),
        # Payments settle into the ledger; the DynamoDB store is document 004's (serverless-payments).
        payments=PaymentsConfig(transaction_store="ledger"),
        transactions_api=TransactionsApiConfig(),
        edge=EdgeConfig(load_balancer=LoadBalancerConfig(blue_green=BlueGreenConfig()), cdn=CdnConfig()),
        compute=ComputeConfig(
            web=FleetConfig(business_hours=BusinessHours()),
            batch=FleetConfig(min_size=1, max_size=4, desired_capacity=1),
        ),
        governance=GovernanceConfig(data_events=True, inspector=True),
        observability=ObservabilityConfig(payment_log_stream=True),
    ),
}

TRUE_WORDS, FALSE_WORDS = {"1", "true", "yes"}, {"0", "false", "no"}
ENV_RULES = frozenset({"env.profile", "env.empty", "env.protected"})
# Environment variable -> the configuration path it sets (for the summary's "where from").
ENV_PATHS = {
    "ENVIRONMENT_SUFFIX": "environment_suffix",
    "AWS_REGION": "region",
    "TAP_PROTECTED": "destroyable",
    "TERRAFORM_STATE_BUCKET": "backend.state_bucket",
    "TERRAFORM_STATE_BUCKET_REGION": "backend.state_bucket_region",
    "REPOSITORY": "tags.repository",
    "COMMIT_AUTHOR": "tags.author",
}


def load_config(environ: Mapping[str, str]) -> DeploymentConfig:
    """The profile named by TAP_PROFILE, then the TAP_CONFIG file, then the environment's overrides.

    A variable that is set but empty is an error, not a silent default. Values that are not even
    of the right kind (an unknown profile, a non-boolean TAP_PROTECTED, an unknown file key) are
    left out and reported here together with what `validation.validate` finds in the rest, so
    one run lists every problem.
    """
    problems: list[Violation] = []

    def env(name: str) -> str | None:
        if name not in environ:
            return None
        value = environ[name].strip()
        if not value:
            problems.append(Violation(name, environ[name], "is set but empty; unset it or give a value", "env.empty"))
            return None
        return value

    profile_name = env("TAP_PROFILE") or DEFAULT_PROFILE
    if profile_name not in PROFILES:
        problems.append(Violation("TAP_PROFILE", profile_name, f"must be one of {sorted(PROFILES)}", "env.profile"))
        profile_name = DEFAULT_PROFILE
    config = PROFILES[profile_name]
    sources: list[tuple[str, str]] = []
    config_file = env("TAP_CONFIG")
    if config_file is not None:
        config, file_sources, file_problems = apply_file(config, config_file)
        sources += file_sources
        problems += file_problems
    protected_raw = (env("TAP_PROTECTED") or "").lower()
    if protected_raw and protected_raw not in TRUE_WORDS | FALSE_WORDS:
        problems.append(Violation("TAP_PROTECTED", protected_raw, "must be true or false", "env.protected"))
    overrides = {name: value for name in ENV_PATHS if (value := env(name)) is not None}
    suffix = overrides.get("ENVIRONMENT_SUFFIX", config.environment_suffix)
    # Production suffixes are protected unless told otherwise (by the variable or the file).
    if protected_raw:
        destroyable = protected_raw not in TRUE_WORDS
    elif dict(sources).get("destroyable"):
        destroyable = config.destroyable
    else:
        destroyable = not suffix.startswith("prod")
    sources += [(ENV_PATHS[name], name) for name in overrides]
    config = dataclasses.replace(
        config,
        environment_suffix=suffix,
        region=overrides.get("AWS_REGION", config.region),
        destroyable=destroyable,
        tags=dataclasses.replace(
            config.tags,
            repository=overrides.get("REPOSITORY", config.tags.repository),
            author=overrides.get("COMMIT_AUTHOR", config.tags.author),
        ),
        backend=BackendConfig(
            state_bucket=overrides.get("TERRAFORM_STATE_BUCKET"),
            state_bucket_region=overrides.get("TERRAFORM_STATE_BUCKET_REGION", "us-east-1"),
        ),
        sources=tuple(sources),
    )
    if problems:
        # With what could be read, so the same run also reports every validation problem.
        raise ConfigError(problems + validate(config))
    return config
