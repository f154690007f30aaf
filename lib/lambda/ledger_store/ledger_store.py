"""The Aurora PostgreSQL ledger as a transaction store (`transaction_store.TransactionStore`).

- Recording is an insert that does nothing on a repeat: the transaction id and the idempotency
  key hash are unique in the database, so a redelivered message never writes twice.
- Settling is one database transaction: the guarded status change, for an approved payment two
  balanced entries (the customer's account debited, the merchant's credited; the database
  refuses to commit entries that do not sum to zero), and the outcome event as an outbox row.
- Publishing happens in the same invocation, after commit, in outbox order, one publisher at a
  time (a session advisory lock). A row is claimed and committed before it is sent, so it is sent
  at most once; a row the bus refused is released to be sent by the next run, and a row claimed
  but never delivered (a crash while sending) stays visible as claimed without `delivered_at`.

The connection goes through RDS Proxy with IAM authentication over verified TLS, and is reused
across invocations (`rds_client.ReusedConnection`).
"""

from __future__ import annotations

import json
from typing import Any

from payments_common import QueuedPayment
from rds_client import ReusedConnection
from transaction_store import PENDING, outcome_entry

from lib.contracts import payments as contract

# pg_advisory_lock key of the outbox publisher (any fixed number, distinct from the migrations').
PUBLISHER_LOCK = 0x0B7_B0C5
PUBLISH_BATCH = 10  # PutEvents takes at most 10 entries
COLUMNS = (
    "transaction_id, fingerprint, status, fraud_decision, fraud_reasons, amount, currency, customer_id, "
    "merchant_id, extract(epoch FROM requested_at)::bigint AS timestamp, needs_review"
)
NAMES = (
    "transaction_id",
    "fingerprint",
    "status",
    "fraud_decision",
    "fraud_reasons",
    "amount",
    "currency",
    "customer_id",
    "merchant_id",
    "timestamp",
    "needs_review",
)


