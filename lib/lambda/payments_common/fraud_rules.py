"""Deterministic fraud rules: approve | review | decline with reasons, from the payment alone.

Shared by the fraud function (document 002, 004's payment path) and the transactions API
(document 001), so a payment is scored the same wherever it enters.
- amount: at or above the review amount -> review; at or above the decline amount -> decline;
- geography: merchant country differs from the card's issuing country -> review; either country
  missing -> review (`missing_country="review"`, the default) or the rule is skipped ("ignore").
Any decline reason declines; otherwise any review reason reviews; otherwise approve.

Velocity (`Velocity`) is counted by each entry point where its payments are kept, atomically
before scoring: the payment path in DynamoDB counters, the transactions API in the ledger. Both
count per customer and per card token (by its hash, never the token) and decline what is over.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from payments_common import FraudDecision, Payment

from lib.contracts import payments as contract


@dataclass(frozen=True)
class Rules:
    review_amount: int
    decline_amount: int
    # "ignore" skips the geography rule for a payment without both countries; anything else reviews it.
    missing_country: str = "review"

    @classmethod
    def from_settings(cls, settings: Mapping[str, str]) -> Rules:
        return cls(
            review_amount=int(settings[contract.FRAUD_REVIEW_AMOUNT]),
            decline_amount=int(settings[contract.FRAUD_DECLINE_AMOUNT]),
            missing_country=settings[contract.FRAUD_MISSING_COUNTRY],
        )


@dataclass(frozen=True)
class Velocity:
    """At most `limit` payments per customer, and per card token, within `window_seconds`."""

    window_seconds: int
    limit: int

    @classmethod
    def from_settings(cls, settings: Mapping[str, str]) -> Velocity:
        return cls(
            window_seconds=int(settings[contract.FRAUD_VELOCITY_WINDOW_SECONDS]),
            limit=int(settings[contract.FRAUD_VELOCITY_LIMIT]),
        )

    def reason(self, kind: str) -> str:
        return f"more than {self.limit} payments per {kind} within {self.window_seconds}s"


def velocity_subjects(payment: Payment) -> dict[str, str]:
    """What velocity counts a payment against: its customer, and its card token by SHA-256."""
    return {"customer": payment.customer_id, "card": card_token_hash(payment)}


def card_token_hash(payment: Payment) -> str:
    return hashlib.sha256(payment.card_token.encode()).hexdigest()


def score(payment: Payment, rules: Rules) -> FraudDecision:
    """Pure scoring: the payment and the rules are the only inputs."""
    declines, reviews = [], []
    if payment.amount >= rules.decline_amount:
        declines.append(f"amount {payment.amount} at or above decline threshold {rules.decline_amount}")
    elif payment.amount >= rules.review_amount:
        reviews.append(f"amount {payment.amount} at or above review threshold {rules.review_amount}")
    if payment.merchant_country and payment.card_country:
        if payment.merchant_country != payment.card_country:
            reviews.append(
                f"merchant country {payment.merchant_country} differs from card country {payment.card_country}"
            )
    elif rules.missing_country != "ignore":  # fails closed: only an explicit "ignore" skips the rule
        reviews.append("merchant or card country missing")
    if declines:
        return FraudDecision(decision="decline", reasons=declines + reviews)
    if reviews:
        return FraudDecision(decision="review", reasons=reviews)
    return FraudDecision(decision="approve", reasons=[])
