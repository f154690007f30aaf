"""The instances' health service (`lib/compute/app/health_service.py`) over real HTTP, against the
real PostgreSQL and MariaDB servers the rotation tests start, both TLS-only. (Not a Lambda
function: it lives beside their tests for the database server fixtures.)"""

from __future__ import annotations

import contextlib
import http.client
import io
import json
import logging
import socket
import ssl
import stat
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lib.contracts import health
from tests.filter_patterns import matches
from tests.lambdas.conftest import Servers
from tests.lambdas.db_servers import ADMIN_USER, DATABASE, LocalCA, Server, free_port

ROOT = Path(__file__).resolve().parents[2]
for directory in (ROOT / "lib/compute/app", ROOT / "lib/lambda/payments_common"):
    if str(directory) not in sys.path:
        sys.path.insert(0, str(directory))
import health_service  # noqa: E402

SHIPPED_BUNDLE = ROOT / "lib/lambda/rds_client/rds-ca-bundle.pem"


def secret_for(server: Server, **changes: Any) -> dict[str, Any]:
    secret = {
        "engine": "postgres" if server.engine == "postgres" else "mariadb",
        "host": "localhost",
        "port": server.port,
        "username": ADMIN_USER,
        "password": server.admin_password,
        "dbname": DATABASE if server.engine == "postgres" else "",
    }
    return {**secret, **changes}


class Service:
    """The service on a free port, its secret read from `secret` (the test may change it)."""

    def __init__(self, secret: dict[str, Any], ca_bundle: Path, metrics: health_service.Metrics | None = None) -> None:
        self.secret, self.reads, self.now = secret, 0, 1000.0
        self.database = database = health_service.Database(
            self._read, ca_bundle, clock=lambda: self.now, metrics=metrics
        )
        release = health_service.Release("green", "b-42")
        self.server = health_service.serve(0, database, release, "127.0.0.1", metrics=metrics)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _read(self) -> dict[str, Any]:
        self.reads += 1
        return dict(self.secret)

    def get(self, path: str) -> tuple[int, dict[str, Any], float]:
        started = time.monotonic()
        url = f"http://127.0.0.1:{self.server.server_address[1]}{path}"
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                status, body = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, body = error.code, error.read()
        return status, json.loads(body), time.monotonic() - started

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.database.close()


@pytest.fixture
def service_for(test_ca: LocalCA) -> Iterator[Any]:
    started: list[Service] = []

    def start(
        secret: dict[str, Any], ca_bundle: Path | None = None, metrics: health_service.Metrics | None = None
    ) -> Service:
        service = Service(secret, ca_bundle or test_ca.ca_cert, metrics)
        started.append(service)
        return service

    yield start
    for service in started:
        service.stop()


