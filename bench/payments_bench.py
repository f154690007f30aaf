"""`make bench`: validation + fraud scoring throughput, in process, one core.

Runs the real request validation (card-number scan of body and client headers, content type,
JSON parsing, the typed model, business rules) and the real fraud rules on a valid request, without AWS calls (the
velocity count is a constant), and reports payments per second.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from tests.handlers import PAYMENT_SETTINGS, import_handler

ROOT = Path(__file__).resolve().parent.parent
CODE = ("payments_common", "payment_validation", "fraud_detection")
payment_validation = import_handler("payment_validation", CODE, PAYMENT_SETTINGS)
fraud_detection = import_handler("fraud_detection", CODE, PAYMENT_SETTINGS)
payments_common = import_handler("payments_common", CODE, PAYMENT_SETTINGS)

SECONDS = 3.0
EVENT = APIGatewayProxyEventV2(
    {
        "headers": {"content-type": "application/json", "idempotency-key": "bench-key-000001"},
        "body": (ROOT / "tests" / "fixtures" / "payment_request.json").read_text(),
        "isBase64Encoded": False,
    }
)
RULES = fraud_detection.Rules(
    review_amount=500_000, decline_amount=2_000_000, velocity_window_seconds=3600, velocity_limit=10
)


def one_payment(now: int) -> str:
    request, key = payment_validation.validate_request(EVENT)
    scanned = (payment_validation.body_text(EVENT), payment_validation.scanned_headers(EVENT))
    if any(payments_common.contains_pan(part) for part in scanned):
        raise AssertionError("the sample request must pass the card-number scan")
    payment = payments_common.Payment(
        transaction_id=payments_common.transaction_id(request.merchant_id, key),
        idempotency_key_hash=payments_common.key_hash(request.merchant_id, key),
        fingerprint="0" * 64,
        requested_at=now,
        **request.model_dump(),
    )
    return str(fraud_detection.score(payment, RULES, lambda _customer, _since: 0, now).decision)


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
    print(
        f"card-number detector, one core: {detector_throughput():.1f} MB/s on log-like text, {DETECTOR_SAMPLE_BYTES} bytes"
    )
    return 0


# Log-like text: words, ids, amounts, timestamps and punctuated numbers, no card number.
DETECTOR_SAMPLE = ("payment c6af9ac6-7b61 amount 1250 USD at 2026-11-23T17:40:12.345Z ref 12/34.56; " * 64)[:4096]
DETECTOR_SAMPLE_BYTES = len(DETECTOR_SAMPLE)


def detector_throughput() -> float:
    """MB/s of `mask_pans`, the detector requests and logs share."""
    assert payments_common.mask_pans(DETECTOR_SAMPLE) == DETECTOR_SAMPLE
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < SECONDS:
        payments_common.mask_pans(DETECTOR_SAMPLE)
        count += 1
    return count * DETECTOR_SAMPLE_BYTES / (time.perf_counter() - started) / 1e6


if __name__ == "__main__":
    sys.exit(main())
