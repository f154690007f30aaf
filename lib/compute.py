"""The payment functions (documents 002, 004) and what only they use.

`payment_validation` (behind the HTTP API) validates, asks `fraud_detection` synchronously, and
enqueues to the transaction queue; `transaction_processing` consumes it in batches with partial
failure reporting and announces outcomes on the bus. Each function's IAM names its own table,
index, queue, bus, function and keys; the transaction queue admits only the validation role as
sender. X-Ray samples 100% of payment requests and encrypts traces with a CMK.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cdktn_provider_aws.dynamodb_table import (
    DynamodbTable,
    DynamodbTableAttribute,
    DynamodbTablePointInTimeRecovery,
    DynamodbTableServerSideEncryption,
    DynamodbTableTtl,
)
from cdktn_provider_aws.kms_key import KmsKey
from cdktn_provider_aws.lambda_event_source_mapping import LambdaEventSourceMapping
from cdktn_provider_aws.security_group import SecurityGroup
from cdktn_provider_aws.xray_encryption_config import XrayEncryptionConfig
from cdktn_provider_aws.xray_sampling_rule import XraySamplingRule
from constructs import Construct

from lib.config import LambdaConfig, PaymentsConfig
from lib.functions import FunctionProps, PythonFunction
from lib.naming import Names
from lib.policies import Statement
from lib.queuing import Messaging, SecureQueue
from lib.transactions_table import CUSTOMER_INDEX as VELOCITY_INDEX

COMMON_CODE = "payments_common"


def key_use(sid: str, actions: list[str], key: KmsKey, service: str, region: str) -> Statement:
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Action": actions,
        "Resource": key.arn,
        "Condition": {"StringEquals": {"kms:ViaService": f"{service}.{region}.amazonaws.com"}},
    }


@dataclass(frozen=True, kw_only=True)
class PaymentFunctionsProps:
    config: PaymentsConfig
    lambdas: LambdaConfig
    names: Names
    messaging: Messaging
    transactions_table: DynamodbTable
    dynamodb_key: KmsKey
    events_key: KmsKey
    logs_key: KmsKey
    environment_key: KmsKey
    vpc_id: str
    subnet_ids: Sequence[str]
    endpoints_security_group: SecurityGroup
    destroyable: bool
    region: str
    account_id: str
    partition: str


class PaymentFunctions(Construct):
    def __init__(self, scope: Construct, construct_id: str, props: PaymentFunctionsProps) -> None:
        super().__init__(scope, construct_id)
        names, config, region = props.names, props.config, props.region
        table, messaging = props.transactions_table, props.messaging
        self.idempotency_table = DynamodbTable(
            self,
            "idempotency_table",
            name=names.record("dynamodb_table", f"payment-idempotency-{names.suffix}"),
            billing_mode="PAY_PER_REQUEST",
            hash_key="id",
            attribute=[DynamodbTableAttribute(name="id", type="S")],
            ttl=DynamodbTableTtl(attribute_name="expiration", enabled=True),
            point_in_time_recovery=DynamodbTablePointInTimeRecovery(enabled=True),
            server_side_encryption=DynamodbTableServerSideEncryption(enabled=True, kms_key_arn=props.dynamodb_key.arn),
            deletion_protection_enabled=not props.destroyable,
        )
        self.dead_letter_queue = SecureQueue(
            self, "functions_dlq", name=names.make("sqs_queue", "payment-functions-dlq"), key=props.events_key
        )
        dlq_arn = self.dead_letter_queue.queue.arn
        send_to_dlq: Statement = {
            "Sid": "DeadLetters",
            "Effect": "Allow",
            "Action": ["sqs:SendMessage"],
            "Resource": dlq_arn,
        }
        events_key_for_sqs = key_use(
            "QueueEncryption", ["kms:GenerateDataKey", "kms:Decrypt"], props.events_key, "sqs", region
        )
        table_key = key_use(
            "TableEncryption",
            ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
            props.dynamodb_key,
            "dynamodb",
            region,
        )
        function = self._factory(props, dlq_arn)

        self.fraud = function(
            "fraud_detection",
            "fraud-detection",
            "Scores payments with deterministic fraud rules",
            [
                {
                    "Sid": "VelocityQuery",
                    "Effect": "Allow",
                    "Action": ["dynamodb:Query"],
                    "Resource": f"{table.arn}/index/{VELOCITY_INDEX}",
                },
                table_key,
                send_to_dlq,
                events_key_for_sqs,
            ],
            {
                "TRANSACTIONS_TABLE": table.name,
                "FRAUD_REVIEW_AMOUNT": str(config.fraud_review_amount),
                "FRAUD_DECLINE_AMOUNT": str(config.fraud_decline_amount),
                "FRAUD_VELOCITY_WINDOW_SECONDS": str(config.velocity_window_seconds),
                "FRAUD_VELOCITY_LIMIT": str(config.velocity_limit),
            },
        )
        transaction_queue = messaging.transaction_queue.queue
        self.validation = function(
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
                {"Sid": "Enqueue", "Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": transaction_queue.arn},
                {
                    "Sid": "ScoreFraud",
                    "Effect": "Allow",
                    "Action": ["lambda:InvokeFunction"],
                    "Resource": self.fraud.function.arn,
                },
                table_key,
                events_key_for_sqs,
                send_to_dlq,
            ],
            {
                "IDEMPOTENCY_TABLE": self.idempotency_table.name,
                "TRANSACTION_QUEUE_URL": transaction_queue.url,
                "FRAUD_FUNCTION_NAME": self.fraud.function.function_name,
                "ALLOWED_CURRENCIES": ",".join(config.currencies),
                "AMOUNT_CEILING": str(config.amount_ceiling),
            },
        )
        messaging.transaction_queue.allow_only_sender(self.validation.role.arn)
        self.processing = function(
            "transaction_processing",
            "transaction-processing",
            "Records payments from the transaction queue and announces outcomes",
            [
                {
                    "Sid": "RecordTransactions",
                    "Effect": "Allow",
                    "Action": ["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:UpdateItem"],
                    "Resource": table.arn,
                },
                {
                    "Sid": "ConsumeTransactionQueue",
                    "Effect": "Allow",
                    "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
                    "Resource": transaction_queue.arn,
                },
                {"Sid": "Announce", "Effect": "Allow", "Action": ["events:PutEvents"], "Resource": messaging.bus.arn},
                table_key,
                events_key_for_sqs,
                send_to_dlq,
            ],
            {"TRANSACTIONS_TABLE": table.name, "EVENT_BUS_NAME": messaging.bus.name},
        )
        LambdaEventSourceMapping(
            self,
            "transaction_queue_source",
            event_source_arn=transaction_queue.arn,
            function_name=self.processing.function.arn,
            batch_size=config.batch_size,
            maximum_batching_window_in_seconds=1,
            function_response_types=["ReportBatchItemFailures"],
        )
        XraySamplingRule(
            self,
            "sampling",
            rule_name=names.make("xray_sampling_rule", "payments"),
            priority=10,
            fixed_rate=1.0,
            reservoir_size=1,
            service_name=f"{names.prefix}-*-{names.suffix}",
            service_type="*",
            host="*",
            http_method="*",
            url_path="*",
            resource_arn="*",
            version=1,
        )
        # Account-wide setting: the last environment applied in an account and region sets it.
        XrayEncryptionConfig(self, "trace_encryption", type="KMS", key_id=props.logs_key.arn)

    def _factory(
        self, props: PaymentFunctionsProps, dlq_arn: str
    ) -> Callable[[str, str, str, list[Statement], dict[str, str]], PythonFunction]:
        def build(
            code: str, purpose: str, description: str, statements: list[Statement], environment: dict[str, str]
        ) -> PythonFunction:
            return PythonFunction(
                self,
                code,
                FunctionProps(
                    purpose=purpose,
                    description=description,
                    handler=f"{code}.handler",
                    source_dirs=[code, COMMON_CODE],
                    statements=statements,
                    environment=environment,
                    reserved_concurrency=props.config.reserved_concurrency,
                    dead_letter_queue_arn=dlq_arn,
                    config=props.lambdas,
                    names=props.names,
                    vpc_id=props.vpc_id,
                    subnet_ids=props.subnet_ids,
                    endpoints_security_group=props.endpoints_security_group,
                    environment_key=props.environment_key,
                    logs_key=props.logs_key,
                    region=props.region,
                    account_id=props.account_id,
                    partition=props.partition,
                ),
            )

        return build
