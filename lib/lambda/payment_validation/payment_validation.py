"""POST /payments (API Gateway HTTP API, payload 2.0): validate, score, hand off to the queue.

Hand-off: a valid request gets a fraud decision from the fraud function (synchronous invoke)
and goes onto the transaction queue; the processing function records it and emits events. The
response is 202 with the transaction id. The same Idempotency-Key (per merchant) returns the
first response (Powertools idempotency, DynamoDB), and its transaction id is derived from the
key, so processing can never record it twice.

Rejections are JSON `{error, fields}`: 400 for anything that looks like a card number (checked
by middleware before any route runs; generic message, the value is never logged or stored),
415 for a non-JSON content type, 400 for malformed JSON or a missing Idempotency-Key, 422 for
invalid fields. Nothing is written for a rejected request.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
import time
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError
from payments_common import (
    FraudDecision,
    FraudRequest,
    PanMaskingFormatter,
    Payment,
    QueuedPayment,
    contains_pan,
    key_hash,
)
from payments_common import transaction_id as derive_transaction_id
from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError
from transaction_store import DynamoStore, TransactionStore, open_ledger

from lib.contracts import payments as contract

# Read once per execution environment; a missing setting stops the cold start.
SETTINGS = contract.read_settings("payment_validation", os.environ)
ALLOWED_CURRENCIES = frozenset(SETTINGS[contract.ALLOWED_CURRENCIES].split(","))
AMOUNT_CEILING = int(SETTINGS[contract.AMOUNT_CEILING])
VELOCITY_WINDOW_SECONDS = int(SETTINGS[contract.FRAUD_VELOCITY_WINDOW_SECONDS])
VELOCITY_LIMIT = int(SETTINGS[contract.FRAUD_VELOCITY_LIMIT])

logger = Logger(logger_formatter=PanMaskingFormatter())
tracer = Tracer()
metrics = Metrics()
app = APIGatewayHttpResolver()

# No identifier may hold 13 digits, the shortest card number, however they are spread: at most
# 64 letters, digits, "_" or "-", of which at most 12 digits (checked in pydantic's Rust core).
MAX_IDENTIFIER_DIGITS = 12
IDENTIFIER = rf"^[A-Za-z_-]*(?:[0-9][A-Za-z_-]*){{0,{MAX_IDENTIFIER_DIGITS}}}$"
IDEMPOTENCY_HEADER = "idempotency-key"
REJECTED_CARD_DATA = "request rejected: it must not contain card numbers; send a card token"
UNKNOWN_FIELD = "(unknown field)"  # submitted keys are never echoed
# A payment body is one flat object: these limits are far above it and far below trouble.
MAX_BODY_BYTES = 16 * 1024
MAX_JSON_DEPTH = 8
RETRY_AFTER_SECONDS = 2
# Transport headers with formats set by API Gateway, SigV4, tracing or proxies. A value in its
# header's format is not scanned for card numbers (timestamps, addresses, hex signatures and
# trace ids would look like them); a value in any other form is scanned like every other header.
_HEX = "[0-9a-fA-F]"
_TRACE_FIELD = (
    rf"(?:(?:Self|Root)=1-{_HEX}{{8}}-{_HEX}{{24}}|Parent={_HEX}{{16}}|Sampled=[01?]|Lineage={_HEX}{{8}}:[0-9]{{1,3}})"
)
# IPv4, or IPv6 with at least two colons (a bare run of digits is not an address).
_ADDRESS = r"(?:(?:[0-9]{1,3}\.){3}[0-9]{1,3}|[0-9a-fA-F]{0,4}(?::[0-9a-fA-F]{0,4}){2,7})"
# W3C trace-context list members: vendor key, then a value without spaces, commas or "=".
_TRACESTATE_MEMBER = r"[a-z0-9][a-z0-9_*/@-]{0,255}=[\x21-\x2b\x2d-\x3c\x3e-\x7e]{1,256}"
TRANSPORT_HEADERS: dict[str, re.Pattern[str]] = {
    name: re.compile(pattern)
    for name, pattern in {
        "authorization": (
            r"AWS4-HMAC-SHA256 Credential=[A-Z0-9]{16,128}/[0-9]{8}/[a-z0-9-]+/[a-z0-9-]+/aws4_request,"
            rf" ?SignedHeaders=[a-z0-9;-]+, ?Signature={_HEX}{{64}}"
        ),
        "content-length": r"[0-9]{1,12}",
        "traceparent": rf"{_HEX}{{2}}-{_HEX}{{32}}-{_HEX}{{16}}-{_HEX}{{2}}",
        "tracestate": rf"{_TRACESTATE_MEMBER}(?:, ?{_TRACESTATE_MEMBER}){{0,31}}",
        "via": r"[0-9.]+ [0-9a-f]{32}\.cloudfront\.net \(CloudFront\)",
        "x-amz-content-sha256": rf"{_HEX}{{64}}|UNSIGNED-PAYLOAD",
        "x-amz-date": r"[0-9]{8}T[0-9]{6}Z",
        "x-amz-security-token": r"(?=[^A-Za-z]*[A-Za-z])[A-Za-z0-9+/=]{100,4096}",  # STS tokens are long
        "x-amzn-trace-id": rf"{_TRACE_FIELD}(?:;{_TRACE_FIELD})*",
        "x-forwarded-for": rf"{_ADDRESS}(?:, ?{_ADDRESS})*",
        "x-forwarded-port": r"[0-9]{1,5}",
        "x-forwarded-proto": r"https?",
        # Epoch milliseconds or microseconds (t=...), or seconds with a fraction, from 2001 to 2286.
        "x-request-start": r"t=1[0-9]{12}|t=1[0-9]{15}|1[0-9]{9}(?:\.[0-9]{1,6})?",
    }.items()
}
# A canonical UUID is not a card number, however its digits fall: one in about 350 random UUIDs
# would otherwise hold a Luhn-valid run (clients use them as Idempotency-Keys and request ids).
# Exact header, query and cookie values are exempt (never names); none is stored or logged.
UUID = re.compile(rf"{_HEX}{{8}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{12}}")

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


class PaymentRequest(BaseModel):
    """The request body. Amounts are integers in minor units; cards travel only as tokens."""

    model_config = ConfigDict(extra="forbid")

    amount: StrictInt = Field(gt=0)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    customer_id: str = Field(pattern=IDENTIFIER, min_length=1, max_length=64)
    merchant_id: str = Field(pattern=IDENTIFIER, min_length=1, max_length=64)
    card_token: str = Field(pattern=r"^tok_[A-Za-z0-9]{8,64}$")
    merchant_country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    card_country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")


class Rejected(Exception):
    """A request refused before anything is written: status, public message, offending fields."""

    def __init__(self, status: int, error: str, fields: list[str]) -> None:
        super().__init__(error)
        self.status, self.error, self.fields = status, error, fields


def json_response(status: int, body: dict[str, Any]) -> Response[str]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=json.dumps(body))


def rejection_response(rejection: Rejected) -> Response[str]:
    metrics.add_metric(name=contract.PAYMENTS_REJECTED, unit=MetricUnit.Count, value=1)
    logger.info("rejected", extra={"status": rejection.status, "fields": rejection.fields})
    return json_response(rejection.status, {"error": rejection.error, "fields": rejection.fields})


@app.exception_handler(Rejected)
def rejected(rejection: Rejected) -> Response[str]:
    return rejection_response(rejection)


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


KEY_REUSED = Rejected(422, "this Idempotency-Key was already used for a different request", ["Idempotency-Key"])


@app.exception_handler(IdempotencyValidationError)
def key_reused(_: IdempotencyValidationError) -> Response[str]:
    return rejection_response(KEY_REUSED)


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
        raise KEY_REUSED
    return {"transaction_id": transaction_id, "status": item["status"], "fraud_decision": item["fraud_decision"]}


def body_text(event: APIGatewayProxyEventV2) -> str:
    """The request body as text, at most MAX_BODY_BYTES; invalid base64 or UTF-8 is refused, not a crash."""
    raw = event.body or ""
    if len(raw) > MAX_BODY_BYTES * 4 // 3 + 4:  # the base64 form of the largest body allowed
        raise Rejected(400, f"body must be a JSON object of at most {MAX_BODY_BYTES} bytes", ["body"])
    try:
        data = base64.b64decode(raw, validate=True) if event.is_base64_encoded else raw.encode("utf-8")
        text = data.decode("utf-8")
    except (binascii.Error, UnicodeError):
        raise Rejected(400, "body must be a JSON object", ["body"]) from None
    if len(data) > MAX_BODY_BYTES:
        raise Rejected(400, f"body must be a JSON object of at most {MAX_BODY_BYTES} bytes", ["body"])
    return text


def raw_headers(event: APIGatewayProxyEventV2) -> dict[str, str]:
    """The event's headers as sent (`event.headers` builds a case-insensitive copy on every access)."""
    headers: dict[str, str] = event.raw_event.get("headers") or {}
    return headers


