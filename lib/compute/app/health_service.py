"""TAP's health service: the application the compute tier's instances run behind the load balancer.

- `GET /health` answers 200 only when the database answers `SELECT 1` over TLS, its certificate
  and host name verified against the shipped RDS CA bundle, with the login read from Secrets
  Manager at start and read again after a refused login (a rotation). Otherwise 503 with a JSON
  reason that never holds a secret. Every check finishes within CHECK_TIMEOUT_SECONDS, well inside
  the target group's 5 s timeout, whatever the database does.
- `GET /version` answers the blue/green colour and the build.
- It speaks HTTPS (TLS 1.2+) when given a certificate (`TAP_TLS_CERT`, `TAP_TLS_KEY`): the user
  data generates one on the instance, so traffic from the load balancer is encrypted too. The
  handshake runs in the request's thread, so a client that never finishes one holds no other.
- Every log line is JSON, with anything card-number-like masked (`card_data.py`, shared with the
  payment functions).

Why the standard library's `http.server`: two read-only routes need no framework, and every
dependency would be one more package to patch on a PCI host. The pure-Python drivers (pg8000,
PyMySQL) come with the artifact; the secret is read with the AWS CLI that Amazon Linux 2023
ships, so the artifact carries no SDK.
"""

from __future__ import annotations

import concurrent.futures
import json
import logging
import os
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from card_data import mask_pans

from lib.contracts import health as contract

CHECK_TIMEOUT_SECONDS = 3.0
# A check's answer serves every request for this long (the load balancer's nodes ask every 30 s).
RESULT_SECONDS = 2.0
# After a refused login the secret is read again, at most this often.
SECRET_REREAD_SECONDS = 30.0
# Each database step (connect, TLS, query) may take this long; the whole check is bounded above.
SOCKET_TIMEOUT_SECONDS = 2.0
CA_BUNDLE = Path(__file__).with_name("rds-ca-bundle.pem")
AWS_CLI = "/usr/bin/aws"  # AWS CLI v2, preinstalled on Amazon Linux 2023
# Refused logins: PostgreSQL's SQLSTATEs (invalid password, invalid authorization), MySQL's 1045.
POSTGRES_REFUSED = frozenset({"28P01", "28000"})
MYSQL_ACCESS_DENIED = 1045

logger = logging.getLogger("tap.health")


class LoginRefused(Exception):
    """The database refused the login: the secret may have been rotated."""


class UnsupportedEngine(Exception):
    """The secret names an engine this service has no driver for."""


class SecretUnreadable(Exception):
    """The secret could not be read or holds no usable login."""


def reason_for(error: Exception) -> str:
    """Why the check failed, in words safe to answer and log (no host, user or password)."""
    if isinstance(error, LoginRefused):
        return "the database refused the login, even after reading the secret again"
    if isinstance(error, UnsupportedEngine):
        return f"unsupported engine {error.args[0]!r}"
    if isinstance(error, SecretUnreadable):
        return "the database secret could not be read"
    causes = (error, error.__cause__ or error.__context__)
    if any(isinstance(cause, ssl.SSLError) for cause in causes):
        return "TLS verification failed"
    if any(isinstance(cause, TimeoutError) for cause in causes):
        return f"the database did not answer within {SOCKET_TIMEOUT_SECONDS:g} s"
    return f"the database is unavailable ({type(error).__name__})"


@dataclass(frozen=True)
class Login:
    engine: str
    host: str
    port: int
    dbname: str
    username: str
    password: str = field(repr=False)

    @classmethod
    def from_secret(cls, secret: Mapping[str, Any]) -> Login:
        engine = str(secret["engine"])
        default_port = 5432 if engine in ("postgres", "aurora-postgresql") else 3306
        return cls(
            engine=engine,
            host=str(secret["host"]),
            port=int(secret.get("port") or default_port),
            dbname=str(secret.get("dbname") or ""),
            username=str(secret["username"]),
            password=str(secret["password"]),
        )


