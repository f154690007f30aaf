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
from pathlib import Path

from cdktn import AssetType, TerraformAsset
from cdktn_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktn_provider_aws.kms_key import KmsKey
from cdktn_provider_aws.lambda_function import (
    LambdaFunction,
    LambdaFunctionEnvironment,
    LambdaFunctionLoggingConfig,
    LambdaFunctionTracingConfig,
    LambdaFunctionVpcConfig,
)
from cdktn_provider_aws.lambda_permission import LambdaPermission
from cdktn_provider_aws.secretsmanager_secret_rotation import (
    SecretsmanagerSecretRotation,
    SecretsmanagerSecretRotationRotationRules,
)
from cdktn_provider_aws.security_group import SecurityGroup
from constructs import Construct

from lib import lambda_package
from lib.config import LambdaConfig
from lib.iam import service_role
from lib.naming import Names
from lib.security_groups import allow, workload_security_group

CODE_DIR = Path(__file__).parent / "lambda" / "secret_rotation"
BUILD_DIR = Path(__file__).resolve().parent.parent / ".build" / "lambda"
# Pure-Python drivers (and their dependencies) packaged with the function.
DRIVERS = ("pg8000", "scramp", "asn1crypto", "python-dateutil", "six", "PyMySQL")
TIMEOUT_SECONDS = 60
MEMORY_MB = 256
HTTPS = 443
POWERTOOLS_ACCOUNT = "017000801446"


def powertools_layer_arn(config: LambdaConfig, region: str, partition: str) -> str:
    """AWS's published Powertools for AWS Lambda (Python) v3 layer for the runtime."""
    runtime = config.runtime.replace(".", "")
    return f"arn:{partition}:lambda:{region}:{POWERTOOLS_ACCOUNT}:layer:AWSLambdaPowertoolsPythonV3-{runtime}-{config.architecture}:{config.powertools_layer_version}"


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
        names = props.names
        function_name = names.make("lambda_function", "secret-rotation")
        self.security_group = workload_security_group(
            self,
            "security_group",
            names=names,
            vpc_id=props.vpc_id,
            purpose="secret-rotation",
            description="Secret rotation Lambda: HTTPS to endpoints, database port",
        )
        allow(
            self,
            "to_endpoints",
            source=self.security_group,
            target=props.endpoints_security_group,
            port=HTTPS,
            description="AWS APIs via VPC endpoints",
        )
        log_group = CloudwatchLogGroup(
            self,
            "log_group",
            name=names.record("log_group", f"/aws/lambda/{function_name}"),
            retention_in_days=props.config.log_retention_days,
            kms_key_id=props.logs_key.arn,
        )
        role = service_role(
            self,
            "role",
            name=names.make("iam_role", "secret-rotation"),
            description="Secret rotation Lambda",
            service="lambda.amazonaws.com",
            account_id=props.account_id,
            policy_name="rotate-one-secret",
            statements=self._statements(props, log_group.arn),
        )
        package = lambda_package.build(CODE_DIR, DRIVERS, BUILD_DIR)
        asset = TerraformAsset(self, "code", path=str(package.path), type=AssetType.FILE)
        self.function = LambdaFunction(
            self,
            "function",
            function_name=function_name,
            description="Rotates the Aurora application user secret (Secrets Manager four-step protocol)",
            role=role.arn,
            runtime=props.config.runtime,
            architectures=[props.config.architecture],
            handler="app.handler",
            filename=asset.path,
            source_code_hash=package.sha256_base64,
            timeout=TIMEOUT_SECONDS,
            memory_size=MEMORY_MB,
            reserved_concurrent_executions=props.config.rotation_reserved_concurrency,
            layers=[powertools_layer_arn(props.config, props.region, props.partition)],
            kms_key_arn=props.secret_key.arn,
            environment=LambdaFunctionEnvironment(
                variables={
                    "ROTATION_STRATEGY": props.strategy,
                    "SECRETS_MANAGER_ENDPOINT": f"https://secretsmanager.{props.region}.amazonaws.com",
                    "POWERTOOLS_SERVICE_NAME": "secret-rotation",
                    "POWERTOOLS_LOG_LEVEL": "INFO",
                }
            ),
            vpc_config=LambdaFunctionVpcConfig(
                subnet_ids=list(props.subnet_ids), security_group_ids=[self.security_group.id]
            ),
            tracing_config=LambdaFunctionTracingConfig(mode="Active"),
            logging_config=LambdaFunctionLoggingConfig(log_format="JSON", log_group=log_group.name),
            depends_on=[log_group],
        )
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
    def _statements(props: RotationProps, log_group_arn: str) -> list[dict[str, object]]:
        region_account = f"{props.region}:{props.account_id}"
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
            {
                "Sid": "OwnLogs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": [log_group_arn, f"{log_group_arn}:*"],
            },
            {
                "Sid": "VpcNetworkInterfaces",
                "Effect": "Allow",
                "Action": [
                    "ec2:CreateNetworkInterface",
                    "ec2:DeleteNetworkInterface",
                    "ec2:AssignPrivateIpAddresses",
                    "ec2:UnassignPrivateIpAddresses",
                ],
                "Resource": f"arn:{props.partition}:ec2:{region_account}:*",
                "Condition": {
                    "StringEquals": {"ec2:Vpc": f"arn:{props.partition}:ec2:{region_account}:vpc/{props.vpc_id}"}
                },
            },
            {
                # Describe* and X-Ray writes have no resource-level permissions: "*" is the only form AWS accepts.
                "Sid": "DescribeInterfacesAndWriteTraces",
                "Effect": "Allow",
                "Action": ["ec2:DescribeNetworkInterfaces", "xray:PutTraceSegments", "xray:PutTelemetryRecords"],
                "Resource": "*",
            },
        ]
