"""Payment processing writing the ledger on real PostgreSQL over TLS, with a stand-in for the proxy's IAM auth.

The token provider is the production one (`transaction_store.open_ledger`) over an RDS client the
test controls: it records what token was asked for, and the login role's password is that token.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from lib.contracts import payments as contract
from tests.handlers import import_handler
from tests.lambdas.ledger.conftest import Database
from tests.lambdas.payments.conftest import FakeContext, sqs_event, transaction_processing

QUEUE = "arn:aws:sqs:us-east-1:123456789012:transactions-test"
USER, TOKEN = "tap_app", "iam-token-stand-in-0123456789"
PROXY = "localhost"  # the proxy endpoint in production; the test server's name here
CODE = ["payments_common", "ledger_store", "rds_client"]
transaction_store = import_handler("transaction_store", CODE, {})
payments_common = import_handler("payments_common", CODE, {})
_keys = itertools.count(1)


@dataclass
class TokenIssuer:
    """RDS's generate_db_auth_token, as the test controls it: records each request, returns TOKEN."""

    requests: list[dict[str, Any]] = field(default_factory=list)

    class meta:
        region_name = "us-east-1"

    def generate_db_auth_token(self, **request: Any) -> str:
        self.requests.append(request)
        return TOKEN


@dataclass
class Bus:
    """PutEvents, recording what was published; `refuse` makes the next calls fail like an outage."""

    published: list[dict[str, Any]] = field(default_factory=list)
    refuse: int = 0

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        if self.refuse:
            self.refuse -= 1
            raise ConnectionError("EventBridge unreachable")
        self.published += Entries
        return {"FailedEntryCount": 0, "Entries": [{"EventId": str(i)} for i, _ in enumerate(Entries)]}


@pytest.fixture
def ledger(database: Database, monkeypatch: pytest.MonkeyPatch) -> Ledger:
    database.migrate()
    database.query(
        "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'tap_app') THEN "
        "CREATE ROLE tap_app LOGIN; END IF; END $$"
    )
    database.query(f"ALTER ROLE tap_app WITH LOGIN PASSWORD '{TOKEN}'")
    database.query("GRANT tap_app_owner TO tap_app")
    database.query("ALTER ROLE tap_app SET role = tap_app_owner")
    issuer, bus = TokenIssuer(), Bus()
    settings = {
        contract.LEDGER_HOST: PROXY,
        contract.LEDGER_PORT: str(database.port),
        contract.LEDGER_DATABASE: database.name,
        contract.LEDGER_USER: USER,
    }
    store = transaction_store.open_ledger(settings, issuer, bus, "payments-test")
    monkeypatch.setattr(transaction_processing, "ledger", store)
    return Ledger(database, store, issuer, bus)


