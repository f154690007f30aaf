"""Document 001's transactions API on real PostgreSQL and a real Redis server, both over TLS.

The handler runs as Lambda runs it (the HTTP API's payload 2.0 event); its ledger and its cache
are the production classes pointed at the test servers. Rotation runs the real rotation function
against the same PostgreSQL server, with Secrets Manager emulated.
"""

from __future__ import annotations

import copy
import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pg8000.dbapi
import pytest
from aws_lambda_powertools.utilities import parameters
from moto import mock_aws

from lib.contracts import payments as contract
from tests.handlers import TRANSACTIONS_API_SETTINGS, import_handler
from tests.lambdas import test_secret_rotation as rotation_tests
from tests.lambdas.conftest import Servers
from tests.lambdas.db_servers import LocalCA, Server, free_port
from tests.lambdas.ledger.conftest import Database, schema_migrations
from tests.lambdas.payments.conftest import FakeContext, valid_request

CODE = ["transactions_api", "payments_common", "ledger_store", "rds_client"]
transactions_api = import_handler("transactions_api", CODE, TRANSACTIONS_API_SETTINGS)
balance_cache = import_handler("balance_cache", CODE, {})
ledger_store = import_handler("ledger_store", CODE, {})
transaction_store = import_handler("transaction_store", CODE, {})
payments_common = import_handler("payments_common", CODE, {})
fraud_rules = import_handler("fraud_rules", CODE, {})
rds_client = import_handler("rds_client", CODE, {})
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "events"
USER, PASSWORD = "tap_app", "app-password-0123456789"
_keys = itertools.count(1)


def event(method: str, path: str, body: Any = None, key: str | None = None) -> dict[str, Any]:
    """The HTTP API sample (tests/fixtures/events) with method, path, headers and body set."""
    sample: dict[str, Any] = json.loads((FIXTURES / "apiGatewayProxyV2Event.json").read_text())
    sample["routeKey"] = f"{method} {path}"
    sample["rawPath"] = path
    sample["requestContext"]["http"].update({"method": method, "path": path})
    sample["headers"] = {"content-type": "application/json"}
    if key is not None:
        sample["headers"]["idempotency-key"] = key
    sample["body"] = None if body is None else json.dumps(body)
    sample["isBase64Encoded"] = False
    sample.pop("pathParameters", None)
    return sample


