"""The Aurora PostgreSQL ledger as a transaction store (`transaction_store.TransactionStore`).

- Recording is an insert that does nothing on a repeat: the transaction id and the idempotency
  key hash are unique in the database, so a redelivered message never writes twice.
- Settling is one database transaction: the guarded status change, for an approved payment two
  balanced entries (the customer's account debited, the merchant's credited; the database
  refuses to commit entries that do not sum to zero), and the outcome event as an outbox row.
- Without an event bus (document 001 has none), settling writes no outbox row and nothing is
  published.
- Publishing happens in the same invocation, after commit, in outbox order, one publisher at a
  time (a session advisory lock). A row is claimed and committed before it is sent, so it is sent
  at most once; a row the bus refused is released to be sent by the next run, and a row claimed
  but never delivered (a crash while sending) stays visible as claimed without `delivered_at`.

- `record_settled` (the transactions API) records, counts velocity and settles in one database
  transaction, so a request leaves no pending row behind whatever fails. Velocity is counted in
  the ledger itself, per customer and per card token hash over a sliding window, under
  transaction-scoped advisory locks on both subjects: concurrent requests cannot slip under the
  limit together. Every attempt in the window counts, refused ones too, so hammering keeps the
  subject blocked.
- After a commit that moved accounts, their cached balances are invalidated (`balances`), by
  every writer alike.

The connection is reused across invocations over verified TLS (`rds_client.ReusedConnection`):
through RDS Proxy with IAM authentication, or at the cluster with the rotated secret.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from fraud_rules import Velocity, card_token_hash, velocity_subjects
from payments_common import FraudDecision, QueuedPayment
from rds_client import ReusedConnection
from transaction_store import FINAL_STATUS, PENDING, outcome_entry

from lib.contracts import payments as contract

# pg_advisory_lock key of the outbox publisher (any fixed number, distinct from the migrations').
PUBLISHER_LOCK = 0x0B7_B0C5
# pg_advisory_xact_lock(class, hashtext(subject)) classes of the velocity subjects, one per kind.
VELOCITY_LOCKS = {"customer": 0x7E10C, "card": 0x7E10D}
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


# What GET /transactions/{id} shows: the request's facts and its outcome (the ledger holds no card data).
VIEW_NAMES = (
    "transaction_id",
    "status",
    "amount",
    "currency",
    "customer_id",
    "merchant_id",
    "fraud_decision",
    "needs_review",
    "failure_reason",
    "requested_at",
    "settled_at",
)
VIEW_COLUMNS = ", ".join(f"{name}::text" if name == "transaction_id" else name for name in VIEW_NAMES)
BALANCE_NAMES = ("account_id", "holder_kind", "holder_id", "currency", "balance")


class Balances(Protocol):
    def invalidate(self, account_ids: list[int]) -> bool:
        """Tells the cache these accounts moved; False when it could not be told."""
        ...


@dataclass(frozen=True)
class Recorded:
    """What `record_settled` left: the transaction's record and status, and the accounts it moved."""

    item: dict[str, Any]
    status: str
    accounts: list[int]


