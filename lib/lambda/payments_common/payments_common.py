"""Shared by the payment functions (packaged into each): card-number detection and masking, and
the payment models. Names the stack also uses (settings, events, metrics) are in
`lib.contracts.payments`, packaged alongside.

The card-number detector itself is `card_data.py` (standard library only, so the instances'
health service carries it too); the functions import it from there.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.logging.types import PowertoolsLogRecord
from card_data import mask_pans, pan_spans
from pydantic import BaseModel, ConfigDict, Field

# Stable namespace: the same merchant and Idempotency-Key always give the same transaction id.
TRANSACTION_NAMESPACE = uuid.UUID("6f1c2b7e-7f0e-4a8e-9d35-3b0c9a3f5e21")
_NAMESPACE_BYTES = TRANSACTION_NAMESPACE.bytes

# Keys Powertools fills itself, in formats that are not card numbers but can look like one once
# any punctuation separates digits (a timestamp's date, time and milliseconds hold 13+ digits).
LOGGER_KEYS = frozenset({"timestamp", "xray_trace_id", "function_request_id", "function_arn"})


class PanMaskingFormatter(LambdaPowertoolsFormatter):
    """Powertools JSON logs with anything card-number-like replaced before it is written.

    Every value is masked except the logger's own bookkeeping keys; a key that looks like a card
    number is masked too.
    """

    def serialize(self, log: dict[str, Any] | PowertoolsLogRecord) -> str:
        record = dict(log)
        masked = {mask_pans(str(key)): value if key in LOGGER_KEYS else _masked(value) for key, value in record.items()}
        return super().serialize(masked)


def _masked(value: Any) -> Any:
    """A string with card numbers masked; anything else holding one becomes its masked JSON text."""
    if isinstance(value, str):
        return mask_pans(value)
    text = json.dumps(value, default=str)
    return mask_pans(text) if next(pan_spans(text), None) is not None else value


def transaction_id(merchant_id: str, idempotency_key: str) -> str:
    """uuid5(TRANSACTION_NAMESPACE, merchant and key), built from the SHA-1 digest as RFC 4122 does.

    Equal to `str(uuid.uuid5(...))` (a test checks), without its objects: it is on every request.
    """
    name = f"{merchant_id}\x1f{idempotency_key}".encode()
    digest = bytearray(hashlib.sha1(_NAMESPACE_BYTES + name, usedforsecurity=False).digest()[:16])
    digest[6] = digest[6] & 0x0F | 0x50  # version 5
    digest[8] = digest[8] & 0x3F | 0x80  # RFC 4122 variant
    text = digest.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def key_hash(merchant_id: str, idempotency_key: str) -> str:
    """The only form in which a client's Idempotency-Key is kept (it is client text: never stored)."""
    return hashlib.sha256(f"{merchant_id}\x1f{idempotency_key}".encode()).hexdigest()


class Payment(BaseModel):
    """A validated payment as it travels between the functions (no card data, only a token)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    transaction_id: str
    idempotency_key_hash: str
    # SHA-256 of the validated request: the same transaction id must always carry the same request.
    fingerprint: str
    amount: int = Field(gt=0)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    customer_id: str
    merchant_id: str
    card_token: str
    merchant_country: str | None = None
    card_country: str | None = None
    requested_at: int


class FraudDecision(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    decision: str = Field(pattern=r"^(approve|review|decline|error)$")
    reasons: list[str] = []


class FraudRequest(BaseModel):
    """What the validation function sends the fraud function (parsed there with `event_parser`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    payment: Payment


class QueuedPayment(BaseModel):
    """The transaction-queue message: the payment and its fraud decision."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    payment: Payment
    fraud: FraudDecision
