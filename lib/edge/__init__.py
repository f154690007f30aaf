"""The edge tier: the certificate, the load balancer, its WAF when internet-facing, and for an
internal one the HTTP API's VPC link.

Built for profiles whose configuration has `edge.load_balancer`. The compute tier registers its
instances in `load_balancer.target_groups`; the stack wires the two without either reaching into
the other's layers.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktn_provider_aws.apigatewayv2_api import Apigatewayv2Api
from cdktn_provider_aws.kms_key import KmsKey
from cdktn_provider_aws.route53_record import Route53Record, Route53RecordAlias
from cdktn_provider_aws.s3_bucket import S3Bucket
from constructs import Construct

from lib.compute.artifact import APP_PORT
from lib.core.context import StackContext
from lib.core.tier import Tier
from lib.edge.certificate import SiteCertificate
from lib.edge.firewall import Firewall, FirewallProps
from lib.edge.load_balancer import LoadBalancer, LoadBalancerProps
from lib.edge.vpc_link import ROUTE_KEY, PrivateRoute, PrivateRouteProps
from lib.foundation import Placement


@dataclass(frozen=True, kw_only=True)
class EdgeProps:
    placement: Placement
    access_log_bucket: S3Bucket
    # The WAF's log bucket is encrypted with it.
    s3_key: KmsKey
    # The HTTP API an internal load balancer is reached through (document 004's payment API).
    http_api: Apigatewayv2Api | None = None


class EdgeTier(Tier):
    def __init__(self, scope: Construct, construct_id: str, context: StackContext, props: EdgeProps) -> None:
        super().__init__(scope, construct_id, context)
        edge, placement = context.config.edge, props.placement
        config = edge.load_balancer
        if config is None or placement.application_security_group is None:
            raise ValueError("the edge tier needs edge.load_balancer and the compute tier's group (validated)")
        self.certificate = SiteCertificate(self, "certificate", context, edge)
        self.load_balancer = LoadBalancer(
            self,
            "load_balancer",
            context,
            LoadBalancerProps(
                config=config,
                vpc_id=placement.vpc_id,
                subnet_ids=placement.private_subnet_ids if config.internal else placement.public_subnet_ids,
                certificate_arn=self.certificate.arn,
                target_security_group=placement.application_security_group,
                target_port=APP_PORT,
                access_log_bucket=props.access_log_bucket,
            ),
        )
        self.private_route: PrivateRoute | None = None
        self.firewall: Firewall | None = None
        if not config.internal:
            self.firewall = Firewall(
                self,
                "firewall",
                context,
                FirewallProps(
                    config=config.waf,
                    resource_arn=self.load_balancer.load_balancer.arn,
                    s3_key=props.s3_key,
                    access_log_bucket=props.access_log_bucket,
                ),
            )
        if config.internal:
            if props.http_api is None:
                raise ValueError("an internal load balancer is reached through the payments HTTP API (validated)")
            self.private_route = PrivateRoute(
                self,
                "private_route",
                context,
                PrivateRouteProps(
                    api=props.http_api,
                    load_balancer=self.load_balancer,
                    vpc_id=placement.vpc_id,
                    subnet_ids=placement.private_subnet_ids,
                    server_name=self.certificate.domain_name,
                ),
            )
        elif self.certificate.zone_id is not None:
            Route53Record(
                self,
                "alias",
                zone_id=self.certificate.zone_id,
                name=self.certificate.domain_name,
                type="A",
                alias=Route53RecordAlias(
                    name=self.load_balancer.load_balancer.dns_name,
                    zone_id=self.load_balancer.load_balancer.zone_id,
                    evaluate_target_health=True,
                ),
            )
        self._contribute()

    def _contribute(self) -> None:
        lb = self.load_balancer
        self.export("load_balancer_dns_name", lb.load_balancer.dns_name)
        self.export("site_domain_name", self.certificate.domain_name)
        self.export("target_group_arns", {colour: group.arn for colour, group in lb.target_groups.items()})
        self.export("alb_log_bucket_name", lb.log_bucket.name)
        if self.certificate.pending_validation is not None:
            self.export("certificate_validation_record", self.certificate.pending_validation)
        if self.firewall is not None:
            self.export("waf_web_acl_arn", self.firewall.web_acl.arn)
            self.export("waf_log_bucket_name", self.firewall.log_bucket.name)
        if self.private_route is not None:
            self.export("vpc_link_id", self.private_route.vpc_link.id)
            self.export("private_route", ROUTE_KEY)
