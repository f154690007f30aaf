"""Secrets Manager rotation for Aurora application users (PostgreSQL and MySQL).

Strategies (ROTATION_STRATEGY, read once at cold start with the other settings the stack sets):
- alternating: clients connect to the cluster directly. Each rotation switches between
  `<user>` and `<user>_clone`; the master secret (`masterarn`) creates or updates the other user,
  so the previous credentials keep working until the rotation after next.
- single: RDS Proxy fronts the database and pools by username, so the username stays and only
  its password changes (the user changes it with its own current credentials).

The secret's `host` is always the cluster writer endpoint, never the proxy. Every step checks
state first and is safe to re-run: a failure after any step, re-invoked, completes the
rotation with no lost password and no user left unusable. Secrets and whole events are never
logged.
"""

from __future__ import annotations

import json
import os
import secrets
import string
from dataclasses import replace
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from engines import Credentials, RotationError, can_log_in, connection, engine_for

from lib.contracts import rotation as contract

# Read once per execution environment; a missing or unknown setting stops the cold start.
SETTINGS = contract.read_settings(os.environ)

logger = Logger()  # named by POWERTOOLS_SERVICE_NAME, which the stack sets
STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")
PASSWORD_ALPHABET = string.ascii_letters + string.digits
PASSWORD_LENGTH = 40
CLONE_SUFFIX = "_clone"

# Created once per execution environment; tests replace it.
secrets_client: Any = boto3.client("secretsmanager", endpoint_url=SETTINGS[contract.SECRETS_MANAGER_ENDPOINT])


def generate_password() -> str:
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(PASSWORD_LENGTH))


def get_secret(arn: str, stage: str, token: str | None = None) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"SecretId": arn, "VersionStage": stage}
    if token is not None:
        kwargs["VersionId"] = token
    value: dict[str, Any] = json.loads(secrets_client.get_secret_value(**kwargs)["SecretString"])
    return value


def alternate(username: str) -> str:
    return username.removesuffix(CLONE_SUFFIX) if username.endswith(CLONE_SUFFIX) else f"{username}{CLONE_SUFFIX}"


def create_secret(arn: str, token: str, strategy: str) -> None:
    """Stage AWSPENDING with a new password (and, alternating, the other username)."""
    current = get_secret(arn, "AWSCURRENT")
    try:
        get_secret(arn, "AWSPENDING", token)
        logger.info("createSecret: pending version already staged")
        return
    except secrets_client.exceptions.ResourceNotFoundException:
        pass
    pending = dict(current, password=generate_password())
    if strategy == "alternating":
        pending["username"] = alternate(str(current["username"]))
    secrets_client.put_secret_value(
        SecretId=arn, ClientRequestToken=token, SecretString=json.dumps(pending), VersionStages=["AWSPENDING"]
    )
    logger.info("createSecret: staged pending version", extra={"username": pending["username"]})


def master_credentials(secret: dict[str, Any]) -> Credentials:
    """The RDS-managed master secret holds only username and password; the rest comes from the app secret."""
    master_arn = secret.get("masterarn")
    if not master_arn:
        raise RotationError("secret has no masterarn; alternating rotation needs the master secret")
    master = get_secret(str(master_arn), "AWSCURRENT")
    return replace(Credentials.from_secret(secret), username=str(master["username"]), password=str(master["password"]))