def tls_context(ca_bundle: Path) -> ssl.SSLContext:
    """Certificate and host name verified against the bundle; TLS 1.2 at least."""
    context = ssl.create_default_context(cafile=str(ca_bundle))
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def query_postgres(login: Login, context: ssl.SSLContext) -> None:
    import pg8000.dbapi  # noqa: PLC0415 - only the engine in use is imported

    try:
        connection = pg8000.dbapi.connect(
            user=login.username,
            password=login.password,
            host=login.host,
            port=login.port,
            database=login.dbname or None,
            ssl_context=context,
            timeout=SOCKET_TIMEOUT_SECONDS,
        )
    except pg8000.dbapi.DatabaseError as error:
        code = error.args[0].get("C") if error.args and isinstance(error.args[0], dict) else None
        if code in POSTGRES_REFUSED:
            raise LoginRefused from None
        raise
    try:
        cursor = connection.cursor()
        cursor.execute("SELECT 1")
        cursor.fetchone()
    finally:
        connection.close()


def query_mysql(login: Login, context: ssl.SSLContext) -> None:
    import pymysql  # noqa: PLC0415 - only the engine in use is imported

    try:
        connection = pymysql.connect(
            user=login.username,
            password=login.password,
            host=login.host,
            port=login.port,
            database=login.dbname or None,
            ssl=context,
            connect_timeout=SOCKET_TIMEOUT_SECONDS,
            read_timeout=SOCKET_TIMEOUT_SECONDS,
            write_timeout=SOCKET_TIMEOUT_SECONDS,
        )
    except pymysql.err.OperationalError as error:
        if error.args and error.args[0] == MYSQL_ACCESS_DENIED:
            raise LoginRefused from None
        raise
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    finally:
        connection.close()


QUERIES: dict[str, Callable[[Login, ssl.SSLContext], None]] = {
    "postgres": query_postgres,
    "aurora-postgresql": query_postgres,
    "mysql": query_mysql,
    "mariadb": query_mysql,
    "aurora-mysql": query_mysql,
}


def cli_secret_reader(secret_id: str, region: str, cli: str = AWS_CLI) -> Callable[[], Mapping[str, Any]]:
    """Reads the secret's finished version (AWSCURRENT) with the AWS CLI, under the instance role."""

    def read() -> Mapping[str, Any]:
        completed = subprocess.run(  # noqa: S603 - fixed arguments, no shell
            [
                cli,
                "secretsmanager",
                "get-secret-value",
                "--region",
                region,
                "--secret-id",
                secret_id,
                "--version-stage",
                "AWSCURRENT",
                "--query",
                "SecretString",
                "--output",
                "text",
            ],
            capture_output=True,
            text=True,
            timeout=SOCKET_TIMEOUT_SECONDS * 2,
            check=False,
            # The CLI is a Python program of its own: none of this service's Python settings.
            env={name: value for name, value in os.environ.items() if not name.startswith("PYTHON")},
        )
        if completed.returncode != 0:
            raise RuntimeError(f"the secret could not be read (aws exit {completed.returncode})")
        value: Mapping[str, Any] = json.loads(completed.stdout)
        return value

    return read


class Metrics:
    """Document 003's performance metrics as log lines in CloudWatch's embedded metric format:
    CloudWatch Logs extracts the metrics from the lines the agent ships (the `x-amzn-logs-format`
    header is optional, per "Using the PutLogEvents API to send manually-created embedded metric
    format logs"), so the service needs no SDK and no route to the monitoring endpoint."""

    def __init__(self, service: str) -> None:
        self.service = service

    def publish(self, name: str, milliseconds: float) -> None:
        definition = {"Namespace": contract.NAMESPACE, "Dimensions": [[contract.SERVICE_DIMENSION]]}
        document = {
            "_aws": {
                "Timestamp": int(time.time() * 1000),
                "CloudWatchMetrics": [{**definition, "Metrics": [{"Name": name, "Unit": "Milliseconds"}]}],
            },
            contract.SERVICE_DIMENSION: self.service,
            name: round(milliseconds, 1),
        }
        logger.info("metric", extra={"emf": document})


