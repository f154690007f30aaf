"""The edge tier: the certificate, the load balancer, its WAF when internet-facing, CloudFront with
its own WAF when configured, Route 53 (a created zone, failover), and for an internal load
balancer the HTTP API's VPC link.

Built for profiles whose configuration has `edge.load_balancer`. The compute tier registers its
instances in `load_balancer.target_groups`; the stack wires the two without either reaching into
the other's layers. What CloudFront needs in us-east-1 (certificate, web ACL) and what a created
zone needs there (DNSSEC key, query logs) goes through one aliased provider, made when needed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

from cdktn import TerraformProvider
from cdktn_provider_aws.apigatewayv2_api import Apigatewayv2Api
from cdktn_provider_aws.apigatewayv2_stage import Apigatewayv2Stage
from cdktn_provider_aws.kms_key import KmsKey
from cdktn_provider_aws.route53_record import Route53Record, Route53RecordAlias
from cdktn_provider_aws.s3_bucket import S3Bucket
from constructs import Construct

from lib.compute.artifact import APP_PORT
from lib.config import CdnConfig, FailoverConfig
from lib.contracts import payments as contract
from lib.core.alarms import (
    delivery_stream_alarms,
    distribution_alarms,
    dnssec_alarms,
    health_check_alarms,
    load_balancer_alarms,
    target_group_alarms,
    web_acl_alarms,
)
from lib.core.bucket import SecureBucket
from lib.core.context import StackContext
from lib.core.terraform import us_east_1
from lib.core.tier import Tier
from lib.edge.cdn import (
    CLOUDFRONT_REGION,
    CLOUDFRONT_ZONE_ID,
    Cdn,
    CdnProps,
    api_origin,
    cdn_log_bucket,
    origin_guard,
)
from lib.edge.certificate import CertificateProps, SiteCertificate, site_domain
from lib.edge.dns import Failover, FailoverProps, HostedZone
from lib.edge.firewall import Firewall, FirewallProps, waf_blocks_query
from lib.edge.load_balancer import LoadBalancer, LoadBalancerProps, OriginGuard
from lib.edge.vpc_link import ROUTE_KEY, PrivateRoute, PrivateRouteProps
from lib.foundation import Placement


@dataclass(frozen=True, kw_only=True)
class EdgeProps:
    placement: Placement
    access_log_bucket: S3Bucket
    # The WAF's, CloudFront's and the maintenance page's buckets are encrypted with it.
    s3_key: KmsKey
    # The regional WAF's log group is encrypted with it.
    logs_key: KmsKey
    # The payment HTTP API: an internal load balancer is reached through it (document 004), and
    # CloudFront fronts it (with edge.cdn); its stage is what a custom domain maps.
    http_api: Apigatewayv2Api | None = None
    http_api_stage: Apigatewayv2Stage | None = None
    # What CloudFront serves static paths from (with edge.cdn).
    assets_bucket: SecureBucket | None = None


class EdgeTier(Tier):
    def __init__(self, scope: Construct, construct_id: str, context: StackContext, props: EdgeProps) -> None:
        super().__init__(scope, construct_id, context)
        edge, placement = context.config.edge, props.placement
        config = edge.load_balancer
        if config is None or placement.application_security_group is None:
            raise ValueError("the edge tier needs edge.load_balancer and the compute tier's group (validated)")
        self.props = props
        self.domain = site_domain(edge, context.names.prefix, context.names.suffix)
        self.hosted_zone: HostedZone | None = None
        self.zone_id = edge.hosted_zone_id
        if edge.hosted_zone_id == "create" and edge.domain_name is None:
            # Route 53 refuses zones under example.com: no zone (nor failover) until a domain is set.
            self.zone_id = None
        elif edge.hosted_zone_id == "create":
            self.hosted_zone = HostedZone(self, "hosted_zone", context, domain=self.domain, provider=self.us_east_1)
            self.zone_id = self.hosted_zone.zone_id
        self.certificate = SiteCertificate(
            self,
            "certificate",
            CertificateProps(domain_name=self.domain, zone_id=self.zone_id, existing_arn=edge.certificate_arn),
        )
        guard = origin_guard(self) if edge.cdn is not None else None
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
                origin_guard=guard,
            ),
        )
        self.firewall: Firewall | None = None
        self.cdn: Cdn | None = None
        self.failover: Failover | None = None
        self.private_route: PrivateRoute | None = None
        if config.internal:
            self.private_route = self._private_route()
            self._contribute()
            return
        self.firewall = Firewall(
            self,
            "firewall",
            context,
            FirewallProps(
                # Behind CloudFront every request comes from CloudFront: count the client's forwarded address.
                config=replace(config.waf, rate_limit_on_forwarded_ip=True) if edge.cdn else config.waf,
                resource_arn=self.load_balancer.load_balancer.arn,
                s3_key=props.s3_key,
                access_log_bucket=props.access_log_bucket,
                logs_key=props.logs_key,
            ),
        )
        if edge.cdn is not None and guard is not None:
            self.cdn = self._cdn(edge.cdn, guard)
        if edge.failover is not None and self.zone_id is not None:
            self.failover = self._failover(edge.failover, self.zone_id)
        elif self.zone_id is not None:
            # The site's name points at CloudFront when it fronts the load balancer, else at the load balancer.
            balancer = self.load_balancer.load_balancer
            name, zone = (
                (self.cdn.distribution.domain_name, CLOUDFRONT_ZONE_ID)
                if self.cdn is not None
                else (balancer.dns_name, balancer.zone_id)
            )
            # CloudFront also answers over IPv6 (the load balancer is IPv4 only).
            for record_id, record_type in (("alias", "A"), ("alias_ipv6", "AAAA"))[: 2 if self.cdn else 1]:
                Route53Record(
                    self,
                    record_id,
                    zone_id=self.zone_id,
                    name=self.domain,
                    type=record_type,
                    alias=Route53RecordAlias(name=name, zone_id=zone, evaluate_target_health=self.cdn is None),
                )
        self._contribute()

    @cached_property
    def us_east_1(self) -> TerraformProvider:
        return us_east_1(self, self.context.config.default_tags())

    @cached_property
    def cdn_certificate(self) -> SiteCertificate:
        """The site's certificate in us-east-1, for CloudFront (the main or the maintenance distribution):
        the load balancer's own when the stack is in us-east-1, else a twin requested there."""
        cdn = self.context.config.edge.cdn
        if self.context.region_name == CLOUDFRONT_REGION and (cdn is None or cdn.certificate_arn is None):
            return self.certificate
        return SiteCertificate(
            self,
            "cdn_certificate",
            CertificateProps(
                domain_name=self.domain,
                zone_id=self.zone_id,
                existing_arn=cdn.certificate_arn if cdn is not None else None,
                provider=self.us_east_1,
                validation_record_fqdns=self.certificate.validation_record_fqdns,
            ),
        )

    @cached_property
    def cdn_log_bucket(self) -> SecureBucket:
        return cdn_log_bucket(self, self.context, self.props.s3_key, self.props.access_log_bucket)

    @cached_property
    def cdn_firewall(self) -> Firewall:
        """The web ACL of scope CLOUDFRONT (us-east-1) for the stack's distribution.

        It sees the viewer's own address, so it counts that; it logs into the regional web ACL's bucket.
        """
        config, regional = self.context.config.edge.load_balancer, self.firewall
        if config is None or regional is None:
            raise ValueError("CloudFront's web ACL follows the internet-facing load balancer's (validated)")
        return Firewall(
            self,
            "cdn_firewall",
            self.context,
            FirewallProps(
                config=replace(config.waf, rate_limit_on_forwarded_ip=False),
                resource_arn=None,
                log_bucket=regional.log_bucket,
                provider=self.us_east_1,
            ),
        )

    def _cdn(self, cdn: CdnConfig, guard: OriginGuard) -> Cdn:
        if self.props.assets_bucket is None:
            raise ValueError("CloudFront serves static paths from the assets bucket (validated)")
        api = self.props.http_api
        stage = self.props.http_api_stage
        fronted_api = (
            api_origin(
                self,
                domain_name=self.domain,
                certificate_arn=self.certificate.arn,
                api=api,
                stage=stage,
                path=contract.PAYMENTS_PATH,
            )
            if api is not None and stage is not None
            else None
        )
        return Cdn(
            self,
            "cdn",
            self.context,
            CdnProps(
                config=cdn,
                domain_name=self.domain,
                certificate_arn=self.cdn_certificate.arn,
                web_acl_arn=self.cdn_firewall.web_acl.arn,
                load_balancer_dns_name=self.load_balancer.load_balancer.dns_name,
                origin_header_value=guard.header_value,
                assets_bucket=self.props.assets_bucket,
                log_bucket=self.cdn_log_bucket,
                api=fronted_api,
            ),
        )

    def _failover(self, config: FailoverConfig, zone_id: str) -> Failover:
        maintenance = config.maintenance_page
        return Failover(
            self,
            "failover",
            self.context,
            FailoverProps(
                config=config,
                zone_id=zone_id,
                domain_name=self.domain,
                load_balancer=self.load_balancer,
                certificate_arn=self.cdn_certificate.arn if maintenance else None,
                web_acl_arn=self.cdn_firewall.web_acl.arn if maintenance else None,
                s3_key=self.props.s3_key,
                access_log_bucket=self.props.access_log_bucket,
                log_bucket=self.cdn_log_bucket if maintenance else None,
            ),
        )

    def _private_route(self) -> PrivateRoute:
        if self.props.http_api is None:
            raise ValueError("an internal load balancer is reached through the payments HTTP API (validated)")
        placement = self.props.placement
        return PrivateRoute(
            self,
            "private_route",
            self.context,
            PrivateRouteProps(
                api=self.props.http_api,
                load_balancer=self.load_balancer,
                vpc_id=placement.vpc_id,
                subnet_ids=placement.private_subnet_ids,
                server_name=self.certificate.domain_name,
            ),
        )

    def _alarms(self) -> None:
        """The load balancer's own 5xx, each target group's unhealthy hosts (000), the regional
        WAF's blocked-request spikes (002); each distribution's 5xx rate, each Route 53 health
        check's status and the zone's signing faults (in us-east-1, where they are published)."""
        lb = self.load_balancer
        suffix = lb.load_balancer.arn_suffix
        self.watch("load_balancer", load_balancer_alarms(suffix))
        for colour, group in lb.target_groups.items():
            self.watch("load_balancer", target_group_alarms(suffix, group.arn_suffix, colour))
        if self.firewall is not None:
            self.watch("firewall", web_acl_alarms(self.firewall.web_acl.name, self.context.region_name))
            if self.firewall.log_group is not None and self.firewall.log_stream is not None:
                self.watch("firewall_log_stream", delivery_stream_alarms(self.firewall.log_stream.name))
                self.save_query("waf_blocks", waf_blocks_query(self.firewall.log_group.name))
        if self.cdn is not None:
            self.watch("cdn", distribution_alarms(self.cdn.distribution.id))
        if "cdn_firewall" in self.__dict__:
            self.watch("cdn_firewall", web_acl_alarms(self.cdn_firewall.web_acl.name, None))
        if self.hosted_zone is not None:
            self.watch("hosted_zone", dnssec_alarms(self.hosted_zone.zone_id))
        if self.failover is not None:
            if self.failover.maintenance is not None:
                self.watch("maintenance", distribution_alarms(self.failover.maintenance.distribution.id))
            checks = {**self.failover.health_checks, **self.failover.primary_checks}
            for name, check in checks.items():
                self.watch(f"{name}_health_check", health_check_alarms(check.id, name))

    def _contribute(self) -> None:
        self._alarms()
        lb = self.load_balancer
        self.export("load_balancer_dns_name", lb.load_balancer.dns_name)
        self.export("site_domain_name", self.certificate.domain_name)
        self.export("target_group_arns", {colour: group.arn for colour, group in lb.target_groups.items()})
        self.export("alb_log_bucket_name", lb.log_bucket.name)
        if self.certificate.pending_validation is not None:
            self.export("certificate_validation_record", self.certificate.pending_validation)
        if self.hosted_zone is not None:
            self.export("hosted_zone_id", self.hosted_zone.zone_id)
            self.export("hosted_zone_name_servers", self.hosted_zone.zone.name_servers)
        if self.firewall is not None:
            self.export("waf_web_acl_arn", self.firewall.web_acl.arn)
            self.export("waf_log_bucket_name", self.firewall.log_bucket.name)
        twin = self.__dict__.get("cdn_certificate")
        if twin is not None and twin is not self.certificate and twin.pending_validation is not None:
            self.export("cdn_certificate_validation_record", self.cdn_certificate.pending_validation)
        if "cdn_log_bucket" in self.__dict__:
            self.export("cdn_log_bucket_name", self.cdn_log_bucket.name)
        if self.cdn is not None:
            self.export("cdn_domain_name", self.cdn.distribution.domain_name)
            self.export("cdn_distribution_id", self.cdn.distribution.id)
        if self.failover is not None:
            self.export("failover_health_check_ids", {r: c.id for r, c in self.failover.health_checks.items()})
            if self.failover.maintenance is not None:
                self.export("maintenance_bucket_name", self.failover.maintenance.bucket.name)
        if self.private_route is not None:
            self.export("vpc_link_id", self.private_route.vpc_link.id)
            self.export("private_route", ROUTE_KEY)
