"""Firehose transform for the payment log stream: card data masked again, unstored fields dropped.

CloudWatch Logs subscription filters on the payment functions' log groups feed the stream, so
each record is one subscription payload: base64 of a gzipped JSON envelope holding log events.
The functions mask card numbers at source (`PanMaskingFormatter`); this is the second line of
defence, with the same detector (`card_data`). Per record:
- a DATA_MESSAGE becomes `Ok`: its events as newline-delimited JSON in the contract's format
  (`lib.contracts.log_stream`). A message that is a JSON object is stored as that object without
  the fields of UNSTORED_FIELDS (at any depth), with card numbers masked in every key and value
  and then in its JSON text as a whole (digit groups split across values); any other message is
  masked as text. The logger's own values are exempt, as `PanMaskingFormatter` exempts them (a
  timestamp's digits can pass for a card number): the top-level strings of LOGGER_KEYS, and the
  time of Powertools Metrics' EMF lines;
- a CONTROL_MESSAGE (CloudWatch's connectivity check, no log data) is `Dropped`, and counted;
- anything malformed is `ProcessingFailed` with its original data, which Firehose keeps under the
  error prefix; only the record id and the reason are logged, never the content;
- a record whose transform would take the response past Lambda's 6 MB limit is `ProcessingFailed`
  with its original data too (RESPONSE_BUDGET_BYTES).
Every record id comes back exactly once, in order. The transform is pure, so Firehose's retries
of an invocation give the same response. Text that is not valid JSON (a JSON line CloudWatch
truncated) can only be masked: its fields are not known.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import os
import unicodedata
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import (
    KinesisFirehoseDataTransformationResponse,
    KinesisFirehoseEvent,
    event_source,
)
from aws_lambda_powertools.utilities.data_classes.kinesis_firehose_event import KinesisFirehoseRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from card_data import MAX_PAN_DIGITS, MIN_PAN_DIGITS, REDACTED, mask_pans, pan_spans
from payments_common import LOGGER_KEYS, PanMaskingFormatter

from lib.contracts import log_stream as contract

# Read once per execution environment; a missing setting stops the cold start.
SETTINGS = contract.read_settings("payment_log_stream", os.environ)

logger = Logger(logger_formatter=PanMaskingFormatter())
tracer = Tracer()
metrics = Metrics()

# A payload inflating past the response budget could never be returned transformed (base64 adds
# a third), so inflating stops there: a decompression bomb costs no more memory than that.
MAX_DECOMPRESSED_BYTES = contract.RESPONSE_BUDGET_BYTES
GZIP_ONLY = 16 + zlib.MAX_WBITS
# What a record costs in the response besides its data: `{"recordId": "", "result": "ProcessingFailed", "data": ""}, `.
RECORD_OVERHEAD_BYTES = 64
# Stored JSON: compact, characters as they are (as Powertools writes its lines).
ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
# Separates the texts of one log line scanned at once: letters end a digit chain, so no card
# number is made of two texts (as in `card_data.contains_pan`).
TEXT_BREAK = "\nX\n"
# An integer closer to zero than this has fewer than 13 digits: no card number.
SMALLEST_CANDIDATE = 10 ** (MIN_PAN_DIGITS - 1)
# Powertools Metrics' EMF lines: `{"_aws": {"Timestamp": <epoch ms>, ...}, ...}`.
EMF_METADATA, EMF_TIME = "_aws", "Timestamp"
# JSON escapes ending in a letter. Each decodes to a separator (a control character), so read as
# a space they show the detector what a parser will see; `\u` escapes may decode to digits.
LETTER_ESCAPES = ("\\n", "\\r", "\\t", "\\b", "\\f")
# The exempt values whose digits always form a chain of 13 or more (date, time and milliseconds;
# region and account): a line stored as written is checked without them. The other exempt values
# (ids in hex) rarely do; a line where they do takes the full path, which exempts them all.
CHAINED_KEYS = ("timestamp", "function_arn")
# Field names known to be stored: a cache of `unstored`, bounded (log lines repeat few names).
STORED_NAMES: set[str] = set()
MAX_STORED_NAMES = 4096


class MalformedRecordError(ValueError):
    """A record that is not a CloudWatch Logs subscription payload; the message is the reason."""


class RewriteNeededError(Exception):
    """Raised while parsing a line to store as written: it needs the full path instead."""


@dataclass(frozen=True)
class Transformed:
    """A DATA_MESSAGE's events as stored (base64 of newline-delimited JSON) and what was removed."""

    data: str
    events: int
    masked: int
    dropped: int


