"""POST /payments (API Gateway HTTP API, payload 2.0): validate, score, hand off to the queue.

Hand-off: a valid request gets a fraud decision from the fraud function (synchronous invoke)
and goes onto the transaction queue; the processing function records it and emits events. The
response is 202 with the transaction id. The same Idempotency-Key (per merchant) returns the
first response (Powertools idempotency, DynamoDB), and its transaction id is derived from the
key, so processing can never record it twice.

Rejections are JSON `{error, fields}`, by the request rules shared with `POST /transactions`
(`payment_requests.py`): 400 for anything that looks like a card number (checked by middleware
before any route runs; generic message, the value is never logged or stored), 415 for a non-JSON
content type, 400 for malformed JSON or a missing Idempotency-Key, 422 for invalid fields.
Nothing is written for a rejected request.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError
from fraud_rules import Velocity, velocity_subjects
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
from payments_common import FraudDecision, FraudRequest, PanMaskingFormatter, Payment, QueuedPayment
from transaction_store import DynamoStore, TransactionStore, open_ledger

from lib.contracts import payments as contract

# Read once per execution environment; a missing setting stops the cold start.
SETTINGS = contract.read_settings("payment_validation", os.environ)
LIMITS = Limits.from_settings(SETTINGS[contract.ALLOWED_CURRENCIES], SETTINGS[contract.AMOUNT_CEILING])
VELOCITY = Velocity.from_settings(SETTINGS)

logger = Logger(logger_formatter=PanMaskingFormatter())
tracer = Tracer()
metrics = Metrics()
app = APIGatewayHttpResolver()
RETRY_AFTER_SECONDS = 2

# Created once per execution environment; tests replace them.
sqs: Any = boto3.client("sqs")
dynamodb: Any = boto3.resource("dynamodb")
lambda_client: Any = boto3.client("lambda")
ledger: TransactionStore | None = (
    open_ledger(SETTINGS, boto3.client("rds")) if SETTINGS[contract.TRANSACTION_STORE] == "ledger" else None
)
persistence = DynamoDBPersistenceLayer(table_name=SETTINGS[contract.IDEMPOTENCY_TABLE])
IDEMPOTENCY = IdempotencyConfig(
    event_key_jmespath="idempotency_key",
    payload_validation_jmespath="fingerprint",
    expires_after_seconds=24 * 3600,
)


@app.exception_handler(Rejected)
def rejected(rejection: Rejected) -> Response[str]:
    return rejection_response(rejection, logger, metrics)


@app.exception_handler(IdempotencyAlreadyInProgressError)
def still_in_progress(_: IdempotencyAlreadyInProgressError) -> Response[str]:
    """A retry while the first request with this key is still running: try again shortly."""
    metrics.add_metric(name=contract.PAYMENTS_REJECTED, unit=MetricUnit.Count, value=1)
    return Response(
        status_code=409,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps({"error": "a request with this Idempotency-Key is in progress", "fields": ["Idempotency-Key"]}),
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


@app.exception_handler(IdempotencyValidationError)
def payload_changed(_: IdempotencyValidationError) -> Response[str]:
    return rejection_response(key_reused(), logger, metrics)


def store() -> TransactionStore:
    """The profile's transaction store (the ledger's connection is reused across invocations)."""
    if ledger is not None:
        return ledger
    return DynamoStore(dynamodb.Table(SETTINGS[contract.TRANSACTIONS_TABLE]))


def recorded(transaction_id: str, fingerprint: str) -> dict[str, Any] | None:
    """The answer for a transaction already recorded, or None for a new one.

    The idempotency record expires after a day; the transaction does not. A different request
    under a recorded transaction id is refused for as long as the transaction exists, and the
    same request gets the recorded outcome, never a new decision.
    """
    item = store().recorded(transaction_id)
    if item is None:
        return None
    if item.get("fingerprint") != fingerprint:
        raise key_reused()
    return {"transaction_id": transaction_id, "status": item["status"], "fraud_decision": item["fraud_decision"]}


app.use(middlewares=[reject_card_data])


def invoke_fraud(payment: Payment) -> FraudDecision:
    """Synchronous call to the fraud function; an unavailable check becomes decision 'error'."""
    try:
        response = lambda_client.invoke(
            FunctionName=SETTINGS[contract.FRAUD_FUNCTION_NAME],
            Payload=FraudRequest(payment=payment).model_dump_json().encode(),
        )
        if response.get("FunctionError"):
            raise RuntimeError(f"fraud function error: {response['FunctionError']}")
        return FraudDecision.model_validate_json(response["Payload"].read())
    except Exception as error:  # the payment still proceeds, and processing marks it failed
        logger.warning("fraud check unavailable", extra={"error_type": type(error).__name__})
        return FraudDecision(decision="error", reasons=["fraud check unavailable"])


def over_velocity(payment: Payment, now: int) -> list[str]:
    """Counts the payment for its customer and its card token in the current window; what is over the limit.

    Each count is one conditional, atomic update, so concurrent requests cannot all slip under
    the limit while processing has not yet recorded them. Windows are fixed (`window` items
    expire a window after they end); the token is counted by its hash, never stored.
    """
    window = now // VELOCITY.window_seconds * VELOCITY.window_seconds
    table = dynamodb.Table(SETTINGS[contract.VELOCITY_TABLE])
    over = []
    for kind, subject in velocity_subjects(payment).items():
        try:
            table.update_item(
                Key={"subject": f"{kind}#{subject}#{window}"},
                UpdateExpression="ADD #n :one SET expires_at = if_not_exists(expires_at, :expires)",
                ConditionExpression="attribute_not_exists(#n) OR #n < :limit",
                ExpressionAttributeNames={"#n": "payments"},
                ExpressionAttributeValues={
                    ":one": 1,
                    ":limit": VELOCITY.limit,
                    ":expires": window + 2 * VELOCITY.window_seconds,
                },
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            over.append(VELOCITY.reason(kind))
    return over


@idempotent_function(data_keyword_argument="request", config=IDEMPOTENCY, persistence_store=persistence)
def accept(request: dict[str, Any]) -> dict[str, Any]:
    """Counted, scored and queued once per Idempotency-Key (a retry gets the first answer)."""
    payment = Payment.model_validate(request["payment"])
    velocity = over_velocity(payment, int(time.time()))
    fraud = FraudDecision(decision="decline", reasons=velocity) if velocity else invoke_fraud(payment)
    sqs.send_message(
        QueueUrl=SETTINGS[contract.TRANSACTION_QUEUE_URL],
        MessageBody=QueuedPayment(payment=payment, fraud=fraud).model_dump_json(),
    )
    logger.info("accepted", extra={"transaction_id": payment.transaction_id, "decision": fraud.decision})
    return {"transaction_id": payment.transaction_id, "status": "pending", "fraud_decision": fraud.decision}


@app.post(contract.PAYMENTS_PATH)
def create_payment() -> Response[str]:
    started = time.perf_counter()
    payment = payment_for(*validate_request(app.current_event, LIMITS), int(time.time()))
    result = recorded(payment.transaction_id, payment.fingerprint) or accept(
        request={
            "idempotency_key": payment.idempotency_key_hash,
            "fingerprint": payment.fingerprint,
            "payment": payment.model_dump(),
        }
    )
    metrics.add_metric(
        name=contract.VALIDATION_LATENCY, unit=MetricUnit.Milliseconds, value=(time.perf_counter() - started) * 1000
    )
    return json_response(202, result)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    IDEMPOTENCY.register_lambda_context(context)
    return app.resolve(event, context)
