"""The rotation Lambda against real PostgreSQL and MariaDB (TLS, test CA) and emulated Secrets Manager."""

from __future__ import annotations

import io
import itertools
import json
import secrets
import string
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pg8000.dbapi
import pymysql
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.secretsmanager.models import secretsmanager_backends

from lib.contracts import rotation as contract
from lib.data import rotation_failures_query
from tests.handlers import ROTATION_SETTINGS, import_handler
from tests.lambdas.conftest import Servers
from tests.lambdas.db_servers import ADMIN_USER, DATABASE, LocalCA, free_port
from tests.queries import selects

app = import_handler("app", ["secret_rotation", "rds_client"], ROTATION_SETTINGS)
engines = import_handler("engines", ["secret_rotation", "rds_client"], ROTATION_SETTINGS)
rds_client = import_handler("rds_client", ["rds_client"], {})
Credentials, RotationError, can_log_in = engines.Credentials, engines.RotationError, engines.can_log_in
connection, engine_for = engines.connection, engines.engine_for
SHIPPED_CA_BUNDLE = rds_client.CA_BUNDLE

REGION = "us-east-1"
ENGINES = ["postgres", "mysql"]
_users = itertools.count(1)


@dataclass
class FakeContext:
    function_name: str = "tap-secret-rotation-test"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:{DEFAULT_ACCOUNT_ID}:function:tap-secret-rotation-test"
    aws_request_id: str = "c6af9ac6-7b61-11e6-9a41-93e812345678"


@pytest.fixture(autouse=True)
def emulated_aws(monkeypatch: pytest.MonkeyPatch, test_ca: LocalCA) -> Iterator[Any]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(rds_client, "CA_BUNDLE", test_ca.ca_cert)
    with mock_aws():
        client = boto3.client("secretsmanager", region_name=REGION)
        monkeypatch.setattr(app, "secrets_client", client)
        yield client


@pytest.fixture
def log_output(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    """Everything the function logs (Powertools binds its handler's stream at import)."""
    buffer = io.StringIO()
    monkeypatch.setattr(app.logger.registered_handler, "stream", buffer)
    return buffer


def password() -> str:
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32))


@dataclass
class Setup:
    client: Any
    arn: str
    master_arn: str
    engine: str
    port: int
    initial_password: str
    master_password: str

    def stage(self, stage: str) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(
            self.client.get_secret_value(SecretId=self.arn, VersionStage=stage)["SecretString"]
        )
        return value

    def current_version(self) -> str:
        stages = self.client.describe_secret(SecretId=self.arn)["VersionIdsToStages"]
        return next(v for v, s in stages.items() if "AWSCURRENT" in s)

    def creds(self, stage: str) -> Credentials:
        return Credentials.from_secret(self.stage(stage))

    def admin(self) -> Credentials:
        """The master user on the same server, as an operator would connect."""
        return Credentials.from_secret(
            dict(self.stage("AWSCURRENT"), username=ADMIN_USER, password=self.master_password)
        )


def make_secrets(
    client: Any,
    servers: Servers,
    engine: str,
    *,
    tls: bool = True,
    port: int | None = None,
    master_password: str | None = None,
) -> Setup:
    server = servers.get(engine, tls)
    # The RDS-managed master secret holds only username and password.
    master = client.create_secret(
        Name=f"rds!cluster-{uuid.uuid4()}",
        SecretString=json.dumps({"username": ADMIN_USER, "password": master_password or server.admin_password}),
    )
    initial = password()
    app_secret = {
        "engine": engine,
        "host": "localhost",
        "port": port or server.port,
        "dbname": DATABASE,
        "username": f"app{next(_users)}",
        "password": initial,
        "masterarn": master["ARN"],
    }
    created = client.create_secret(Name=f"tap/test/{uuid.uuid4()}", SecretString=json.dumps(app_secret))
    return Setup(
        client,
        created["ARN"],
        master["ARN"],
        engine,
        port or server.port,
        initial,
        master_password or server.admin_password,
    )


