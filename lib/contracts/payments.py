"""The payment functions' contract: settings, events, indexes and metrics, shared with the stack.

Dependency-free: packaged into every payment function zip as `lib/contracts/payments.py`.
"""

from __future__ import annotations

from collections.abc import Mapping

from lib.contracts import MissingSettingError, required

# Environment variables the stack sets and the handlers read at cold start.
TRANSACTIONS_TABLE = "TRANSACTIONS_TABLE"
IDEMPOTENCY_TABLE = "IDEMPOTENCY_TABLE"
VELOCITY_TABLE = "VELOCITY_TABLE"
TRANSACTION_QUEUE_URL = "TRANSACTION_QUEUE_URL"
FRAUD_FUNCTION_NAME = "FRAUD_FUNCTION_NAME"
EVENT_BUS_NAME = "EVENT_BUS_NAME"
ALLOWED_CURRENCIES = "ALLOWED_CURRENCIES"
AMOUNT_CEILING = "AMOUNT_CEILING"
FRAUD_REVIEW_AMOUNT = "FRAUD_REVIEW_AMOUNT"
FRAUD_DECLINE_AMOUNT = "FRAUD_DECLINE_AMOUNT"
FRAUD_VELOCITY_WINDOW_SECONDS = "FRAUD_VELOCITY_WINDOW_SECONDS"
FRAUD_VELOCITY_LIMIT = "FRAUD_VELOCITY_LIMIT"
FRAUD_MISSING_COUNTRY = "FRAUD_MISSING_COUNTRY"
# Where payments are recorded (`transaction_store.py`): the DynamoDB table or the Aurora ledger.
TRANSACTION_STORE = "TRANSACTION_STORE"
STORES = ("dynamodb", "ledger")
# The ledger through RDS Proxy with IAM authentication: endpoint, port, database and user.
LEDGER_HOST = "LEDGER_HOST"
LEDGER_PORT = "LEDGER_PORT"
LEDGER_DATABASE = "LEDGER_DATABASE"
LEDGER_USER = "LEDGER_USER"
STORE_SETTINGS: Mapping[str, tuple[str, ...]] = {
    "dynamodb": (TRANSACTIONS_TABLE,),
    "ledger": (LEDGER_HOST, LEDGER_PORT, LEDGER_DATABASE, LEDGER_USER),
}
# Powertools' own settings, set by the stack per function.
SERVICE_NAME = "POWERTOOLS_SERVICE_NAME"
METRICS_NAMESPACE_SETTING = "POWERTOOLS_METRICS_NAMESPACE"

# Function code directory -> the settings its handler requires.
REQUIRED_SETTINGS: Mapping[str, tuple[str, ...]] = {
    "payment_validation": (
        IDEMPOTENCY_TABLE,
        TRANSACTION_STORE,
        TRANSACTION_QUEUE_URL,
        FRAUD_FUNCTION_NAME,
        ALLOWED_CURRENCIES,
        AMOUNT_CEILING,
        VELOCITY_TABLE,
        FRAUD_VELOCITY_WINDOW_SECONDS,
        FRAUD_VELOCITY_LIMIT,
        SERVICE_NAME,
        METRICS_NAMESPACE_SETTING,
    ),
    "fraud_detection": (
        FRAUD_REVIEW_AMOUNT,
        FRAUD_DECLINE_AMOUNT,
        FRAUD_MISSING_COUNTRY,
        SERVICE_NAME,
        METRICS_NAMESPACE_SETTING,
    ),
    "transaction_processing": (TRANSACTION_STORE, EVENT_BUS_NAME, SERVICE_NAME, METRICS_NAMESPACE_SETTING),
}

# What validation may read of a recorded transaction (its role is limited to these attributes).
RECORDED_ATTRIBUTES = ("transaction_id", "fingerprint", "status", "fraud_decision")

# Events on the payments bus.
EVENT_SOURCE = "tap.payments"
PAYMENT_SUCCEEDED = "payment.succeeded"
PAYMENT_FAILED = "payment.failed"

# Transactions table indexes.
CUSTOMER_INDEX = "customer-id-timestamp-index"
STATUS_INDEX = "status-timestamp-index"

# Metrics (EMF). Alarms read these names.
METRICS_NAMESPACE = "TAP/Payments"
PAYMENTS_REJECTED = "PaymentsRejected"
PAYMENTS_PROCESSED = "PaymentsProcessed"
PAYMENTS_DECLINED = "PaymentsDeclined"
PAYMENTS_FAILED = "PaymentsFailed"
VALIDATION_LATENCY = "ValidationLatency"
PAYMENT_LATENCY = "PaymentLatency"
# Queued messages for a recorded transaction that carry a different request (never applied).
CONFLICTS_IGNORED = "ConflictingMessagesIgnored"
# Dead letters with no readable payment (dropped, never logged).
UNREADABLE_DEAD_LETTERS = "UnreadableDeadLetters"
# One metric for every fraud decision, with the decision as a dimension.
FRAUD_DECISIONS = "FraudDecisions"
DECISION_DIMENSION = "decision"

# The HTTP route the validation function serves.
PAYMENTS_PATH = "/payments"


def required_settings(function: str, environ: Mapping[str, str]) -> tuple[str, ...]:
    """The settings `function` needs, with those of the transaction store `environ` names."""
    names = REQUIRED_SETTINGS[function]
    if TRANSACTION_STORE in names:
        names += STORE_SETTINGS.get(environ.get(TRANSACTION_STORE, ""), ())
    return names


def read_settings(function: str, environ: Mapping[str, str]) -> dict[str, str]:
    """The function's required settings from `environ`; every missing one is named at once."""
    settings = required(function, required_settings(function, environ), environ)
    if TRANSACTION_STORE in settings and settings[TRANSACTION_STORE] not in STORES:
        raise MissingSettingError(f"{TRANSACTION_STORE} must be one of {STORES}")
    return settings
