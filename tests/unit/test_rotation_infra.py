"""The rotation function as deployed: network, limits, logs, least-privilege IAM, schedule, package."""

from __future__ import annotations

import zipfile
from pathlib import Path

from lib.core import packaging as lambda_package
from lib.core.function import LAMBDA_ROOT, contract_files
from lib.data.rotation import DRIVERS
from tests.conftest import (
    SUFFIX,
    Document,
    Synthesized,
    iter_statements,
    path_of,
    policy,
    ref,
    resources,
    signed_artifact,
)

PROXY_PROFILES = {"secure-platform", "full"}


def function(doc: Document) -> tuple[str, dict]:
    ((name, fn),) = [
        (n, f) for n, f in resources(doc, "aws_lambda_function").items() if n.startswith("data_secret_rotation")
    ]
    return name, fn


def test_function_runs_in_private_subnets_with_limits_tracing_and_powertools(doc: Document, profile: str) -> None:
    _, fn = function(doc)
    assert fn["function_name"].endswith(f"secret-rotation-{SUFFIX}")
    assert fn["runtime"] == "python3.13" and fn["handler"] == "app.handler"
    assert fn["reserved_concurrent_executions"] == 2
    assert fn["tracing_config"] == {"mode": "Active"}
    private = {
        ref(doc, "aws_subnet", n) for n, s in resources(doc, "aws_subnet").items() if s["tags"]["Tier"] == "private"
    }
    assert set(fn["vpc_config"]["subnet_ids"]) == private
    assert fn["vpc_config"]["security_group_ids"] == [
        ref(doc, "aws_security_group", "data_secret_rotation_function_security_group")
    ]
    # TAP's signed Powertools layer (AWS's published one is unsigned; see test_governance_environment).
    assert fn["layers"] == [ref(doc, "aws_lambda_layer_version", "foundation_code_signing_powertools_layer", "arn")]
    variables = fn["environment"]["variables"]
    assert variables["ROTATION_STRATEGY"] == ("single" if profile in PROXY_PROFILES else "alternating")
    assert variables["SECRETS_MANAGER_ENDPOINT"].startswith("https://secretsmanager.")
    assert not any("password" in k.lower() or k.lower() == "secret" for k in variables)
    assert fn["kms_key_arn"] == ref(doc, "aws_kms_key", "foundation_keys_secrets", "arn")


def test_function_log_group_is_encrypted_and_retained(doc: Document) -> None:
    _, fn = function(doc)
    (group_name, group) = next(
        (n, g)
        for n, g in resources(doc, "aws_cloudwatch_log_group").items()
        if n.startswith("data_secret_rotation_function_log_group")
    )
    assert fn["logging_config"]["log_group"] == ref(doc, "aws_cloudwatch_log_group", group_name, "name")
    assert group["retention_in_days"] == 365 and group["kms_key_id"] == ref(
        doc, "aws_kms_key", "foundation_keys_logs", "arn"
    )


def test_iam_is_limited_to_the_secret_its_keys_logs_and_enis(doc: Document) -> None:
    (role_policy,) = [
        p
        for n, p in resources(doc, "aws_iam_role_policy").items()
        if n.startswith("data_secret_rotation_function_role_policy")
    ]
    statements = {s["Sid"]: s for s in iter_statements(policy(role_policy))}
    assert statements["RotateTheApplicationSecret"]["Resource"].startswith(
        "${aws_secretsmanager_secret.data_database_app_secret"
    )
    assert statements["ReadTheMasterSecret"]["Action"] == ["secretsmanager:GetSecretValue"]
    assert "master_user_secret[0].secret_arn" in statements["ReadTheMasterSecret"]["Resource"]
    kms = statements["SecretKeysThroughSecretsManager"]
    assert kms["Condition"]["StringEquals"]["kms:ViaService"].startswith("secretsmanager.")
    assert statements["VpcNetworkInterfaces"]["Condition"]["StringEquals"]["ec2:Vpc"].endswith(
        ref(doc, "aws_vpc", "foundation_network_vpc")
    )
    for sid, statement in statements.items():
        assert all("*" not in action.split(":")[1] for action in statement["Action"]), sid
        if statement["Resource"] == "*":
            assert sid == "DescribeInterfacesAndWriteTraces"
            assert set(statement["Action"]) == {
                "ec2:DescribeNetworkInterfaces",
                "xray:PutTraceSegments",
                "xray:PutTelemetryRecords",
            }


