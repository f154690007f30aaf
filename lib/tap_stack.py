"""TapStack: wires the layers of one deployment together. It builds nothing itself.

Order: provider and backend, keys, storage, network (flow logs into storage), endpoints, then
the data tier: application-tier SG, Aurora (+ proxy, rotation function), Redis, EFS, DynamoDB and
parameters; then the payment application: messaging, functions and the HTTP API. Each layer receives what it needs from earlier ones through its props; layers never
reach into each other, and the stack opens security groups between them with `admit`.
"""

from __future__ import annotations

from cdktn import LocalBackend, S3Backend, TerraformOutput, TerraformStack
from cdktn_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktn_provider_aws.data_aws_partition import DataAwsPartition
from cdktn_provider_aws.provider import AwsProvider, AwsProviderDefaultTags
from constructs import Construct

from lib.api import ApiProps, PaymentsApi
from lib.application_tier import ApplicationTier
from lib.cache import CacheProps, RedisCache
from lib.compute import PaymentFunctions, PaymentFunctionsProps
from lib.config import DeploymentConfig
from lib.database import AuroraDatabase, DatabaseProps
from lib.endpoints import EndpointsProps, VpcEndpoints
from lib.file_storage import FileSystemProps, SharedFileSystem
from lib.keys import EncryptionKeys, KeyContext, KeysProps
from lib.naming import Names
from lib.networking import Network, NetworkProps
from lib.parameters import Parameters, ParametersProps
from lib.queuing import Messaging, MessagingProps
from lib.rotation import RotationProps, SecretRotation
from lib.storage import Storage, StorageProps
from lib.transactions_table import TableProps, TransactionsTable

DESTROYABLE_KEY_DELETION_DAYS = 7
PROTECTED_KEY_DELETION_DAYS = 30


