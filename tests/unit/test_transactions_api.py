"""Document 001's transactions API on the synthesized JSON (`lib/payments/transactions_api.py`).

transactions-pg reaches the ledger at the cluster with the rotated application secret; full,
which has RDS Proxy, through the proxy with IAM authentication and announces on its bus.
"""

from __future__ import annotations

import dataclasses
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from lib.contracts import payments as contract
from lib.core import packaging
from lib.core.function import LAMBDA_ROOT, contract_files
from lib.payments import transactions_api
from lib.profiles import load_config
from lib.synth import synthesize
from tests.conftest import SUFFIX, Document, Synthesized, function_zip, policy, ref, resources

API = "payments_transactions_api_http_api"
FUNCTION = "payments_transactions_api_function"


@pytest.fixture(scope="module", params=["transactions-pg", "full"])
def api_doc(request: pytest.FixtureRequest, synthesized: Synthesized) -> Document:
    return synthesized(request.param)


def profile_of(doc: Document) -> str:
    return str(doc["provider"]["aws"][0]["default_tags"][0]["tags"]["Profile"])


def statements(doc: Document) -> dict[str, dict[str, Any]]:
    role_policy = resources(doc, "aws_iam_role_policy")[f"{FUNCTION}_role_policy"]
    return {s["Sid"]: s for s in policy(role_policy)["Statement"]}


def variables(doc: Document) -> dict[str, str]:
    return dict(resources(doc, "aws_lambda_function")[FUNCTION]["environment"]["variables"])


def test_the_api_is_documents_name_stage_throttling_and_logs(api_doc: Document) -> None:
    api = resources(api_doc, "aws_apigatewayv2_api")[API]
    expected = (
        f"transactions-api-{SUFFIX}" if profile_of(api_doc) == "transactions-pg" else f"tap-transactions-api-{SUFFIX}"
    )
    assert api["name"] == expected and api["protocol_type"] == "HTTP"
    assert "cors_configuration" not in api  # no origins configured: no CORS, never document 001's "*"
    stage = resources(api_doc, "aws_apigatewayv2_stage")[f"{API}_stage"]
    assert stage["name"] == "prod" and stage["auto_deploy"] is True
    assert stage["default_route_settings"]["throttling_rate_limit"] == 10_000
    assert stage["default_route_settings"]["throttling_burst_limit"] == 5_000
    log_format = json.loads(stage["access_log_settings"]["format"])
    assert {"requestId", "routeKey", "status"} <= set(log_format) and "body" not in json.dumps(log_format).lower()
    logs = resources(api_doc, "aws_cloudwatch_log_group")[f"{API}_access_logs"]
    assert stage["access_log_settings"]["destination_arn"] == ref(
        api_doc, "aws_cloudwatch_log_group", f"{API}_access_logs", "arn"
    )
    # Document 001 keeps API logs 30 days; PCI DSS 10.5.1 asks for a year, so a year it is.
    assert logs["name"] == f"/aws/apigateway/{expected}" and logs["retention_in_days"] == 365
    assert logs["kms_key_id"] == ref(api_doc, "aws_kms_key", "foundation_keys_logs", "arn")


def test_every_route_is_iam_authorized_and_served_by_the_function(api_doc: Document) -> None:
    routes = {r["route_key"]: r for r in resources(api_doc, "aws_apigatewayv2_route").values() if API in r["api_id"]}
    assert set(routes) == set(contract.TRANSACTIONS_ROUTES.values())
    assert {r["authorization_type"] for r in routes.values()} == {"AWS_IAM"}
    integration = resources(api_doc, "aws_apigatewayv2_integration")[f"{API}_integration"]
    assert integration["integration_uri"] == ref(api_doc, "aws_lambda_function", FUNCTION, "invoke_arn")
    permissions = {
        p["source_arn"].split("}", 1)[1]
        for p in resources(api_doc, "aws_lambda_permission").values()
        if p["function_name"] == ref(api_doc, "aws_lambda_function", FUNCTION, "function_name")
    }
    assert permissions == {"/*/POST/transactions", "/*/GET/transactions/*", "/*/GET/accounts/*/balance"}


