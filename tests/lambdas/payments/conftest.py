"""Payment functions on emulated AWS (moto): tables, queues, bus and topic as the stack defines them."""

from __future__ import annotations

import copy
import io
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from lib.contracts import payments as contract
from lib.data.transactions_table import ATTRIBUTE_TYPES, INDEXES
from tests.handlers import PAYMENT_SETTINGS, REGION, import_handler

CODE = ("payments_common", "payment_validation", "fraud_detection", "transaction_processing")
payment_validation = import_handler("payment_validation", CODE, PAYMENT_SETTINGS)
fraud_detection = import_handler("fraud_detection", CODE, PAYMENT_SETTINGS)
transaction_processing = import_handler("transaction_processing", CODE, PAYMENT_SETTINGS)
payments_common = import_handler("payments_common", CODE, PAYMENT_SETTINGS)
payment_requests = import_handler("payment_requests", CODE, PAYMENT_SETTINGS)
TRANSACTIONS_TABLE = PAYMENT_SETTINGS[contract.TRANSACTIONS_TABLE]
IDEMPOTENCY_TABLE = PAYMENT_SETTINGS[contract.IDEMPOTENCY_TABLE]
VELOCITY_TABLE = PAYMENT_SETTINGS[contract.VELOCITY_TABLE]
EVENT_BUS = PAYMENT_SETTINGS[contract.EVENT_BUS_NAME]

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "events"


@dataclass
class FakeContext:
    function_name: str = "payment-test"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:123456789012:function:payment-test"
    aws_request_id: str = "c6af9ac6-7b61-11e6-9a41-93e812345678"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 30_000


def api_event(
    body: Any, *, key: str | None = "key-" + "0" * 12, content_type: str = "application/json"
) -> dict[str, Any]:
    """The HTTP API sample with only method, path, headers and body changed."""
    event: dict[str, Any] = json.loads((FIXTURES / "apiGatewayProxyV2Event.json").read_text())
    event["routeKey"] = "POST /payments"
    event["rawPath"] = "/payments"
    event["requestContext"]["http"].update({"method": "POST", "path": "/payments"})
    headers = {"content-type": content_type}
    if key is not None:
        headers["idempotency-key"] = key
    event["headers"] = headers
    event["body"] = body if isinstance(body, str) else json.dumps(body)
    event["isBase64Encoded"] = False
    return event


def sqs_event(bodies: list[str], queue_arn: str) -> dict[str, Any]:
    template = json.loads((FIXTURES / "sqsEvent.json").read_text())["Records"][0]
    records = []
    for body in bodies:
        record = copy.deepcopy(template)
        record.update({"messageId": str(uuid.uuid4()), "body": body, "eventSourceARN": queue_arn})
        records.append(record)
    return {"Records": records}


def valid_request(**changes: Any) -> dict[str, Any]:
    """The sample request (tests/fixtures/payment_request.json, shared with the benchmark) with changes."""
    request: dict[str, Any] = json.loads((FIXTURES.parent / "payment_request.json").read_text())
    request.update(changes)
    return request


def scored_payment(**changes: Any) -> Any:
    """A payment as validation hands it to the fraud rules: US merchant and card, amount 150, with changes."""
    fields: dict[str, Any] = {
        "transaction_id": "t",
        "idempotency_key_hash": "k",
        "fingerprint": "f",
        "amount": 150,
        "currency": "USD",
        "customer_id": "c",
        "merchant_id": "m",
        "card_token": "tok_12345678",
        "merchant_country": "US",
        "card_country": "US",
        "requested_at": 0,
    }
    return payments_common.Payment(**{**fields, **changes})


class InProcessLambda:
    """Stands in for the Lambda client: `invoke` runs the fraud handler here, as Lambda would there."""

    def invoke(self, *, FunctionName: str, Payload: bytes) -> dict[str, Any]:
        assert FunctionName == PAYMENT_SETTINGS[contract.FRAUD_FUNCTION_NAME]
        decision = fraud_detection.handler(json.loads(Payload), FakeContext())
        return {"StatusCode": 200, "Payload": io.BytesIO(json.dumps(decision).encode())}