class Relay:
    """A TCP relay on `host`, to the server's port on 127.0.0.1; `delay` holds every chunk back."""

    def __init__(self, host: str, target: int, delay: float = 0.0) -> None:
        self.target, self.delay, self.sockets = target, delay, list[socket.socket]()
        self.listener = socket.create_server((host, 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
                upstream = socket.create_connection(("127.0.0.1", self.target))
            except OSError:
                return
            self.sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                time.sleep(self.delay)
                sink.sendall(data)
            sink.shutdown(socket.SHUT_WR)  # pass the end on; the other direction may still run
        except OSError:
            pass

    def close(self) -> None:
        self.listener.close()
        for connection in self.sockets:
            connection.close()


@pytest.mark.parametrize("engine", ["postgres", "mysql"])
def test_healthy_answers_200(servers: Servers, service_for: Any, engine: str) -> None:
    status, body, _ = service_for(secret_for(servers.get(engine))).get("/health")
    assert (status, body) == (200, {"status": "ok"})


def test_version_names_the_colour_and_build(servers: Servers, service_for: Any) -> None:
    service = service_for(secret_for(servers.get("postgres")))
    assert service.get("/version")[:2] == (200, {"colour": "green", "build": "b-42"})
    assert service.get("/anything-else")[0] == 404


@pytest.mark.parametrize("engine", ["postgres", "mysql"])
def test_database_down_answers_503_within_the_health_check_timeout(
    service_for: Any, servers: Servers, engine: str
) -> None:
    secret = secret_for(servers.get(engine), port=free_port())  # nothing listens there
    status, body, took = service_for(secret).get("/health")
    assert status == 503 and body["reason"].startswith("the database is unavailable")
    # The drivers' messages name the host and user (PyMySQL's 2003 does); the answer never does.
    answer = json.dumps(body)
    assert took < 5 and not any(word in answer for word in ("localhost", ADMIN_USER, secret["password"]))


def test_an_unknown_ca_answers_503(servers: Servers, service_for: Any) -> None:
    """The shipped RDS bundle does not know the test servers' CA: no connection, whatever the login."""
    for engine in ("postgres", "mysql"):
        status, body, _ = service_for(secret_for(servers.get(engine)), SHIPPED_BUNDLE).get("/health")
        assert (status, body["reason"]) == (503, "TLS verification failed"), engine


def test_a_wrong_host_name_answers_503(servers: Servers, service_for: Any) -> None:
    """The certificate names localhost and 127.0.0.1; the same server reached as 127.0.0.2 is refused."""
    server = servers.get("postgres")
    relay, control = Relay("127.0.0.2", server.port), Relay("127.0.0.1", server.port)
    try:
        status, body, _ = service_for(secret_for(server, host="127.0.0.2", port=relay.port)).get("/health")
        # The relay itself is sound: through one on a name the certificate holds, the check passes.
        assert service_for(secret_for(server, port=control.port)).get("/health")[0] == 200
    finally:
        relay.close()
        control.close()
    assert (status, body["reason"]) == (503, "TLS verification failed")


@pytest.mark.parametrize("engine", ["postgres", "mysql"])
def test_a_slow_database_still_gets_an_answer_within_the_timeout(
    servers: Servers, service_for: Any, engine: str
) -> None:
    server = servers.get(engine)
    slow, sluggish = Relay("127.0.0.1", server.port, delay=10), Relay("127.0.0.1", server.port, delay=0.05)
    try:
        status, body, took = service_for(secret_for(server, port=slow.port)).get("/health")
        # Slow but within each step's limit: healthy.
        assert service_for(secret_for(server, port=sluggish.port)).get("/health")[0] == 200
    finally:
        slow.close()
        sluggish.close()
    assert status == 503 and "did not answer within" in body["reason"]
    assert took < health_service.CHECK_TIMEOUT_SECONDS + 1


@pytest.mark.parametrize("engine", ["postgres", "mysql"])
def test_a_rotated_password_recovers_after_reading_the_secret_again(
    servers: Servers, service_for: Any, engine: str, test_ca: LocalCA
) -> None:
    server = servers.get(engine)
    user, first, second = f"health_{engine}", "FirstPassword0123456789", "SecondPassword0123456789"
    run_as_admin(
        server, test_ca, f"CREATE USER {user} WITH PASSWORD '{first}'", f"CREATE USER {user} IDENTIFIED BY '{first}'"
    )
    try:
        service = service_for(secret_for(server, username=user, password=first))
        assert service.get("/health")[0] == 200 and service.reads == 1
        # The rotation changes the password and then the secret; the service still holds the first.
        run_as_admin(
            server,
            test_ca,
            f"ALTER USER {user} WITH PASSWORD '{second}'",
            f"ALTER USER {user} IDENTIFIED BY '{second}'",
        )
        service.secret["password"] = second
        service.advance(health_service.RESULT_SECONDS)
        status, body, _ = service.get("/health")
        assert (status, body, service.reads) == (200, {"status": "ok"}, 2)
        # A login refused even after reading the secret again says so, without the secret.
        service.secret["password"] = "NotThePassword0123456789"  # noqa: S105 - a test server's
        service.advance(health_service.SECRET_REREAD_SECONDS)
        run_as_admin(
            server, test_ca, f"ALTER USER {user} WITH PASSWORD '{first}'", f"ALTER USER {user} IDENTIFIED BY '{first}'"
        )
        status, body, _ = service.get("/health")
        assert status == 503 and "refused the login" in body["reason"] and first not in json.dumps(body)
    finally:
        run_as_admin(server, test_ca, f"DROP USER {user}", f"DROP USER {user}")


def run_as_admin(server: Server, ca: LocalCA, postgres_sql: str, mysql_sql: str) -> None:
    login = health_service.Login.from_secret(secret_for(server))
    context = health_service.tls_context(ca.ca_cert)
    if server.engine == "postgres":
        import pg8000.dbapi  # noqa: PLC0415

        connection = pg8000.dbapi.connect(
            user=login.username,
            password=login.password,
            host=login.host,
            port=login.port,
            database=login.dbname,
            ssl_context=context,
        )
        connection.autocommit = True
        connection.cursor().execute(postgres_sql)
    else:
        import pymysql  # noqa: PLC0415

        connection = pymysql.connect(
            user=login.username, password=login.password, host=login.host, port=login.port, ssl=context, autocommit=True
        )
        connection.cursor().execute(mysql_sql)
    connection.close()


def test_log_lines_are_json_with_card_numbers_masked() -> None:
    record = logging.LogRecord("tap.health", logging.INFO, __file__, 1, "request", None, None)
    record.reason = "card 4111 1111 1111 1111"
    line = json.loads(health_service.JsonFormatter().format(record))
    assert line["reason"] == "card [REDACTED]" and line["message"] == "request"


def test_the_secret_is_read_with_the_aws_cli(tmp_path: Path) -> None:
    cli = tmp_path / "aws"
    cli.write_text('#!/bin/sh\necho "$@" > "$(dirname "$0")/args"\necho \'{"engine": "postgres"}\'\n')
    cli.chmod(cli.stat().st_mode | stat.S_IEXEC)
    read = health_service.cli_secret_reader("arn:aws:secretsmanager:us-east-1:1:secret:db", "us-east-1", str(cli))
    assert read() == {"engine": "postgres"}
    args = (tmp_path / "args").read_text().split()
    assert args[:2] == ["secretsmanager", "get-secret-value"] and "AWSCURRENT" in args
    cli.write_text("#!/bin/sh\nexit 254\n")
    with pytest.raises(RuntimeError, match="aws exit 254"):
        read()


def test_a_hanging_secret_read_still_gets_an_answer_within_the_timeout(service_for: Any, servers: Servers) -> None:
    service = service_for(secret_for(servers.get("postgres")))

    def hangs() -> dict[str, Any]:
        time.sleep(10)
        return {}

    service.database._read_secret = hangs
    status, body, took = service.get("/health")
    assert (status, body["reason"]) == (503, "the database did not answer within 3 s")
    assert took < health_service.CHECK_TIMEOUT_SECONDS + 1


def test_the_service_as_systemd_starts_it_reads_its_secret_with_the_cli_and_serves_https(
    servers: Servers, test_ca: LocalCA, tmp_path: Path
) -> None:
    """From the environment file's settings: the secret read by the AWS CLI (a stand-in on disk),
    HTTPS with the instance's certificate (TLS 1.2 at least), and a client that never finishes its
    handshake holding nobody else up."""
    cli = tmp_path / "aws"
    cli.write_text(f"#!/bin/sh\ncat {tmp_path / 'secret.json'}\n")
    cli.chmod(0o755)
    (tmp_path / "secret.json").write_text(json.dumps(secret_for(servers.get("postgres"))))
    with captured_lines("tap-health-qa1") as started:
        server = start_as_systemd(cli, test_ca)
    # Its start is not an error for the error filter (the port is no status).
    (listening,) = [line for line in started if line["message"] == "listening"]
    assert listening["port"] == server.server_address[1] and not matches(health.ERRORS_PATTERN, listening)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    verified = ssl.create_default_context(cafile=str(test_ca.ca_cert))
    stalled = socket.create_connection(("127.0.0.1", port))  # connects, never says hello
    try:
        base = f"https://127.0.0.1:{port}"
        with urllib.request.urlopen(f"{base}/version", timeout=10, context=verified) as response:  # noqa: S310
            assert json.loads(response.read()) == {"colour": "green", "build": "abc123"}
        with urllib.request.urlopen(f"{base}/health", timeout=10, context=verified) as response:  # noqa: S310
            assert response.status == 200
        assert server.tls is not None and server.tls.minimum_version == ssl.TLSVersion.TLSv1_2
        with pytest.raises((http.client.HTTPException, OSError)):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/version", timeout=10)
    finally:
        stalled.close()
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"engine": "oracle"}, "unsupported engine 'oracle'"),
        ({"dbname": "no_such_database"}, "the database is unavailable (DatabaseError)"),
    ],
)
def test_other_failures_answer_503_with_a_reason_and_no_secret(
    servers: Servers, service_for: Any, changes: dict[str, Any], reason: str
) -> None:
    secret = secret_for(servers.get("postgres"), **changes)
    status, body, _ = service_for(secret).get("/health")
    assert (status, body) == (503, {"status": "unavailable", "reason": reason})


