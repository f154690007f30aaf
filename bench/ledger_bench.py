"""`make bench`: the ledger and the transactions API on local servers (PostgreSQL and Redis, both TLS).

- Ledger write throughput: settled payments per second on one connection (record, then settle with
  balanced entries and the outcome's outbox row, two committed transactions each), as the
  processing function writes them in `full`, invalidating the cached balances after each.
- The transactions API's writes: record, velocity count and settlement in one transaction.
- API read latency with a warm cache: `GET /accounts/{id}/balance` through the whole handler
  (resolver, card-data scan, Redis hit), p50 and p99; every read after the first must be a hit.

Starts its own servers on loopback (as the tests do) and stops them; needs `scripts/ensure-test-servers.sh`.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.handlers import TRANSACTIONS_API_SETTINGS, import_handler
from tests.lambdas.db_servers import ADMIN_USER, DATABASE, make_ca, start_postgres, start_redis
from tests.lambdas.ledger.conftest import MIGRATION_SETTINGS

CODE = ["transactions_api", "payments_common", "ledger_store", "rds_client", "schema_migrations"]
transactions_api: Any = import_handler("transactions_api", CODE, TRANSACTIONS_API_SETTINGS)
schema_migrations = import_handler("schema_migrations", CODE, MIGRATION_SETTINGS)
rds_client: Any = import_handler("rds_client", CODE, {})
ledger_store = import_handler("ledger_store", CODE, {})
balance_cache = import_handler("balance_cache", CODE, {})
payments_common = import_handler("payments_common", CODE, {})
fraud_rules = import_handler("fraud_rules", CODE, {})
ROOT = Path(__file__).resolve().parent.parent
PAYMENTS = 400
READS = 2_000
PASSWORD = "bench-app-password-0123456789"  # noqa: S105 - a throwaway local server's


def prepare(port: int, admin_password: str) -> None:
    admin = rds_client.connect(host="localhost", port=port, user=ADMIN_USER, password=admin_password, database=DATABASE)
    schema_migrations.migrate(admin, schema_migrations.load(schema_migrations.MIGRATIONS), "tap_app_owner")
    cursor = admin.cursor()
    cursor.execute(f"CREATE ROLE tap_app LOGIN PASSWORD '{PASSWORD}' IN ROLE tap_app_owner")
    cursor.execute("ALTER ROLE tap_app SET role = tap_app_owner")
    admin.commit()
    admin.close()


def queued(index: int, merchant: str = "bench-shop") -> Any:
    key = f"bench-{index:08d}"
    payment = payments_common.Payment(
        transaction_id=payments_common.transaction_id(merchant, key),
        idempotency_key_hash=payments_common.key_hash(merchant, key),
        fingerprint=f"{index:064x}",
        amount=1_500,
        currency="USD",
        customer_id=f"bench-customer-{index % 50}",
        merchant_id=merchant,
        card_token="tok_bench0000",  # noqa: S106 - a token, not a secret
        requested_at=int(time.time()),
    )
    return payments_common.QueuedPayment(payment=payment, fraud=payments_common.FraudDecision(decision="approve"))


class Bus:
    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        return {"FailedEntryCount": 0, "Entries": [{"EventId": str(i)} for i, _ in enumerate(Entries)]}


def ledger_throughput(store: Any) -> float:
    messages = [queued(index) for index in range(PAYMENTS)]
    started = time.perf_counter()
    for message in messages:
        store.settle(store.record_pending(message), "approved")
    return PAYMENTS / (time.perf_counter() - started)


def api_write_throughput(store: Any) -> float:
    messages = [queued(index, "bench-api-shop") for index in range(PAYMENTS)]
    velocity = fraud_rules.Velocity(window_seconds=3600, limit=2 * PAYMENTS)  # counted, never reached
    started = time.perf_counter()
    for message in messages:
        assert store.record_settled(message, velocity).status == "approved"
    return PAYMENTS / (time.perf_counter() - started)


def read_latencies(account: int) -> list[float]:
    sample: dict[str, Any] = json.loads((ROOT / "tests/fixtures/events/apiGatewayProxyV2Event.json").read_text())
    path = f"/accounts/{account}/balance"
    sample.update(routeKey=f"GET {path}", rawPath=path, body=None, headers={}, isBase64Encoded=False)
    sample["requestContext"]["http"].update(method="GET", path=path)
    context = type(
        "Context",
        (),
        {
            "function_name": "bench",
            "memory_limit_in_mb": 512,
            "aws_request_id": "b",
            "invoked_function_arn": "arn:aws:lambda:us-east-1:123456789012:function:bench",
        },
    )()
    assert transactions_api.handler(dict(sample), context)["statusCode"] == 200  # warms the cache
    timings = []
    for _ in range(READS):
        started = time.perf_counter()
        response = transactions_api.handler(dict(sample), context)
        timings.append((time.perf_counter() - started) * 1000)
        assert response["statusCode"] == 200
    return timings


def main() -> int:
    root = Path(tempfile.mkdtemp(prefix="tap-bench-"))
    root.chmod(0o755)
    ca = make_ca(root / "ca")
    postgres = start_postgres(root / "postgres", ca)
    redis = start_redis(root / "redis", ca)
    try:
        rds_client.CA_BUNDLE = ca.ca_cert
        prepare(postgres.port, postgres.admin_password)
        login = lambda refresh: rds_client.Login("tap_app", PASSWORD)  # noqa: E731
        connection = rds_client.ReusedConnection(host="localhost", port=postgres.port, database=DATABASE, login=login)
        cache = balance_cache.BalanceCache(
            host="localhost",
            port=redis.port,
            token=lambda refresh: redis.admin_password,
            ca_bundle=lambda: ca.ca_cert,
            ttl_seconds=60,
        )
        store = ledger_store.LedgerStore(connection, Bus(), "bench-bus", cache)
        rate = ledger_throughput(store)
        print(f"ledger writes, local PostgreSQL over TLS, one connection: {rate:,.0f} settled payments/s ({PAYMENTS})")
        rate = api_write_throughput(ledger_store.LedgerStore(connection, None, "", cache))
        print(f"transactions API writes (one transaction each, velocity counted): {rate:,.0f} payments/s ({PAYMENTS})")
        loads: list[int] = []
        load_balance = store.balance

        def counted_balance(account_id: int) -> Any:
            loads.append(account_id)
            return load_balance(account_id)

        store.balance = counted_balance
        transactions_api.ledger, transactions_api.cache = store, cache
        transactions_api.logger.setLevel("WARNING")
        cursor = connection.get().cursor()
        cursor.execute("SELECT min(account_id) FROM ledger.accounts WHERE holder_kind = 'customer'")
        account = int(cursor.fetchone()[0])
        connection.get().commit()
        with contextlib.redirect_stdout(io.StringIO()):  # the handler's EMF metric lines
            timings = read_latencies(account)
        assert loads == [account], f"the ledger was read {len(loads)} times: the cache missed"
        p50, p99 = statistics.median(timings), statistics.quantiles(timings, n=100)[98]
        print(
            f"transactions API balance reads, warm Redis cache, in process: p50 {p50:.2f} ms, p99 {p99:.2f} ms ({READS})"
        )
    finally:
        redis.stop()
        postgres.stop()
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