@dataclass
class Emulated:
    dynamodb: Any
    sqs: Any
    events: Any
    transaction_queue: str
    transaction_queue_arn: str
    transaction_dlq: str
    analytics_queue: str
    alerts_queue: str
    logs: io.StringIO

    def table_items(self) -> list[dict[str, Any]]:
        return list(self.dynamodb.Table(TRANSACTIONS_TABLE).scan()["Items"])

    def drain(self, queue_url: str) -> list[str]:
        bodies = []
        while True:
            messages = self.sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get(
                "Messages", []
            )
            if not messages:
                return bodies
            for message in messages:
                bodies.append(message["Body"])
                self.sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])

    def everything_written(self) -> str:
        """Every log line, item and message the functions produced, as one text."""
        idempotency = self.dynamodb.Table(IDEMPOTENCY_TABLE).scan()["Items"]
        counters = self.dynamodb.Table(VELOCITY_TABLE).scan()["Items"]
        queued = [
            m["Body"] for q in (self.transaction_queue, self.analytics_queue, self.alerts_queue) for m in self.peek(q)
        ]
        return (
            self.logs.getvalue()
            + json.dumps(self.table_items(), default=str)
            + json.dumps(idempotency, default=str)
            + json.dumps(counters, default=str)
            + "".join(queued)
        )

    def peek(self, queue_url: str) -> list[dict[str, Any]]:
        return list(
            self.sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0).get(
                "Messages", []
            )
        )


def create_transactions_table(resource: Any) -> None:
    resource.create_table(
        TableName=TRANSACTIONS_TABLE,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "transaction_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": t} for n, t in ATTRIBUTE_TYPES.items()],
        GlobalSecondaryIndexes=[
            {
                "IndexName": index,
                "KeySchema": [
                    {"AttributeName": hash_key, "KeyType": "HASH"},
                    {"AttributeName": range_key, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
            for index, (hash_key, range_key) in INDEXES.items()
        ],
    )


@pytest.fixture
def emulated(monkeypatch: pytest.MonkeyPatch, payments_rules: dict[str, dict[str, Any]]) -> Iterator[Emulated]:
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        dynamodb = boto3.resource("dynamodb", region_name=REGION)
        sqs = boto3.client("sqs", region_name=REGION)
        events = boto3.client("events", region_name=REGION)
        create_transactions_table(dynamodb)
        dynamodb.create_table(
            TableName=PAYMENT_SETTINGS[contract.VELOCITY_TABLE],
            BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "subject", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "subject", "AttributeType": "S"}],
        )
        dynamodb.create_table(
            TableName=IDEMPOTENCY_TABLE,
            BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        )
        dlq = sqs.create_queue(QueueName="transactions-dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        queue = sqs.create_queue(
            QueueName="transactions",
            Attributes={
                "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "3"}),
                "VisibilityTimeout": "0",
            },
        )["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        analytics = sqs.create_queue(QueueName="analytics")["QueueUrl"]
        alerts_queue = sqs.create_queue(QueueName="alerts-observer")["QueueUrl"]
        events.create_event_bus(Name=EVENT_BUS)

        # The stack's own rules and patterns, from the synthesized JSON. moto delivers rule
        # targets to SQS but not SNS, so payment.failed lands in an observer queue standing in
        # for the alerts topic: what is under test is which events the pattern routes.
        def queue_arn_of(url: str) -> str:
            return str(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])

        targets = {"payment_succeeded": queue_arn_of(analytics), "payment_failed": queue_arn_of(alerts_queue)}
        for name, target_arn in targets.items():
            rule = payments_rules[name]
            events.put_rule(Name=name, EventBusName=EVENT_BUS, EventPattern=rule["event_pattern"])
            events.put_targets(Rule=name, EventBusName=EVENT_BUS, Targets=[{"Id": "target", "Arn": target_arn}])
        monkeypatch.setitem(payment_validation.SETTINGS, contract.TRANSACTION_QUEUE_URL, queue)
        monkeypatch.setattr(payment_validation, "sqs", sqs)
        monkeypatch.setattr(payment_validation, "dynamodb", dynamodb)
        monkeypatch.setattr(payment_validation.persistence, "client", boto3.client("dynamodb", region_name=REGION))
        monkeypatch.setattr(transaction_processing, "dynamodb", dynamodb)
        monkeypatch.setattr(transaction_processing, "events", events)

        monkeypatch.setattr(payment_validation, "lambda_client", InProcessLambda())
        logs = io.StringIO()
        for module in (payment_validation, fraud_detection, transaction_processing):
            monkeypatch.setattr(module.logger.registered_handler, "stream", logs)
        yield Emulated(dynamodb, sqs, events, queue, queue_arn, dlq, analytics, alerts_queue, logs)


@pytest.fixture(scope="session")
def payments_rules(synthesized: Any) -> dict[str, dict[str, Any]]:
    """The payment rules of the serverless-payments profile, keyed by what they route."""
    document = synthesized("serverless-payments")
    rules = document["resource"]["aws_cloudwatch_event_rule"]
    found = {}
    for rule in rules.values():
        detail_types = json.loads(rule["event_pattern"]).get("detail-type", [])
        if "payment.succeeded" in detail_types:
            found["payment_succeeded"] = rule
        elif "payment.failed" in detail_types:
            found["payment_failed"] = rule
    assert set(found) == {"payment_succeeded", "payment_failed"}, list(rules)
    return found