@dataclass
class Ledger:
    database: Database
    store: Any
    issuer: TokenIssuer
    bus: Bus

    def process(self, *bodies: str) -> list[str]:
        """Runs the processing handler on one batch; returns the failed message bodies."""
        event = sqs_event(list(bodies), QUEUE)
        try:
            result = transaction_processing.handler(event, FakeContext())
        except BatchProcessingError:  # every record failed: the whole batch comes back
            return list(bodies)
        failed = {item["itemIdentifier"] for item in result["batchItemFailures"]}
        return [r["body"] for r in event["Records"] if r["messageId"] in failed]

    def rows(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        return self.database.query(sql, *args)


def queued(decision: str = "approve", amount: int = 1_500, **changes: Any) -> str:
    key = f"ledger-key-{next(_keys):06d}"
    merchant = changes.pop("merchant_id", "merchant-7")
    payment = payments_common.Payment(
        transaction_id=payments_common.transaction_id(merchant, key),
        idempotency_key_hash=payments_common.key_hash(merchant, key),
        fingerprint=hashlib.sha256(key.encode()).hexdigest(),
        amount=amount,
        currency="USD",
        customer_id=changes.pop("customer_id", "customer-1"),
        merchant_id=merchant,
        card_token="tok_visa_ledger",
        requested_at=1_790_000_000,
        **changes,
    )
    fraud = payments_common.FraudDecision(decision=decision, reasons=[] if decision == "approve" else ["amount"])
    return str(payments_common.QueuedPayment(payment=payment, fraud=fraud).model_dump_json())


def transaction_of(body: str) -> str:
    return str(json.loads(body)["payment"]["transaction_id"])


def test_an_approved_payment_posts_balanced_entries_with_its_outbox_row(ledger: Ledger) -> None:
    body = queued(amount=1_500)
    assert ledger.process(body) == []
    txn = transaction_of(body)
    entries = ledger.rows(
        "SELECT a.holder_kind, a.holder_id, e.amount FROM ledger.entries e JOIN ledger.accounts a USING (account_id) "
        "WHERE e.transaction_id = %s ORDER BY e.amount",
        txn,
    )
    assert entries == [("customer", "customer-1", -1_500), ("merchant", "merchant-7", 1_500)]
    assert ledger.rows(
        "SELECT status FROM ledger.transaction_status_history WHERE transaction_id = %s ORDER BY history_id", txn
    ) == [
        ("pending",),
        ("approved",),
    ]
    assert ledger.rows("SELECT created_by, updated_by FROM ledger.transactions WHERE transaction_id = %s", txn) == [
        (USER, USER)
    ]
    (event,) = ledger.bus.published
    assert event["DetailType"] == contract.PAYMENT_SUCCEEDED and json.loads(event["Detail"])["transaction_id"] == txn
    assert ledger.rows("SELECT count(*) FROM ledger.outbox WHERE delivered_at IS NOT NULL") == [(1,)]


def test_a_declined_payment_moves_no_money_and_is_announced_failed(ledger: Ledger) -> None:
    body = queued(decision="decline")
    assert ledger.process(body) == []
    assert ledger.rows("SELECT status FROM ledger.transactions") == [("declined",)]
    assert ledger.rows("SELECT count(*) FROM ledger.entries") == [(0,)]
    assert [e["DetailType"] for e in ledger.bus.published] == [contract.PAYMENT_FAILED]


def test_a_redelivered_message_writes_nothing_twice(ledger: Ledger) -> None:
    body = queued()
    assert ledger.process(body) == []
    assert ledger.process(body, body) == []
    assert ledger.rows("SELECT count(*) FROM ledger.transactions") == [(1,)]
    assert ledger.rows("SELECT count(*), sum(amount) FROM ledger.entries") == [(2, 0)]
    assert ledger.rows("SELECT count(*) FROM ledger.outbox") == [(1,)]
    assert len(ledger.bus.published) == 1


def test_a_crash_between_commit_and_publish_publishes_once_on_redelivery(ledger: Ledger) -> None:
    body = queued()
    ledger.bus.refuse = 1
    assert ledger.process(body) == [body]  # settled and committed, then the bus was unreachable
    assert ledger.rows("SELECT status FROM ledger.transactions") == [("approved",)]
    assert ledger.rows("SELECT claimed_at IS NULL, delivered_at IS NULL FROM ledger.outbox") == [(True, True)]
    assert ledger.process(body) == []
    assert len(ledger.bus.published) == 1
    assert ledger.rows("SELECT count(*) FROM ledger.entries") == [(2,)]


def test_outbox_rows_are_published_in_order_by_whoever_runs_next(ledger: Ledger) -> None:
    first, second = queued(customer_id="customer-a"), queued(customer_id="customer-b")
    ledger.bus.refuse = 2
    assert ledger.process(first) == [first]
    assert ledger.process(second) == [second]
    assert ledger.process(queued(decision="decline")) == []  # this run publishes all three, oldest first
    order = [json.loads(e["Detail"])["transaction_id"] for e in ledger.bus.published]
    assert order[:2] == [transaction_of(first), transaction_of(second)] and len(order) == 3


def test_a_poison_message_fails_alone_and_writes_nothing(ledger: Ledger) -> None:
    good = queued()
    assert ledger.process("{not json", good) == ["{not json"]
    assert ledger.rows("SELECT count(*) FROM ledger.transactions") == [(1,)]


def test_token_is_asked_for_the_proxy_endpoint_user_and_region_and_the_connection_is_reused(ledger: Ledger) -> None:
    ledger.process(queued())
    ledger.process(queued())
    assert ledger.issuer.requests == [
        {"DBHostname": PROXY, "Port": ledger.database.port, "DBUsername": USER, "Region": "us-east-1"}
    ]
    assert ledger.store.connection.connects == 1


def test_a_lost_connection_is_reopened_with_a_new_token(ledger: Ledger) -> None:
    ledger.process(queued())
    # The proxy closed the idle connection (here: the server ends the session).
    ledger.rows("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", USER)
    assert ledger.process(queued()) == []
    assert len(ledger.issuer.requests) == 2 and ledger.rows("SELECT count(*) FROM ledger.transactions") == [(2,)]


def test_validation_reads_a_recorded_transaction_from_the_ledger(ledger: Ledger) -> None:
    body = queued()
    ledger.process(body)
    recorded = ledger.store.recorded(transaction_of(body))
    assert recorded == {
        "transaction_id": transaction_of(body),
        "fingerprint": json.loads(body)["payment"]["fingerprint"],
        "status": "approved",
        "fraud_decision": "approve",
    }
    assert ledger.store.recorded("00000000-0000-5000-8000-000000000000") is None


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        (
            "INSERT INTO ledger.entries (transaction_id, account_id, amount) SELECT transaction_id, 1, 5 FROM ledger.transactions",
            "sum to 5, not 0",
        ),
        ("UPDATE ledger.transactions SET status = 'declined'", "a settled transaction keeps its status"),
        ("UPDATE ledger.transactions SET amount = 1", "a recorded request is immutable"),
        ("DELETE FROM ledger.entries", "permission denied"),
        (
            "INSERT INTO ledger.transaction_status_history (transaction_id, status) SELECT transaction_id, 'x' FROM ledger.transactions",
            "permission denied",
        ),
    ],
)
def test_the_database_refuses_what_the_application_must_never_do(ledger: Ledger, statement: str, message: str) -> None:
    ledger.process(queued())
    connection = ledger.database.connect(USER, TOKEN)
    with pytest.raises(Exception, match=message):
        connection.cursor().execute(statement)
        connection.commit()
    connection.close()


