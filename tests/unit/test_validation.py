"""Bad configuration fails at synth, naming field, value, rule and source, and writes nothing.

Every rule id (`validation.RULES`, `config_file.FILE_RULES`, `profiles.ENV_RULES`) has a failing
case here; `test_every_rule_has_a_failing_case` keeps it that way.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lib.config import (
    AuroraConfig,
    BackendConfig,
    BackupConfig,
    BaselineConfig,
    BlueGreenConfig,
    BucketLifecycle,
    BusinessHours,
    CdnConfig,
    ComputeConfig,
    ConfigRecorderConfig,
    DeploymentConfig,
    EdgeConfig,
    EndpointsConfig,
    FailoverConfig,
    FileSystemConfig,
    GovernanceConfig,
    GuardDutyConfig,
    LambdaConfig,
    LoadBalancerConfig,
    NetworkConfig,
    ObservabilityConfig,
    ParametersConfig,
    PaymentsConfig,
    RedisConfig,
    RemediationConfig,
    StorageConfig,
    TrailConfig,
    TransactionsApiConfig,
    WafConfig,
)
from lib.config_file import FILE_RULES
from lib.core.naming import MAX_SUFFIX_LENGTH
from lib.errors import ConfigError
from lib.profiles import ENV_RULES, PROFILES, load_config
from lib.synth import synthesize
from lib.validation import RULES, validate, violation
from tests.conftest import PROFILE_NAMES

ROOT = Path(__file__).resolve().parents[2]
FULL = PROFILES["full"]


def network(**changes: object) -> NetworkConfig:
    return dataclasses.replace(FULL.network, **changes)  # type: ignore[arg-type]


def database(**changes: object) -> AuroraConfig:
    assert FULL.database is not None
    return dataclasses.replace(FULL.database, **changes)  # type: ignore[arg-type]


def payments(**changes: object) -> PaymentsConfig:
    return dataclasses.replace(PaymentsConfig(), **changes)  # type: ignore[arg-type]


def edge(**changes: object) -> EdgeConfig:
    """Full's edge (with its load balancer) changed."""
    return dataclasses.replace(FULL.edge, **changes)  # type: ignore[arg-type]


def load_balancer(**changes: object) -> EdgeConfig:
    assert FULL.edge.load_balancer is not None
    return edge(load_balancer=dataclasses.replace(FULL.edge.load_balancer, **changes))


def cdn(**changes: object) -> EdgeConfig:
    """Full's edge with its CloudFront settings changed."""
    assert FULL.edge.cdn is not None
    return edge(cdn=dataclasses.replace(FULL.edge.cdn, **changes))


def secure_edge(**changes: object) -> EdgeConfig:
    """Secure-platform's edge (with failover) changed."""
    return dataclasses.replace(PROFILES["secure-platform"].edge, **changes)  # type: ignore[arg-type]


def fleet(**changes: object) -> ComputeConfig:
    """Full's compute with its web fleet changed."""
    assert FULL.compute is not None
    return dataclasses.replace(FULL.compute, web=dataclasses.replace(FULL.compute.web, **changes))  # type: ignore[arg-type]


def interfaces(*services: str, base: DeploymentConfig = FULL) -> EndpointsConfig:
    return dataclasses.replace(base.endpoints, interface_services=services)  # type: ignore[arg-type]


def buckets(**lifecycles: BucketLifecycle) -> StorageConfig:
    return StorageConfig(buckets={"flow_logs": BucketLifecycle(), **lifecycles})


CERTIFICATE = "arn:aws:acm:{region}:111122223333:certificate/0b1c2d3e-4f5a-6b7c-8d9e-0f1a2b3c4d5e"

