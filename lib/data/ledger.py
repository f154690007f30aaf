"""The ledger schema: its migration function, and the deploy-time invocation that applies the migrations.

The migrations are plain SQL files in `lib/lambda/schema_migrations/migrations/`. Terraform invokes
the function whenever their set hash changes (`aws_lambda_invocation` with the hash as a
trigger), after the writer exists and the function may reach it; the function refuses any other
set, applies what is pending in one transaction under an advisory lock, and fails the apply
when a migration fails. The function connects to the writer directly (never the proxy) as the
master user, whose RDS-managed secret it alone may read besides the rotation.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from cdktn_provider_aws.kms_key import KmsKey
from cdktn_provider_aws.lambda_invocation import LambdaInvocation
from constructs import Construct

from lib.contracts import ledger as contract
from lib.core.context import StackContext
from lib.core.function import LAMBDA_ROOT, FunctionPlacement, FunctionProps, PythonFunction
from lib.core.policies import key_use
from lib.data.database import AuroraDatabase
from lib.data.rotation import POSTGRES_DRIVER

MIGRATIONS = LAMBDA_ROOT / "schema_migrations" / contract.MIGRATIONS_DIRECTORY
TIMEOUT_SECONDS = 300
MEMORY_MB = 256


def migration_set_hash() -> str:
    """The hash the function computes over what it is shipped with (the same contract function)."""
    return contract.migration_set_hash((path.name, path.read_bytes()) for path in MIGRATIONS.iterdir())


def application_grantee(app_username: str) -> str:
    """The role the application's login users act as: the rotation's `<user>_owner` (see `engines.py`)."""
    return f"{app_username}_owner"


@dataclass(frozen=True, kw_only=True)
class LedgerSchemaProps:
    database: AuroraDatabase
    placement: FunctionPlacement
    database_key: KmsKey
    logs_key: KmsKey


class LedgerSchema(Construct):
    """`migration_set` is the hash of the files applied; `invocation` re-runs when it changes."""

    def __init__(self, scope: Construct, construct_id: str, context: StackContext, props: LedgerSchemaProps) -> None:
        super().__init__(scope, construct_id)
        database = props.database
        config = database.config
        self.migration_set = migration_set_hash()
        migrations = PythonFunction(
            self,
            "function",
            context,
            FunctionProps(
                purpose="schema-migrations",
                description="Applies the ledger's SQL migrations at deploy (one transaction, advisory lock)",
                handler="schema_migrations.handler",
                source_dirs=["schema_migrations", "rds_client"],
                contracts=["ledger"],
                distributions=POSTGRES_DRIVER,
                statements=[
                    {
                        "Sid": "ReadTheMasterSecret",
                        "Effect": "Allow",
                        "Action": ["secretsmanager:GetSecretValue"],
                        "Resource": database.master_secret_arn,
                    },
                    key_use(
                        "MasterSecretKeyThroughSecretsManager",
                        ["kms:Decrypt"],
                        props.database_key.arn,
                        [context.region.service_host("secretsmanager")],
                    ),
                ],
                environment={
                    contract.DATABASE_HOST: database.cluster.endpoint,
                    contract.DATABASE_PORT: str(config.port),
                    contract.DATABASE_NAME: config.database_name,
                    contract.MASTER_SECRET_ARN: database.master_secret_arn,
                    contract.APPLICATION_GRANTEE: application_grantee(config.app_username),
                },
                # One at a time by design (the advisory lock serializes runners anyway).
                reserved_concurrency=1,
                timeout_seconds=TIMEOUT_SECONDS,
                memory_mb=MEMORY_MB,
                placement=props.placement,
                environment_key=props.database_key,
                logs_key=props.logs_key,
            ),
        )
        self.function = migrations.function
        self.security_group = migrations.security_group
        path = database.admit_to_writer("migrations_to_database", self.security_group, "Schema migrations")
        self.invocation = LambdaInvocation(
            self,
            "apply",
            function_name=self.function.function_name,
            input=json.dumps({contract.MIGRATION_SET_INPUT: self.migration_set}),
            triggers={contract.MIGRATION_SET_INPUT: self.migration_set},
            depends_on=[*database.instances, *path],
        )
