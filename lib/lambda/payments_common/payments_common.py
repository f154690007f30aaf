"""Shared by the payment functions (packaged into each): card-number detection and masking, and
the payment models. Names the stack also uses (settings, events, metrics) are in
`lib.contracts.payments`, packaged alongside.

A card number (PAN) must never be accepted, logged or stored: anything of 13-19 digits, with or
without spaces or hyphens, that passes the Luhn check is treated as one, wherever it appears.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.logging.types import PowertoolsLogRecord
from pydantic import BaseModel, ConfigDict, Field

# Stable namespace: the same merchant and Idempotency-Key always give the same transaction id.
TRANSACTION_NAMESPACE = uuid.UUID("6f1c2b7e-7f0e-4a8e-9d35-3b0c9a3f5e21")

_PAN_CANDIDATE = re.compile(r"(?<![\d])\d(?:[ -]?\d){12,18}(?![\d])")
REDACTED = "[REDACTED]"


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _pan_matches(text: str) -> Iterator[re.Match[str]]:
    for match in _PAN_CANDIDATE.finditer(text):
        digits = re.sub(r"[ -]", "", match.group())
        if 13 <= len(digits) <= 19 and luhn_valid(digits):
            yield match


def contains_pan(value: Any) -> bool:
    """True if any string, number or key anywhere in `value` looks like a card number."""
    if isinstance(value, dict):
        return any(contains_pan(k) or contains_pan(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(contains_pan(v) for v in value)
    if isinstance(value, str | int | Decimal) and not isinstance(value, bool):
        return next(_pan_matches(str(value)), None) is not None
    return False


def mask_pans(text: str) -> str:
    for match in reversed(list(_pan_matches(text))):
        text = text[: match.start()] + REDACTED + text[match.end() :]
    return text


class PanMaskingFormatter(LambdaPowertoolsFormatter):
    """Powertools JSON logs with anything card-number-like replaced before it is written."""

    def serialize(self, log: dict[str, Any] | PowertoolsLogRecord) -> str:
        return mask_pans(super().serialize(log))


def transaction_id(merchant_id: str, idempotency_key: str) -> str:
    return str(uuid.uuid5(TRANSACTION_NAMESPACE, f"{merchant_id}\x1f{idempotency_key}"))


class Payment(BaseModel):
    """A validated payment as it travels between the functions (no card data, only a token)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    transaction_id: str
    idempotency_key: str
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