def scanned_headers(event: APIGatewayProxyEventV2) -> list[str]:
    """Every header name, and every value but a transport header's in its own format or a UUID."""
    texts = []
    for name, value in raw_headers(event).items():
        texts.append(name)
        transport = TRANSPORT_HEADERS.get(name.lower())
        if (transport is None or not transport.fullmatch(value)) and not UUID.fullmatch(value):
            texts += _decoded(value)
    return texts


def scanned_query(event: APIGatewayProxyEventV2) -> list[str]:
    """Query parameters as parsed and as sent (percent-decoded), and cookies (payload 2.0 keeps them apart)."""
    pairs = list((event.raw_event.get("queryStringParameters") or {}).items())
    pairs += parse_qsl(event.raw_event.get("rawQueryString") or "", keep_blank_values=True)
    pairs += [tuple(cookie.partition("=")[::2]) for cookie in event.raw_event.get("cookies") or []]
    return [text for name, value in pairs for text in (name, *([] if UUID.fullmatch(value) else _decoded(value)))]


def _decoded(value: str) -> list[str]:
    """The value, and its percent-decoded form when it has one (browsers encode cookie text so)."""
    return [value, unquote_plus(value)] if "%" in value or "+" in value else [value]


def carries_card_data(event: APIGatewayProxyEventV2) -> bool:
    """A card number in the body, the query, the cookies or a client header."""
    parts = (body_text(event), scanned_query(event), scanned_headers(event))
    return any(contains_pan(part) for part in parts)


