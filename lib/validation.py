"""Configuration rules, checked in one place before any construct is built.

Each check returns the violations it finds; `validate` runs them all so a user sees every problem
in one run. Name-length rules for generated names live in `naming.py` and run after the layers
have chosen their names, still before anything is written.
"""

from __future__ import annotations

import ipaddress
import re
import zoneinfo
from collections.abc import Callable, Iterable

from lib.config import (
    INTERFACE_SERVICES,
    KEY_PURPOSES,
    PCI_LOG_RETENTION_DAYS,
    DeploymentConfig,
    FleetConfig,
    PaymentRules,
    WafConfig,
)
from lib.core.naming import MAX_SUFFIX_LENGTH, s3_bucket_rule
from lib.core.powertools import LAYER_PLATFORMS
from lib.errors import Violation
from lib.regions import REGIONS

SUFFIX_PATTERN = re.compile(rf"[a-z0-9][a-z0-9-]{{0,{MAX_SUFFIX_LENGTH - 1}}}")
PREFIX_PATTERN = re.compile(r"[a-z][a-z0-9-]{0,9}")
# Values CloudWatch Logs accepts for retention_in_days.
CLOUDWATCH_RETENTION_DAYS = frozenset(
    {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}
)
MAX_AZS = 6

Check = Callable[[DeploymentConfig], Iterable[Violation]]


def violation(rule_id: str, field: str, value: object, rule: str) -> Violation:
    if rule_id not in RULES:
        raise KeyError(f"unregistered validation rule {rule_id!r}")
    return Violation(field, value, rule, rule_id)


def check_identity(config: DeploymentConfig) -> Iterable[Violation]:
    if not SUFFIX_PATTERN.fullmatch(config.environment_suffix):
        yield violation(
            "identity.suffix",
            "ENVIRONMENT_SUFFIX",
            config.environment_suffix,
            f"must match ^{SUFFIX_PATTERN.pattern}$ (at most {MAX_SUFFIX_LENGTH} characters)",
        )
    if not PREFIX_PATTERN.fullmatch(config.name_prefix):
        yield violation("identity.prefix", "name_prefix", config.name_prefix, f"must match ^{PREFIX_PATTERN.pattern}$")
    if config.region not in REGIONS:
        yield violation(
            "identity.region",
            "AWS_REGION",
            config.region,
            "must be an AWS region TAP knows, such as us-east-1 (lib/regions.py lists them)",
        )


def check_backend(config: DeploymentConfig) -> Iterable[Violation]:
    backend = config.backend
    if backend.state_bucket is not None:
        problem = s3_bucket_rule(backend.state_bucket)
        if problem:
            yield violation("backend.bucket", "TERRAFORM_STATE_BUCKET", backend.state_bucket, problem)
    if backend.state_bucket_region not in REGIONS:
        yield violation(
            "backend.region",
            "TERRAFORM_STATE_BUCKET_REGION",
            backend.state_bucket_region,
            "must be an AWS region TAP knows, such as us-east-1",
        )


def check_network(config: DeploymentConfig) -> Iterable[Violation]:
    net = config.network
    try:
        vpc = ipaddress.ip_network(net.cidr_block)
    except ValueError:
        yield violation(
            "network.cidr_format",
            "network.cidr_block",
            net.cidr_block,
            "must be an IPv4 CIDR block such as 10.0.0.0/16",
        )
        return
    if not (vpc.version == 4 and 16 <= vpc.prefixlen <= 22 and vpc.is_private):
        yield violation(
            "network.cidr_range", "network.cidr_block", net.cidr_block, "must be a private IPv4 block from /16 to /22"
        )
    letters = config.zone_letters
    if not 2 <= len(letters) <= MAX_AZS:
        yield violation(
            "network.zone_count",
            "network.zone_letters",
            list(letters),
            f"must name 2 to {MAX_AZS} zones (high availability needs two or more)",
        )
    if len(set(letters)) != len(letters) or not all(re.fullmatch(r"[a-z]", letter) for letter in letters):
        yield violation(
            "network.zone_format",
            "network.zone_letters",
            list(letters),
            "must be distinct single lowercase letters, e.g. ('a', 'b', 'c')",
        )
    known = REGIONS.get(config.region)
    if known is not None and not set(letters) <= set(known.zones):
        yield violation(
            "network.zone_exists",
            "network.zone_letters",
            list(letters),
            f"{config.region} has zones {list(known.zones)} only; it has no {sorted(set(letters) - set(known.zones))}",
        )
    tiers = {"public_offset": net.public_offset, "private_offset": net.private_offset}
    if net.isolated_database_tier:
        tiers["database_offset"] = net.database_offset
    slots = 2 ** (24 - vpc.prefixlen) if vpc.prefixlen <= 24 else 0
    taken: dict[int, str] = {}
    zone_count = len(letters)
    for name, offset in tiers.items():
        if offset < 0 or offset + zone_count > slots:
            yield violation(
                "network.subnets_fit",
                f"network.{name}",
                offset,
                f"its {zone_count} /24 subnets must fit in {net.cidr_block}",
            )
        for index in range(offset, offset + zone_count):
            if index in taken:
                yield violation(
                    "network.subnets_overlap",
                    f"network.{name}",
                    offset,
                    f"its subnets overlap those of network.{taken[index]}",
                )
                break
            taken[index] = name


def check_flow_logs(config: DeploymentConfig) -> Iterable[Violation]:
    net = config.network
    if not net.flow_log_destinations:
        yield violation(
            "flow_logs.present",
            "network.flow_log_destinations",
            net.flow_log_destinations,
            "PCI-DSS 10.2 needs VPC flow logs: name s3, cloudwatch or both",
        )
    unknown = set(net.flow_log_destinations) - {"s3", "cloudwatch"}
    if unknown:
        yield violation(
            "flow_logs.destinations", "network.flow_log_destinations", sorted(unknown), "must be 's3' or 'cloudwatch'"
        )
    if "cloudwatch" in net.flow_log_destinations:
        days = net.flow_log_cloudwatch_retention_days
        if days not in CLOUDWATCH_RETENTION_DAYS:
            yield violation(
                "flow_logs.retention_value",
                "network.flow_log_cloudwatch_retention_days",
                days,
                f"must be one of CloudWatch's values {sorted(CLOUDWATCH_RETENTION_DAYS)}",
            )
        elif days < PCI_LOG_RETENTION_DAYS and "s3" not in net.flow_log_destinations:
            yield violation(
                "flow_logs.archive",
                "network.flow_log_cloudwatch_retention_days",
                days,
                f"below PCI-DSS 10.5.1's {PCI_LOG_RETENTION_DAYS} days the 's3' destination must also be on, as the year-long archive",
            )


