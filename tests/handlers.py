"""Imports Lambda handlers the way Lambda starts them: code directories on the path, the settings
the stack sets in the environment at import (cold start), and nothing left behind in
`os.environ` for the rest of the session.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import ModuleType

import pytest

from lib.contracts import log_stream, payments, remediation, rotation

LAMBDA_ROOT = Path(__file__).resolve().parent.parent / "lib" / "lambda"
REGION = "us-east-1"

# Test values for what the stack sets on each function (`tests/unit/test_contracts.py` checks
# that the stack sets every key a handler reads).
PAYMENT_SETTINGS: Mapping[str, str] = {
    payments.IDEMPOTENCY_TABLE: "payment-idempotency-test",
    payments.VELOCITY_TABLE: "payment-velocity-test",
    payments.TRANSACTION_STORE: "dynamodb",
    payments.TRANSACTIONS_TABLE: "transactions-test",
    payments.TRANSACTION_QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/123456789012/transactions",
    payments.FRAUD_FUNCTION_NAME: "fraud-detection-test",
    payments.EVENT_BUS_NAME: "payments-test",
    payments.ALLOWED_CURRENCIES: "USD,EUR,GBP",
    payments.AMOUNT_CEILING: "10000000",
    payments.FRAUD_REVIEW_AMOUNT: "500000",
    payments.FRAUD_DECLINE_AMOUNT: "2000000",
    payments.FRAUD_VELOCITY_WINDOW_SECONDS: "3600",
    payments.FRAUD_VELOCITY_LIMIT: "3",
    payments.FRAUD_MISSING_COUNTRY: "review",
    payments.SERVICE_NAME: "payments-test",
    payments.METRICS_NAMESPACE_SETTING: payments.METRICS_NAMESPACE,
}
TRANSACTIONS_API_SETTINGS: Mapping[str, str] = {
    payments.LEDGER_HOST: "localhost",
    payments.LEDGER_PORT: "5432",
    payments.LEDGER_DATABASE: "transactions",
    payments.LEDGER_LOGIN: "secret",
    payments.LEDGER_SECRET_ARN: "arn:aws:secretsmanager:us-east-1:123456789012:secret:tap/test/database/tap_app",
    payments.ALLOWED_CURRENCIES: "USD,EUR,GBP",
    payments.AMOUNT_CEILING: "10000000",
    payments.FRAUD_REVIEW_AMOUNT: "500000",
    payments.FRAUD_DECLINE_AMOUNT: "2000000",
    payments.FRAUD_MISSING_COUNTRY: "review",
    payments.FRAUD_VELOCITY_WINDOW_SECONDS: "3600",
    payments.FRAUD_VELOCITY_LIMIT: "5",
    payments.CACHE_HOST: "localhost",
    payments.CACHE_PORT: "6379",
    payments.CACHE_AUTH_SECRET_ARN: "arn:aws:secretsmanager:us-east-1:123456789012:secret:tap/test/redis/auth-token",
    payments.BALANCE_CACHE_SECONDS: "60",
    payments.SERVICE_NAME: "transactions-api",
    payments.METRICS_NAMESPACE_SETTING: payments.METRICS_NAMESPACE,
}
ROTATION_SETTINGS: Mapping[str, str] = {
    rotation.ROTATION_STRATEGY: "alternating",
    rotation.SECRETS_MANAGER_ENDPOINT: f"https://secretsmanager.{REGION}.amazonaws.com",
    rotation.SERVICE_NAME: "secret-rotation",
}
LOG_STREAM_SETTINGS: Mapping[str, str] = {
    log_stream.SERVICE_NAME: "payment-log-stream",
    log_stream.METRICS_NAMESPACE_SETTING: log_stream.METRICS_NAMESPACE,
}


REMEDIATION_SETTINGS: Mapping[str, str] = {
    remediation.DRY_RUN: "false",
    remediation.NOTIFY_TOPIC_ARN: f"arn:aws:sns:{REGION}:123456789012:tap-baseline-security-alerts-{REGION}",
    remediation.FLOW_LOG_DESTINATION_ARN: "arn:aws:s3:::tap-baseline-flow-logs-123456789012-us-east-1",
    remediation.IDEMPOTENCY_TABLE: f"tap-baseline-remediation-idempotency-{REGION}",
    remediation.SERVICE_NAME: "config-remediation",
    "FLOW_LOGS_RULE": f"tap-baseline-vpc-flow-logs-enabled-{REGION}",
    "ENCRYPTED_VOLUMES_RULE": f"tap-baseline-encrypted-volumes-{REGION}",
    "RDS_STORAGE_ENCRYPTED_RULE": f"tap-baseline-rds-storage-encrypted-{REGION}",
}


def import_handler(module: str, directories: Sequence[str], settings: Mapping[str, str]) -> ModuleType:
    """The handler module, imported once with `settings` (and a region) in the environment."""
    for directory in directories:
        path = str(LAMBDA_ROOT / directory)
        if path not in sys.path:
            sys.path.insert(0, path)
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {"AWS_DEFAULT_REGION": REGION, **settings}.items():
            patch.setenv(name, value)
        return importlib.import_module(module)
