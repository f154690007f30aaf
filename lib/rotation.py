"""The database credential rotation function and its schedule.

The function runs in the private subnets with its own security group (HTTPS to the VPC
endpoints, the database port to the cluster), reaches Secrets Manager through the interface
endpoint, has reserved concurrency and an encrypted, retained log group, and may touch only its
secret, the master secret it reads for user management, their keys, its logs and the ENIs
Lambda needs in a VPC.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cdktn_provider_aws.kms_key import KmsKey
from cdktn_provider_aws.lambda_permission import LambdaPermission
from cdktn_provider_aws.secretsmanager_secret_rotation import (
    SecretsmanagerSecretRotation,
    SecretsmanagerSecretRotationRotationRules,
)
from cdktn_provider_aws.security_group import SecurityGroup
from constructs import Construct

from lib.config import LambdaConfig
from lib.functions import FunctionProps, PythonFunction
from lib.naming import Names
from lib.policies import Statement

# Pure-Python drivers (and their dependencies) packaged with the function.
DRIVERS = ("pg8000", "scramp", "asn1crypto", "python-dateutil", "six", "PyMySQL")
TIMEOUT_SECONDS = 60
MEMORY_MB = 256


@dataclass(frozen=True, kw_only=True)
class RotationProps:
    config: LambdaConfig
    names: Names
    strategy: str  # "alternating" or "single" (see the function's docstring)
    secret_arn: str
    secret_key: KmsKey
    master_secret_arn: str
    master_key: KmsKey
    logs_key: KmsKey
    rotation_days: int
    vpc_id: str
    subnet_ids: Sequence[str]
    endpoints_security_group: SecurityGroup
    region: str
    account_id: str
    partition: str


class SecretRotation(Construct):
    """Rotation Lambda + schedule for one secret; `security_group` must be admitted to the DB."""

    def __init__(self, scope: Construct, construct_id: str, props: RotationProps) -> None:
        super().__init__(scope, construct_id)
        rotation = PythonFunction(
            self,
            "function",
            FunctionProps(
                purpose="secret-rotation",
                description="Rotates the Aurora application user secret (Secrets Manager four-step protocol)",
                handler="app.handler",
                source_dirs=["secret_rotation"],
                distributions=DRIVERS,
                statements=self._statements(props),
                environment={
                    "ROTATION_STRATEGY": props.strategy,
                    "SECRETS_MANAGER_ENDPOINT": f"https://secretsmanager.{props.region}.amazonaws.com",
                    "POWERTOOLS_LOG_LEVEL": "INFO",
                },
                reserved_concurrency=props.config.rotation_reserved_concurrency,
                timeout_seconds=TIMEOUT_SECONDS,
                memory_mb=MEMORY_MB,
                config=props.config,
                names=props.names,
                vpc_id=props.vpc_id,
                subnet_ids=props.subnet_ids,
                endpoints_security_group=props.endpoints_security_group,
                environment_key=props.secret_key,
                logs_key=props.logs_key,
                region=props.region,
                account_id=props.account_id,
                partition=props.partition,
            ),
        )
        self.function = rotation.function
        self.security_group = rotation.security_group
        permission = LambdaPermission(
            self,
            "secretsmanager_invoke",
            action="lambda:InvokeFunction",
            function_name=self.function.function_name,
            principal="secretsmanager.amazonaws.com",
            source_account=props.account_id,
            source_arn=props.secret_arn,
        )
        SecretsmanagerSecretRotation(
            self,
            "schedule",
            secret_id=props.secret_arn,
            rotation_lambda_arn=self.function.arn,
            rotation_rules=SecretsmanagerSecretRotationRotationRules(automatically_after_days=props.rotation_days),
            depends_on=[permission],
        )

    @staticmethod
    def _statements(props: RotationProps) -> list[Statement]:
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
                "Resource": props.secret_arn,
            },
            {
                "Sid": "ReadTheMasterSecret",
                "Effect": "Allow",
                "Action": ["secretsmanager:GetSecretValue"],
                "Resource": props.master_secret_arn,
            },
            {
                "Sid": "SecretKeysThroughSecretsManager",
                "Effect": "Allow",
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": [props.secret_key.arn, props.master_key.arn],
                "Condition": {"StringEquals": {"kms:ViaService": f"secretsmanager.{props.region}.amazonaws.com"}},
            },
        ]
