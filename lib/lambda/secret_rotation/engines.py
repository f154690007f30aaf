"""Database user management for rotation, over verified TLS only.

Every connection verifies the server certificate against the CA bundle shipped with the
function (Amazon RDS's CA bundle, from `rds_client`); there is no plaintext fallback. Statements that change users are
idempotent, so any step can be re-run after a crash.

PostgreSQL: application users are members of one NOLOGIN owner role and log in with their
session role set to it, so objects created by either alternating user belong to the owner role
and stay usable by both.
MySQL/MariaDB: users are created at host '%' requiring SSL; a clone receives the base
application grants plus the original user's grants, never WITH GRANT OPTION.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import pg8000.dbapi
import pymysql
from rds_client import CONNECT_TIMEOUT_SECONDS, tls_context

IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]{0,62}")
# Generated passwords are letters and digits only; anything else is refused before use in DDL.
PASSWORD = re.compile(r"[A-Za-z0-9]{16,128}")


class RotationError(Exception):
    """A rotation step cannot complete; the message is safe to log (no secrets)."""


@dataclass(frozen=True)
class Credentials:
    engine: str
    host: str
    port: int
    dbname: str
    username: str
    password: str

    @classmethod
    def from_secret(cls, secret: dict[str, Any]) -> Credentials:
        missing = [k for k in ("engine", "host", "username", "password", "dbname") if not secret.get(k)]
        if missing:
            raise RotationError(f"secret is missing {missing}")
        engine = str(secret["engine"])
        if engine not in ENGINES:
            raise RotationError(f"unsupported engine {engine!r}; supported: {sorted(ENGINES)}")
        if not IDENTIFIER.fullmatch(str(secret["username"])):
            raise RotationError("username must be a lowercase identifier")
        port = int(secret.get("port") or ENGINES[engine].default_port)
        return cls(
            engine, str(secret["host"]), port, str(secret["dbname"]), str(secret["username"]), str(secret["password"])
        )


def checked_password(password: str) -> str:
    if not PASSWORD.fullmatch(password):
        raise RotationError("refusing a password outside [A-Za-z0-9]{16,128}")
    return password


class Engine(Protocol):
    default_port: int

    def connect(self, creds: Credentials) -> Any: ...

    def ensure_user(self, admin: Any, username: str, password: str, dbname: str, template_user: str | None) -> None: ...

    def set_own_password(self, connection: Any, username: str, password: str) -> None: ...

    def user_exists(self, connection: Any, username: str) -> bool: ...


class Postgres:
    default_port = 5432

    def connect(self, creds: Credentials) -> Any:
        try:
            return pg8000.dbapi.connect(
                user=creds.username,
                password=creds.password,
                host=creds.host,
                port=creds.port,
                database=creds.dbname,
                ssl_context=tls_context(),
                timeout=CONNECT_TIMEOUT_SECONDS,
            )
        except Exception as error:
            raise RotationError(
                f"cannot connect to {creds.host}:{creds.port} as {creds.username}: {type(error).__name__}: {_brief(error)}"
            ) from None

    @staticmethod
    def owner_role(username: str) -> str:
        return f"{username.removesuffix('_clone')}_owner"

    def user_exists(self, connection: Any, username: str) -> bool:
        cursor = connection.cursor()
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (username,))
        return cursor.fetchone() is not None

    def ensure_user(self, admin: Any, username: str, password: str, dbname: str, template_user: str | None) -> None:
        owner = self.owner_role(username)
        cursor = admin.cursor()
        if not self.user_exists(admin, owner):
            cursor.execute(f'CREATE ROLE "{owner}" NOLOGIN')
        cursor.execute(f'GRANT CONNECT, TEMPORARY, CREATE ON DATABASE "{dbname}" TO "{owner}"')
        cursor.execute(f'GRANT USAGE, CREATE ON SCHEMA public TO "{owner}"')
        literal = "'" + checked_password(password) + "'"
        verb = "ALTER" if self.user_exists(admin, username) else "CREATE"
        cursor.execute(f'{verb} ROLE "{username}" WITH LOGIN PASSWORD {literal}')
        cursor.execute(f'GRANT "{owner}" TO "{username}"')
        cursor.execute(f'ALTER ROLE "{username}" SET role = "{owner}"')
        if template_user and template_user != username and self.user_exists(admin, template_user):
            # Other memberships the original was given by operators.
            cursor.execute(
                "SELECT r.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid "
                "JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = %s",
                (template_user,),
            )
            for (role,) in cursor.fetchall():
                if IDENTIFIER.fullmatch(role):
                    cursor.execute(f'GRANT "{role}" TO "{username}"')
        admin.commit()

    def set_own_password(self, connection: Any, username: str, password: str) -> None:
        literal = "'" + checked_password(password) + "'"
        cursor = connection.cursor()
        # Sessions run as the owner role; a role may change only its own password.
        cursor.execute("SET ROLE NONE")
        cursor.execute(f'ALTER ROLE "{username}" WITH PASSWORD {literal}')
        connection.commit()


BASE_MYSQL_PRIVILEGES = (
    "SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX, DROP, CREATE TEMPORARY TABLES, LOCK TABLES, EXECUTE"
)
GRANT_LINE = re.compile(r"^GRANT (?P<what>.+?) ON (?P<on>\S+) TO [`'\"]?(?P<user>[^`'\"@]+)[`'\"]?@\S+", re.IGNORECASE)


class MySQL:
    default_port = 3306

    def connect(self, creds: Credentials) -> Any:
        try:
            return pymysql.connect(
                user=creds.username,
                password=creds.password,
                host=creds.host,
                port=creds.port,
                database=creds.dbname,
                ssl=tls_context(),
                connect_timeout=CONNECT_TIMEOUT_SECONDS,
                autocommit=True,
            )
        except Exception as error:
            raise RotationError(
                f"cannot connect to {creds.host}:{creds.port} as {creds.username}: {type(error).__name__}: {_brief(error)}"
            ) from None

    def user_exists(self, connection: Any, username: str) -> bool:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM mysql.user WHERE user = %s AND host = '%%'", (username,))
            return cursor.fetchone() is not None

    def ensure_user(self, admin: Any, username: str, password: str, dbname: str, template_user: str | None) -> None:
        checked_password(password)
        with admin.cursor() as cursor:
            cursor.execute("CREATE USER IF NOT EXISTS %s@'%%' IDENTIFIED BY %s REQUIRE SSL", (username, password))
            cursor.execute("ALTER USER %s@'%%' IDENTIFIED BY %s REQUIRE SSL", (username, password))
            cursor.execute(f"GRANT {BASE_MYSQL_PRIVILEGES} ON `{dbname}`.* TO %s@'%%'", (username,))
            if template_user and template_user != username and self.user_exists(admin, template_user):
                cursor.execute("SHOW GRANTS FOR %s@'%%'", (template_user,))
                for (line,) in cursor.fetchall():
                    match = GRANT_LINE.match(line)
                    # USAGE carries only the (hashed) password; proxied grants cannot be cloned.
                    if match is None or match["what"].upper() == "USAGE" or "PROXY" in match["what"].upper():
                        continue
                    cursor.execute(f"GRANT {match['what']} ON {match['on']} TO %s@'%%'", (username,))

    def set_own_password(self, connection: Any, username: str, password: str) -> None:
        """Without CREATE USER: MariaDB takes SET PASSWORD, MySQL 8 (Aurora MySQL 3) ALTER USER USER()."""
        checked_password(password)
        with connection.cursor() as cursor:
            cursor.execute("SELECT VERSION()")
            if "mariadb" in str(cursor.fetchone()[0]).lower():
                cursor.execute("SET PASSWORD = PASSWORD(%s)", (password,))
            else:
                cursor.execute("ALTER USER USER() IDENTIFIED BY %s", (password,))


ENGINES: dict[str, Engine] = {"postgres": Postgres(), "mysql": MySQL(), "mariadb": MySQL()}


def engine_for(creds: Credentials) -> Engine:
    return ENGINES[creds.engine]


@contextmanager
def connection(creds: Credentials) -> Iterator[Any]:
    conn = engine_for(creds).connect(creds)
    try:
        yield conn
    finally:
        conn.close()


def can_log_in(creds: Credentials) -> bool:
    try:
        with connection(creds) as conn:
            cursor = conn.cursor()
            cursor.execute("SELECT 1")
            cursor.fetchall()
        return True
    except RotationError:
        return False


def _brief(error: Exception) -> str:
    """The driver's message without anything that could echo a password."""
    text = str(error).splitlines()[0] if str(error) else ""
    return re.sub(r"(?i)password\S*\s*\S+", "password ***", text)[:200]
