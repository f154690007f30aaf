"""Security groups for workloads: created empty (no egress), opened only SG-to-SG by `allow`.

Terraform removes AWS's default allow-all egress from a new group, so a group built here can
send nothing until `allow` adds the matching egress rule next to the target's ingress rule.
"""

from __future__ import annotations

from cdktn_provider_aws.security_group import SecurityGroup
from cdktn_provider_aws.vpc_security_group_egress_rule import VpcSecurityGroupEgressRule
from cdktn_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from constructs import Construct

from lib.naming import Names


def workload_security_group(
    scope: Construct, construct_id: str, *, names: Names, vpc_id: str, purpose: str, description: str
) -> SecurityGroup:
    name = names.make("security_group", purpose)
    return SecurityGroup(scope, construct_id, name=name, description=description, vpc_id=vpc_id, tags={"Name": name})


def allow(
    scope: Construct, construct_id: str, *, source: SecurityGroup, target: SecurityGroup, port: int, description: str
) -> None:
    """TCP `port` from `source` to `target`: the target's ingress and the source's egress."""
    sides: tuple[
        tuple[type[VpcSecurityGroupIngressRule] | type[VpcSecurityGroupEgressRule], str, SecurityGroup, SecurityGroup],
        ...,
    ] = (
        (VpcSecurityGroupIngressRule, "ingress", target, source),
        (VpcSecurityGroupEgressRule, "egress", source, target),
    )
    for rule, side, group, peer in sides:
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