@dataclass
class Tally:
    """What one invocation did, for its metrics and its log lines."""

    records: int = 0
    failed: int = 0
    over_budget: int = 0
    events: int = 0
    masked: int = 0
    dropped: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)  # (record id, reason)
    control_messages: list[str] = field(default_factory=list)  # record ids


def envelope(data: str) -> dict[str, Any]:
    """The subscription payload in a record's data: base64, then one gzip member, UTF-8 JSON."""
    try:
        compressed = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise MalformedRecordError("not base64") from None
    inflater = zlib.decompressobj(wbits=GZIP_ONLY)
    try:
        raw = inflater.decompress(compressed, MAX_DECOMPRESSED_BYTES + 1)
    except zlib.error:
        raise MalformedRecordError("not gzip") from None
    if len(raw) > MAX_DECOMPRESSED_BYTES or inflater.unconsumed_tail:
        raise MalformedRecordError(f"inflates past {MAX_DECOMPRESSED_BYTES} bytes")
    if not inflater.eof:
        raise MalformedRecordError("truncated gzip")
    if inflater.unused_data:
        raise MalformedRecordError("data after the gzip stream")
    try:
        payload = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise MalformedRecordError("not UTF-8") from None
    except (ValueError, RecursionError):
        raise MalformedRecordError("not JSON") from None
    if type(payload) is not dict or payload.get("messageType") not in ("DATA_MESSAGE", "CONTROL_MESSAGE"):
        raise MalformedRecordError("not a CloudWatch Logs subscription payload")
    return payload


def transform(data: str) -> Transformed | None:
    """A record's data as stored; None for a CONTROL_MESSAGE. Raises MalformedRecordError."""
    payload = envelope(data)
    if payload["messageType"] == "CONTROL_MESSAGE":
        return None
    group, stream, events = payload.get("logGroup"), payload.get("logStream"), payload.get("logEvents")
    if type(group) is not str or type(stream) is not str or type(events) is not list or not events:
        raise MalformedRecordError("not a CloudWatch Logs subscription payload")
    # Every line is {log_group, log_stream, event_id, timestamp, message} (the contract's names).
    prefix = (
        f'{{"{contract.LOG_GROUP_FIELD}":{ENCODER.encode(mask_pans(group))},'
        f'"{contract.LOG_STREAM_FIELD}":{ENCODER.encode(mask_pans(stream))},"{contract.EVENT_ID_FIELD}":'
    )
    timestamp_key, message_key = f',"{contract.TIMESTAMP_FIELD}":', f',"{contract.MESSAGE_FIELD}":'
    lines, masked, dropped = [], 0, 0
    for event in events:
        if type(event) is not dict:
            raise MalformedRecordError("a log event is not an object")
        event_id, timestamp, text = event.get("id"), event.get("timestamp"), event.get("message")
        if type(event_id) is not str or type(timestamp) is not int or type(text) is not str:
            raise MalformedRecordError("a log event lacks its id, timestamp or message")
        message, event_masked, event_dropped = stored_message(text)
        masked += event_masked
        dropped += event_dropped
        lines.append(f"{prefix}{stored_id(event_id)}{timestamp_key}{timestamp}{message_key}{message}}}\n")
    try:
        stored = "".join(lines).encode()
    except UnicodeEncodeError:  # a lone surrogate, from a \ud800 escape: no UTF-8 holds it
        raise MalformedRecordError("not valid Unicode") from None
    return Transformed(base64.b64encode(stored).decode(), len(events), masked, dropped)


