"""Fraud scoring: deterministic, configurable rules that return approve | review | decline with reasons.

Rules (thresholds from the environment, set by the stack from configuration and read once at
cold start):
- amount: at or above FRAUD_REVIEW_AMOUNT -> review; at or above FRAUD_DECLINE_AMOUNT -> decline;
- velocity: more than FRAUD_VELOCITY_LIMIT transactions by the customer within
  FRAUD_VELOCITY_WINDOW_SECONDS (a COUNT query on customer-id-timestamp-index) -> decline;
- geography: merchant country differs from the card's issuing country -> review; either country
  missing -> review (FRAUD_MISSING_COUNTRY=review, the default) or the rule is skipped (ignore).
Any decline reason declines; otherwise any review reason reviews; otherwise approve.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext
from boto3.dynamodb.conditions import Key
from payments_common import FraudDecision, FraudRequest, PanMaskingFormatter, Payment

from lib.contracts import payments as contract

# Read once per execution environment; a missing setting stops the cold start.
SETTINGS = contract.read_settings("fraud_detection", os.environ)

logger = Logger(logger_formatter=PanMaskingFormatter())
tracer = Tracer()
metrics = Metrics()

# Created once per execution environment; tests replace it.
dynamodb: Any = boto3.resource("dynamodb")


@dataclass(frozen=True)
class Rules:
    review_amount: int
    decline_amount: int
    velocity_window_seconds: int
    velocity_limit: int
    # "review": a payment without both countries cannot pass the geography rule; "ignore": skip it.
    missing_country: str = "review"

    @classmethod
    def from_settings(cls, settings: dict[str, str]) -> Rules:
        return cls(
            review_amount=int(settings[contract.FRAUD_REVIEW_AMOUNT]),
            decline_amount=int(settings[contract.FRAUD_DECLINE_AMOUNT]),
            velocity_window_seconds=int(settings[contract.FRAUD_VELOCITY_WINDOW_SECONDS]),
            velocity_limit=int(settings[contract.FRAUD_VELOCITY_LIMIT]),
            missing_country=settings[contract.FRAUD_MISSING_COUNTRY],
        )


RULES = Rules.from_settings(SETTINGS)


def score(payment: Payment, rules: Rules, recent_count: Callable[[str, int], int], now: int) -> FraudDecision:
    """Pure scoring: `recent_count(customer_id, since_epoch)` is the only outside input."""
    declines, reviews = [], []
    if payment.amount >= rules.decline_amount:
        declines.append(f"amount {payment.amount} at or above decline threshold {rules.decline_amount}")
    elif payment.amount >= rules.review_amount:
        reviews.append(f"amount {payment.amount} at or above review threshold {rules.review_amount}")
    count = recent_count(payment.customer_id, now - rules.velocity_window_seconds)
    if count >= rules.velocity_limit:
        declines.append(
            f"{count} transactions in the last {rules.velocity_window_seconds}s (limit {rules.velocity_limit})"
        )
    if payment.merchant_country and payment.card_country:
        if payment.merchant_country != payment.card_country:
            reviews.append(
                f"merchant country {payment.merchant_country} differs from card country {payment.card_country}"
            )
    elif rules.missing_country == "review":
        reviews.append("merchant or card country missing")
    if declines:
        return FraudDecision(decision="decline", reasons=declines + reviews)
    if reviews:
        return FraudDecision(decision="review", reasons=reviews)
    return FraudDecision(decision="approve", reasons=[])


def table_recent_count(table_name: str) -> Callable[[str, int], int]:
    table = dynamodb.Table(table_name)

    def count(customer_id: str, since: int) -> int:
        total, kwargs = (
            0,
            {
                "IndexName": contract.CUSTOMER_INDEX,
                "KeyConditionExpression": Key("customer_id").eq(customer_id) & Key("timestamp").gte(since),
                "Select": "COUNT",
            },
        )
        while True:
            page = table.query(**kwargs)
            total += int(page["Count"])
            if "LastEvaluatedKey" not in page:
                return total
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    return count


@tracer.capture_lambda_handler
@metrics.log_metrics
@logger.inject_lambda_context(log_event=False)
@event_parser(model=FraudRequest)
def handler(event: FraudRequest, context: LambdaContext) -> dict[str, Any]:
    payment = event.payment
    logger.append_keys(transaction_id=payment.transaction_id)
    decision = score(payment, RULES, table_recent_count(SETTINGS[contract.TRANSACTIONS_TABLE]), int(time.time()))
    metrics.add_dimension(name=contract.DECISION_DIMENSION, value=decision.decision)
    metrics.add_metric(name=contract.FRAUD_DECISIONS, unit=MetricUnit.Count, value=1)
    logger.info("scored", extra={"decision": decision.decision, "reasons": decision.reasons})
    result: dict[str, Any] = decision.model_dump()
    return result
