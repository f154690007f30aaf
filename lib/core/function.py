"""One building block for every Python Lambda function of the platform.

Each function gets: its own security group (no egress but HTTPS to the VPC endpoints and the
gateway endpoints its policy uses, plus what its tier admits), the private subnets, a
KMS-encrypted log group retained per profile, a role trusted only by Lambda in this account with
the function's own statements plus its logs, the ENIs Lambda needs in the VPC and X-Ray writes,
active tracing, reserved concurrency, environment encrypted with a CMK (configuration only, never
secrets), and a zip built reproducibly at synth from its source directories, its contract modules
and locked packages. With code signing on (the default), the zip and TAP's Powertools layer are
deployed signed, under the stack's enforcing code signing config (`signing.py`); with it off, the
zip is deployed as it is, with AWS's published Powertools layer for the region's partition.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cdktn import AssetType, TerraformAsset
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

from lib.config import LambdaConfig
from lib.core import packaging
from lib.core.context import AccountContext, BaselineContext, StackContext
from lib.core.iam import service_role
from lib.core.log_group import encrypted_log_group
from lib.core.naming import Names
from lib.core.packaging import BUILD_DIR
from lib.core.policies import Statement
from lib.core.security_groups import HTTPS, allow, allow_gateway, workload_security_group
from lib.core.signing import CodeSigning
from lib.regions import Region

LIB_ROOT = Path(__file__).resolve().parent.parent
LAMBDA_ROOT = LIB_ROOT / "lambda"


def powertools_layer_arn(config: LambdaConfig, region: Region) -> str:
    """AWS's published Powertools for AWS Lambda (Python) v3 layer, from the partition's publishing account."""
    if region.powertools_account is None:
        raise ValueError(f"AWS publishes no Powertools layer in {region.name}")
    runtime = config.runtime.replace(".", "")
    layer = f"AWSLambdaPowertoolsPythonV3-{runtime}-{config.architecture}"
    return (
        f"arn:{region.partition.name}:lambda:{region.name}:{region.powertools_account}:layer:{layer}:"
        f"{config.powertools_layer_version}"
    )


def contract_files(contracts: Sequence[str]) -> dict[str, Path]:
    """The contract modules (and their package files) at the same import path as in the repository."""
    files = {
        "lib/__init__.py": LIB_ROOT / "__init__.py",
        "lib/contracts/__init__.py": LIB_ROOT / "contracts" / "__init__.py",
    }
    for contract in contracts:
        files[f"lib/contracts/{contract}.py"] = LIB_ROOT / "contracts" / f"{contract}.py"
    return files if contracts else {}


@dataclass(frozen=True, kw_only=True)
class FunctionPlacement:
    """Where a function runs and how it reaches AWS APIs (from the foundation tier)."""

    vpc_id: str
    subnet_ids: Sequence[str]
    endpoints_security_group: SecurityGroup
    # Gateway endpoint service -> prefix list id; egress is opened for those the policy uses.
    gateway_prefix_lists: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class FunctionProps:
    purpose: str  # e.g. "payment-validation": names the function, role, SG and log group
    description: str
    handler: str
    source_dirs: Sequence[str]  # under lib/lambda/, copied to the zip root
    # Contract modules under lib/contracts/ the code imports (packaged at the same import path).
    contracts: Sequence[str] = ()
    distributions: Sequence[str] = ()
    statements: Sequence[Statement] = ()
    environment: Mapping[str, str] = field(default_factory=dict)
    reserved_concurrency: int
    timeout_seconds: int = 30
    memory_mb: int = 512
    dead_letter_queue_arn: str | None = None
    # None only in a stack without a VPC (the account baseline): the function then calls AWS's
    # public endpoints, and the reachability check refuses it in any stack that has a VPC.
    placement: FunctionPlacement | None
    environment_key: KmsKey
    logs_key: KmsKey


@dataclass(frozen=True, kw_only=True)
class Code:
    """Where a function's code comes from: a local zip, or a signed copy in S3 with its config."""

    layers: list[str]
    filename: str | None = None
    s3_bucket: str | None = None
    s3_key: str | None = None
    code_signing_config_arn: str | None = None


