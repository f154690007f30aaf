"""Configuration rules, checked in one place before any construct is built.

Each check returns the violations it finds; `validate` runs them all so a user sees every problem
in one run. Name-length rules for generated names live in `naming.py` and run after the layers
have chosen their names, still before anything is written.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable

from lib.config import (
    INTERFACE_SERVICES,
    KEY_PURPOSES,
    PCI_LOG_RETENTION_DAYS,
    DeploymentConfig,
)
from lib.errors import Violation
from lib.naming import s3_bucket_rule

SUFFIX_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{0,19}")
PREFIX_PATTERN = re.compile(r"[a-z][a-z0-9-]{0,19}")
# Commercial, GovCloud and ISO partitions: e.g. us-east-1, ap-southeast-1, us-gov-west-1, eu-isoe-west-1.
REGION_PATTERN = re.compile(
    r"(?:af|ap|ca|cn|eu|il|me|mx|sa|us)(?:-gov|-iso[a-z]?)?-(?:central|north|south|east|west|northeast|northwest|southeast|southwest)-\d{1,2}"
)
# Values CloudWatch Logs accepts for retention_in_days.
CLOUDWATCH_RETENTION_DAYS = frozenset(
    {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}
)
MAX_AZS = 6

Check = Callable[[DeploymentConfig], Iterable[Violation]]


def check_identity(config: DeploymentConfig) -> Iterable[Violation]:
    if not SUFFIX_PATTERN.fullmatch(config.environment_suffix):
        yield Violation("ENVIRONMENT_SUFFIX", config.environment_suffix, f"must match ^{SUFFIX_PATTERN.pattern}$")
    if not PREFIX_PATTERN.fullmatch(config.name_prefix):
        yield Violation("name_prefix", config.name_prefix, f"must match ^{PREFIX_PATTERN.pattern}$")
    if not REGION_PATTERN.fullmatch(config.region):
        yield Violation("AWS_REGION", config.region, "must be an AWS region name such as us-east-1")


def check_backend(config: DeploymentConfig) -> Iterable[Violation]:
    backend = config.backend
    if backend.state_bucket is not None:
        problem = s3_bucket_rule(backend.state_bucket)
        if problem:
            yield Violation("TERRAFORM_STATE_BUCKET", backend.state_bucket, problem)
    if not REGION_PATTERN.fullmatch(backend.state_bucket_region):
        yield Violation(
            "TERRAFORM_STATE_BUCKET_REGION", backend.state_bucket_region, "must be an AWS region name such as us-east-1"
        )


def check_network(config: DeploymentConfig) -> Iterable[Violation]:
    net = config.network
    try:
        vpc = ipaddress.ip_network(net.cidr_block)
    except ValueError:
        yield Violation("network.cidr_block", net.cidr_block, "must be an IPv4 CIDR block such as 10.0.0.0/16")
        return
    if not (vpc.version == 4 and 16 <= vpc.prefixlen <= 22 and vpc.is_private):
        yield Violation("network.cidr_block", net.cidr_block, "must be a private IPv4 block from /16 to /22")
    letters = net.zone_letters
    if not 2 <= len(letters) <= MAX_AZS:
        yield Violation(
            "network.zone_letters",
            list(letters),
            f"must name 2 to {MAX_AZS} zones (high availability needs two or more)",
        )
    if len(set(letters)) != len(letters) or not all(re.fullmatch(r"[a-z]", letter) for letter in letters):
        yield Violation(
            "network.zone_letters", list(letters), "must be distinct single lowercase letters, e.g. ('a', 'b', 'c')"
        )
    tiers = {"public_offset": net.public_offset, "private_offset": net.private_offset}
    if net.isolated_database_tier:
        tiers["database_offset"] = net.database_offset
    slots = 2 ** (24 - vpc.prefixlen) if vpc.prefixlen <= 24 else 0
    taken: dict[int, str] = {}
    for name, offset in tiers.items():
        if offset < 0 or offset + net.az_count > slots:
            yield Violation(f"network.{name}", offset, f"its {net.az_count} /24 subnets must fit in {net.cidr_block}")
        for index in range(offset, offset + net.az_count):
            if index in taken:
                yield Violation(f"network.{name}", offset, f"its subnets overlap those of network.{taken[index]}")
                break
            taken[index] = name


def check_flow_logs(config: DeploymentConfig) -> Iterable[Violation]:
    net = config.network
    if not net.flow_log_destinations:
        yield Violation(
            "network.flow_log_destinations",
            net.flow_log_destinations,
            "PCI-DSS 10.2 needs VPC flow logs: name s3, cloudwatch or both",
        )
    unknown = set(net.flow_log_destinations) - {"s3", "cloudwatch"}
    if unknown:
        yield Violation("network.flow_log_destinations", sorted(unknown), "must be 's3' or 'cloudwatch'")
    if "cloudwatch" in net.flow_log_destinations:
        days = net.flow_log_cloudwatch_retention_days
        if days not in CLOUDWATCH_RETENTION_DAYS:
            yield Violation(
                "network.flow_log_cloudwatch_retention_days",
                days,
                f"must be one of CloudWatch's values {sorted(CLOUDWATCH_RETENTION_DAYS)}",
            )
        elif days < PCI_LOG_RETENTION_DAYS and "s3" not in net.flow_log_destinations:
            yield Violation(
                "network.flow_log_cloudwatch_retention_days",
                days,
                f"below PCI-DSS 10.5.1's {PCI_LOG_RETENTION_DAYS} days the 's3' destination must also be on, as the year-long archive",
            )


def check_storage(config: DeploymentConfig) -> Iterable[Violation]:
    storage = config.storage
    if "s3" in config.network.flow_log_destinations and "flow_logs" not in storage.buckets:
        yield Violation(
            "storage.buckets", sorted(storage.buckets), "the 's3' flow-log destination needs a 'flow_logs' bucket"
        )
    if storage.access_log_retention_days < PCI_LOG_RETENTION_DAYS:
        yield Violation(
            "storage.access_log_retention_days",
            storage.access_log_retention_days,
            f"S3 access logs are audit logs: keep them at least {PCI_LOG_RETENTION_DAYS} days",
        )
    for purpose, lifecycle in storage.buckets.items():
        where = f"storage.buckets[{purpose!r}]"
        if not re.fullmatch(r"[a-z][a-z0-9_]{0,23}", purpose):
            yield Violation(
                "storage.buckets",
                purpose,
                "bucket purposes are 1-24 lowercase letters, digits and underscores, starting with a letter",
            )
        for attr in ("expire_after_days", "transition_after_days", "noncurrent_expire_after_days"):
            days = getattr(lifecycle, attr)
            if days is not None and days < 1:
                yield Violation(f"{where}.{attr}", days, "must be at least 1 day")
        expire, transition = lifecycle.expire_after_days, lifecycle.transition_after_days
        if expire is not None and transition is not None and transition >= expire:
            yield Violation(
                f"{where}.transition_after_days", transition, f"must come before expire_after_days ({expire})"
            )


def check_keys(config: DeploymentConfig) -> Iterable[Violation]:
    purposes = config.key_purposes
    unknown = sorted(set(purposes) - set(KEY_PURPOSES))
    if unknown:
        yield Violation("key_purposes", unknown, f"must be among {list(KEY_PURPOSES)}")
    if len(set(purposes)) != len(purposes):
        yield Violation("key_purposes", list(purposes), "must not repeat a purpose")
    needed = {"s3": "buckets are encrypted with the s3 key"}
    if "cloudwatch" in config.network.flow_log_destinations or config.database or config.cache:
        needed["logs"] = "CloudWatch log groups are encrypted with the logs key"
    if config.database is not None:
        needed["database"] = "Aurora storage, Performance Insights and the master secret use the database key"
    if config.database is not None or config.cache is not None:
        needed["secrets"] = "application and AUTH secrets use the secrets key"
    if config.cache is not None:
        needed["cache"] = "Redis at rest uses the cache key"
    if config.file_system is not None:
        needed["efs"] = "EFS uses the efs key"
    if config.transactions_table is not None:
        needed["dynamodb"] = "the transactions table uses the dynamodb key"
    if config.parameters is not None:
        needed["parameters"] = "SecureString parameters use the parameters key"
    if config.payments is not None:
        needed["events"] = "payment queues, the bus and alert topics use the events key"
        needed["logs"] = "function and API logs use the logs key"
    for purpose, why in needed.items():
        if purpose not in purposes:
            yield Violation("key_purposes", list(purposes), f"must include {purpose!r}: {why}")


def check_endpoints(config: DeploymentConfig) -> Iterable[Violation]:
    services = config.endpoints.interface_services
    unknown = sorted(set(services) - set(INTERFACE_SERVICES))
    if unknown:
        yield Violation("endpoints.interface_services", unknown, f"must be among {list(INTERFACE_SERVICES)}")
    if config.database is not None and "secretsmanager" not in services:
        yield Violation(
            "endpoints.interface_services",
            list(services),
            "the rotation function reaches Secrets Manager through its 'secretsmanager' endpoint",
        )
    if config.network.nat_mode == "none":
        for needed in ("sts", "logs"):
            if needed not in services:
                yield Violation(
                    "endpoints.interface_services",
                    list(services),
                    f"without NAT, private subnets need the {needed!r} endpoint",
                )
    gateways = set(config.endpoints.gateway_services)
    if not gateways <= {"s3", "dynamodb"}:
        yield Violation("endpoints.gateway_services", sorted(gateways), "must be among ['s3', 'dynamodb']")
    if config.network.nat_mode not in ("none", "single", "per_az"):
        yield Violation("network.nat_mode", config.network.nat_mode, "must be 'none', 'single' or 'per_az'")


MONITORING_INTERVALS = frozenset({0, 1, 5, 10, 15, 30, 60})
DB_USERNAME = re.compile(r"[a-z][a-z0-9_]{0,30}")
RESERVED_USERNAMES = frozenset({"admin", "root", "postgres", "rdsadmin", "rds_superuser", "mysql", "public"})
MAX_ACU = 256


def check_database(config: DeploymentConfig) -> Iterable[Violation]:
    db = config.database
    if db is None:
        return
    major = db.engine_version.split(".")[0]
    if db.engine == "aurora-mysql" and not db.engine_version.startswith("8.0.mysql_aurora."):
        yield Violation("database.engine_version", db.engine_version, "Aurora MySQL must be 8.0 (8.0.mysql_aurora.3.x)")
    if db.engine == "aurora-postgresql" and major not in {"15", "16"}:
        yield Violation("database.engine_version", db.engine_version, "Aurora PostgreSQL must be 15 or 16")
    if not 1 <= db.instance_count <= 16:
        yield Violation("database.instance_count", db.instance_count, "must be 1 (writer) to 16")
    if db.serverless_acu is not None:
        low, high = db.serverless_acu
        if not (0 <= low <= high <= MAX_ACU):
            yield Violation(
                "database.serverless_acu", db.serverless_acu, f"must be (min, max) with 0 <= min <= max <= {MAX_ACU}"
            )
        if db.instance_class != "db.serverless":
            yield Violation("database.instance_class", db.instance_class, "must be db.serverless with serverless_acu")
    elif not db.instance_class.startswith("db.") or db.instance_class == "db.serverless":
        yield Violation(
            "database.instance_class",
            db.instance_class,
            "must be a provisioned class such as db.r6g.large without serverless_acu",
        )


def check_database_operations(config: DeploymentConfig) -> Iterable[Violation]:
    db = config.database
    if db is None:
        return
    if not 1 <= db.backup_retention_days <= 35:
        yield Violation("database.backup_retention_days", db.backup_retention_days, "must be 1 to 35 days")
    for attr in ("master_rotation_days", "app_rotation_days"):
        if not 1 <= getattr(db, attr) <= 365:
            yield Violation(f"database.{attr}", getattr(db, attr), "must be 1 to 365 days")
    if db.monitoring_interval_seconds not in MONITORING_INTERVALS:
        yield Violation(
            "database.monitoring_interval_seconds",
            db.monitoring_interval_seconds,
            f"must be one of {sorted(MONITORING_INTERVALS)}",
        )
    pi = db.performance_insights_retention_days
    if not (pi == 7 or (pi % 31 == 0 and 31 <= pi <= 713) or pi == 731):
        yield Violation(
            "database.performance_insights_retention_days", pi, "must be 7, a multiple of 31 up to 713, or 731"
        )
    for attr in ("master_username", "app_username"):
        name = getattr(db, attr)
        if not DB_USERNAME.fullmatch(name) or name in RESERVED_USERNAMES or name.endswith("_clone"):
            yield Violation(
                f"database.{attr}",
                name,
                "must be a lowercase identifier up to 31 characters, not reserved, not ending in _clone",
            )
    if db.master_username == db.app_username:
        yield Violation("database.app_username", db.app_username, "must differ from master_username")
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,62}", db.database_name):
        yield Violation(
            "database.database_name", db.database_name, "must be a lowercase identifier starting with a letter"
        )


def check_data_stores(config: DeploymentConfig) -> Iterable[Violation]:
    if config.cache is not None and not 2 <= config.cache.node_count <= 6:
        yield Violation(
            "cache.node_count", config.cache.node_count, "must be 2 to 6 (automatic failover needs a replica)"
        )
    if config.file_system is not None and not config.file_system.access_point_path.startswith("/"):
        yield Violation(
            "file_system.access_point_path", config.file_system.access_point_path, "must be an absolute path"
        )
    if config.lambdas.rotation_reserved_concurrency < 1:
        yield Violation(
            "lambdas.rotation_reserved_concurrency", config.lambdas.rotation_reserved_concurrency, "must be at least 1"
        )
    if config.lambdas.log_retention_days not in CLOUDWATCH_RETENTION_DAYS:
        yield Violation(
            "lambdas.log_retention_days", config.lambdas.log_retention_days, "must be one of CloudWatch's values"
        )


EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")
ORIGIN = re.compile(r"https://[A-Za-z0-9.-]+(?::\d{1,5})?|http://localhost(?::\d{1,5})?")
PAYMENT_ENDPOINTS = ("sqs", "events", "lambda")


def check_payments(config: DeploymentConfig) -> Iterable[Violation]:
    pay = config.payments
    if pay is None:
        return
    if config.transactions_table is None:
        yield Violation("transactions_table", None, "payments record transactions in the DynamoDB table: turn it on")
    missing = [s for s in PAYMENT_ENDPOINTS if s not in config.endpoints.interface_services]
    if missing:
        yield Violation(
            "endpoints.interface_services",
            list(config.endpoints.interface_services),
            f"payment functions reach {missing} through VPC endpoints",
        )
    bad_currencies = [c for c in pay.currencies if not re.fullmatch(r"[A-Z]{3}", c)]
    if not pay.currencies or bad_currencies:
        yield Violation("payments.currencies", list(pay.currencies), "must be ISO 4217 codes such as USD, at least one")
    if not 0 < pay.fraud_review_amount < pay.fraud_decline_amount <= pay.amount_ceiling:
        yield Violation(
            "payments.fraud_review_amount",
            (pay.fraud_review_amount, pay.fraud_decline_amount, pay.amount_ceiling),
            "must satisfy 0 < review < decline <= amount_ceiling (minor units)",
        )
    yield from check_payment_limits(config)


def check_payment_limits(config: DeploymentConfig) -> Iterable[Violation]:
    pay = config.payments
    if pay is None:
        return
    for attr in (
        "velocity_window_seconds",
        "velocity_limit",
        "reserved_concurrency",
        "throttle_rate_per_second",
        "throttle_burst",
    ):
        if getattr(pay, attr) < 1:
            yield Violation(f"payments.{attr}", getattr(pay, attr), "must be at least 1")
    if not 1 <= pay.max_receive_count <= 1000:
        yield Violation("payments.max_receive_count", pay.max_receive_count, "must be 1 to 1000")
    if not 1 <= pay.batch_size <= 10_000:
        yield Violation("payments.batch_size", pay.batch_size, "must be 1 to 10000")
    for email in pay.alert_emails:
        if not EMAIL.fullmatch(email):
            yield Violation("payments.alert_emails", email, "must be an email address")
    for origin in pay.cors_origins:
        if origin == "*":
            if not config.destroyable:
                yield Violation(
                    "payments.cors_origins", origin, "'*' is never allowed in a protected environment; list the origins"
                )
        elif not ORIGIN.fullmatch(origin):
            yield Violation("payments.cors_origins", origin, "must be an https origin such as https://pay.example.com")


CHECKS: tuple[Check, ...] = (
    check_identity,
    check_backend,
    check_network,
    check_flow_logs,
    check_storage,
    check_keys,
    check_endpoints,
    check_database,
    check_database_operations,
    check_data_stores,
    check_payments,
)


def validate(config: DeploymentConfig) -> list[Violation]:
    """Every configuration violation, in a stable order."""
    return [violation for check in CHECKS for violation in check(config)]