def stored_id(event_id: str) -> str:
    """CloudWatch's ids are digit strings longer than any card number (none to mask); others are masked."""
    if len(event_id) > MAX_PAN_DIGITS and event_id.isascii() and event_id.isdigit():
        return f'"{event_id}"'
    return ENCODER.encode(mask_pans(event_id))


def stored_message(text: str) -> tuple[str, int, int]:
    """(the message's stored JSON, values masked, fields dropped)."""
    stripped = text.strip()
    if stripped.startswith("{"):
        if storable_as_written(stripped):  # the common case: a Powertools line with nothing to change
            return stripped, 0, 0
        stored = stored_object(text)
        if stored is not None:
            return stored
    masked = mask_pans(text)
    return ENCODER.encode(masked), int(masked != text), 0


def storable_as_written(stripped: str) -> bool:
    """True if the text is a JSON object to store as it is written, without parsing it twice.

    It must be one line, parse with no unstored key, no number a parser would rewrite (NaN,
    infinities, floats not in their shortest form, which could move a card number's digits) and no
    `\\u` escape, and show no card number in its text once exempt values are taken out.
    """
    if "\n" in stripped or "\r" in stripped or ("\\" in stripped and "\\u" in stripped):
        return False
    try:
        parsed, end = AS_WRITTEN.raw_decode(stripped)
    except (RewriteNeededError, ValueError, RecursionError):
        return False
    return end == len(stripped) and type(parsed) is dict and not shows_card_number(stripped, parsed, CHAINED_KEYS)


def stored_object(text: str) -> tuple[str, int, int] | None:
    """The JSON object in `text` as stored (see the module's docstring); None if `text` holds none."""
    try:
        parsed = json.loads(text)
    except ValueError:
        return None
    except RecursionError:
        raise MalformedRecordError("a log event nests too deep to parse") from None
    if type(parsed) is not dict:
        return None
    texts, must_copy = scanned(parsed)
    has_card = next(pan_spans(TEXT_BREAK.join(texts)), None) is not None
    masked = dropped = 0
    if has_card or must_copy:
        parsed, masked, dropped = cleaned(parsed, mask=has_card)
    try:
        stored = ENCODER.encode(parsed)
    except RecursionError:
        raise MalformedRecordError("a log event nests too deep to store") from None
    if shows_card_number(stored, parsed):  # digit groups split across values: masked as text
        return ENCODER.encode(mask_pans(escapes_as_spaces(stored))), masked + 1, dropped
    return stored, masked, dropped


def shows_card_number(stored: str, message: dict[str, Any], exempt_keys: Iterable[str] = LOGGER_KEYS) -> bool:
    """True if the message's JSON text shows a card number outside its exempt values."""
    for key in exempt_keys:
        value = message.get(key)
        if type(value) is str:
            stored = without_once(stored, f'"{key}":{ENCODER.encode(value)}')
    metadata = message.get(EMF_METADATA)
    if type(metadata) is dict and type(metadata.get(EMF_TIME)) is int:
        stored = without_once(stored, f'"{EMF_TIME}":{metadata[EMF_TIME]}')
    return next(pan_spans(escapes_as_spaces(stored)), None) is not None


def escapes_as_spaces(text: str) -> str:
    """JSON text with its letter escapes as spaces: what the detector must read of it."""
    if "\\" in text:
        for escape in LETTER_ESCAPES:
            text = text.replace(escape, " ")
    return text


def without_once(text: str, pair: str) -> str:
    """`text` without `pair` if it appears once (twice: one is not the exempt value; both are scanned)."""
    parts = text.split(pair)
    return "".join(parts) if len(parts) == 2 else text


def unstored(key: str) -> bool:
    """True if the field must never be stored (UNSTORED_FIELDS, compared as the contract says)."""
    if key in STORED_NAMES:
        return False
    folded = unicodedata.normalize("NFKC", key).casefold()
    if "".join(folded.replace("_", "").replace("-", "").split()) in contract.UNSTORED_FIELDS:
        return True
    if len(STORED_NAMES) < MAX_STORED_NAMES:
        STORED_NAMES.add(key)
    return False