class PythonFunction(Construct):
    """`function`, `role` and `security_group` are what other layers wire to."""

    def __init__(
        self, scope: Construct, construct_id: str, context: StackContext | BaselineContext, props: FunctionProps
    ) -> None:
        super().__init__(scope, construct_id)
        names, config, placement = context.names, context.config.lambdas, props.placement
        self.function_name = names.make("lambda_function", props.purpose)
        # Powertools' service name: the `service` dimension of the function's metrics.
        self.service = props.purpose
        self._security_group = self._network(names, props, placement) if placement is not None else None
        self.log_group = log_group = encrypted_log_group(
            self,
            "log_group",
            name=names.record("log_group", f"/aws/lambda/{self.function_name}"),
            key=props.logs_key,
            retention_days=config.log_retention_days,
        )
        self.role = service_role(
            self,
            "role",
            name=names.make("iam_role", props.purpose),
            description=props.description,
            service=context.principal("lambda"),
            account_id=context.account_id,
            policy_name=props.purpose,
            statements=[*props.statements, *self._runtime_statements(context, placement, log_group.arn)],
        )
        package = packaging.build(
            [LAMBDA_ROOT / d for d in props.source_dirs],
            props.distributions,
            BUILD_DIR,
            extra_files=contract_files(props.contracts),
        )
        code = self._code(context, props.purpose, package)
        self.function = LambdaFunction(
            self,
            "function",
            function_name=self.function_name,
            description=props.description,
            role=self.role.arn,
            runtime=config.runtime,
            architectures=[config.architecture],
            handler=props.handler,
            filename=code.filename,
            s3_bucket=code.s3_bucket,
            s3_key=code.s3_key,
            code_signing_config_arn=code.code_signing_config_arn,
            layers=code.layers,
            source_code_hash=package.sha256_base64,
            timeout=props.timeout_seconds,
            memory_size=props.memory_mb,
            reserved_concurrent_executions=props.reserved_concurrency,
            kms_key_arn=props.environment_key.arn,
            environment=LambdaFunctionEnvironment(
                variables={"POWERTOOLS_SERVICE_NAME": props.purpose, **props.environment}
            ),
            vpc_config=LambdaFunctionVpcConfig(
                subnet_ids=list(placement.subnet_ids), security_group_ids=[self.security_group.id]
            )
            if placement is not None
            else None,
            tracing_config=LambdaFunctionTracingConfig(mode="Active"),
            logging_config=LambdaFunctionLoggingConfig(log_format="JSON", log_group=log_group.name),
            dead_letter_config=LambdaFunctionDeadLetterConfig(target_arn=props.dead_letter_queue_arn)
            if props.dead_letter_queue_arn
            else None,
            depends_on=[log_group],
        )

    def _code(self, context: StackContext | BaselineContext, purpose: str, package: packaging.LambdaPackage) -> Code:
        """The signed copy and TAP's signed layer, or (code signing off) the zip and AWS's layer."""
        config = context.config.lambdas
        if not config.code_signing:
            asset = TerraformAsset(self, "code", path=str(package.path), type=AssetType.FILE)
            return Code(filename=asset.path, layers=[powertools_layer_arn(config, context.region)])
        signing = CodeSigning.of(self)
        if signing is None:
            raise ValueError(f"{self.function_name}: code signing is on, but its stack has no CodeSigning")
        signed = signing.sign(self, "code", package, purpose)
        return Code(
            s3_bucket=signed.bucket,
            s3_key=signed.key,
            code_signing_config_arn=signing.config.arn,
            layers=[signing.powertools_layer.arn],
        )

    @property
    def security_group(self) -> SecurityGroup:
        if self._security_group is None:
            raise AttributeError(f"{self.function_name} runs outside a VPC: it has no security group")
        return self._security_group

    def _network(self, names: Names, props: FunctionProps, placement: FunctionPlacement) -> SecurityGroup:
        """The function's own group: HTTPS to the VPC endpoints and the gateways its policy uses."""
        security_group = workload_security_group(
            self,
            "security_group",
            names=names,
            vpc_id=placement.vpc_id,
            purpose=props.purpose,
            description=f"{props.description}: Lambda",
        )
        allow(
            self,
            "to_endpoints",
            source=security_group,
            target=placement.endpoints_security_group,
            port=HTTPS,
            description="AWS APIs via VPC endpoints",
        )
        used = {action.split(":")[0] for s in props.statements for action in _actions(s)}
        for service, prefix_list in sorted(placement.gateway_prefix_lists.items()):
            if service in used:
                allow_gateway(self, f"to_{service}", source=security_group, prefix_list_id=prefix_list, service=service)
        return security_group

    @staticmethod
    def _runtime_statements(
        context: AccountContext, placement: FunctionPlacement | None, log_group_arn: str
    ) -> list[Statement]:
        own_logs: Statement = {
            "Sid": "OwnLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": [log_group_arn, f"{log_group_arn}:*"],
        }
        traces: Statement = {
            # X-Ray writes have no resource-level permissions: "*" is the only form AWS accepts.
            "Sid": "WriteTraces",
            "Effect": "Allow",
            "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
            "Resource": "*",
        }
        if placement is None:
            return [own_logs, traces]
        return [
            own_logs,
            {
                "Sid": "VpcNetworkInterfaces",
                "Effect": "Allow",
                "Action": [
                    "ec2:CreateNetworkInterface",
                    "ec2:DeleteNetworkInterface",
                    "ec2:AssignPrivateIpAddresses",
                    "ec2:UnassignPrivateIpAddresses",
                ],
                "Resource": context.arn("ec2", "*"),
                "Condition": {"StringEquals": {"ec2:Vpc": context.arn("ec2", f"vpc/{placement.vpc_id}")}},
            },
            {
                # Describe* and X-Ray writes have no resource-level permissions: "*" is the only form AWS accepts.
                "Sid": "DescribeInterfacesAndWriteTraces",
                "Effect": "Allow",
                "Action": ["ec2:DescribeNetworkInterfaces", "xray:PutTraceSegments", "xray:PutTelemetryRecords"],
                "Resource": "*",
            },
        ]


def _actions(statement: Statement) -> list[str]:
    actions = statement.get("Action", [])
    return [actions] if isinstance(actions, str) else list(actions)
