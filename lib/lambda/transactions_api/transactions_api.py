"""Document 001's transactions API (HTTP API, payload 2.0, IAM authorization) over the ledger.

Routes (`contract.TRANSACTIONS_ROUTES`):
- `POST /transactions`: the payment path's request rules (`payment_requests.py`: card data refused
  before any route, the same model, currencies, ceiling and Idempotency-Key) and its fraud rules
  (`fraud_rules.py`), then recorded and settled in the ledger, an approved payment as balanced
  entries. 201 with the id, status and decision; the same key with the same request gets the same
  answer, with a different request 422. Each step is safe to re-run: a retry after a failure
  finishes what the first attempt started and never writes twice.
- `GET /transactions/{transaction_id}`: the transaction and its status history; 400 for an id that
  is not a UUID, 404 when unknown.
- `GET /accounts/{account_id}/balance`: from the Redis cache when it holds the current balance,
  else from the ledger (then cached); a write invalidates it; Redis down means the ledger answers.

The ledger is reached the way the profile fronts it (LEDGER_LOGIN): through RDS Proxy with an IAM
token, or at the cluster with the application secret the rotation function rotates. The secret is
cached and read again whenever the database refuses it, so a rotation never fails a request. A
lost database answers 503 with Retry-After (retry with the same key); nothing is half-written.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Any

import boto3
import pg8000.dbapi
import rds_client
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.typing import LambdaContext
from balance_cache import BalanceCache
from fraud_rules import Rules, score
from ledger_store import LedgerStore
from payment_requests import Limits, Rejected, json_response, payment_for, reject_card_data, validate_request
from payments_common import PanMaskingFormatter, QueuedPayment
from rds_client import Login, LoginProvider, ReusedConnection, iam_login
from transaction_store import FINAL_STATUS

from lib.contracts import payments as contract

# Read once per execution environment; a missing setting stops the cold start.
SETTINGS = contract.read_settings("transactions_api", os.environ)
LIMITS = Limits.from_settings(SETTINGS[contract.ALLOWED_CURRENCIES], SETTINGS[contract.AMOUNT_CEILING])
RULES = Rules.from_settings(SETTINGS)
BUS_NAME = SETTINGS.get(contract.EVENT_BUS_NAME, "")
# Secrets are cached this long between reads (and read at once when refused).
SECRET_MAX_AGE_SECONDS = 300
RETRY_AFTER_SECONDS = 2
TRANSACTION_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
ACCOUNT_ID = re.compile(r"[1-9][0-9]{0,17}")  # a bigint identity

logger = Logger(logger_formatter=PanMaskingFormatter())
tracer = Tracer()
metrics = Metrics()
app = APIGatewayHttpResolver()
app.use(middlewares=[reject_card_data])

# Created once per execution environment; tests replace them.
secrets: Any = parameters.SecretsProvider()


def resolver_path(route: str) -> str:
    """The route's path in the resolver's form: API Gateway's `{name}` as `<name>`."""
    return re.sub(r"\{([a-z_]+)\}", r"<\1>", route.split(" ", 1)[1])


def secret_login(refresh: bool) -> Login:
    """The application user's current login from its secret (alternating users: the name changes too)."""
    secret = secrets.get(
        SETTINGS[contract.LEDGER_SECRET_ARN],
        max_age=SECRET_MAX_AGE_SECONDS,
        transform="json",
        force_fetch=refresh,
        VersionStage="AWSCURRENT",  # explicit: the version the rotation has finished
    )
    return Login(str(secret["username"]), str(secret["password"]))


def cache_token(refresh: bool) -> str:
    return str(
        secrets.get(
            SETTINGS[contract.CACHE_AUTH_SECRET_ARN],
            max_age=SECRET_MAX_AGE_SECONDS,
            force_fetch=refresh,
            VersionStage="AWSCURRENT",
        )
    )


def ledger_login() -> LoginProvider:
    if SETTINGS[contract.LEDGER_LOGIN] == "secret":
        return secret_login
    rds = boto3.client("rds")
    return iam_login(
        rds,
        host=SETTINGS[contract.LEDGER_HOST],
        port=int(SETTINGS[contract.LEDGER_PORT]),
        user=SETTINGS[contract.LEDGER_USER],
        region=rds.meta.region_name,
    )


