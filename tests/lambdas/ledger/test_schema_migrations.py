"""The migration runner on real PostgreSQL over TLS: empty to latest, re-run, concurrency, tampering, rollback."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from lib.contracts import ledger as contract
from tests.handlers import REGION
from tests.lambdas.db_servers import ADMIN_USER
from tests.lambdas.ledger.conftest import GRANTEE, MIGRATION_SETTINGS, Database, schema_migrations

Migration, MigrationError = schema_migrations.Migration, schema_migrations.MigrationError
SHIPPED = schema_migrations.load(schema_migrations.MIGRATIONS)
LEDGER_TABLES = {"accounts", "transactions", "transaction_status_history", "entries", "outbox"}


def migration(version: int, name: str, sql: str) -> Any:
    return Migration(version, name, sql, hashlib.sha256(sql.encode()).hexdigest())


def history(database: Database) -> list[tuple[Any, ...]]:
    return database.query("SELECT version, name, checksum, applied_at FROM public.schema_migrations ORDER BY version")


def ledger_tables(database: Database) -> dict[str, str]:
    rows = database.query("SELECT tablename, tableowner FROM pg_catalog.pg_tables WHERE schemaname = 'ledger'")
    return dict(rows)  # type: ignore[arg-type]


def test_empty_database_reaches_the_latest_version_with_checksums(database: Database) -> None:
    assert database.migrate() == [1, 2, 3]
    assert [(v, n, c) for v, n, c, _ in history(database)] == [(m.version, m.name, m.checksum) for m in SHIPPED]
    assert ledger_tables(database) == dict.fromkeys(LEDGER_TABLES, contract.OWNER_ROLE)
    assert database.query("SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = 'ledger'") == [
        (contract.OWNER_ROLE,)
    ]


def test_application_role_gets_dml_only_and_entries_are_append_only(database: Database) -> None:
    database.migrate()
    privileges = {
        table: {
            privilege
            for privilege in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")
            if database.query("SELECT has_table_privilege(%s, %s, %s)", GRANTEE, f"ledger.{table}", privilege)[0][0]
        }
        for table in LEDGER_TABLES
    }
    assert privileges == {
        "accounts": {"SELECT", "INSERT", "UPDATE"},
        "transactions": {"SELECT", "INSERT", "UPDATE"},
        "outbox": {"SELECT", "INSERT", "UPDATE"},
        "entries": {"SELECT", "INSERT"},
        "transaction_status_history": {"SELECT"},
    }
    assert database.query("SELECT has_schema_privilege(%s, 'ledger', 'CREATE')", GRANTEE) == [(False,)]
    assert database.query("SELECT pg_has_role(%s, %s, 'MEMBER')", GRANTEE, contract.OWNER_ROLE) == [(False,)]


def test_rerun_is_a_no_op(database: Database) -> None:
    database.migrate()
    before = history(database)
    assert database.migrate() == []
    assert history(database) == before


def test_two_runners_at_once_apply_exactly_once(new_database: Callable[[], Database]) -> None:
    database = new_database()
    start, results, errors = threading.Barrier(2), list[list[int]](), list[BaseException]()

    def run() -> None:
        try:
            start.wait()
            results.append(database.migrate())
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(results) == [[], [1, 2, 3]]
    assert [row[0] for row in history(database)] == [1, 2, 3]


def test_a_file_changed_after_it_was_applied_is_refused_and_nothing_else_applies(database: Database) -> None:
    database.migrate()
    tampered = [
        SHIPPED[0],
        migration(2, SHIPPED[1].name, SHIPPED[1].sql.replace("CHECK (amount > 0)", "CHECK (amount >= 0)")),
        migration(4, "later", "CREATE TABLE public.later (id integer)"),
    ]
    with pytest.raises(MigrationError, match=r"0002_double_entry_ledger\.sql was changed after it was applied"):
        database.migrate(tampered)
    assert [row[0] for row in history(database)] == [1, 2, 3]
    assert database.query("SELECT to_regclass('public.later') IS NULL") == [(True,)]


def test_an_applied_migration_that_disappeared_is_refused(database: Database) -> None:
    database.migrate()
    with pytest.raises(MigrationError, match="applied migration 0002_double_entry_ledger is missing"):
        database.migrate(SHIPPED[:1])


def test_a_failing_migration_rolls_back_everything_of_the_run(database: Database) -> None:
    failing = [*SHIPPED, migration(4, "broken", "CREATE TABLE public.half (id integer); SELECT 1 / 0;")]
    with pytest.raises(MigrationError, match=r"0004_broken.sql failed: 22012 division by zero"):
        database.migrate(failing)
    assert database.query("SELECT to_regclass('public.schema_migrations') IS NULL") == [(True,)]
    assert database.query("SELECT count(*) FROM pg_namespace WHERE nspname = 'ledger'") == [(0,)]
    assert database.query("SELECT to_regclass('public.half') IS NULL") == [(True,)]
    assert database.migrate() == [1, 2, 3]  # and the good set still applies afterwards


def test_a_later_migration_applies_alone(database: Database) -> None:
    database.migrate()
    assert database.migrate([*SHIPPED, migration(4, "later", "CREATE TABLE public.later (id integer)")]) == [4]


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (["0001_a.sql", "0003_c.sql"], r"without gaps or repeats; found \[1, 3\]"),
        (["0001_a.sql", "0002_B.sql"], "0002_B.sql is not NNNN_name.sql"),
        (["0001_a.sql", "0001_b.sql"], r"found \[1, 1\]"),
    ],
)
def test_misnumbered_or_misnamed_files_are_refused(tmp_path: Path, files: list[str], message: str) -> None:
    for name in files:
        (tmp_path / name).write_text("SELECT 1;")
    with pytest.raises(MigrationError, match=message):
        schema_migrations.load(tmp_path)


def test_grantee_must_be_a_role_name(database: Database) -> None:
    with pytest.raises(MigrationError, match="is not a lowercase role name"):
        schema_migrations.migrate(database.connect(), SHIPPED, 'x"; DROP SCHEMA public; --')


def test_shipped_set_hash_is_the_contract_hash_of_the_files() -> None:
    files = [(path.name, path.read_bytes()) for path in schema_migrations.MIGRATIONS.iterdir()]
    assert schema_migrations.set_hash(SHIPPED) == contract.migration_set_hash(files)
    assert contract.migration_set_hash(
        [*files[:-1], (files[-1][0], files[-1][1] + b" ")]
    ) != contract.migration_set_hash(files)


@pytest.fixture
def master_secret(database: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    """The RDS-managed master secret in emulated Secrets Manager, pointing the handler at `database`."""
    with mock_aws():
        client = boto3.client("secretsmanager", region_name=REGION)
        arn = client.create_secret(
            Name="rds!cluster-test",
            SecretString=json.dumps({"username": ADMIN_USER, "password": database.admin_password}),
        )["ARN"]
        monkeypatch.setattr(schema_migrations, "secrets_client", client)
        monkeypatch.setitem(
            schema_migrations.SETTINGS,
            contract.DATABASE_PORT,
            str(database.port),
        )
        monkeypatch.setitem(schema_migrations.SETTINGS, contract.DATABASE_NAME, database.name)
        monkeypatch.setitem(schema_migrations.SETTINGS, contract.MASTER_SECRET_ARN, arn)
        yield database


def test_handler_applies_the_set_it_was_deployed_with(master_secret: Database) -> None:
    shipped = schema_migrations.set_hash(SHIPPED)
    event = {contract.MIGRATION_SET_INPUT: shipped}
    assert schema_migrations.handler(event, None) == {"applied": [1, 2, 3], "version": 3, "migration_set": shipped}
    assert schema_migrations.handler(event, None)["applied"] == []


def test_handler_refuses_another_set(master_secret: Database) -> None:
    with pytest.raises(MigrationError, match="not the one this function was deployed with"):
        schema_migrations.handler({contract.MIGRATION_SET_INPUT: "0" * 64}, None)
    assert master_secret.query("SELECT to_regclass('public.schema_migrations') IS NULL") == [(True,)]


def test_settings_match_the_contract() -> None:
    assert set(MIGRATION_SETTINGS) == set(contract.REQUIRED_SETTINGS["schema_migrations"])