def check_storage(config: DeploymentConfig) -> Iterable[Violation]:
    storage = config.storage
    if "s3" in config.network.flow_log_destinations and "flow_logs" not in storage.buckets:
        yield violation(
            "storage.flow_log_bucket",
            "storage.buckets",
            sorted(storage.buckets),
            "the 's3' flow-log destination needs a 'flow_logs' bucket",
        )
    if storage.access_log_retention_days < PCI_LOG_RETENTION_DAYS:
        yield violation(
            "storage.access_log_retention",
            "storage.access_log_retention_days",
            storage.access_log_retention_days,
            f"S3 access logs are audit logs: keep them at least {PCI_LOG_RETENTION_DAYS} days",
        )
    for purpose, lifecycle in storage.buckets.items():
        where = f"storage.buckets[{purpose!r}]"
        if not re.fullmatch(r"[a-z][a-z0-9_]{0,23}", purpose):
            yield violation(
                "storage.purpose",
                "storage.buckets",
                purpose,
                "bucket purposes are 1-24 lowercase letters, digits and underscores, starting with a letter",
            )
        for attr in ("expire_after_days", "transition_after_days", "noncurrent_expire_after_days"):
            days = getattr(lifecycle, attr)
            if days is not None and days < 1:
                yield violation("storage.days", f"{where}.{attr}", days, "must be at least 1 day")
        expire, transition = lifecycle.expire_after_days, lifecycle.transition_after_days
        if expire is not None and transition is not None and transition >= expire:
            yield violation(
                "storage.lifecycle_order",
                f"{where}.transition_after_days",
                transition,
                f"must come before expire_after_days ({expire})",
            )


def check_keys(config: DeploymentConfig) -> Iterable[Violation]:
    purposes = config.key_purposes
    unknown = sorted(set(purposes) - set(KEY_PURPOSES))
    if unknown:
        yield violation("keys.known", "key_purposes", unknown, f"must be among {list(KEY_PURPOSES)}")
    if len(set(purposes)) != len(purposes):
        yield violation("keys.unique", "key_purposes", list(purposes), "must not repeat a purpose")
    for purpose, why in needed_keys(config).items():
        if purpose not in purposes:
            yield violation("keys.needed", "key_purposes", list(purposes), f"must include {purpose!r}: {why}")


def needed_keys(config: DeploymentConfig) -> dict[str, str]:
    """Each key purpose the configuration's resources need, and why."""
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
    if config.compute is not None:
        needed["compute"] = "instance root volumes use the compute key"
    return needed


def check_endpoints(config: DeploymentConfig) -> Iterable[Violation]:
    services = config.endpoints.interface_services
    unknown = sorted(set(services) - set(INTERFACE_SERVICES))
    if unknown:
        yield violation(
            "endpoints.known", "endpoints.interface_services", unknown, f"must be among {list(INTERFACE_SERVICES)}"
        )
    if config.database is not None and "secretsmanager" not in services:
        yield violation(
            "endpoints.rotation",
            "endpoints.interface_services",
            list(services),
            "the rotation function reaches Secrets Manager through its 'secretsmanager' endpoint",
        )
    if config.network.nat_mode == "none":
        for needed in ("sts", "logs"):
            if needed not in services:
                yield violation(
                    "endpoints.nat_less",
                    "endpoints.interface_services",
                    list(services),
                    f"without NAT, private subnets need the {needed!r} endpoint",
                )
    gateways = set(config.endpoints.gateway_services)
    if not gateways <= {"s3", "dynamodb"}:
        yield violation(
            "endpoints.gateways", "endpoints.gateway_services", sorted(gateways), "must be among ['s3', 'dynamodb']"
        )
    if config.network.nat_mode not in ("none", "single", "per_az"):
        yield violation(
            "network.nat_mode", "network.nat_mode", config.network.nat_mode, "must be 'none', 'single' or 'per_az'"
        )


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
        yield violation(
            "database.mysql_version",
            "database.engine_version",
            db.engine_version,
            "Aurora MySQL must be 8.0 (8.0.mysql_aurora.3.x)",
        )
    if db.engine == "aurora-postgresql" and major not in {"15", "16"}:
        yield violation(
            "database.postgres_version",
            "database.engine_version",
            db.engine_version,
            "Aurora PostgreSQL must be 15 or 16",
        )
    if not 1 <= db.instance_count <= 16:
        yield violation(
            "database.instance_count", "database.instance_count", db.instance_count, "must be 1 (writer) to 16"
        )
    if db.serverless_acu is not None:
        low, high = db.serverless_acu
        if not (0 <= low <= high <= MAX_ACU):
            yield violation(
                "database.acu_range",
                "database.serverless_acu",
                db.serverless_acu,
                f"must be (min, max) with 0 <= min <= max <= {MAX_ACU}",
            )
        if db.instance_class != "db.serverless":
            yield violation(
                "database.serverless_class",
                "database.instance_class",
                db.instance_class,
                "must be db.serverless with serverless_acu",
            )
    elif not db.instance_class.startswith("db.") or db.instance_class == "db.serverless":
        yield violation(
            "database.provisioned_class",
            "database.instance_class",
            db.instance_class,
            "must be a provisioned class such as db.r6g.large without serverless_acu",
        )