class Database:
    """`check()` is None when the database answers, else the reason it does not (never a secret).

    One check runs at a time and its answer is shared for RESULT_SECONDS: however many requests
    ask, the database sees at most one login per interval, and a hung check holds one thread. The
    secret is read again after a refused login at most once per SECRET_REREAD_SECONDS.
    """

    def __init__(
        self,
        read_secret: Callable[[], Mapping[str, Any]],
        ca_bundle: Path = CA_BUNDLE,
        clock: Callable[[], float] = time.monotonic,
        metrics: Metrics | None = None,
    ) -> None:
        self._read_secret, self._ca_bundle, self._clock = read_secret, ca_bundle, clock
        self._metrics = metrics
        self._login: Login | None = None
        self._reread_at = -SECRET_REREAD_SECONDS
        self._lock = threading.Lock()
        self._running: concurrent.futures.Future[str | None] | None = None
        self._answer: tuple[float, str | None] | None = None
        self._checks = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="check")

    def prime(self) -> None:
        """Reads the secret at start; a failure is only logged (the first check tries again)."""
        try:
            self._current(refresh=False)
        except Exception as error:
            logger.warning("secret not read at start", extra={"reason": reason_for(error)})

    def check(self) -> str | None:
        with self._lock:
            if self._answer is not None and self._clock() - self._answer[0] < RESULT_SECONDS:
                return self._answer[1]
            if self._running is None or self._running.done():
                self._running = self._checks.submit(self._check)
            running = self._running
        try:
            reason = running.result(timeout=CHECK_TIMEOUT_SECONDS)
        except concurrent.futures.TimeoutError:
            return f"the database did not answer within {CHECK_TIMEOUT_SECONDS:g} s"
        with self._lock:
            self._answer = (self._clock(), reason)
        return reason

    def close(self) -> None:
        self._checks.shutdown(wait=False, cancel_futures=True)

    def _check(self) -> str | None:
        started = time.monotonic()
        try:
            try:
                self._query(refresh=False)
            except LoginRefused:
                self._query(refresh=True)  # rotated: read the secret again, once
        except Exception as error:  # every failure is a reason, never its arguments
            return reason_for(error)
        finally:
            if self._metrics is not None:
                self._metrics.publish(contract.DATABASE_CHECK_TIME, (time.monotonic() - started) * 1000)
        return None

    def _query(self, *, refresh: bool) -> None:
        login = self._current(refresh)
        query = QUERIES.get(login.engine)
        if query is None:
            raise UnsupportedEngine(login.engine)
        query(login, tls_context(self._ca_bundle))

    def _current(self, refresh: bool) -> Login:
        if refresh and self._clock() - self._reread_at < SECRET_REREAD_SECONDS:
            raise LoginRefused  # read again only moments ago, and the database still refuses it
        if self._login is None or refresh:
            try:
                login = Login.from_secret(self._read_secret())
            except Exception as error:
                raise SecretUnreadable from error
            self._login = login
            if refresh:
                self._reread_at = self._clock()
        return self._login


@dataclass(frozen=True)
class Release:
    colour: str
    build: str


ROUTES = {"/health": "health", "/version": "version"}


def handler_for(database: Database, release: Release, metrics: Metrics | None = None) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "tap-health"
        sys_version = ""
        timeout = 10  # a client that sends nothing does not hold a thread

        def do_GET(self) -> None:
            started = time.monotonic()
            route = ROUTES.get(self.path, "other")
            if route == "health":
                reason = database.check()
                status, body = (
                    (200, {"status": "ok"}) if reason is None else (503, {"status": "unavailable", "reason": reason})
                )
            elif route == "version":
                status, body = 200, {"colour": release.colour, "build": release.build}
            else:
                status, body = 404, {"error": "not found"}
            # Logged as the answer is ready, so its line is written before the client has it. The
            # route by name, never the path or anything else the client wrote.
            took = (time.monotonic() - started) * 1000
            extra: dict[str, Any] = {"route": route, "status": status, "ms": round(took, 1)}
            if "reason" in body:
                extra["reason"] = body["reason"]
            logger.info("request", extra=extra)
            if metrics is not None:
                metrics.publish(contract.REQUEST_LATENCY, took)
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(payload)

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            """Logged by do_GET, without the request line."""

        def log_error(self, format: str, *args: Any) -> None:
            """A malformed request: its status only (http.server would log the client's text)."""
            logger.warning("malformed request", extra={"status": args[0] if args else None})

    return Handler