# rule id -> (profile, changes, text the violation must contain)
CASES: dict[str, tuple[str, dict[str, object], str]] = {
    "identity.suffix": ("full", {"environment_suffix": "Dev"}, "ENVIRONMENT_SUFFIX = 'Dev': must match"),
    "identity.prefix": ("full", {"name_prefix": "9tap"}, "name_prefix = '9tap': must match"),
    "identity.region": ("full", {"region": "us-north-9"}, "AWS_REGION = 'us-north-9': must be an AWS region"),
    "backend.bucket": ("full", {"backend": BackendConfig(state_bucket="Tap_States")}, "TERRAFORM_STATE_BUCKET"),
    "backend.region": (
        "full",
        {"backend": BackendConfig(state_bucket_region="mars-1")},
        "TERRAFORM_STATE_BUCKET_REGION = 'mars-1'",
    ),
    "network.cidr_format": (
        "full",
        {"network": network(cidr_block="10.0.0.0/33")},
        "network.cidr_block = '10.0.0.0/33': must be an IPv4 CIDR block",
    ),
    "network.cidr_range": (
        "full",
        {"network": network(cidr_block="8.8.0.0/16")},
        "network.cidr_block = '8.8.0.0/16': must be a private IPv4 block",
    ),
    "network.zone_count": ("full", {"network": network(zone_letters=("a",))}, "must name 2 to 6 zones"),
    "network.zone_format": ("full", {"network": network(zone_letters=("a", "a", "B"))}, "distinct single lowercase"),
    "network.zone_exists": (
        "full",
        {"region": "ca-central-1", "network": network(zone_letters=("a", "b", "c"))},
        "ca-central-1 has zones ['a', 'b', 'd'] only; it has no ['c']",
    ),
    "network.subnets_fit": (
        "full",
        {"network": network(database_offset=254)},
        "network.database_offset = 254: its 3 /24 subnets must fit in 10.0.0.0/16",
    ),
    "network.subnets_overlap": (
        "full",
        {"network": network(private_offset=1)},
        "network.private_offset = 1: its subnets overlap those of network.public_offset",
    ),
    "network.nat_mode": ("full", {"network": network(nat_mode="double")}, "must be 'none', 'single' or 'per_az'"),
    "flow_logs.present": ("full", {"network": network(flow_log_destinations=())}, "PCI-DSS 10.2 needs VPC flow logs"),
    "flow_logs.destinations": (
        "full",
        {"network": network(flow_log_destinations=("s3", "kinesis"))},
        "network.flow_log_destinations = ['kinesis']",
    ),
    "flow_logs.retention_value": (
        "full",
        {"network": network(flow_log_cloudwatch_retention_days=45)},
        "must be one of CloudWatch's values",
    ),
    "flow_logs.archive": (
        "full",
        {"network": network(flow_log_destinations=("cloudwatch",), flow_log_cloudwatch_retention_days=30)},
        "below PCI-DSS 10.5.1's 365 days the 's3' destination must also be on",
    ),
    "storage.flow_log_bucket": (
        "full",
        {"storage": StorageConfig(buckets={})},
        "the 's3' flow-log destination needs a 'flow_logs' bucket",
    ),
    "storage.access_log_retention": (
        "full",
        {"storage": dataclasses.replace(buckets(), access_log_retention_days=90)},
        "storage.access_log_retention_days = 90: S3 access logs are audit logs",
    ),
    "storage.purpose": ("full", {"storage": buckets(**{"Settlement-Reports": BucketLifecycle()})}, "bucket purposes"),
    "storage.days": (
        "full",
        {"storage": buckets(reports=BucketLifecycle(expire_after_days=0))},
        "storage.buckets['reports'].expire_after_days = 0: must be at least 1 day",
    ),
    "storage.lifecycle_order": (
        "full",
        {"storage": buckets(reports=BucketLifecycle(expire_after_days=30, transition_after_days=30))},
        "storage.buckets['reports'].transition_after_days = 30: must come before expire_after_days (30)",
    ),
    "keys.known": ("full", {"key_purposes": (*FULL.key_purposes, "quantum")}, "key_purposes = ['quantum']"),
    "keys.unique": ("full", {"key_purposes": (*FULL.key_purposes, "s3")}, "must not repeat a purpose"),
    "keys.needed": ("full", {"key_purposes": ("logs",)}, "must include 's3': buckets are encrypted with the s3 key"),
    "endpoints.known": ("full", {"endpoints": interfaces(*FULL.endpoints.interface_services, "ec2")}, "['ec2']"),
    "endpoints.rotation": (
        "web-mysql",
        {"endpoints": interfaces("kms", "logs", "sts", base=PROFILES["web-mysql"])},
        "through its 'secretsmanager' endpoint",
    ),
    "endpoints.nat_less": (
        "transactions-pg",
        {"endpoints": interfaces("kms", "secretsmanager", base=PROFILES["transactions-pg"])},
        "without NAT, private subnets need the 'sts' endpoint",
    ),
    "endpoints.gateways": (
        "full",
        {"endpoints": dataclasses.replace(FULL.endpoints, gateway_services=("s3", "ec2"))},
        "endpoints.gateway_services = ['ec2', 's3']",
    ),
    "database.mysql_version": ("full", {"database": database(engine="aurora-mysql")}, "Aurora MySQL must be 8.0"),
    "database.postgres_version": (
        "full",
        {"database": database(engine_version="14.9")},
        "database.engine_version = '14.9': Aurora PostgreSQL must be 15 or 16",
    ),
    "database.instance_count": ("full", {"database": database(instance_count=0)}, "must be 1 (writer) to 16"),
    "database.acu_range": (
        "full",
        {"database": database(serverless_acu=(4.0, 1.0))},
        "database.serverless_acu = (4.0, 1.0): must be (min, max)",
    ),
    "database.serverless_class": (
        "full",
        {"database": database(instance_class="db.r6g.large")},
        "must be db.serverless with serverless_acu",
    ),
    "database.provisioned_class": (
        "full",
        {"database": database(serverless_acu=None)},
        "database.instance_class = 'db.serverless': must be a provisioned class",
    ),
    "database.backup_retention": ("full", {"database": database(backup_retention_days=0)}, "must be 1 to 35 days"),
    "database.rotation_days": (
        "full",
        {"database": database(app_rotation_days=0)},
        "database.app_rotation_days = 0: must be 1 to 365 days",
    ),
    "database.monitoring_interval": (
        "full",
        {"database": database(monitoring_interval_seconds=7)},
        "database.monitoring_interval_seconds = 7: must be one of",
    ),
    "database.performance_insights": (
        "full",
        {"database": database(performance_insights_retention_days=8)},
        "database.performance_insights_retention_days = 8",
    ),
    "database.username": (
        "full",
        {"database": database(app_username="postgres")},
        "database.app_username = 'postgres': must be a lowercase identifier",
    ),
    "database.distinct_users": (
        "full",
        {"database": database(app_username="tap_admin")},
        "database.app_username = 'tap_admin': must differ from master_username",
    ),
    "database.name": ("full", {"database": database(database_name="9db")}, "database.database_name = '9db'"),
    "database.ledger_engine": (
        "web-mysql",
        {"database": dataclasses.replace(PROFILES["web-mysql"].database, ledger=True)},  # type: ignore[arg-type]
        "database.ledger = True: the ledger schema needs engine aurora-postgresql",
    ),
    "cache.node_count": ("full", {"cache": RedisConfig(node_count=1)}, "cache.node_count = 1: must be 2 to 6"),
    "file_system.path": (
        "full",
        {"file_system": FileSystemConfig(access_point_path="app")},
        "file_system.access_point_path = 'app': must be an absolute path",
    ),
    "lambdas.rotation_concurrency": (
        "full",
        {"lambdas": LambdaConfig(rotation_reserved_concurrency=0)},
        "lambdas.rotation_reserved_concurrency = 0",
    ),
    "lambdas.log_retention": (
        "full",
        {"lambdas": LambdaConfig(log_retention_days=45)},
        "lambdas.log_retention_days = 45",
    ),
    "payments.table": (
        "serverless-payments",
        {"transactions_table": None},
        "transactions_table = None: payments record transactions in the DynamoDB table",
    ),
    "payments.ledger": (
        "serverless-payments",
        {"payments": payments(transaction_store="ledger")},
        "payments.transaction_store = 'ledger': the ledger store needs database.ledger and database.rds_proxy",
    ),
    "payments.store": (
        "full",
        {"payments": payments(transaction_store="files")},
        "payments.transaction_store = 'files': must be 'dynamodb' or 'ledger'",
    ),
    "payments.endpoints": (
        "full",
        {"endpoints": interfaces("secretsmanager", "kms", "logs", "monitoring", "sts", "sqs", "events")},
        "payment functions reach ['lambda'] through VPC endpoints",
    ),
    "payments.gateway": (
        "full",
        {"endpoints": dataclasses.replace(FULL.endpoints, gateway_services=("s3",))},
        "payment functions reach DynamoDB through its gateway endpoint",
    ),
    "payments.currencies": (
        "full",
        {"payments": payments(currencies=("usd",))},
        "payments.currencies = ['usd']: must be ISO 4217 codes",
    ),
    "payments.fraud_thresholds": (
        "full",
        {"payments": payments(fraud_review_amount=3_000_000)},
        "must satisfy 0 < review < decline <= amount_ceiling",
    ),
    "payments.minimums": (
        "full",
        {"payments": payments(reserved_concurrency=0)},
        "payments.reserved_concurrency = 0: must be at least 1",
    ),
    "payments.max_receive_count": (
        "full",
        {"payments": payments(max_receive_count=0)},
        "payments.max_receive_count = 0: must be 1 to 1000",
    ),
    "payments.missing_country": (
        "full",
        {"payments": payments(missing_country="approve")},
        "payments.missing_country = 'approve': must be 'review' or 'ignore'",
    ),
    "payments.batch_size": (
        "full",
        {"payments": payments(batch_size=0)},
        "payments.batch_size = 0: must be 1 to 10000",
    ),
    "payments.email": (
        "full",
        {"payments": payments(alert_emails=("not-an-email",))},
        "payments.alert_emails = 'not-an-email': must be an email address",
    ),
    "payments.cors_wildcard": (
        "full",
        {"payments": payments(cors_origins=("*",)), "destroyable": False},
        "'*' is never allowed in a protected environment",
    ),
    "transactions_api.ledger": (
        "transactions-pg",
        {"database": database(ledger=False)},
        "database.ledger = None: the transactions API serves the ledger",
    ),
    "transactions_api.cache": (
        "transactions-pg",
        {"cache": None},
        "cache = None: the transactions API caches balances in Redis",
    ),
    "transactions_api.endpoints": (
        "transactions-pg",
        {"endpoints": interfaces("kms", "logs", "monitoring", "sts")},
        "reads its secrets through the secretsmanager VPC endpoint",
    ),
    "transactions_api.cache_seconds": (
        "transactions-pg",
        {"transactions_api": TransactionsApiConfig(balance_cache_seconds=0)},
        "transactions_api.balance_cache_seconds = 0: must be 1 to 3600",
    ),
    "payments.cors_origin": (
        "full",
        {"payments": payments(cors_origins=("ftp://x",))},
        "payments.cors_origins = 'ftp://x': must be an https origin",
    ),
    "region.powertools": (
        "full",
        {"region": "ap-east-2", "lambdas": LambdaConfig(code_signing=False)},
        "AWS publishes no Powertools layer here",
    ),
    "edge.domain": (
        "full",
        {"edge": edge(domain_name="Pay_Example.com")},
        "edge.domain_name = 'Pay_Example.com'",
    ),
    "edge.hosted_zone": (
        "full",
        {"edge": edge(domain_name="pay.example.com", hosted_zone_id="zone-1")},
        "edge.hosted_zone_id = 'zone-1': must be a Route 53 zone id",
    ),
    "edge.zone_needs_domain": (
        "full",
        {"edge": edge(hosted_zone_id="Z0123456789ABC")},
        "edge.hosted_zone_id = 'Z0123456789ABC': an existing zone needs edge.domain_name under it",
    ),
    "edge.certificate": (
        "full",
        {"edge": edge(certificate_arn="arn:aws:iam::111122223333:server-certificate/pay")},
        "must be an ACM certificate ARN",
    ),
    "edge.certificate_region": (
        "full",
        {"edge": edge(certificate_arn=CERTIFICATE.format(region="eu-west-1"))},
        "must be in the deployment's region us-east-1",
    ),
    "edge.targets": ("full", {"compute": None}, "compute = None: the load balancer needs instances behind it"),
    "edge.private_route": (
        "web-mysql",
        {"edge": EdgeConfig(load_balancer=LoadBalancerConfig(internal=True))},
        "edge.load_balancer.internal = True: an internal load balancer is reached through the payments HTTP API",
    ),
    "edge.ssl_policy": (
        "full",
        {"edge": load_balancer(ssl_policy="ELBSecurityPolicy-2016-08")},
        "edge.load_balancer.ssl_policy = 'ELBSecurityPolicy-2016-08': must be an ELB security policy of TLS 1.2",
    ),
    "edge.health_check": (
        "full",
        {"edge": load_balancer(health_check_timeout_seconds=30)},
        "edge.load_balancer.health_check_timeout_seconds = 30: must be at least 2 and below the interval",
    ),
    "edge.weights": (
        "full",
        {"edge": load_balancer(blue_green=BlueGreenConfig(blue_weight=90, green_weight=20))},
        "edge.load_balancer.blue_green = (90, 20): blue_weight and green_weight are percentages",
    ),
    "edge.waf": (
        "full",
        {"edge": load_balancer(waf=WafConfig(blocked_countries=("North Korea",)))},
        "edge.load_balancer.waf.blocked_countries = ['North Korea']: must be ISO 3166 alpha-2 country codes",
    ),
    "edge.cdn_origin": (
        "serverless-payments",
        {"edge": dataclasses.replace(PROFILES["serverless-payments"].edge, cdn=CdnConfig())},
        "edge.cdn = 'on': CloudFront's origin is an internet-facing load balancer",
    ),
    "edge.cdn_assets": (
        "portal-cdn",
        {"storage": buckets(flow_logs=BucketLifecycle())},
        "storage.buckets = ['flow_logs']: CloudFront serves static content from the 'assets' bucket",
    ),
    "edge.cdn_paths": (
        "full",
        {"edge": cdn(static_paths=("static/*",))},
        "edge.cdn.static_paths = ['static/*']: must be one or more CloudFront path patterns",
    ),
    "edge.cdn_ttl": (
        "full",
        {"edge": cdn(static_default_ttl_seconds=90_000, static_max_ttl_seconds=3_600)},
        "edge.cdn.static_default_ttl_seconds = (90000, 3600): need 0 <= default <= max",
    ),
    "edge.cdn_price_class": ("full", {"edge": cdn(price_class="cheap")}, "edge.cdn.price_class = 'cheap'"),
    "edge.cdn_hsts": (
        "full",
        {"edge": cdn(hsts_max_age_seconds=300)},
        "edge.cdn.hsts_max_age_seconds = 300: must be at least 31536000",
    ),
    "edge.cdn_csp": (
        "full",
        {"edge": cdn(content_security_policy="default-src *; script-src 'unsafe-inline'")},
        "must set default-src, frame-ancestors and object-src, without * or 'unsafe-inline' (missing frame-ancestors",
    ),
    "edge.cdn_countries": (
        "full",
        {"edge": cdn(blocked_countries=("Cuba",))},
        "edge.cdn.blocked_countries = ['Cuba']: must be ISO 3166 alpha-2 codes",
    ),
    "edge.cdn_certificate": (
        "full",
        {"edge": cdn(certificate_arn="arn:aws:acm:eu-west-1:123456789012:certificate/" + "0" * 36)},
        "must be an ACM certificate ARN in us-east-1",
    ),
    "edge.failover_zone": (
        "secure-platform",
        {"edge": secure_edge(hosted_zone_id=None)},
        "edge.hosted_zone_id = None: failover records need a hosted zone",
    ),
    "edge.failover_primary": (
        "full",
        {"edge": edge(failover=FailoverConfig())},
        "edge.failover = 'on': the primary is an internet-facing load balancer without CloudFront",
    ),
    "edge.failover_checks": (
        "secure-platform",
        {"edge": secure_edge(failover=FailoverConfig(request_interval_seconds=60))},
        "edge.failover.request_interval_seconds = (60, 3): Route 53 checks every 10 or 30 seconds",
    ),
    "edge.failover_secondary": (
        "secure-platform",
        {"edge": secure_edge(failover=FailoverConfig(secondary_dns_name="dr.example.com"))},
        "edge.failover.secondary_dns_name = ('dr.example.com', None, '/'): needs both a DNS name and its hosted",
    ),
    "compute.load_balancer": (
        "full",
        {"edge": edge(load_balancer=None)},
        "edge.load_balancer = None: instances serve behind a load balancer",
    ),
    "compute.database": ("web-mysql", {"database": None}, "database = None: the health service checks the database"),
    "compute.endpoints": (
        "web-mysql",
        {"endpoints": EndpointsConfig(interface_services=("kms", "logs"))},
        "instances read the database secret through the secretsmanager endpoint",
    ),
    "compute.instance_type": (
        "full",
        {"compute": fleet(instance_type="large")},
        "compute.web.instance_type = 'large': must be an EC2 type",
    ),
    "compute.sizes": (
        "full",
        {"compute": fleet(min_size=3, desired_capacity=2)},
        "compute.web.desired_capacity = (3, 2, 6): needs 0 <= min_size <= desired_capacity <= max_size",
    ),
    "compute.scaling": (
        "full",
        {"compute": fleet(scale_in_cpu_percent=80)},
        "compute.web.scale_in_cpu_percent = (80, 70): needs 0 < scale_in_cpu_percent < scale_out_cpu_percent",
    ),
    "compute.volume": (
        "full",
        {"compute": fleet(root_volume_gb=4)},
        "compute.web.root_volume_gb = 4: must be at least 8",
    ),
    "compute.time_zone": (
        "full",
        {"compute": fleet(business_hours=BusinessHours(time_zone="Eastern"))},
        "compute.web.business_hours.time_zone = 'Eastern': must be an IANA time zone",
    ),
    "compute.schedule": (
        "full",
        {"compute": fleet(business_hours=BusinessHours(min_size=9))},
        "compute.web.business_hours.min_size = 9: must be between the fleet's min_size (2) and max_size (6)",
    ),
    "parameters.root": (
        "full",
        {"parameters": ParametersConfig(root="Payment Processing")},
        "parameters.root = 'Payment Processing'",
    ),
    "baseline.detector_id": (
        "web-mysql",
        {"baseline": BaselineConfig(guardduty=GuardDutyConfig(existing_detector_id="detector-1"))},
        "baseline.guardduty.existing_detector_id = 'detector-1': must be a GuardDuty detector id",
    ),
    "baseline.severity": (
        "web-mysql",
        {"baseline": BaselineConfig(guardduty=GuardDutyConfig(alert_min_severity=70.0))},
        "baseline.guardduty.alert_min_severity = 70.0: must be on GuardDuty's scale, 1-10",
    ),
    "baseline.config_name": (
        "web-mysql",
        {"baseline": BaselineConfig(aws_config=ConfigRecorderConfig(existing_recorder_name="my recorder"))},
        "baseline.aws_config.existing_recorder_name = 'my recorder': must be 1-256 characters without spaces",
    ),
    "baseline.trail_retention": (
        "web-mysql",
        {"baseline": BaselineConfig(cloudtrail=TrailConfig(retention_days=90))},
        "baseline.cloudtrail.retention_days = 90: PCI DSS 10.5.1 keeps audit logs at least 365 days",
    ),
    "baseline.trail_log_retention": (
        "web-mysql",
        {"baseline": BaselineConfig(cloudtrail=TrailConfig(log_group_retention_days=100))},
        "baseline.cloudtrail.log_group_retention_days = 100: must be a value CloudWatch Logs accepts",
    ),
    "baseline.config_adoption": (
        "web-mysql",
        {"baseline": BaselineConfig(aws_config=ConfigRecorderConfig(existing_recorder_name="default"))},
        "baseline.aws_config.existing_delivery_channel_name = None: adopt the recorder and the delivery channel together",
    ),
    "baseline.destination_adoption": (
        "web-mysql",
        {"baseline": BaselineConfig(guardduty=GuardDutyConfig(existing_publishing_destination_id="a1b2"))},
        "existing_publishing_destination_id = 'a1b2': an existing export belongs to an existing detector",
    ),
    "baseline.home_region": (
        "web-mysql",
        {"baseline": BaselineConfig(home_region="us-east-9")},
        "baseline.home_region = 'us-east-9': must be an AWS region",
    ),
    "baseline.powertools": (
        "web-mysql",
        {"region": "ap-east-2", "baseline": BaselineConfig(lambdas=LambdaConfig(code_signing=False))},
        "baseline.remediation.enabled = True: the unsigned remediation function needs AWS's Powertools layer",
    ),
    "lambdas.layer_platform": (
        "web-mysql",
        {"lambdas": LambdaConfig(runtime="python3.12")},
        "lambdas.runtime = 'python3.12 x86_64': TAP builds its signed Powertools layer for python3.13 x86_64",
    ),
    "governance.backup_retention": (
        "web-mysql",
        {"governance": GovernanceConfig(backup=BackupConfig(retention_days=0))},
        "governance.backup.retention_days = 0: AWS Backup keeps recovery points 1-36500 days",
    ),
    "governance.backup_schedule": (
        "web-mysql",
        {"governance": GovernanceConfig(backup=BackupConfig(schedule="daily"))},
        "governance.backup.schedule = 'daily': must be an AWS Backup schedule expression",
    ),
    "governance.backup_windows": (
        "web-mysql",
        {"governance": GovernanceConfig(backup=BackupConfig(start_window_minutes=30))},
        "governance.backup.start_window_minutes = 30: AWS Backup needs a start window of at least 60 minutes",
    ),
    "governance.data_events": (
        "web-mysql",
        {"governance": GovernanceConfig(data_events=True)},
        "governance.data_events = True: the environment has nothing whose data events CloudTrail records",
    ),
    "observability.email": (
        "web-mysql",
        {"observability": ObservabilityConfig(alarm_emails=("oncall",))},
        "observability.alarm_emails = 'oncall': must be an email address",
    ),
    "observability.payment_log_stream": (
        "web-mysql",
        {"observability": ObservabilityConfig(payment_log_stream=True)},
        "observability.payment_log_stream = True: the environment has no payment functions or transactions API",
    ),
    "governance.inspector": (
        "full",
        {"baseline": BaselineConfig(inspector=False)},
        "governance.inspector = True: Amazon Inspector is enabled by the account baseline",
    ),
    "baseline.remediation_attempts": (
        "web-mysql",
        {"baseline": BaselineConfig(remediation=RemediationConfig(automatic_attempts=0))},
        "baseline.remediation.automatic_attempts = 0: AWS Config allows 1-25 automatic attempts",
    ),
    "baseline.email": (
        "web-mysql",
        {"baseline": BaselineConfig(security_alert_emails=("secops",))},
        "baseline.security_alert_emails = 'secops': must be an email address",
    ),
}