def check_database_operations(config: DeploymentConfig) -> Iterable[Violation]:
    db = config.database
    if db is None:
        return
    if not 1 <= db.backup_retention_days <= 35:
        yield violation(
            "database.backup_retention",
            "database.backup_retention_days",
            db.backup_retention_days,
            "must be 1 to 35 days",
        )
    for attr in ("master_rotation_days", "app_rotation_days"):
        if not 1 <= getattr(db, attr) <= 365:
            yield violation("database.rotation_days", f"database.{attr}", getattr(db, attr), "must be 1 to 365 days")
    if db.monitoring_interval_seconds not in MONITORING_INTERVALS:
        yield violation(
            "database.monitoring_interval",
            "database.monitoring_interval_seconds",
            db.monitoring_interval_seconds,
            f"must be one of {sorted(MONITORING_INTERVALS)}",
        )
    pi = db.performance_insights_retention_days
    if not (pi == 7 or (pi % 31 == 0 and 31 <= pi <= 713) or pi == 731):
        yield violation(
            "database.performance_insights",
            "database.performance_insights_retention_days",
            pi,
            "must be 7, a multiple of 31 up to 713, or 731",
        )
    for attr in ("master_username", "app_username"):
        name = getattr(db, attr)
        if not DB_USERNAME.fullmatch(name) or name in RESERVED_USERNAMES or name.endswith("_clone"):
            yield violation(
                "database.username",
                f"database.{attr}",
                name,
                "must be a lowercase identifier up to 31 characters, not reserved, not ending in _clone",
            )
    if db.master_username == db.app_username:
        yield violation(
            "database.distinct_users", "database.app_username", db.app_username, "must differ from master_username"
        )
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,62}", db.database_name):
        yield violation(
            "database.name",
            "database.database_name",
            db.database_name,
            "must be a lowercase identifier starting with a letter",
        )
    if db.ledger and db.engine != "aurora-postgresql":
        yield violation(
            "database.ledger_engine", "database.ledger", db.ledger, "the ledger schema needs engine aurora-postgresql"
        )


def check_data_stores(config: DeploymentConfig) -> Iterable[Violation]:
    if config.cache is not None and not 2 <= config.cache.node_count <= 6:
        yield violation(
            "cache.node_count",
            "cache.node_count",
            config.cache.node_count,
            "must be 2 to 6 (automatic failover needs a replica)",
        )
    if config.file_system is not None and not config.file_system.access_point_path.startswith("/"):
        yield violation(
            "file_system.path",
            "file_system.access_point_path",
            config.file_system.access_point_path,
            "must be an absolute path",
        )
    if config.lambdas.rotation_reserved_concurrency < 1:
        yield violation(
            "lambdas.rotation_concurrency",
            "lambdas.rotation_reserved_concurrency",
            config.lambdas.rotation_reserved_concurrency,
            "must be at least 1",
        )
    if config.lambdas.log_retention_days not in CLOUDWATCH_RETENTION_DAYS:
        yield violation(
            "lambdas.log_retention",
            "lambdas.log_retention_days",
            config.lambdas.log_retention_days,
            "must be one of CloudWatch's values",
        )


EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")
ORIGIN = re.compile(r"https://[A-Za-z0-9.-]+(?::\d{1,5})?|http://localhost(?::\d{1,5})?")
PAYMENT_ENDPOINTS = ("sqs", "events", "lambda")


def check_payments(config: DeploymentConfig) -> Iterable[Violation]:
    pay = config.payments
    if pay is None:
        return
    if pay.transaction_store == "dynamodb" and config.transactions_table is None:
        yield violation(
            "payments.table",
            "transactions_table",
            None,
            "payments record transactions in the DynamoDB table: turn it on",
        )
    if pay.transaction_store == "ledger" and not (
        config.database is not None and config.database.ledger and config.database.rds_proxy
    ):
        yield violation(
            "payments.ledger",
            "payments.transaction_store",
            pay.transaction_store,
            "the ledger store needs database.ledger and database.rds_proxy (IAM authentication through the proxy)",
        )
    if pay.transaction_store not in ("dynamodb", "ledger"):
        yield violation(
            "payments.store", "payments.transaction_store", pay.transaction_store, "must be 'dynamodb' or 'ledger'"
        )
    missing = [s for s in PAYMENT_ENDPOINTS if s not in config.endpoints.interface_services]
    if missing:
        yield violation(
            "payments.endpoints",
            "endpoints.interface_services",
            list(config.endpoints.interface_services),
            f"payment functions reach {missing} through VPC endpoints",
        )
    if "dynamodb" not in config.endpoints.gateway_services:
        yield violation(
            "payments.gateway",
            "endpoints.gateway_services",
            list(config.endpoints.gateway_services),
            "payment functions reach DynamoDB through its gateway endpoint: include 'dynamodb'",
        )
    yield from check_payment_rules("payments", pay, config.destroyable)
    if not 1 <= pay.max_receive_count <= 1000:
        yield violation(
            "payments.max_receive_count", "payments.max_receive_count", pay.max_receive_count, "must be 1 to 1000"
        )
    if not 1 <= pay.batch_size <= 10_000:
        yield violation("payments.batch_size", "payments.batch_size", pay.batch_size, "must be 1 to 10000")
    for email in pay.alert_emails:
        if not EMAIL.fullmatch(email):
            yield violation("payments.email", "payments.alert_emails", email, "must be an email address")


