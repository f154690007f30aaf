"""Real-shaped input for the payment log stream's transform, shared by its tests and `make bench`.

Log lines come from the real Powertools logger with `PanMaskingFormatter` in a handler invocation
(and the real Powertools Metrics for EMF lines), plus Lambda's platform lines in the documented
text format. They are wrapped as CloudWatch Logs delivers them to Firehose: a gzipped subscription
payload per record, in a Firehose event built on the Powertools sample
(`tests/fixtures/events/kinesisFirehosePutEvent.json`).
"""

from __future__ import annotations

import base64
import contextlib
import copy
import gzip
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from lib.contracts import payments
from tests.handlers import LOG_STREAM_SETTINGS, REGION, import_handler

CODE = ("payments_common", "payment_log_stream")
payment_log_stream = import_handler("payment_log_stream", CODE, LOG_STREAM_SETTINGS)
payments_common = import_handler("payments_common", CODE, LOG_STREAM_SETTINGS)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "events"
ACCOUNT = "123456789012"
LOG_GROUP = "/aws/lambda/tap-dev-payment-validation"
LOG_STREAM = "2026/11/23/[$LATEST]0f1e2d3c4b5a69788796a5b4c3d2e1f0"
REQUEST_ID = "c6af9ac6-7b61-11e6-9a41-93e812345678"
TRACE_HEADER = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
# CloudWatch's event ids are 56-digit strings; Firehose's record ids are long digit strings too.
FIRST_EVENT_ID = 31953106606966983378809025079804211143289615424298221568
FIRST_RECORD_ID = 49546986683135544286507457936321625675700192471156785154
START_MS = 1_795_000_000_000

# One logger for the whole session: Powertools shares a service's logger, so tests swap its stream.
LOGGER = Logger(service="payment-validation", logger_formatter=payments_common.PanMaskingFormatter())


@dataclass
class FakeContext:
    function_name: str = "tap-dev-payment-validation"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:tap-dev-payment-validation"
    aws_request_id: str = REQUEST_ID

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 30_000


def powertools_lines(log: Callable[[Logger], None]) -> list[str]:
    """What `log` writes through the real logger inside a handler invocation, one line per event."""
    stream = io.StringIO()

    @LOGGER.inject_lambda_context(log_event=False)
    def handler(event: dict[str, Any], context: FakeContext) -> None:
        log(LOGGER)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(LOGGER.registered_handler, "stream", stream)
        patch.setenv("_X_AMZN_TRACE_ID", TRACE_HEADER)
        handler({}, FakeContext())
    return stream.getvalue().splitlines(keepends=True)


def emf_line() -> str:
    """An EMF metrics line as Powertools Metrics prints it when the handler returns."""
    metrics = Metrics(namespace=payments.METRICS_NAMESPACE, service="payment-validation")
    metrics.add_metric(name=payments.PAYMENTS_REJECTED, unit=MetricUnit.Count, value=1)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        metrics.flush_metrics()
    return printed.getvalue()


def platform_lines(request_id: str = REQUEST_ID) -> list[str]:
    """Lambda's own START, END and REPORT lines (text log format), as they reach CloudWatch."""
    return [
        f"START RequestId: {request_id} Version: $LATEST\n",
        f"END RequestId: {request_id}\n",
        f"REPORT RequestId: {request_id}\tDuration: 12.34 ms\tBilled Duration: 13 ms\tMemory Size: 512 MB\t"
        "Max Memory Used: 81 MB\tInit Duration: 412.56 ms\t\nXRAY TraceId: 1-5759e988-bd862e3fe1be46a994272793\t"
        "SegmentId: 53995c3f42cd8ad8\tSampled: true\t\n",
    ]


def payment_activity(logger: Logger) -> None:
    """What the payment functions log in a busy invocation, a card caught at source included."""
    logger.append_keys(transaction_id="6d3f1c52-0b7e-5a41-9d3c-2f1e0a9b8c7d")
    logger.info("rejected", extra={"status": 422, "fields": ["amount", "currency"]})
    logger.warning("fraud check unavailable", extra={"error_type": "ReadTimeoutError"})
    logger.info("accepted", extra={"decision": "approve"})
    logger.info("processed", extra={"status": "approved"})
    logger.info("scored", extra={"decision": "review", "reasons": ["amount over review threshold"]})
    logger.info("note", extra={"customer_reference": "4111 1111 1111 1111"})
    try:
        raise ConnectionError("ledger unavailable")
    except ConnectionError:
        logger.exception("settlement failed")
    logger.remove_keys(["transaction_id"])


def mixed_lines() -> list[str]:
    """A realistic mix: platform lines, Powertools lines and an EMF line, in invocation order."""
    start, end, report = platform_lines()
    return [start, *powertools_lines(payment_activity), emf_line(), end, report]


def subscription_payload(
    messages: list[str], *, group: str = LOG_GROUP, stream: str = LOG_STREAM, first: int = 0
) -> dict[str, Any]:
    """A DATA_MESSAGE as CloudWatch Logs delivers it to a subscription's destination."""
    return {
        "messageType": "DATA_MESSAGE",
        "owner": ACCOUNT,
        "logGroup": group,
        "logStream": stream,
        "subscriptionFilters": ["tap-dev-payment-logs"],
        "logEvents": [
            {"id": str(FIRST_EVENT_ID + first + index), "timestamp": START_MS + first + index, "message": message}
            for index, message in enumerate(messages)
        ],
    }


CONTROL_MESSAGE = {
    "messageType": "CONTROL_MESSAGE",
    "owner": "CloudwatchLogs",
    "logGroup": "",
    "logStream": "",
    "subscriptionFilters": [],
    "logEvents": [
        {
            "id": "",
            "timestamp": 1_432_826_855_105,
            "message": "CWL CONTROL MESSAGE: Checking health of destination Firehose.",
        }
    ],
}


def record_data(payload: dict[str, Any] | bytes) -> str:
    """A record's `data`: base64 of the gzipped payload (bytes are gzipped as they are)."""
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return base64.b64encode(gzip.compress(raw)).decode()


def firehose_event(datas: list[str]) -> dict[str, Any]:
    """The Powertools sample with its records replaced by these, one record each, ids in order."""
    event: dict[str, Any] = json.loads((FIXTURES / "kinesisFirehosePutEvent.json").read_text())
    template = event["records"][0]
    event["records"] = []
    for index, data in enumerate(datas):
        record = copy.deepcopy(template)
        record.update({"recordId": str(FIRST_RECORD_ID + index), "data": data})
        event["records"].append(record)
    return event


def stored_lines(data: str) -> list[dict[str, Any]]:
    """An Ok record's data back as the stored JSON lines (each record's data ends in a newline)."""
    text = base64.b64decode(data).decode()
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]
