"""VPC endpoints, so workloads in private (and isolated) subnets reach AWS APIs without NAT.

Gateway endpoints (S3, DynamoDB) attach to the private and database route tables. Interface
endpoints get private DNS, one ENI per private subnet, and one security group that admits HTTPS
from inside the VPC only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cdktn_provider_aws.security_group import SecurityGroup
from cdktn_provider_aws.vpc_endpoint import VpcEndpoint
from cdktn_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from constructs import Construct

from lib.config import GatewayService, InterfaceService
from lib.naming import Names

HTTPS = 443


@dataclass(frozen=True, kw_only=True)
class EndpointsProps:
    vpc_id: str
    vpc_cidr: str
    region: str
    names: Names
    subnet_ids: Sequence[str]
    route_table_ids: Sequence[str]
    gateway_services: Sequence[GatewayService]
    interface_services: Sequence[InterfaceService]


class VpcEndpoints(Construct):
    """Endpoints keyed by service name; `security_group` is the interface endpoints' SG."""

    def __init__(self, scope: Construct, construct_id: str, props: EndpointsProps) -> None:
        super().__init__(scope, construct_id)
        names = props.names
        self._props = props
        self.endpoints: dict[str, VpcEndpoint] = {}
        for gateway in props.gateway_services:
            self._endpoint(gateway, vpc_endpoint_type="Gateway", route_table_ids=list(props.route_table_ids))
        self.security_group: SecurityGroup | None = None
        if not props.interface_services:
            return
        sg_name = names.make("security_group", "vpc-endpoints")
        # No egress rules: Terraform removes AWS's default allow-all egress, and endpoints only answer.
        self.security_group = SecurityGroup(
            self,
            "security_group",
            name=sg_name,
            description="Interface VPC endpoints: HTTPS from inside the VPC only",
            vpc_id=props.vpc_id,
            tags={"Name": sg_name},
        )
        VpcSecurityGroupIngressRule(
            self,
            "https_from_vpc",
            security_group_id=self.security_group.id,
            description="HTTPS to AWS APIs from inside the VPC",
            ip_protocol="tcp",
            from_port=HTTPS,
            to_port=HTTPS,
            cidr_ipv4=props.vpc_cidr,
        )
        for service in props.interface_services:
            self._endpoint(
                service,
                vpc_endpoint_type="Interface",
                private_dns_enabled=True,
                subnet_ids=list(props.subnet_ids),
                security_group_ids=[self.security_group.id],
            )

    def _endpoint(self, service: str, **placement: Any) -> None:
        props = self._props
        self.endpoints[service] = VpcEndpoint(
            self,
            service,
            vpc_id=props.vpc_id,
            service_name=f"com.amazonaws.{props.region}.{service}",
            tags={"Name": props.names.make("vpc_resource", service, "endpoint")},
            **placement,
        )
