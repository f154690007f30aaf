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
# The transactions API (document 001): how it logs in to the ledger (through RDS Proxy with IAM,
# or to the cluster with the rotated application secret), and its Redis balance cache.
LEDGER_LOGIN = "LEDGER_LOGIN"
LEDGER_SECRET_ARN = "LEDGER_SECRET_ARN"  # noqa: S105 - a variable name, not a secret
LOGIN_SETTINGS: Mapping[str, tuple[str, ...]] = {"iam": (LEDGER_USER,), "secret": (LEDGER_SECRET_ARN,)}
CACHE_HOST = "CACHE_HOST"
CACHE_PORT = "CACHE_PORT"
CACHE_AUTH_SECRET_ARN = "CACHE_AUTH_SECRET_ARN"  # noqa: S105 - a variable name, not a secret
BALANCE_CACHE_SECONDS = "BALANCE_CACHE_SECONDS"
# A function that writes the ledger where the transactions API caches balances has all three or none.
CACHE_SETTINGS = (CACHE_HOST, CACHE_PORT, CACHE_AUTH_SECRET_ARN)
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
    "transactions_api": (
        LEDGER_HOST,
        LEDGER_PORT,
        LEDGER_DATABASE,
        LEDGER_LOGIN,
        ALLOWED_CURRENCIES,
        AMOUNT_CEILING,
        FRAUD_REVIEW_AMOUNT,
        FRAUD_DECLINE_AMOUNT,
        FRAUD_MISSING_COUNTRY,
        FRAUD_VELOCITY_WINDOW_SECONDS,
        FRAUD_VELOCITY_LIMIT,
        *CACHE_SETTINGS,
        BALANCE_CACHE_SECONDS,
        SERVICE_NAME,
        METRICS_NAMESPACE_SETTING,
    ),
}
# Settings a function reads when set: the transactions API publishes outcomes where a bus exists
# (full), and processing invalidates cached balances where the transactions API caches them.
OPTIONAL_SETTINGS: Mapping[str, tuple[str, ...]] = {
    "transactions_api": (EVENT_BUS_NAME,),
    "transaction_processing": CACHE_SETTINGS,
}

# What validation may read of a recorded transaction (its role is limited to these attributes).
RECORDED_ATTRIBUTES = ("transaction_id", "fingerprint", "status", "fraud_decision")

# The line the processing and dead-letter functions write for each payment they settle (with
# `status`, and `failure_reason` when failed): the saved "failed payments" query reads it.
PAYMENT_PROCESSED = "processed"

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
# Payments left pending until their message reached the dead-letter queue, then settled failed
# by its consumer: each is a payment that was stuck.
PAYMENTS_STUCK = "PaymentsStuck"
# Dead letters with no readable payment (dropped, never logged).
UNREADABLE_DEAD_LETTERS = "UnreadableDeadLetters"
# One metric for every fraud decision, with the decision as a dimension.
FRAUD_DECISIONS = "FraudDecisions"
DECISION_DIMENSION = "decision"

# The HTTP route the validation function serves.
PAYMENTS_PATH = "/payments"
# The transactions API's routes (API Gateway's `{name}` path parameters), by stable name.
TRANSACTIONS_ROUTES: Mapping[str, str] = {
    "record": "POST /transactions",
    "transaction": "GET /transactions/{transaction_id}",
    "balance": "GET /accounts/{account_id}/balance",
}
# Transactions API metrics: recorded transactions, and how the balance cache answered.
TRANSACTIONS_RECORDED = "TransactionsRecorded"
BALANCE_CACHE_HITS = "BalanceCacheHits"
BALANCE_CACHE_MISSES = "BalanceCacheMisses"
BALANCE_CACHE_UNAVAILABLE = "BalanceCacheUnavailable"
# Accounts whose cached balance a write could not invalidate (stale for up to the cache TTL).
BALANCE_INVALIDATIONS_FAILED = "BalanceInvalidationsFailed"


def required_settings(function: str, environ: Mapping[str, str]) -> tuple[str, ...]:
    """The settings `function` needs, with those of the transaction store `environ` names."""
    names = REQUIRED_SETTINGS[function]
    if TRANSACTION_STORE in names:
        names += STORE_SETTINGS.get(environ.get(TRANSACTION_STORE, ""), ())
    if LEDGER_LOGIN in names:
        names += LOGIN_SETTINGS.get(environ.get(LEDGER_LOGIN, ""), ())
    return names


def read_settings(function: str, environ: Mapping[str, str]) -> dict[str, str]:
    """The function's required settings from `environ`; every missing one is named at once."""
    settings = required(function, required_settings(function, environ), environ)
    settings.update({name: environ[name] for name in OPTIONAL_SETTINGS.get(function, ()) if environ.get(name)})
    if TRANSACTION_STORE in settings and settings[TRANSACTION_STORE] not in STORES:
        raise MissingSettingError(f"{TRANSACTION_STORE} must be one of {STORES}")
    cache = [name for name in CACHE_SETTINGS if name in settings]
    if cache and len(cache) < len(CACHE_SETTINGS):
        raise MissingSettingError(f"{function} needs all of {CACHE_SETTINGS} or none; it has only {tuple(cache)}")
    if LEDGER_LOGIN in settings and settings[LEDGER_LOGIN] not in LOGIN_SETTINGS:
        raise MissingSettingError(f"{LEDGER_LOGIN} must be one of {tuple(LOGIN_SETTINGS)}")
    return settings