def checked_names(fields: dict[str, Any]) -> dict[str, Any]:
    """AS_WRITTEN's object hook: a field to drop means the line cannot be stored as written."""
    if not STORED_NAMES.issuperset(fields) and any(map(unstored, fields)):
        raise RewriteNeededError
    return fields


def shortest_float(text: str) -> float:
    """AS_WRITTEN's float parser: a float written otherwise than Python writes it back is rewritten."""
    value = float(text)
    if repr(value) != text:
        raise RewriteNeededError
    return value


def rewrite_needed(text: str) -> Any:
    raise RewriteNeededError


AS_WRITTEN = json.JSONDecoder(object_hook=checked_names, parse_float=shortest_float, parse_constant=rewrite_needed)


def exempt(key: str, value: Any) -> bool:
    """The logger's own top-level string values, left unmasked as `PanMaskingFormatter` leaves them."""
    return key in LOGGER_KEYS and type(value) is str


def without_emf_time(key: str, value: Any) -> dict[str, Any] | None:
    """An EMF line's metadata without its time; None if `key` and `value` are not EMF metadata.

    Thirteen digits of epoch milliseconds pass the Luhn check one time in ten, and are no card number.
    """
    if key == EMF_METADATA and type(value) is dict and type(value.get(EMF_TIME)) is int:
        return {name: item for name, item in value.items() if name != EMF_TIME}
    return None


def number_text(value: Any) -> str | None:
    """A JSON number's digits as the detector reads them; None if it cannot hold a card number."""
    kind = type(value)
    if kind is float or (kind is int and not -SMALLEST_CANDIDATE < value < SMALLEST_CANDIDATE):
        return repr(value)
    return None


def scanned(message: dict[str, Any]) -> tuple[list[str], bool]:
    """(every stored key and value to scan for card numbers, whether a copy must change something).

    A copy drops unstored fields, and writes NaN and infinities (which Python's parser accepts but
    JSON has not) as strings. Walks with an explicit stack: no nesting raises RecursionError.
    """
    texts: list[str] = []
    must_copy = False
    pending: list[Any] = []
    for key, value in message.items():
        if unstored(key):
            must_copy = True
        elif not exempt(key, value):
            texts.append(key)
            metadata = without_emf_time(key, value)
            pending.append(value if metadata is None else metadata)
    while pending:
        item = pending.pop()
        kind = type(item)
        if kind is str:
            texts.append(item)
        elif kind is dict:
            for key, value in item.items():
                if unstored(key):
                    must_copy = True
                else:
                    texts.append(key)
                    pending.append(value)
        elif kind is list:
            pending.extend(item)
        elif (digits := number_text(item)) is not None:
            texts.append(digits)
            must_copy = must_copy or (kind is float and not math.isfinite(item))
    return texts, must_copy


def cleaned(message: dict[str, Any], *, mask: bool) -> tuple[dict[str, Any], int, int]:
    """A copy without unstored fields, non-finite numbers as strings and, with `mask`, card numbers masked."""
    root: dict[str, Any] = {}
    counts = [0, 0]  # masked, dropped
    pending: list[tuple[dict[str, Any] | list[Any], dict[str, Any] | list[Any]]] = []

    def copied(value: Any) -> Any:
        kind = type(value)
        if kind is dict or kind is list:
            copy: dict[str, Any] | list[Any] = {} if kind is dict else []
            pending.append((value, copy))
            return copy
        if kind is float and not math.isfinite(value):
            return json.dumps(value)  # "NaN", "Infinity" or "-Infinity"
        if not mask:
            return value
        if kind is str:
            masked = mask_pans(value)
            counts[0] += masked != value
            return masked
        digits = number_text(value)
        if digits is not None and next(pan_spans(digits), None) is not None:
            counts[0] += 1
            return REDACTED
        return value

    def copy_fields(source: dict[str, Any], target: dict[str, Any], top: bool) -> None:
        for key, value in source.items():
            if unstored(key):
                counts[1] += 1
            elif top and exempt(key, value):
                target[key] = value
            elif top and (metadata := without_emf_time(key, value)) is not None:
                target[key] = {EMF_TIME: value[EMF_TIME]}
                pending.append((metadata, target[key]))
            else:
                name = mask_pans(key) if mask else key
                counts[0] += name != key
                target[name] = copied(value)

    copy_fields(message, root, top=True)
    while pending:
        source, target = pending.pop()
        if isinstance(source, dict) and isinstance(target, dict):
            copy_fields(source, target, top=False)
        elif isinstance(source, list) and isinstance(target, list):
            target.extend(copied(item) for item in source)
    return root, counts[0], counts[1]


