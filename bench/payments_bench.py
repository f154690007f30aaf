"""`make bench`: validation + fraud scoring throughput, in process, one core.

Runs the real request validation (card-number scan of body and client headers, content type,
JSON parsing, the typed model, business rules) and the real fraud rules on a valid request, without AWS calls (the
velocity counter is one DynamoDB update, not measured here), and reports payments per second.
"""

from __future__ import annotations

import sys
import time
import timeit
from pathlib import Path

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from tests.handlers import PAYMENT_SETTINGS, import_handler

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


if __name__ == "__main__":
    sys.exit(main())