def check_payment_rules(section: str, rules: PaymentRules, destroyable: bool) -> Iterable[Violation]:
    """The rules every payment entry point shares (`payments`, `transactions_api`)."""
    bad_currencies = [c for c in rules.currencies if not re.fullmatch(r"[A-Z]{3}", c)]
    if not rules.currencies or bad_currencies:
        yield violation(
            "payments.currencies",
            f"{section}.currencies",
            list(rules.currencies),
            "must be ISO 4217 codes such as USD, at least one",
        )
    if not 0 < rules.fraud_review_amount < rules.fraud_decline_amount <= rules.amount_ceiling:
        yield violation(
            "payments.fraud_thresholds",
            f"{section}.fraud_review_amount",
            (rules.fraud_review_amount, rules.fraud_decline_amount, rules.amount_ceiling),
            "must satisfy 0 < review < decline <= amount_ceiling (minor units)",
        )
    minimums = ("reserved_concurrency", "throttle_rate_per_second", "throttle_burst")
    for attr in (*minimums, "velocity_window_seconds", "velocity_limit"):
        if getattr(rules, attr) < 1:
            yield violation("payments.minimums", f"{section}.{attr}", getattr(rules, attr), "must be at least 1")
    if rules.missing_country not in ("review", "ignore"):
        yield violation(
            "payments.missing_country",
            f"{section}.missing_country",
            rules.missing_country,
            "must be 'review' or 'ignore'",
        )
    for origin in rules.cors_origins:
        if origin == "*":
            if not destroyable:
                yield violation(
                    "payments.cors_wildcard",
                    f"{section}.cors_origins",
                    origin,
                    "'*' is never allowed in a protected environment; list the origins",
                )
        elif not ORIGIN.fullmatch(origin):
            yield violation(
                "payments.cors_origin",
                f"{section}.cors_origins",
                origin,
                "must be an https origin such as https://pay.example.com",
            )


MAX_BALANCE_CACHE_SECONDS = 3600


def check_transactions_api(config: DeploymentConfig) -> Iterable[Violation]:
    api = config.transactions_api
    if api is None:
        return
    if config.database is None or not config.database.ledger:
        yield violation(
            "transactions_api.ledger", "database.ledger", None, "the transactions API serves the ledger: turn it on"
        )
    if config.cache is None:
        yield violation("transactions_api.cache", "cache", None, "the transactions API caches balances in Redis")
    if "secretsmanager" not in config.endpoints.interface_services:
        yield violation(
            "transactions_api.endpoints",
            "endpoints.interface_services",
            list(config.endpoints.interface_services),
            "the transactions API reads its secrets through the secretsmanager VPC endpoint",
        )
    if not 1 <= api.balance_cache_seconds <= MAX_BALANCE_CACHE_SECONDS:
        yield violation(
            "transactions_api.cache_seconds",
            "transactions_api.balance_cache_seconds",
            api.balance_cache_seconds,
            f"must be 1 to {MAX_BALANCE_CACHE_SECONDS}",
        )
    yield from check_payment_rules("transactions_api", api, config.destroyable)


HOSTED_ZONE_ID = re.compile(r"Z[A-Z0-9]{1,31}")
DOMAIN_NAME = re.compile(r"(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")
CERTIFICATE_ARN = re.compile(r"arn:aws(?:-cn|-us-gov)?:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]{36}")


def check_region_services(config: DeploymentConfig) -> Iterable[Violation]:
    """Unsigned functions use AWS's Powertools layer, which is not published in every region."""
    known = REGIONS.get(config.region)
    if config.lambdas.code_signing or known is None or known.powertools_account is not None:
        return
    if config.database is not None or config.payments is not None or config.transactions_api is not None:
        yield violation(
            "region.powertools",
            "AWS_REGION",
            config.region,
            "AWS publishes no Powertools layer here, and this profile's unsigned functions need it; pick another "
            "region or turn lambdas.code_signing on (TAP's own signed layer)",
        )


def check_edge(config: DeploymentConfig) -> Iterable[Violation]:
    edge = config.edge
    if edge.domain_name is not None and not DOMAIN_NAME.fullmatch(edge.domain_name):
        yield violation(
            "edge.domain", "edge.domain_name", edge.domain_name, "must be a lowercase DNS name such as pay.example.com"
        )
    zone = edge.hosted_zone_id
    if zone is not None and zone != "create" and not HOSTED_ZONE_ID.fullmatch(zone):
        yield violation(
            "edge.hosted_zone", "edge.hosted_zone_id", zone, "must be a Route 53 zone id (Z...) or 'create'"
        )
    if zone is not None and zone != "create" and edge.domain_name is None:
        yield violation(
            "edge.zone_needs_domain", "edge.hosted_zone_id", zone, "an existing zone needs edge.domain_name under it"
        )
    cert = edge.certificate_arn
    if cert is not None:
        if not CERTIFICATE_ARN.fullmatch(cert):
            yield violation("edge.certificate", "edge.certificate_arn", cert, "must be an ACM certificate ARN")
        elif f":acm:{config.region}:" not in cert:
            yield violation(
                "edge.certificate_region",
                "edge.certificate_arn",
                cert,
                f"must be in the deployment's region {config.region} (a regional load balancer uses it)",
            )


# Security policies that allow TLS 1.2 and 1.3 only (ELB's predefined policy names).
TLS12_POLICY = re.compile(r"ELBSecurityPolicy-(TLS13-1-[23]-\S+|TLS-1-2-\S+|FS-1-2-\S+)")
INSTANCE_TYPE = re.compile(r"[a-z][a-z0-9-]*\.[a-z0-9]+")
CRON = re.compile(r"\S+( \S+){4}")
MIN_ROOT_VOLUME_GB = 8
ALB_WAF_BODY_LIMIT = 8192
HTTP_METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
)  # the Amazon Linux 2023 AMI's snapshot


