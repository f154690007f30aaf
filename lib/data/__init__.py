"""The data tier: Aurora (+ proxy and credential rotation), Redis, EFS and the transactions table.

Stores sit in the data subnets behind their own security groups and admit their clients by
group, never by CIDR: the application instances and the rotation function at the database, the
functions that use them at the proxy and Redis. The tier publishes
connection details as outputs and SSM parameters (no passwords).
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktn_provider_aws.dynamodb_table import DynamodbTable
from constructs import Construct

from lib.contracts import rotation as rotation_contract
from lib.core import terraform
from lib.core.alarms import aurora_alarms, file_system_alarms, function_alarms, redis_alarms, table_alarms
from lib.core.context import StackContext
from lib.core.dashboard import consumed_capacity
from lib.core.queries import Query, lines
from lib.core.tier import Tier
from lib.data.cache import CacheProps, RedisCache
from lib.data.database import AuroraDatabase, DatabaseProps
from lib.data.file_storage import FileSystemProps, SharedFileSystem
from lib.data.ledger import LedgerSchema, LedgerSchemaProps
from lib.data.rotation import SecretRotation
from lib.data.transactions_table import INDEXES as TRANSACTIONS_INDEXES
from lib.data.transactions_table import transactions_table
from lib.foundation import Keys, Placement

URL_SCHEMES = {"aurora-postgresql": "postgresql", "aurora-mysql": "mysql"}
# TLS with certificate and host verification, in each client family's own words.
URL_TLS_OPTIONS = {"aurora-postgresql": "sslmode=verify-full", "aurora-mysql": "ssl-mode=VERIFY_IDENTITY"}


@dataclass(frozen=True, kw_only=True)
class DataProps:
    placement: Placement
    keys: Keys


def connection_url(engine: str, username: str, host: str, port: int | str, database: str) -> str:
    """A URL without password whose TLS option makes that engine's clients verify the server's name."""
    return f"{URL_SCHEMES[engine]}://{username}@{host}:{port}/{database}?{URL_TLS_OPTIONS[engine]}"


def rotation_failures_query(rotation_log_group: str) -> Query:
    """002: every failed rotation step, newest first, with the step and why."""
    return Query(
        title="Rotation failures",
        log_groups=[rotation_log_group],
        text=lines(
            "fields @timestamp, step, error_type, reason",
            f'filter message = "{rotation_contract.ROTATION_FAILED}"',
            "sort @timestamp desc",
        ),
    )


class DataTier(Tier):
    def __init__(self, scope: Construct, construct_id: str, context: StackContext, props: DataProps) -> None:
        super().__init__(scope, construct_id, context)
        config, placement, keys = context.config, props.placement, props.keys
        app_sg = placement.application_security_group
        self.database: AuroraDatabase | None = None
        self.rotation: SecretRotation | None = None
        self.ledger: LedgerSchema | None = None
        if config.database is not None:
            self.database = AuroraDatabase(
                self,
                "database",
                context,
                DatabaseProps(
                    config=config.database,
                    vpc_id=placement.vpc_id,
                    subnet_ids=placement.data_subnet_ids,
                    database_key=keys("database"),
                    secrets_key=keys("secrets"),
                    logs_key=keys("logs"),
                ),
            )
            if app_sg is not None:
                # The instances' health check logs in with the rotated application secret. Behind a
                # proxy (which admits only IAM-authenticated functions) it goes to the cluster, as
                # rotation does.
                admit = self.database.admit_to_writer if config.database.rds_proxy else self.database.admit
                admit("app_to_database", app_sg, "Application instances to the database")
            self.rotation = SecretRotation(
                self,
                "secret_rotation",
                context,
                placement=placement.for_functions("the rotation function"),
                secret_arn=self.database.app_secret.arn,
                secret_key=keys("secrets"),
                master_secret_arn=self.database.master_secret_arn,
                master_key=keys("database"),
                logs_key=keys("logs"),
                behind_proxy=config.database.rds_proxy,
                rotation_days=config.database.app_rotation_days,
            )
            # The rotation function always talks to the writer, never the proxy.
            self.database.admit_to_writer("rotation_to_database", self.rotation.security_group, "Secret rotation")
            if config.database.ledger:
                self.ledger = LedgerSchema(
                    self,
                    "ledger",
                    context,
                    LedgerSchemaProps(
                        database=self.database,
                        placement=placement.for_functions("the schema migrations"),
                        database_key=keys("database"),
                        logs_key=keys("logs"),
                    ),
                )
        self.cache: RedisCache | None = None
        if config.cache is not None:
            self.cache = RedisCache(
                self,
                "cache",
                context,
                CacheProps(
                    config=config.cache,
                    vpc_id=placement.vpc_id,
                    subnet_ids=placement.data_subnet_ids,
                    cache_key=keys("cache"),
                    secrets_key=keys("secrets"),
                    logs_key=keys("logs"),
                ),
            )
        self.file_system: SharedFileSystem | None = None
        if config.file_system is not None:
            self.file_system = SharedFileSystem(
                self,
                "file_system",
                context,
                FileSystemProps(
                    config=config.file_system,
                    vpc_id=placement.vpc_id,
                    subnet_ids=placement.private_subnet_ids,
                    efs_key=keys("efs"),
                ),
            )
        self.transactions: DynamodbTable | None = None
        if config.transactions_table is not None:
            self.transactions = transactions_table(self, context, config.transactions_table, keys("dynamodb"))
        if config.tags.compliance is not None:
            terraform.tag_resources(self, {"Compliance": config.tags.compliance})
        self._stores_of_record()
        self._alarms(context)
        self._contribute()

    def _alarms(self, context: StackContext) -> None:
        """Alarms on every store and function of the tier (the observability tier creates them)."""
        config = context.config
        if self.database is not None and config.database is not None:
            db = config.database
            pauses = db.serverless_acu is not None and db.serverless_acu[0] == 0
            cluster = self.database.cluster.cluster_identifier
            self.watch("database", aurora_alarms(cluster, has_readers=db.instance_count > 1, pauses=pauses))
        if self.rotation is not None:
            self.watch("secret_rotation", function_alarms(self.rotation.function.function_name))
            self.save_query("rotation_failures", rotation_failures_query(self.rotation.log_group.name))
        if self.ledger is not None:
            self.watch("schema_migrations", function_alarms(self.ledger.function.function_name))
        if self.cache is not None and config.cache is not None:
            group = self.cache.replication_group.replication_group_id
            self.watch("cache", redis_alarms(group, config.cache.node_count))
        if self.file_system is not None:
            self.watch("file_system", file_system_alarms(self.file_system.file_system.id))
        if self.transactions is not None:
            self.watch("transactions", table_alarms(self.transactions.name, indexes=list(TRANSACTIONS_INDEXES)))
            self.show(*consumed_capacity(self.transactions.name))

    def _stores_of_record(self) -> None:
        """What AWS Backup copies, and the table whose data events CloudTrail records."""
        if self.database is not None:
            self.back_up("database", self.database.cluster, self.database.cluster.arn)
        if self.file_system is not None:
            self.back_up("file_system", self.file_system.file_system, self.file_system.file_system.arn)
        if self.transactions is not None:
            self.back_up("transactions", self.transactions, self.transactions.arn)
            self.record_data_events("transactions", "AWS::DynamoDB::Table", self.transactions.arn)

    def _contribute(self) -> None:
        if self.database is not None:
            db = self.database
            self.export("database_writer_endpoint", db.cluster.endpoint)
            self.export("database_reader_endpoint", db.cluster.reader_endpoint)
            self.export("database_app_secret_arn", db.app_secret.arn, sensitive=True)
            self.export("database_master_secret_arn", db.master_secret_arn, sensitive=True)
            if db.proxy is not None:
                self.export("database_proxy_endpoint", db.proxy.endpoint)
            self.publish("database/writer-endpoint", db.cluster.endpoint)
            self.publish("database/reader-endpoint", db.cluster.reader_endpoint)
            self.publish("database/app-secret-arn", db.app_secret.arn)
            self.publish(
                "database/connection-url",
                connection_url(
                    db.config.engine, db.config.app_username, db.client_endpoint, db.port, db.config.database_name
                ),
            )
        if self.ledger is not None:
            self.export("ledger_migration_set", self.ledger.migration_set)
        if self.cache is not None:
            address = self.cache.replication_group.primary_endpoint_address
            self.export("redis_endpoint", address)
            self.export("redis_auth_secret_arn", self.cache.auth_secret.arn, sensitive=True)
            self.publish("cache/connection-url", f"rediss://{address}:{self.cache.port}")
        if self.file_system is not None:
            self.export("efs_id", self.file_system.file_system.id)
            self.export("efs_access_point_id", self.file_system.access_point.id)
            self.publish("efs/file-system-id", self.file_system.file_system.id)
        if self.transactions is not None:
            self.export("transactions_table_name", self.transactions.name)
            self.publish("dynamodb/transactions-table", self.transactions.name)