def reject_card_data(resolver: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response[str]:
    """Before any route: a card number anywhere a client writes ends the request."""
    if carries_card_data(resolver.current_event):
        raise Rejected(400, REJECTED_CARD_DATA, [])
    return next_middleware(resolver)


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
    window = now // VELOCITY_WINDOW_SECONDS * VELOCITY_WINDOW_SECONDS
    table = dynamodb.Table(SETTINGS[contract.VELOCITY_TABLE])
    subjects = {"customer": payment.customer_id, "card": hashlib.sha256(payment.card_token.encode()).hexdigest()}
    over = []
    for kind, subject in subjects.items():
        try:
            table.update_item(
                Key={"subject": f"{kind}#{subject}#{window}"},
                UpdateExpression="ADD #n :one SET expires_at = if_not_exists(expires_at, :expires)",
                ConditionExpression="attribute_not_exists(#n) OR #n < :limit",
                ExpressionAttributeNames={"#n": "payments"},
                ExpressionAttributeValues={
                    ":one": 1,
                    ":limit": VELOCITY_LIMIT,
                    ":expires": window + 2 * VELOCITY_WINDOW_SECONDS,
                },
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            over.append(f"more than {VELOCITY_LIMIT} payments per {kind} within {VELOCITY_WINDOW_SECONDS}s")
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


_JSON_TOKEN = re.compile(r'\\.|["\[\]{}]')


def json_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in JSON text, strings skipped: one linear pass, no recursion."""
    depth = deepest = 0
    in_string = False
    for mark in _JSON_TOKEN.findall(text):
        if mark == '"':
            in_string = not in_string
        elif not in_string and mark in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif not in_string and mark in "]}":
            depth -= 1
    return deepest


def parse_body(raw: str) -> dict[str, Any]:
    """The JSON object, refused with 400 when malformed or nested deeper than MAX_JSON_DEPTH."""
    # Depth cannot exceed the number of brackets that open (str.count runs in C).
    if raw.count("{") + raw.count("[") > MAX_JSON_DEPTH and json_depth(raw) > MAX_JSON_DEPTH:
        raise Rejected(400, f"body must be a JSON object nested at most {MAX_JSON_DEPTH} levels", ["body"])
    try:
        body = json.loads(raw)
    except ValueError:
        raise Rejected(400, "body must be a JSON object", ["body"]) from None
    if not isinstance(body, dict):
        raise Rejected(400, "body must be a JSON object", ["body"])
    return body


def field_names(error: ValidationError) -> list[str]:
    """The request's own field names in error; a submitted key that is not one is never echoed."""
    names = set()
    for problem in error.errors():
        location = [str(part) for part in problem["loc"]]
        names.add(location[0] if location and location[0] in PaymentRequest.model_fields else UNKNOWN_FIELD)
    return sorted(names)


def validate_request(event: APIGatewayProxyEventV2) -> tuple[PaymentRequest, str]:
    """The request and its Idempotency-Key, or Rejected (card data was refused by middleware)."""
    headers = {k.lower(): v for k, v in raw_headers(event).items()}
    if not headers.get("content-type", "").lower().startswith("application/json"):
        raise Rejected(415, "content type must be application/json", ["Content-Type"])
    raw = body_text(event)
    body = parse_body(raw)
    # JSON escapes such as \u00a0 or \u0034 are only visible once parsed; without a backslash
    # the parsed text is the raw text the middleware already scanned.
    if "\\" in raw and contains_pan(body):
        raise Rejected(400, REJECTED_CARD_DATA, [])
    key = headers.get(IDEMPOTENCY_HEADER, "")
    if not 8 <= len(key) <= 128 or not key.isprintable():
        raise Rejected(400, "an Idempotency-Key header of 8-128 printable characters is required", ["Idempotency-Key"])
    try:
        request = PaymentRequest.model_validate(body)
    except ValidationError as error:
        raise Rejected(422, "invalid payment request", field_names(error)) from None
    invalid = [
        field
        for field, broken in (
            ("amount", request.amount >= AMOUNT_CEILING),
            ("currency", request.currency not in ALLOWED_CURRENCIES),
        )
        if broken
    ]
    if invalid:
        raise Rejected(422, "invalid payment request", invalid)
    return request, key


def payment_for(request: PaymentRequest, key: str, now: int) -> Payment:
    """The payment a valid request makes: its derived id, hashed key and fingerprint (the same request, the same)."""
    return Payment(
        transaction_id=derive_transaction_id(request.merchant_id, key),
        idempotency_key_hash=key_hash(request.merchant_id, key),
        # Fields in declaration order, so the same request always serializes the same way.
        fingerprint=hashlib.sha256(request.model_dump_json().encode()).hexdigest(),
        requested_at=now,
        **request.model_dump(),
    )


@app.post(contract.PAYMENTS_PATH)
def create_payment() -> Response[str]:
    started = time.perf_counter()
    payment = payment_for(*validate_request(app.current_event), int(time.time()))
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
