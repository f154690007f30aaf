"""Property: a card number in any disguise, anywhere in a request, is refused and never kept (issue 9).

Hypothesis generates Luhn-valid numbers of 13-19 digits, writes their digits in other forms
(full-width, Arabic-Indic, Devanagari, Bengali, Thai, mathematical, superscript, subscript,
circled, dingbat), splits them into groups joined by runs of punctuation, whitespace, dashes,
invisible format characters and letters, and places the result in a body field, a number, a JSON
key or value nested up to the depth limit, the Idempotency-Key, a client header's name or value, a
transport header out of its format, a query parameter's name or value, the raw query, or a cookie.
Every request must end in a 4xx with a JSON body and no stack trace, with nothing written to any
table, queue or bus, and the card's digits in no log line, item, message or response.

A fixed seed and a bounded number of examples keep `make test` repeatable and quick.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any
from urllib.parse import quote_plus

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from card_data import MAX_PAN_DIGITS, MIN_PAN_DIGITS, luhn_valid, normalized, pan_spans
from hypothesis import HealthCheck, assume, given, seed, settings
from hypothesis import strategies as st
from payments_common import TRANSACTION_NAMESPACE, transaction_id

from tests.lambdas.payments.conftest import (
    IDEMPOTENCY_TABLE,
    VELOCITY_TABLE,
    Emulated,
    FakeContext,
    api_event,
    payment_requests,
    payment_validation,
    valid_request,
)

EXAMPLES = 300
MAX_DEPTH = payment_requests.MAX_JSON_DEPTH

# The zero of each digit form; NFKC or the Unicode decimal value maps every one to ASCII.
DIGIT_FORMS = [
    [chr(zero + d) for d in range(10)]
    for zero in (0x30, 0xFF10, 0x0660, 0x06F0, 0x0966, 0x09E6, 0x0E50, 0x1D7CE, 0x1D7EC)
] + [
    list("⁰¹²³⁴⁵⁶⁷⁸⁹"),
    list("₀₁₂₃₄₅₆₇₈₉"),
    list("⓪①②③④⑤⑥⑦⑧⑨"),
    ["\u24ff", *(chr(0x2776 + d) for d in range(9))],  # dingbat digits: no NFKC form, only a digit value
]
SEPARATORS = list(" -./_,:;|+*#~\t\n\r\u00a0\u2007\u2009\u202f\u3000\u2010\u2011\u2013\u2014\u2212\ufe63\uff0d")
# Unicode category Cf, and letters that render as nothing (Hangul fillers).
FORMAT_CHARACTERS = list("\u200b\u200c\u200d\u2060\u00ad\ufeff\u115f\u1160\u3164\uffa0")
SURROUNDING = st.text(alphabet="abcXYZ _:=", max_size=6)
PLACES = [
    "field",
    "number",
    "nested-key",
    "nested-value",
    "idempotency-key",
    "header-value",
    "header-name",
    "query-value",
    "query-name",
    "raw-query",
    "cookie",
    "transport-header",
]
FIELDS = ["customer_id", "merchant_id", "card_token", "currency", "merchant_country", "card_country", "note"]


def luhn_check_digit(body: str) -> str:
    total = 0
    for index, char in enumerate(reversed(body)):
        digit = int(char) * (2 if index % 2 == 0 else 1)
        total += digit - 9 if digit > 9 else digit
    return str(-total % 10)


@st.composite
def card_numbers(draw: st.DrawFn) -> str:
    """A Luhn-valid number of 13-19 ASCII digits, starting like a network's (2-6)."""
    length = draw(st.integers(MIN_PAN_DIGITS, MAX_PAN_DIGITS))
    body = draw(st.sampled_from("23456")) + draw(st.text("0123456789", min_size=length - 2, max_size=length - 2))
    return body + luhn_check_digit(body)


@st.composite
def disguised(draw: st.DrawFn, card: str) -> str:
    """The card's digits in mixed forms, in groups joined by separator runs, with format characters inside."""
    out, index = [], 0
    while index < len(card):
        size = draw(st.integers(1, 6))
        for digit in card[index : index + size]:
            out.append(draw(st.sampled_from(DIGIT_FORMS))[int(digit)])
            if draw(st.integers(0, 9)) == 0:
                out.append(draw(st.sampled_from(FORMAT_CHARACTERS)))
        index += size
        if index < len(card):
            out.append("".join(draw(st.lists(st.sampled_from(SEPARATORS + FORMAT_CHARACTERS), max_size=3))))
    return draw(SURROUNDING) + "".join(out) + draw(SURROUNDING)


def nest(value: Any, depth: int, as_key: bool) -> Any:
    """`value` as a key (or value) `depth` levels down, alternating objects and arrays."""
    inner: Any = {value: "x"} if as_key else value
    for level in range(depth):
        inner = {"k": inner} if level % 2 else [inner]
    return inner