def set_secret(arn: str, token: str, strategy: str) -> None:
    """Make the database accept the pending credentials (idempotent statements only)."""
    current = Credentials.from_secret(get_secret(arn, "AWSCURRENT"))
    pending_secret = get_secret(arn, "AWSPENDING", token)
    pending = Credentials.from_secret(pending_secret)
    if (current.host, current.port, current.engine) != (pending.host, pending.port, pending.engine):
        raise RotationError("pending secret points at a different database than the current one")
    engine = engine_for(pending)
    if strategy == "alternating":
        with connection(master_credentials(pending_secret)) as admin:
            # Bootstrap: the first rotation also creates the original user from the initial secret.
            if not engine.user_exists(admin, current.username):
                engine.ensure_user(admin, current.username, current.password, current.dbname, None)
            engine.ensure_user(admin, pending.username, pending.password, pending.dbname, current.username)
        logger.info("setSecret: pending user ready", extra={"username": pending.username})
        return
    if can_log_in(pending):
        logger.info("setSecret: pending password already set")
        return
    if not can_log_in(current):
        with connection(master_credentials(pending_secret)) as admin:
            if engine.user_exists(admin, pending.username):
                raise RotationError(
                    f"cannot log in as {current.username} with the current password; AWSCURRENT is left as it is"
                )
            # Bootstrap: before the first rotation the user exists only in the secret.
            engine.ensure_user(admin, pending.username, pending.password, pending.dbname, None)
        logger.info("setSecret: user created", extra={"username": pending.username})
        return
    with connection(current) as conn:
        engine.set_own_password(conn, current.username, pending.password)
    logger.info("setSecret: password changed", extra={"username": current.username})


def test_secret(arn: str, token: str) -> None:
    pending = Credentials.from_secret(get_secret(arn, "AWSPENDING", token))
    with connection(pending) as conn:
        cursor = conn.cursor()
        cursor.execute("SELECT 1")
        if cursor.fetchall()[0][0] != 1:
            raise RotationError("pending credentials connected but could not query")
    logger.info("testSecret: pending credentials work", extra={"username": pending.username})


def finish_secret(arn: str, token: str) -> None:
    """Move AWSCURRENT to the new version (AWSPREVIOUS follows), then drop its AWSPENDING label."""
    versions = secrets_client.describe_secret(SecretId=arn)["VersionIdsToStages"]
    current_version = next((v for v, stages in versions.items() if "AWSCURRENT" in stages), None)
    if current_version != token:
        secrets_client.update_secret_version_stage(
            SecretId=arn, VersionStage="AWSCURRENT", MoveToVersionId=token, RemoveFromVersionId=current_version
        )
    if "AWSPENDING" in versions.get(token, []):
        secrets_client.update_secret_version_stage(SecretId=arn, VersionStage="AWSPENDING", RemoveFromVersionId=token)
    logger.info("finishSecret: pending version is now current")


def check_event(event: dict[str, Any]) -> tuple[str, str, str]:
    missing = [k for k in ("SecretId", "ClientRequestToken", "Step") if not isinstance(event.get(k), str)]
    if missing:
        raise RotationError(f"event is missing {missing}")
    if event["Step"] not in STEPS:
        raise RotationError(f"unknown step {event['Step']!r}; expected one of {list(STEPS)}")
    return event["SecretId"], event["ClientRequestToken"], event["Step"]


@logger.inject_lambda_context(log_event=False)
def handler(event: dict[str, Any], context: LambdaContext) -> None:
    """One step; a failure is logged as one line (for the rotation-failures query), then raised
    so that Secrets Manager marks the rotation failed and retries it."""
    try:
        rotate(event)
    except Exception as error:
        # TAP's own reasons only: a driver's message can quote the SQL that set a password.
        reason = str(error) if isinstance(error, RotationError) else "see the error type"
        logger.error(
            contract.ROTATION_FAILED,
            extra={"step": str(event.get("Step")), "error_type": type(error).__name__, "reason": reason},
        )
        raise


def rotate(event: dict[str, Any]) -> None:
    arn, token, step = check_event(event)
    strategy = SETTINGS[contract.ROTATION_STRATEGY]
    logger.append_keys(step=step, strategy=strategy)
    metadata = secrets_client.describe_secret(SecretId=arn)
    if not metadata.get("RotationEnabled"):
        raise RotationError("rotation is not enabled for this secret")
    stages = metadata.get("VersionIdsToStages", {})
    if token not in stages:
        raise RotationError("the version being rotated does not exist")
    if "AWSCURRENT" in stages[token]:
        logger.info("version is already AWSCURRENT; nothing to do")
        return
    if "AWSPENDING" not in stages[token]:
        raise RotationError("the version being rotated is not staged AWSPENDING")
    if step == "createSecret":
        create_secret(arn, token, strategy)
    elif step == "setSecret":
        set_secret(arn, token, strategy)
    elif step == "testSecret":
        test_secret(arn, token)
    else:
        finish_secret(arn, token)