class TapStack(TerraformStack):
    """One environment of one profile; `names` holds every physical name for validation."""

    def __init__(self, scope: Construct, construct_id: str, config: DeploymentConfig) -> None:
        super().__init__(scope, construct_id)
        self.config = config
        self.names = Names(prefix=config.name_prefix, suffix=config.environment_suffix)
        AwsProvider(
            self, "aws", region=config.region, default_tags=[AwsProviderDefaultTags(tags=config.default_tags())]
        )
        self._backend(construct_id)
        account_id = DataAwsCallerIdentity(self, "current").account_id
        partition = DataAwsPartition(self, "partition").partition

        self.keys = EncryptionKeys(
            self,
            "keys",
            KeysProps(
                purposes=config.key_purposes,
                context=KeyContext(account_id=account_id, region=config.region, partition=partition),
                names=self.names,
                deletion_window_in_days=DESTROYABLE_KEY_DELETION_DAYS
                if config.destroyable
                else PROTECTED_KEY_DELETION_DAYS,
            ),
        )
        self.storage = Storage(
            self,
            "storage",
            StorageProps(
                config=config.storage,
                s3_key=self.keys.key("s3"),
                names=self.names,
                account_id=account_id,
                partition=partition,
                force_destroy=config.destroyable,
            ),
        )
        flow_destinations = config.network.flow_log_destinations
        self.network = Network(
            self,
            "network",
            NetworkProps(
                config=config.network,
                names=self.names,
                account_id=account_id,
                region=config.region,
                partition=partition,
                flow_log_bucket=self.storage.bucket("flow_logs") if "s3" in flow_destinations else None,
                logs_key=self.keys.key("logs") if "cloudwatch" in flow_destinations else None,
            ),
        )
        self.endpoints = VpcEndpoints(
            self,
            "endpoints",
            EndpointsProps(
                vpc_id=self.network.vpc.id,
                vpc_cidr=config.network.cidr_block,
                region=config.region,
                names=self.names,
                subnet_ids=[subnet.id for subnet in self.network.private_subnets],
                route_table_ids=[t.id for t in self.network.private_route_tables + self.network.database_route_tables],
                gateway_services=config.endpoints.gateway_services,
                interface_services=config.endpoints.interface_services,
            ),
        )
        self.app_tier = ApplicationTier(self, "app_tier", names=self.names, vpc_id=self.network.vpc.id)
        self._data_tier(account_id, partition)
        self._payments(account_id, partition)
        self._outputs()

    def _data_tier(self, account_id: str, partition: str) -> None:
        config, names, network, keys = self.config, self.names, self.network, self.keys
        app_sg = self.app_tier.security_group
        data_subnets = [s.id for s in network.database_subnets or network.private_subnets]
        private_subnets = [s.id for s in network.private_subnets]
        zones = [f"{config.region}{letter}" for letter in config.network.zone_letters]
        self.database: AuroraDatabase | None = None
        if config.database is not None:
            self.database = AuroraDatabase(
                self,
                "database",
                DatabaseProps(
                    config=config.database,
                    names=names,
                    vpc_id=network.vpc.id,
                    subnet_ids=data_subnets,
                    availability_zones=zones,
                    database_key=keys.key("database"),
                    secrets_key=keys.key("secrets"),
                    logs_key=keys.key("logs"),
                    destroyable=config.destroyable,
                    account_id=account_id,
                    partition=partition,
                ),
            )
            self.database.admit("app_to_database", app_sg, "Application tier to the database")
            endpoints_sg = self.endpoints.security_group
            assert endpoints_sg is not None  # validation requires the secretsmanager endpoint
            self.rotation = SecretRotation(
                self,
                "secret_rotation",
                RotationProps(
                    config=config.lambdas,
                    names=names,
                    # Behind RDS Proxy the username must stay; otherwise alternate users.
                    strategy="single" if config.database.rds_proxy else "alternating",
                    secret_arn=self.database.app_secret.arn,
                    secret_key=keys.key("secrets"),
                    master_secret_arn=self.database.master_secret_arn,
                    master_key=keys.key("database"),
                    logs_key=keys.key("logs"),
                    rotation_days=config.database.app_rotation_days,
                    vpc_id=network.vpc.id,
                    subnet_ids=private_subnets,
                    endpoints_security_group=endpoints_sg,
                    region=config.region,
                    account_id=account_id,
                    partition=partition,
                ),
            )
            # The rotation function always talks to the writer, never the proxy.
            self.database.admit(
                "rotation_to_database", self.rotation.security_group, "Secret rotation to the writer", direct=True
            )
        self.cache: RedisCache | None = None
        if config.cache is not None:
            self.cache = RedisCache(
                self,
                "cache",
                CacheProps(
                    config=config.cache,
                    names=names,
                    vpc_id=network.vpc.id,
                    subnet_ids=data_subnets,
                    cache_key=keys.key("cache"),
                    secrets_key=keys.key("secrets"),
                    logs_key=keys.key("logs"),
                    destroyable=config.destroyable,
                ),
            )
            self.cache.admit("app_to_cache", app_sg, "Application tier to Redis")
        self.file_system: SharedFileSystem | None = None
        if config.file_system is not None:
            self.file_system = SharedFileSystem(
                self,
                "file_system",
                FileSystemProps(
                    config=config.file_system,
                    names=names,
                    vpc_id=network.vpc.id,
                    subnet_ids=private_subnets,
                    efs_key=keys.key("efs"),
                ),
            )
            self.file_system.admit("app_to_efs", app_sg, "Application tier to EFS (NFS over TLS)")
        self.table: TransactionsTable | None = None
        if config.transactions_table is not None:
            self.table = TransactionsTable(
                self,
                "transactions",
                TableProps(
                    config=config.transactions_table,
                    names=names,
                    dynamodb_key=keys.key("dynamodb"),
                    destroyable=config.destroyable,
                ),
            )
        if config.parameters is not None:
            Parameters(
                self,
                "parameters",
                ParametersProps(
                    config=config.parameters,
                    names=names,
                    parameters_key=keys.key("parameters"),
                    **self._parameter_values(),
                ),
            )

    def _payments(self, account_id: str, partition: str) -> None:
        config, names, keys = self.config, self.names, self.keys
        self.payment_functions: PaymentFunctions | None = None
        self.payments_api: PaymentsApi | None = None
        if config.payments is None or self.table is None:
            return
        self.messaging = Messaging(
            self,
            "messaging",
            MessagingProps(config=config.payments, names=names, events_key=keys.key("events"), account_id=account_id),
        )
        endpoints_sg = self.endpoints.security_group
        assert endpoints_sg is not None  # validation requires the payment endpoints
        self.payment_functions = PaymentFunctions(
            self,
            "payments",
            PaymentFunctionsProps(
                config=config.payments,
                lambdas=config.lambdas,
                names=names,
                messaging=self.messaging,
                transactions_table=self.table.table,
                dynamodb_key=keys.key("dynamodb"),
                events_key=keys.key("events"),
                logs_key=keys.key("logs"),
                environment_key=keys.key("events"),
                vpc_id=self.network.vpc.id,
                subnet_ids=[s.id for s in self.network.private_subnets],
                endpoints_security_group=endpoints_sg,
                destroyable=config.destroyable,
                region=config.region,
                account_id=account_id,
                partition=partition,
            ),
        )
        self.payments_api = PaymentsApi(
            self,
            "api",
            ApiProps(
                config=config.payments,
                names=names,
                handler=self.payment_functions.validation.function,
                logs_key=keys.key("logs"),
                log_retention_days=config.lambdas.log_retention_days,
                account_id=account_id,
            ),
        )

    def _parameter_values(self) -> dict[str, dict[str, str]]:
        """Endpoints as String; connection strings (no passwords) as SecureString."""
        plain: dict[str, str] = {}
        secure: dict[str, str] = {}
        if self.database is not None:
            db = self.database
            plain["database/writer-endpoint"] = db.cluster.endpoint
            plain["database/reader-endpoint"] = db.cluster.reader_endpoint
            plain["database/app-secret-arn"] = db.app_secret.arn
            host = db.proxy.endpoint if db.proxy is not None else db.cluster.endpoint
            scheme = "postgresql" if db.config.engine == "aurora-postgresql" else "mysql"
            secure["database/connection-url"] = (
                f"{scheme}://{db.config.app_username}@{host}:{db.config.port}/{db.config.database_name}?sslmode=verify-full"
            )
        if self.cache is not None:
            secure["cache/connection-url"] = (
                f"rediss://{self.cache.replication_group.primary_endpoint_address}:{self.cache.config.port}"
            )
        if self.table is not None:
            plain["dynamodb/transactions-table"] = self.table.table.name
        if self.file_system is not None:
            plain["efs/file-system-id"] = self.file_system.file_system.id
        return {"plain": plain, "secure": secure}

    def _backend(self, stack_name: str) -> None:
        backend = self.config.backend
        if backend.state_bucket is None:
            LocalBackend(self, path=f"terraform.{stack_name}.tfstate")
            return
        S3Backend(
            self,
            bucket=backend.state_bucket,
            key=f"{self.config.environment_suffix}/{stack_name}.tfstate",
            region=backend.state_bucket_region,
            encrypt=True,
            use_lockfile=True,
        )

    def _outputs(self) -> None:
        network = self.network
        TerraformOutput(self, "vpc_id", value=network.vpc.id)
        TerraformOutput(self, "public_subnet_ids", value=[s.id for s in network.public_subnets])
        TerraformOutput(self, "private_subnet_ids", value=[s.id for s in network.private_subnets])
        if network.database_subnets:
            TerraformOutput(self, "database_subnet_ids", value=[s.id for s in network.database_subnets])
        TerraformOutput(self, "bucket_names", value={p: b.name for p, b in self.storage.buckets.items()})
        TerraformOutput(self, "access_log_bucket_name", value=self.storage.access_logs.name)
        TerraformOutput(self, "kms_key_arns", value={p: k.arn for p, k in self.keys.keys.items()})
        if self.endpoints.security_group is not None:
            TerraformOutput(self, "vpc_endpoint_security_group_id", value=self.endpoints.security_group.id)
        TerraformOutput(self, "app_security_group_id", value=self.app_tier.security_group.id)
        if self.database is not None:
            TerraformOutput(self, "database_writer_endpoint", value=self.database.cluster.endpoint)
            TerraformOutput(self, "database_reader_endpoint", value=self.database.cluster.reader_endpoint)
            TerraformOutput(self, "database_app_secret_arn", value=self.database.app_secret.arn, sensitive=True)
            TerraformOutput(self, "database_master_secret_arn", value=self.database.master_secret_arn, sensitive=True)
            if self.database.proxy is not None:
                TerraformOutput(self, "database_proxy_endpoint", value=self.database.proxy.endpoint)
        if self.cache is not None:
            TerraformOutput(self, "redis_endpoint", value=self.cache.replication_group.primary_endpoint_address)
            TerraformOutput(self, "redis_auth_secret_arn", value=self.cache.auth_secret.arn, sensitive=True)
        if self.file_system is not None:
            TerraformOutput(self, "efs_id", value=self.file_system.file_system.id)
            TerraformOutput(self, "efs_access_point_id", value=self.file_system.access_point.id)
        if self.table is not None:
            TerraformOutput(self, "transactions_table_name", value=self.table.table.name)
        if self.payments_api is not None:
            TerraformOutput(self, "payments_api_endpoint", value=self.payments_api.api.api_endpoint)
            TerraformOutput(self, "payments_event_bus_name", value=self.messaging.bus.name)
            TerraformOutput(self, "transaction_queue_url", value=self.messaging.transaction_queue.queue.url)