# rule id -> (environment for load_config, TOML file content or None, text the error must contain)
LOAD_CASES: dict[str, tuple[dict[str, str], str | None, str]] = {
    "env.profile": ({"TAP_PROFILE": "everything"}, None, "TAP_PROFILE = 'everything': must be one of ['full'"),
    "env.empty": ({"ENVIRONMENT_SUFFIX": ""}, None, "ENVIRONMENT_SUFFIX = '': is set but empty"),
    "env.protected": ({"TAP_PROTECTED": "maybe"}, None, "TAP_PROTECTED = 'maybe': must be true or false"),
    "file.read": ({}, "[payments\n", "cannot be read as TOML"),
    "file.unknown_key": ({}, "[payments]\ncolour = 'red'\n", "payments.colour = 'red' (from {file}: payments.colour)"),
    "file.type": ({}, "[payments]\nreserved_concurrency = 'ten'\n", "payments.reserved_concurrency = 'ten'"),
    "file.section_off": (
        {"TAP_PROFILE": "web-mysql"},
        "[payments]\nreserved_concurrency = 5\n",
        "this section is off in the profile",
    ),
}


def test_every_rule_has_a_failing_case() -> None:
    assert set(CASES) == RULES
    assert set(LOAD_CASES) == FILE_RULES | ENV_RULES


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_every_profile_is_valid(profile: str) -> None:
    assert validate(load_config({"TAP_PROFILE": profile})) == []


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_each_rule_names_field_value_and_rule(rule_id: str) -> None:
    profile, changes, expected = CASES[rule_id]
    config = dataclasses.replace(PROFILES[profile], **changes)  # type: ignore[arg-type]
    found = [str(v) for v in validate(config) if v.rule_id == rule_id]
    assert any(expected in v and v.endswith(f"[{rule_id}]") for v in found), (found, validate(config))


