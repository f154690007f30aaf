"""The application tier's security group: what compute layers attach to their workloads.

Data stores admit this group (and the rotation function) and nothing else; it starts with no
egress, and each `admit` adds exactly the port its target needs.
"""

from __future__ import annotations

from cdktn_provider_aws.security_group import SecurityGroup
from constructs import Construct

from lib.core.context import StackContext
from lib.core.security_groups import workload_security_group


def application_security_group(scope: Construct, context: StackContext, vpc_id: str) -> SecurityGroup:
    return workload_security_group(
        scope,
        "app_security_group",
        names=context.names,
        vpc_id=vpc_id,
        purpose="app",
        description="Application tier: reaches data stores only where admitted",
    )
