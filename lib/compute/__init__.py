"""The compute tier: instances that run TAP's health service behind the load balancer.

- `Release`: the service's artifact (`artifact.py`), built reproducibly at synth and stored in a
  versioned, KMS-encrypted bucket under its SHA-256 name; the user data fetches exactly that
  object and refuses other bytes.
- One instance role for every fleet, allowed to read exactly the database's application secret
  and the release object (and to decrypt each through its own service only), and to write its
  streams of the application log group (`logs.py`). No SSH key, no Session Manager: instances
  are replaced, not logged into.
- Fleets (`fleet.py`): "web" behind the load balancer, or "blue" and "green" for blue/green,
  plus document 002's "batch" fleet outside it.
- Instances run in the application tier's group in the private subnets. It reaches the database
  (admitted by the data tier), Secrets Manager and CloudWatch Logs through their endpoints and S3
  (the release and Amazon Linux's package repositories) through the gateway endpoint, and nothing
  else.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cdktn import AssetType, TerraformAsset
from cdktn_provider_aws.data_aws_ssm_parameter import DataAwsSsmParameter
from cdktn_provider_aws.iam_instance_profile import IamInstanceProfile
from cdktn_provider_aws.iam_role import IamRole
from cdktn_provider_aws.iam_role_policy import IamRolePolicy
from cdktn_provider_aws.kms_key import KmsKey
from cdktn_provider_aws.lb_target_group import LbTargetGroup
from cdktn_provider_aws.s3_bucket import S3Bucket
from cdktn_provider_aws.s3_object import S3Object
from constructs import Construct

from lib.compute import artifact
from lib.compute.fleet import Fleet, FleetProps
from lib.compute.logs import ApplicationLogs, ApplicationLogsProps
from lib.config import BucketLifecycle, FleetConfig
from lib.contracts import health
from lib.core.alarms import AGENT_NAMESPACE, Alarm, delivery_stream_alarms, instance_group_alarms
from lib.core.bucket import SecureBucket, SecureBucketProps
from lib.core.context import StackContext
from lib.core.policies import assume_role_policy, key_use, policy_document
from lib.core.security_groups import HTTPS, allow, allow_gateway
from lib.core.tier import Tier
from lib.data.database import AuroraDatabase
from lib.foundation import Keys, Placement

BUILD_DIR = Path(__file__).resolve().parents[2] / ".build" / "compute"
# AWS's public parameters naming the current Amazon Linux 2023 AMI, per architecture.
AMI_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-{architecture}"
# Graviton families carry a "g" after their generation (t4g, m7g, c7gn): they take the arm64 AMI.
GRAVITON = re.compile(r"[a-z]+\d+[a-z]*g[a-z]*\.")


def architecture(instance_type: str) -> str:
    return "arm64" if GRAVITON.match(instance_type) else "x86_64"


@dataclass(frozen=True, kw_only=True)
class ComputeProps:
    placement: Placement
    keys: Keys
    access_log_bucket: S3Bucket
    database: AuroraDatabase
    # The load balancer's target groups by colour ("web", or "blue" and "green").
    target_groups: Mapping[str, LbTargetGroup]
    # Where a copy of the application logs goes (document 003's app-logs bucket); None: CloudWatch only.
    app_logs_bucket: SecureBucket | None = None


class Release(Construct):
    """The artifact's object in its bucket; `object_arn` is all an instance may read from S3."""

    def __init__(
        self, scope: Construct, construct_id: str, context: StackContext, *, key: KmsKey, access_log_bucket: S3Bucket
    ) -> None:
        super().__init__(scope, construct_id)
        self.artifact = artifact.build(BUILD_DIR)
        self.bucket_name = context.names.make("s3_bucket", "releases")
        self.bucket = SecureBucket(
            self,
            "bucket",
            context.lifecycle,
            SecureBucketProps(
                name=self.bucket_name,
                # Releases are rebuilt from the repository; earlier ones stay a month for rollback.
                lifecycle=BucketLifecycle(noncurrent_expire_after_days=30),
                kms_key=key,
                access_log_bucket=access_log_bucket,
            ),
        )
        asset = TerraformAsset(self, "artifact", path=str(self.artifact.path), type=AssetType.FILE)
        self.object = S3Object(
            self,
            "object",
            bucket=self.bucket.name,
            key=self.artifact.key,
            source=asset.path,
            source_hash=self.artifact.sha256,
            content_type="application/zip",
            server_side_encryption="aws:kms",
            kms_key_id=key.arn,
            depends_on=[self.bucket.policy_resource],
        )
        self.object_arn = f"{self.bucket.arn}/{self.artifact.key}"


def health_alarms(service: str) -> dict[str, Alarm]:
    """Document 003: errors in the application's log, and its performance metrics (p99, never an
    average). A few errors in five minutes are a blip (a failover answers 503 for seconds); more
    than five are not. No data means no requests or checks: the load balancer's alarms cover that."""
    dimensions = {health.SERVICE_DIMENSION: service}

    def slow(metric: str, what: str) -> Alarm:
        return Alarm(
            description=f"{service}: {what} p99 above 1 s",
            namespace=health.NAMESPACE,
            metric=metric,
            dimensions=dimensions,
            statistic=None,
            extended_statistic="p99",
            threshold=1000,
            treat_missing_data="notBreaching",
        )

    return {
        "errors": Alarm(
            description=f"{service}: more than 5 errors in 5 minutes",
            namespace=health.NAMESPACE,
            metric=health.APPLICATION_ERRORS,
            dimensions=dimensions,
            statistic="Sum",
            threshold=5,
            evaluation_periods=1,
            treat_missing_data="notBreaching",
        ),
        "latency_p99": slow(health.REQUEST_LATENCY, "request latency"),
        "database_check_p99": slow(health.DATABASE_CHECK_TIME, "database check time"),
    }