@pytest.mark.parametrize("rule_id", sorted(LOAD_CASES))
def test_each_load_rule_names_its_source(rule_id: str, tmp_path: Path) -> None:
    environ, content, expected = LOAD_CASES[rule_id]
    file = tmp_path / "env.toml"
    if content is not None:
        file.write_text(content)
        environ = {**environ, "TAP_CONFIG": str(file)}
    with pytest.raises(ConfigError) as raised:
        load_config(environ)
    found = [str(v) for v in raised.value.violations if v.rule_id == rule_id]
    assert any(expected.format(file=file) in v for v in found), found


def test_an_unregistered_rule_id_is_a_programming_error() -> None:
    with pytest.raises(KeyError, match=r"unregistered validation rule 'identity\.colour'"):
        violation("identity.colour", "x", 1, "never")


def test_wildcard_cors_is_tolerated_only_when_destroyable() -> None:
    config = dataclasses.replace(FULL, payments=payments(cors_origins=("*",)))
    assert [v for v in validate(config) if "cors" in v.rule_id] == []


def test_the_transactions_api_is_held_to_the_payment_rules() -> None:
    """The rules `payments` and `transactions_api` share name the section that broke them."""
    config = dataclasses.replace(
        PROFILES["transactions-pg"],
        destroyable=False,
        transactions_api=TransactionsApiConfig(
            cors_origins=("*",), currencies=("usd",), throttle_burst=0, velocity_limit=0
        ),
    )
    found = {(v.field, v.rule_id) for v in validate(config)}
    assert found == {
        ("transactions_api.cors_origins", "payments.cors_wildcard"),
        ("transactions_api.currencies", "payments.currencies"),
        ("transactions_api.throttle_burst", "payments.minimums"),
        ("transactions_api.velocity_limit", "payments.minimums"),
    }


