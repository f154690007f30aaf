"""The ledger on the real PostgreSQL server of the rotation tests (TLS, test CA): a fresh database per test."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import pg8000.dbapi
import pytest

from lib.contracts import ledger as contract
from tests.handlers import import_handler
from tests.lambdas.conftest import Servers
from tests.lambdas.db_servers import ADMIN_USER, DATABASE, LocalCA

MIGRATION_SETTINGS = {
    contract.DATABASE_HOST: "localhost",
    contract.DATABASE_PORT: "5432",
    contract.DATABASE_NAME: "transactions",
    contract.MASTER_SECRET_ARN: "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!cluster-test",
    contract.APPLICATION_GRANTEE: "tap_app_owner",
    contract.SERVICE_NAME: "schema-migrations",
}
rds_client = import_handler("rds_client", ["rds_client"], {})
schema_migrations = import_handler("schema_migrations", ["schema_migrations", "rds_client"], MIGRATION_SETTINGS)
GRANTEE = MIGRATION_SETTINGS[contract.APPLICATION_GRANTEE]
_databases = itertools.count(1)


class Database:
    """One database on the test server, and connections to it over verified TLS."""

    def __init__(self, port: int, admin_password: str, name: str) -> None:
        self.port, self.admin_password, self.name = port, admin_password, name

    def connect(self, user: str = ADMIN_USER, password: str | None = None) -> Any:
        return rds_client.connect(
            host="localhost",
            port=self.port,
            user=user,
            password=password or self.admin_password,
            database=self.name,
        )

    def query(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        connection = self.connect()
        try:
            cursor = connection.cursor()
            cursor.execute(sql, args)
            rows = [tuple(row) for row in cursor.fetchall()] if cursor.description else []
            connection.commit()
            return rows
        finally:
            connection.close()

    def migrate(self, migrations: list[Any] | None = None) -> list[int]:
        connection = self.connect()
        try:
            applied: list[int] = schema_migrations.migrate(
                connection, migrations or schema_migrations.load(schema_migrations.MIGRATIONS), GRANTEE
            )
            return applied
        finally:
            connection.close()


@pytest.fixture(autouse=True)
def test_ca_trusted(monkeypatch: pytest.MonkeyPatch, test_ca: LocalCA) -> None:
    monkeypatch.setattr(rds_client, "CA_BUNDLE", test_ca.ca_cert)


@pytest.fixture
def new_database(servers: Servers, test_ca: LocalCA) -> Callable[[], Database]:
    server = servers.get("postgres")

    def create() -> Database:
        name = f"ledger_{next(_databases)}"
        admin = pg8000.dbapi.connect(
            user=ADMIN_USER,
            password=server.admin_password,
            host="127.0.0.1",
            port=server.port,
            database=DATABASE,
            ssl_context=__import__("ssl").create_default_context(cafile=str(test_ca.ca_cert)),
        )
        admin.autocommit = True
        admin.cursor().execute(f"CREATE DATABASE {name}")
        admin.close()
        return Database(server.port, server.admin_password, name)

    return create


@pytest.fixture
def database(new_database: Callable[[], Database]) -> Iterator[Database]:
    yield new_database()
