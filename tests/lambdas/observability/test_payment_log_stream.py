"""The payment log stream's Firehose transform on real-shaped batches (issue 13, document 002).

Batches are CloudWatch Logs subscription payloads built from log lines the real Powertools logger
writes (`log_lines.py`), in Firehose events built on the Powertools sample. Every test checks that
each record id comes back exactly once, in order.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re
import tracemalloc
import zlib
from typing import Any

import pytest
from card_data import normalized, pan_spans

from lib.contracts import log_stream as contract
from tests.lambdas.observability.conftest import Invocation, Invoke
from tests.lambdas.observability.log_lines import (
    CONTROL_MESSAGE,
    FIXTURES,
    LOG_GROUP,
    LOG_STREAM,
    firehose_event,
    mixed_lines,
    payment_log_stream,
    platform_lines,
    powertools_lines,
    record_data,
    stored_lines,
    subscription_payload,
)

# Test card numbers of three networks (16, 16 and 15 digits).
CARDS = ("4111111111111111", "5555555555554444", "378282246310005")


def assert_ids_once_in_order(event: dict[str, Any], invocation: Invocation) -> None:
    assert [record_id for record_id, _ in invocation.results()] == [r["recordId"] for r in event["records"]]


def powertools_json(fields: dict[str, Any]) -> str:
    """A line as Powertools writes it (compact, characters as they are), but without masking at source."""
    return json.dumps(fields, separators=(",", ":"), ensure_ascii=False) + "\n"


def processed_line() -> dict[str, Any]:
    """A real Powertools line of the processing function, as an object to add fields to."""
    (line,) = powertools_lines(lambda logger: logger.info("processed", extra={"status": "approved"}))
    fields: dict[str, Any] = json.loads(line)
    return fields


def transformed(invoke: Invoke, messages: list[str]) -> tuple[list[dict[str, Any]], Invocation]:
    """The stored lines of one DATA_MESSAGE record holding `messages`."""
    event = firehose_event([record_data(subscription_payload(messages))])
    invocation = invoke(event)
    assert_ids_once_in_order(event, invocation)
    (record,) = invocation.response["records"]
    assert record["result"] == "Ok", invocation.logs
    return stored_lines(record["data"]), invocation


_DIGIT_CHAIN = re.compile(r"[0-9](?:[\W_]*[0-9])*")


def shows(card: str, text: str) -> bool:
    """True if `text` holds the card's digits in one chain, in any form and with any separators."""
    folded = normalized(text)[0]
    return any(card in re.sub(r"[^0-9]", "", chain.group()) for chain in _DIGIT_CHAIN.finditer(folded))


def test_the_oracle_sees_a_disguised_card() -> None:
    assert shows(CARDS[0], "x " + "\u200b".join(chr(0xFF10 + int(d)) for d in CARDS[0]) + " y")
    assert not shows(CARDS[0], "x 4111 1111 1111 111 y")


# The Powertools sample, unchanged


def test_the_powertools_sample_fails_both_records_with_their_data_unchanged(invoke: Invoke) -> None:
    """Its records are plain text and plain JSON, not gzipped subscription payloads."""
    event = json.loads((FIXTURES / "kinesisFirehosePutEvent.json").read_text())
    invocation = invoke(event)
    assert_ids_once_in_order(event, invocation)
    assert invocation.response == {
        "records": [
            {"recordId": "record1", "result": "ProcessingFailed", "data": "SGVsbG8gV29ybGQ="},
            {"recordId": "record2", "result": "ProcessingFailed", "data": "eyJIZWxsbyI6ICJXb3JsZCJ9"},
        ]
    }
    assert invocation.metrics[contract.LOG_RECORDS_FAILED] == 2
    assert '"record_id":"record1","reason":"not gzip"' in invocation.logs
    assert "Hello" not in invocation.logs and "World" not in invocation.logs


# Real log lines


