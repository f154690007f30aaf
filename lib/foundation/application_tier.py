"""The application tier's security group: the compute tier's instances run in it.

It starts with no ingress and no egress: the load balancer's rule admits it on the application
port, and each store that instances connect to (the database) adds exactly its own port.
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
        description="Application instances: reached by the load balancer, reach only what admits them",
    )
