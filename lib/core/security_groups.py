"""Security groups for workloads: created empty (no egress), opened only SG-to-SG by `allow`.

Terraform removes AWS's default allow-all egress from a new group, so a group built here can
send nothing until `allow` adds the matching egress rule next to the target's ingress rule.
Gateway endpoints (S3, DynamoDB) have no security group: `allow_gateway` opens HTTPS egress to
the endpoint's prefix list, the only way to reach them without a CIDR.
"""

from __future__ import annotations

from cdktn_provider_aws.security_group import SecurityGroup
from cdktn_provider_aws.vpc_security_group_egress_rule import VpcSecurityGroupEgressRule
from cdktn_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from constructs import Construct

from lib.core.naming import Names

HTTPS = 443


def workload_security_group(
    scope: Construct, construct_id: str, *, names: Names, vpc_id: str, purpose: str, description: str
) -> SecurityGroup:
    name = names.make("security_group", purpose)
    return SecurityGroup(scope, construct_id, name=name, description=description, vpc_id=vpc_id, tags={"Name": name})


def allow(
    scope: Construct, construct_id: str, *, source: SecurityGroup, target: SecurityGroup, port: int, description: str
) -> list[VpcSecurityGroupIngressRule | VpcSecurityGroupEgressRule]:
    """TCP `port` from `source` to `target`: the target's ingress and the source's egress (returned,
    for resources that must wait until the path is open)."""
    sides: tuple[
        tuple[type[VpcSecurityGroupIngressRule] | type[VpcSecurityGroupEgressRule], str, SecurityGroup, SecurityGroup],
        ...,
    ] = (
        (VpcSecurityGroupIngressRule, "ingress", target, source),
        (VpcSecurityGroupEgressRule, "egress", source, target),
    )
    return [
        rule(
            scope,
            f"{construct_id}_{side}",
            security_group_id=group.id,
            referenced_security_group_id=peer.id,
            ip_protocol="tcp",
            from_port=port,
            to_port=port,
            description=description,
        )
        for rule, side, group, peer in sides
    ]


def allow_gateway(
    scope: Construct, construct_id: str, *, source: SecurityGroup, prefix_list_id: str, service: str
) -> None:
    """HTTPS from `source` to a gateway endpoint's service (its managed prefix list)."""
    VpcSecurityGroupEgressRule(
        scope,
        construct_id,
        security_group_id=source.id,
        prefix_list_id=prefix_list_id,
        ip_protocol="tcp",
        from_port=HTTPS,
        to_port=HTTPS,
        description=f"{service} through its gateway endpoint",
    )


class GuardedStore(Construct):
    """A data store behind its own security group on one port; clients are admitted by group only."""

    security_group: SecurityGroup
    port: int

    @property
    def client_security_group(self) -> SecurityGroup:
        """Where clients connect (a proxy's group, for a store behind one)."""
        return self.security_group

    def admit(self, construct_id: str, client: SecurityGroup, description: str) -> None:
        allow(
            self,
            construct_id,
            source=client,
            target=self.client_security_group,
            port=self.port,
            description=description,
        )
