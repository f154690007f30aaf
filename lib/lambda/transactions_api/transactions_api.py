"""Document 001's transactions API (HTTP API, payload 2.0, IAM authorization) over the ledger.

Routes (`contract.TRANSACTIONS_ROUTES`):
- `POST /transactions`: the payment path's request rules (`payment_requests.py`: card data refused
  before any route, the same model, currencies, ceiling and Idempotency-Key) and its fraud rules
  (`fraud_rules.py`, velocity counted in the ledger), then recorded and settled in one database
  transaction, an approved payment as balanced entries. 201 with the id, status and decision; the
  same key with the same request gets the same answer, with a different request 422. A failure
  leaves nothing behind, and the retry never writes twice.
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
from typing import Any

import boto3
import pg8000.dbapi
import rds_client
import transaction_store
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.typing import LambdaContext
from fraud_rules import Rules, Velocity, score
from payment_requests import (
    Limits,
    Rejected,
    json_response,
    key_reused,
    payment_for,
    reject_card_data,
    rejection_response,
    validate_request,
)
from payments_common import PanMaskingFormatter, QueuedPayment

from lib.contracts import payments as contract

# Read once per execution environment; a missing setting stops the cold start.
SETTINGS = contract.read_settings("transactions_api", os.environ)
LIMITS = Limits.from_settings(SETTINGS[contract.ALLOWED_CURRENCIES], SETTINGS[contract.AMOUNT_CEILING])
RULES = Rules.from_settings(SETTINGS)
VELOCITY = Velocity.from_settings(SETTINGS)
BUS_NAME = SETTINGS.get(contract.EVENT_BUS_NAME, "")
RETRY_AFTER_SECONDS = 2
TRANSACTION_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
ACCOUNT_ID = re.compile(r"[1-9][0-9]{0,17}")  # a bigint identity

logger = Logger(logger_formatter=PanMaskingFormatter())
tracer = Tracer()
metrics = Metrics()
app = APIGatewayHttpResolver()
app.use(middlewares=[reject_card_data])


def resolver_path(route: str) -> str:
    """The route's path in the resolver's form: API Gateway's `{name}` as `<name>`."""
    return re.sub(r"\{([a-z_]+)\}", r"<\1>", route.split(" ", 1)[1])


def count_stale(account_ids: list[int]) -> None:
    """A write Redis could not be told of: its balances may be stale for up to the cache TTL."""
    metrics.add_metric(name=contract.BALANCE_INVALIDATIONS_FAILED, unit=MetricUnit.Count, value=len(account_ids))


# Created once per execution environment; tests replace them.
secrets: Any = parameters.SecretsProvider()
ledger = transaction_store.open_ledger(
    SETTINGS,
    boto3.client("rds"),
    boto3.client("events") if BUS_NAME else None,
    BUS_NAME,
    secrets=secrets,
    on_stale=count_stale,
)
cache: Any = ledger.balances  # the transactions API always has one (its settings require it)


@app.exception_handler(Rejected)
def rejected(rejection: Rejected) -> Response[str]:
    writing = app.current_event.http_method == "POST"
    return rejection_response(rejection, logger, metrics if writing else None)


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
    # Recorded, counted for velocity and settled in one database transaction, which also
    # invalidates the moved balances after commit; a repeat answers as the first one stands.
    recorded = ledger.record_settled(QueuedPayment(payment=payment, fraud=score(payment, RULES)), VELOCITY)
    item, status = recorded.item, recorded.status
    if item["fingerprint"] != payment.fingerprint:
        raise key_reused()
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
