"""Where payments are recorded: one small interface, two stores a profile chooses between.

- `DynamoStore`: the DynamoDB transactions table (document 004). The outcome event is put on
  the bus, then the item is marked announced: at least once.
- `LedgerStore` (`ledger_store.py`): the Aurora PostgreSQL ledger through RDS Proxy (document 002).
  The outcome event is an outbox row committed with the settlement, published after commit: at
  most once.

Every operation is safe to re-run: a redelivered message finishes what a failed attempt started
and never writes twice.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from botocore.exceptions import ClientError
from payments_common import QueuedPayment

from lib.contracts import payments as contract

if TYPE_CHECKING:
    from ledger_store import LedgerStore

RETENTION_SECONDS = 400 * 24 * 3600  # TTL beyond the PCI year; PITR and streams keep history
PENDING = "pending"
# The status a fraud decision settles a payment in: `review` stays pending, flagged for review.
FINAL_STATUS = {"approve": "approved", "decline": "declined", "error": "failed", "review": PENDING}


class TransactionStore(Protocol):
    def recorded(self, transaction_id: str) -> dict[str, Any] | None:
        """Only `contract.RECORDED_ATTRIBUTES` of a recorded transaction, or None."""
        ...

    def record_pending(self, queued: QueuedPayment) -> dict[str, Any]:
        """Records the payment as pending once; on a repeat returns the first record unchanged."""
        ...

    def settle(self, item: dict[str, Any], final: str, reason: str | None = None) -> str:
        """pending -> `final` (pending again means: flag for review), guarded; returns the status now."""
        ...

    def announce(self, item: dict[str, Any], status: str) -> bool:
        """Publishes what is due; True when this call published `item`'s outcome."""
        ...


def outcome_entry(item: dict[str, Any], status: str, bus_name: str) -> dict[str, Any]:
    """The PutEvents entry announcing a settled payment, from its record (no card data)."""
    detail = {
        "transaction_id": str(item["transaction_id"]),
        "status": status,
        "amount": int(item["amount"]),
        "currency": item["currency"],
        "customer_id": item["customer_id"],
        "merchant_id": item["merchant_id"],
        "reasons": list(item.get("fraud_reasons", [])),
    }
    return {
        "Source": contract.EVENT_SOURCE,
        "DetailType": contract.PAYMENT_SUCCEEDED if status == "approved" else contract.PAYMENT_FAILED,
        "Detail": json.dumps(detail),
        "EventBusName": bus_name,
    }


def _condition_failed(error: ClientError) -> bool:
    return bool(error.response["Error"]["Code"] == "ConditionalCheckFailedException")


class DynamoStore:
    """The transactions table: a conditional put records, a guarded update settles."""

    def __init__(self, table: Any, events: Any = None, bus_name: str = "") -> None:
        self.table, self.events, self.bus_name = table, events, bus_name

    def recorded(self, transaction_id: str) -> dict[str, Any] | None:
        names = {f"#a{index}": name for index, name in enumerate(contract.RECORDED_ATTRIBUTES)}
        item: dict[str, Any] | None = self.table.get_item(
            Key={"transaction_id": transaction_id},
            ConsistentRead=True,
            ProjectionExpression=", ".join(names),  # the role may read only these attributes
            ExpressionAttributeNames=names,
        ).get("Item")
        return item

    def record_pending(self, queued: QueuedPayment) -> dict[str, Any]:
        payment, now = queued.payment, int(time.time())
        item = {
            **payment.model_dump(exclude_none=True),
            "timestamp": payment.requested_at,
            "status": PENDING,
            "fraud_decision": queued.fraud.decision,
            "fraud_reasons": queued.fraud.reasons,
            "created_at": now,
            "expires_at": now + RETENTION_SECONDS,
        }
        try:
            self.table.put_item(Item=item, ConditionExpression="attribute_not_exists(transaction_id)")
            return item
        except ClientError as error:
            if not _condition_failed(error):
                raise
        existing: dict[str, Any] = self.table.get_item(
            Key={"transaction_id": payment.transaction_id}, ConsistentRead=True
        )["Item"]
        return existing

    def settle(self, item: dict[str, Any], final: str, reason: str | None = None) -> str:
        if item["status"] != PENDING:
            return str(item["status"])  # settled by an earlier attempt
        key = {"transaction_id": item["transaction_id"]}
        names, values = {"#s": "status"}, dict[str, Any]({":pending": PENDING})
        if final == PENDING:
            update, values = "SET needs_review = :yes", {**values, ":yes": True}
        else:
            update = "SET #s = :final, settled_at = :now"
            values = {**values, ":final": final, ":now": int(time.time())}
            if reason is not None:
                update, values = f"{update}, failure_reason = :why", {**values, ":why": reason}
        try:
            self.table.update_item(
                Key=key,
                UpdateExpression=update,
                ConditionExpression="#s = :pending",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except ClientError as error:
            if not _condition_failed(error):
                raise
            return str(self.table.get_item(Key=key, ConsistentRead=True)["Item"]["status"])
        return final

    def announce(self, item: dict[str, Any], status: str) -> bool:
        if item.get("announced"):
            return False
        response = self.events.put_events(Entries=[outcome_entry(item, status, self.bus_name)])
        if response.get("FailedEntryCount"):
            raise RuntimeError("EventBridge refused the outcome event")
        self.table.update_item(
            Key={"transaction_id": item["transaction_id"]},
            UpdateExpression="SET announced = :yes",
            ExpressionAttributeValues={":yes": True},
        )
        return True


def open_ledger(
    settings: Mapping[str, str],
    rds: Any,
    events: Any = None,
    bus_name: str = "",
    *,
    secrets: Any = None,
    on_stale: Callable[[list[int]], None] = lambda account_ids: None,
) -> LedgerStore:
    """The ledger as the settings say to reach it, with the balance cache to invalidate where there is one.

    The login (`LEDGER_LOGIN`): "iam" (the default) asks `rds` for a token for the proxy endpoint,
    user and region at every connect; "secret" reads the rotated application secret through
    `secrets`, again whenever the database refuses it. Imported here, not at the top: the ledger's
    code and driver are packaged only where it is the store, and Redis's only where it caches.
    """
    from ledger_store import LedgerStore  # noqa: PLC0415
    from rds_client import ReusedConnection, iam_login, secret_login  # noqa: PLC0415

    host, port = settings[contract.LEDGER_HOST], int(settings[contract.LEDGER_PORT])
    if settings.get(contract.LEDGER_LOGIN, "iam") == "secret":
        login = secret_login(secrets, settings[contract.LEDGER_SECRET_ARN])
    else:
        user = settings[contract.LEDGER_USER]
        login = iam_login(rds, host=host, port=port, user=user, region=rds.meta.region_name)
    connection = ReusedConnection(host=host, port=port, database=settings[contract.LEDGER_DATABASE], login=login)
    balances = None
    if contract.CACHE_HOST in settings:
        from balance_cache import from_settings  # noqa: PLC0415

        balances = from_settings(settings, secrets, on_stale=on_stale)
    return LedgerStore(connection, events, bus_name, balances)
