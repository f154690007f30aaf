"""`make bench`: validation + fraud scoring throughput, in process, one core.

Runs the real request validation (content type, card-number scan, JSON parsing, the typed
model, business rules) and the real fraud rules on a valid request, without AWS calls (the
velocity count is a constant), and reports payments per second.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for function in ("payments_common", "payment_validation", "fraud_detection"):
    sys.path.insert(0, str(ROOT / "lib" / "lambda" / function))
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("ALLOWED_CURRENCIES", "USD,EUR,GBP")

import fraud_detection  # noqa: E402
import payment_validation  # noqa: E402
from payments_common import Payment, transaction_id  # noqa: E402

SECONDS = 3.0
EVENT = {
    "headers": {"content-type": "application/json", "idempotency-key": "bench-key-000001"},
    "body": (ROOT / "tests" / "fixtures" / "payment_request.json").read_text(),
    "isBase64Encoded": False,
}
RULES = fraud_detection.Rules(
    review_amount=500_000, decline_amount=2_000_000, velocity_window_seconds=3600, velocity_limit=10
)


def one_payment(now: int) -> str:
    request, key = payment_validation.validate_request(EVENT)
    payment = Payment(
        transaction_id=transaction_id(request.merchant_id, key),
        idempotency_key=key,
        requested_at=now,
        **request.model_dump(),
    )
    return fraud_detection.score(payment, RULES, lambda _customer, _since: 0, now).decision


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
    return 0


if __name__ == "__main__":
    sys.exit(main())