def check_load_balancer(config: DeploymentConfig) -> Iterable[Violation]:
    lb = config.edge.load_balancer
    if lb is None:
        return
    if config.compute is None:
        yield violation("edge.targets", "compute", None, "the load balancer needs instances behind it: turn compute on")
    if lb.internal and config.payments is None:
        yield violation(
            "edge.private_route",
            "edge.load_balancer.internal",
            lb.internal,
            "an internal load balancer is reached through the payments HTTP API's VPC link: turn payments on",
        )
    if not TLS12_POLICY.fullmatch(lb.ssl_policy):
        yield violation(
            "edge.ssl_policy",
            "edge.load_balancer.ssl_policy",
            lb.ssl_policy,
            "must be an ELB security policy of TLS 1.2 and later, such as ELBSecurityPolicy-TLS13-1-2-2021-06",
        )
    if not lb.health_check_path.startswith("/"):
        yield violation(
            "edge.health_check",
            "edge.load_balancer.health_check_path",
            lb.health_check_path,
            "must be a path starting with /",
        )
    if not 2 <= lb.health_check_timeout_seconds < lb.health_check_interval_seconds <= 300:
        yield violation(
            "edge.health_check",
            "edge.load_balancer.health_check_timeout_seconds",
            lb.health_check_timeout_seconds,
            f"must be at least 2 and below the interval ({lb.health_check_interval_seconds} s, at most 300)",
        )
    for name in ("healthy_threshold", "unhealthy_threshold"):
        if not 2 <= getattr(lb, name) <= 10:
            yield violation(
                "edge.health_check", f"edge.load_balancer.{name}", getattr(lb, name), "must be 2-10 (ELB's range)"
            )
    yield from check_waf(lb.waf)
    weights = lb.blue_green
    if weights is not None and not (
        0 <= weights.blue_weight <= 100
        and 0 <= weights.green_weight <= 100
        and weights.blue_weight + weights.green_weight == 100
    ):
        yield violation(
            "edge.weights",
            "edge.load_balancer.blue_green",
            (weights.blue_weight, weights.green_weight),
            "blue_weight and green_weight are percentages of traffic: each 0-100, adding up to 100",
        )


def check_waf(waf: WafConfig) -> Iterable[Violation]:
    if not 10 <= waf.rate_limit <= 2_000_000_000:
        yield violation(
            "edge.waf", "edge.load_balancer.waf.rate_limit", waf.rate_limit, "must be 10-2,000,000,000 (WAF's range)"
        )
    countries = [code for code in waf.blocked_countries if not re.fullmatch(r"[A-Z]{2}", code)]
    if countries:
        yield violation(
            "edge.waf",
            "edge.load_balancer.waf.blocked_countries",
            countries,
            "must be ISO 3166 alpha-2 country codes such as KP",
        )
    if not re.fullmatch(r"/[A-Za-z0-9/_-]*", waf.payments_path):
        yield violation(
            "edge.waf", "edge.load_balancer.waf.payments_path", waf.payments_path, "must be a path such as /payments"
        )
    methods = [m for m in waf.payments_methods if m not in HTTP_METHODS]
    if methods or not waf.payments_methods:
        yield violation(
            "edge.waf",
            "edge.load_balancer.waf.payments_methods",
            list(waf.payments_methods),
            f"must be one or more of {sorted(HTTP_METHODS)}",
        )
    if not 1 <= waf.payments_max_body_bytes <= ALB_WAF_BODY_LIMIT:
        yield violation(
            "edge.waf",
            "edge.load_balancer.waf.payments_max_body_bytes",
            waf.payments_max_body_bytes,
            f"must be 1-{ALB_WAF_BODY_LIMIT}: WAF inspects only the first 8 KiB of a body behind an ALB",
        )


PRICE_CLASSES = frozenset({"PriceClass_100", "PriceClass_200", "PriceClass_All"})
CDN_PATH = re.compile(r"/[A-Za-z0-9_./*-]*")
HSTS_MIN_SECONDS = 31_536_000  # one year: hstspreload.org's minimum
CDN_MAX_TTL_SECONDS = 31_536_000


def check_cdn(config: DeploymentConfig) -> Iterable[Violation]:
    cdn, lb = config.edge.cdn, config.edge.load_balancer
    if cdn is None:
        return
    if lb is None or lb.internal:
        yield violation(
            "edge.cdn_origin", "edge.cdn", "on", "CloudFront's origin is an internet-facing load balancer: add one"
        )
    if "assets" not in config.storage.buckets:
        yield violation(
            "edge.cdn_assets",
            "storage.buckets",
            sorted(config.storage.buckets),
            "CloudFront serves static content from the 'assets' bucket: add it",
        )
    bad_paths = [path for path in cdn.static_paths if not CDN_PATH.fullmatch(path)]
    if bad_paths or not cdn.static_paths:
        yield violation(
            "edge.cdn_paths",
            "edge.cdn.static_paths",
            list(cdn.static_paths),
            "must be one or more CloudFront path patterns such as /static/*",
        )
    if not 0 <= cdn.static_default_ttl_seconds <= cdn.static_max_ttl_seconds <= CDN_MAX_TTL_SECONDS:
        yield violation(
            "edge.cdn_ttl",
            "edge.cdn.static_default_ttl_seconds",
            (cdn.static_default_ttl_seconds, cdn.static_max_ttl_seconds),
            f"need 0 <= default <= max <= {CDN_MAX_TTL_SECONDS} seconds",
        )
    if cdn.price_class not in PRICE_CLASSES:
        yield violation(
            "edge.cdn_price_class", "edge.cdn.price_class", cdn.price_class, f"one of {sorted(PRICE_CLASSES)}"
        )
    if cdn.hsts_max_age_seconds < HSTS_MIN_SECONDS:
        yield violation(
            "edge.cdn_hsts",
            "edge.cdn.hsts_max_age_seconds",
            cdn.hsts_max_age_seconds,
            f"must be at least {HSTS_MIN_SECONDS} (one year) for browsers to keep the site on HTTPS",
        )
    directives = {part.split()[0] for part in cdn.content_security_policy.split(";") if part.strip()}
    missing = sorted({"default-src", "frame-ancestors", "object-src"} - directives)
    sources = set(re.split(r"[\s;]+", cdn.content_security_policy))
    if missing or "*" in sources or "'unsafe-inline'" in sources:
        yield violation(
            "edge.cdn_csp",
            "edge.cdn.content_security_policy",
            cdn.content_security_policy,
            "must set default-src, frame-ancestors and object-src, without * or 'unsafe-inline'"
            + (f" (missing {', '.join(missing)})" if missing else ""),
        )
    countries = [code for code in cdn.blocked_countries if not re.fullmatch(r"[A-Z]{2}", code)]
    if countries:
        yield violation(
            "edge.cdn_countries", "edge.cdn.blocked_countries", countries, "must be ISO 3166 alpha-2 codes such as KP"
        )
    cert = cdn.certificate_arn
    if cert is not None and (not CERTIFICATE_ARN.fullmatch(cert) or ":acm:us-east-1:" not in cert):
        yield violation(
            "edge.cdn_certificate",
            "edge.cdn.certificate_arn",
            cert,
            "must be an ACM certificate ARN in us-east-1 (CloudFront uses certificates from there only)",
        )


