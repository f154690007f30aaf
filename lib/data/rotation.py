"""The database credential rotation function and its schedule.

The function runs in the private subnets with its own security group (HTTPS to the VPC
endpoints, the database port to the cluster), reaches Secrets Manager through the interface
endpoint, has reserved concurrency and an encrypted, retained log group, and may touch only its
secret, the master secret it reads for user management, their keys, its logs and the ENIs
Lambda needs in a VPC.
"""

from __future__ import annotations

from cdktn_provider_aws.kms_key import KmsKey
from cdktn_provider_aws.lambda_permission import LambdaPermission
from cdktn_provider_aws.secretsmanager_secret_rotation import (
    SecretsmanagerSecretRotation,
    SecretsmanagerSecretRotationRotationRules,
)
from constructs import Construct

from lib.contracts import rotation as contract
from lib.core.context import StackContext
from lib.core.function import FunctionPlacement, FunctionProps, PythonFunction
from lib.core.policies import Statement, key_use

# Pure-Python drivers (and their dependencies) packaged with the function.
POSTGRES_DRIVER = ("pg8000", "scramp", "asn1crypto", "python-dateutil", "six")
DRIVERS = (*POSTGRES_DRIVER, "PyMySQL")
TIMEOUT_SECONDS = 60
MEMORY_MB = 256


class SecretRotation(Construct):
    """Rotation Lambda + schedule for one secret; `security_group` must be admitted to the writer.

    Behind RDS Proxy the username must stay (the proxy pools by it): strategy `single`;
    otherwise users alternate, so the previous credentials work until the rotation after next.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        context: StackContext,
        *,
        placement: FunctionPlacement,
        secret_arn: str,
        secret_key: KmsKey,
        master_secret_arn: str,
        master_key: KmsKey,
        logs_key: KmsKey,
        behind_proxy: bool,
        rotation_days: int,
    ) -> None:
        super().__init__(scope, construct_id)
        statements = self._statements(context, secret_arn, master_secret_arn, [secret_key.arn, master_key.arn])
        rotation = PythonFunction(
            self,
            "function",
            context,
            FunctionProps(
                purpose="secret-rotation",
                description="Rotates the Aurora application user secret (Secrets Manager four-step protocol)",
                handler="app.handler",
                source_dirs=["secret_rotation", "rds_client"],
                contracts=["rotation"],
                distributions=DRIVERS,
                statements=statements,
                environment={
                    contract.ROTATION_STRATEGY: "single" if behind_proxy else "alternating",
                    contract.SECRETS_MANAGER_ENDPOINT: f"https://{context.region.service_host('secretsmanager')}",
                    "POWERTOOLS_LOG_LEVEL": "INFO",
                },
                reserved_concurrency=context.config.lambdas.rotation_reserved_concurrency,
                timeout_seconds=TIMEOUT_SECONDS,
                memory_mb=MEMORY_MB,
                placement=placement,
                environment_key=secret_key,
                logs_key=logs_key,
            ),
        )
        self.function = rotation.function
        self.log_group = rotation.log_group
        self.security_group = rotation.security_group
        permission = LambdaPermission(
            self,
            "secretsmanager_invoke",
            action="lambda:InvokeFunction",
            function_name=self.function.function_name,
            principal=context.principal("secretsmanager"),
            source_account=context.account_id,
            source_arn=secret_arn,
        )
        SecretsmanagerSecretRotation(
            self,
            "schedule",
            secret_id=secret_arn,
            rotation_lambda_arn=self.function.arn,
            rotation_rules=SecretsmanagerSecretRotationRotationRules(automatically_after_days=rotation_days),
            depends_on=[permission],
        )

    @staticmethod
    def _statements(
        context: StackContext, secret_arn: str, master_secret_arn: str, key_arns: list[str]
    ) -> list[Statement]:
        return [
            {
                "Sid": "RotateTheApplicationSecret",
                "Effect": "Allow",
                "Action": [
                    "secretsmanager:DescribeSecret",
                    "secretsmanager:GetSecretValue",
                    "secretsmanager:PutSecretValue",
                    "secretsmanager:UpdateSecretVersionStage",
                ],
                "Resource": secret_arn,
            },
            {
                "Sid": "ReadTheMasterSecret",
                "Effect": "Allow",
                "Action": ["secretsmanager:GetSecretValue"],
                "Resource": master_secret_arn,
            },
            key_use(
                "SecretKeysThroughSecretsManager",
                ["kms:Decrypt", "kms:GenerateDataKey"],
                key_arns,
                [context.region.service_host("secretsmanager")],
            ),
        ]
