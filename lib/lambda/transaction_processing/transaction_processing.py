"""Records payments from the transaction queue and announces the outcome on the payments bus.

Per message: a conditional put creates the transaction as `pending` (its id comes from the
merchant's Idempotency-Key, so a repeated key can never write twice); a guarded update moves it
to `approved`, `declined` or `failed` (fraud check unavailable) - `review` stays `pending` with
`needs_review`; then `payment.succeeded` or `payment.failed` goes to the custom bus. Every step
is safe to re-run, so a redelivered message finishes what a failed attempt started.

Batches report partial failures (Powertools batch): a poison message is returned as failed and
reaches the DLQ after `maxReceiveCount`; the rest of the batch is kept.

`dead_letter_handler` consumes that DLQ: a payment whose processing failed for good is marked
`failed` with a reason and announced with `payment.failed`, so none stays pending unseen.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError
from payments_common import PanMaskingFormatter, QueuedPayment
from pydantic import ValidationError

from lib.contracts import payments as contract

# Read once per execution environment; a missing setting stops the cold start.
SETTINGS = contract.read_settings("transaction_processing", os.environ)

logger = Logger(logger_formatter=PanMaskingFormatter())
tracer = Tracer()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS)
dead_letter_processor = BatchProcessor(event_type=EventType.SQS)
GAVE_UP = "processing failed after every retry"
RETENTION_SECONDS = 400 * 24 * 3600  # TTL beyond the PCI year; PITR and streams keep history
FINAL_STATUS = {"approve": "approved", "decline": "declined", "error": "failed", "review": "pending"}

# Created once per execution environment; tests replace them.
dynamodb: Any = boto3.resource("dynamodb")
events: Any = boto3.client("events")


def record_pending(table: Any, queued: QueuedPayment) -> dict[str, Any]:
    """Creates the item once; on a repeat returns the first one unchanged."""
    payment, now = queued.payment, int(time.time())
    item = {
        **payment.model_dump(exclude_none=True),
        "timestamp": payment.requested_at,
        "status": "pending",
        "fraud_decision": queued.fraud.decision,
        "fraud_reasons": queued.fraud.reasons,
        "created_at": now,
        "expires_at": now + RETENTION_SECONDS,
    }
    try:
        table.put_item(Item=item, ConditionExpression="attribute_not_exists(transaction_id)")
        return item
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        logger.info("transaction already recorded", extra={"transaction_id": payment.transaction_id})
        existing: dict[str, Any] = table.get_item(Key={"transaction_id": payment.transaction_id}, ConsistentRead=True)[
            "Item"
        ]
        return existing


def settle(table: Any, item: dict[str, Any], decision: str) -> str:
    """pending -> final status, guarded so a settled transaction never changes again."""
    if item["status"] != "pending":
        return str(item["status"])  # settled by an earlier attempt
    final = FINAL_STATUS[decision]
    key = {"transaction_id": item["transaction_id"]}
    names, pending = {"#s": "status"}, {":pending": "pending"}
    try:
        if final == "pending":
            table.update_item(
                Key=key,
                UpdateExpression="SET needs_review = :yes",
                ConditionExpression="#s = :pending",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues={**pending, ":yes": True},
            )
        else:
            table.update_item(
                Key=key,
                UpdateExpression="SET #s = :final, settled_at = :now",
                ConditionExpression="#s = :pending",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues={**pending, ":final": final, ":now": int(time.time())},
            )
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        return str(table.get_item(Key=key, ConsistentRead=True)["Item"]["status"])
    return final


def announce(table: Any, item: dict[str, Any], status: str) -> None:
    """Puts the outcome event from the recorded transaction, then marks it announced so a re-run does not repeat it."""
    detail_type = contract.PAYMENT_SUCCEEDED if status == "approved" else contract.PAYMENT_FAILED
    detail = {
        "transaction_id": item["transaction_id"],
        "status": status,
        "amount": int(item["amount"]),
        "currency": item["currency"],
        "customer_id": item["customer_id"],
        "merchant_id": item["merchant_id"],
        "reasons": list(item.get("fraud_reasons", [])),
    }
    response = events.put_events(
        Entries=[
            {
                "Source": contract.EVENT_SOURCE,
                "DetailType": detail_type,
                "Detail": json.dumps(detail),
                "EventBusName": SETTINGS[contract.EVENT_BUS_NAME],
            }
        ]
    )
    if response.get("FailedEntryCount"):
        raise RuntimeError(f"EventBridge refused the {detail_type} event")
    table.update_item(
        Key={"transaction_id": item["transaction_id"]},
        UpdateExpression="SET announced = :yes",
        ExpressionAttributeValues={":yes": True},
    )
    if status == "declined":
        metrics.add_metric(name=contract.PAYMENTS_DECLINED, unit=MetricUnit.Count, value=1)
    elif status == "failed":
        metrics.add_metric(name=contract.PAYMENTS_FAILED, unit=MetricUnit.Count, value=1)
    metrics.add_metric(
        name=contract.PAYMENT_LATENCY,
        unit=MetricUnit.Milliseconds,
        value=max(0, time.time() - int(item["timestamp"])) * 1000,
    )


def own_record(table: Any, queued: QueuedPayment, conflict: str) -> dict[str, Any] | None:
    """The transaction's item, recorded as pending if new; None when it belongs to another request.

    A different request under a recorded transaction id never settles or announces anything.
    """
    item = record_pending(table, queued)
    if item.get("fingerprint") == queued.payment.fingerprint:
        return item
    logger.warning(conflict, extra={"transaction_id": queued.payment.transaction_id})
    metrics.add_metric(name=contract.CONFLICTS_IGNORED, unit=MetricUnit.Count, value=1)
    return None


@tracer.capture_method
def record_handler(record: SQSRecord) -> None:
    queued = QueuedPayment.model_validate_json(record.body)
    table = dynamodb.Table(SETTINGS[contract.TRANSACTIONS_TABLE])
    item = own_record(table, queued, "conflicting message ignored")
    if item is None:
        return
    # Only the decision recorded with the transaction settles it, whatever a later message says.
    status = settle(table, item, str(item["fraud_decision"]))
    if status != "pending" and not item.get("announced"):
        announce(table, item, status)
    metrics.add_metric(name=contract.PAYMENTS_PROCESSED, unit=MetricUnit.Count, value=1)
    logger.info("processed", extra={"transaction_id": queued.payment.transaction_id, "status": status})


@tracer.capture_lambda_handler
@metrics.log_metrics
@logger.inject_lambda_context(log_event=False)
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)


def give_up(table: Any, item: dict[str, Any]) -> str:
    """pending -> failed with the reason; a transaction settled meanwhile keeps its status."""
    if item["status"] != "pending":
        return str(item["status"])
    key = {"transaction_id": item["transaction_id"]}
    try:
        table.update_item(
            Key=key,
            UpdateExpression="SET #s = :failed, failure_reason = :why, settled_at = :now",
            ConditionExpression="#s = :pending",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={
                ":failed": "failed",
                ":why": GAVE_UP,
                ":pending": "pending",
                ":now": int(time.time()),
            },
        )
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        return str(table.get_item(Key=key, ConsistentRead=True)["Item"]["status"])
    return "failed"


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
    table = dynamodb.Table(SETTINGS[contract.TRANSACTIONS_TABLE])
    item = own_record(table, queued, "conflicting dead letter ignored")
    if item is None:
        return
    status = give_up(table, item)
    if not item.get("announced"):
        announce(table, {**item, "status": status}, status)
    logger.info("dead letter settled", extra={"transaction_id": queued.payment.transaction_id, "status": status})


@tracer.capture_lambda_handler
@metrics.log_metrics
@logger.inject_lambda_context(log_event=False)
def dead_letter_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=dead_letter_record_handler, processor=dead_letter_processor, context=context
    )