def test_all_violations_are_reported_at_once_and_nothing_is_written(tmp_path: Path) -> None:
    config = dataclasses.replace(
        FULL, environment_suffix="BAD_suffix", region="nowhere-1", network=network(zone_letters=tuple("abcdefghi"))
    )
    outdir = tmp_path / "cdktf.out"
    with pytest.raises(ConfigError) as raised:
        synthesize(config, outdir)
    message = str(raised.value)
    for field in (
        "ENVIRONMENT_SUFFIX = 'BAD_suffix'",
        "AWS_REGION = 'nowhere-1'",
        "network.zone_letters = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i']",
    ):
        assert field in message
    assert not outdir.exists()


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_every_profile_synthesizes_with_the_longest_suffix_and_prefix(profile: str, tmp_path: Path) -> None:
    """The suffix limit is one number: at that length, with a maximal prefix, every generated name fits."""
    config = dataclasses.replace(PROFILES[profile], environment_suffix="s" * MAX_SUFFIX_LENGTH, name_prefix="p" * 10)
    result = synthesize(config, tmp_path / "out")
    assert result.output_file.is_file() and result.baseline_file.is_file()


def test_a_suffix_over_the_limit_is_reported_against_environment_suffix() -> None:
    config = dataclasses.replace(FULL, environment_suffix="s" * (MAX_SUFFIX_LENGTH + 1))
    (problem,) = validate(config)
    assert problem.field == "ENVIRONMENT_SUFFIX" and problem.rule_id == "identity.suffix"
    assert f"at most {MAX_SUFFIX_LENGTH} characters" in problem.rule


