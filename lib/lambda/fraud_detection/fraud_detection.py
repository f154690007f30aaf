"""Fraud scoring: the deterministic rules of `fraud_rules.py`, thresholds from the environment.

The stack sets the thresholds from configuration; they are read once at cold start.

Velocity is not scored here: validation counts each payment atomically before it asks for a score
(a count of recorded transactions lags the queue, so a burst would pass it).
"""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext
from fraud_rules import Rules, score
from payments_common import FraudRequest, PanMaskingFormatter

from lib.contracts import payments as contract

# Read once per execution environment; a missing setting stops the cold start.
SETTINGS = contract.read_settings("fraud_detection", os.environ)

logger = Logger(logger_formatter=PanMaskingFormatter())
tracer = Tracer()
metrics = Metrics()
RULES = Rules.from_settings(SETTINGS)


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
