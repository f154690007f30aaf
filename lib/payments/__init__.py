"""The payments tier: every way payments enter and are served.

- The payment pipeline (documents 002, 004): messaging, the payment functions and the payments
  HTTP API, when the profile has a `payments` section.
- Document 001's transactions API over the ledger, when it has a `transactions_api` section.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktn_provider_aws.dynamodb_table import DynamodbTable
from constructs import Construct

from lib.config import PaymentsConfig
from lib.contracts import payments as contract
from lib.core.context import StackContext
from lib.core.http_api import HttpApiProps, IamHttpApi
from lib.core.tier import Tier
from lib.data.cache import RedisCache
from lib.data.database import AuroraDatabase
from lib.foundation import Keys, Placement
from lib.payments.balances import balance_cache_access
from lib.payments.functions import PaymentFunctions, PaymentFunctionsProps
from lib.payments.messaging import Messaging
from lib.payments.transactions_api import TransactionsApi, TransactionsApiProps


@dataclass(frozen=True, kw_only=True)
class PaymentsProps:
    placement: Placement
    keys: Keys
    # The DynamoDB transactions table (document 004's store), the ledger's database, the cache.
    transactions_table: DynamodbTable | None = None
    ledger: AuroraDatabase | None = None
    cache: RedisCache | None = None


class PaymentsTier(Tier):
    def __init__(self, scope: Construct, construct_id: str, context: StackContext, props: PaymentsProps) -> None:
        super().__init__(scope, construct_id, context)
        config, keys, placement = context.config, props.keys, props.placement
        self.messaging: Messaging | None = None
        self.functions: PaymentFunctions | None = None
        self.api: IamHttpApi | None = None
        if config.payments is not None:
            self._pipeline(context, config.payments, props)
        self.transactions_api: TransactionsApi | None = None
        if config.transactions_api is not None:
            if props.ledger is None or props.cache is None:
                raise ValueError("the transactions API needs the ledger and the cache (validation checks this)")
            self.transactions_api = TransactionsApi(
                self,
                "transactions_api",
                context,
                TransactionsApiProps(
                    config=config.transactions_api,
                    database=props.ledger,
                    cache=props.cache,
                    placement=placement.for_functions("the transactions API"),
                    secrets_key=keys("secrets"),
                    logs_key=keys("logs"),
                    bus=self.messaging.bus if self.messaging is not None else None,
                ),
            )
            stage = self.transactions_api.http_api.stage
            self.export("transactions_api_endpoint", stage.invoke_url)
            self.record_data_events(
                "transactions_api", "AWS::Lambda::Function", self.transactions_api.function.function.arn
            )

    def _pipeline(self, context: StackContext, config: PaymentsConfig, props: PaymentsProps) -> None:
        keys, placement = props.keys, props.placement
        messaging = self.messaging = Messaging(self, "messaging", context, config, keys("events"))
        ledger = props.ledger if config.transaction_store == "ledger" else None
        # Settling into the ledger the transactions API serves invalidates the balances it caches.
        balances = None
        if ledger is not None and props.cache is not None and context.config.transactions_api is not None:
            balances = balance_cache_access(context, props.cache, keys("secrets"))
        functions = self.functions = PaymentFunctions(
            self,
            "functions",
            context,
            PaymentFunctionsProps(
                config=config,
                messaging=messaging,
                transactions_table=None if ledger else props.transactions_table,
                ledger=ledger,
                placement=placement.for_functions("the payment functions"),
                dynamodb_key=keys("dynamodb"),
                events_key=keys("events"),
                logs_key=keys("logs"),
                balance_cache=balances,
            ),
        )
        self.api = IamHttpApi(
            self,
            "api",
            context,
            HttpApiProps(
                name=context.names.make("http_api", "payments-api"),
                description="Payments API",
                routes={"create_payment": f"POST {contract.PAYMENTS_PATH}"},
                handler=functions.validation.function,
                rules=config,
                logs_key=keys("logs"),
                cors_headers=("content-type", "idempotency-key"),
            ),
        )
        for name, function in functions.all.items():
            self.record_data_events(name, "AWS::Lambda::Function", function.function.arn)
        self.record_data_events("idempotency", "AWS::DynamoDB::Table", functions.idempotency_table.arn)
        self.record_data_events("velocity", "AWS::DynamoDB::Table", functions.velocity_table.arn)
        self.export("payments_api_endpoint", self.api.api.api_endpoint)
        self.export("payments_event_bus_name", messaging.bus.name)
        self.export("transaction_queue_url", messaging.transaction_queue.url)