def test_environment_overrides_apply() -> None:
    config = load_config(
        {
            "TAP_PROFILE": "transactions-pg",
            "ENVIRONMENT_SUFFIX": "pr42",
            "AWS_REGION": "eu-west-1",
            "REPOSITORY": "org/tap",
            "COMMIT_AUTHOR": "ana",
        }
    )
    assert (config.profile, config.environment_suffix, config.region) == ("transactions-pg", "pr42", "eu-west-1")
    assert config.destroyable is True
    assert config.default_tags()["Repository"] == "org/tap" and config.default_tags()["Author"] == "ana"
    assert load_config({}).profile == "full" and load_config({}).region == "us-east-1"
    assert load_config({"TAP_PROFILE": "transactions-pg"}).region == "ap-southeast-1"


def test_tap_py_exits_non_zero_with_the_message_and_leaves_cdktf_out_untouched(tmp_path: Path) -> None:
    env = {**os.environ, "ENVIRONMENT_SUFFIX": "Not_Valid", "TAP_PROFILE": "web-mysql"}
    completed = subprocess.run(
        [sys.executable, str(ROOT / "tap.py")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 2
    assert "ENVIRONMENT_SUFFIX = 'Not_Valid'" in completed.stderr and "[identity.suffix]" in completed.stderr
    assert "nothing was written" in completed.stderr
    assert not (tmp_path / "cdktf.out").exists()


@pytest.mark.parametrize("source", ["*", "'unsafe-inline'"])
def test_a_csp_with_every_directive_but_a_wildcard_or_inline_source_is_refused(source: str) -> None:
    policy = f"default-src 'self'; script-src 'self' {source}; object-src 'none'; frame-ancestors 'none'"
    config = dataclasses.replace(FULL, edge=cdn(content_security_policy=policy))
    assert [v.rule_id for v in validate(config)] == ["edge.cdn_csp"]