class LedgerStore:
    def __init__(self, connection: ReusedConnection, events: Any, bus_name: str) -> None:
        self.connection, self.events, self.bus_name = connection, events, bus_name

    def recorded(self, transaction_id: str) -> dict[str, Any] | None:
        def read(connection: Any) -> dict[str, Any] | None:
            cursor = connection.cursor()
            cursor.execute(
                "SELECT transaction_id::text, fingerprint, status, fraud_decision FROM ledger.transactions "
                "WHERE transaction_id = %s",
                (transaction_id,),
            )
            row = cursor.fetchone()
            return None if row is None else dict(zip(contract.RECORDED_ATTRIBUTES, row, strict=True))

        return self.connection.run(read)

    def record_pending(self, queued: QueuedPayment) -> dict[str, Any]:
        payment, fraud = queued.payment, queued.fraud

        def record(connection: Any) -> dict[str, Any]:
            cursor = connection.cursor()
            cursor.execute(
                "INSERT INTO ledger.transactions (transaction_id, idempotency_key_hash, fingerprint, amount, "
                "currency, customer_id, merchant_id, status, fraud_decision, fraud_reasons, requested_at) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, to_timestamp(%s)) ON CONFLICT DO NOTHING",
                (
                    payment.transaction_id,
                    payment.idempotency_key_hash,
                    payment.fingerprint,
                    payment.amount,
                    payment.currency,
                    payment.customer_id,
                    payment.merchant_id,
                    PENDING,
                    fraud.decision,
                    list(fraud.reasons),
                    payment.requested_at,
                ),
            )
            return _item(cursor, payment.transaction_id)

        return self.connection.run(record)

    def settle(self, item: dict[str, Any], final: str, reason: str | None = None) -> str:
        if item["status"] != PENDING:
            return str(item["status"])
        transaction_id = str(item["transaction_id"])

        def settle(connection: Any) -> str:
            cursor = connection.cursor()
            if final == PENDING:
                cursor.execute(
                    "UPDATE ledger.transactions SET needs_review = true WHERE transaction_id = %s AND status = %s",
                    (transaction_id, PENDING),
                )
                return PENDING
            cursor.execute(
                "UPDATE ledger.transactions SET status = %s, failure_reason = %s, settled_at = clock_timestamp() "
                "WHERE transaction_id = %s AND status = %s",
                (final, reason, transaction_id, PENDING),
            )
            if cursor.rowcount == 0:  # settled meanwhile by another attempt
                return str(_item(cursor, transaction_id)["status"])
            if final == "approved":
                _post_entries(cursor, item)
            entry = outcome_entry(item, final, self.bus_name)
            cursor.execute(
                "INSERT INTO ledger.outbox (transaction_id, event_type, payload) VALUES (%s, %s, %s::jsonb)",
                (transaction_id, entry["DetailType"], entry["Detail"]),
            )
            return final

        return self.connection.run(settle)

    def announce(self, item: dict[str, Any], status: str) -> bool:
        """Publishes every unpublished outbox row in order; True when `item`'s was among them."""
        published = self.publish()
        return str(item["transaction_id"]) in published

    def publish(self) -> list[str]:
        """The transaction ids whose events this call delivered, in outbox order."""
        connection = self.connection.get()
        cursor = connection.cursor()
        cursor.execute("SELECT pg_advisory_lock(%s)", (PUBLISHER_LOCK,))
        connection.commit()
        delivered: list[str] = []
        try:
            while batch := self._claim(connection):
                delivered += self._send(connection, batch)
        finally:
            connection.rollback()
            cursor.execute("SELECT pg_advisory_unlock(%s)", (PUBLISHER_LOCK,))
            connection.commit()
        return delivered

    def _claim(self, connection: Any) -> list[tuple[int, str, str, Any]]:
        cursor = connection.cursor()
        cursor.execute(
            "UPDATE ledger.outbox SET claimed_at = clock_timestamp() WHERE event_id IN ("
            "SELECT event_id FROM ledger.outbox WHERE claimed_at IS NULL ORDER BY event_id LIMIT %s) "
            "RETURNING event_id, transaction_id::text, event_type, payload",
            (PUBLISH_BATCH,),
        )
        rows: list[tuple[int, str, str, Any]] = sorted(
            (int(r[0]), str(r[1]), str(r[2]), r[3]) for r in cursor.fetchall()
        )
        connection.commit()  # claimed before sending: never sent twice
        return rows

    def _send(self, connection: Any, batch: list[tuple[int, str, str, Any]]) -> list[str]:
        entries = [
            {
                "Source": contract.EVENT_SOURCE,
                "DetailType": event_type,
                "Detail": json.dumps(payload, sort_keys=True),
                "EventBusName": self.bus_name,
            }
            for _, _, event_type, payload in batch
        ]
        try:
            results = self.events.put_events(Entries=entries)["Entries"]
        except Exception:
            self._release(connection, [event_id for event_id, *_ in batch])  # refused: nothing was delivered
            raise
        sent = [row for row, result in zip(batch, results, strict=True) if "EventId" in result]
        refused = [row[0] for row, result in zip(batch, results, strict=True) if "EventId" not in result]
        cursor = connection.cursor()
        if sent:
            cursor.execute(
                "UPDATE ledger.outbox SET delivered_at = clock_timestamp() WHERE event_id = ANY(%s)",
                ([row[0] for row in sent],),
            )
        connection.commit()
        if refused:
            self._release(connection, refused)
            raise RuntimeError(f"EventBridge refused {len(refused)} outcome event(s); they stay in the outbox")
        return [row[1] for row in sent]

    @staticmethod
    def _release(connection: Any, event_ids: list[int]) -> None:
        connection.rollback()
        cursor = connection.cursor()
        cursor.execute("UPDATE ledger.outbox SET claimed_at = NULL WHERE event_id = ANY(%s)", (event_ids,))
        connection.commit()


def _item(cursor: Any, transaction_id: str) -> dict[str, Any]:
    cursor.execute(f"SELECT {COLUMNS} FROM ledger.transactions WHERE transaction_id = %s", (transaction_id,))  # noqa: S608 - constant columns
    item = dict(zip(NAMES, cursor.fetchone(), strict=True))
    item["transaction_id"] = str(item["transaction_id"])
    item["fraud_reasons"] = list(item["fraud_reasons"])
    return item


def _post_entries(cursor: Any, item: dict[str, Any]) -> None:
    """The customer's account debited and the merchant's credited by the amount (accounts made on first use)."""
    legs = (
        ("customer", item["customer_id"], -int(item["amount"])),
        ("merchant", item["merchant_id"], int(item["amount"])),
    )
    for kind, holder, amount in legs:
        cursor.execute(
            "INSERT INTO ledger.accounts (holder_kind, holder_id, currency) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
            (kind, holder, item["currency"]),
        )
        cursor.execute(
            "INSERT INTO ledger.entries (transaction_id, account_id, amount) SELECT %s, account_id, %s "
            "FROM ledger.accounts WHERE holder_kind = %s AND holder_id = %s AND currency = %s",
            (item["transaction_id"], amount, kind, holder, item["currency"]),
        )
