"""The ledger's contract: its migration files, their set hash, and the database functions' settings.

Dependency-free: packaged into the migration and ledger-writing zips as `lib/contracts/ledger.py`.
The stack hashes the migration set to re-run the migration function when it changes; the
function hashes what it was shipped with and refuses to run a set it was not deployed for.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping

from lib.contracts import required

# Migrations: `NNNN_name.sql`, numbered from 0001 without gaps, forward-only.
MIGRATION_FILE = re.compile(r"(?P<version>[0-9]{4})_(?P<name>[a-z0-9_]+)\.sql")
MIGRATIONS_DIRECTORY = "migrations"
# The roles the migrations create: the schema's owner, and the application's DML-only role.
OWNER_ROLE = "ledger_owner"
APPLICATION_ROLE = "ledger_app"
SCHEMA = "ledger"

# Environment variables the stack sets.
DATABASE_HOST = "DATABASE_HOST"
DATABASE_PORT = "DATABASE_PORT"
DATABASE_NAME = "DATABASE_NAME"
DATABASE_USER = "DATABASE_USER"
MASTER_SECRET_ARN = "MASTER_SECRET_ARN"  # noqa: S105 - a variable name, not a secret
# The login roles' shared role (the rotation's `<user>_owner`), made a member of APPLICATION_ROLE.
APPLICATION_GRANTEE = "LEDGER_APPLICATION_GRANTEE"
SERVICE_NAME = "POWERTOOLS_SERVICE_NAME"

REQUIRED_SETTINGS: Mapping[str, tuple[str, ...]] = {
    "schema_migrations": (
        DATABASE_HOST,
        DATABASE_PORT,
        DATABASE_NAME,
        MASTER_SECRET_ARN,
        APPLICATION_GRANTEE,
        SERVICE_NAME,
    ),
}

# The migration function's input: {"migration_set": <hash>}.
MIGRATION_SET_INPUT = "migration_set"


def migration_set_hash(files: Iterable[tuple[str, bytes]]) -> str:
    """SHA-256 over every (file name, content digest), in name order: any added or changed file changes it."""
    digest = hashlib.sha256()
    for name, content in sorted(files):
        digest.update(f"{name}\0{hashlib.sha256(content).hexdigest()}\n".encode())
    return digest.hexdigest()


def read_settings(function: str, environ: Mapping[str, str]) -> dict[str, str]:
    """The function's required settings from `environ`; every missing one is named at once."""
    return required(function, REQUIRED_SETTINGS[function], environ)
