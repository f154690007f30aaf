"""The foundation tier: keys, storage, signed code, network, VPC endpoints and the application tier's group.

Later tiers take what they need from `placement` (where workloads go and which groups they
reach AWS through) and `keys`; they never reach into the layers themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cdktn_provider_aws.kms_key import KmsKey
from cdktn_provider_aws.security_group import SecurityGroup
from constructs import Construct

from lib.config import KeyPurpose
from lib.core.context import StackContext
from lib.core.function import FunctionPlacement
from lib.core.queries import Query, lines
from lib.core.signing import CodeSigning, CodeSigningProps
from lib.core.tier import Tier
from lib.foundation.application_tier import application_security_group
from lib.foundation.endpoints import VpcEndpoints
from lib.foundation.keys import EncryptionKeys
from lib.foundation.network import FLOW_LOG_FIELDS, Network, NetworkProps
from lib.foundation.storage import Storage


@dataclass(frozen=True, kw_only=True)
class Placement:
    """Where workloads run and how they reach AWS: what every later tier places resources with."""

    vpc_id: str
    # The zones subnets are in, in order: later tiers spread instances and targets over them.
    zones: tuple[str, ...]
    public_subnet_ids: list[str]
    private_subnet_ids: list[str]
    # The isolated database subnets where the profile has them, else the private ones.
    data_subnet_ids: list[str]
    # The instances' group (None without compute): data stores admit it where instances connect.
    application_security_group: SecurityGroup | None
    # None only when the profile has no interface endpoints (validation requires them for functions).
    endpoints_security_group: SecurityGroup | None
    gateway_prefix_lists: dict[str, str] = field(default_factory=dict)

    def for_functions(self, who: str) -> FunctionPlacement:
        """Functions run in the private subnets and reach AWS through the endpoints."""
        if self.endpoints_security_group is None:
            raise ValueError(f"{who} reach AWS APIs through interface endpoints; the profile has none")
        return FunctionPlacement(
            vpc_id=self.vpc_id,
            subnet_ids=self.private_subnet_ids,
            endpoints_security_group=self.endpoints_security_group,
            gateway_prefix_lists=self.gateway_prefix_lists,
        )


def rejected_traffic(flow_log_group: str) -> Query:
    """002: rejected traffic by source, from the flow logs' CloudWatch copy (parsed by its format)."""
    wildcards = " ".join("*" for _ in FLOW_LOG_FIELDS)
    return Query(
        title="Rejected traffic by source",
        log_groups=[flow_log_group],
        text=lines(
            f'parse @message "{wildcards}" as {", ".join(FLOW_LOG_FIELDS)}',
            'filter action = "REJECT"',
            "stats count(*) as rejected by srcAddr, dstPort",
            "sort rejected desc",
            "limit 50",
        ),
    )


class Keys:
    """The customer-managed keys by purpose."""

    def __init__(self, keys: EncryptionKeys) -> None:
        self._keys = keys

    def __call__(self, purpose: KeyPurpose) -> KmsKey:
        return self._keys.key(purpose)

    def get(self, purpose: KeyPurpose) -> KmsKey | None:
        return self._keys.keys.get(purpose)

    @property
    def all(self) -> dict[KeyPurpose, KmsKey]:
        return dict(self._keys.keys)


class FoundationTier(Tier):
    def __init__(self, scope: Construct, construct_id: str, context: StackContext) -> None:
        super().__init__(scope, construct_id, context)
        config = context.config
        self.encryption_keys = EncryptionKeys(self, "keys", context, config.key_purposes)
        self.keys = Keys(self.encryption_keys)
        self.storage = Storage(self, "storage", context, self.keys("s3"))
        # Before any tier builds a function: each deploys its code signed by this stack's profile.
        self.code_signing = (
            CodeSigning(
                self,
                "code_signing",
                context,
                CodeSigningProps(
                    bucket_name=context.names.make("s3_bucket", "lambda-code"),
                    key=self.keys("s3"),
                    access_log_bucket=self.storage.access_logs.bucket,
                ),
            )
            if config.lambdas.code_signing
            else None
        )
        destinations = config.network.flow_log_destinations
        self.network = Network(
            self,
            "network",
            context,
            NetworkProps(
                flow_log_bucket=self.storage.bucket("flow_logs") if "s3" in destinations else None,
                logs_key=self.keys("logs") if "cloudwatch" in destinations else None,
            ),
        )
        network = self.network
        private = [s.id for s in network.private_subnets]
        self.endpoints = VpcEndpoints(
            self,
            "endpoints",
            context,
            vpc_id=network.vpc.id,
            subnet_ids=private,
            route_table_ids=[t.id for t in network.private_route_tables + network.database_route_tables],
        )
        self.placement = Placement(
            vpc_id=network.vpc.id,
            zones=config.zones,
            public_subnet_ids=[s.id for s in network.public_subnets],
            private_subnet_ids=private,
            data_subnet_ids=[s.id for s in network.database_subnets] or private,
            application_security_group=(
                application_security_group(self, context, network.vpc.id) if config.compute is not None else None
            ),
            endpoints_security_group=self.endpoints.security_group,
            gateway_prefix_lists=self.endpoints.gateway_prefix_lists,
        )
        self._contribute()

    def _contribute(self) -> None:
        network, placement = self.network, self.placement
        if network.flow_log_group is not None:
            self.save_query("rejected_traffic", rejected_traffic(network.flow_log_group.name))
        self.export("vpc_id", network.vpc.id)
        self.export("public_subnet_ids", placement.public_subnet_ids)
        self.export("private_subnet_ids", placement.private_subnet_ids)
        if network.database_subnets:
            self.export("database_subnet_ids", [s.id for s in network.database_subnets])
        audit_logs = self.storage.buckets.get("audit_logs")
        if audit_logs is not None:
            # Document 004's audit records of payments: every object read and write is recorded.
            self.record_data_events("audit_logs", "AWS::S3::Object", f"{audit_logs.arn}/")
        self.export("bucket_names", {p: b.name for p, b in self.storage.buckets.items()})
        self.export("access_log_bucket_name", self.storage.access_logs.name)
        self.export("kms_key_arns", {p: k.arn for p, k in self.keys.all.items()})
        if placement.endpoints_security_group is not None:
            self.export("vpc_endpoint_security_group_id", placement.endpoints_security_group.id)
        if placement.application_security_group is not None:
            self.export("app_security_group_id", placement.application_security_group.id)
