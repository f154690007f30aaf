"""The VPC: tiered subnets over several AZs, NAT per mode, a stripped default SG, and flow logs.

Tiers: public (IGW route; no auto-assigned public IPs), private (NAT route when NAT is on), and
an optional isolated database tier with its own route tables and no route out of the VPC.
Security groups for workloads are created by the layers that own them, never here.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from cdktn_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktn_provider_aws.default_security_group import DefaultSecurityGroup
from cdktn_provider_aws.eip import Eip
from cdktn_provider_aws.flow_log import FlowLog, FlowLogDestinationOptions
from cdktn_provider_aws.internet_gateway import InternetGateway
from cdktn_provider_aws.kms_key import KmsKey
from cdktn_provider_aws.nat_gateway import NatGateway
from cdktn_provider_aws.route import Route
from cdktn_provider_aws.route_table import RouteTable
from cdktn_provider_aws.route_table_association import RouteTableAssociation
from cdktn_provider_aws.subnet import Subnet
from cdktn_provider_aws.vpc import Vpc
from constructs import Construct

from lib.core.bucket import SecureBucket, grant_log_delivery
from lib.core.context import StackContext
from lib.core.iam import service_role
from lib.core.log_group import encrypted_log_group

FLOW_LOG_AGGREGATION_SECONDS = 60
# The CloudWatch copy's record format: flow logs' default (version 2) fields, stated, so the saved
# query parses exactly the fields delivered (name in the query -> flow log field).
FLOW_LOG_FIELDS = {
    "version": "version",
    "accountId": "account-id",
    "interfaceId": "interface-id",
    "srcAddr": "srcaddr",
    "dstAddr": "dstaddr",
    "srcPort": "srcport",
    "dstPort": "dstport",
    "protocol": "protocol",
    "packets": "packets",
    "bytes": "bytes",
    "start": "start",
    "end": "end",
    "action": "action",
    "logStatus": "log-status",
}
FLOW_LOG_FORMAT = " ".join(f"${{{field}}}" for field in FLOW_LOG_FIELDS.values())


@dataclass(frozen=True, kw_only=True)
class NetworkProps:
    # Required when the config names the matching flow-log destination.
    flow_log_bucket: SecureBucket | None = None
    logs_key: KmsKey | None = None


class Network(Construct):
    """VPC and subnets; exposes ids other layers place their resources in."""

    def __init__(self, scope: Construct, construct_id: str, context: StackContext, props: NetworkProps) -> None:
        super().__init__(scope, construct_id)
        config, names = context.config.network, context.names
        self._names, self._context = names, context
        zones = context.config.zones
        self.vpc = Vpc(
            self,
            "vpc",
            cidr_block=config.cidr_block,
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags={"Name": names.make("vpc_resource", "vpc")},
        )
        DefaultSecurityGroup(
            self, "default_sg_no_rules", vpc_id=self.vpc.id, tags={"Name": names.make("vpc_resource", "default-deny")}
        )
        self.internet_gateway = InternetGateway(
            self, "igw", vpc_id=self.vpc.id, tags={"Name": names.make("vpc_resource", "igw")}
        )

        def subnets(tier: str, offset: int) -> list[Subnet]:
            network = ipaddress.ip_network(config.cidr_block)
            blocks = list(network.subnets(new_prefix=24))
            return [
                Subnet(
                    self,
                    f"{tier}_{az}",
                    vpc_id=self.vpc.id,
                    cidr_block=str(blocks[offset + az]),
                    availability_zone=zones[az],
                    map_public_ip_on_launch=False,
                    tags={"Name": names.make("vpc_resource", tier, str(az + 1)), "Tier": tier},
                )
                for az in range(len(zones))
            ]

        self.public_subnets = subnets("public", config.public_offset)
        self.private_subnets = subnets("private", config.private_offset)
        self.database_subnets = subnets("database", config.database_offset) if config.isolated_database_tier else []

        public_table = self._route_table("public")
        Route(
            self,
            "public_default",
            route_table_id=public_table.id,
            destination_cidr_block="0.0.0.0/0",
            gateway_id=self.internet_gateway.id,
        )
        for az, subnet in enumerate(self.public_subnets):
            RouteTableAssociation(self, f"public_{az}_rt", subnet_id=subnet.id, route_table_id=public_table.id)

        self.nat_gateways = self._nat_gateways(config.nat_mode, len(zones))
        self.private_route_tables = []
        for az, subnet in enumerate(self.private_subnets):
            table = self._route_table("private", az)
            if self.nat_gateways:
                nat = self.nat_gateways[az % len(self.nat_gateways)]
                Route(
                    self,
                    f"private_{az}_default",
                    route_table_id=table.id,
                    destination_cidr_block="0.0.0.0/0",
                    nat_gateway_id=nat.id,
                )
            RouteTableAssociation(self, f"private_{az}_rt", subnet_id=subnet.id, route_table_id=table.id)
            self.private_route_tables.append(table)

        # Isolated: these tables never get a 0.0.0.0/0 route; only gateway endpoints are added.
        self.database_route_tables = []
        for az, subnet in enumerate(self.database_subnets):
            table = self._route_table("database", az)
            RouteTableAssociation(self, f"database_{az}_rt", subnet_id=subnet.id, route_table_id=table.id)
            self.database_route_tables.append(table)

        self.flow_logs: list[FlowLog] = []
        # The CloudWatch destination's group (None where flow logs go to S3 only).
        self.flow_log_group: CloudwatchLogGroup | None = None
        if "s3" in config.flow_log_destinations:
            self._flow_logs_to_s3(props)
        if "cloudwatch" in config.flow_log_destinations:
            self._flow_logs_to_cloudwatch(props)

    @property
    def cidr_block(self) -> str:
        return self.vpc.cidr_block

    def _route_table(self, tier: str, az: int | None = None) -> RouteTable:
        """Construct ids count AZs from 0 like the subnets; names count from 1 like the docs."""
        construct_id = f"{tier}_table" if az is None else f"{tier}_{az}_table"
        name_parts = [tier] if az is None else [tier, str(az + 1)]
        return RouteTable(
            self, construct_id, vpc_id=self.vpc.id, tags={"Name": self._names.make("vpc_resource", *name_parts, "rt")}
        )

    def _nat_gateways(self, mode: str, zone_count: int) -> list[NatGateway]:
        count = {"none": 0, "single": 1, "per_az": zone_count}[mode]
        gateways = []
        for az in range(count):
            eip = Eip(
                self,
                f"nat_{az}_eip",
                domain="vpc",
                tags={"Name": self._names.make("vpc_resource", "nat-eip", str(az + 1))},
            )
            gateways.append(
                NatGateway(
                    self,
                    f"nat_{az}",
                    allocation_id=eip.allocation_id,
                    subnet_id=self.public_subnets[az].id,
                    tags={"Name": self._names.make("vpc_resource", "nat", str(az + 1))},
                    depends_on=[self.internet_gateway],
                )
            )
        return gateways

    def _flow_logs_to_s3(self, props: NetworkProps) -> None:
        bucket = props.flow_log_bucket
        if bucket is None:
            raise ValueError("flow logs to S3 need NetworkProps.flow_log_bucket")
        grant_log_delivery(bucket, self._context)
        self._flow_log(
            "s3",
            bucket.arn,
            destination_options=FlowLogDestinationOptions(
                file_format="parquet", hive_compatible_partitions=True, per_hour_partition=True
            ),
        )

    def _flow_logs_to_cloudwatch(self, props: NetworkProps) -> None:
        if props.logs_key is None:
            raise ValueError("flow logs to CloudWatch need NetworkProps.logs_key")
        names, context = self._names, self._context
        self.flow_log_group = log_group = encrypted_log_group(
            self,
            "flow_log_group",
            name=names.path("log_group", "vpc-flow-logs"),
            key=props.logs_key,
            retention_days=context.config.network.flow_log_cloudwatch_retention_days,
        )
        role = service_role(
            self,
            "flow_log_role",
            name=names.make("iam_role", "flow-logs"),
            description="VPC flow logs delivery to CloudWatch Logs",
            service=context.principal("vpc-flow-logs"),
            account_id=context.account_id,
            source_arn=context.arn("ec2", "vpc-flow-log/*"),
            policy_name="deliver-to-flow-log-group",
            statements=[
                {
                    "Effect": "Allow",
                    "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                    "Resource": [log_group.arn, f"{log_group.arn}:*"],
                }
            ],
        )
        self._flow_log("cloud-watch-logs", log_group.arn, iam_role_arn=role.arn, log_format=FLOW_LOG_FORMAT)

    def _flow_log(self, destination_type: str, destination: str, **options: Any) -> None:
        """All traffic, aggregated every minute, to one destination."""
        short = "s3" if destination_type == "s3" else "cloudwatch"
        self.flow_logs.append(
            FlowLog(
                self,
                f"flow_log_{short}",
                vpc_id=self.vpc.id,
                traffic_type="ALL",
                log_destination_type=destination_type,
                log_destination=destination,
                max_aggregation_interval=FLOW_LOG_AGGREGATION_SECONDS,
                tags={"Name": self._names.make("vpc_resource", f"flow-log-{short}")},
                **options,
            )
        )
