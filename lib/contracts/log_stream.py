"""The payment log stream's contract: the Firehose transform's settings, metrics, stored format and limits.

CloudWatch Logs subscription filters on the payment functions' log groups feed the Firehose
stream; its transform Lambda (`lib/lambda/payment_log_stream/`) turns each gzipped subscription
payload into newline-delimited JSON, one line per log event, with card data masked again and
the fields below dropped. The stack, the dashboards and the queries over the stored lines import
these names. Dependency-free: packaged into the function's zip as `lib/contracts/log_stream.py`.
"""

from __future__ import annotations

from collections.abc import Mapping

from lib.contracts import required

# Powertools' own settings, set by the stack.
SERVICE_NAME = "POWERTOOLS_SERVICE_NAME"
METRICS_NAMESPACE_SETTING = "POWERTOOLS_METRICS_NAMESPACE"
# Function code directory -> the settings its handler requires.
REQUIRED_SETTINGS: Mapping[str, tuple[str, ...]] = {"payment_log_stream": (SERVICE_NAME, METRICS_NAMESPACE_SETTING)}

# Metrics (EMF), per invocation. Alarms read these names.
METRICS_NAMESPACE = "TAP/PaymentLogs"
# Records returned ProcessingFailed (Firehose writes them, unchanged, under the error prefix):
# malformed ones and those over the response budget. Alarm on this one.
LOG_RECORDS_FAILED = "LogRecordsFailed"
# Of those, the records that were well formed but did not fit in the response.
LOG_RECORDS_OVER_BUDGET = "LogRecordsOverBudget"
# CloudWatch Logs' connectivity checks (CONTROL_MESSAGE): no log data, returned Dropped.
CONTROL_MESSAGES_DROPPED = "ControlMessagesDropped"
# In the records returned Ok: log events stored; values (a key, a string, a number, or a whole
# message whose card number spans several values) in which a card number was masked; fields
# dropped as never to be stored. A masked card number means masking at source missed one.
LOG_EVENTS_STORED = "LogEventsStored"
CARD_NUMBERS_MASKED = "CardNumbersMasked"
LOG_FIELDS_DROPPED = "LogFieldsDropped"

# The stored format: one JSON object per line, each record's data ending in a newline (Firehose
# concatenates records as they are). `message` is the log line's JSON object when it is one
# (a Powertools line: `message.level`, `message.transaction_id`...), otherwise its text.
LOG_GROUP_FIELD = "log_group"
LOG_STREAM_FIELD = "log_stream"
EVENT_ID_FIELD = "event_id"  # CloudWatch's id of the log event
TIMESTAMP_FIELD = "timestamp"  # CloudWatch's event time, epoch milliseconds
MESSAGE_FIELD = "message"
OUTPUT_FIELDS = (LOG_GROUP_FIELD, LOG_STREAM_FIELD, EVENT_ID_FIELD, TIMESTAMP_FIELD, MESSAGE_FIELD)

# Field names never stored, at any depth of a JSON log line: the field and its value are dropped.
# A key matches when, compared without case (NFKC, casefolded) and without "_", "-" or whitespace,
# it equals one of these: `Card_Number`, `card-number` and `CARD NUMBER` all read `cardnumber`.
UNSTORED_FIELDS = frozenset(
    {
        # card numbers (any other field holding one is masked by the detector)
        "card",
        "cardnumber",
        "cardno",
        "ccnumber",
        "creditcard",
        "creditcardnumber",
        "pan",
        "primaryaccountnumber",
        # card verification values
        "cvv",
        "cvv2",
        "cvc",
        "cvc2",
        "cvn",
        "cid",
        "csc",
        "securitycode",
        "cardsecuritycode",
        "cardverificationvalue",
        # PINs and magnetic-stripe or chip track data
        "pin",
        "pinblock",
        "trackdata",
        "track1",
        "track2",
        "track1data",
        "track2data",
        "magstripe",
        # expiry
        "expiry",
        "expirydate",
        "expiration",
        "expirationdate",
        "exp",
        "expdate",
        "expmonth",
        "expyear",
        "expirymonth",
        "expiryyear",
        "expirationmonth",
        "expirationyear",
        # credentials
        "password",
        "passwd",
        "secret",
        "clientsecret",
        "authorization",
        "proxyauthorization",
        "cookie",
        "setcookie",
        # client text kept only as a hash, and whole requests or events
        "idempotencykey",
        "body",
        "rawbody",
        "requestbody",
        "event",
        "rawevent",
    }
)

# Lambda's synchronous response limit is 6 MB: the transform keeps the whole response within this
# (record ids, results and base64 data). A transformed record that would not fit is returned
# ProcessingFailed with its original data, so Firehose keeps it under the error prefix.
RESPONSE_BUDGET_BYTES = 5_500_000
# The processor's BufferSizeInMBs for the stack: the smallest Firehose allows. Subscription
# payloads are gzipped JSON lines, about twenty times larger once transformed and base64-encoded
# (`make bench` prints the factor), so Firehose's default of 1 MB would overflow the budget.
PROCESSOR_BUFFER_SIZE_MB = "0.2"


def read_settings(function: str, environ: Mapping[str, str]) -> dict[str, str]:
    """The function's settings from `environ`; every missing one is named at once."""
    return required(function, REQUIRED_SETTINGS[function], environ)
