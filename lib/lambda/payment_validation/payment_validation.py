"""POST /payments (API Gateway HTTP API, payload 2.0): validate, score, hand off to the queue.

Hand-off: a valid request gets a fraud decision from the fraud function (synchronous invoke)
and goes onto the transaction queue; the processing function records it and emits events. The
response is 202 with the transaction id. The same Idempotency-Key (per merchant) returns the
first response (Powertools idempotency, DynamoDB), and its transaction id is derived from the
key, so processing can never record it twice.

Rejections are JSON `{error, fields}`: 415 for a non-JSON content type, 400 for malformed JSON,
a missing Idempotency-Key or anything that looks like a card number (generic message; the value
is never logged or stored), 422 for invalid fields. Nothing is written for a rejected request.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
from collections.abc import Callable
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyValidationError
from aws_lambda_powertools.utilities.typing import LambdaContext
from payments_common import (
    METRICS_NAMESPACE,
    FraudDecision,
    PanMaskingFormatter,
    Payment,
    QueuedPayment,
    contains_pan,
    transaction_id,
)
from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError

logger = Logger(service="payment-validation", logger_formatter=PanMaskingFormatter())
tracer = Tracer(service="payment-validation")
metrics = Metrics(namespace=METRICS_NAMESPACE, service="payment-validation")

IDENTIFIER = r"^[A-Za-z0-9_-]{1,64}$"
IDEMPOTENCY_HEADER = "idempotency-key"
REJECTED_CARD_DATA = "request rejected: it must not contain card numbers; send a card token"

# Created once per execution environment; tests replace them.
sqs: Any = boto3.client("sqs")
lambda_client: Any = boto3.client("lambda")
persistence = DynamoDBPersistenceLayer(table_name=os.environ.get("IDEMPOTENCY_TABLE", "idempotency"))
IDEMPOTENCY = IdempotencyConfig(
    event_key_jmespath="idempotency_key",
    payload_validation_jmespath="fingerprint",
    expires_after_seconds=24 * 3600,
)


class PaymentRequest(BaseModel):
    """The request body. Amounts are integers in minor units; cards travel only as tokens."""

    model_config = ConfigDict(extra="forbid")

    amount: StrictInt = Field(gt=0)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    customer_id: str = Field(pattern=IDENTIFIER)
    merchant_id: str = Field(pattern=IDENTIFIER)
    card_token: str = Field(pattern=r"^tok_[A-Za-z0-9]{8,64}$")
    merchant_country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    card_country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")


def respond(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}


def reject(status: int, error: str, fields: list[str]) -> dict[str, Any]:
    metrics.add_metric(name="PaymentsRejected", unit=MetricUnit.Count, value=1)
    logger.info("rejected", extra={"status": status, "fields": fields})
    return respond(status, {"error": error, "fields": fields})


def invoke_fraud(payment: Payment) -> FraudDecision:
    """Synchronous call to the fraud function; an unavailable check becomes decision 'error'."""
    try:
        response = lambda_client.invoke(
            FunctionName=os.environ["FRAUD_FUNCTION_NAME"],
            Payload=json.dumps({"payment": payment.model_dump()}).encode(),
        )
        if response.get("FunctionError"):
            raise RuntimeError(f"fraud function error: {response['FunctionError']}")
        return FraudDecision.model_validate_json(response["Payload"].read())
    except Exception as error:  # the payment still proceeds, and processing marks it failed
        logger.warning("fraud check unavailable", extra={"error_type": type(error).__name__})
        return FraudDecision(decision="error", reasons=["fraud check unavailable"])


# Replaced in tests by an in-process call of the fraud handler.
fraud_check: Callable[[Payment], FraudDecision] = invoke_fraud


@idempotent_function(data_keyword_argument="request", config=IDEMPOTENCY, persistence_store=persistence)
def accept(request: dict[str, Any]) -> dict[str, Any]:
    payment = Payment.model_validate(request["payment"])
    fraud = fraud_check(payment)
    sqs.send_message(
        QueueUrl=os.environ["TRANSACTION_QUEUE_URL"],
        MessageBody=QueuedPayment(payment=payment, fraud=fraud).model_dump_json(),
    )
    logger.info("accepted", extra={"transaction_id": payment.transaction_id, "decision": fraud.decision})
    return {"transaction_id": payment.transaction_id, "status": "pending", "fraud_decision": fraud.decision}


class Rejected(Exception):
    """A request refused before anything is written: status, public message, offending fields."""

    def __init__(self, status: int, error: str, fields: list[str]) -> None:
        super().__init__(error)
        self.status, self.error, self.fields = status, error, fields


def parse_body(event: dict[str, Any]) -> dict[str, Any]:
    raw = event.get("body") or ""
    try:
        body = json.loads(base64.b64decode(raw).decode("utf-8") if event.get("isBase64Encoded") else raw)
    except (ValueError, UnicodeDecodeError):
        raise Rejected(400, "body must be a JSON object", ["body"]) from None
    if not isinstance(body, dict):
        raise Rejected(400, "body must be a JSON object", ["body"])
    return body


def business_rule_fields(request: PaymentRequest) -> list[str]:
    fields = []
    if request.amount >= int(os.environ.get("AMOUNT_CEILING", "10000000")):
        fields.append("amount")
    if request.currency not in set(os.environ.get("ALLOWED_CURRENCIES", "USD").split(",")):
        fields.append("currency")
    return fields


def validate_request(event: dict[str, Any]) -> tuple[PaymentRequest, str]:
    """The request and its Idempotency-Key, or Rejected. Card data is looked for before parsing."""
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    if not headers.get("content-type", "").lower().startswith("application/json"):
        raise Rejected(415, "content type must be application/json", ["Content-Type"])
    if any(contains_pan(part) for part in (event.get("body") or "", event.get("queryStringParameters") or {}, headers)):
        raise Rejected(400, REJECTED_CARD_DATA, [])
    body = parse_body(event)
    if contains_pan(body):
        raise Rejected(400, REJECTED_CARD_DATA, [])
    key = headers.get(IDEMPOTENCY_HEADER, "")
    if not 8 <= len(key) <= 128:
        raise Rejected(400, "an Idempotency-Key header of 8-128 characters is required", ["Idempotency-Key"])
    try:
        request = PaymentRequest.model_validate(body)
    except ValidationError as error:
        raise Rejected(
            422, "invalid payment request", sorted({".".join(str(p) for p in e["loc"]) for e in error.errors()})
        ) from None
    invalid = business_rule_fields(request)
    if invalid:
        raise Rejected(422, "invalid payment request", invalid)
    return request, key


@tracer.capture_lambda_handler
@metrics.log_metrics
@logger.inject_lambda_context(log_event=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    started = time.perf_counter()
    IDEMPOTENCY.register_lambda_context(context)
    try:
        request, key = validate_request(event)
    except Rejected as rejection:
        return reject(rejection.status, rejection.error, rejection.fields)
    payment = Payment(
        transaction_id=transaction_id(request.merchant_id, key),
        idempotency_key=key,
        requested_at=int(time.time()),
        **request.model_dump(),
    )
    fingerprint = hashlib.sha256(json.dumps(request.model_dump(), sort_keys=True).encode()).hexdigest()
    try:
        result = accept(
            request={
                "idempotency_key": f"{request.merchant_id}:{key}",
                "fingerprint": fingerprint,
                "payment": payment.model_dump(),
            }
        )
    except IdempotencyValidationError:
        return reject(422, "this Idempotency-Key was already used for a different request", ["Idempotency-Key"])
    metrics.add_metric(
        name="ValidationLatency", unit=MetricUnit.Milliseconds, value=(time.perf_counter() - started) * 1000
    )
    return respond(202, result)
