"""VPC endpoints, so workloads in private (and isolated) subnets reach AWS APIs without NAT.

Gateway endpoints (S3, DynamoDB) attach to the private and database route tables; workloads
reach them through the endpoint's prefix list (`gateway_prefix_lists`). Interface endpoints get
private DNS, one ENI per private subnet, and one security group that admits HTTPS from inside
the VPC only. Every endpoint has a policy admitting only this account's principals, and, where
every call of the service names a resource, only this account's resources.
"""

from __future__ import annotations

import json
from typing import Any

from cdktn_provider_aws.security_group import SecurityGroup
from cdktn_provider_aws.vpc_endpoint import VpcEndpoint
from cdktn_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from constructs import Construct

from lib.core.context import StackContext
from lib.core.policies import policy_document
from lib.core.security_groups import HTTPS

# The IAM prefix of each endpoint's service, for the endpoint policy's actions.
IAM_PREFIX = {"monitoring": "cloudwatch", "guardduty-data": "guardduty"}
# Calls with no resource (PutMetricData, GetCallerIdentity, PutTraceSegments, the GuardDuty
# agent's SendSecurityTelemetry) carry no aws:ResourceAccount, so these endpoints are limited to
# this account's principals only (GuardDuty's documented endpoint policy says the same).
NO_RESOURCE_ACCOUNT = frozenset({"monitoring", "sts", "xray", "guardduty-data"})
AMAZON_LINUX_REPOSITORIES = "al2023-repos-{region}-de612dc2"


def endpoint_policy(service: str, context: StackContext) -> dict[str, Any]:
    """Only this account's principals, acting on this account's resources where the service allows it."""
    condition = {"aws:PrincipalAccount": context.account_id}
    if service not in NO_RESOURCE_ACCOUNT:
        condition["aws:ResourceAccount"] = context.account_id
    statements = [
        {
            "Sid": "ThisAccountOnly",
            "Effect": "Allow",
            "Principal": "*",
            "Action": f"{IAM_PREFIX.get(service, service)}:*",
            "Resource": "*",
            "Condition": {"StringEquals": condition},
        }
    ]
    if service == "s3" and context.config.compute is not None:
        # Instances install packages with dnf from Amazon Linux's repositories, which are S3
        # buckets in AWS's account ("Amazon Linux 2023 User Guide", S3 gateway endpoints).
        statements.append(
            {
                "Sid": "AmazonLinuxRepositories",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:{context.partition}:s3:::{AMAZON_LINUX_REPOSITORIES.format(region=context.region_name)}/*",
            }
        )
    return policy_document(statements)


class VpcEndpoints(Construct):
    """Endpoints keyed by service name; `security_group` is the interface endpoints' SG."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        context: StackContext,
        *,
        vpc_id: str,
        subnet_ids: list[str],
        route_table_ids: list[str],
    ) -> None:
        super().__init__(scope, construct_id)
        names, config = context.names, context.config
        self._context, self._vpc_id = context, vpc_id
        self.endpoints: dict[str, VpcEndpoint] = {}
        for gateway in config.endpoints.gateway_services:
            self._endpoint(gateway, vpc_endpoint_type="Gateway", route_table_ids=route_table_ids)
        self.gateway_prefix_lists: dict[str, str] = {
            service: self.endpoints[service].prefix_list_id for service in config.endpoints.gateway_services
        }
        self.security_group: SecurityGroup | None = None
        if not config.interface_endpoints:
            return
        sg_name = names.make("security_group", "vpc-endpoints")
        # No egress rules: Terraform removes AWS's default allow-all egress, and endpoints only answer.
        self.security_group = SecurityGroup(
            self,
            "security_group",
            name=sg_name,
            description="Interface VPC endpoints: HTTPS from inside the VPC only",
            vpc_id=vpc_id,
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
            cidr_ipv4=config.network.cidr_block,
        )
        for service in config.interface_endpoints:
            self._endpoint(
                service,
                vpc_endpoint_type="Interface",
                private_dns_enabled=True,
                subnet_ids=subnet_ids,
                security_group_ids=[self.security_group.id],
            )

    def _endpoint(self, service: str, **placement: Any) -> None:
        context = self._context
        self.endpoints[service] = VpcEndpoint(
            self,
            service,
            vpc_id=self._vpc_id,
            service_name=context.region.endpoint_service_name(service),
            policy=json.dumps(endpoint_policy(service, context)),
            tags={"Name": context.names.make("vpc_resource", service, "endpoint")},
            **placement,
        )
