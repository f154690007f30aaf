"""Document 001's transactions API: `transactions-api-<suffix>`, stage `prod`, over the ledger.

One function in the VPC (`lib/lambda/transactions_api/`) serves the routes of
`contract.TRANSACTIONS_ROUTES` behind an HTTP API with IAM authorization. It reaches the ledger
the way the profile fronts the database: through RDS Proxy with IAM authentication when there is
a proxy (`full`), else at the cluster's writer with the application secret that the rotation
function rotates (`transactions-pg`). It caches balances in Redis (TLS and AUTH). Both stores
admit its security group, and nothing else is opened for it.

EFS is not used here: the API answers small JSON documents from the ledger, and document 001
names no file workload for it (its EFS is shared storage for the application hosts).
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktn_provider_aws.cloudwatch_event_bus import CloudwatchEventBus
from cdktn_provider_aws.kms_key import KmsKey
from constructs import Construct

from lib.config import TransactionsApiConfig
from lib.contracts import payments as contract
from lib.core.context import StackContext
from lib.core.function import FunctionPlacement, FunctionProps, PythonFunction
from lib.core.http_api import HttpApiProps, IamHttpApi
from lib.core.policies import Statement
from lib.data.cache import RedisCache
from lib.data.database import AuroraDatabase
from lib.data.rotation import POSTGRES_DRIVER
from lib.payments.balances import REDIS_DISTRIBUTION, balance_cache_access

CODE = ["transactions_api", "payments_common", "ledger_store", "rds_client"]
DISTRIBUTIONS = (*POSTGRES_DRIVER, REDIS_DISTRIBUTION)
# Document 001's stage name.
STAGE = "prod"
TIMEOUT_SECONDS = 10


@dataclass(frozen=True, kw_only=True)
class TransactionsApiProps:
    config: TransactionsApiConfig
    database: AuroraDatabase
    cache: RedisCache
    placement: FunctionPlacement
    secrets_key: KmsKey
    logs_key: KmsKey
    # Where a payments bus exists (`full`), outcomes are announced on it through the outbox.
    bus: CloudwatchEventBus | None = None


def api_name(context: StackContext, config: TransactionsApiConfig) -> str:
    """001 fixes `transactions-api-<suffix>`; other profiles keep their prefix, so none collide."""
    names = context.names
    if config.document_name is not None:
        return names.record("http_api", f"{config.document_name}-{names.suffix}")
    return names.make("http_api", "transactions-api")


class TransactionsApi(Construct):
    """`function` serves the routes; `http_api` is the API and its `prod` stage."""

    def __init__(self, scope: Construct, construct_id: str, context: StackContext, props: TransactionsApiProps) -> None:
        super().__init__(scope, construct_id)
        config, database, cache = props.config, props.database, props.cache
        login_environment, login_statements = self._ledger_login(context, props)
        balances = balance_cache_access(context, cache, props.secrets_key)
        announce: list[Statement] = []
        bus_environment: dict[str, str] = {}
        if props.bus is not None:
            announce = [
                {"Sid": "Announce", "Effect": "Allow", "Action": ["events:PutEvents"], "Resource": props.bus.arn}
            ]
            bus_environment = {contract.EVENT_BUS_NAME: props.bus.name}
        function = PythonFunction(
            self,
            "function",
            context,
            FunctionProps(
                purpose="transactions-api",
                description="Serves the transactions API from the ledger, balances cached in Redis",
                handler="transactions_api.handler",
                source_dirs=CODE,
                contracts=["payments"],
                distributions=DISTRIBUTIONS,
                statements=[*login_statements, *balances.statements, *announce],
                environment={
                    **login_environment,
                    contract.LEDGER_PORT: str(database.config.port),
                    contract.LEDGER_DATABASE: database.config.database_name,
                    contract.ALLOWED_CURRENCIES: ",".join(config.currencies),
                    contract.AMOUNT_CEILING: str(config.amount_ceiling),
                    contract.FRAUD_REVIEW_AMOUNT: str(config.fraud_review_amount),
                    contract.FRAUD_DECLINE_AMOUNT: str(config.fraud_decline_amount),
                    contract.FRAUD_MISSING_COUNTRY: config.missing_country,
                    contract.FRAUD_VELOCITY_WINDOW_SECONDS: str(config.velocity_window_seconds),
                    contract.FRAUD_VELOCITY_LIMIT: str(config.velocity_limit),
                    **balances.environment,
                    contract.BALANCE_CACHE_SECONDS: str(config.balance_cache_seconds),
                    contract.METRICS_NAMESPACE_SETTING: contract.METRICS_NAMESPACE,
                    **bus_environment,
                },
                reserved_concurrency=config.reserved_concurrency,
                timeout_seconds=TIMEOUT_SECONDS,
                placement=props.placement,
                environment_key=props.secrets_key,
                logs_key=props.logs_key,
            ),
        )
        self.function = function
        # The database (or its proxy) and Redis admit this function's group, and only on their ports.
        database.admit("transactions_api_to_ledger", function.security_group, "Transactions API to the ledger")
        balances.admit("transactions_api_to_cache", function, "Transactions API to Redis")
        self.http_api = IamHttpApi(
            self,
            "http_api",
            context,
            HttpApiProps(
                name=api_name(context, config),
                description="Transaction processing API (document 001)",
                routes=contract.TRANSACTIONS_ROUTES,
                handler=function.function,
                rules=config,
                logs_key=props.logs_key,
                stage_name=STAGE,
                cors_headers=("content-type", "idempotency-key"),
            ),
        )

    @staticmethod
    def _ledger_login(context: StackContext, props: TransactionsApiProps) -> tuple[dict[str, str], list[Statement]]:
        """Through the proxy with IAM authentication, or at the writer with the rotated secret."""
        database = props.database
        if database.proxy is not None:
            return (
                {
                    contract.LEDGER_LOGIN: "iam",
                    contract.LEDGER_HOST: database.proxy.endpoint,
                    contract.LEDGER_USER: database.config.app_username,
                },
                [database.proxy_connect(context)],
            )
        return (
            {
                contract.LEDGER_LOGIN: "secret",
                contract.LEDGER_HOST: database.cluster.endpoint,
                contract.LEDGER_SECRET_ARN: database.app_secret.arn,
            },
            [  # decrypted with the secrets key, which the cache's access already admits
                {
                    "Sid": "ReadTheApplicationSecret",
                    "Effect": "Allow",
                    "Action": ["secretsmanager:GetSecretValue"],
                    "Resource": database.app_secret.arn,
                }
            ],
        )