def ca_bundle() -> Path:
    """The shipped AWS CA bundle (its Amazon Root CAs sign ElastiCache's certificates too)."""
    return rds_client.CA_BUNDLE


ledger = LedgerStore(
    ReusedConnection(
        host=SETTINGS[contract.LEDGER_HOST],
        port=int(SETTINGS[contract.LEDGER_PORT]),
        database=SETTINGS[contract.LEDGER_DATABASE],
        login=ledger_login(),
    ),
    boto3.client("events") if BUS_NAME else None,
    BUS_NAME,
)
cache = BalanceCache(
    host=SETTINGS[contract.CACHE_HOST],
    port=int(SETTINGS[contract.CACHE_PORT]),
    token=cache_token,
    ca_bundle=ca_bundle,
    ttl_seconds=int(SETTINGS[contract.BALANCE_CACHE_SECONDS]),
)

KEY_REUSED = Rejected(422, "this Idempotency-Key was already used for a different request", ["Idempotency-Key"])


@app.exception_handler(Rejected)
def rejected(rejection: Rejected) -> Response[str]:
    logger.info("rejected", extra={"status": rejection.status, "fields": rejection.fields})
    return json_response(rejection.status, {"error": rejection.error, "fields": rejection.fields})


@app.exception_handler([*rds_client.LOST_CONNECTION, pg8000.dbapi.DatabaseError])
def ledger_unavailable(error: Exception) -> Response[str]:
    """The database could not be reached even after a reconnect: the client retries with the same key."""
    if not rds_client.connection_ended(error):
        raise error  # a defect, not an outage: fail loudly
    logger.warning("ledger unavailable", extra={"error_type": type(error).__name__})
    response = json_response(503, {"error": "the ledger is unavailable; retry with the same Idempotency-Key"})
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def announce(item: dict[str, Any], status: str) -> None:
    """Publishes the outbox after commit; a refused publish stays in the outbox for the next one."""
    try:
        ledger.announce(item, status)
    except Exception as error:  # committed already: the answer stands
        logger.warning("outcome not published yet", extra={"error_type": type(error).__name__})


@app.post(resolver_path(contract.TRANSACTIONS_ROUTES["record"]))
def record_transaction() -> Response[str]:
    payment = payment_for(*validate_request(app.current_event, LIMITS), int(time.time()))
    item = ledger.record_pending(QueuedPayment(payment=payment, fraud=score(payment, RULES)))
    if item["fingerprint"] != payment.fingerprint:
        raise KEY_REUSED
    # Only the decision recorded first settles it; a settled transaction answers as it is.
    status = ledger.settle(item, FINAL_STATUS[str(item["fraud_decision"])])
    if status == "approved":
        cache.invalidate(ledger.accounts_of(item))
    if status != "pending":
        announce(item, status)
    metrics.add_metric(name=contract.TRANSACTIONS_RECORDED, unit=MetricUnit.Count, value=1)
    logger.info("recorded", extra={"transaction_id": payment.transaction_id, "status": status})
    return json_response(
        201,
        {"transaction_id": payment.transaction_id, "status": status, "fraud_decision": item["fraud_decision"]},
    )


@app.get(resolver_path(contract.TRANSACTIONS_ROUTES["transaction"]))
def get_transaction(transaction_id: str) -> Response[str]:
    if not TRANSACTION_ID.fullmatch(transaction_id):
        raise Rejected(400, "transaction id must be a lowercase UUID", ["transaction_id"])
    found = ledger.transaction(transaction_id)
    if found is None:
        raise Rejected(404, "no such transaction", ["transaction_id"])
    return json_response(200, found)


@app.get(resolver_path(contract.TRANSACTIONS_ROUTES["balance"]))
def get_balance(account_id: str) -> Response[str]:
    if not ACCOUNT_ID.fullmatch(account_id):
        raise Rejected(400, "account id must be a positive integer", ["account_id"])
    balance, answered = cache.read(int(account_id), lambda: ledger.balance(int(account_id)))
    metric = {
        "hit": contract.BALANCE_CACHE_HITS,
        "miss": contract.BALANCE_CACHE_MISSES,
        "unavailable": contract.BALANCE_CACHE_UNAVAILABLE,
    }[answered]
    metrics.add_metric(name=metric, unit=MetricUnit.Count, value=1)
    if balance is None:
        raise Rejected(404, "no such account", ["account_id"])
    return json_response(200, balance)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