def begin_rotation(arn: str) -> str:
    """What Secrets Manager does before invoking the function: stage an empty AWSPENDING version."""
    backend = secretsmanager_backends[DEFAULT_ACCOUNT_ID][REGION]
    secret = backend.secrets[arn]
    token = str(uuid.uuid4())
    secret.remove_version_stages_from_old_versions(["AWSPENDING"])
    secret.versions[token] = {"createdate": int(time.time()), "version_id": token, "version_stages": ["AWSPENDING"]}
    secret.rotation_requested = secret.rotation_enabled = True
    secret.rotation_lambda_arn = FakeContext.invoked_function_arn
    secret.auto_rotate_after_days = 30
    return token


def invoke(arn: str, token: str, step: str) -> None:
    app.handler({"SecretId": arn, "ClientRequestToken": token, "Step": step}, FakeContext())


def rotate(setup: Setup, monkeypatch: pytest.MonkeyPatch, strategy: str) -> str:
    monkeypatch.setitem(app.SETTINGS, contract.ROTATION_STRATEGY, strategy)
    token = begin_rotation(setup.arn)
    for step in app.STEPS:
        invoke(setup.arn, token, step)
    return token


def assert_set_secret_fails_and_keeps_current(
    setup: Setup, monkeypatch: pytest.MonkeyPatch, strategy: str, match: str
) -> None:
    """The rotation stops at setSecret with a clear error; AWSCURRENT keeps its version and value."""
    version, value = setup.current_version(), setup.stage("AWSCURRENT")
    monkeypatch.setitem(app.SETTINGS, contract.ROTATION_STRATEGY, strategy)
    token = begin_rotation(setup.arn)
    invoke(setup.arn, token, "createSecret")
    with pytest.raises(RotationError, match=match):
        invoke(setup.arn, token, "setSecret")
    assert setup.current_version() == version and setup.stage("AWSCURRENT") == value


def shared_objects_usable(first: Credentials, second: Credentials, table: str) -> None:
    """An object created by one rotating user is usable by the other."""
    with connection(first) as conn:
        cursor = conn.cursor()
        cursor.execute(f"CREATE TABLE {table} (id INT PRIMARY KEY)")
        cursor.execute(f"INSERT INTO {table} VALUES (1)")
        conn.commit()
    with connection(second) as conn:
        cursor = conn.cursor()
        cursor.execute(f"INSERT INTO {table} VALUES (2)")
        cursor.execute(f"SELECT count(*) FROM {table}")
        assert cursor.fetchall()[0][0] == 2
        conn.commit()


@pytest.mark.parametrize("engine", ENGINES)
def test_alternating_rotation_keeps_the_previous_user_working(
    engine: str, servers: Servers, emulated_aws: Any, monkeypatch: pytest.MonkeyPatch, log_output: io.StringIO
) -> None:
    setup = make_secrets(emulated_aws, servers, engine)
    base = setup.creds("AWSCURRENT").username

    first = rotate(setup, monkeypatch, "alternating")
    assert setup.current_version() == first
    current, previous = setup.creds("AWSCURRENT"), setup.creds("AWSPREVIOUS")
    assert (current.username, previous.username) == (f"{base}_clone", base)
    assert current.password != setup.initial_password and current.host == "localhost"
    assert can_log_in(current) and can_log_in(previous)
    shared_objects_usable(current, previous, f"shared_{base}")

    rotate(setup, monkeypatch, "alternating")
    newest, before = setup.creds("AWSCURRENT"), setup.creds("AWSPREVIOUS")
    assert (newest.username, before.username) == (base, f"{base}_clone")
    assert before.password == current.password  # the previous user still works until the next rotation
    assert can_log_in(newest) and can_log_in(before)
    assert not can_log_in(previous)  # the password from two rotations ago is gone

    output = log_output.getvalue()
    for value in (setup.initial_password, current.password, newest.password, setup.master_password):
        assert value not in output
    assert "finishSecret: pending version is now current" in output
    assert all(json.loads(line)["service"] == "secret-rotation" for line in output.splitlines())