def response_size(record_id: str, data: str) -> int:
    return len(record_id) + len(data) + RECORD_OVERHEAD_BYTES


def transform_batch(
    records: Iterable[KinesisFirehoseRecord],
) -> tuple[KinesisFirehoseDataTransformationResponse, Tally]:
    """One response record per input record, in order, within the response budget.

    Every record is first counted at its fallback size (its original data, returned if it fails);
    a transformed record takes its place only while the whole response stays within the budget.
    """
    batch = list(records)
    tally = Tally(records=len(batch))
    total = sum(response_size(record.record_id, record.data) for record in batch)
    response = KinesisFirehoseDataTransformationResponse()
    for record in batch:
        try:
            outcome = transform(record.data)
        except MalformedRecordError as error:
            tally.failed += 1
            tally.failures.append((record.record_id, str(error)))
            response.add_record(record.build_data_transformation_response(result="ProcessingFailed", data=record.data))
            continue
        if outcome is None:
            tally.control_messages.append(record.record_id)
            total -= len(record.data)
            response.add_record(record.build_data_transformation_response(result="Dropped"))
            continue
        growth = len(outcome.data) - len(record.data)
        if total + growth > contract.RESPONSE_BUDGET_BYTES:
            tally.failed += 1
            tally.over_budget += 1
            tally.failures.append((record.record_id, f"over the response budget ({len(outcome.data)} bytes)"))
            response.add_record(record.build_data_transformation_response(result="ProcessingFailed", data=record.data))
            continue
        total += growth
        tally.events += outcome.events
        tally.masked += outcome.masked
        tally.dropped += outcome.dropped
        response.add_record(record.build_data_transformation_response(result="Ok", data=outcome.data))
    return response, tally


@tracer.capture_lambda_handler(capture_response=False)  # the response is log data: never in a trace
@metrics.log_metrics
@logger.inject_lambda_context(log_event=False)
@event_source(data_class=KinesisFirehoseEvent)
def handler(event: KinesisFirehoseEvent, context: LambdaContext) -> dict[str, Any]:
    response, tally = transform_batch(event.records)
    for record_id, reason in tally.failures:
        logger.warning("log record failed", extra={"record_id": record_id, "reason": reason})
    for record_id in tally.control_messages:
        logger.info("control message dropped", extra={"record_id": record_id})
    for name, value in (
        (contract.LOG_RECORDS_FAILED, tally.failed),
        (contract.LOG_RECORDS_OVER_BUDGET, tally.over_budget),
        (contract.CONTROL_MESSAGES_DROPPED, len(tally.control_messages)),
        (contract.LOG_EVENTS_STORED, tally.events),
        (contract.CARD_NUMBERS_MASKED, tally.masked),
        (contract.LOG_FIELDS_DROPPED, tally.dropped),
    ):
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    logger.info(
        "log records transformed",
        extra={
            "records": tally.records,
            "failed": tally.failed,
            "over_budget": tally.over_budget,
            "control_messages": len(tally.control_messages),
            "events": tally.events,
            "masked": tally.masked,
            "dropped": tally.dropped,
        },
    )
    result: dict[str, Any] = response.asdict()
    return result
