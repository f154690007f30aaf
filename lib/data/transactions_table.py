"""DynamoDB transactions table (document 004): on demand, two GSIs, PITR, streams, CMK, TTL."""

from __future__ import annotations

from cdktn_provider_aws.dynamodb_table import DynamodbTable
from cdktn_provider_aws.kms_key import KmsKey
from constructs import Construct

from lib.config import TransactionsTableConfig
from lib.contracts import payments as contract
from lib.core.context import StackContext
from lib.core.table import secure_table

# Index name -> (hash key, range key). The fraud function's velocity query uses the customer index.
INDEXES = {
    contract.CUSTOMER_INDEX: ("customer_id", "timestamp"),
    contract.STATUS_INDEX: ("status", "timestamp"),
}
ATTRIBUTE_TYPES = {"transaction_id": "S", "customer_id": "S", "status": "S", "timestamp": "N"}


def table_name(context: StackContext, config: TransactionsTableConfig) -> str:
    """004 fixes `transactions-<suffix>`; every other profile keeps its prefix, so none collide."""
    if config.document_name is not None:
        return context.names.record("dynamodb_table", f"{config.document_name}-{context.names.suffix}")
    return context.names.make("dynamodb_table", "transactions")


def transactions_table(
    scope: Construct, context: StackContext, config: TransactionsTableConfig, key: KmsKey
) -> DynamodbTable:
    return secure_table(
        scope,
        "transactions_table",
        name=table_name(context, config),
        key=key,
        lifecycle=context.lifecycle,
        hash_key="transaction_id",
        attribute_types=ATTRIBUTE_TYPES,
        indexes=INDEXES,
        ttl_attribute=config.ttl_attribute,
        stream=True,
    )
