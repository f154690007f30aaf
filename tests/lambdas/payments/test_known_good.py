"""A fixed corpus of known-good requests (tests/fixtures/known_good_requests.json): every one is accepted.

The card-number scan must not refuse ordinary traffic: real header sets (browser, SDK with SigV4,
mobile, CloudFront, the load balancer and API Gateway samples), order references, long keys.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.lambdas.payments.conftest import FIXTURES, Emulated, api_event, valid_request
from tests.lambdas.payments.test_payment_flow import submit

CORPUS: dict[str, Any] = json.loads((Path(FIXTURES).parent / "known_good_requests.json").read_text())


def corpus_event(case: dict[str, Any]) -> dict[str, Any]:
    """The request a corpus case describes, built on the HTTP API sample event."""
    event = api_event(
        valid_request(**case.get("changes", {})),
        key=case.get("idempotency_key", f"known-good-{case['name']}"),
        content_type=case.get("content_type", "application/json"),
    )
    named = case.get("headers")
    if named in CORPUS["header_sets"]:
        extra = CORPUS["header_sets"][named]
    elif named:
        sample = json.loads((FIXTURES / named).read_text())
        extra = sample["headers"]
        event["queryStringParameters"] = sample.get("queryStringParameters") or event.get("queryStringParameters")
    else:
        extra = {}
    event["headers"] = {**extra, **case.get("extra_headers", {}), **event["headers"]}
    if "query" in case:
        event["queryStringParameters"] = case["query"]
    return event


@pytest.mark.parametrize("case", CORPUS["requests"], ids=[case["name"] for case in CORPUS["requests"]])
def test_a_known_good_request_is_accepted(emulated: Emulated, case: dict[str, Any]) -> None:
    status, body = submit(emulated, corpus_event(case))
    assert status == 202, body
    assert body["status"] == "pending" and len(emulated.drain(emulated.transaction_queue)) == 1


def test_the_corpus_covers_every_header_set_and_both_event_samples() -> None:
    """The corpus cannot silently shrink to requests without headers."""
    used = {case.get("headers") for case in CORPUS["requests"]}
    assert set(CORPUS["header_sets"]) | {"albEvent.json", "apiGatewayProxyV2Event.json"} <= used


def test_a_luhn_valid_digit_reference_is_refused_as_the_readme_says(emulated: Emulated) -> None:
    """The documented cost of refusing every Luhn-valid run: this unlettered reference is refused."""
    event = api_event(valid_request(), key="known-good-reference")
    event["queryStringParameters"] = {"order": "2026-11-23-000042-7781"}
    status, _ = submit(emulated, event)
    assert status == 400