def check_failover(config: DeploymentConfig) -> Iterable[Violation]:
    edge = config.edge
    failover = edge.failover
    if failover is None:
        return
    if edge.hosted_zone_id is None:
        yield violation(
            "edge.failover_zone",
            "edge.hosted_zone_id",
            None,
            "failover records need a hosted zone: a zone id or 'create'",
        )
    if edge.load_balancer is None or edge.load_balancer.internal or edge.cdn is not None:
        yield violation(
            "edge.failover_primary",
            "edge.failover",
            "on",
            "the primary is an internet-facing load balancer without CloudFront (behind CloudFront, "
            "DNS points at CloudFront, which is served from every edge location)",
        )
    if failover.request_interval_seconds not in (10, 30) or not 1 <= failover.failure_threshold <= 10:
        yield violation(
            "edge.failover_checks",
            "edge.failover.request_interval_seconds",
            (failover.request_interval_seconds, failover.failure_threshold),
            "Route 53 checks every 10 or 30 seconds and fails after 1-10 misses",
        )
    named = (failover.secondary_dns_name, failover.secondary_zone_id)
    if named != (None, None) and not (
        DOMAIN_NAME.fullmatch(failover.secondary_dns_name or "")
        and HOSTED_ZONE_ID.fullmatch(failover.secondary_zone_id or "")
        and failover.secondary_health_check_path.startswith("/")
    ):
        yield violation(
            "edge.failover_secondary",
            "edge.failover.secondary_dns_name",
            (*named, failover.secondary_health_check_path),
            "needs both a DNS name and its hosted zone id (Z...), and a health check path starting with /",
        )


def check_compute(config: DeploymentConfig) -> Iterable[Violation]:
    compute = config.compute
    if compute is None:
        return
    if config.edge.load_balancer is None:
        yield violation(
            "compute.load_balancer", "edge.load_balancer", None, "instances serve behind a load balancer: turn it on"
        )
    if config.database is None:
        yield violation("compute.database", "database", None, "the health service checks the database: turn it on")
    interfaces = config.endpoints.interface_services
    if not {"secretsmanager", "logs"} <= set(interfaces) or "s3" not in config.endpoints.gateway_services:
        yield violation(
            "compute.endpoints",
            "endpoints",
            [*config.endpoints.gateway_services, *interfaces],
            "instances read the database secret through the secretsmanager endpoint, ship their logs through "
            "the logs endpoint, and fetch their release and packages through the s3 gateway endpoint: add all three",
        )
    fleets = {"compute.web": compute.web, **({"compute.batch": compute.batch} if compute.batch else {})}
    for path, fleet in fleets.items():
        yield from check_fleet(path, fleet)


def check_fleet(path: str, fleet: FleetConfig) -> Iterable[Violation]:
    if not INSTANCE_TYPE.fullmatch(fleet.instance_type):
        yield violation(
            "compute.instance_type",
            f"{path}.instance_type",
            fleet.instance_type,
            "must be an EC2 type such as t3.large",
        )
    if not 0 <= fleet.min_size <= fleet.desired_capacity <= fleet.max_size or fleet.max_size < 1:
        yield violation(
            "compute.sizes",
            f"{path}.desired_capacity",
            (fleet.min_size, fleet.desired_capacity, fleet.max_size),
            "needs 0 <= min_size <= desired_capacity <= max_size and max_size >= 1",
        )
    if not 0 < fleet.scale_in_cpu_percent < fleet.scale_out_cpu_percent < 100:
        yield violation(
            "compute.scaling",
            f"{path}.scale_in_cpu_percent",
            (fleet.scale_in_cpu_percent, fleet.scale_out_cpu_percent),
            "needs 0 < scale_in_cpu_percent < scale_out_cpu_percent < 100",
        )
    if fleet.root_volume_gb < MIN_ROOT_VOLUME_GB:
        yield violation(
            "compute.volume",
            f"{path}.root_volume_gb",
            fleet.root_volume_gb,
            f"must be at least {MIN_ROOT_VOLUME_GB} (the AMI's snapshot size)",
        )
    hours = fleet.business_hours
    if hours is None:
        return
    if hours.time_zone not in zoneinfo.available_timezones():
        yield violation(
            "compute.time_zone",
            f"{path}.business_hours.time_zone",
            hours.time_zone,
            "must be an IANA time zone such as America/New_York",
        )
    for name in ("start", "end"):
        if not CRON.fullmatch(getattr(hours, name)):
            yield violation(
                "compute.schedule",
                f"{path}.business_hours.{name}",
                getattr(hours, name),
                "must be a five-field cron expression such as '0 8 * * MON-FRI'",
            )
    if not fleet.min_size <= hours.min_size <= fleet.max_size:
        yield violation(
            "compute.schedule",
            f"{path}.business_hours.min_size",
            hours.min_size,
            f"must be between the fleet's min_size ({fleet.min_size}) and max_size ({fleet.max_size})",
        )


def check_parameters(config: DeploymentConfig) -> Iterable[Violation]:
    params = config.parameters
    if params is not None and params.root is not None and not re.fullmatch(r"[a-z][a-z0-9-]{0,39}", params.root):
        yield violation(
            "parameters.root", "parameters.root", params.root, "must be 1-40 lowercase letters, digits and hyphens"
        )


GUARDDUTY_DETECTOR_ID = re.compile(r"[0-9a-f]{32}")
# GuardDuty's severity scale: LOW 1.0-3.9, MEDIUM 4.0-6.9, HIGH 7.0-8.9, CRITICAL 9.0-10.0.
GUARDDUTY_SEVERITY = (1.0, 10.0)


