"""The HTTP API's private route to the internal load balancer (document 004), beside its Lambda routes.

`ANY /service/{proxy+}` goes through a VPC link to the internal ALB's HTTPS listener, with the
path rewritten to `/{proxy}` (so `/service/version` reaches the instances' `/version`). Like every
route of the API it is IAM-authorized. API Gateway verifies the listener's certificate against
the site's domain name. The link has its own security group, admitted by the load balancer's on
443 only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cdktn_provider_aws.apigatewayv2_api import Apigatewayv2Api
from cdktn_provider_aws.apigatewayv2_integration import Apigatewayv2Integration, Apigatewayv2IntegrationTlsConfig
from cdktn_provider_aws.apigatewayv2_route import Apigatewayv2Route
from cdktn_provider_aws.apigatewayv2_vpc_link import Apigatewayv2VpcLink
from constructs import Construct

from lib.core.context import StackContext
from lib.core.security_groups import HTTPS, allow, workload_security_group
from lib.edge.load_balancer import LoadBalancer

ROUTE_KEY = "ANY /service/{proxy+}"


@dataclass(frozen=True, kw_only=True)
class PrivateRouteProps:
    api: Apigatewayv2Api
    load_balancer: LoadBalancer
    vpc_id: str
    subnet_ids: Sequence[str]
    # The name on the listener's certificate, which API Gateway verifies.
    server_name: str


class PrivateRoute(Construct):
    def __init__(self, scope: Construct, construct_id: str, context: StackContext, props: PrivateRouteProps) -> None:
        super().__init__(scope, construct_id)
        names = context.names
        self.security_group = workload_security_group(
            self,
            "security_group",
            names=names,
            vpc_id=props.vpc_id,
            purpose="vpc-link",
            description="The HTTP API's VPC link: HTTPS to the internal load balancer only",
        )
        allow(
            self,
            "to_load_balancer",
            source=self.security_group,
            target=props.load_balancer.security_group,
            port=HTTPS,
            description="HTTP API VPC link to the internal load balancer",
        )
        self.vpc_link = Apigatewayv2VpcLink(
            self,
            "vpc_link",
            name=names.make("vpc_link", "alb"),
            security_group_ids=[self.security_group.id],
            subnet_ids=list(props.subnet_ids),
        )
        integration = Apigatewayv2Integration(
            self,
            "integration",
            api_id=props.api.id,
            integration_type="HTTP_PROXY",
            integration_method="ANY",
            connection_type="VPC_LINK",
            connection_id=self.vpc_link.id,
            integration_uri=props.load_balancer.https_listener.arn,
            payload_format_version="1.0",
            tls_config=Apigatewayv2IntegrationTlsConfig(server_name_to_verify=props.server_name),
            request_parameters={"overwrite:path": "/$request.path.proxy"},
        )
        self.route = Apigatewayv2Route(
            self,
            "route",
            api_id=props.api.id,
            route_key=ROUTE_KEY,
            target=f"integrations/{integration.id}",
            authorization_type="AWS_IAM",
        )
