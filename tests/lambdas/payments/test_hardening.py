"""Card data in every disguise, transport headers, limits and retries on the payment path (issue 9).

Each disguise class is a named case; every request in this file must end in a 4xx with a JSON body
(or the documented 202), write nothing it should not, and never show a card number anywhere.
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from card_data import contains_pan, mask_pans, normalized
from payments_common import FraudDecision, Payment, QueuedPayment

from lib.contracts import payments as contract
from lib.observability import function_errors_query
from lib.payments import failed_payments_query
from tests.handlers import PAYMENT_SETTINGS
from tests.lambdas.payments.conftest import (
    IDEMPOTENCY_TABLE,
    Emulated,
    FakeContext,
    InProcessLambda,
    api_event,
    fraud_detection,
    payment_requests,
    payment_validation,
    scored_payment,
    sqs_event,
    transaction_processing,
    valid_request,
)
from tests.lambdas.payments.test_payment_flow import process_queue, submit
from tests.queries import selects

PAN = "4111111111111111"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "events"


def grouped(separator: str) -> str:
    return separator.join(PAN[i : i + 4] for i in range(0, 16, 4))


DISGUISES = {
    "spaces": grouped(" "),
    "dots": grouped("."),
    "slashes": grouped("/"),
    "underscores": grouped("_"),
    "tabs": grouped("\t"),
    "newlines": grouped("\n"),
    "no-break-space": grouped("\u00a0"),
    "thin-space": grouped("\u2009"),
    "ideographic-space": grouped("\u3000"),
    "zero-width-space": grouped("\u200b"),
    "zero-width-joiner": grouped("\u200d"),
    "soft-hyphen": grouped("\u00ad"),
    "en-dash": grouped("\u2013"),
    "minus-sign": grouped("\u2212"),
    "separator-runs": grouped(" -/ "),
    "superscript-digits": "".join("⁰¹²³⁴⁵⁶⁷⁸⁹"[int(d)] for d in PAN),
    "full-width-digits": "".join(chr(0xFF10 + int(d)) for d in PAN),
    "arabic-indic-digits": "".join(chr(0x0660 + int(d)) for d in PAN),
    "trailing-group": grouped(" ") + " 7",
}


def never_shows_the_card(emulated: Emulated, card: str, response: str) -> None:
    """Neither the submitted form nor its digits, however separated, appear in anything written or answered."""
    written = emulated.everything_written() + response
    digits = "".join(ch for ch in normalized(written)[0] if ch.isdigit())
    assert card not in written and PAN not in digits
    assert emulated.peek(emulated.transaction_queue) == []
    assert emulated.table_items() == []


@pytest.mark.parametrize("disguise", sorted(DISGUISES))
@pytest.mark.parametrize(
    "place", ["customer_id", "merchant_id", "json-key", "free-text", "idempotency-key", "client-header", "query"]
)
def test_a_card_number_in_any_disguise_and_place_is_refused(emulated: Emulated, disguise: str, place: str) -> None:
    card = DISGUISES[disguise]
    request, key = valid_request(), "key-" + "0" * 12
    if place in ("customer_id", "merchant_id"):
        request[place] = f"c_{card}"
    elif place == "json-key":
        request[card] = 1
    elif place == "free-text":
        request["note"] = f"my card is {card}, thanks"
    elif place == "idempotency-key":
        key = f"k-{card}"
    event = api_event(request, key=key)
    if place == "client-header":
        event["headers"]["x-customer-note"] = card
    elif place == "query":
        event["queryStringParameters"] = {"ref": card}
    response = payment_validation.handler(event, FakeContext())
    assert response["statusCode"] == 400
    assert json.loads(response["body"]) == {"error": payment_requests.REJECTED_CARD_DATA, "fields": []}
    never_shows_the_card(emulated, card, response["body"])


def test_a_json_escaped_card_number_is_refused(emulated: Emulated) -> None:
    body = json.dumps(valid_request(customer_id="c_" + grouped("\u00a0")))  # json.dumps writes \\u00a0 escapes
    assert "\\u00a0" in body
    status, _ = submit(emulated, api_event(body))
    assert status == 400


def test_transport_headers_and_real_header_sets_are_not_card_numbers(emulated: Emulated) -> None:
    """API Gateway's trace id, timing headers and a real browser/ALB header set pass the scan."""
    event = api_event(valid_request())
    alb_headers = json.loads((FIXTURES / "albEvent.json").read_text())["headers"]
    event["headers"] = {
        **alb_headers,
        **event["headers"],
        "x-amzn-trace-id": "Root=1-67891233-abcdef012345678912345678;Parent=1234567890123456;Sampled=1",
        "x-request-start": "t=1700000000123",
        "x-amz-date": "20261123T171500Z",
        "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    }
    status, body = submit(emulated, event)
    assert status == 202, body


def test_identifiers_cannot_hold_thirteen_digits(emulated: Emulated) -> None:
    status, body = submit(emulated, api_event(valid_request(customer_id="cus_1234567890123")))  # not Luhn-valid
    assert (status, body["fields"]) == (422, ["customer_id"])
    status, _ = submit(emulated, api_event(valid_request(customer_id="cus_123456789012"), key="key-twelve-ok"))
    assert status == 202


def test_submitted_keys_are_never_echoed(emulated: Emulated) -> None:
    status, body = submit(emulated, api_event({**valid_request(), "secret-field-name": 1}))
    assert (status, body["fields"]) == (422, [payment_requests.UNKNOWN_FIELD])
    assert "secret-field-name" not in emulated.logs.getvalue()


def test_the_idempotency_key_is_stored_only_as_a_hash(emulated: Emulated) -> None:
    key = "client-order-778899-attempt"
    status, _ = submit(emulated, api_event(valid_request(), key=key))
    assert status == 202
    process_queue(emulated)
    (item,) = emulated.table_items()
    assert len(item["idempotency_key_hash"]) == 64
    assert key not in emulated.everything_written()


def nested(depth: int) -> str:
    """A valid request plus one extra field nested `depth - 1` levels (the body itself is level 1)."""
    body = json.dumps(valid_request())
    if depth == 1:
        return body
    return body[:-1] + ', "metadata": ' + "[" * (depth - 1) + "1" + "]" * (depth - 1) + "}"


@pytest.mark.parametrize("depth", [1, 2, 4, 8, 9, 16, 300, 5000])
def test_nesting_up_to_the_limit_is_read_and_beyond_it_refused(emulated: Emulated, depth: int) -> None:
    status, body = submit(emulated, api_event(nested(depth), key=f"depth-key-{depth:04d}"))
    if depth == 1:
        assert status == 202
    elif depth <= payment_requests.MAX_JSON_DEPTH:
        assert (status, body["fields"]) == (422, [payment_requests.UNKNOWN_FIELD])  # parsed, then refused
    else:
        assert (status, body["fields"]) == (400, ["body"]) and str(payment_requests.MAX_JSON_DEPTH) in body["error"]
    assert emulated.peek(emulated.transaction_queue) == [] or depth == 1


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        ('{"a": "[[[[[[[[[[", "b": [1]}', 2),  # brackets inside strings do not count
        ('{"a": "say \\"[[[[[[[[[[\\"", "b": {"c": []}}', 3),  # nor after escaped quotes
        ('{"a": "\\\\", "b": [[[]]]}', 4),  # an escaped backslash ends before the quote
        ("[" * 9 + '"\\' * 8000, 9),  # an unterminated run of escapes: one pass, not one per quote
    ],
)
def test_json_depth_skips_strings_in_one_pass(text: str, depth: int) -> None:
    assert payment_requests.json_depth(text) == depth