class ComputeTier(Tier):
    def __init__(self, scope: Construct, construct_id: str, context: StackContext, props: ComputeProps) -> None:
        super().__init__(scope, construct_id, context)
        config, placement, keys = context.config.compute, props.placement, props.keys
        app_sg = placement.application_security_group
        if config is None or app_sg is None or placement.endpoints_security_group is None:
            raise ValueError("the compute tier needs compute, its group and interface endpoints (validated)")
        self.release = Release(self, "release", context, key=keys("s3"), access_log_bucket=props.access_log_bucket)
        # The `service` of the health service's log lines and metrics in this environment.
        self.service_name = f"{context.names.prefix}-health-{context.names.suffix}"
        self.logs = ApplicationLogs(
            self,
            "logs",
            context,
            ApplicationLogsProps(logs_key=keys("logs"), s3_key=keys("s3"), bucket=props.app_logs_bucket),
        )
        self.instance_profile = self._instance_profile(context, props)
        allow(
            self,
            "to_endpoints",
            source=app_sg,
            target=placement.endpoints_security_group,
            port=HTTPS,
            description="AWS APIs (Secrets Manager) through the interface endpoints",
        )
        allow_gateway(self, "to_s3", source=app_sg, prefix_list_id=placement.gateway_prefix_lists["s3"], service="s3")
        images: dict[str, str] = {}
        fleets: dict[str, tuple[FleetConfig, tuple[str, ...]]] = {
            colour: (config.web, (group.arn,)) for colour, group in props.target_groups.items()
        }
        if config.batch is not None:
            fleets["batch"] = (config.batch, ())
        self.fleets: dict[str, Fleet] = {}
        for role, (fleet, target_groups) in fleets.items():
            arch = architecture(fleet.instance_type)
            if arch not in images:
                images[arch] = DataAwsSsmParameter(
                    self, f"ami_{arch}", name=AMI_PARAMETER.format(architecture=arch)
                ).value
            self.fleets[role] = Fleet(
                self,
                role,
                context,
                FleetProps(
                    config=fleet,
                    role=role,
                    image_id=images[arch],
                    install=artifact.InstallSettings(
                        region=context.region_name,
                        bucket=self.release.bucket_name,
                        artifact=self.release.artifact,
                        db_secret_id=props.database.app_secret_name,
                        log_group=self.logs.group_name,
                        service=self.service_name,
                        colour=role,
                    ),
                    subnet_ids=placement.private_subnet_ids,
                    security_group=app_sg,
                    instance_profile=self.instance_profile,
                    volume_key=keys("compute"),
                    target_group_arns=target_groups,
                    launch_after=[self.release.object],
                ),
            )
        for role, built in self.fleets.items():
            self.watch(role, instance_group_alarms(built.group.name))
        self.watch("health", health_alarms(self.service_name))
        if self.logs.stream is not None:
            self.watch("app_logs_stream", delivery_stream_alarms(self.logs.stream.name))
        self._contribute()

    def _instance_profile(self, context: StackContext, props: ComputeProps) -> IamInstanceProfile:
        names, keys = context.names, props.keys
        role = IamRole(
            self,
            "instance_role",
            name=names.make("iam_role", "instances"),
            description="Health-service instances: the database secret, the release object and their log group",
            # EC2 supplies no aws:SourceAccount when it assumes an instance role, so the trust
            # names the service only; who may pass the role is IAM's iam:PassRole.
            assume_role_policy=json.dumps(assume_role_policy(context.principal("ec2"), None)),
        )
        IamRolePolicy(
            self,
            "instance_role_policy",
            role=role.id,
            name="health-service",
            policy=json.dumps(
                policy_document(
                    [
                        {
                            "Sid": "ReadTheDatabaseSecret",
                            "Effect": "Allow",
                            "Action": ["secretsmanager:GetSecretValue"],
                            "Resource": props.database.app_secret.arn,
                        },
                        key_use(
                            "DecryptTheSecret",
                            ["kms:Decrypt"],
                            keys("secrets").arn,
                            [context.region.service_host("secretsmanager")],
                        ),
                        {
                            "Sid": "ReadTheRelease",
                            "Effect": "Allow",
                            "Action": ["s3:GetObject"],
                            "Resource": self.release.object_arn,
                        },
                        key_use(
                            "DecryptTheRelease", ["kms:Decrypt"], keys("s3").arn, [context.region.service_host("s3")]
                        ),
                        {
                            # The CloudWatch agent: its streams in the application log group only.
                            "Sid": "ShipApplicationLogs",
                            "Effect": "Allow",
                            "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                            "Resource": [self.logs.group.arn, f"{self.logs.group.arn}:log-stream:*"],
                        },
                        {
                            # The CloudWatch agent's memory metrics (002). PutMetricData has no
                            # resource-level permissions: "*" with its namespace pinned instead.
                            "Sid": "PublishAgentMetrics",
                            "Effect": "Allow",
                            "Action": ["cloudwatch:PutMetricData"],
                            "Resource": "*",
                            "Condition": {"StringEquals": {"cloudwatch:namespace": AGENT_NAMESPACE}},
                        },
                    ]
                )
            ),
        )
        return IamInstanceProfile(
            self, "instance_profile", name=names.make("instance_profile", "instances"), role=role.name
        )

    def _contribute(self) -> None:
        self.export("application_log_group", self.logs.group.name)
        if self.logs.stream is not None:
            self.export("application_log_stream", self.logs.stream.name)
        self.export("release_object", f"s3://{self.release.bucket.name}/{self.release.artifact.key}")
        self.export("autoscaling_group_names", {role: fleet.group.name for role, fleet in self.fleets.items()})
