"""The application tier's security group: what compute layers attach to their workloads.

Data stores admit this group (and the rotation function) and nothing else; it starts with no
egress, and each `allow` adds exactly the port its target needs.
"""

from __future__ import annotations

from constructs import Construct

from lib.naming import Names
from lib.security_groups import workload_security_group


class ApplicationTier(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, names: Names, vpc_id: str) -> None:
        super().__init__(scope, construct_id)
        self.security_group = workload_security_group(
            self,
            "security_group",
            names=names,
            vpc_id=vpc_id,
            purpose="app",
            description="Application tier: reaches data stores only where admitted",
        )