class LedgerStore:
    def __init__(
        self, connection: ReusedConnection, events: Any, bus_name: str, balances: Balances | None = None
    ) -> None:
        self.connection, self.events, self.bus_name, self.balances = connection, events, bus_name, balances

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
        def record(connection: Any) -> dict[str, Any]:
            cursor = connection.cursor()
            _insert(cursor, queued)
            return _item(cursor, queued.payment.transaction_id)

        return self.connection.run(record)

    def record_settled(self, queued: QueuedPayment, velocity: Velocity) -> Recorded:
        """Records a payment, declined when over `velocity`, and settles it, in one database transaction.

        A repeat of a recorded request changes nothing and answers as it stands; a different
        request under the same id comes back with its own fingerprint for the caller to refuse.
        """
        payment = queued.payment

        def record(connection: Any) -> Recorded:
            cursor = connection.cursor()
            for kind, subject in velocity_subjects(payment).items():  # always customer, then card: no cycles
                cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (VELOCITY_LOCKS[kind], subject))
            cursor.execute("SELECT 1 FROM ledger.transactions WHERE transaction_id = %s", (payment.transaction_id,))
            fraud = queued.fraud
            if cursor.fetchone() is None:
                over = _over_velocity(cursor, queued, velocity)
                if over:
                    fraud = FraudDecision(decision="decline", reasons=over)
                _insert(cursor, QueuedPayment(payment=payment, fraud=fraud))
            item = _item(cursor, payment.transaction_id)
            if item["fingerprint"] != payment.fingerprint:
                return Recorded(item, str(item["status"]), [])
            status, moved = self._settle(cursor, item, FINAL_STATUS[str(item["fraud_decision"])], None)
            if status == "approved" and not moved:  # a replay: its first attempt may have stopped before invalidating
                moved = _accounts_of(cursor, payment.transaction_id)
            return Recorded(item, status, moved)

        recorded = self.connection.run(record)
        self._invalidate(recorded.accounts)
        return recorded

    def settle(self, item: dict[str, Any], final: str, reason: str | None = None) -> str:
        if item["status"] == "approved" and self.balances is not None:
            # A redelivery: the attempt that settled it may have stopped before invalidating.
            transaction_id = str(item["transaction_id"])
            self._invalidate(self.connection.run(lambda connection: _accounts_of(connection.cursor(), transaction_id)))
        if item["status"] != PENDING:
            return str(item["status"])
        status, moved = self.connection.run(lambda connection: self._settle(connection.cursor(), item, final, reason))
        self._invalidate(moved)
        return status

    def _settle(self, cursor: Any, item: dict[str, Any], final: str, reason: str | None) -> tuple[str, list[int]]:
        """The guarded status change, its entries and its outbox row; the status now and the accounts moved."""
        transaction_id = str(item["transaction_id"])
        if item["status"] != PENDING:
            return str(item["status"]), []
        if final == PENDING:
            cursor.execute(
                "UPDATE ledger.transactions SET needs_review = true WHERE transaction_id = %s AND status = %s",
                (transaction_id, PENDING),
            )
            return PENDING, []
        cursor.execute(
            "UPDATE ledger.transactions SET status = %s, failure_reason = %s, settled_at = clock_timestamp() "
            "WHERE transaction_id = %s AND status = %s",
            (final, reason, transaction_id, PENDING),
        )
        if cursor.rowcount == 0:  # settled meanwhile by another attempt
            return str(_item(cursor, transaction_id)["status"]), []
        moved = _post_entries(cursor, item) if final == "approved" else []
        if self.bus_name:  # the outcome event, committed with the settlement
            entry = outcome_entry(item, final, self.bus_name)
            cursor.execute(
                "INSERT INTO ledger.outbox (transaction_id, event_type, payload) VALUES (%s, %s, %s::jsonb)",
                (transaction_id, entry["DetailType"], entry["Detail"]),
            )
        return final, moved

    def _invalidate(self, account_ids: list[int]) -> None:
        if account_ids and self.balances is not None:
            self.balances.invalidate(account_ids)

    def announce(self, item: dict[str, Any], status: str) -> bool:
        """Publishes every unpublished outbox row in order; True when `item`'s was among them."""
        if not self.bus_name:
            return False
        published = self.publish()
        return str(item["transaction_id"]) in published

    def transaction(self, transaction_id: str) -> dict[str, Any] | None:
        """A transaction as the API shows it, with its status history; None when unknown."""

        def read(connection: Any) -> dict[str, Any] | None:
            cursor = connection.cursor()
            query = f"SELECT {VIEW_COLUMNS} FROM ledger.transactions WHERE transaction_id = %s"  # noqa: S608 - constant columns
            cursor.execute(query, (transaction_id,))
            row = cursor.fetchone()
            if row is None:
                return None
            view = dict(zip(VIEW_NAMES, row, strict=True))
            cursor.execute(
                "SELECT status, changed_at FROM ledger.transaction_status_history WHERE transaction_id = %s "
                "ORDER BY history_id",
                (transaction_id,),
            )
            view["history"] = [{"status": status, "at": _iso(at)} for status, at in cursor.fetchall()]
            return {name: _iso(value) for name, value in view.items()}

        return self.connection.run(read)

    def balance(self, account_id: int) -> dict[str, Any] | None:
        """An account's holder, currency and balance (the sum of its entries, minor units); None when unknown."""

        def read(connection: Any) -> dict[str, Any] | None:
            cursor = connection.cursor()
            cursor.execute(
                "SELECT a.account_id, a.holder_kind, a.holder_id, a.currency, coalesce(sum(e.amount), 0)::bigint "
                "FROM ledger.accounts a LEFT JOIN ledger.entries e ON e.account_id = a.account_id "
                "WHERE a.account_id = %s GROUP BY a.account_id",
                (account_id,),
            )
            row = cursor.fetchone()
            return None if row is None else dict(zip(BALANCE_NAMES, row, strict=True))

        return self.connection.run(read)

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


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _item(cursor: Any, transaction_id: str) -> dict[str, Any]:
    cursor.execute(f"SELECT {COLUMNS} FROM ledger.transactions WHERE transaction_id = %s", (transaction_id,))  # noqa: S608 - constant columns
    item = dict(zip(NAMES, cursor.fetchone(), strict=True))
    item["transaction_id"] = str(item["transaction_id"])
    item["fraud_reasons"] = list(item["fraud_reasons"])
    return item


