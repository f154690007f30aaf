"""What a payment request must be, wherever it enters: the HTTP request rules shared by
`POST /payments` (payment_validation) and `POST /transactions` (transactions_api).

A card number anywhere a client writes (body, query, cookies, any header but a transport header
in its own format) ends the request with 400 before any route runs (`reject_card_data`); the
value is never logged, stored or echoed. Then: 415 for a non-JSON content type, 400 for a
malformed, oversized or deeply nested body or a missing Idempotency-Key, 422 for invalid fields
(named, never echoed). The same request under the same key always makes the same payment.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from card_data import contains_pan
from payments_common import Payment, key_hash
from payments_common import transaction_id as derive_transaction_id
from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError

from lib.contracts import payments as contract

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


@dataclass(frozen=True)
class Limits:
    """What the stack configures: the currencies accepted and the amount ceiling (minor units, exclusive)."""

    currencies: frozenset[str]
    amount_ceiling: int

    @classmethod
    def from_settings(cls, currencies: str, amount_ceiling: str) -> Limits:
        return cls(frozenset(currencies.split(",")), int(amount_ceiling))


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


def key_reused() -> Rejected:
    """A new rejection each time: a shared exception instance would keep every traceback raised through it."""
    return Rejected(422, "this Idempotency-Key was already used for a different request", ["Idempotency-Key"])


def json_response(status: int, body: dict[str, Any]) -> Response[str]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=json.dumps(body))


def rejection_response(rejection: Rejected, logger: Any, metrics: Any | None) -> Response[str]:
    """The rejection as JSON `{error, fields}`, logged by status and field names only, and counted
    as a rejected payment when `metrics` is given (a refused read is not a payment)."""
    if metrics is not None:
        metrics.add_metric(name=contract.PAYMENTS_REJECTED, unit=MetricUnit.Count, value=1)
    logger.info("rejected", extra={"status": rejection.status, "fields": rejection.fields})
    return json_response(rejection.status, {"error": rejection.error, "fields": rejection.fields})


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
    """A card number in the body, the path, the query, the cookies or a client header."""
    parts = (body_text(event), event.raw_event.get("rawPath") or "", scanned_query(event), scanned_headers(event))
    return any(contains_pan(part) for part in parts)


def reject_card_data(resolver: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response[str]:
    """Before any route: a card number anywhere a client writes ends the request."""
    if carries_card_data(resolver.current_event):
        raise Rejected(400, REJECTED_CARD_DATA, [])
    return next_middleware(resolver)


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


def validate_request(event: APIGatewayProxyEventV2, limits: Limits) -> tuple[PaymentRequest, str]:
    """The request and its Idempotency-Key, or Rejected (card data is refused first, by `reject_card_data`)."""
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
            ("amount", request.amount >= limits.amount_ceiling),
            ("currency", request.currency not in limits.currencies),
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
