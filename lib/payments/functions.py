"""The payment functions (documents 002, 004) and what only they use.

`payment_validation` (behind the HTTP API) validates, asks `fraud_detection` synchronously, and
enqueues to the transaction queue; `transaction_processing` consumes it in batches with partial
failure reporting and announces outcomes on the bus. Each function's IAM names its own table,
index, queue, bus, function and keys; the transaction queue admits only the validation role as
sender. X-Ray samples 100% of payment requests (traces are encrypted by the account baseline).
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktn_provider_aws.dynamodb_table import DynamodbTable
from cdktn_provider_aws.kms_key import KmsKey
from cdktn_provider_aws.lambda_event_source_mapping import LambdaEventSourceMapping
from constructs import Construct

from lib.config import PaymentsConfig
from lib.contracts import payments as contract
from lib.core.context import StackContext
from lib.core.function import FunctionPlacement, FunctionProps, PythonFunction
from lib.core.policies import Statement, key_use
from lib.core.queue import SecureQueue
from lib.core.table import secure_table
from lib.data.database import AuroraDatabase
from lib.data.rotation import POSTGRES_DRIVER
from lib.payments.balances import REDIS_DISTRIBUTION, BalanceCacheAccess
from lib.payments.messaging import Messaging

COMMON_CODE = "payments_common"
LEDGER_CODE = ("ledger_store", "rds_client")


@dataclass(frozen=True, kw_only=True)
class PaymentFunctionsProps:
    """Exactly one transaction store: the DynamoDB table, or the ledger database (behind its proxy)."""

    config: PaymentsConfig
    messaging: Messaging
    transactions_table: DynamodbTable | None = None
    ledger: AuroraDatabase | None = None
    placement: FunctionPlacement
    dynamodb_key: KmsKey
    events_key: KmsKey
    logs_key: KmsKey
    # Where the transactions API caches balances from the same ledger, settling invalidates them.
    balance_cache: BalanceCacheAccess | None = None


class PaymentFunctions(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, context: StackContext, props: PaymentFunctionsProps
    ) -> None:
        super().__init__(scope, construct_id)
        self._context, self._props = context, props
        names, config, region = context.names, props.config, context.region
        messaging = props.messaging
        self.store = _store(context, props)
        self.idempotency_table = secure_table(
            self,
            "idempotency_table",
            name=names.make("dynamodb_table", "idempotency"),
            key=props.dynamodb_key,
            lifecycle=context.lifecycle,
            hash_key="id",
            attribute_types={"id": "S"},
            ttl_attribute="expiration",
        )
        # Per customer and per card token, one counter item per velocity window, updated atomically in
        # the validation path: a burst cannot outrun the limit (the transactions table is written later).
        self.velocity_table = secure_table(
            self,
            "velocity_table",
            name=names.make("dynamodb_table", "velocity"),
            key=props.dynamodb_key,
            lifecycle=context.lifecycle,
            hash_key="subject",
            attribute_types={"subject": "S"},
            ttl_attribute="expires_at",
        )
        self.dead_letter_queue = SecureQueue(
            self, "dlq", name=names.make("sqs_queue", "payment-functions-dlq"), key=props.events_key
        )
        self._common: list[Statement] = [
            {
                "Sid": "DeadLetters",
                "Effect": "Allow",
                "Action": ["sqs:SendMessage"],
                "Resource": self.dead_letter_queue.arn,
            },
            key_use(
                "QueueEncryption",
                ["kms:GenerateDataKey", "kms:Decrypt"],
                props.events_key.arn,
                [region.service_host("sqs")],
            ),
        ]
        # Only the functions that touch a table may use its key (fraud scoring reads none).
        table_encryption = key_use(
            "TableEncryption",
            ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
            props.dynamodb_key.arn,
            [region.service_host("dynamodb")],
        )
        self.fraud = self._function(
            "fraud_detection",
            "fraud-detection",
            "Scores payments with deterministic fraud rules",
            [],
            {
                contract.FRAUD_REVIEW_AMOUNT: str(config.fraud_review_amount),
                contract.FRAUD_DECLINE_AMOUNT: str(config.fraud_decline_amount),
                contract.FRAUD_MISSING_COUNTRY: config.missing_country,
            },
        )
        transaction_queue = messaging.transaction_queue
        self.validation = self._function(
            "payment_validation",
            "payment-validation",
            "Validates payment requests from the HTTP API",
            [
                {
                    "Sid": "IdempotencyRecords",
                    "Effect": "Allow",
                    "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
                    "Resource": self.idempotency_table.arn,
                },
                {
                    "Sid": "CountVelocity",
                    "Effect": "Allow",
                    "Action": ["dynamodb:UpdateItem"],
                    "Resource": self.velocity_table.arn,
                },
                *self.store.recorded_reads,
                {"Sid": "Enqueue", "Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": transaction_queue.arn},
                {
                    "Sid": "ScoreFraud",
                    "Effect": "Allow",
                    "Action": ["lambda:InvokeFunction"],
                    "Resource": self.fraud.function.arn,
                },
                table_encryption,
            ],
            {
                contract.IDEMPOTENCY_TABLE: self.idempotency_table.name,
                **self.store.environment,
                contract.TRANSACTION_QUEUE_URL: transaction_queue.url,
                contract.FRAUD_FUNCTION_NAME: self.fraud.function.function_name,
                contract.ALLOWED_CURRENCIES: ",".join(config.currencies),
                contract.AMOUNT_CEILING: str(config.amount_ceiling),
                contract.VELOCITY_TABLE: self.velocity_table.name,
                contract.FRAUD_VELOCITY_WINDOW_SECONDS: str(config.velocity_window_seconds),
                contract.FRAUD_VELOCITY_LIMIT: str(config.velocity_limit),
            },
        )
        transaction_queue.allow_only_sender(self.validation.role.arn)
        consumer_statements = [
            {"Sid": "Announce", "Effect": "Allow", "Action": ["events:PutEvents"], "Resource": messaging.bus.arn},
            *self.store.writes,
        ]
        consumer_environment = {**self.store.environment, contract.EVENT_BUS_NAME: messaging.bus.name}
        # Only settling an approved payment moves balances: dead letters (marked failed) never do.
        balances = props.balance_cache
        self.processing = self._queue_consumer(
            "transaction-processing",
            "Records payments from the transaction queue and announces outcomes",
            queue_arn=transaction_queue.arn,
            statements=[
                queue_reads("ConsumeTransactionQueue", transaction_queue.arn),
                *consumer_statements,
                *(balances.statements if balances else []),
            ],
            environment={**consumer_environment, **(balances.environment if balances else {})},
            entry="handler",
            construct_id="transaction_processing",
            mapping_id="transaction_queue_source",
            distributions=(REDIS_DISTRIBUTION,) if balances else (),
        )
        if balances is not None:
            balances.admit("processing_to_cache", self.processing, "Payment processing invalidates cached balances")
        # A message processing could not handle reaches the DLQ; this function marks its payment
        # failed and announces it, so nothing stays pending unseen.
        self.dead_letters = self._queue_consumer(
            "payment-dead-letters",
            "Marks payments whose processing failed for good as failed, and announces them",
            queue_arn=transaction_queue.dlq_arn,
            statements=[queue_reads("ConsumeDeadLetters", transaction_queue.dlq_arn), *consumer_statements],
            environment=consumer_environment,
            entry="dead_letter_handler",
            construct_id="dead_letters",
            mapping_id="dead_letter_source",
        )
        if props.ledger is not None:
            # The proxy admits the functions that use the ledger, and nothing else.
            for name, user in (("validation", self.validation), ("processing", self.processing)):
                props.ledger.admit(f"{name}_to_ledger", user.security_group, f"Payment {name} to the ledger proxy")
            props.ledger.admit("dead_letters_to_ledger", self.dead_letters.security_group, "Dead letters to the ledger")

    @property
    def all(self) -> dict[str, PythonFunction]:
        """Every payment function by a stable name (they all process payment data)."""
        return {
            "payment_validation": self.validation,
            "fraud_detection": self.fraud,
            "transaction_processing": self.processing,
            "payment_dead_letters": self.dead_letters,
        }

    def _queue_consumer(
        self,
        purpose: str,
        description: str,
        *,
        queue_arn: str,
        statements: list[Statement],
        environment: dict[str, str],
        entry: str,
        construct_id: str,
        mapping_id: str,
        distributions: tuple[str, ...] = (),
    ) -> PythonFunction:
        """A transaction_processing entry point fed by `queue_arn` in batches, reporting partial failures."""
        consumer = self._function(
            "transaction_processing",
            purpose,
            description,
            statements,
            environment,
            entry=entry,
            construct_id=construct_id,
            distributions=distributions,
        )
        LambdaEventSourceMapping(
            self,
            mapping_id,
            event_source_arn=queue_arn,
            function_name=consumer.function.arn,
            batch_size=self._props.config.batch_size,
            maximum_batching_window_in_seconds=1,
            function_response_types=["ReportBatchItemFailures"],
        )
        return consumer

    def _function(
        self,
        code: str,
        purpose: str,
        description: str,
        statements: list[Statement],
        environment: dict[str, str],
        *,
        entry: str = "handler",
        construct_id: str | None = None,
        distributions: tuple[str, ...] = (),
    ) -> PythonFunction:
        """A payment function from lib/lambda/<code>/ (entry point `<code>.<entry>`), with its store's driver."""
        props = self._props
        # Scoring touches no store; the others carry the ledger's code and driver when it is the store.
        store_code = [] if code == "fraud_detection" else self.store.code
        return PythonFunction(
            self,
            construct_id or code,
            self._context,
            FunctionProps(
                purpose=purpose,
                description=description,
                handler=f"{code}.{entry}",
                source_dirs=[code, COMMON_CODE, *store_code],
                contracts=["payments"],
                distributions=(*(() if code == "fraud_detection" else self.store.distributions), *distributions),
                statements=[*statements, *self._common],
                environment={**environment, contract.METRICS_NAMESPACE_SETTING: contract.METRICS_NAMESPACE},
                reserved_concurrency=props.config.reserved_concurrency,
                dead_letter_queue_arn=self.dead_letter_queue.arn,
                placement=props.placement,
                environment_key=props.events_key,
                logs_key=props.logs_key,
            ),
        )