def test_real_log_lines_are_stored_one_json_line_per_event(invoke: Invoke) -> None:
    lines = mixed_lines()
    stored, invocation = transformed(invoke, lines)
    payload = subscription_payload(lines)
    assert len(stored) == len(lines) == invocation.metrics[contract.LOG_EVENTS_STORED]
    for line, event, original in zip(stored, payload["logEvents"], lines, strict=True):
        assert list(line) == list(contract.OUTPUT_FIELDS)
        assert line[contract.LOG_GROUP_FIELD] == LOG_GROUP and line[contract.LOG_STREAM_FIELD] == LOG_STREAM
        assert line[contract.EVENT_ID_FIELD] == event["id"] and line[contract.TIMESTAMP_FIELD] == event["timestamp"]
        # Powertools and EMF lines as their objects, Lambda's platform lines as their text: nothing to change.
        expected = json.loads(original) if original.startswith("{") else original
        assert line[contract.MESSAGE_FIELD] == expected
    assert stored[0][contract.MESSAGE_FIELD].startswith("START RequestId: ")
    assert {"level", "message", "timestamp", "function_request_id"} <= set(stored[1][contract.MESSAGE_FIELD])
    # The card the formatter masked at source stays masked; nothing else was found.
    assert any(line[contract.MESSAGE_FIELD].get("customer_reference") == "[REDACTED]" for line in stored[1:-3])
    assert invocation.metrics[contract.CARD_NUMBERS_MASKED] == 0
    assert invocation.metrics[contract.LOG_FIELDS_DROPPED] == 0


def test_real_powertools_lines_are_stored_as_written() -> None:
    """The fast path: each line's text is stored unchanged, and it is what the full path would store."""
    lines = mixed_lines()
    transformed = payment_log_stream.transform(record_data(subscription_payload(lines)))
    assert transformed is not None
    text = base64.b64decode(transformed.data).decode()
    json_lines = [line.strip() for line in lines if line.startswith("{")]
    assert len(json_lines) == 8
    for line in json_lines:
        assert f',"message":{line}}}\n' in text
        assert payment_log_stream.storable_as_written(line)
        full = payment_log_stream.stored_object(line)
        assert full is not None and json.loads(full[0]) == json.loads(line) and full[1:] == (0, 0)


def test_a_control_message_is_dropped_counted_and_logged(invoke: Invoke) -> None:
    event = firehose_event([record_data(CONTROL_MESSAGE), record_data(subscription_payload(platform_lines()))])
    invocation = invoke(event)
    assert_ids_once_in_order(event, invocation)
    assert [result for _, result in invocation.results()] == ["Dropped", "Ok"]
    assert invocation.metrics[contract.CONTROL_MESSAGES_DROPPED] == 1
    assert invocation.metrics[contract.LOG_RECORDS_FAILED] == 0
    assert '"message":"control message dropped"' in invocation.logs
    assert event["records"][0]["recordId"] in invocation.logs


# Malformed records

SAMPLE = subscription_payload(platform_lines())


def gzipped(raw: bytes) -> str:
    return base64.b64encode(gzip.compress(raw)).decode()


def with_events(events: Any) -> str:
    return record_data({**SAMPLE, "logEvents": events})