def test_a_body_of_unterminated_escapes_is_refused_for_its_depth(emulated: Emulated) -> None:
    status, body = submit(emulated, api_event("[" * 9 + '"\\' * 8000))
    assert (status, body["fields"]) == (400, ["body"]) and emulated.peek(emulated.transaction_queue) == []


@pytest.mark.parametrize("extra", [-1, 0, 1, 1000])
def test_bodies_up_to_the_size_limit_are_read_and_beyond_it_refused(emulated: Emulated, extra: int) -> None:
    base = json.dumps({**valid_request(), "padding": ""})
    body = json.dumps({**valid_request(), "padding": "x" * (payment_requests.MAX_BODY_BYTES - len(base) + extra)})
    status, response = submit(emulated, api_event(body))
    expected = 400 if len(body) > payment_requests.MAX_BODY_BYTES else 422
    assert (status, response["fields"]) == (
        expected,
        ["body"] if expected == 400 else [payment_requests.UNKNOWN_FIELD],
    )
    assert emulated.peek(emulated.transaction_queue) == []


def test_a_retry_while_the_first_request_runs_gets_409_with_retry_after(
    emulated: Emulated, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The client retries while its first request is still scoring: 409, and only the first is queued."""
    event = api_event(valid_request(), key="in-flight-key-01")
    retries: list[dict[str, Any]] = []

    class RetryingClient(InProcessLambda):
        def invoke(self, *, FunctionName: str, Payload: bytes) -> dict[str, Any]:
            retries.append(payment_validation.handler(event, FakeContext()))
            return super().invoke(FunctionName=FunctionName, Payload=Payload)

    monkeypatch.setattr(payment_validation, "lambda_client", RetryingClient())
    first = payment_validation.handler(event, FakeContext())
    (retry,) = retries
    assert first["statusCode"] == 202
    assert retry["statusCode"] == 409 and retry["headers"]["Retry-After"] == str(payment_validation.RETRY_AFTER_SECONDS)
    assert json.loads(retry["body"])["fields"] == ["Idempotency-Key"]
    assert len(emulated.peek(emulated.transaction_queue)) == 1


@pytest.mark.parametrize(
    "text",
    [
        "Root=1-67891233-abcdef012345678912345678;Parent=1234567890123456;Sampled=1",
        "t=1700000000123",
        "2026-11-23T17:40:12.345Z",
        "c6af9ac6-7b61-11e6-9a41-93e812345678",
        "amount 1250 of 10000000, 3 retries",
        "+1 555 0100 200",
    ],
)
def test_ordinary_values_are_not_card_numbers(text: str) -> None:
    assert not contains_pan(text) and mask_pans(text) == text


@pytest.mark.parametrize("disguise", sorted(DISGUISES))
def test_masking_replaces_exactly_the_card_in_any_disguise(disguise: str) -> None:
    assert mask_pans(f"before {DISGUISES[disguise]} after").startswith("before [REDACTED]")
    assert mask_pans(f"before {DISGUISES[disguise]} after").endswith(" after")


def test_logs_mask_values_and_keys_but_keep_the_timestamp(emulated: Emulated) -> None:
    payment_validation.logger.info("probe", extra={"note": grouped("."), grouped("_"): 1, "ok": "cus_42"})
    (line,) = [json.loads(line) for line in emulated.logs.getvalue().splitlines() if '"probe"' in line]
    assert line["note"] == "[REDACTED]" and "[REDACTED]" in line and line["ok"] == "cus_42"
    assert line["timestamp"][:4].isdigit() and "REDACTED" not in line["timestamp"]


def review_payment(emulated: Emulated, key: str) -> dict[str, Any]:
    """A payment held for review (above the review amount), recorded by processing."""
    status, body = submit(emulated, api_event(valid_request(amount=600_000), key=key))
    assert (status, body["fraud_decision"]) == (202, "review")
    process_queue(emulated)
    (item,) = emulated.table_items()
    assert item["status"] == "pending" and item["needs_review"] is True
    return item


def test_an_expired_idempotency_record_cannot_change_a_recorded_decision(emulated: Emulated) -> None:
    key = "order-held-for-review"
    before = review_payment(emulated, key)
    records = emulated.dynamodb.Table(IDEMPOTENCY_TABLE)
    for record in records.scan()["Items"]:  # a day later: the idempotency record has expired
        records.delete_item(Key={"id": record["id"]})
    status, body = submit(emulated, api_event(valid_request(amount=1_000), key=key))
    assert (status, body["fields"]) == (422, ["Idempotency-Key"])
    status, body = submit(emulated, api_event(valid_request(amount=600_000), key=key))  # the same request again
    assert (status, body["status"], body["fraud_decision"]) == (202, "pending", "review")
    assert emulated.peek(emulated.transaction_queue) == []  # neither was queued again
    assert emulated.table_items() == [before]
    assert emulated.drain(emulated.analytics_queue) == [] and emulated.drain(emulated.alerts_queue) == []


def test_conflicting_duplicate_messages_apply_only_the_recorded_decision(emulated: Emulated) -> None:
    before = review_payment(emulated, "order-with-duplicates")
    recorded_payment = Payment.model_validate(
        {k: before[k] for k in Payment.model_fields if k in before}
        | {"requested_at": int(before["timestamp"]), "amount": int(before["amount"])}
    )
    rescored = QueuedPayment(payment=recorded_payment, fraud=FraudDecision(decision="approve"))
    different = QueuedPayment(
        payment=recorded_payment.model_copy(update={"amount": 10, "fingerprint": "f" * 64}),
        fraud=FraudDecision(decision="approve"),
    )
    messages = [rescored.model_dump_json(), different.model_dump_json()]
    result = transaction_processing.handler(sqs_event(messages, emulated.transaction_queue_arn), FakeContext())
    assert result == {"batchItemFailures": []}
    assert emulated.table_items() == [before]  # still pending review, original amount
    assert emulated.drain(emulated.analytics_queue) == [] and emulated.drain(emulated.alerts_queue) == []
    assert "conflicting message ignored" in emulated.logs.getvalue()


@pytest.mark.parametrize(("setting", "decision"), [("review", "review"), ("ignore", "approve")])
@pytest.mark.parametrize("missing", ["merchant_country", "card_country"])
def test_a_missing_country_is_reviewed_unless_configured_otherwise(setting: str, decision: str, missing: str) -> None:
    rules = fraud_detection.Rules(review_amount=100, decline_amount=1000, missing_country=setting)
    payment = scored_payment(amount=50, **{missing: None})
    assert fraud_detection.score(payment, rules).decision == decision


def test_a_request_without_countries_is_held_for_review_by_default(emulated: Emulated) -> None:
    request = {k: v for k, v in valid_request().items() if not k.endswith("_country")}
    status, body = submit(emulated, api_event(request))
    assert (status, body["fraud_decision"]) == (202, "review")


class FailingWrites:
    """Stands in for the DynamoDB resource: every write is throttled, as in a persistent outage."""

    def __init__(self, real: Any) -> None:
        self._real = real

    def Table(self, name: str) -> Any:
        table = self._real.Table(name)

        class Throttled:
            def __getattr__(self, attribute: str) -> Any:
                return getattr(table, attribute)

            def put_item(self, **_: Any) -> Any:
                raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, "PutItem")

        return Throttled()


def stuck_counts(output: str) -> list[float]:
    """The PaymentsStuck values in Powertools' EMF lines on stdout."""
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{") and '"_aws"' in line]
    return [line[contract.PAYMENTS_STUCK] for line in lines if contract.PAYMENTS_STUCK in line]


def test_a_payment_whose_processing_fails_for_good_ends_failed_and_announced(
    emulated: Emulated, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    status, body = submit(emulated, api_event(valid_request(), key="stuck-payment-0001"))
    assert status == 202
    with monkeypatch.context() as outage:
        outage.setattr(transaction_processing, "dynamodb", FailingWrites(emulated.dynamodb))
        for _ in range(4):  # received maxReceiveCount (3) times, then moved to the DLQ
            process_queue(emulated)
    assert emulated.table_items() == [] and emulated.peek(emulated.transaction_queue) == []
    dead = emulated.drain(emulated.transaction_dlq)
    assert len(dead) == 1
    capsys.readouterr()
    result = transaction_processing.dead_letter_handler(sqs_event(dead, emulated.transaction_queue_arn), FakeContext())
    assert result == {"batchItemFailures": []}
    # Counted as stuck once, for the stuck-payments alarm.
    assert stuck_counts(capsys.readouterr().out) == [[1.0]]
    (item,) = emulated.table_items()
    assert item["transaction_id"] == body["transaction_id"]
    assert item["status"] == "failed" and item["failure_reason"] == transaction_processing.GAVE_UP
    (alert,) = emulated.drain(emulated.alerts_queue)
    event = json.loads(alert)
    assert event["detail-type"] == "payment.failed" and event["detail"]["status"] == "failed"
    # Re-running the dead letter (a redelivery) changes nothing and announces nothing again.
    transaction_processing.dead_letter_handler(sqs_event(dead, emulated.transaction_queue_arn), FakeContext())
    assert emulated.table_items() == [item] and emulated.drain(emulated.alerts_queue) == []
    assert stuck_counts(capsys.readouterr().out) == []
    # The saved "failed payments by reason" query reads and selects exactly the settling lines.
    query = failed_payments_query("processing", "dead-letters")
    lines = [json.loads(line) for line in emulated.logs.getvalue().splitlines()]
    (settled, _) = [line for line in lines if selects(query, line)]  # the first run and the redelivery
    assert settled["failure_reason"] == transaction_processing.GAVE_UP


def test_an_unreadable_dead_letter_is_dropped_without_logging_its_body(emulated: Emulated) -> None:
    poison = '{"payment": "truncated ' + grouped(" ")
    result = transaction_processing.dead_letter_handler(
        sqs_event([poison], emulated.transaction_queue_arn), FakeContext()
    )
    assert result == {"batchItemFailures": []}
    assert "unreadable dead letter dropped" in emulated.logs.getvalue()
    # The saved "Lambda errors by function" query counts it.
    (error,) = [
        line
        for line in map(json.loads, emulated.logs.getvalue().splitlines())
        if selects(function_errors_query(["dead-letters"]), line)
    ]
    assert error["message"] == "unreadable dead letter dropped"
    assert "truncated" not in emulated.logs.getvalue() and emulated.table_items() == []


LIMIT = int(PAYMENT_SETTINGS[contract.FRAUD_VELOCITY_LIMIT])


class AtomicUpdates:
    """DynamoDB applies each conditional UpdateItem atomically; moto, across threads, does not.

    This proxy gives moto that one guarantee (a lock around UpdateItem), so the test checks the
    counting logic under a real burst rather than moto's thread safety.
    """

    def __init__(self, real: Any) -> None:
        self._real, self._lock = real, threading.Lock()

    def Table(self, name: str) -> Any:
        table, lock = self._real.Table(name), self._lock

        class Atomic:
            def __getattr__(self, attribute: str) -> Any:
                return getattr(table, attribute)

            def update_item(self, **kwargs: Any) -> Any:
                with lock:
                    return table.update_item(**kwargs)

        return Atomic()


@pytest.mark.parametrize("shared", ["customer_id", "card_token"])
def test_a_burst_gets_exactly_the_velocity_limit_approved(
    emulated: Emulated, shared: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """N concurrent requests, before processing records any of them: exactly L approved, per customer and per card."""
    monkeypatch.setattr(payment_validation, "dynamodb", AtomicUpdates(emulated.dynamodb))
    burst = 3 * LIMIT + 1
    events = []
    for index in range(burst):
        varying = (
            {"card_token": f"tok_burst{index:04d}xyz"} if shared == "customer_id" else {"customer_id": f"cus_{index}"}
        )
        events.append(api_event(valid_request(**varying), key=f"burst-key-{index:04d}"))
    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(lambda event: payment_validation.handler(event, FakeContext()), events))
    decisions = [json.loads(response["body"])["fraud_decision"] for response in responses]
    assert all(response["statusCode"] == 202 for response in responses)
    assert decisions.count("approve") == LIMIT and decisions.count("decline") == burst - LIMIT
    assert len(emulated.drain(emulated.transaction_queue)) == burst
    counters = emulated.dynamodb.Table(PAYMENT_SETTINGS[contract.VELOCITY_TABLE]).scan()["Items"]
    assert counters and not any("tok_" in str(item) for item in counters)  # the card is counted by its hash


def test_the_velocity_count_starts_again_in_the_next_window(
    emulated: Emulated, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = int(PAYMENT_SETTINGS[contract.FRAUD_VELOCITY_WINDOW_SECONDS])
    now = 10 * window
    monkeypatch.setattr(payment_validation.time, "time", lambda: now)
    decisions = [submit(emulated, api_event(valid_request(), key=f"window-key-{i:04d}"))[1] for i in range(LIMIT + 1)]
    assert [d["fraud_decision"] for d in decisions] == ["approve"] * LIMIT + ["decline"]
    now += window
    assert submit(emulated, api_event(valid_request(), key="window-key-next"))[1]["fraud_decision"] == "approve"


@pytest.mark.parametrize("late_step", ["give_up", "settle"])
def test_a_transaction_settled_meanwhile_keeps_its_status(emulated: Emulated, late_step: str) -> None:
    """A dead letter (or a redelivery) that read the item while pending loses the race, not the outcome."""
    submit(emulated, api_event(valid_request(), key="race-key-0001"))
    process_queue(emulated)
    (settled,) = emulated.table_items()
    assert settled["status"] == "approved"
    store = transaction_processing.store()
    stale = {**settled, "status": "pending"}
    if late_step == "give_up":
        outcome = store.settle(stale, "failed", transaction_processing.GAVE_UP)
    else:
        outcome = store.settle(stale, "declined")
    assert outcome == "approved" and emulated.table_items() == [settled]


def test_every_card_number_in_a_line_is_masked_once() -> None:
    """Separate numbers are masked apart; overlapping candidates become one mask; an extra group stays."""
    line = f"first {DISGUISES['dots']} then {DISGUISES['thin-space']} and 4111 1111 1111 1111 1111 end"
    assert mask_pans(line) == "first [REDACTED] then [REDACTED] and [REDACTED] 1111 end"
    assert mask_pans("ref 0000 0000 0000 0000 0 end") == "ref [REDACTED] end"  # 13-, 16- and 17-digit windows


UUID_VALUE = "0f8fad5b-d9cb-469f-a165-70867728950e"


@pytest.mark.parametrize(
    ("place", "name", "value"),
    [
        ("cookie", "note", PAN),
        ("cookie", "note", "4242%204242%204242%204242"),  # browsers percent-encode cookie text
        ("raw-query", "ref", "%34111%201111%201111%201111"),
        ("header", "x-customer-note", "4242%204242%204242%204242"),
        ("header", "host", grouped("-") + ".example.com"),
        ("header", "tracestate", f"nr={grouped(' ')}"),  # a space is outside the W3C format
        ("header", "x-request-start", f"t={grouped('-')}"),
        ("header", "x-forwarded-for", "4111, 1111, 1111, 1111"),  # digits, not addresses
        ("header", "x-forwarded-for", PAN),
        ("header", "x-amz-security-token", PAN),
        ("header", "x-amzn-trace-id", f"Root={grouped('-')}"),
        ("header", f"x-{PAN}", UUID_VALUE),  # a name is scanned whatever its value
    ],
)
def test_card_numbers_where_formats_or_encodings_would_hide_them_are_refused(
    emulated: Emulated, place: str, name: str, value: str
) -> None:
    """Cookies (payload 2.0 keeps them apart), percent-encoding, transport headers out of their format, names."""
    event = api_event(valid_request())
    if place == "cookie":
        event["cookies"] = [f"{name}={value}"]
    elif place == "raw-query":
        event["rawQueryString"] = f"{name}={value}"
    else:
        event["headers"][name] = value
    status, body = submit(emulated, event)
    assert (status, body["error"]) == (400, payment_requests.REJECTED_CARD_DATA)


def test_uuids_are_not_card_numbers_in_keys_headers_queries_and_cookies(emulated: Emulated) -> None:
    """One random UUID in about 350 holds a Luhn-valid run; as an exact value it is never refused for it."""
    unlucky = "bc4d19a1-6411-4480-8995-60796afd0a13"  # "6411 4480 8995 60796" passes Luhn
    assert contains_pan(unlucky)
    event = api_event(valid_request(), key=unlucky)
    event["headers"]["x-request-id"] = unlucky
    event["queryStringParameters"] = {"ref": unlucky}
    event["rawQueryString"] = f"ref={unlucky}"
    event["cookies"] = [f"session={unlucky}"]
    status, body = submit(emulated, event)
    assert status == 202, body


@pytest.mark.parametrize("key", ["abcdefgh\ud800", "abcdefgh\n12", "abcdefgh\x00"])
def test_an_idempotency_key_that_is_not_printable_text_is_refused(emulated: Emulated, key: str) -> None:
    status, body = submit(emulated, api_event(valid_request(), key=key))
    assert (status, body["fields"]) == (400, ["Idempotency-Key"])


@pytest.mark.parametrize(
    "hidden",
    [
        "4111\u31641111\u31641111\u31641111",  # Hangul filler, a letter that shows nothing
        "\u2779\u2776" + "\u2776" * 13 + "\u2780",  # dingbat digits (no NFKC form)
        "\u136c" + "\u1369" * 15,  # Ethiopic digits
    ],
)
def test_invisible_letters_and_unnormalized_digit_forms_are_read_as_card_numbers(hidden: str) -> None:
    folded = normalized(hidden)[0]
    assert contains_pan(hidden) and mask_pans(f"x {hidden} y") == "x [REDACTED] y", folded


def test_an_unknown_missing_country_setting_fails_closed() -> None:
    rules = fraud_detection.Rules(review_amount=100, decline_amount=1000, missing_country="reveiw")
    assert fraud_detection.score(scored_payment(amount=50, card_country=None), rules).decision == "review"


def test_a_recorded_transaction_is_read_only_for_the_attributes_the_role_allows(
    emulated: Emulated, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the IAM condition enforces in AWS, checked on the call: a projection within RECORDED_ATTRIBUTES."""
    submit(emulated, api_event(valid_request(), key="projection-key-01"))
    process_queue(emulated)
    emulated.dynamodb.Table(IDEMPOTENCY_TABLE).delete_item(
        Key={"id": emulated.dynamodb.Table(IDEMPOTENCY_TABLE).scan()["Items"][0]["id"]}
    )
    reads: list[dict[str, Any]] = []
    real = emulated.dynamodb

    class Spy:
        def Table(self, name: str) -> Any:
            table = real.Table(name)

            class Recording:
                def __getattr__(self, attribute: str) -> Any:
                    return getattr(table, attribute)

                def get_item(self, **kwargs: Any) -> Any:
                    reads.append(kwargs)
                    return table.get_item(**kwargs)

            return Recording()

    monkeypatch.setattr(payment_validation, "dynamodb", Spy())
    status, body = submit(emulated, api_event(valid_request(), key="projection-key-01"))
    assert status == 202 and body["status"] == "approved"  # answered from the recorded item
    (read,) = reads
    assert set(read["ExpressionAttributeNames"].values()) <= set(contract.RECORDED_ATTRIBUTES)
    assert set(read["ProjectionExpression"].split(", ")) == set(read["ExpressionAttributeNames"])
