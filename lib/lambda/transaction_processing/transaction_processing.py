"""Records payments from the transaction queue and announces the outcome on the payments bus.

Per message, in the profile's transaction store (`transaction_store.py`: the DynamoDB table or
the Aurora ledger): the transaction is recorded as `pending` once (its id comes from the
merchant's Idempotency-Key, so a repeated key can never write twice); a guarded change moves it
to `approved`, `declined` or `failed` (fraud check unavailable) - `review` stays `pending` with
`needs_review` - and, in the ledger, posts the balanced entries and the outbox row in the same
database transaction; then `payment.succeeded` or `payment.failed` goes to the custom bus. Every
step is safe to re-run, so a redelivered message finishes what a failed attempt started.

Batches report partial failures (Powertools batch): a poison message is returned as failed and
reaches the DLQ after `maxReceiveCount`; the rest of the batch is kept.

`dead_letter_handler` consumes that DLQ: a payment whose processing failed for good is marked
`failed` with a reason and announced with `payment.failed`, so none stays pending unseen.
"""

from __future__ import annotations

import os
import time
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from payments_common import PanMaskingFormatter, QueuedPayment
from pydantic import ValidationError
from transaction_store import FINAL_STATUS, DynamoStore, TransactionStore, open_ledger

from lib.contracts import payments as contract

# Read once per execution environment; a missing setting stops the cold start.
SETTINGS = contract.read_settings("transaction_processing", os.environ)

logger = Logger(logger_formatter=PanMaskingFormatter())
tracer = Tracer()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS)
dead_letter_processor = BatchProcessor(event_type=EventType.SQS)
GAVE_UP = "processing failed after every retry"
# A payment validation could not score (its fraud decision is "error") settles failed for this reason.
NOT_SCORED = "fraud scoring unavailable"


def count_stale(account_ids: list[int]) -> None:
    """A settlement Redis could not be told of: those balances may be stale for up to the cache TTL."""
    metrics.add_metric(name=contract.BALANCE_INVALIDATIONS_FAILED, unit=MetricUnit.Count, value=len(account_ids))


# Created once per execution environment; tests replace them. Where the transactions API caches
# balances (CACHE_* set), settling into the ledger invalidates them.
dynamodb: Any = boto3.resource("dynamodb")
events: Any = boto3.client("events")
ledger: TransactionStore | None = (
    open_ledger(
        SETTINGS,
        boto3.client("rds"),
        events,
        SETTINGS[contract.EVENT_BUS_NAME],
        secrets=parameters.SecretsProvider(),
        on_stale=count_stale,
    )
    if SETTINGS[contract.TRANSACTION_STORE] == "ledger"
    else None
)


def store() -> TransactionStore:
    """The profile's transaction store (the ledger's connection is reused across invocations)."""
    if ledger is not None:
        return ledger
    return DynamoStore(dynamodb.Table(SETTINGS[contract.TRANSACTIONS_TABLE]), events, SETTINGS[contract.EVENT_BUS_NAME])


def announce(records: TransactionStore, item: dict[str, Any], status: str) -> None:
    """Publishes the outcome (once) and counts it when this call published it."""
    if not records.announce(item, status):
        return
    if status == "declined":
        metrics.add_metric(name=contract.PAYMENTS_DECLINED, unit=MetricUnit.Count, value=1)
    elif status == "failed":
        metrics.add_metric(name=contract.PAYMENTS_FAILED, unit=MetricUnit.Count, value=1)
    metrics.add_metric(
        name=contract.PAYMENT_LATENCY,
        unit=MetricUnit.Milliseconds,
        value=max(0, time.time() - int(item["timestamp"])) * 1000,
    )


def own_record(records: TransactionStore, queued: QueuedPayment, conflict: str) -> dict[str, Any] | None:
    """The transaction's item, recorded as pending if new; None when it belongs to another request.

    A different request under a recorded transaction id never settles or announces anything.
    """
    item = records.record_pending(queued)
    if item.get("fingerprint") == queued.payment.fingerprint:
        return item
    logger.warning(conflict, extra={"transaction_id": queued.payment.transaction_id})
    metrics.add_metric(name=contract.CONFLICTS_IGNORED, unit=MetricUnit.Count, value=1)
    return None


@tracer.capture_method
def record_handler(record: SQSRecord) -> None:
    queued = QueuedPayment.model_validate_json(record.body)
    records = store()
    item = own_record(records, queued, "conflicting message ignored")
    if item is None:
        return
    # Only the decision recorded with the transaction settles it, whatever a later message says.
    final = FINAL_STATUS[str(item["fraud_decision"])]
    reason = NOT_SCORED if final == "failed" else None
    status = records.settle(item, final, reason)
    if status != "pending":
        announce(records, item, status)
    metrics.add_metric(name=contract.PAYMENTS_PROCESSED, unit=MetricUnit.Count, value=1)
    fields = {"transaction_id": queued.payment.transaction_id, "status": status}
    logger.info(
        contract.PAYMENT_PROCESSED, extra={**fields, "failure_reason": reason} if status == "failed" else fields
    )


@tracer.capture_lambda_handler
@metrics.log_metrics
@logger.inject_lambda_context(log_event=False)
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)


@tracer.capture_method
def dead_letter_record_handler(record: SQSRecord) -> None:
    """Every step is safe to re-run: record, mark failed, announce once."""
    try:
        queued = QueuedPayment.model_validate_json(record.body)
    except ValidationError:
        # No payment to mark. The body is not logged (it is not known to be free of card data).
        logger.error("unreadable dead letter dropped", extra={"message_id": record.message_id})
        metrics.add_metric(name=contract.UNREADABLE_DEAD_LETTERS, unit=MetricUnit.Count, value=1)
        return
    records = store()
    item = own_record(records, queued, "conflicting dead letter ignored")
    if item is None:
        return
    status = records.settle(item, "failed", GAVE_UP)
    if item["status"] == "pending" and status == "failed":
        metrics.add_metric(name=contract.PAYMENTS_STUCK, unit=MetricUnit.Count, value=1)
    announce(records, {**item, "status": status}, status)
    logger.info(
        contract.PAYMENT_PROCESSED,
        extra={"transaction_id": queued.payment.transaction_id, "status": status, "failure_reason": GAVE_UP},
    )


@tracer.capture_lambda_handler
@metrics.log_metrics
@logger.inject_lambda_context(log_event=False)
def dead_letter_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=dead_letter_record_handler, processor=dead_letter_processor, context=context
    )