def call(request: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = transactions_api.handler(copy.deepcopy(request), FakeContext())
    return int(response["statusCode"]), json.loads(response["body"] or "{}")


def fresh_key() -> str:
    return f"txn-key-{next(_keys):08d}"


def payment(**changes: Any) -> dict[str, Any]:
    """Document 001's transfer: the payment path's request, approved by the fraud rules unless changed."""
    return valid_request(**{"merchant_country": "US", "card_country": "US", "amount": 1_500, **changes})


@dataclass
class Api:
    database: Database
    redis: Server
    loads: list[int]

    def post(self, body: dict[str, Any], key: str | None = None) -> tuple[int, dict[str, Any]]:
        return call(event("POST", "/transactions", body, key or fresh_key()))

    def balance(self, account_id: int) -> tuple[int, dict[str, Any]]:
        return call(event("GET", f"/accounts/{account_id}/balance"))

    def account(self, kind: str, holder: str) -> int:
        rows = self.database.query(
            "SELECT account_id FROM ledger.accounts WHERE holder_kind = %s AND holder_id = %s", kind, holder
        )
        return int(rows[0][0])


def cache_for(redis: Server, test_ca: LocalCA, *, port: int | None = None, token: Any = None) -> Any:
    return balance_cache.BalanceCache(
        host="localhost",
        port=port or redis.port,
        token=token or (lambda refresh: redis.admin_password),
        ca_bundle=lambda: test_ca.ca_cert,
        ttl_seconds=60,
    )


def flush(redis: Server, test_ca: LocalCA) -> None:
    client = balance_cache.connect(
        host="localhost", port=redis.port, token=redis.admin_password, ca_bundle=test_ca.ca_cert
    )
    client.flushall()
    client.close()


def app_user(database: Database, grantee: str = "tap_app_owner") -> None:
    database.query(
        "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'tap_app') THEN "
        "CREATE ROLE tap_app LOGIN; END IF; END $$"
    )
    database.query(f"ALTER ROLE tap_app WITH LOGIN PASSWORD '{PASSWORD}'")
    database.query(f"GRANT {grantee} TO tap_app")
    database.query(f"ALTER ROLE tap_app SET role = {grantee}")


def ledger_for(database: Database, login: Callable[[bool], Any], balances: Any = None) -> Any:
    connection = rds_client.ReusedConnection(host="localhost", port=database.port, database=database.name, login=login)
    return ledger_store.LedgerStore(connection, None, "", balances)


def use_cache(monkeypatch: pytest.MonkeyPatch, cache: Any) -> None:
    """The handler reads through `cache`, and its ledger invalidates through it."""
    monkeypatch.setattr(transactions_api, "cache", cache)
    monkeypatch.setattr(transactions_api.ledger, "balances", cache)


@pytest.fixture
def api(database: Database, servers: Servers, test_ca: LocalCA, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    database.migrate()
    app_user(database)
    redis = servers.get("redis")
    flush(redis, test_ca)
    cache = cache_for(redis, test_ca)
    store = ledger_for(database, lambda refresh: rds_client.Login(USER, PASSWORD), cache)
    loads: list[int] = []
    original = store.balance

    def counted(account_id: int) -> Any:
        loads.append(account_id)
        return original(account_id)

    monkeypatch.setattr(store, "balance", counted)
    monkeypatch.setattr(transactions_api, "ledger", store)
    monkeypatch.setattr(transactions_api, "cache", cache)
    yield Api(database, redis, loads)
    store.connection.discard()


def test_a_transfer_is_recorded_as_balanced_entries(api: Api) -> None:
    status, body = api.post(payment(customer_id="cust-a", merchant_id="shop-a"))
    assert status == 201 and body["status"] == "approved" and body["fraud_decision"] == "approve"
    entries = api.database.query(
        "SELECT a.holder_kind, e.amount FROM ledger.entries e JOIN ledger.accounts a USING (account_id) "
        "WHERE e.transaction_id = %s ORDER BY e.amount",
        body["transaction_id"],
    )
    assert entries == [("customer", -1_500), ("merchant", 1_500)]
    # Document 001 has no event bus: nothing waits in the outbox.
    assert api.database.query("SELECT count(*) FROM ledger.outbox") == [(0,)]
    status, shown = call(event("GET", f"/transactions/{body['transaction_id']}"))
    assert status == 200 and shown["amount"] == 1_500 and shown["currency"] == "USD"
    assert [step["status"] for step in shown["history"]] == ["pending", "approved"]
    assert "card_token" not in shown


def test_reads_hit_the_cache_after_the_first(api: Api) -> None:
    api.post(payment(customer_id="cust-b", merchant_id="shop-b"))
    account = api.account("customer", "cust-b")
    first = api.balance(account)
    second = api.balance(account)
    assert first == second == (200, {**first[1], "balance": -1_500})
    assert api.loads == [account]  # the ledger was read once; the second answer came from Redis


def test_a_write_invalidates_the_cached_balance(api: Api) -> None:
    api.post(payment(customer_id="cust-c", merchant_id="shop-c"))
    customer, merchant = api.account("customer", "cust-c"), api.account("merchant", "shop-c")
    assert api.balance(customer)[1]["balance"] == -1_500 and api.balance(merchant)[1]["balance"] == 1_500
    api.post(payment(customer_id="cust-c", merchant_id="shop-c", amount=700))
    assert api.balance(customer)[1]["balance"] == -2_200
    assert api.balance(merchant)[1]["balance"] == 2_200
    assert api.balance(customer)[1]["balance"] == -2_200
    assert api.loads == [customer, merchant, customer, merchant]


def test_a_balance_read_before_a_write_commits_is_never_served_after_it(api: Api, test_ca: LocalCA) -> None:
    """A slow reader stores what it read before the write: the write's new count hides it."""
    api.post(payment(customer_id="cust-d", merchant_id="shop-d"))
    account = api.account("customer", "cust-d")
    cache = transactions_api.cache
    stale = {"account_id": account, "balance": -1_500}

    def slow_load() -> dict[str, Any]:
        api.post(payment(customer_id="cust-d", merchant_id="shop-d", amount=500))  # commits meanwhile
        return stale

    assert cache.read(account, slow_load) == (stale, "miss")
    assert api.balance(account)[1]["balance"] == -2_000


def test_redis_down_degrades_to_the_database(api: Api, test_ca: LocalCA, monkeypatch: pytest.MonkeyPatch) -> None:
    api.post(payment(customer_id="cust-e", merchant_id="shop-e"))
    account = api.account("customer", "cust-e")
    down = cache_for(api.redis, test_ca, port=free_port())  # nothing listens there
    use_cache(monkeypatch, down)
    assert api.balance(account) == (200, {**api.balance(account)[1], "balance": -1_500})
    # A write with Redis down still commits and answers, without waiting on Redis (no client retries).
    started = time.monotonic()
    assert api.post(payment(customer_id="cust-e", merchant_id="shop-e"))[0] == 201
    assert time.monotonic() - started < 1.0
    assert api.balance(account)[1]["balance"] == -3_000
    assert down.read(account, lambda: None) == (None, "unavailable")


def test_a_refused_redis_token_is_read_again(api: Api, test_ca: LocalCA, monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[bool] = []

    def token(refresh: bool) -> str:
        asked.append(refresh)
        return api.redis.admin_password if refresh else "a-token-rotated-away"

    use_cache(monkeypatch, cache_for(api.redis, test_ca, token=token))
    api.post(payment(customer_id="cust-f", merchant_id="shop-f"))
    account = api.account("customer", "cust-f")
    assert api.balance(account)[1]["balance"] == -1_500
    assert api.balance(account)[1]["balance"] == -1_500
    assert asked[:2] == [False, True] and api.loads == [account]
    assert api.balance(account)[1]["balance"] == -1_500


def test_the_same_key_gives_the_same_answer_and_a_different_request_is_refused(api: Api) -> None:
    key = fresh_key()
    first = api.post(payment(customer_id="cust-g", merchant_id="shop-g"), key)
    assert api.post(payment(customer_id="cust-g", merchant_id="shop-g"), key) == first
    assert api.database.query("SELECT count(*) FROM ledger.transactions") == [(1,)]
    status, body = api.post(payment(customer_id="cust-g", merchant_id="shop-g", amount=999), key)
    assert status == 422 and body["fields"] == ["Idempotency-Key"]
    assert api.database.query("SELECT count(*) FROM ledger.entries") == [(2,)]


def test_fraud_rules_decide_as_on_the_payment_path(api: Api) -> None:
    declined = api.post(payment(amount=2_000_000))[1]
    review = api.post(payment(card_country="FR"))[1]
    assert (declined["status"], declined["fraud_decision"]) == ("declined", "decline")
    assert (review["status"], review["fraud_decision"]) == ("pending", "review")
    assert api.database.query("SELECT count(*) FROM ledger.entries") == [(0,)]


@pytest.mark.parametrize(
    ("request_", "status", "fields"),
    [
        (event("POST", "/transactions", valid_request(card_token="4111 1111 1111 1111"), "key-00000001"), 400, []),
        (event("POST", "/transactions", valid_request(amount="12"), "key-00000002"), 422, ["amount"]),
        (event("POST", "/transactions", valid_request(currency="JPY"), "key-00000003"), 422, ["currency"]),
        (event("POST", "/transactions", valid_request(), None), 400, ["Idempotency-Key"]),
        (event("GET", "/transactions/not-a-uuid"), 400, ["transaction_id"]),
        (event("GET", "/transactions/6f1c2b7e-7f0e-4a8e-9d35-3b0c9a3f5e21"), 404, ["transaction_id"]),
        (event("GET", "/accounts/0/balance"), 400, ["account_id"]),
        (event("GET", "/accounts/4111111111111111/balance"), 400, []),  # a card number in the path
        (event("GET", "/accounts/987654/balance"), 404, ["account_id"]),
    ],
)
def test_bad_requests_get_a_clear_4xx_and_write_nothing(
    api: Api, request_: dict[str, Any], status: int, fields: list[str]
) -> None:
    got, body = call(request_)
    assert (got, body["fields"]) == (status, fields)
    assert "4111" not in json.dumps(body)
    assert api.database.query("SELECT count(*) FROM ledger.transactions") == [(0,)]


def test_a_lost_ledger_answers_503_and_the_retry_finishes(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    working = transactions_api.ledger
    monkeypatch.setattr(
        transactions_api,
        "ledger",
        ledger_store.LedgerStore(
            rds_client.ReusedConnection(
                host="localhost",
                port=free_port(),
                database=api.database.name,
                login=lambda r: rds_client.Login(USER, PASSWORD),
            ),
            None,
            "",
        ),
    )
    key = fresh_key()
    status, body = api.post(payment(), key)
    assert status == 503 and "retry" in body["error"]
    monkeypatch.setattr(transactions_api, "ledger", working)
    assert api.post(payment(), key)[0] == 201


def test_a_rotation_mid_traffic_fails_no_request(
    database: Database,
    servers: Servers,
    test_ca: LocalCA,
    monkeypatch: pytest.MonkeyPatch,
    emulated_secrets: Any,
) -> None:
    """Requests run while the real rotation function rotates the secret three times (alternating users).

    Each rotation ends the API's connection as a failover would. The cached secret outlives the
    password it holds (two rotations later its user has a new password), so a reconnect is
    refused once and the secret is read again: no request fails.
    """
    client = emulated_secrets
    setup = rotation_tests.make_secrets(client, servers, "postgres")
    rotation_tests.rotate(setup, monkeypatch, "alternating")  # creates both login users and their owner role
    base = setup.creds("AWSPREVIOUS").username
    connection = database.connect()
    schema_migrations.migrate(connection, schema_migrations.load(schema_migrations.MIGRATIONS), f"{base}_owner")
    connection.close()
    redis = servers.get("redis")
    flush(redis, test_ca)
    cache = cache_for(redis, test_ca)
    # Built as the cold start builds it: LEDGER_LOGIN=secret, the secret named by its ARN.
    settings = {
        **transactions_api.SETTINGS,
        contract.LEDGER_PORT: str(database.port),
        contract.LEDGER_DATABASE: database.name,
        contract.LEDGER_SECRET_ARN: setup.arn,
        contract.CACHE_PORT: str(redis.port),
    }
    store = transaction_store.open_ledger(
        settings, None, secrets=parameters.SecretsProvider(boto3_client=client), on_stale=lambda ids: None
    )
    assert settings[contract.LEDGER_LOGIN] == "secret" and store.balances is not None
    store.balances = cache  # the same server; the test's CA and admin token
    monkeypatch.setattr(transactions_api, "ledger", store)
    monkeypatch.setattr(transactions_api, "cache", cache)

    failures: list[tuple[int, dict[str, Any]]] = []
    answered = 0
    stop = threading.Event()

    def traffic() -> None:
        nonlocal answered
        while not stop.is_set():
            status, body = call(event("POST", "/transactions", payment(customer_id="cust-r"), fresh_key()))
            if status != 201:
                failures.append((status, body))
            answered += 1

    worker = threading.Thread(target=traffic)
    worker.start()
    try:
        for _ in range(3):
            rotation_tests.rotate(setup, monkeypatch, "alternating")
            database.query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND usename LIKE %s",
                database.name,
                f"{base}%",
            )
            # Requests run on the new credentials (and the ended connection) before the next rotation.
            seen = answered
            deadline = time.monotonic() + 30
            while answered < seen + 3 and worker.is_alive() and time.monotonic() < deadline:
                time.sleep(0.02)
    finally:
        stop.set()
        worker.join(timeout=60)
    assert failures == [] and answered >= 9
    assert store.connection.logins_refreshed >= 1
    account = database.query("SELECT account_id FROM ledger.accounts WHERE holder_id = 'cust-r'")[0][0]
    recorded = database.query("SELECT count(*) FROM ledger.transactions WHERE status = 'approved'")[0][0]
    assert call(event("GET", f"/accounts/{account}/balance"))[1]["balance"] == -1_500 * recorded


@pytest.fixture
def emulated_secrets(monkeypatch: pytest.MonkeyPatch, test_ca: LocalCA) -> Iterator[Any]:
    """Emulated Secrets Manager, as the rotation tests set it up for the rotation function."""
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        client = boto3.client("secretsmanager", region_name=rotation_tests.REGION)
        monkeypatch.setattr(rotation_tests.app, "secrets_client", client)
        yield client


def test_ledger_errors_that_are_defects_are_not_disguised_as_outages() -> None:
    defect = pg8000.dbapi.DatabaseError({"C": "23505", "M": "duplicate key"})
    assert not rds_client.connection_ended(defect)
    assert rds_client.connection_ended(pg8000.dbapi.DatabaseError({"C": "57P01", "M": "terminating connection"}))
    assert rds_client.login_refused(pg8000.dbapi.DatabaseError({"C": "28P01", "M": "password authentication failed"}))


def test_an_unreadable_token_or_a_foreign_value_never_fails_a_read(
    api: Api, test_ca: LocalCA, monkeypatch: pytest.MonkeyPatch
) -> None:
    api.post(payment(customer_id="cust-h", merchant_id="shop-h"))
    account = api.account("customer", "cust-h")

    def unreadable(refresh: bool) -> str:
        raise RuntimeError("Secrets Manager unreachable")

    use_cache(monkeypatch, cache_for(api.redis, test_ca, token=unreadable))
    assert api.balance(account) == (200, {**api.balance(account)[1], "balance": -1_500})
    use_cache(monkeypatch, cache_for(api.redis, test_ca))
    client = balance_cache.connect(
        host="localhost", port=api.redis.port, token=api.redis.admin_password, ca_bundle=test_ca.ca_cert
    )
    client.set(f"balance:{account}", "not json")
    assert api.balance(account)[1]["balance"] == -1_500  # a miss, rewritten
    assert json.loads(client.get(f"balance:{account}"))["balance"]["balance"] == -1_500
    client.close()


def test_a_refused_publish_after_commit_still_answers_201(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """Where a bus exists (full), a publish the bus refuses stays in the outbox; the commit stands."""

    class RefusingBus:
        def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
            raise ConnectionError("EventBridge unreachable")

    store = ledger_store.LedgerStore(transactions_api.ledger.connection, RefusingBus(), "payments-test")
    monkeypatch.setattr(transactions_api, "ledger", store)
    status, body = api.post(payment())
    assert (status, body["status"]) == (201, "approved")
    assert api.database.query("SELECT claimed_at IS NULL, delivered_at IS NULL FROM ledger.outbox") == [(True, True)]


LIMIT = int(TRANSACTIONS_API_SETTINGS[contract.FRAUD_VELOCITY_LIMIT])


def test_velocity_declines_past_the_limit_per_customer_and_per_card(api: Api) -> None:
    """The payment path's velocity rule, counted in the ledger: per customer, and per card token."""
    answers = [api.post(payment(customer_id="cust-v", card_token="tok_velocity01"))[1] for _ in range(LIMIT + 1)]
    assert [a["status"] for a in answers] == ["approved"] * LIMIT + ["declined"]
    reasons = api.database.query(
        "SELECT fraud_reasons FROM ledger.transactions WHERE transaction_id = %s", answers[-1]["transaction_id"]
    )
    assert reasons == [
        (
            [
                f"more than {LIMIT} payments per customer within 3600s",
                f"more than {LIMIT} payments per card within 3600s",
            ],
        )
    ]
    # Another customer with the same card is over the card's limit; a fresh card and customer is not.
    assert api.post(payment(customer_id="cust-w", card_token="tok_velocity01"))[1]["status"] == "declined"
    assert api.post(payment(customer_id="cust-w", card_token="tok_velocity02"))[1]["status"] == "approved"
    # The card token is kept only as its hash.
    assert api.database.query("SELECT count(*) FROM ledger.transactions WHERE card_token_hash LIKE 'tok_%'") == [(0,)]


def queued_payment(index: int, customer: str, card: str) -> Any:
    """A scored payment as the handler hands it to the ledger (approved by the fraud rules)."""
    key = f"velocity-key-{index:04d}"
    return payments_common.QueuedPayment(
        payment=payments_common.Payment(
            transaction_id=payments_common.transaction_id("shop-v", key),
            idempotency_key_hash=payments_common.key_hash("shop-v", key),
            fingerprint=f"{index:064x}",
            amount=1_500,
            currency="USD",
            customer_id=customer,
            merchant_id="shop-v",
            card_token=card,
            requested_at=int(time.time()),
        ),
        fraud=payments_common.FraudDecision(decision="approve"),
    )


def test_concurrent_requests_cannot_slip_under_the_velocity_limit_together(api: Api) -> None:
    """Each request on its own database session, as concurrent Lambda executions are: the locks serialize them."""
    velocity = fraud_rules.Velocity(window_seconds=3600, limit=LIMIT)
    stores = [ledger_for(api.database, lambda refresh: rds_client.Login(USER, PASSWORD)) for _ in range(LIMIT * 2)]
    answers: list[str] = []
    start = threading.Barrier(len(stores))

    def record(index: int) -> None:
        start.wait()
        answers.append(
            stores[index].record_settled(queued_payment(index, "cust-x", "tok_concurrent1"), velocity).status
        )

    workers = [threading.Thread(target=record, args=(index,)) for index in range(len(stores))]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    for store in stores:
        store.connection.discard()
    assert sorted(answers) == ["approved"] * LIMIT + ["declined"] * LIMIT


def test_a_failure_while_settling_leaves_nothing_pending_and_the_retry_records_it(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Recording and settling are one database transaction: a request never leaves a pending row."""
    real = ledger_store._post_entries

    def lost(cursor: Any, item: dict[str, Any]) -> list[int]:
        raise pg8000.dbapi.DatabaseError({"C": "57P01", "M": "terminating connection due to administrator command"})

    monkeypatch.setattr(ledger_store, "_post_entries", lost)
    key = fresh_key()
    status, _ = api.post(payment(customer_id="cust-y"), key)
    assert status == 503
    assert api.database.query("SELECT count(*) FROM ledger.transactions") == [(0,)]
    monkeypatch.setattr(ledger_store, "_post_entries", real)
    status, body = api.post(payment(customer_id="cust-y"), key)
    assert (status, body["status"]) == (201, "approved")


def test_a_balance_cached_under_a_lost_count_is_never_served(api: Api, test_ca: LocalCA) -> None:
    """Redis evicted (or lost in a failover) the write count: the write deletes the value it may match."""
    api.post(payment(customer_id="cust-z", merchant_id="shop-z"))
    account = api.account("customer", "cust-z")
    assert api.balance(account)[1]["balance"] == -1_500  # cached under count 1
    client = balance_cache.connect(
        host="localhost", port=api.redis.port, token=api.redis.admin_password, ca_bundle=test_ca.ca_cert
    )
    client.delete(f"balance-version:{account}")  # the count restarts at 0
    api.post(payment(customer_id="cust-z", merchant_id="shop-z"))  # and this write moves it to 1 again
    assert api.balance(account)[1]["balance"] == -3_000
    client.close()


def test_an_invalidation_ignores_the_pause_and_a_failed_one_is_reported(api: Api, test_ca: LocalCA) -> None:
    now = [1000.0]
    stale: list[list[int]] = []
    broken = [True]

    def token(refresh: bool) -> str:
        if broken[0]:
            raise RuntimeError("Secrets Manager unreachable")
        return api.redis.admin_password

    cache = balance_cache.BalanceCache(
        host="localhost",
        port=api.redis.port,
        token=token,
        ca_bundle=lambda: test_ca.ca_cert,
        ttl_seconds=60,
        clock=lambda: now[0],
        on_stale=stale.append,
    )
    assert cache.read(7, lambda: {"balance": 1}) == ({"balance": 1}, "unavailable")  # and reads now pause
    assert cache.invalidate([7]) is False and stale == [[7]]
    broken[0] = False
    assert cache.read(7, lambda: {"balance": 2}) == ({"balance": 2}, "unavailable")  # paused: Redis not asked
    assert cache.invalidate([7, 8]) is True and stale == [[7]]  # a write is told even while reads pause
    now[0] += balance_cache.PAUSE_AFTER_FAILURE_SECONDS
    assert cache.read(7, lambda: {"balance": 3}) == ({"balance": 3}, "miss")
    assert cache.read(7, lambda: {"balance": 4}) == ({"balance": 3}, "hit")


def test_a_client_without_a_ttl_only_invalidates(api: Api, test_ca: LocalCA) -> None:
    """Payment processing invalidates balances but never caches one."""
    cache = balance_cache.BalanceCache(
        host="localhost",
        port=api.redis.port,
        token=lambda refresh: api.redis.admin_password,
        ca_bundle=lambda: test_ca.ca_cert,
        ttl_seconds=None,
    )
    assert cache.read(9, lambda: {"balance": 1}) == ({"balance": 1}, "miss")
    assert cache.read(9, lambda: {"balance": 2}) == ({"balance": 2}, "miss")