MALFORMED = {
    "empty": ("", "truncated gzip"),
    "not base64": ("not base64 at all!", "not base64"),
    "base64 with a stray character": (record_data(SAMPLE)[:-4] + "*" + record_data(SAMPLE)[-3:], "not base64"),
    "not compressed": (base64.b64encode(json.dumps(SAMPLE).encode()).decode(), "not gzip"),
    "zlib, not gzip": (base64.b64encode(zlib.compress(json.dumps(SAMPLE).encode())).decode(), "not gzip"),
    "truncated gzip": (base64.b64encode(gzip.compress(json.dumps(SAMPLE).encode())[:-12]).decode(), "truncated gzip"),
    "data after the gzip stream": (
        base64.b64encode(gzip.compress(json.dumps(SAMPLE).encode()) + b"tail").decode(),
        "data after the gzip stream",
    ),
    "two gzip members": (
        base64.b64encode(gzip.compress(b"{}") + gzip.compress(json.dumps(SAMPLE).encode())).decode(),
        "data after the gzip stream",
    ),
    "not UTF-8": (gzipped(json.dumps(SAMPLE).encode()[:-2] + b"\xff\xfe}"), "not UTF-8"),
    "not JSON": (gzipped(b"START RequestId: 1 Version: $LATEST"), "not JSON"),
    "JSON nested past the parser": (gzipped(b"[" * 100_000 + b"]" * 100_000), "not JSON"),
    "a JSON array": (gzipped(json.dumps([SAMPLE]).encode()), "not a CloudWatch Logs subscription payload"),
    "an unknown message type": (
        record_data({**SAMPLE, "messageType": "DATA"}),
        "not a CloudWatch Logs subscription payload",
    ),
    "no log events": (with_events([]), "not a CloudWatch Logs subscription payload"),
    "log events not a list": (with_events({"id": "1"}), "not a CloudWatch Logs subscription payload"),
    "no log group": (
        record_data({k: v for k, v in SAMPLE.items() if k != "logGroup"}),
        "not a CloudWatch Logs subscription payload",
    ),
    "an event not an object": (with_events(["START"]), "a log event is not an object"),
    "an event without its message": (
        with_events([{"id": "1", "timestamp": 1}]),
        "a log event lacks its id, timestamp or message",
    ),
    "a timestamp as text": (
        with_events([{"id": "1", "timestamp": "1", "message": "x"}]),
        "a log event lacks its id, timestamp or message",
    ),
    "a timestamp as a boolean": (
        with_events([{"id": "1", "timestamp": True, "message": "x"}]),
        "a log event lacks its id, timestamp or message",
    ),
    "a lone surrogate": (
        gzipped(json.dumps({**SAMPLE, "logEvents": [{"id": "1", "timestamp": 1, "message": "a\ud800b"}]}).encode()),
        "not valid Unicode",
    ),
    "a log line nested too deep to store": (
        with_events([{"id": "1", "timestamp": 1, "message": '{"a":' + "[" * 990 + "]" * 990 + "}"}]),
        "a log event nests too deep to",
    ),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_a_malformed_record_fails_with_its_data_unchanged_and_only_its_reason_logged(invoke: Invoke, case: str) -> None:
    data, reason = MALFORMED[case]
    event = firehose_event([data])
    invocation = invoke(event)
    assert_ids_once_in_order(event, invocation)
    assert invocation.response["records"][0]["result"] == "ProcessingFailed"
    assert invocation.response["records"][0]["data"] == data
    assert invocation.metrics[contract.LOG_RECORDS_FAILED] == 1
    (failure,) = [json.loads(line) for line in invocation.logs.splitlines() if "log record failed" in line]
    assert failure["record_id"] == event["records"][0]["recordId"] and failure["reason"].startswith(reason)
    assert "RequestId" not in invocation.logs and "$LATEST" not in invocation.logs


def test_good_and_malformed_records_in_one_batch_each_get_their_own_result(invoke: Invoke) -> None:
    good = record_data(subscription_payload(mixed_lines()))
    malformed = [MALFORMED[case][0] for case in sorted(MALFORMED)]
    datas = [good, *malformed[:5], record_data(CONTROL_MESSAGE), *malformed[5:], good]
    event = firehose_event(datas)
    invocation = invoke(event)
    assert_ids_once_in_order(event, invocation)
    expected = ["Ok", *["ProcessingFailed"] * 5, "Dropped", *["ProcessingFailed"] * (len(malformed) - 5), "Ok"]
    assert [result for _, result in invocation.results()] == expected
    for record, data in zip(invocation.response["records"], datas, strict=True):
        if record["result"] == "ProcessingFailed":
            assert record["data"] == data
    assert invocation.metrics[contract.LOG_RECORDS_FAILED] == len(malformed)
    assert invocation.metrics[contract.LOG_EVENTS_STORED] == 2 * len(mixed_lines())


def test_a_second_invocation_with_the_same_batch_answers_the_same(invoke: Invoke) -> None:
    """Firehose retries whole invocations: the transform is pure."""
    hostile = powertools_json({**processed_line(), "note": CARDS[0], "cvv": "123"})
    event = firehose_event([record_data(subscription_payload([*mixed_lines(), hostile])), MALFORMED["not JSON"][0]])
    assert invoke(event).response == invoke(event).response


# Decompression bombs


def bomb(inflated_bytes: int) -> str:
    """Gzip of `inflated_bytes` of zeros, built in 1 MB steps (it is never held inflated here)."""
    deflater = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    chunk = b"0" * 1_000_000
    compressed = b"".join(deflater.compress(chunk) for _ in range(inflated_bytes // len(chunk)))
    return base64.b64encode(compressed + deflater.flush()).decode()


def test_a_decompression_bomb_stops_at_the_cap(invoke: Invoke) -> None:
    data = bomb(200_000_000)
    assert len(data) < 300_000
    event = firehose_event([data])
    tracemalloc.start()
    try:
        invocation = invoke(event)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert_ids_once_in_order(event, invocation)
    assert invocation.results()[0][1] == "ProcessingFailed" and invocation.response["records"][0]["data"] == data
    assert f"inflates past {payment_log_stream.MAX_DECOMPRESSED_BYTES} bytes" in invocation.logs
    assert peak < 3 * payment_log_stream.MAX_DECOMPRESSED_BYTES


def test_the_cap_is_exact(monkeypatch: pytest.MonkeyPatch) -> None:
    payload = json.dumps(subscription_payload(platform_lines())).encode()
    data = gzipped(payload)
    monkeypatch.setattr(payment_log_stream, "MAX_DECOMPRESSED_BYTES", len(payload))
    assert payment_log_stream.transform(data) is not None
    monkeypatch.setattr(payment_log_stream, "MAX_DECOMPRESSED_BYTES", len(payload) - 1)
    with pytest.raises(payment_log_stream.MalformedRecordError, match="inflates past"):
        payment_log_stream.transform(data)


# Card numbers in disguise


def grouped(card: str, separator: str) -> str:
    return separator.join(card[i : i + 4] for i in range(0, len(card), 4))


DISGUISES = {
    "plain": lambda card: card,
    "spaces": lambda card: grouped(card, " "),
    "dashes": lambda card: grouped(card, "-"),
    "separator runs": lambda card: grouped(card, " -/ "),
    "newlines": lambda card: grouped(card, "\n"),
    "zero-width spaces": lambda card: grouped(card, "\u200b"),
    "soft hyphens": lambda card: grouped(card, "\u00ad"),
    "zero-width joiners between digits": "\u200d".join,
    "full-width digits": lambda card: "".join(chr(0xFF10 + int(d)) for d in card),
    "arabic-indic digits and thin spaces": lambda card: grouped("".join(chr(0x0660 + int(d)) for d in card), "\u2009"),
    "superscript digits": lambda card: "".join("⁰¹²³⁴⁵⁶⁷⁸⁹"[int(d)] for d in card),
    "a trailing group": lambda card: grouped(card, " ") + " 7",
}


def hostile_messages(text: str) -> dict[str, str]:
    """The disguised card in every place of a log line: as the text of a line, and in a JSON line."""
    base = processed_line()
    return {
        "a text line": f"charge declined for {text}\n",
        "a top-level value": powertools_json({**base, "note": f"customer said {text}"}),
        "a nested value": powertools_json({**base, "detail": {"items": [{"ref": text}]}}),
        "a key": powertools_json({**base, text: "x"}),
        "a nested key": powertools_json({**base, "detail": [{text: 1}]}),
        "JSON inside a string": powertools_json({**base, "raw": json.dumps({"note": text}, ensure_ascii=False)}),
        "a traceback": powertools_json({**base, "exception": f'Traceback:\n  File "x.py"\nValueError: {text}'}),
        "escaped JSON": json.dumps({**base, "note": text}) + "\n",  # ensure_ascii: \u escapes
    }


@pytest.mark.parametrize("card", CARDS)
@pytest.mark.parametrize("disguise", sorted(DISGUISES))
def test_a_disguised_card_number_is_masked_wherever_it_is_in_a_line(invoke: Invoke, disguise: str, card: str) -> None:
    messages = hostile_messages(DISGUISES[disguise](card))
    stored, invocation = transformed(invoke, list(messages.values()))
    assert len(stored) == len(messages)
    for place, line in zip(messages, stored, strict=True):
        text = json.dumps(line, ensure_ascii=False)
        assert not shows(card, text), (place, text)
        message = line[contract.MESSAGE_FIELD]
        if place == "a text line" or (place == "JSON inside a string" and disguise == "newlines"):
            # Text; or JSON text in a value whose escaped newlines show the card only in the whole line.
            assert isinstance(message, str) and "[REDACTED]" in message, place
        else:  # the rest of the line is kept
            assert message["message"] == "processed" and message["status"] == "approved", place
    assert invocation.metrics[contract.CARD_NUMBERS_MASKED] >= len(messages)


@pytest.mark.parametrize("card", CARDS)
def test_a_card_number_as_a_number_becomes_redacted(invoke: Invoke, card: str) -> None:
    base = processed_line()
    messages = [
        powertools_json({**base, "amount": int(card)}),
        powertools_json({**base, "detail": {"amounts": [1, -int(card)]}}),
        powertools_json({**base, "ratio": float(card)}),
        powertools_json({**base, "ratio": int(card) / 10**8}),
        # Written otherwise than a parser writes it back: the parsed number shows the card.
        powertools_json(base)[:-2] + f',"scaled":{card}0e-1}}\n',
        powertools_json(base)[:-2] + f',"small":0.0000000{card}}}\n',
    ]
    stored, _ = transformed(invoke, messages)
    for line in stored:
        assert not shows(card, json.dumps(line)), line
    assert stored[0][contract.MESSAGE_FIELD]["amount"] == "[REDACTED]"
    assert stored[1][contract.MESSAGE_FIELD]["detail"] == {"amounts": [1, "[REDACTED]"]}


@pytest.mark.parametrize("card", CARDS)
def test_a_card_number_split_across_values_masks_the_message(invoke: Invoke, card: str) -> None:
    """No value holds the card, the line's JSON text does: the message is stored as masked text."""
    base = processed_line()
    groups = [card[i : i + 4] for i in range(0, len(card), 4)]
    messages = [
        powertools_json({**base, "groups": groups}),
        powertools_json({**base, "groups": [int(group) for group in groups]}),
        powertools_json({**base, groups[0]: groups[1:]}),
    ]
    stored, invocation = transformed(invoke, messages)
    for line in stored:
        assert not shows(card, json.dumps(line)), line
        assert isinstance(line[contract.MESSAGE_FIELD], str) and "[REDACTED]" in line[contract.MESSAGE_FIELD]
    assert invocation.metrics[contract.CARD_NUMBERS_MASKED] == len(messages)


def test_a_card_in_the_first_of_duplicate_keys_is_masked(invoke: Invoke) -> None:
    """A parser keeps the last value; the text stored keeps both, so both are checked."""
    line = powertools_json(processed_line())[:-2] + f',"note":"{CARDS[0]}","note":"fine"}}\n'
    stored, _ = transformed(invoke, [line])
    assert not shows(CARDS[0], json.dumps(stored))


def test_the_envelope_names_and_ids_are_masked_too(invoke: Invoke) -> None:
    payload = subscription_payload(platform_lines(), group=f"/aws/lambda/{CARDS[0]}", stream=grouped(CARDS[1], "-"))
    payload["logEvents"][0]["id"] = grouped(CARDS[2], " ")
    event = firehose_event([record_data(payload)])
    invocation = invoke(event)
    (record,) = invocation.response["records"]
    text = base64.b64decode(record["data"]).decode()
    assert record["result"] == "Ok" and not any(shows(card, text) for card in CARDS)
    assert stored_lines(record["data"])[1][contract.EVENT_ID_FIELD] == payload["logEvents"][1]["id"]


def luhn_valid_timestamp() -> str:
    """A Powertools timestamp whose digits hold a Luhn-valid chain (the reason for the exemption)."""
    for millisecond in range(1000):
        stamp = f"2026-11-24 08:23:22,{millisecond:03d}+0000"
        if next(pan_spans(stamp), None) is not None:
            return stamp
    raise AssertionError("no such timestamp")


def luhn_valid_epoch_ms() -> int:
    return next(ms for ms in range(1_795_000_000_000, 1_795_000_001_000) if next(pan_spans(str(ms)), None))


def test_the_loggers_own_values_are_exempt_as_at_source(invoke: Invoke) -> None:
    stamp, epoch_ms = luhn_valid_timestamp(), luhn_valid_epoch_ms()
    base = {**processed_line(), "timestamp": stamp}
    emf = json.loads(mixed_lines()[-3])
    emf["_aws"]["Timestamp"] = epoch_ms
    messages = [
        powertools_json(base),
        powertools_json({**base, "created": stamp, "detail": {"timestamp": stamp}}),
        powertools_json(emf),
        powertools_json({**emf, "count": epoch_ms}),
    ]
    stored, invocation = transformed(invoke, messages)
    plain, copied, metrics, counted = (line[contract.MESSAGE_FIELD] for line in stored)
    assert plain == base
    assert copied["timestamp"] == stamp
    assert "[REDACTED]" in copied["created"] and "[REDACTED]" in copied["detail"]["timestamp"]
    assert metrics == emf
    assert counted["_aws"] == emf["_aws"] and counted["count"] == "[REDACTED]"
    assert invocation.metrics[contract.CARD_NUMBERS_MASKED] == 3


def test_nan_and_infinities_are_stored_as_strings(invoke: Invoke) -> None:
    """Python's parser reads them; JSON has no such numbers, so consumers could not read the line."""
    line = powertools_json(processed_line())[:-2] + ',"ratio":NaN,"limits":[Infinity,-Infinity,1e999]}\n'
    stored, _ = transformed(invoke, [line])
    message = stored[0][contract.MESSAGE_FIELD]
    assert message["ratio"] == "NaN" and message["limits"] == ["Infinity", "-Infinity", "Infinity"]


# Fields never stored


def variants(name: str) -> list[str]:
    """Spellings of an unstored field the contract says match: case, `_`, `-`, spaces, full width."""
    spaced = " ".join(name)
    return [
        name,
        name.upper(),
        "_".join(name),
        f"-{name.title()}-",
        spaced,
        "".join(chr(0xFEE0 + ord(c)) for c in name),
    ]


def test_unstored_fields_are_dropped_at_any_depth_in_every_spelling(invoke: Invoke) -> None:
    base = processed_line()
    spellings = [spelling for name in sorted(contract.UNSTORED_FIELDS) for spelling in variants(name)]
    nested = {"detail": {"items": [{spelling: "secret-value"} for spelling in spellings]}}
    messages = [
        powertools_json({**base, **{spelling: "secret-value" for spelling in spellings}}),
        powertools_json({**base, **nested}),
        powertools_json({**base, "request": {"card": {"number": CARDS[0], "cvv": "secret-value"}}}),
        powertools_json({**base, "card_number": CARDS[0]}).replace('"card_number"', '"card\\u005fnumber"'),
    ]
    stored, invocation = transformed(invoke, messages)
    for line in stored:
        text = json.dumps(line, ensure_ascii=False)
        assert "secret-value" not in text and not shows(CARDS[0], text)
        message = line[contract.MESSAGE_FIELD]
        assert message["message"] == "processed" and message["status"] == "approved"
    assert stored[1][contract.MESSAGE_FIELD]["detail"] == {"items": [{}] * len(spellings)}
    assert invocation.metrics[contract.LOG_FIELDS_DROPPED] == 2 * len(spellings) + 2


def test_fields_that_only_resemble_unstored_ones_are_kept(invoke: Invoke) -> None:
    kept = {"card_token": "tok_1", "company": "c", "shipping": "s", "expected": "e", "span_id": "x", "pin_code": "p"}
    stored, invocation = transformed(invoke, [powertools_json({**processed_line(), **kept})])
    assert kept.items() <= stored[0][contract.MESSAGE_FIELD].items()
    assert invocation.metrics[contract.LOG_FIELDS_DROPPED] == 0


# Batches near Firehose's limits


def response_bytes(invocation: Invocation) -> int:
    """The response as Lambda's runtime serializes it."""
    return len(json.dumps(invocation.response).encode())


def test_a_batch_of_500_records_stays_within_the_response_budget(invoke: Invoke) -> None:
    """Each record inflates about 25 times once transformed: later ones fail, unchanged, instead."""
    datas = [record_data(subscription_payload(mixed_lines() * 4, first=index * 100)) for index in range(500)]
    datas[-1] = record_data(CONTROL_MESSAGE)
    event = firehose_event(datas)
    invocation = invoke(event)
    assert_ids_once_in_order(event, invocation)
    results = [result for _, result in invocation.results()]
    ok, failed = results.count("Ok"), results.count("ProcessingFailed")
    assert 100 < ok < 499 and results == ["Ok"] * ok + ["ProcessingFailed"] * failed + ["Dropped"]
    assert contract.RESPONSE_BUDGET_BYTES - 40_000 < response_bytes(invocation) <= contract.RESPONSE_BUDGET_BYTES
    for record, data in zip(invocation.response["records"][ok:-1], datas[ok:-1], strict=True):
        assert record["data"] == data
    assert invocation.metrics[contract.LOG_RECORDS_OVER_BUDGET] == invocation.metrics[contract.LOG_RECORDS_FAILED]
    assert invocation.metrics[contract.LOG_RECORDS_FAILED] == failed
    assert invocation.logs.count("over the response budget") == failed


def incompressible_lines(seed: str) -> list[str]:
    """About 1.3 MB of text lines that gzip cannot shrink below 990 KiB (base64 of a deterministic stream)."""
    text = base64.b64encode(hashlib.shake_256(seed.encode()).digest(985 * 1024)).decode()
    return [text[i : i + 8192] for i in range(0, len(text), 8192)]


def test_a_batch_at_lambdas_request_limit_returns_every_record_unchanged(invoke: Invoke) -> None:
    """Four records of almost 1,000 KiB (Firehose's record limit) that do not compress: 5.4 MB of
    input, so no record can grow in the response; all fail, unchanged, and Firehose keeps them.
    """
    datas = []
    for index in range(4):
        messages = incompressible_lines(str(index))
        datas.append(record_data(subscription_payload(messages, first=index * 1000)))
        assert 990 * 1024 < len(base64.b64decode(datas[-1])) <= 1000 * 1024
    event = firehose_event(datas)
    invocation = invoke(event)
    assert_ids_once_in_order(event, invocation)
    assert [result for _, result in invocation.results()] == ["ProcessingFailed"] * 4
    assert [record["data"] for record in invocation.response["records"]] == datas
    assert invocation.metrics[contract.LOG_RECORDS_OVER_BUDGET] == 4
    assert 5_400_000 < response_bytes(invocation) <= contract.RESPONSE_BUDGET_BYTES < 6 * 1024 * 1024


def test_one_record_at_the_record_size_limit_is_transformed(invoke: Invoke) -> None:
    """Alone in its batch (the processor's small buffer), it grows within the budget."""
    messages = incompressible_lines("alone")
    event = firehose_event([record_data(subscription_payload(messages))])
    invocation = invoke(event)
    assert invocation.results() == [(event["records"][0]["recordId"], "Ok")]
    stored = stored_lines(invocation.response["records"][0]["data"])
    assert [line[contract.MESSAGE_FIELD] for line in stored] == messages