class JsonFormatter(logging.Formatter):
    """One JSON object per line, naming the service; every string masked for card numbers before it
    is serialized. A metric's embedded-format document (the service's own names and numbers) is
    merged in at the top level, where CloudWatch reads it."""

    FIELDS = ("route", "status", "ms", "reason", "port")

    def __init__(self, service: str | None = None) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "message": record.getMessage(),
        }
        if self.service is not None:
            entry[contract.SERVICE_DIMENSION] = self.service
        entry.update({name: getattr(record, name) for name in self.FIELDS if hasattr(record, name)})
        entry.update(getattr(record, "emf", {}))
        return json.dumps({key: masked(value) for key, value in entry.items()}, default=str)


def masked(value: Any) -> Any:
    """A string with card numbers masked, also where percent-encoding hides their separators."""
    if not isinstance(value, str):
        return value
    if mask_pans(urllib.parse.unquote_plus(value)) != urllib.parse.unquote_plus(value):
        return mask_pans(urllib.parse.unquote_plus(value))
    return mask_pans(value)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    # Set by `serve` for HTTPS: each accepted connection is wrapped in its own thread.
    tls: ssl.SSLContext | None = None

    def finish_request(self, request: Any, client_address: Any) -> None:
        if self.tls is None:
            super().finish_request(request, client_address)
            return
        request.settimeout(SOCKET_TIMEOUT_SECONDS)
        # The wrapped socket takes over the connection: close it here (with TLS's close_notify),
        # since the server's own shutdown_request only sees the detached plain socket.
        with self.tls.wrap_socket(request, server_side=True) as connection:
            super().finish_request(connection, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """The error's type only: the default prints a traceback, unmasked, to stderr."""
        logger.error("request failed", extra={"reason": type(sys.exc_info()[1]).__name__})


def serve(
    port: int,
    database: Database,
    release: Release,
    host: str = "",
    *,
    tls: ssl.SSLContext | None = None,
    metrics: Metrics | None = None,
) -> Server:
    """The server, bound and ready (HTTPS with `tls`); the caller runs `serve_forever`."""
    server = Server((host, port), handler_for(database, release, metrics))
    server.tls = tls
    return server


def server_tls(certificate: str, key: str) -> ssl.SSLContext:
    """TLS 1.2 and later with the instance's own certificate."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(certificate, key)
    return context


def server_from(environ: Mapping[str, str], cli: str = AWS_CLI, ca_bundle: Path = CA_BUNDLE) -> Server:
    """The service as systemd starts it, from /etc/tap-health.env (see `tap-health.service`)."""
    service = environ[contract.SERVICE_SETTING]
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stdout)  # to the log file systemd appends to
        handler.setFormatter(JsonFormatter(service))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    metrics = Metrics(service)
    secret = cli_secret_reader(environ["TAP_DB_SECRET_ID"], environ["AWS_REGION"], cli)
    database = Database(secret, ca_bundle, metrics=metrics)
    database.prime()
    release = Release(colour=environ.get("TAP_COLOUR", "blue"), build=environ.get("TAP_BUILD", "unknown"))
    tls = server_tls(environ["TAP_TLS_CERT"], environ["TAP_TLS_KEY"]) if "TAP_TLS_CERT" in environ else None
    server = serve(int(environ.get("TAP_PORT", "8080")), database, release, tls=tls, metrics=metrics)
    logger.info("listening", extra={"port": server.server_address[1]})
    return server


if __name__ == "__main__":
    server_from(os.environ).serve_forever()
