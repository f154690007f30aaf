"""Fraud scoring: deterministic, configurable rules that return approve | review | decline with reasons.

Rules (thresholds from the environment, set by the stack from configuration and read once at
cold start):
- amount: at or above FRAUD_REVIEW_AMOUNT -> review; at or above FRAUD_DECLINE_AMOUNT -> decline;
- geography: merchant country differs from the card's issuing country -> review; either country
  missing -> review (FRAUD_MISSING_COUNTRY=review, the default) or the rule is skipped (ignore).
Any decline reason declines; otherwise any review reason reviews; otherwise approve.

Velocity is not scored here: validation counts each payment atomically before it asks for a score
(a count of recorded transactions lags the queue, so a burst would pass it).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext
from payments_common import FraudDecision, FraudRequest, PanMaskingFormatter, Payment

from lib.contracts import payments as contract

# Read once per execution environment; a missing setting stops the cold start.
SETTINGS = contract.read_settings("fraud_detection", os.environ)

logger = Logger(logger_formatter=PanMaskingFormatter())
tracer = Tracer()
metrics = Metrics()


@dataclass(frozen=True)
class Rules:
    review_amount: int
    decline_amount: int
    # "ignore" skips the geography rule for a payment without both countries; anything else reviews it.
    missing_country: str = "review"

    @classmethod
    def from_settings(cls, settings: dict[str, str]) -> Rules:
        return cls(
            review_amount=int(settings[contract.FRAUD_REVIEW_AMOUNT]),
            decline_amount=int(settings[contract.FRAUD_DECLINE_AMOUNT]),
            missing_country=settings[contract.FRAUD_MISSING_COUNTRY],
        )


RULES = Rules.from_settings(SETTINGS)


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


@tracer.capture_lambda_handler
@metrics.log_metrics
@logger.inject_lambda_context(log_event=False)
@event_parser(model=FraudRequest)
def handler(event: FraudRequest, context: LambdaContext) -> dict[str, Any]:
    payment = event.payment
    logger.append_keys(transaction_id=payment.transaction_id)
    decision = score(payment, RULES)
    metrics.add_dimension(name=contract.DECISION_DIMENSION, value=decision.decision)
    metrics.add_metric(name=contract.FRAUD_DECISIONS, unit=MetricUnit.Count, value=1)
    logger.info("scored", extra={"decision": decision.decision, "reasons": decision.reasons})
    result: dict[str, Any] = decision.model_dump()
    return result
