"""TapStack: wires the layers of one deployment together. It builds nothing itself.

Order: provider and backend, keys, storage, network (flow logs into storage), endpoints. Each
layer receives what it needs from earlier ones through its props; layers never reach into
each other.
"""

from __future__ import annotations

from cdktn import LocalBackend, S3Backend, TerraformOutput, TerraformStack
from cdktn_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktn_provider_aws.data_aws_partition import DataAwsPartition
from cdktn_provider_aws.provider import AwsProvider, AwsProviderDefaultTags
from constructs import Construct

from lib.config import DeploymentConfig
from lib.endpoints import EndpointsProps, VpcEndpoints
from lib.keys import EncryptionKeys, KeyContext, KeysProps
from lib.naming import Names
from lib.networking import Network, NetworkProps
from lib.storage import Storage, StorageProps

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
        self._outputs()

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