def test_cors_comes_from_configuration(synthesized: Synthesized, tmp_path: Path) -> None:
    config = tmp_path / "env.toml"
    config.write_text('[transactions_api]\ncors_origins = ["https://ops.example.com"]\n')
    doc = synthesized("transactions-pg", TAP_CONFIG=str(config))
    cors = resources(doc, "aws_apigatewayv2_api")[API]["cors_configuration"]
    assert cors["allow_origins"] == ["https://ops.example.com"]
    assert cors["allow_methods"] == ["GET", "OPTIONS", "POST"]
    assert "idempotency-key" in cors["allow_headers"] and "*" not in cors["allow_headers"]


def test_transactions_pg_logs_in_with_the_rotated_secret(synthesized: Synthesized) -> None:
    doc = synthesized("transactions-pg")
    env = variables(doc)
    assert env[contract.LEDGER_LOGIN] == "secret"
    assert env[contract.LEDGER_HOST] == ref(doc, "aws_rds_cluster", "data_database_cluster", "endpoint")
    assert env[contract.LEDGER_SECRET_ARN] == ref(doc, "aws_secretsmanager_secret", "data_database_app_secret", "arn")
    assert env[contract.LEDGER_DATABASE] == "transactions" and contract.EVENT_BUS_NAME not in env
    found = statements(doc)
    assert found["ReadTheApplicationSecret"]["Resource"] == env[contract.LEDGER_SECRET_ARN]
    assert found["ReadTheCacheToken"]["Resource"] == ref(
        doc, "aws_secretsmanager_secret", "data_cache_auth_secret", "arn"
    )
    assert not any("rds-db:connect" in s["Action"] for s in found.values())


def test_full_goes_through_the_proxy_with_iam_and_announces_on_the_bus(synthesized: Synthesized) -> None:
    doc = synthesized("full")
    env = variables(doc)
    assert env[contract.LEDGER_LOGIN] == "iam" and env[contract.LEDGER_USER] == "tap_app"
    assert env[contract.LEDGER_HOST] == ref(doc, "aws_db_proxy", "data_database_proxy", "endpoint")
    found = statements(doc)
    assert found["ConnectToTheLedgerThroughTheProxy"]["Action"] == ["rds-db:connect"]
    assert found["ConnectToTheLedgerThroughTheProxy"]["Resource"].endswith("/tap_app")
    assert "ReadTheApplicationSecret" not in found
    assert env[contract.EVENT_BUS_NAME] == ref(doc, "aws_cloudwatch_event_bus", "payments_messaging_bus", "name")
    assert found["Announce"]["Resource"] == ref(doc, "aws_cloudwatch_event_bus", "payments_messaging_bus", "arn")


def test_the_function_reads_every_setting_its_contract_names(api_doc: Document) -> None:
    env = variables(api_doc)
    assert set(contract.required_settings("transactions_api", env)) <= set(env)
    assert env[contract.CACHE_HOST] == ref(
        api_doc, "aws_elasticache_replication_group", "data_cache_replication_group", "primary_endpoint_address"
    )


def test_the_zip_carries_the_shared_rules_the_ledger_code_and_the_drivers(tmp_path: Path) -> None:
    """Built as the stack builds it: the API's code, the shared request and fraud rules, both drivers."""
    package = packaging.build(
        [LAMBDA_ROOT / directory for directory in transactions_api.CODE],
        transactions_api.DISTRIBUTIONS,
        tmp_path,
        extra_files=contract_files(["payments"]),
    )
    names = set(zipfile.ZipFile(package.path).namelist())
    assert {
        "transactions_api.py",
        "balance_cache.py",
        "payment_requests.py",
        "fraud_rules.py",
        "ledger_store.py",
        "rds_client.py",
        "rds-ca-bundle.pem",
        "lib/contracts/payments.py",
        "redis/__init__.py",
        "pg8000/__init__.py",
    } <= names


