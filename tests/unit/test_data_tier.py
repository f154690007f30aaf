"""The data tier of every profile: Aurora, RDS Proxy, Redis, EFS, DynamoDB, parameters, outputs."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lib.data import connection_url
from tests.conftest import (
    SUFFIX,
    Document,
    Synthesized,
    address_name,
    iter_statements,
    name_prefix,
    policy,
    ref,
    resources,
)

# profile -> (engine, instances, serverless ACU or instance class, backup days, proxy)
AURORA = {
    "web-mysql": ("aurora-mysql", 2, (0.5, 2), 35, False),
    "transactions-pg": ("aurora-postgresql", 2, (0.5, 16), 30, False),
    "secure-platform": ("aurora-postgresql", 3, (0.5, 8), 30, True),
    "portal-cdn": ("aurora-mysql", 2, "db.r6g.large", 7, False),
    "serverless-payments": ("aurora-postgresql", 2, "db.r6g.xlarge", 30, False),  # document 004: two instances
    "full": ("aurora-postgresql", 3, (0.5, 16), 30, True),
}
WITH_REDIS_AND_EFS = {"transactions-pg", "full"}
WITH_TABLE = {"serverless-payments"}  # the payments' store in document 004 (the others settle into the ledger)
WITH_PARAMETERS = {"secure-platform", "serverless-payments", "full"}


def one(doc: Document, kind: str) -> tuple[str, dict[str, Any]]:
    ((name, item),) = resources(doc, kind).items()
    return name, item


def key_arn(doc: Document, purpose: str) -> str:
    return ref(doc, "aws_kms_key", f"foundation_keys_{purpose}", "arn")


def sg_token(doc: Document, path: str) -> str:
    return ref(doc, "aws_security_group", path)


def ingress_sources(doc: Document, target_prefix: str) -> dict[str, int]:
    """Security group tokens admitted into the target group, with their port."""
    target = sg_token(doc, target_prefix)
    rules = [
        r for r in resources(doc, "aws_vpc_security_group_ingress_rule").values() if r["security_group_id"] == target
    ]
    assert all("cidr_ipv4" not in r and "cidr_ipv6" not in r for r in rules), "data stores admit security groups only"
    return {r["referenced_security_group_id"]: r["from_port"] for r in rules}


def test_no_password_literal_in_any_profile(doc: Document) -> None:
    text = json.dumps(doc)
    for attribute in ('"master_password"', '"password"', '"auth_token"', '"secret_string"'):
        assert attribute not in text, attribute


def test_aurora_cluster(doc: Document, profile: str) -> None:
    engine, count, capacity, backups, _ = AURORA[profile]
    _, cluster = one(doc, "aws_rds_cluster")
    assert cluster["engine"] == engine
    assert cluster["engine_version"].startswith("8.0.mysql_aurora.3" if engine == "aurora-mysql" else "16.")
    assert cluster["cluster_identifier"].endswith(f"-{SUFFIX}")
    assert cluster["storage_encrypted"] is True and cluster["kms_key_id"] == key_arn(doc, "database")
    assert cluster["manage_master_user_password"] is True
    assert cluster["master_user_secret_kms_key_id"] == key_arn(doc, "database")
    assert cluster["backup_retention_period"] == backups
    assert cluster["preferred_backup_window"] and cluster["preferred_maintenance_window"]
    assert cluster["copy_tags_to_snapshot"] is True
    assert cluster["iam_database_authentication_enabled"] is True
    expected_logs = ["audit", "error", "general", "slowquery"] if engine == "aurora-mysql" else ["postgresql"]
    assert cluster["enabled_cloudwatch_logs_exports"] == expected_logs
    instances = list(resources(doc, "aws_rds_cluster_instance").values())
    assert len(instances) == count
    assert len({i["availability_zone"] for i in instances}) == min(count, 3)
    if isinstance(capacity, tuple):
        scaling = cluster["serverlessv2_scaling_configuration"]
        assert (scaling["min_capacity"], scaling["max_capacity"]) == capacity
        assert {i["instance_class"] for i in instances} == {"db.serverless"}
    else:
        assert "serverlessv2_scaling_configuration" not in cluster
        assert {i["instance_class"] for i in instances} == {capacity}
    for instance in instances:
        assert instance["publicly_accessible"] is False
        assert instance["performance_insights_enabled"] is True
        assert instance["performance_insights_kms_key_id"] == key_arn(doc, "database")
        assert instance["monitoring_interval"] == 60 and instance["monitoring_role_arn"].startswith(
            "${aws_iam_role.data_database_monitoring_role"
        )
    assert sorted(i["promotion_tier"] for i in instances) == [0] + [1] * (count - 1)


def test_tls_is_required_by_the_cluster_parameter_group(doc: Document, profile: str) -> None:
    _, group = one(doc, "aws_rds_cluster_parameter_group")
    parameters = {p["name"]: p["value"] for p in group["parameter"]}
    if AURORA[profile][0] == "aurora-mysql":
        assert parameters["require_secure_transport"] == "ON" and parameters["tls_version"] == "TLSv1.2,TLSv1.3"
    else:
        assert parameters["rds.force_ssl"] == "1" and parameters["ssl_min_protocol_version"] == "TLSv1.2"
        assert parameters["log_min_duration_statement"] == "-1"  # no statement text with payment data in logs
    _, cluster = one(doc, "aws_rds_cluster")
    assert cluster["db_cluster_parameter_group_name"] == ref(
        doc, "aws_rds_cluster_parameter_group", one(doc, "aws_rds_cluster_parameter_group")[0], "name"
    )


def test_database_subnets_are_the_isolated_tier_when_present(doc: Document) -> None:
    _, group = one(doc, "aws_db_subnet_group")
    tiers = {
        s["tags"]["Tier"]
        for n, s in resources(doc, "aws_subnet").items()
        if ref(doc, "aws_subnet", n) in group["subnet_ids"]
    }
    has_isolated = any(s["tags"]["Tier"] == "database" for s in resources(doc, "aws_subnet").values())
    assert tiers == ({"database"} if has_isolated else {"private"})


WITH_LEDGER = {"transactions-pg", "secure-platform", "full"}
WITH_TRANSACTIONS_API = {"transactions-pg", "full"}


def test_database_admits_only_app_proxy_rotation_and_migration_groups(doc: Document, profile: str) -> None:
    port = 3306 if AURORA[profile][0] == "aurora-mysql" else 5432
    admitted = ingress_sources(doc, "data_database_security_group")
    rotation = sg_token(doc, "data_secret_rotation_function_security_group")
    # Rotation and schema migrations use the master user on the writer, never the proxy.
    direct = {rotation: port}
    if profile in WITH_LEDGER:
        direct[sg_token(doc, "data_ledger_function_security_group")] = port
    api = (
        {sg_token(doc, "payments_transactions_api_function_security_group"): port}
        if profile in WITH_TRANSACTIONS_API
        else {}
    )
    # The application instances' health check logs in with the rotated secret: at the cluster, also
    # behind a proxy (which admits only IAM-authenticated functions). 001 has no instances.
    if profile != "transactions-pg":
        direct[sg_token(doc, "foundation_app_security_group")] = port
    if AURORA[profile][4]:
        proxy = sg_token(doc, "data_database_proxy_security_group")
        assert admitted == {proxy: port, **direct}
        # Only the functions that use the ledger, each by its own group.
        assert ingress_sources(doc, "data_database_proxy_security_group") == {
            **{
                sg_token(doc, f"payments_functions_{code}_security_group"): port
                for code in ("payment_validation", "transaction_processing", "dead_letters")
            },
            **api,
        }
    else:
        # Without a proxy, the transactions API logs in at the cluster with the rotated secret.
        assert admitted == {**direct, **api}


def test_master_secret_rotates_on_an_explicit_schedule_without_a_lambda(doc: Document) -> None:
    cluster_name, _ = one(doc, "aws_rds_cluster")
    rotations = resources(doc, "aws_secretsmanager_secret_rotation")
    (master,) = [r for r in rotations.values() if "master_user_secret" in r["secret_id"]]
    assert master["secret_id"] == ref(doc, "aws_rds_cluster", cluster_name, "master_user_secret[0].secret_arn")
    assert master["rotation_rules"]["automatically_after_days"] == 30
    assert "rotation_lambda_arn" not in master


def test_deletion_protection_and_final_snapshot_follow_the_mode(synthesized: Synthesized) -> None:
    _, destroyable = one(synthesized("full"), "aws_rds_cluster")
    _, protected = one(synthesized("full", TAP_PROTECTED="true"), "aws_rds_cluster")
    assert (destroyable["deletion_protection"], destroyable["skip_final_snapshot"]) == (False, True)
    assert (protected["deletion_protection"], protected["skip_final_snapshot"]) == (True, False)
    assert protected["final_snapshot_identifier"] == f"tap-aurora-final-{SUFFIX}"
    tables = resources(synthesized("full", TAP_PROTECTED="true"), "aws_dynamodb_table").values()
    assert {t["deletion_protection_enabled"] for t in tables} == {True}


def test_application_secret_is_written_once_from_an_ephemeral_password(doc: Document, profile: str) -> None:
    (secret_name,) = [
        n for n in resources(doc, "aws_secretsmanager_secret") if n.startswith("data_database_app_secret")
    ]
    secret = resources(doc, "aws_secretsmanager_secret")[secret_name]
    assert secret["kms_key_id"] == key_arn(doc, "secrets")
    (version,) = [
        v for v in resources(doc, "aws_secretsmanager_secret_version").values() if secret_name in v["secret_id"]
    ]
    assert "secret_string" not in version and version["secret_string_wo_version"] == 1
    value = version["secret_string_wo"]
    cluster = address_name(doc, "aws_rds_cluster", "data_database_cluster")
    assert f'"host" = aws_rds_cluster.{cluster}.endpoint' in value  # the writer, never the proxy
    assert '"password" = ephemeral.aws_secretsmanager_random_password.data_database_app_initial_password' in value
    assert f'"masterarn" = aws_rds_cluster.{cluster}.master_user_secret[0].secret_arn' in value
    engine = "mysql" if AURORA[profile][0] == "aurora-mysql" else "postgres"
    assert f'"engine" = "{engine}"' in value and '"username" = "tap_app"' in value
    (password,) = [
        p
        for n, p in doc["ephemeral"]["aws_secretsmanager_random_password"].items()
        if n.startswith("data_database_app_initial_password")
    ]
    assert password["exclude_punctuation"] is True and password["password_length"] == 40


def test_rds_proxy_requires_tls_and_iam_with_a_scoped_role(doc: Document, profile: str) -> None:
    proxies = resources(doc, "aws_db_proxy")
    if not AURORA[profile][4]:
        assert proxies == {}
        return
    (proxy,) = proxies.values()
    assert proxy["require_tls"] is True and proxy["engine_family"] == "POSTGRESQL"
    (auth,) = proxy["auth"]
    assert (auth["auth_scheme"], auth["iam_auth"]) == ("SECRETS", "REQUIRED")
    assert auth["secret_arn"].startswith("${aws_secretsmanager_secret.data_database_app_secret")
    (role_policy,) = [
        p for n, p in resources(doc, "aws_iam_role_policy").items() if n.startswith("data_database_proxy_role_policy")
    ]
    for statement in iter_statements(policy(role_policy)):
        assert statement["Resource"] != "*"
    (target,) = resources(doc, "aws_db_proxy_target").values()
    assert target["target_group_name"] == "default"


def test_redis_replication_group(doc: Document, profile: str) -> None:
    groups = resources(doc, "aws_elasticache_replication_group")
    if profile not in WITH_REDIS_AND_EFS:
        assert groups == {}
        return
    (group,) = groups.values()
    assert group["num_cache_clusters"] == 3
    assert group["automatic_failover_enabled"] is True and group["multi_az_enabled"] is True
    assert group["at_rest_encryption_enabled"] == "true" and group["kms_key_id"] == key_arn(doc, "cache")
    assert group["transit_encryption_enabled"] is True and group["transit_encryption_mode"] == "required"
    assert group["auth_token_wo"].startswith("${ephemeral.aws_secretsmanager_random_password.data_cache_auth_token")
    assert group["snapshot_retention_limit"] == 5 and group["snapshot_window"]
    assert {c["log_type"] for c in group["log_delivery_configuration"]} == {"slow-log", "engine-log"}
    # The transactions API's balance cache (every profile with Redis serves it); in full, payment
    # processing too, which invalidates the balances it settles. Instances do not use Redis.
    expected = {sg_token(doc, "payments_transactions_api_function_security_group"): 6379}
    if profile == "full":
        expected[sg_token(doc, "payments_functions_transaction_processing_security_group")] = 6379
    assert ingress_sources(doc, "data_cache_security_group") == expected
    (auth_value,) = [
        v for v in resources(doc, "aws_secretsmanager_secret_version").values() if "cache_auth_secret" in v["secret_id"]
    ]
    assert auth_value["secret_string_wo"] == group["auth_token_wo"]  # the same ephemeral token in both places


def test_efs(doc: Document, profile: str) -> None:
    systems = resources(doc, "aws_efs_file_system")
    if profile not in WITH_REDIS_AND_EFS:
        assert systems == {}
        return
    _, system = one(doc, "aws_efs_file_system")
    assert system["encrypted"] is True and system["kms_key_id"] == key_arn(doc, "efs")
    assert system["lifecycle_policy"] == [{"transition_to_ia": "AFTER_30_DAYS"}]
    private = {
        ref(doc, "aws_subnet", n) for n, s in resources(doc, "aws_subnet").items() if s["tags"]["Tier"] == "private"
    }
    assert {m["subnet_id"] for m in resources(doc, "aws_efs_mount_target").values()} == private
    _, fs_policy = one(doc, "aws_efs_file_system_policy")
    (deny,) = policy(fs_policy)["Statement"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    _, access_point = one(doc, "aws_efs_access_point")
    assert access_point["root_directory"]["path"] == "/app" and access_point["posix_user"]["uid"] == 1000
    # AWS Backup's plan copies it (test_governance_environment), so EFS's own backups are off.
    _, backups = one(doc, "aws_efs_backup_policy")
    assert backups["backup_policy"]["status"] == "DISABLED"
    # Nothing mounts the file system yet, so its group admits no one.
    assert ingress_sources(doc, "data_file_system_security_group") == {}


def test_transactions_table(doc: Document, profile: str) -> None:
    tables = {n: t for n, t in resources(doc, "aws_dynamodb_table").items() if n.startswith("data_transactions_table")}
    if profile not in WITH_TABLE:
        assert tables == {}
        return
    ((_, table),) = tables.items()
    # Document 004 names its table `transactions-<suffix>`; no other profile's table can take that name.
    expected = "transactions" if profile == "serverless-payments" else f"{name_prefix(profile)}-transactions"
    assert table["name"] == f"{expected}-{SUFFIX}"
    assert table["billing_mode"] == "PAY_PER_REQUEST" and table["hash_key"] == "transaction_id"
    indexes = {i["name"]: (i["hash_key"], i["range_key"]) for i in table["global_secondary_index"]}
    assert indexes == {
        "customer-id-timestamp-index": ("customer_id", "timestamp"),
        "status-timestamp-index": ("status", "timestamp"),
    }
    assert table["point_in_time_recovery"]["enabled"] is True
    assert table["stream_enabled"] is True and table["stream_view_type"] == "NEW_AND_OLD_IMAGES"
    assert table["server_side_encryption"] == {"enabled": True, "kms_key_arn": key_arn(doc, "dynamodb")}
    assert table["ttl"] == {"attribute_name": "expires_at", "enabled": True}
    assert table["deletion_protection_enabled"] is False  # destroyable test environment


def test_parameters(doc: Document, profile: str) -> None:
    parameters = {p["name"]: p for p in resources(doc, "aws_ssm_parameter").values()}
    if profile not in WITH_PARAMETERS:
        assert parameters == {}
        return
    # Document 004 fixes its path (/payment-processing/<suffix>/); the others use the profile prefix.
    root = {"secure-platform": "/pay", "serverless-payments": "/payment-processing", "full": "/tap"}[
        profile
    ] + f"/{SUFFIX}"
    assert all(name.startswith(f"{root}/") for name in parameters)
    for parameter in parameters.values():  # every parameter is encrypted with the parameters key
        assert parameter["type"] == "SecureString" and parameter["key_id"] == key_arn(doc, "parameters")
    assert f"{root}/database/writer-endpoint" in parameters
    url = parameters[f"{root}/database/connection-url"]
    assert "sslmode=verify-full" in url["value"] and ":5432/payments" in url["value"]
    api_key = parameters[f"{root}/api-keys/payment-gateway"]
    assert "value" not in api_key and api_key["value_wo"].startswith("${ephemeral.aws_secretsmanager_random_password.")
    if AURORA[profile][4]:
        assert "${aws_db_proxy." in url["value"]  # applications go through the proxy


def test_outputs(doc: Document, profile: str) -> None:
    outputs = doc["output"]
    for name in (
        "database_writer_endpoint",
        "database_reader_endpoint",
        "database_app_secret_arn",
        "database_master_secret_arn",
    ):
        assert name in outputs
    assert outputs["database_app_secret_arn"]["sensitive"] is True
    assert outputs["database_master_secret_arn"]["sensitive"] is True
    assert ("database_proxy_endpoint" in outputs) == AURORA[profile][4]
    assert ("redis_endpoint" in outputs) == (profile in WITH_REDIS_AND_EFS)
    assert ("efs_id" in outputs) == (profile in WITH_REDIS_AND_EFS)
    assert ("transactions_table_name" in outputs) == (profile in WITH_TABLE)
    assert ("redis_auth_secret_arn" in outputs) == (profile in WITH_REDIS_AND_EFS)
    for name, output in outputs.items():  # every secret's ARN is exported as sensitive
        assert output.get("sensitive", False) is name.endswith("_secret_arn"), name


def test_connection_urls_use_each_engines_own_verify_option() -> None:
    """libpq's `sslmode` is ignored by MySQL clients; MySQL's is `ssl-mode=VERIFY_IDENTITY`."""
    mysql = connection_url("aurora-mysql", "app", "db.example", 3306, "paymentdb")
    assert mysql == "mysql://app@db.example:3306/paymentdb?ssl-mode=VERIFY_IDENTITY"
    postgres = connection_url("aurora-postgresql", "app", "db.example", 5432, "payments")
    assert postgres == "postgresql://app@db.example:5432/payments?sslmode=verify-full"


@pytest.mark.parametrize("profile_name", ["secure-platform", "web-mysql"])
def test_sg_rules_never_open_data_stores_to_cidrs(synthesized: Synthesized, profile_name: str) -> None:
    doc = synthesized(profile_name)
    for name, rule in resources(doc, "aws_vpc_security_group_ingress_rule").items():
        # The internet reaches the public load balancer's listeners only (tests/unit/test_edge_compute.py).
        public_edge = name in ("edge_load_balancer_ingress_443", "edge_load_balancer_ingress_80")
        assert rule.get("cidr_ipv4") in (None, "10.0.0.0/16") or public_edge
    for rule in resources(doc, "aws_vpc_security_group_egress_rule").values():
        # Egress goes to security groups, or to a gateway endpoint's prefix list (S3, DynamoDB).
        assert "cidr_ipv4" not in rule
        assert "referenced_security_group_id" in rule or rule["prefix_list_id"].startswith("${aws_vpc_endpoint.")