def _insert(cursor: Any, queued: QueuedPayment) -> None:
    """The payment as pending, unless its id or idempotency key is recorded already."""
    payment, fraud = queued.payment, queued.fraud
    cursor.execute(
        "INSERT INTO ledger.transactions (transaction_id, idempotency_key_hash, fingerprint, amount, currency, "
        "customer_id, merchant_id, card_token_hash, status, fraud_decision, fraud_reasons, requested_at) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, to_timestamp(%s)) ON CONFLICT DO NOTHING",
        (
            payment.transaction_id,
            payment.idempotency_key_hash,
            payment.fingerprint,
            payment.amount,
            payment.currency,
            payment.customer_id,
            payment.merchant_id,
            card_token_hash(payment),
            PENDING,
            fraud.decision,
            list(fraud.reasons),
            payment.requested_at,
        ),
    )


def _over_velocity(cursor: Any, queued: QueuedPayment, velocity: Velocity) -> list[str]:
    """Why the payment is over the limit: its customer's or its card's payments within the window so far."""
    payment, over = queued.payment, []
    for kind, column, subject in (
        ("customer", "customer_id", payment.customer_id),
        ("card", "card_token_hash", card_token_hash(payment)),
    ):
        cursor.execute(
            f"SELECT count(*) FROM ledger.transactions WHERE {column} = %s "  # noqa: S608 - constant columns
            "AND requested_at > to_timestamp(%s) - make_interval(secs => %s)",
            (subject, payment.requested_at, velocity.window_seconds),
        )
        if int(cursor.fetchone()[0]) >= velocity.limit:
            over.append(velocity.reason(kind))
    return over


def _accounts_of(cursor: Any, transaction_id: str) -> list[int]:
    """The ids of the accounts a transaction's entries move."""
    cursor.execute(
        "SELECT account_id FROM ledger.entries WHERE transaction_id = %s ORDER BY account_id", (transaction_id,)
    )
    return [int(row[0]) for row in cursor.fetchall()]


def _post_entries(cursor: Any, item: dict[str, Any]) -> list[int]:
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
    return _accounts_of(cursor, str(item["transaction_id"]))