def test_concurrent_requests_share_one_check_for_a_moment(
    servers: Servers, service_for: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """However many ask, the database sees one login per RESULT_SECONDS."""
    queries: list[str] = []
    real = health_service.QUERIES["postgres"]

    def counted(login: Any, context: Any) -> None:
        queries.append(login.username)
        real(login, context)

    monkeypatch.setitem(health_service.QUERIES, "postgres", counted)
    service = service_for(secret_for(servers.get("postgres")))
    answers: list[int] = []
    workers = [threading.Thread(target=lambda: answers.append(service.get("/health")[0])) for _ in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    assert answers == [200] * 8 and len(queries) == 1
    service.advance(health_service.RESULT_SECONDS)
    assert service.get("/health")[0] == 200 and len(queries) == 2


def test_nothing_a_client_writes_reaches_the_log(servers: Servers, service_for: Any) -> None:
    """Card numbers in the path, percent-encoded or tab-separated, and malformed requests: none logged."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(health_service.JsonFormatter())
    health_service.logger.addHandler(handler)
    health_service.logger.setLevel(logging.INFO)
    service = service_for(secret_for(servers.get("postgres")))
    try:
        for request in (
            b"GET /x?c=4111%2D1111%2D1111%2D1111 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
            b"GET /4111\t1111\t1111\t1111 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
            b"GET /x HTTP/1.1\r\nHost: a\r\nX-Card: 4111 1111 1111 1111\r\nConnection: close\r\n\r\n",
            b"4111-1111-1111-1111\r\n\r\n",
        ):
            with socket.create_connection(("127.0.0.1", service.server.server_address[1]), timeout=10) as client:
                client.sendall(request)
                while client.recv(65536):
                    pass
    finally:
        health_service.logger.removeHandler(handler)
    logged = stream.getvalue()
    assert logged.count('"route": "other"') == 2 and "malformed request" in logged
    assert "4111" not in logged and "1111" not in logged


def test_masking_sees_through_percent_encoding() -> None:
    assert health_service.masked("/x?c=4111%2D1111%2D1111%2D1111") == "/x?c=[REDACTED]"
    assert health_service.masked("plain text") == "plain text" and health_service.masked(7) == 7


@contextlib.contextmanager
def captured_lines(service: str) -> Iterator[list[dict[str, Any]]]:
    """The service's log lines, as the agent would ship them, parsed."""
    stream, lines = io.StringIO(), list[dict[str, Any]]()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(health_service.JsonFormatter(service))
    health_service.logger.addHandler(handler)
    health_service.logger.setLevel(logging.INFO)
    try:
        yield lines
    finally:
        health_service.logger.removeHandler(handler)
        lines.extend(json.loads(line) for line in stream.getvalue().splitlines())


def emf_values(lines: list[dict[str, Any]], metric: str) -> list[float]:
    """Values of `metric` in embedded-metric-format lines, checked against the EMF specification's
    shape: one directive naming the namespace, the `service` dimension and the metric in ms."""
    found = []
    for line in lines:
        if metric not in line:
            continue
        (directive,) = line["_aws"]["CloudWatchMetrics"]
        assert directive["Namespace"] == health.NAMESPACE
        assert directive["Dimensions"] == [[health.SERVICE_DIMENSION]]
        assert directive["Metrics"] == [{"Name": metric, "Unit": "Milliseconds"}]
        assert isinstance(line["_aws"]["Timestamp"], int) and line[health.SERVICE_DIMENSION] == "portal-health-qa1"
        found.append(line[metric])
    return found


def test_latency_and_database_check_time_are_published_as_embedded_metrics(servers: Servers, service_for: Any) -> None:
    """Document 003's custom performance metrics, as the compute tier's alarms read them."""
    with captured_lines("portal-health-qa1") as lines:
        service = service_for(secret_for(servers.get("postgres")), metrics=health_service.Metrics("portal-health-qa1"))
        assert service.get("/health")[0] == 200
        assert service.get("/version")[0] == 200
    assert len(emf_values(lines, health.REQUEST_LATENCY)) == 2
    (check,) = emf_values(lines, health.DATABASE_CHECK_TIME)  # the second request asked no database
    assert check > 0
    assert all(line[health.SERVICE_DIMENSION] == "portal-health-qa1" for line in lines)


def test_the_error_filter_counts_errors_and_5xx_answers_only(servers: Servers, service_for: Any) -> None:
    """The metric filter's pattern, evaluated on the lines the service really writes."""
    down = secret_for(servers.get("postgres"), port=free_port())
    with captured_lines("portal-health-qa1") as lines:
        service = service_for(down)
        assert service.get("/health")[0] == 503
        assert service.get("/version")[0] == 200
        health_service.logger.error("request failed", extra={"reason": "ValueError"})
    counted = [line for line in lines if matches(health.ERRORS_PATTERN, line)]
    assert [(line["message"], line.get("status")) for line in counted] == [("request", 503), ("request failed", None)]


def start_as_systemd(cli: Path, test_ca: LocalCA) -> health_service.Server:
    """The service from the environment file's settings, its secret read by the CLI stand-in."""
    return health_service.server_from(
        {
            "TAP_DB_SECRET_ID": "arn:aws:secretsmanager:us-east-1:1:secret:db",
            "AWS_REGION": "us-east-1",
            "TAP_PORT": "0",
            "TAP_COLOUR": "green",
            "TAP_BUILD": "abc123",
            "TAP_TLS_CERT": str(test_ca.server_cert),
            "TAP_TLS_KEY": str(test_ca.server_key),
            "TAP_SERVICE": "tap-health-qa1",
        },
        str(cli),
        test_ca.ca_cert,
    )