def check_baseline(config: DeploymentConfig) -> Iterable[Violation]:
    """The account baseline's `[baseline]` settings (the same whatever profile synthesizes it)."""
    baseline = config.baseline
    detector = baseline.guardduty.existing_detector_id
    if detector is not None and not GUARDDUTY_DETECTOR_ID.fullmatch(detector):
        yield violation(
            "baseline.detector_id",
            "baseline.guardduty.existing_detector_id",
            detector,
            "must be a GuardDuty detector id: 32 lowercase hexadecimal characters (`make discover` finds it)",
        )
    low, high = GUARDDUTY_SEVERITY
    severity = baseline.guardduty.alert_min_severity
    if not low <= severity <= high:
        yield violation(
            "baseline.severity",
            "baseline.guardduty.alert_min_severity",
            severity,
            f"must be on GuardDuty's scale, {low:g}-{high:g} (7: HIGH and above)",
        )
    for field_name in ("existing_recorder_name", "existing_delivery_channel_name"):
        name = getattr(baseline.aws_config, field_name)
        if name is not None and not re.fullmatch(r"\S{1,256}", name):
            yield violation(
                "baseline.config_name",
                f"baseline.aws_config.{field_name}",
                name,
                "must be 1-256 characters without spaces, the existing resource's exact name",
            )
    yield from check_baseline_adoption(config)
    trail = baseline.cloudtrail
    if trail.retention_days < PCI_LOG_RETENTION_DAYS:
        yield violation(
            "baseline.trail_retention",
            "baseline.cloudtrail.retention_days",
            trail.retention_days,
            f"PCI DSS 10.5.1 keeps audit logs at least {PCI_LOG_RETENTION_DAYS} days",
        )
    if trail.log_group_retention_days not in CLOUDWATCH_RETENTION_DAYS:
        yield violation(
            "baseline.trail_log_retention",
            "baseline.cloudtrail.log_group_retention_days",
            trail.log_group_retention_days,
            f"must be a value CloudWatch Logs accepts: {sorted(CLOUDWATCH_RETENTION_DAYS)}",
        )
    for email in baseline.security_alert_emails:
        if not EMAIL.fullmatch(email):
            yield violation("baseline.email", "baseline.security_alert_emails", email, "must be an email address")


def check_baseline_adoption(config: DeploymentConfig) -> Iterable[Violation]:
    """What the baseline adopts, where its account-wide parts live, and its remediation."""
    baseline = config.baseline
    detector = baseline.guardduty.existing_detector_id
    recorder, channel = baseline.aws_config.existing_recorder_name, baseline.aws_config.existing_delivery_channel_name
    if (recorder is None) != (channel is None):
        yield violation(
            "baseline.config_adoption",
            "baseline.aws_config.existing_delivery_channel_name"
            if channel is None
            else "baseline.aws_config.existing_recorder_name",
            None,
            "adopt the recorder and the delivery channel together: a region has one of each",
        )
    if baseline.guardduty.existing_publishing_destination_id is not None and detector is None:
        yield violation(
            "baseline.destination_adoption",
            "baseline.guardduty.existing_publishing_destination_id",
            baseline.guardduty.existing_publishing_destination_id,
            "an existing export belongs to an existing detector: set existing_detector_id too",
        )
    known = REGIONS.get(config.region)
    remediating = baseline.aws_config.enabled and baseline.remediation.enabled
    unsigned = not baseline.lambdas.code_signing
    if remediating and unsigned and known is not None and known.powertools_account is None:
        yield violation(
            "baseline.powertools",
            "baseline.remediation.enabled",
            True,
            f"the unsigned remediation function needs AWS's Powertools layer, which AWS does not publish in "
            f"{config.region}; turn baseline.lambdas.code_signing on (TAP's own signed layer) or remediation off",
        )
    if baseline.remediation.automatic_attempts not in range(1, 26):
        yield violation(
            "baseline.remediation_attempts",
            "baseline.remediation.automatic_attempts",
            baseline.remediation.automatic_attempts,
            "AWS Config allows 1-25 automatic attempts",
        )
    if baseline.home_region is not None and baseline.home_region not in REGIONS:
        yield violation("baseline.home_region", "baseline.home_region", baseline.home_region, "must be an AWS region")


BACKUP_SCHEDULE = re.compile(r"(cron|rate)\(.+\)")
# AWS Backup's limits: a start window of at least an hour; retention up to 100 years.
MIN_BACKUP_START_WINDOW_MINUTES = 60
MAX_BACKUP_RETENTION_DAYS = 36_500


def check_observability(config: DeploymentConfig) -> Iterable[Violation]:
    for field_name in ("alarm_emails", "page_emails"):
        for email in getattr(config.observability, field_name):
            if not EMAIL.fullmatch(email):
                yield violation("observability.email", f"observability.{field_name}", email, "must be an email address")
    if config.observability.payment_log_stream and config.payments is None and config.transactions_api is None:
        yield violation(
            "observability.payment_log_stream",
            "observability.payment_log_stream",
            True,
            "the environment has no payment functions or transactions API whose logs could be streamed",
        )


def check_lambda_platforms(config: DeploymentConfig) -> Iterable[Violation]:
    """Signed functions use TAP's Powertools layer, built for the runtimes and architectures it fetches."""
    for path, lambdas in (("lambdas", config.lambdas), ("baseline.lambdas", config.baseline.lambdas)):
        if lambdas.code_signing and (lambdas.runtime, lambdas.architecture) not in LAYER_PLATFORMS:
            built = ", ".join(f"{runtime} {arch}" for runtime, arch in LAYER_PLATFORMS)
            yield violation(
                "lambdas.layer_platform",
                f"{path}.runtime",
                f"{lambdas.runtime} {lambdas.architecture}",
                f"TAP builds its signed Powertools layer for {built}; pick one, or turn {path}.code_signing off",
            )