def test_settings_name_the_store_and_reject_an_unknown_one() -> None:
    environ = {name: "x" for name in contract.REQUIRED_SETTINGS["transaction_processing"]}
    with pytest.raises(contract.MissingSettingError, match="TRANSACTION_STORE must be one of"):
        contract.read_settings("transaction_processing", {**environ, contract.TRANSACTION_STORE: "files"})
    with pytest.raises(Exception, match="LEDGER_HOST"):
        contract.read_settings("transaction_processing", {**environ, contract.TRANSACTION_STORE: "ledger"})


class CacheSecret:
    """Powertools' SecretsProvider as processing uses it for the cache's AUTH token."""

    def __init__(self, token: str) -> None:
        self.token, self.asked = token, []

    def get(self, arn: str, **options: Any) -> str:
        self.asked.append((arn, options.get("VersionStage")))
        return self.token


def test_settling_an_approved_payment_invalidates_the_balances_the_transactions_api_caches(
    ledger: Ledger, servers: Any, test_ca: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In `full` the API caches balances this pipeline moves: processing bumps their counts after commit."""
    redis = servers.get("redis")
    secret = CacheSecret(redis.admin_password)
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:redis-auth"
    settings = {
        contract.LEDGER_HOST: PROXY,
        contract.LEDGER_PORT: str(ledger.database.port),
        contract.LEDGER_DATABASE: ledger.database.name,
        contract.LEDGER_USER: USER,
        contract.CACHE_HOST: "localhost",
        contract.CACHE_PORT: str(redis.port),
        contract.CACHE_AUTH_SECRET_ARN: arn,
    }
    stale: list[list[int]] = []
    store = transaction_store.open_ledger(
        settings, ledger.issuer, ledger.bus, "payments-test", secrets=secret, on_stale=stale.append
    )
    monkeypatch.setattr(transaction_processing, "ledger", store)
    client = import_handler("balance_cache", CODE, {}).connect(
        host="localhost", port=redis.port, token=redis.admin_password, ca_bundle=test_ca.ca_cert
    )
    client.flushall()
    body = queued(customer_id="customer-cached")
    assert ledger.process(body) == []
    accounts = [row[0] for row in ledger.rows("SELECT account_id FROM ledger.entries ORDER BY account_id")]
    assert [client.get(f"balance-version:{account}") for account in accounts] == [b"1", b"1"]
    assert ledger.process(queued(decision="decline")) == []  # moves nothing, tells nothing
    assert sorted(client.keys("balance-version:*")) == sorted(f"balance-version:{a}".encode() for a in accounts)
    assert secret.asked[0] == (arn, "AWSCURRENT") and stale == []
    # A redelivery of a settled payment (its first attempt may have stopped before invalidating) tells Redis again.
    client.flushall()
    assert ledger.process(body) == []
    assert [client.get(f"balance-version:{account}") for account in accounts] == [b"1", b"1"]
    client.close()