@dataclass(frozen=True, kw_only=True)
class StoreAccess:
    """What the payment functions need of their transaction store: settings, IAM, code."""

    environment: dict[str, str]
    recorded_reads: list[Statement]
    writes: list[Statement]
    code: list[str]
    distributions: tuple[str, ...]


def _store(context: StackContext, props: PaymentFunctionsProps) -> StoreAccess:
    table, database = props.transactions_table, props.ledger
    table_encryption = key_use(
        "TableEncryption",
        ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
        props.dynamodb_key.arn,
        [context.region.service_host("dynamodb")],
    )
    if database is not None and database.proxy is not None:
        config = database.config
        connect = database.proxy_connect(context)
        return StoreAccess(
            environment={
                contract.TRANSACTION_STORE: "ledger",
                contract.LEDGER_HOST: database.proxy.endpoint,
                contract.LEDGER_PORT: str(config.port),
                contract.LEDGER_DATABASE: config.database_name,
                contract.LEDGER_USER: config.app_username,
            },
            recorded_reads=[connect],
            writes=[connect],
            code=list(LEDGER_CODE),
            distributions=POSTGRES_DRIVER,
        )
    if table is None:
        raise ValueError("the payment functions need a transaction store: the DynamoDB table or the ledger")
    return StoreAccess(
        environment={contract.TRANSACTION_STORE: "dynamodb", contract.TRANSACTIONS_TABLE: table.name},
        recorded_reads=[
            {
                # A known transaction id with a different request is refused for as long as it exists.
                # Only the attributes that answer a retry: no amounts, customers or merchants.
                "Sid": "ReadRecordedTransactions",
                "Effect": "Allow",
                "Action": ["dynamodb:GetItem"],
                "Resource": table.arn,
                "Condition": {
                    "ForAllValues:StringEquals": {"dynamodb:Attributes": list(contract.RECORDED_ATTRIBUTES)},
                    "StringEqualsIfExists": {"dynamodb:Select": "SPECIFIC_ATTRIBUTES"},
                },
            },
        ],
        writes=[
            {
                # Record and settle transactions (conditional put, read back, guarded update).
                "Sid": "RecordTransactions",
                "Effect": "Allow",
                "Action": ["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:UpdateItem"],
                "Resource": table.arn,
            },
            table_encryption,
        ],
        code=[],
        distributions=(),
    )


def queue_reads(sid: str, queue_arn: str) -> Statement:
    """What an SQS event source mapping needs of its queue."""
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
        "Resource": queue_arn,
    }
