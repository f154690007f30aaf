"""`make bench`: validation + fraud scoring throughput, in process, one core.

Runs the real request validation (card-number scan of body and client headers, content type,
JSON parsing, the typed model, business rules) and the real fraud rules on a valid request, without AWS calls (the
velocity counter is one DynamoDB update, not measured here), and reports payments per second.
Also the payment log stream's Firehose transform on gzipped CloudWatch Logs payloads of real
payment log lines, in MB/s of decompressed payload.
"""

from __future__ import annotations

import base64
import json
import sys
import time
import timeit
import zlib
from pathlib import Path

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from tests.handlers import PAYMENT_SETTINGS, import_handler
from tests.lambdas.observability.log_lines import mixed_lines, payment_log_stream, record_data, subscription_payload

ROOT = Path(__file__).resolve().parent.parent
CODE = ("payments_common", "payment_validation", "fraud_detection")
payment_validation = import_handler("payment_validation", CODE, PAYMENT_SETTINGS)
fraud_detection = import_handler("fraud_detection", CODE, PAYMENT_SETTINGS)
card_data = import_handler("card_data", CODE, PAYMENT_SETTINGS)
payment_requests = import_handler("payment_requests", CODE, PAYMENT_SETTINGS)

SECONDS = 3.0
EVENT = APIGatewayProxyEventV2(
    {
        "headers": {"content-type": "application/json", "idempotency-key": "bench-key-000001"},
        "body": (ROOT / "tests" / "fixtures" / "payment_request.json").read_text(),
        "isBase64Encoded": False,
    }
)
RULES = fraud_detection.Rules(review_amount=500_000, decline_amount=2_000_000)


def one_payment(now: int) -> str:
    """What the handler does for a valid request before its AWS calls, and the fraud rules."""
    if payment_requests.carries_card_data(EVENT):
        raise AssertionError("the sample request must pass the card-number scan")
    payment = payment_requests.payment_for(*payment_requests.validate_request(EVENT, payment_validation.LIMITS), now)
    return str(fraud_detection.score(payment, RULES).decision)


def main() -> int:
    now = int(time.time())
    assert one_payment(now) == "approve"
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < SECONDS:
        for _ in range(100):
            one_payment(now)
        count += 100
    elapsed = time.perf_counter() - started
    print(
        f"validation + fraud scoring, in process, one core: {count / elapsed:,.0f} payments/s ({count} in {elapsed:.1f} s)"
    )
    reference = min(timeit.repeat("sum(range(1000))", number=10_000, repeat=5)) / 10_000 * 1e6
    print(f"reference, to compare machines: sum(range(1000)) in {reference:.1f} µs")
    for name, sample in DETECTOR_SAMPLES.items():
        print(f"card-number detector, one core: {detector_throughput(sample):.1f} MB/s on {name}")
    started = time.perf_counter()
    assert not card_data.contains_pan(WORST_BODY)
    print(
        f"card-number detector, worst body ({len(WORST_BODY)} bytes of one-digit groups): "
        f"{(time.perf_counter() - started) * 1000:.0f} ms"
    )
    escapes = "[" * (payment_requests.MAX_JSON_DEPTH + 1) + '"\\' * (payment_requests.MAX_BODY_BYTES // 2 - 8)
    started = time.perf_counter()
    payment_requests.json_depth(escapes)
    print(
        f"depth count, worst body ({len(escapes)} bytes of unterminated escapes): "
        f"{(time.perf_counter() - started) * 1000:.0f} ms"
    )
    records = log_records()
    print(f"Firehose log transform, one core: {log_transform_throughput(records):.1f} MB/s on mixed payment log lines")
    growth = sum(len(transformed(data)) for data in records) / sum(len(base64.b64decode(data)) for data in records)
    print(
        f"  (target: 50 MB/s; parsing alone, the envelope and each JSON line, the most it can reach here: "
        f"{json_parsing_throughput(records):.1f} MB/s; a record grows {growth:.0f} times from gzipped to transformed)"
    )
    return 0


# 4 KiB samples without a card number: log-like text (words, ids, amounts, dates) that the C
# pre-check clears, and digit-dense text (epoch milliseconds, long references) that it cannot, so
# the Luhn candidates are checked.
DETECTOR_SAMPLES = {
    "log-like text": ("payment c6af9ac6-7b61 amount 1250 USD at 2026-11-23T17:40:12.345Z ref 12/34.56; " * 64)[:4096],
    "digit-dense text": ("at 1732380000123 order 2026-11-23-000042-7782 ref 4000 1234 5678 9 " * 64)[:4096],
}
# The most candidates a body within the size limit can hold.
WORST_BODY = "1 " * (payment_requests.MAX_BODY_BYTES // 2)


def detector_throughput(sample: str) -> float:
    """MB/s of `mask_pans`, the detector requests and logs share."""
    assert card_data.mask_pans(sample) == sample
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < SECONDS:
        card_data.mask_pans(sample)
        count += 1
    return count * len(sample.encode()) / (time.perf_counter() - started) / 1e6


def log_records() -> list[str]:
    """Firehose records as the payment functions' subscription filters send them: each the 44 lines
    of four invocations (START, Powertools lines with a traceback and a card masked at source, EMF,
    END, REPORT), written by the real logger.
    """
    return [
        record_data(subscription_payload([line for _ in range(4) for line in mixed_lines()], first=index * 100))
        for index in range(20)
    ]


def inflated(data: str) -> bytes:
    return zlib.decompress(base64.b64decode(data), 16 + zlib.MAX_WBITS)


def transformed(data: str) -> str:
    outcome = payment_log_stream.transform(data)
    if outcome is None or outcome.masked or outcome.dropped:
        raise AssertionError("the bench's lines are stored with nothing to mask or drop")
    stored: str = outcome.data
    return stored


def log_transform_throughput(records: list[str]) -> float:
    """MB/s of decompressed payload through the whole transform: decode, inflate, parse, check, encode."""
    size = sum(len(inflated(data)) for data in records)
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < SECONDS:
        for data in records:
            transformed(data)
        count += 1
    return count * size / (time.perf_counter() - started) / 1e6


def json_parsing_throughput(records: list[str]) -> float:
    """MB/s of the JSON parsing the transform cannot avoid (stdlib `json`): the most it can reach here."""
    payloads = [inflated(data) for data in records]
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < SECONDS:
        for payload in payloads:
            for event in json.loads(payload)["logEvents"]:
                if event["message"].startswith("{"):
                    json.loads(event["message"])
        count += 1
    return count * sum(map(len, payloads)) / (time.perf_counter() - started) / 1e6


if __name__ == "__main__":
    sys.exit(main())
