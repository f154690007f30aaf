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
from lib.core.alarms import (
    Alarm,
    api_stage_alarms,
    counted_alarm,
    dead_letter_alarms,
    function_alarms,
    paging,
    table_alarms,
    unread_queue_alarms,
    work_queue_alarms,
)
from lib.core.context import StackContext
from lib.core.dashboard import consumed_capacity
from lib.core.http_api import HttpApiProps, IamHttpApi
from lib.core.queries import Query, lines
from lib.core.queue import MESSAGE_RETENTION_SECONDS
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


# A work queue's oldest message and depth before someone is told (002's transaction queue):
# consumers normally empty it within seconds.
QUEUE_MAX_AGE_SECONDS = 300
QUEUE_MAX_DEPTH = 1000


def failed_payments_alarm(service: str) -> dict[str, Alarm]:
    """Any payment failed for good (002): part of "payments degraded"."""
    return {
        "payments_failed": counted_alarm(
            contract.METRICS_NAMESPACE, contract.PAYMENTS_FAILED, service, "a payment failed", pages=True
        )
    }


def failed_payments_query(*log_groups: str) -> Query:
    """002: failed payments by reason, from the processing and dead-letter functions' lines (where
    payments fail for good), each payment once however often its message was redelivered."""
    return Query(
        title="Failed payments by reason",
        log_groups=list(log_groups),
        text=lines(
            f'filter message = "{contract.PAYMENT_PROCESSED}" and status = "failed"',
            "stats count_distinct(transaction_id) as failed by failure_reason",
            "sort failed desc",
        ),
    )


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
            self.watch("transactions_api", function_alarms(self.transactions_api.function.function.function_name))
            self.stream_payment_logs("transactions_api", self.transactions_api.function.log_group)
            self.watch("transactions_api_stage", paging(api_stage_alarms(stage.api_id, stage.name), "latency_p99"))

    def _alarms(self, messaging: Messaging, functions: PaymentFunctions, api: IamHttpApi) -> None:
        """The pipeline's functions, tables, queues and API, and its failed payments (002, 004)."""
        for name, function in functions.all.items():
            self.watch(name, function_alarms(function.function.function_name))
            self.stream_payment_logs(name, function.log_group)
        # The two functions that count PaymentsFailed (processing, and dead letters).
        for name, function in (("processing", functions.processing), ("dead_letters", functions.dead_letters)):
            self.watch(name, failed_payments_alarm(function.service))
        self.save_query(
            "failed_payments",
            failed_payments_query(functions.processing.log_group.name, functions.dead_letters.log_group.name),
        )
        # Stuck payments: left pending until the dead-letter consumer settled them failed. The
        # failure itself pages (above); this names the cause for whoever reads the alarms channel.
        stuck = counted_alarm(
            contract.METRICS_NAMESPACE, contract.PAYMENTS_STUCK, functions.dead_letters.service, "a stuck payment"
        )
        self.watch("dead_letters", {"payments_stuck": stuck})
        for name, table in (("idempotency", functions.idempotency_table), ("velocity", functions.velocity_table)):
            self.watch(name, table_alarms(table.name))
            self.show(*consumed_capacity(table.name))
        transactions = messaging.transaction_queue
        self.watch(
            "transaction_queue",
            work_queue_alarms(
                transactions.queue.name, max_age_seconds=QUEUE_MAX_AGE_SECONDS, max_depth=QUEUE_MAX_DEPTH
            ),
        )
        # Read by document 004's analytics consumer, outside TAP: only unread messages about to expire matter.
        analytics = messaging.analytics_queue
        self.watch("analytics_queue", unread_queue_alarms(analytics.queue.name, MESSAGE_RETENTION_SECONDS))
        dead_letters = {
            "transaction_queue_dlq": transactions.dlq,
            "analytics_queue_dlq": analytics.dlq,
            "functions_dlq": functions.dead_letter_queue,
            **{f"{name}_dlq": queue for name, queue in messaging.target_dead_letters.items()},
        }
        for name, queue in dead_letters.items():
            if queue is not None:
                self.watch(name, paging(dead_letter_alarms(queue.queue.name)))
        self.watch("api_stage", paging(api_stage_alarms(api.stage.api_id, api.stage.name), "latency_p99"))

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
        api = self.api = IamHttpApi(
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
        self._alarms(messaging, functions, api)
        self.export("payments_api_endpoint", self.api.api.api_endpoint)
        self.export("payments_event_bus_name", messaging.bus.name)
        self.export("transaction_queue_url", messaging.transaction_queue.url)
