"""Applies the ledger's forward-only SQL migrations at deploy (Terraform invokes it when the set changes).

One run is one database transaction under an advisory lock:
- the lock serializes runners (a second one waits, then finds nothing pending);
- every applied migration is recorded with its SHA-256, and a file changed after it was applied,
  or an applied one that has gone, stops the run before anything is applied;
- every pending migration is applied in order, then the application's login role is made a
  member of the ledger's DML role; on any failure everything is rolled back, so the database is
  either at the previous version or at the latest, never in between.

It connects to the cluster writer as the master user (RDS-managed secret), over verified TLS.
Running it again is a no-op. Secrets and SQL text are never logged.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pg8000.dbapi
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from rds_client import connect

from lib.contracts import ledger as contract

# Read once per execution environment; a missing setting stops the cold start.
SETTINGS = contract.read_settings("schema_migrations", os.environ)

logger = Logger()
MIGRATIONS = Path(__file__).with_name(contract.MIGRATIONS_DIRECTORY)
# Any fixed number, the same for every runner of every version: pg_advisory_xact_lock's key.
LOCK_KEY = 0x7A9_1ED6
ROLE = re.compile(r"[a-z_][a-z0-9_]{0,62}")
HISTORY_TABLE = """
CREATE TABLE IF NOT EXISTS public.schema_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    applied_by text NOT NULL DEFAULT session_user
)
"""

# Created once per execution environment; tests replace it.
secrets_client: Any = boto3.client("secretsmanager")


class MigrationError(Exception):
    """The migration set cannot be applied; the message is safe to log (no secrets, no SQL)."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str
    checksum: str

    @property
    def file_name(self) -> str:
        return f"{self.version:04d}_{self.name}.sql"


def load(directory: Path) -> list[Migration]:
    """The migration files in version order; a misnamed file or a gap in the numbering is an error."""
    migrations, problems = [], []
    for path in sorted(directory.iterdir()):
        match = contract.MIGRATION_FILE.fullmatch(path.name)
        if match is None:
            problems.append(f"{path.name} is not NNNN_name.sql")
            continue
        content = path.read_bytes()
        migrations.append(
            Migration(int(match["version"]), match["name"], content.decode(), hashlib.sha256(content).hexdigest())
        )
    versions = [m.version for m in migrations]
    if versions != list(range(1, len(migrations) + 1)):
        problems.append(f"versions must run 1, 2, 3... without gaps or repeats; found {versions}")
    if problems:
        raise MigrationError("; ".join(problems))
    return migrations


def set_hash(migrations: list[Migration]) -> str:
    return contract.migration_set_hash((m.file_name, m.sql.encode()) for m in migrations)


def migrate(connection: Any, migrations: list[Migration], grantee: str) -> list[int]:
    """Applies what is pending in one transaction; returns the versions applied (empty when none)."""
    if not ROLE.fullmatch(grantee):
        raise MigrationError(f"grantee {grantee!r} is not a lowercase role name")
    cursor = connection.cursor()
    try:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
        cursor.execute(HISTORY_TABLE)
        cursor.execute("SELECT version, name, checksum FROM public.schema_migrations ORDER BY version")
        applied = {int(version): (name, checksum) for version, name, checksum in cursor.fetchall()}
        _check_history(applied, migrations)
        pending = [m for m in migrations if m.version not in applied]
        for migration in pending:
            try:
                cursor.execute(migration.sql)
            except pg8000.dbapi.DatabaseError as error:
                raise MigrationError(f"{migration.file_name} failed: {_brief(error)}") from None
            cursor.execute("RESET ROLE")  # a migration may act as the schema owner
            cursor.execute(
                "INSERT INTO public.schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                (migration.version, migration.name, migration.checksum),
            )
        _grant_application(cursor, grantee)
        connection.commit()
    except BaseException:
        connection.rollback()
        raise
    return [m.version for m in pending]


def _check_history(applied: dict[int, tuple[str, str]], migrations: list[Migration]) -> None:
    on_disk = {m.version: m for m in migrations}
    problems = []
    for version, (name, checksum) in sorted(applied.items()):
        migration = on_disk.get(version)
        if migration is None:
            problems.append(f"applied migration {version:04d}_{name} is missing (migrations are forward-only)")
        elif migration.checksum != checksum or migration.name != name:
            problems.append(
                f"{migration.file_name} was changed after it was applied (recorded sha256 {checksum[:12]}..., "
                f"now {migration.checksum[:12]}...); add a new migration instead"
            )
    if problems:
        raise MigrationError("; ".join(problems))


def _grant_application(cursor: Any, grantee: str) -> None:
    """The application's login roles act as `grantee` (created here if rotation has not yet)."""
    cursor.execute("SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = %s", (grantee,))
    if cursor.fetchone() is None:
        cursor.execute(f'CREATE ROLE "{grantee}" NOLOGIN')
    cursor.execute(f'GRANT {contract.APPLICATION_ROLE} TO "{grantee}"')


def _brief(error: Exception) -> str:
    """The server's SQLSTATE and message, without statement text."""
    details = error.args[0] if error.args and isinstance(error.args[0], dict) else {}
    return f"{details.get('C', '?')} {details.get('M', type(error).__name__)}"[:300]


def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Input {"migration_set": <hash>} from the stack; refuses a set it was not shipped with."""
    migrations = load(MIGRATIONS)
    shipped = set_hash(migrations)
    if event.get(contract.MIGRATION_SET_INPUT) != shipped:
        raise MigrationError("the requested migration set is not the one this function was deployed with")
    secret = json.loads(secrets_client.get_secret_value(SecretId=SETTINGS[contract.MASTER_SECRET_ARN])["SecretString"])
    connection = connect(
        host=SETTINGS[contract.DATABASE_HOST],
        port=int(SETTINGS[contract.DATABASE_PORT]),
        user=str(secret["username"]),
        password=str(secret["password"]),
        database=SETTINGS[contract.DATABASE_NAME],
    )
    try:
        applied = migrate(connection, migrations, SETTINGS[contract.APPLICATION_GRANTEE])
    finally:
        connection.close()
    logger.info("migrations applied" if applied else "schema up to date", extra={"applied": applied})
    return {"applied": applied, "version": migrations[-1].version, contract.MIGRATION_SET_INPUT: shipped}
