"""One building block for every Python Lambda function of the platform.

Each function gets: its own security group (no egress but HTTPS to the VPC endpoints, plus what
its layer admits), the private subnets, a KMS-encrypted log group retained per profile, a role
trusted only by Lambda in this account with the function's own statements plus its logs, the
ENIs Lambda needs in the VPC and X-Ray writes, active tracing, reserved concurrency, environment
encrypted with a CMK (configuration only, never secrets), AWS's Powertools layer, and a zip built
reproducibly at synth from its source directories and locked packages.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cdktn import AssetType, TerraformAsset
from cdktn_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktn_provider_aws.kms_key import KmsKey
from cdktn_provider_aws.lambda_function import (
    LambdaFunction,
    LambdaFunctionDeadLetterConfig,
    LambdaFunctionEnvironment,
    LambdaFunctionLoggingConfig,
    LambdaFunctionTracingConfig,
    LambdaFunctionVpcConfig,
)
from cdktn_provider_aws.security_group import SecurityGroup
from constructs import Construct

from lib import lambda_package
from lib.config import LambdaConfig
from lib.iam import service_role
from lib.naming import Names
from lib.policies import Statement
from lib.security_groups import allow, workload_security_group

LAMBDA_ROOT = Path(__file__).parent / "lambda"
BUILD_DIR = Path(__file__).resolve().parent.parent / ".build" / "lambda"
HTTPS = 443
POWERTOOLS_ACCOUNT = "017000801446"


def powertools_layer_arn(config: LambdaConfig, region: str, partition: str) -> str:
    """AWS's published Powertools for AWS Lambda (Python) v3 layer for the runtime."""
    runtime = config.runtime.replace(".", "")
    layer = f"AWSLambdaPowertoolsPythonV3-{runtime}-{config.architecture}"
    return f"arn:{partition}:lambda:{region}:{POWERTOOLS_ACCOUNT}:layer:{layer}:{config.powertools_layer_version}"


@dataclass(frozen=True, kw_only=True)
class FunctionProps:
    purpose: str  # e.g. "payment-validation": names the function, role, SG and log group
    description: str
    handler: str
    source_dirs: Sequence[str]  # under lib/lambda/, copied to the zip root
    distributions: Sequence[str] = ()
    statements: Sequence[Statement] = ()
    environment: Mapping[str, str] = field(default_factory=dict)
    reserved_concurrency: int
    timeout_seconds: int = 30
    memory_mb: int = 512
    dead_letter_queue_arn: str | None = None
    config: LambdaConfig
    names: Names
    vpc_id: str
    subnet_ids: Sequence[str]
    endpoints_security_group: SecurityGroup
    environment_key: KmsKey
    logs_key: KmsKey
    region: str
    account_id: str
    partition: str


class PythonFunction(Construct):
    """`function`, `role` and `security_group` are what other layers wire to."""

    def __init__(self, scope: Construct, construct_id: str, props: FunctionProps) -> None:
        super().__init__(scope, construct_id)
        names = props.names
        self.function_name = names.make("lambda_function", props.purpose)
        self.security_group = workload_security_group(
            self,
            "security_group",
            names=names,
            vpc_id=props.vpc_id,
            purpose=props.purpose,
            description=f"{props.description}: Lambda",
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
            name=names.record("log_group", f"/aws/lambda/{self.function_name}"),
            retention_in_days=props.config.log_retention_days,
            kms_key_id=props.logs_key.arn,
        )
        self.role = service_role(
            self,
            "role",
            name=names.make("iam_role", props.purpose),
            description=props.description,
            service="lambda.amazonaws.com",
            account_id=props.account_id,
            policy_name=props.purpose,
            statements=[*props.statements, *self._runtime_statements(props, log_group.arn)],
        )
        package = lambda_package.build([LAMBDA_ROOT / d for d in props.source_dirs], props.distributions, BUILD_DIR)
        asset = TerraformAsset(self, "code", path=str(package.path), type=AssetType.FILE)
        self.function = LambdaFunction(
            self,
            "function",
            function_name=self.function_name,
            description=props.description,
            role=self.role.arn,
            runtime=props.config.runtime,
            architectures=[props.config.architecture],
            handler=props.handler,
            filename=asset.path,
            source_code_hash=package.sha256_base64,
            timeout=props.timeout_seconds,
            memory_size=props.memory_mb,
            reserved_concurrent_executions=props.reserved_concurrency,
            layers=[powertools_layer_arn(props.config, props.region, props.partition)],
            kms_key_arn=props.environment_key.arn,
            environment=LambdaFunctionEnvironment(
                variables={"POWERTOOLS_SERVICE_NAME": props.purpose, **props.environment}
            ),
            vpc_config=LambdaFunctionVpcConfig(
                subnet_ids=list(props.subnet_ids), security_group_ids=[self.security_group.id]
            ),
            tracing_config=LambdaFunctionTracingConfig(mode="Active"),
            logging_config=LambdaFunctionLoggingConfig(log_format="JSON", log_group=log_group.name),
            dead_letter_config=LambdaFunctionDeadLetterConfig(target_arn=props.dead_letter_queue_arn)
            if props.dead_letter_queue_arn
            else None,
            depends_on=[log_group],
        )

    @staticmethod
    def _runtime_statements(props: FunctionProps, log_group_arn: str) -> list[Statement]:
        region_account = f"{props.region}:{props.account_id}"
        return [
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
