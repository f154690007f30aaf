"""Validation -> fraud -> processing -> DynamoDB -> EventBridge (real rule patterns) on moto."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from card_data import contains_pan, luhn_valid, mask_pans
from payments_common import FraudDecision, Payment, QueuedPayment

from lib.payments import failed_payments_query
from tests.lambdas.payments.conftest import (
    Emulated,
    FakeContext,
    api_event,
    fraud_detection,
    payment_requests,
    payment_validation,
    scored_payment,
    sqs_event,
    transaction_processing,
    valid_request,
)
from tests.queries import selects

PAN = "4111 1111 1111 1111"  # a test Visa number that passes Luhn


def submit(emulated: Emulated, event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = payment_validation.handler(event, FakeContext())
    return response["statusCode"], json.loads(response["body"])


def process_queue(emulated: Emulated) -> dict[str, Any]:
    """What the SQS event source mapping does: receive a batch, invoke, delete the successes."""
    messages = emulated.sqs.receive_message(QueueUrl=emulated.transaction_queue, MaxNumberOfMessages=10).get(
        "Messages", []
    )
    if not messages:  # the event source mapping never invokes with an empty batch
        return {"batchItemFailures": []}
    event = sqs_event([m["Body"] for m in messages], emulated.transaction_queue_arn)
    for record, message in zip(event["Records"], messages, strict=True):
        record["messageId"] = message["MessageId"]
    try:
        result: dict[str, Any] = transaction_processing.handler(event, FakeContext())
    except BatchProcessingError:  # every record failed: the whole batch goes back to the queue
        result = {"batchItemFailures": [{"itemIdentifier": m["MessageId"]} for m in messages]}
    failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
    for message in messages:
        if message["MessageId"] not in failed:
            emulated.sqs.delete_message(QueueUrl=emulated.transaction_queue, ReceiptHandle=message["ReceiptHandle"])
    return result


def test_valid_payment_flows_to_dynamodb_and_the_analytics_queue(emulated: Emulated) -> None:
    status, body = submit(emulated, api_event(valid_request()))
    assert status == 202
    assert body["status"] == "pending" and body["fraud_decision"] == "approve"
    assert process_queue(emulated) == {"batchItemFailures": []}
    (item,) = emulated.table_items()
    assert item["transaction_id"] == body["transaction_id"]
    assert item["status"] == "approved" and item["amount"] == 1250 and item["announced"] is True
    assert item["expires_at"] > time.time() + 365 * 24 * 3600
    (analytics,) = emulated.drain(emulated.analytics_queue)
    event = json.loads(analytics)
    assert event["source"] == "tap.payments" and event["detail-type"] == "payment.succeeded"
    assert event["detail"]["transaction_id"] == body["transaction_id"]
    assert emulated.drain(emulated.alerts_queue) == []


def test_repeated_idempotency_key_returns_the_same_response_and_one_item(emulated: Emulated) -> None:
    first = submit(emulated, api_event(valid_request(), key="order-7781-attempt"))
    second = submit(emulated, api_event(valid_request(), key="order-7781-attempt"))
    assert first == second and first[0] == 202
    process_queue(emulated)
    assert len(emulated.table_items()) == 1
    # Even a duplicate delivery of the queued message never writes twice or announces twice.
    (item,) = emulated.table_items()
    payment = Payment.model_validate(
        {k: item[k] for k in Payment.model_fields if k in item}
        | {"requested_at": int(item["timestamp"]), "amount": int(item["amount"])}
    )
    duplicate = QueuedPayment(payment=payment, fraud=FraudDecision(decision="approve")).model_dump_json()
    assert transaction_processing.handler(sqs_event([duplicate], emulated.transaction_queue_arn), FakeContext()) == {
        "batchItemFailures": []
    }
    assert len(emulated.table_items()) == 1
    assert len(emulated.drain(emulated.analytics_queue)) == 1


def test_same_key_with_a_different_request_is_refused(emulated: Emulated) -> None:
    submit(emulated, api_event(valid_request(), key="order-7782-attempt"))
    status, body = submit(emulated, api_event(valid_request(amount=999), key="order-7782-attempt"))
    assert status == 422 and body["fields"] == ["Idempotency-Key"]


@pytest.mark.parametrize(
    "body",
    [
        valid_request(customer_id=PAN),
        valid_request(card_token="4111111111111111"),
        valid_request(note=f"card {PAN.replace(' ', '-')}"),
        valid_request(metadata={"nested": [{"pan": 4111111111111111}]}),
    ],
    ids=["customer_id", "card_token", "free-text-with-hyphens", "nested-number"],
)
def test_card_number_anywhere_is_rejected_and_never_written(emulated: Emulated, body: dict[str, Any]) -> None:
    status, response = submit(emulated, api_event(body))
    assert status == 400
    assert response == {"error": payment_requests.REJECTED_CARD_DATA, "fields": []}
    process_queue(emulated)
    written = emulated.everything_written()
    assert "4111111111111111" not in written.replace(" ", "").replace("-", "")
    assert emulated.table_items() == []


@pytest.mark.parametrize(
    ("event", "status", "fields"),
    [
        (api_event("{not json"), 400, ["body"]),
        (api_event("[1, 2]"), 400, ["body"]),
        (api_event(valid_request(), content_type="text/plain"), 415, ["Content-Type"]),
        (api_event(valid_request(), key=None), 400, ["Idempotency-Key"]),
        (api_event(valid_request(amount=-5)), 422, ["amount"]),
        (api_event(valid_request(amount=12.5)), 422, ["amount"]),
        (api_event(valid_request(amount=10_000_000)), 422, ["amount"]),
        (api_event(valid_request(currency="XYZ")), 422, ["currency"]),
        (api_event(valid_request(currency="usd")), 422, ["currency"]),
        (api_event({k: v for k, v in valid_request().items() if k != "merchant_id"}), 422, ["merchant_id"]),
        (api_event(valid_request(card_token="not-a-token")), 422, ["card_token"]),
    ],
    ids=[
        "malformed",
        "not-object",
        "content-type",
        "no-key",
        "negative",
        "fractional",
        "ceiling",
        "unknown-currency",
        "lowercase",
        "missing",
        "token",
    ],
)
def test_bad_requests_get_the_right_status_and_nothing_is_written(
    emulated: Emulated, event: dict[str, Any], status: int, fields: list[str]
) -> None:
    got_status, body = submit(emulated, event)
    assert (got_status, body["fields"]) == (status, fields)
    assert set(body) == {"error", "fields"} and "Traceback" not in body["error"]
    assert emulated.peek(emulated.transaction_queue) == []
    assert emulated.dynamodb.Table("payment-idempotency-test").scan()["Items"] == []


def test_declined_payment_is_recorded_and_alerted(emulated: Emulated) -> None:
    status, body = submit(emulated, api_event(valid_request(amount=2_500_000)))
    assert status == 202 and body["fraud_decision"] == "decline"
    process_queue(emulated)
    (item,) = emulated.table_items()
    assert item["status"] == "declined" and "decline threshold" in item["fraud_reasons"][0]
    assert emulated.drain(emulated.analytics_queue) == []
    (notification,) = emulated.drain(emulated.alerts_queue)
    message = json.loads(notification)
    assert message["detail-type"] == "payment.failed" and message["detail"]["status"] == "declined"


def test_review_stays_pending_and_flagged_without_an_event(emulated: Emulated) -> None:
    _, body = submit(emulated, api_event(valid_request(merchant_country="US", card_country="BR")))
    assert body["fraud_decision"] == "review"
    process_queue(emulated)
    (item,) = emulated.table_items()
    assert item["status"] == "pending" and item["needs_review"] is True
    assert emulated.drain(emulated.analytics_queue) == [] and emulated.drain(emulated.alerts_queue) == []


def test_unavailable_fraud_check_marks_the_payment_failed(emulated: Emulated, monkeypatch: pytest.MonkeyPatch) -> None:
    class Unreachable:
        def invoke(self, **_: Any) -> Any:
            raise ConnectionError("no route to the fraud function")

    monkeypatch.setattr(payment_validation, "lambda_client", Unreachable())
    status, body = submit(emulated, api_event(valid_request()))
    assert status == 202 and body["fraud_decision"] == "error"
    process_queue(emulated)
    (item,) = emulated.table_items()
    assert item["status"] == "failed" and item["failure_reason"] == transaction_processing.NOT_SCORED
    assert json.loads(emulated.drain(emulated.alerts_queue)[0])["detail"]["status"] == "failed"
    # The saved "failed payments by reason" query counts it, with its reason.
    query = failed_payments_query("processing", "dead-letters")
    (failed,) = [line for line in map(json.loads, emulated.logs.getvalue().splitlines()) if selects(query, line)]
    assert failed["failure_reason"] == transaction_processing.NOT_SCORED


def test_velocity_over_the_window_declines(emulated: Emulated) -> None:
    for attempt in range(3):
        submit(emulated, api_event(valid_request(), key=f"velocity-key-{attempt}"))
        process_queue(emulated)
    _, body = submit(emulated, api_event(valid_request(), key="velocity-key-3"))
    assert body["fraud_decision"] == "decline"


def test_poison_message_fails_alone_and_reaches_the_dlq(emulated: Emulated) -> None:
    submit(emulated, api_event(valid_request(), key="batch-key-0001"))
    submit(emulated, api_event(valid_request(customer_id="cust_9"), key="batch-key-0002"))
    emulated.sqs.send_message(QueueUrl=emulated.transaction_queue, MessageBody='{"payment": "truncated')
    result = process_queue(emulated)
    assert len(result["batchItemFailures"]) == 1
    assert len(emulated.table_items()) == 2  # the rest of the batch was kept
    for _ in range(3):  # redelivered until maxReceiveCount, then moved to the DLQ
        process_queue(emulated)
    assert emulated.peek(emulated.transaction_queue) == []
    (dead,) = emulated.drain(emulated.transaction_dlq)
    assert dead == '{"payment": "truncated'


def test_luhn_and_masking() -> None:
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")
    assert contains_pan({"a": ["x", {"b": "5500-0000-0000-0004"}]})
    assert not contains_pan({"amount": 1250, "phone": "+1 555 0100 200", "id": "1234567890123"})
    assert mask_pans(f"card {PAN} ok") == "card [REDACTED] ok"


def test_fraud_rules_are_deterministic() -> None:
    rules = fraud_detection.Rules(review_amount=100, decline_amount=1000)
    payment = scored_payment()
    decision = fraud_detection.score(payment, rules)
    assert decision == FraudDecision(decision="review", reasons=["amount 150 at or above review threshold 100"])
    assert fraud_detection.score(payment.model_copy(update={"amount": 1000}), rules).decision == "decline"


def test_fraud_decisions_are_one_metric_with_a_decision_dimension(
    emulated: Emulated, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    submit(emulated, api_event(valid_request(amount=2_500_000), key="metric-key-0001"))
    metrics = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    (fraud,) = [m for m in metrics if "FraudDecisions" in m]
    (directive,) = fraud["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "TAP/Payments"
    assert [metric["Name"] for metric in directive["Metrics"]] == ["FraudDecisions"]
    assert "decision" in directive["Dimensions"][0] and fraud["decision"] == "decline"


def hostile_event(**changes: Any) -> dict[str, Any]:
    event = api_event(valid_request())
    event.update(changes)
    return event


@pytest.mark.parametrize(
    ("event", "status"),
    [
        (hostile_event(body="!!!not base64", isBase64Encoded=True), 400),
        (hostile_event(body=base64.b64encode(b"\xff\xfe{").decode(), isBase64Encoded=True), 400),
        (api_event("[" * 100_000 + "]" * 100_000), 400),
        (hostile_event(body=None), 400),
        (hostile_event(headers=None), 415),
        (api_event(json.dumps(valid_request()).replace('"USD"', '"\\ud800"')), 422),
        (api_event('{"amount": 1e999}'), 422),
        (api_event(valid_request(amount=10**400)), 422),
    ],
    ids=["bad-base64", "not-utf8", "deep-nesting", "no-body", "no-headers", "lone-surrogate", "infinity", "huge"],
)
def test_hostile_input_gets_a_4xx_and_writes_nothing(emulated: Emulated, event: dict[str, Any], status: int) -> None:
    got, body = submit(emulated, event)
    assert got == status and set(body) == {"error", "fields"}
    assert emulated.peek(emulated.transaction_queue) == []
    assert emulated.dynamodb.Table("payment-idempotency-test").scan()["Items"] == []
