"""The ledger schema as deployed: the migration function, its network path and IAM, and the deploy-time invocation."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from lib.contracts import ledger as contract
from lib.core import packaging as lambda_package
from lib.core.function import LAMBDA_ROOT, contract_files
from lib.data import ledger
from lib.data.rotation import POSTGRES_DRIVER
from tests.conftest import SUFFIX, Document, Synthesized, iter_statements, path_of, policy, ref, resources
from tests.lambdas.test_secret_rotation import engines  # the rotation's own role naming

LEDGER_PROFILES = {"transactions-pg", "secure-platform", "full"}
FUNCTION = "data_ledger_function"


def test_ledger_is_built_exactly_where_the_profile_turns_it_on(doc: Document, profile: str) -> None:
    invocations = resources(doc, "aws_lambda_invocation")
    assert (profile in LEDGER_PROFILES) == bool(invocations)
    assert (profile in LEDGER_PROFILES) == ("ledger_migration_set" in doc.get("output", {}))


@pytest.fixture(params=sorted(LEDGER_PROFILES))
def ledger_doc(request: pytest.FixtureRequest, synthesized: Synthesized) -> Document:
    return synthesized(str(request.param))


def test_invocation_reruns_when_the_migration_set_changes_and_waits_for_the_path(ledger_doc: Document) -> None:
    (invocation,) = resources(ledger_doc, "aws_lambda_invocation").values()
    expected = ledger.migration_set_hash()
    assert invocation["triggers"] == {contract.MIGRATION_SET_INPUT: expected}
    assert json.loads(invocation["input"]) == {contract.MIGRATION_SET_INPUT: expected}
    assert invocation["function_name"] == ref(ledger_doc, "aws_lambda_function", FUNCTION, "function_name")
    waits_for = {path_of(d.split(".")[1]) for d in invocation["depends_on"]}
    assert {"data_database_instance_0", "data_database_migrations_to_database_ingress"} <= waits_for
    assert "data_database_migrations_to_database_egress" in waits_for


def test_the_hash_changes_with_any_migration_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for path in ledger.MIGRATIONS.iterdir():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    monkeypatch.setattr(ledger, "MIGRATIONS", tmp_path)
    shipped = ledger.migration_set_hash()
    (tmp_path / "0002_double_entry_ledger.sql").write_text("-- changed\n", encoding="utf-8")
    changed = ledger.migration_set_hash()
    (tmp_path / "0003_more.sql").write_text("SELECT 1;\n", encoding="utf-8")
    assert len({shipped, changed, ledger.migration_set_hash()}) == 3


def test_function_reaches_only_the_writer_and_reads_only_the_master_secret(ledger_doc: Document) -> None:
    fn = resources(ledger_doc, "aws_lambda_function")[FUNCTION]
    assert fn["function_name"].endswith(f"schema-migrations-{SUFFIX}")
    assert fn["handler"] == "schema_migrations.handler" and fn["reserved_concurrent_executions"] == 1
    variables = fn["environment"]["variables"]
    assert variables[contract.DATABASE_HOST] == ref(ledger_doc, "aws_rds_cluster", "data_database_cluster", "endpoint")
    assert variables[contract.APPLICATION_GRANTEE] == "tap_app_owner"
    assert not any("password" in k.lower() for k in variables)
    group = ref(ledger_doc, "aws_security_group", "data_ledger_function_security_group")
    egress = [
        r
        for r in resources(ledger_doc, "aws_vpc_security_group_egress_rule").values()
        if r["security_group_id"] == group
    ]
    targets = {path_of(r["referenced_security_group_id"].split(".")[1]): r["from_port"] for r in egress}
    assert targets == {"foundation_endpoints_security_group": 443, "data_database_security_group": 5432}
    (role_policy,) = [
        p for n, p in resources(ledger_doc, "aws_iam_role_policy").items() if n.startswith("data_ledger_function_role")
    ]
    statements = {s["Sid"]: s for s in iter_statements(policy(role_policy))}
    assert statements["ReadTheMasterSecret"] == {
        "Sid": "ReadTheMasterSecret",
        "Effect": "Allow",
        "Action": ["secretsmanager:GetSecretValue"],
        "Resource": "${aws_rds_cluster."
        + ref(ledger_doc, "aws_rds_cluster", "data_database_cluster").split(".")[1]
        + ".master_user_secret[0].secret_arn}",
    }
    key = statements["MasterSecretKeyThroughSecretsManager"]
    assert key["Resource"] == ref(ledger_doc, "aws_kms_key", "foundation_keys_database", "arn")
    assert key["Condition"]["StringEquals"]["kms:ViaService"].startswith("secretsmanager.")


def test_grantee_is_the_rotation_owner_role() -> None:
    assert ledger.application_grantee("tap_app") == engines.Postgres.owner_role("tap_app")
    assert ledger.application_grantee("tap_app") == engines.Postgres.owner_role("tap_app_clone")


def test_package_holds_the_migrations_the_tls_client_and_the_driver(tmp_path: Path) -> None:
    package = lambda_package.build(
        [LAMBDA_ROOT / "schema_migrations", LAMBDA_ROOT / "rds_client"],
        POSTGRES_DRIVER,
        tmp_path,
        extra_files=contract_files(["ledger"]),
    )
    names = set(zipfile.ZipFile(package.path).namelist())
    migrations = {f"migrations/{p.name}" for p in ledger.MIGRATIONS.iterdir()}
    assert {"schema_migrations.py", "rds_client.py", "rds-ca-bundle.pem", "lib/contracts/ledger.py"} <= names
    assert migrations <= names and "pg8000/__init__.py" in names and "pymysql/__init__.py" not in names