def check_governance(config: DeploymentConfig) -> Iterable[Violation]:
    """The governance tier's environment parts: backups, data events and Inspector."""
    governance, backup = config.governance, config.governance.backup
    if backup.enabled:
        if not 1 <= backup.retention_days <= MAX_BACKUP_RETENTION_DAYS:
            yield violation(
                "governance.backup_retention",
                "governance.backup.retention_days",
                backup.retention_days,
                f"AWS Backup keeps recovery points 1-{MAX_BACKUP_RETENTION_DAYS} days",
            )
        if not BACKUP_SCHEDULE.fullmatch(backup.schedule):
            yield violation(
                "governance.backup_schedule",
                "governance.backup.schedule",
                backup.schedule,
                "must be an AWS Backup schedule expression, cron(...) or rate(...)",
            )
        if not MIN_BACKUP_START_WINDOW_MINUTES <= backup.start_window_minutes < backup.completion_window_minutes:
            yield violation(
                "governance.backup_windows",
                "governance.backup.start_window_minutes",
                backup.start_window_minutes,
                f"AWS Backup needs a start window of at least {MIN_BACKUP_START_WINDOW_MINUTES} minutes, shorter "
                f"than the completion window ({backup.completion_window_minutes})",
            )
    holds_payment_data = (
        config.payments is not None
        or config.transactions_api is not None
        or config.transactions_table is not None
        or "audit_logs" in config.storage.buckets
    )
    if governance.data_events and not holds_payment_data:
        yield violation(
            "governance.data_events",
            "governance.data_events",
            True,
            "the environment has nothing whose data events CloudTrail records (payment functions, the "
            "transactions table or the audit-log bucket); Aurora's data access is not a CloudTrail data event",
        )
    if governance.inspector and not config.baseline.inspector:
        yield violation(
            "governance.inspector",
            "governance.inspector",
            True,
            "Amazon Inspector is enabled by the account baseline: set [baseline] inspector = true",
        )


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
    check_transactions_api,
    check_region_services,
    check_edge,
    check_load_balancer,
    check_cdn,
    check_failover,
    check_compute,
    check_parameters,
    check_baseline,
    check_lambda_platforms,
    check_governance,
    check_observability,
)

# Every rule's id; each has a failing case in tests/unit/test_validation.py (checked for completeness).
RULES = frozenset(
    {
        "identity.suffix",
        "identity.prefix",
        "identity.region",
        "backend.bucket",
        "backend.region",
        "network.cidr_format",
        "network.cidr_range",
        "network.zone_count",
        "network.zone_format",
        "network.zone_exists",
        "network.subnets_fit",
        "network.subnets_overlap",
        "network.nat_mode",
        "flow_logs.present",
        "flow_logs.destinations",
        "flow_logs.retention_value",
        "flow_logs.archive",
        "storage.flow_log_bucket",
        "storage.access_log_retention",
        "storage.purpose",
        "storage.days",
        "storage.lifecycle_order",
        "keys.known",
        "keys.unique",
        "keys.needed",
        "endpoints.known",
        "endpoints.rotation",
        "endpoints.nat_less",
        "endpoints.gateways",
        "database.mysql_version",
        "database.postgres_version",
        "database.instance_count",
        "database.acu_range",
        "database.serverless_class",
        "database.provisioned_class",
        "database.backup_retention",
        "database.rotation_days",
        "database.monitoring_interval",
        "database.performance_insights",
        "database.username",
        "database.distinct_users",
        "database.name",
        "database.ledger_engine",
        "cache.node_count",
        "file_system.path",
        "lambdas.rotation_concurrency",
        "lambdas.log_retention",
        "payments.table",
        "payments.ledger",
        "payments.store",
        "payments.endpoints",
        "payments.gateway",
        "payments.currencies",
        "payments.fraud_thresholds",
        "payments.minimums",
        "payments.max_receive_count",
        "payments.missing_country",
        "payments.batch_size",
        "payments.email",
        "payments.cors_wildcard",
        "payments.cors_origin",
        "transactions_api.ledger",
        "transactions_api.cache",
        "transactions_api.endpoints",
        "transactions_api.cache_seconds",
        "region.powertools",
        "edge.domain",
        "edge.hosted_zone",
        "edge.zone_needs_domain",
        "edge.certificate",
        "edge.certificate_region",
        "edge.targets",
        "edge.private_route",
        "edge.ssl_policy",
        "edge.health_check",
        "edge.weights",
        "edge.waf",
        "edge.cdn_origin",
        "edge.cdn_assets",
        "edge.cdn_paths",
        "edge.cdn_ttl",
        "edge.cdn_price_class",
        "edge.cdn_hsts",
        "edge.cdn_csp",
        "edge.cdn_countries",
        "edge.cdn_certificate",
        "edge.failover_zone",
        "edge.failover_primary",
        "edge.failover_checks",
        "edge.failover_secondary",
        "compute.load_balancer",
        "compute.database",
        "compute.endpoints",
        "compute.instance_type",
        "compute.sizes",
        "compute.scaling",
        "compute.volume",
        "compute.time_zone",
        "compute.schedule",
        "parameters.root",
        "baseline.detector_id",
        "baseline.severity",
        "baseline.config_name",
        "baseline.trail_retention",
        "baseline.trail_log_retention",
        "baseline.email",
        "baseline.config_adoption",
        "baseline.destination_adoption",
        "baseline.home_region",
        "baseline.powertools",
        "baseline.remediation_attempts",
        "lambdas.layer_platform",
        "governance.backup_retention",
        "governance.backup_schedule",
        "governance.backup_windows",
        "governance.data_events",
        "governance.inspector",
        "observability.email",
        "observability.payment_log_stream",
    }
)


def validate(config: DeploymentConfig) -> list[Violation]:
    """Every configuration violation, in a stable order, each naming where its value came from."""
    found = [problem for check in CHECKS for problem in check(config)]
    return [problem.from_source(config.source_of(FIELD_PATHS.get(problem.field, problem.field))) for problem in found]


# Violation fields named after environment variables, mapped to the configuration path they set.
FIELD_PATHS = {
    "ENVIRONMENT_SUFFIX": "environment_suffix",
    "AWS_REGION": "region",
    "TERRAFORM_STATE_BUCKET": "backend.state_bucket",
    "TERRAFORM_STATE_BUCKET_REGION": "backend.state_bucket_region",
}