@pytest.mark.parametrize("engine", ENGINES)
def test_single_user_rotation_changes_only_the_password(
    engine: str, servers: Servers, emulated_aws: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup = make_secrets(emulated_aws, servers, engine)
    base = setup.creds("AWSCURRENT").username
    rotate(setup, monkeypatch, "single")  # bootstrap: creates the user through the master secret
    first = setup.creds("AWSCURRENT")
    assert first.username == base and can_log_in(first)
    rotate(setup, monkeypatch, "single")  # the user changes its own password
    second = setup.creds("AWSCURRENT")
    assert second.username == base and second.password != first.password
    assert can_log_in(second) and not can_log_in(first)


@pytest.mark.parametrize("strategy", ["alternating", "single"])
@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("crash_after", ["createSecret", "setSecret", "testSecret", "finishSecret"])
def test_crash_after_any_step_then_rerun_completes(
    engine: str, strategy: str, crash_after: str, servers: Servers, emulated_aws: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup = make_secrets(emulated_aws, servers, engine)
    rotate(setup, monkeypatch, strategy)  # start from a rotated state, so "previous" exists
    before = setup.creds("AWSCURRENT")
    step_functions = {
        "createSecret": "create_secret",
        "setSecret": "set_secret",
        "testSecret": "test_secret",
        "finishSecret": "finish_secret",
    }
    original: Callable[..., None] = getattr(app, step_functions[crash_after])

    def crash(*args: Any) -> None:
        original(*args)
        raise RuntimeError("injected crash after the step did its work")

    monkeypatch.setattr(app, step_functions[crash_after], crash)
    token = begin_rotation(setup.arn)
    with pytest.raises(RuntimeError, match="injected crash"):
        for step in app.STEPS:
            invoke(setup.arn, token, step)
    monkeypatch.setattr(app, step_functions[crash_after], original)
    if crash_after != "finishSecret":
        assert setup.creds("AWSCURRENT") == before  # nothing lost while the rotation is incomplete
        assert can_log_in(before) or (strategy == "single" and crash_after in ("setSecret", "testSecret"))
    for step in app.STEPS:  # Secrets Manager retries with the same token
        invoke(setup.arn, token, step)
    assert setup.current_version() == token
    after = setup.creds("AWSCURRENT")
    assert can_log_in(after)
    if strategy == "alternating":
        assert after.username != before.username and can_log_in(before)


@pytest.mark.parametrize("engine", ENGINES)
def test_wrong_current_password_fails_clearly_and_keeps_awscurrent(
    engine: str, servers: Servers, emulated_aws: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup = make_secrets(emulated_aws, servers, engine)
    rotate(setup, monkeypatch, "single")
    current = setup.creds("AWSCURRENT")
    # Someone changed the password in the database: AWSCURRENT no longer matches.
    admin = setup.admin()
    with connection(admin) as conn:
        engine_for(current).ensure_user(conn, current.username, password(), current.dbname, None)
    assert_set_secret_fails_and_keeps_current(
        setup, monkeypatch, "single", r"cannot log in as .* with the current password; AWSCURRENT is left as it is"
    )


@pytest.mark.parametrize("engine", ENGINES)
def test_wrong_master_password_fails_clearly_and_keeps_awscurrent(
    engine: str, servers: Servers, emulated_aws: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup = make_secrets(emulated_aws, servers, engine, master_password=password())
    assert_set_secret_fails_and_keeps_current(
        setup, monkeypatch, "alternating", f"cannot connect to localhost:{setup.port} as {ADMIN_USER}"
    )


@pytest.mark.parametrize("engine", ENGINES)
def test_database_down_fails_clearly_and_keeps_awscurrent(
    engine: str, servers: Servers, emulated_aws: Any, monkeypatch: pytest.MonkeyPatch, log_output: io.StringIO
) -> None:
    closed_port = free_port()
    setup = make_secrets(emulated_aws, servers, engine, port=closed_port)
    assert_set_secret_fails_and_keeps_current(
        setup, monkeypatch, "alternating", f"cannot connect to localhost:{closed_port}"
    )
    # The saved "rotation failures" query reads and selects the failed step's line, and only it.
    lines = [json.loads(line) for line in log_output.getvalue().splitlines()]
    (failed,) = [line for line in lines if selects(rotation_failures_query("rotation"), line)]
    assert (failed["step"], failed["error_type"], failed["level"]) == ("setSecret", "RotationError", "ERROR")
    assert f"localhost:{closed_port}" in failed["reason"]


@pytest.mark.parametrize("engine", ENGINES)
def test_server_without_tls_is_refused(
    engine: str, servers: Servers, emulated_aws: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup = make_secrets(emulated_aws, servers, engine, tls=False)
    assert_set_secret_fails_and_keeps_current(setup, monkeypatch, "alternating", "cannot connect")
    # The same master credentials log in to that server without TLS: only the missing TLS was refused.
    assert plain_login_works(setup)


def plain_login_works(setup: Setup) -> bool:
    """Logs in without TLS with the setup's master credentials, as a client without TLS would."""
    try:
        if setup.engine == "postgres":
            pg8000.dbapi.connect(
                user=ADMIN_USER, password=setup.master_password, host="localhost", port=setup.port, database=DATABASE
            ).close()
        else:
            pymysql.connect(
                user=ADMIN_USER, password=setup.master_password, host="localhost", port=setup.port, database=DATABASE
            ).close()
    except (pg8000.dbapi.Error, pymysql.Error):
        return False
    return True


@pytest.mark.parametrize("engine", ENGINES)
def test_plain_login_check_fails_with_a_wrong_master_password(engine: str, servers: Servers, emulated_aws: Any) -> None:
    """The check above can fail: a master password the server does not know does not log in."""
    assert not plain_login_works(make_secrets(emulated_aws, servers, engine, tls=False, master_password=password()))


def test_certificate_from_an_unknown_ca_is_refused(
    servers: Servers, emulated_aws: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rds_client, "CA_BUNDLE", SHIPPED_CA_BUNDLE)  # RDS's CAs do not know the test CA
    setup = make_secrets(emulated_aws, servers, "postgres")
    monkeypatch.setitem(app.SETTINGS, contract.ROTATION_STRATEGY, "alternating")
    token = begin_rotation(setup.arn)
    invoke(setup.arn, token, "createSecret")
    with pytest.raises(RotationError, match="cannot connect"):
        invoke(setup.arn, token, "setSecret")


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"SecretId": "x", "Step": "createSecret"}, r"event is missing \['ClientRequestToken'\]"),
        ({"SecretId": "x", "ClientRequestToken": "t", "Step": "dropTables"}, "unknown step 'dropTables'"),
    ],
)
def test_malformed_events_are_rejected(event: dict[str, str], message: str) -> None:
    with pytest.raises(RotationError, match=message):
        app.handler(event, FakeContext())


def test_state_checks(servers: Servers, emulated_aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    setup = make_secrets(emulated_aws, servers, "postgres")
    with pytest.raises(RotationError, match="rotation is not enabled"):
        invoke(setup.arn, str(uuid.uuid4()), "createSecret")
    token = begin_rotation(setup.arn)
    with pytest.raises(RotationError, match="does not exist"):
        invoke(setup.arn, str(uuid.uuid4()), "createSecret")
    rotate(setup, monkeypatch, "alternating")
    current = setup.current_version()
    invoke(setup.arn, current, "setSecret")  # already AWSCURRENT: returns without touching anything
    assert setup.current_version() == current != token


@pytest.mark.parametrize("engine", ENGINES)
def test_clone_inherits_extra_grants_but_never_the_grant_option(
    engine: str, servers: Servers, emulated_aws: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup = make_secrets(emulated_aws, servers, engine)
    rotate(setup, monkeypatch, "alternating")
    current = setup.creds("AWSCURRENT")
    admin = setup.admin()
    extra_role = f"{current.username.removesuffix('_clone')}_reporting"
    with connection(admin) as conn:  # an operator gives the current user something extra, re-grantable
        cursor = conn.cursor()
        if engine == "mysql":
            cursor.execute("GRANT PROCESS ON *.* TO %s@'%%' WITH GRANT OPTION", (current.username,))
        else:
            cursor.execute(f'CREATE ROLE "{extra_role}" NOLOGIN')
            cursor.execute(f'GRANT "{extra_role}" TO "{current.username}"')
            conn.commit()
    rotate(setup, monkeypatch, "alternating")
    pending_user = setup.creds("AWSCURRENT").username
    assert pending_user != current.username
    with connection(admin) as conn:
        cursor = conn.cursor()
        if engine == "mysql":
            cursor.execute("SHOW GRANTS FOR %s@'%%'", (pending_user,))
            grants = " ".join(row[0] for row in cursor.fetchall())
            assert "PROCESS" in grants and "`payments`.*" in grants
            assert "WITH GRANT OPTION" not in grants
            assert "REQUIRE SSL" in grants
        else:
            cursor.execute(
                "SELECT r.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid "
                "JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = %s",
                (pending_user,),
            )
            assert {extra_role, f"{pending_user.removesuffix('_clone')}_owner"} <= {row[0] for row in cursor.fetchall()}