def test_secrets_manager_may_invoke_it_for_that_secret_only_and_rotation_is_every_30_days(doc: Document) -> None:
    fn_name, _ = function(doc)
    (permission,) = [
        p for p in resources(doc, "aws_lambda_permission").values() if p["principal"] == "secretsmanager.amazonaws.com"
    ]
    assert permission["principal"] == "secretsmanager.amazonaws.com"
    assert permission["source_arn"].startswith("${aws_secretsmanager_secret.data_database_app_secret")
    assert permission["source_account"] == "${data.aws_caller_identity.current.account_id}"
    (schedule,) = [
        r for r in resources(doc, "aws_secretsmanager_secret_rotation").values() if "rotation_lambda_arn" in r
    ]
    assert schedule["rotation_lambda_arn"] == ref(doc, "aws_lambda_function", fn_name, "arn")
    assert schedule["rotation_rules"]["automatically_after_days"] == 30
    assert schedule["secret_id"] == permission["source_arn"]


def test_function_reaches_only_the_endpoints_and_the_writer(doc: Document, profile: str) -> None:
    token = ref(doc, "aws_security_group", "data_secret_rotation_function_security_group")
    egress = [
        r for r in resources(doc, "aws_vpc_security_group_egress_rule").values() if r["security_group_id"] == token
    ]
    targets = {path_of(r["referenced_security_group_id"].split(".")[1]): r["from_port"] for r in egress}
    port = 3306 if profile in {"web-mysql", "portal-cdn"} else 5432
    assert targets == {"foundation_endpoints_security_group": 443, "data_database_security_group": port}


def test_package_is_reproducible_and_holds_code_ca_bundle_and_drivers(synthesized: Synthesized, tmp_path: Path) -> None:
    contracts = contract_files(["rotation"])
    code = [LAMBDA_ROOT / "secret_rotation", LAMBDA_ROOT / "rds_client"]
    first = lambda_package.build(code, DRIVERS, tmp_path / "a", extra_files=contracts)
    second = lambda_package.build(code, DRIVERS, tmp_path / "b", extra_files=contracts)
    assert first.sha256_base64 == second.sha256_base64
    assert first.path.read_bytes() == second.path.read_bytes()
    names = zipfile.ZipFile(first.path).namelist()
    assert {
        "app.py",
        "engines.py",
        "rds_client.py",
        "rds-ca-bundle.pem",
        "pg8000/__init__.py",
        "pymysql/__init__.py",
        "scramp/__init__.py",
        "lib/__init__.py",
        "lib/contracts/__init__.py",
        "lib/contracts/rotation.py",  # the contract, at the import path the handler uses
    } <= set(names)
    assert not [n for n in names if n.endswith(".pyc") or "__pycache__" in n or ".dist-info" in n]
    doc = synthesized("web-mysql")
    _, fn = function(doc)
    assert fn["source_code_hash"] == first.sha256_base64
    _, artifact = signed_artifact(doc, fn)
    assert artifact["source"].startswith("assets/") and artifact["source"].endswith(".zip")


def test_package_cache_is_invalidated_by_any_changed_input(tmp_path: Path) -> None:
    source = tmp_path / "fn"
    source.mkdir()
    (source / "handler.py").write_text("VALUE = 1\n")
    first = lambda_package.build([source], (), tmp_path / "out")
    assert lambda_package.build([source], (), tmp_path / "out") == first  # reused
    (source / "handler.py").write_text("VALUE = 2\n")
    second = lambda_package.build([source], (), tmp_path / "out")
    assert second.sha256_base64 != first.sha256_base64
    assert zipfile.ZipFile(second.path).read("handler.py") == b"VALUE = 2\n"


def test_hidden_files_such_as_tool_caches_are_not_packaged(tmp_path: Path) -> None:
    source = tmp_path / "fn"
    (source / ".mypy_cache").mkdir(parents=True)
    (source / ".mypy_cache" / "cache.db").write_text("changes whenever mypy runs")
    (source / "handler.py").write_text("VALUE = 1\n")
    package = lambda_package.build([source], (), tmp_path / "out")
    assert zipfile.ZipFile(package.path).namelist() == ["handler.py"]
