"""The payments tier: messaging, the payment functions and the payments HTTP API (documents 002, 004)."""

from __future__ import annotations

from dataclasses import dataclass

from cdktn_provider_aws.dynamodb_table import DynamodbTable
from constructs import Construct

from lib.config import PaymentsConfig
from lib.core.context import StackContext
from lib.core.tier import Tier
from lib.data.database import AuroraDatabase
from lib.foundation import Keys, Placement
from lib.payments.api import PaymentsApi
from lib.payments.functions import PaymentFunctions, PaymentFunctionsProps
from lib.payments.messaging import Messaging


@dataclass(frozen=True, kw_only=True)
class PaymentsProps:
    config: PaymentsConfig
    placement: Placement
    keys: Keys
    # The transaction store: the DynamoDB table, or the ledger database behind its proxy.
    transactions_table: DynamodbTable | None = None
    ledger: AuroraDatabase | None = None


class PaymentsTier(Tier):
    def __init__(self, scope: Construct, construct_id: str, context: StackContext, props: PaymentsProps) -> None:
        super().__init__(scope, construct_id, context)
        keys, placement = props.keys, props.placement
        self.messaging = Messaging(self, "messaging", context, props.config, keys("events"))
        self.functions = PaymentFunctions(
            self,
            "functions",
            context,
            PaymentFunctionsProps(
                config=props.config,
                messaging=self.messaging,
                transactions_table=props.transactions_table,
                ledger=props.ledger,
                placement=placement.for_functions("the payment functions"),
                dynamodb_key=keys("dynamodb"),
                events_key=keys("events"),
                logs_key=keys("logs"),
            ),
        )
        self.api = PaymentsApi(
            self,
            "api",
            context,
            config=props.config,
            handler=self.functions.validation.function,
            logs_key=keys("logs"),
        )
        self.export("payments_api_endpoint", self.api.api.api_endpoint)
        self.export("payments_event_bus_name", self.messaging.bus.name)
        self.export("transaction_queue_url", self.messaging.transaction_queue.url)