@st.composite
def hostile_requests(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """(the ASCII card number, an HTTP API event carrying it in one place)."""
    card = draw(card_numbers())
    text = draw(disguised(card))
    place = draw(st.sampled_from(PLACES))
    request, key, headers, query = valid_request(), "key-" + "0" * 12, {}, None
    if place == "field":
        request[draw(st.sampled_from(FIELDS))] = text
    elif place == "number":
        request[draw(st.sampled_from(["amount", "note"]))] = int(card)
    elif place in ("nested-key", "nested-value"):
        request["meta"] = nest(text, draw(st.integers(0, MAX_DEPTH - 2)), as_key=place == "nested-key")
    elif place == "idempotency-key":
        key = text
    elif place == "header-value":
        headers["x-customer-reference"] = text
    elif place == "header-name":
        headers[f"x-{text}"] = "1"
    elif place == "transport-header":
        name = draw(st.sampled_from(sorted(payment_requests.TRANSPORT_HEADERS)))
        # A value in its header's own format is exempt by design (never stored or logged).
        assume(not payment_requests.TRANSPORT_HEADERS[name].fullmatch(text))
        headers[name] = text
    elif place == "query-value":
        query = {"ref": text}
    elif place == "query-name":
        query = {text: "1"}
    assume(not payment_requests.UUID.fullmatch(text))  # an exact UUID is exempt by design
    event = api_event(json.dumps(request, ensure_ascii=draw(st.booleans())), key=key)
    event["headers"].update(headers)
    event["queryStringParameters"] = query
    if place == "raw-query":
        event["rawQueryString"] = "ref=" + quote_plus(text)
    elif place == "cookie":
        event["cookies"] = [f"note={text}"]
    return card, event


_DIGIT_CHAIN = re.compile(r"[0-9](?:[\W_]*[0-9])*")


def shows(card: str, text: str) -> bool:
    """True if `text` holds the card's digits in one chain, in any form and with any separators."""
    folded = normalized(text)[0]
    return any(card in re.sub(r"[^0-9]", "", chain.group()) for chain in _DIGIT_CHAIN.finditer(folded))


def nothing_written(emulated: Emulated) -> bool:
    tables = (
        emulated.table_items(),
        *(emulated.dynamodb.Table(t).scan()["Items"] for t in (IDEMPOTENCY_TABLE, VELOCITY_TABLE)),
    )
    queues = (emulated.transaction_queue, emulated.analytics_queue, emulated.alerts_queue)
    return not any(tables) and not any(emulated.peek(queue) for queue in queues)


def test_a_hidden_card_number_in_any_place_is_refused_and_kept_nowhere(emulated: Emulated) -> None:
    @seed(20261123)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )
    @given(hostile_requests())
    def refused(generated: tuple[str, dict[str, Any]]) -> None:
        card, event = generated
        logged_before = len(emulated.logs.getvalue())
        response = payment_validation.handler(event, FakeContext())
        assert 400 <= response["statusCode"] < 500, response
        body = json.loads(response["body"])
        assert set(body) == {"error", "fields"} and "Traceback" not in response["body"]
        assert nothing_written(emulated)
        logged = emulated.logs.getvalue()[logged_before:]
        assert not shows(card, logged + response["body"] + json.dumps(response["headers"]))

    refused()


def test_the_property_sees_a_card_it_did_not_hide() -> None:
    """The oracle can fail: a card written out in full-width digits and thin spaces is found."""
    card = "4111111111111111"
    hidden = "\u2009".join(chr(0xFF10 + int(d)) for d in card)
    assert shows(card, f"log line {hidden} end") and not shows(card, "log line 4111 1111 1111 111 end")


def reference_spans(text: str) -> list[tuple[int, int]]:
    """The detector's definition, spelled out slowly: every run of whole digit groups of 13-19 digits, Luhn-checked."""
    folded, origin = normalized(text)
    spans = []
    for chain in re.finditer(r"[0-9](?:[\W_]*[0-9])*", folded):
        groups = [(m.start(), m.end()) for m in re.finditer("[0-9]+", chain.group())]
        for first in range(len(groups)):
            for last in range(first, len(groups)):
                digits = "".join(chain.group()[a:b] for a, b in groups[first : last + 1])
                if MIN_PAN_DIGITS <= len(digits) <= MAX_PAN_DIGITS and luhn_valid(digits):
                    start, end = chain.start() + groups[first][0], chain.start() + groups[last][1]
                    spans.append((start, end) if origin is None else (origin[start], origin[end - 1] + 1))
    return spans


@seed(20261123)
@settings(max_examples=2000, deadline=None, database=None)
@given(
    st.text(
        alphabet=st.sampled_from(list("0123456789ab") + SEPARATORS + FORMAT_CHARACTERS + ["\u00b9", "\uff14"]),
        max_size=80,
    )
)
def test_the_fast_detector_finds_exactly_what_its_definition_does(text: str) -> None:
    """The pre-check and the prefix-sum Luhn are optimizations: they change no answer."""
    assert list(pan_spans(text)) == reference_spans(text)


@seed(20261123)
@settings(max_examples=500, deadline=None, database=None)
@given(st.text(max_size=40), st.text(max_size=40))
def test_transaction_ids_are_uuid5_of_merchant_and_key(merchant: str, key: str) -> None:
    assert transaction_id(merchant, key) == str(uuid.uuid5(TRANSACTION_NAMESPACE, f"{merchant}\x1f{key}"))


@seed(20261123)
@settings(max_examples=1000, deadline=None, database=None)
@given(st.uuids(), st.booleans())
def test_no_uuid_is_taken_for_a_card_number(value: uuid.UUID, upper: bool) -> None:
    """Idempotency-Keys, request ids, query values and cookies that are UUIDs always pass the scan."""
    text = str(value).upper() if upper else str(value)
    event = api_event(valid_request(), key=text)
    event["headers"]["x-request-id"] = text
    event["queryStringParameters"] = {"ref": text}
    event["rawQueryString"] = f"ref={text}"
    event["cookies"] = [f"session={text}"]
    assert not payment_requests.carries_card_data(APIGatewayProxyEventV2(event))