def test_documents_data_resources_carry_the_compliance_tag(synthesized: Synthesized) -> None:
    doc = synthesized("transactions-pg")
    for kind, path in (
        ("aws_rds_cluster", "data_database_cluster"),
        ("aws_efs_file_system", "data_file_system"),
        ("aws_elasticache_replication_group", "data_cache_replication_group"),
        ("aws_secretsmanager_secret", "data_database_app_secret"),
    ):
        assert resources(doc, kind)[path]["tags"]["Compliance"] == "PCI-DSS", kind
    # Only the data tier's resources (document 001 tags those), and only where the profile asks.
    assert "Compliance" not in resources(doc, "aws_vpc")["foundation_network_vpc"].get("tags", {})
    web = synthesized("web-mysql")
    assert "Compliance" not in resources(web, "aws_rds_cluster")["data_database_cluster"].get("tags", {})


def test_the_api_is_sized_for_documents_rate_and_counts_velocity(api_doc: Document) -> None:
    """About 100 concurrent executions serve 10,000 rps; each holds one ledger connection at most."""
    function = resources(api_doc, "aws_lambda_function")[FUNCTION]
    assert function["reserved_concurrent_executions"] == 100
    env = variables(api_doc)
    assert (env[contract.FRAUD_VELOCITY_LIMIT], env[contract.FRAUD_VELOCITY_WINDOW_SECONDS]) == ("10", "3600")


def processing(doc: Document, name: str = "transaction_processing") -> tuple[dict[str, str], dict[str, Any]]:
    function = f"payments_functions_{name}"
    env = resources(doc, "aws_lambda_function")[f"{function}_function"]["environment"]["variables"]
    role_policy = resources(doc, "aws_iam_role_policy")[f"{function}_role_policy"]
    return env, {s["Sid"]: s for s in policy(role_policy)["Statement"]}


def test_in_full_settling_invalidates_the_balances_the_api_caches(synthesized: Synthesized) -> None:
    """Both write the ledger: processing reaches Redis (admitted, its token readable) and invalidates."""
    doc = synthesized("full")
    env, found = processing(doc)
    cache_secret = ref(doc, "aws_secretsmanager_secret", "data_cache_auth_secret", "arn")
    assert env[contract.CACHE_AUTH_SECRET_ARN] == cache_secret == found["ReadTheCacheToken"]["Resource"]
    assert env[contract.CACHE_HOST] == variables(doc)[contract.CACHE_HOST]
    assert contract.BALANCE_CACHE_SECONDS not in env  # it invalidates, it never caches
    admitted = {
        rule["referenced_security_group_id"]
        for rule in resources(doc, "aws_vpc_security_group_ingress_rule").values()
        if rule["security_group_id"] == ref(doc, "aws_security_group", "data_cache_security_group", "id")
    }
    processing_group = ref(doc, "aws_security_group", "payments_functions_transaction_processing_security_group", "id")
    assert processing_group in admitted
    # Dead letters settle as failed and move no balance: no cache for them.
    dead_env, dead_found = processing(doc, "dead_letters")
    assert contract.CACHE_HOST not in dead_env and "ReadTheCacheToken" not in dead_found


def test_without_the_api_processing_has_no_cache_access(tmp_path: Path) -> None:
    """`full` with Redis and the ledger but no transactions API: nothing caches balances, nothing to tell."""
    config = dataclasses.replace(
        load_config({"TAP_PROFILE": "full", "ENVIRONMENT_SUFFIX": SUFFIX}), transactions_api=None
    )
    doc = json.loads(synthesize(config, tmp_path / "out").output_file.read_text())
    assert resources(doc, "aws_elasticache_replication_group")
    env, found = processing(doc)
    assert not set(contract.CACHE_SETTINGS) & set(env) and "ReadTheCacheToken" not in found


def test_processing_in_full_carries_the_redis_client_it_imports(synthesized: Synthesized) -> None:
    """Its cold start imports `redis` (it has CACHE_HOST): the zip the stack built must hold it."""
    result, doc = synthesized.result("full")

    def names(path: str) -> set[str]:
        return set(zipfile.ZipFile(function_zip(result.output_file.parent, doc, path)).namelist())

    assert "redis/__init__.py" in names("payments_functions_transaction_processing_function")
    assert "balance_cache.py" in names("payments_functions_transaction_processing_function")
    assert "redis/__init__.py" not in names("payments_functions_dead_letters_function")
